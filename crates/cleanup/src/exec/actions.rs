//! One action: its retries on a dependency conflict ("not found" is success), the dispatch to
//! where it is carried out, and the account-wide actions (IAM, S3).

use std::time::Duration;

use kms_workshop_pace::Retry;

use super::{ActionOutcome, Event, Executor};
use crate::discover::{attached_policy_arns, inline_policy_names};
use crate::plan::Action;
use crate::report::Outcome;
use crate::{names, AwsFailure, ErrorClass};

/// The action changed something; `detail` says what, when more than its name does.
pub(super) fn changed(detail: impl Into<String>) -> ActionOutcome {
    Ok((Outcome::Changed, detail.into()))
}

/// `action` reached a part of the executor that does not carry it out (a dispatch mistake).
pub(super) fn misrouted(action: &Action) -> AwsFailure {
    AwsFailure::new(
        action.api(),
        "InvalidAction",
        &format!("no handler for \"{}\" here", action.describe()),
        ErrorClass::InvalidInput,
    )
}

fn is_conflict(e: &AwsFailure) -> bool {
    e.class == ErrorClass::Conflict
}

impl Executor {
    /// One action, with conflict retries; "not found" is success.
    pub(crate) async fn perform(&self, action: &Action) -> ActionOutcome {
        match self
            .on_conflict_retry(action, || self.perform_once(action))
            .await
        {
            Err(e) if e.is_not_found() => Ok((Outcome::AlreadyGone, String::new())),
            other => other,
        }
    }

    /// `attempt` until it succeeds or fails other than on a dependency conflict (those are
    /// retried with backoff, each retry shown in the live view as one of `step`'s).
    pub async fn on_conflict_retry<S, T, F, Fut>(
        &self,
        step: &S,
        attempt: F,
    ) -> Result<T, AwsFailure>
    where
        S: crate::plan::Step,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsFailure>>,
    {
        let retry = Retry {
            max_attempts: self.inner.opts.conflict_attempts,
            retry_if: is_conflict,
        };
        self.inner
            .pace
            .retrying(
                retry,
                (Duration::from_secs(1), Duration::from_secs(30)),
                |e, _| {
                    self.emit(Event::Retrying {
                        branch: step.branch(),
                        action: step.describe(),
                        reason: format!("{}: {}", e.code, e.message),
                    })
                },
                attempt,
            )
            .await
    }

    async fn perform_once(&self, action: &Action) -> ActionOutcome {
        match action {
            Action::DeleteStack {
                region, stack_id, ..
            } => {
                self.delete_stack(self.regional(action, region)?, stack_id)
                    .await
            }
            Action::DeleteAlias { region, .. }
            | Action::ScheduleKeyDeletion { region, .. }
            | Action::DisassociateInstanceProfile { region, .. }
            | Action::TerminateInstance { region, .. }
            | Action::DeleteVolume { region, .. }
            | Action::RemoveTargets { region, .. }
            | Action::DeleteRule { region, .. }
            | Action::Unsubscribe { region, .. }
            | Action::DeleteTopic { region, .. }
            | Action::DeleteAlarms { region, .. }
            | Action::DeleteTrail { region, .. } => {
                self.regional_action(self.regional(action, region)?, action)
                    .await
            }
            _ => self.account_action(action).await,
        }
    }

    /// An action on the account's IAM resources or buckets.
    async fn account_action(&self, action: &Action) -> ActionOutcome {
        let c = &self.inner.clients;
        let iam = &c.iam;
        let pace = &self.inner.pace;
        match action {
            Action::DetachRolePolicy { role, policy_arn } => {
                pace.send("DetachRolePolicy", || {
                    iam.detach_role_policy()
                        .role_name(role)
                        .policy_arn(policy_arn)
                        .send()
                })
                .await?;
            }
            Action::DeleteRolePolicy { role, policy_name } => {
                pace.send("DeleteRolePolicy", || {
                    iam.delete_role_policy()
                        .role_name(role)
                        .policy_name(policy_name)
                        .send()
                })
                .await?;
            }
            Action::RemoveRoleFromInstanceProfile { profile, role } => {
                pace.send("RemoveRoleFromInstanceProfile", || {
                    iam.remove_role_from_instance_profile()
                        .instance_profile_name(profile)
                        .role_name(role)
                        .send()
                })
                .await?;
            }
            Action::DeleteInstanceProfile { profile } => {
                pace.send("DeleteInstanceProfile", || {
                    iam.delete_instance_profile()
                        .instance_profile_name(profile)
                        .send()
                })
                .await?;
            }
            Action::DeleteRole { role } => {
                pace.send("DeleteRole", || iam.delete_role().role_name(role).send())
                    .await?;
            }
            Action::DeletePolicyVersion {
                policy_arn,
                version_id,
            } => {
                pace.send("DeletePolicyVersion", || {
                    iam.delete_policy_version()
                        .policy_arn(policy_arn)
                        .version_id(version_id)
                        .send()
                })
                .await?;
            }
            Action::DeletePolicy { policy_arn } => {
                pace.send("DeletePolicy", || {
                    iam.delete_policy().policy_arn(policy_arn).send()
                })
                .await?;
            }
            Action::EmptyBucket { bucket } => {
                let n = self.empty_bucket(bucket).await?;
                return changed(format!("{n} object versions deleted"));
            }
            Action::DeleteBucket { bucket } => {
                // A log file CloudTrail delivers after the bucket was emptied (its last one
                // comes minutes after the trail stopped) makes DeleteBucket answer
                // BucketNotEmpty: empty it again, a few times.
                let mut emptied_again = 0;
                let s3 = c.s3_for(pace, bucket).await?;
                loop {
                    let sent = pace
                        .send("DeleteBucket", || {
                            s3.delete_bucket()
                                .bucket(bucket)
                                .expected_bucket_owner(&c.account)
                                .send()
                        })
                        .await;
                    match sent {
                        Err(e) if e.code == "BucketNotEmpty" && emptied_again < 3 => {
                            emptied_again += 1;
                            self.empty_bucket(bucket).await?;
                        }
                        Err(e) => return Err(e),
                        Ok(_) if emptied_again > 0 => {
                            return changed(format!(
                                "emptied again {emptied_again} time(s): objects arrived after it was emptied"
                            ))
                        }
                        Ok(_) => break,
                    }
                }
            }
            _ => return Err(misrouted(action)),
        }
        changed("")
    }

    /// Delete every object version and delete marker; returns how many.
    pub(super) async fn empty_bucket(&self, bucket: &str) -> Result<usize, AwsFailure> {
        let pace = &self.inner.pace;
        let s3 = &self.inner.clients.s3_for(pace, bucket).await?;
        let owner = &self.inner.clients.account;
        let mut total = 0;
        // Each round lists what is left from the start: what it deletes is gone from the next.
        loop {
            let page = pace
                .send("ListObjectVersions", || {
                    s3.list_object_versions()
                        .bucket(bucket)
                        .expected_bucket_owner(owner)
                        .send()
                })
                .await?;
            let versions = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            let ids: Vec<(String, Option<String>)> = versions
                .filter_map(|(k, v)| Some((k?.to_string(), v.map(str::to_string))))
                .collect();
            if ids.is_empty() {
                return Ok(total);
            }
            for chunk in ids.chunks(1000) {
                self.delete_objects(bucket, chunk).await?;
                total += chunk.len();
            }
        }
    }

    /// One DeleteObjects of at most 1000 `(key, version)`s; any object not deleted fails it.
    async fn delete_objects(
        &self,
        bucket: &str,
        chunk: &[(String, Option<String>)],
    ) -> Result<(), AwsFailure> {
        let s3 = &self.inner.clients.s3_for(&self.inner.pace, bucket).await?;
        let owner = &self.inner.clients.account;
        let objects: Vec<_> = chunk
            .iter()
            .filter_map(|(k, v)| {
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(k)
                    .set_version_id(v.clone().filter(|v| v != "null").or(v.clone()))
                    .build()
                    .ok()
            })
            .collect();
        let delete = aws_sdk_s3::types::Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| {
                AwsFailure::new(
                    "DeleteObjects",
                    "InvalidRequest",
                    &e.to_string(),
                    ErrorClass::InvalidInput,
                )
            })?;
        let out = self
            .inner
            .pace
            .send("DeleteObjects", || {
                s3.delete_objects()
                    .bucket(bucket)
                    .expected_bucket_owner(owner)
                    .delete(delete.clone())
                    .send()
            })
            .await?;
        match out.errors().first() {
            Some(err) => {
                let code = err.code().unwrap_or("DeleteObjectsError");
                Err(AwsFailure::new(
                    "DeleteObjects",
                    code,
                    err.message().unwrap_or("an object was not deleted"),
                    kms_workshop_aws_errors::classify(code, None),
                ))
            }
            None => Ok(()),
        }
    }

    /// Detach the managed policies the template does not declare and delete inline policies;
    /// returns how many.
    pub(super) async fn strip_role(&self, role: &str) -> Result<usize, AwsFailure> {
        let iam = &self.inner.clients.iam;
        let pace = &self.inner.pace;
        let mut n = 0;
        for arn in attached_policy_arns(iam, pace, role).await? {
            if names::TEMPLATE_POLICIES.contains(&arn.as_str()) {
                continue;
            }
            match pace
                .send("DetachRolePolicy", || {
                    iam.detach_role_policy()
                        .role_name(role)
                        .policy_arn(&arn)
                        .send()
                })
                .await
            {
                Ok(_) => n += 1,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        for name in inline_policy_names(iam, pace, role).await? {
            match pace
                .send("DeleteRolePolicy", || {
                    iam.delete_role_policy()
                        .role_name(role)
                        .policy_name(&name)
                        .send()
                })
                .await
            {
                Ok(_) => n += 1,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}
