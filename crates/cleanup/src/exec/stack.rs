//! Deleting the workshop's stack: DeleteStack and wait; on `DELETE_FAILED`, say which
//! resources failed and why, repair what can be repaired (empty the bucket, detach what the
//! template does not declare from the role) and delete again; retain what still fails only
//! when asked to.

use super::actions::changed;
use super::{ActionOutcome, Event, Executor};
use crate::aws::Regional;
use crate::discover::{is_missing_stack, stack_resources, StackResource};
use crate::{AwsFailure, ErrorClass};

impl Executor {
    /// DeleteStack and wait; on DELETE_FAILED, report why, fix what can be fixed and retry;
    /// retain only if asked.
    pub(super) async fn delete_stack(&self, rc: &Regional, stack_id: &str) -> ActionOutcome {
        let cfn = &rc.cloudformation;
        let pace = &self.inner.pace;
        let mut notes: Vec<String> = Vec::new();
        let mut retain: Option<Vec<String>> = None;
        for round in 0..3 {
            // A stack whose deletion failed before reads DELETE_FAILED for a moment after a
            // new DeleteStack: that reading is not this attempt's outcome.
            let failed_before = self.stack_status(rc, stack_id).await? == "DELETE_FAILED";
            pace.send("DeleteStack", || {
                cfn.delete_stack()
                    .stack_name(stack_id)
                    .set_retain_resources(retain.clone())
                    .send()
            })
            .await?;
            if self.wait_stack_deleted(rc, stack_id, failed_before).await? {
                notes.push("DELETE_COMPLETE".into());
                return changed(notes.join("; "));
            }
            // DELETE_FAILED: which resources, and why.
            let failed: Vec<StackResource> = stack_resources(cfn, pace, stack_id)
                .await?
                .into_iter()
                .filter(|r| r.status == "DELETE_FAILED")
                .collect();
            let reasons: Vec<String> = failed
                .iter()
                .map(|r| {
                    let why = r.reason.as_deref().unwrap_or("no reason given");
                    format!("{} ({} {}): {why}", r.logical_id, r.kind, r.physical_id)
                })
                .collect();
            notes.push(format!("DELETE_FAILED: {}", reasons.join("; ")));
            self.emit(Event::Retrying {
                branch: "stack",
                action: format!("delete stack {stack_id}"),
                reason: format!("DELETE_FAILED: {}", reasons.join("; ")),
            });
            // Repairs are made again in later rounds: a bucket emptied once can receive a
            // late object (CloudTrail's last log file) before the stack deletes it.
            let repairable = failed
                .iter()
                .any(|r| matches!(r.kind.as_str(), "AWS::S3::Bucket" | "AWS::IAM::Role"));
            if round == 0 || (repairable && retain.is_none() && round < 2) {
                self.repair(&failed, &mut notes).await?;
            } else if self.inner.opts.retain_failed && retain.is_none() {
                let ids: Vec<String> = failed.iter().map(|r| r.logical_id.clone()).collect();
                notes.push(format!("retaining {} as asked", ids.join(", ")));
                retain = Some(ids);
            } else {
                break;
            }
        }
        Err(AwsFailure::new(
            "DeleteStack",
            "DELETE_FAILED",
            &notes.join("; "),
            ErrorClass::Service,
        ))
    }

    /// The stack's status (`DELETE_COMPLETE` once it is gone).
    async fn stack_status(&self, rc: &Regional, stack_id: &str) -> Result<String, AwsFailure> {
        let cfn = &rc.cloudformation;
        let d = self
            .inner
            .pace
            .send("DescribeStacks", || {
                cfn.describe_stacks().stack_name(stack_id).send()
            })
            .await;
        match d {
            Ok(o) => Ok(o
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "DELETE_COMPLETE".into())),
            Err(e) if is_missing_stack(&e) => Ok("DELETE_COMPLETE".into()),
            Err(e) => Err(e),
        }
    }

    /// Wait until the stack is deleted (`true`) or its deletion failed (`false`). When it had
    /// failed before (`failed_before`), DELETE_FAILED counts only once the new attempt was seen
    /// in progress, or after 10 s (AWS shows the new attempt within seconds).
    async fn wait_stack_deleted(
        &self,
        rc: &Regional,
        stack_id: &str,
        failed_before: bool,
    ) -> Result<bool, AwsFailure> {
        let status = std::sync::Mutex::new(String::new());
        let began = std::time::Instant::now();
        let seen_in_progress = std::sync::atomic::AtomicBool::new(!failed_before);
        self.wait_until(
            "DeleteStack",
            &format!("stack {stack_id} deleted"),
            || async {
                let s = self.stack_status(rc, stack_id).await?;
                if s == "DELETE_IN_PROGRESS" {
                    seen_in_progress.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let fresh = seen_in_progress.load(std::sync::atomic::Ordering::SeqCst)
                    || began.elapsed() > std::time::Duration::from_secs(10);
                let done = s == "DELETE_COMPLETE" || (s == "DELETE_FAILED" && fresh);
                if let Ok(mut st) = status.lock() {
                    *st = s;
                }
                Ok(done)
            },
        )
        .await?;
        let status = status.lock().map(|s| s.clone()).unwrap_or_default();
        Ok(status == "DELETE_COMPLETE")
    }

    /// Make the resources that failed to delete deletable: empty a bucket, strip a role of
    /// what the template does not declare. What was done goes to `notes`.
    async fn repair(
        &self,
        failed: &[StackResource],
        notes: &mut Vec<String>,
    ) -> Result<(), AwsFailure> {
        for r in failed {
            let physical = &r.physical_id;
            match r.kind.as_str() {
                "AWS::S3::Bucket" => {
                    let n = match self.empty_bucket(physical).await {
                        Err(e) if e.is_not_found() => 0,
                        other => other?,
                    };
                    notes.push(format!("emptied bucket {physical} ({n} object versions)"));
                }
                "AWS::IAM::Role" => {
                    let n = self.strip_role(physical).await?;
                    notes.push(format!(
                        "detached {n} policies the template does not declare from {physical}"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
