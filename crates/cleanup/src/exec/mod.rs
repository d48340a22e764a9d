//! Running a plan: every action whose prerequisites are done starts at once (independent
//! branches in parallel), under the [`Pace`]'s bound on calls in flight and per-API rate limits.
//! "Not found" counts as done; conflicts (DeleteConflict, DependencyViolation, VolumeInUse…) are
//! retried with backoff; AccessDenied is reported and never retried; waits are bounded. Every
//! finished action is journalled before its dependents start.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use crate::aws::Clients;
use crate::discover::{discover, Found};
use crate::inventory::Inventory;
use crate::journal::{Journal, Record};
use crate::names;
use crate::pace::Pace;
use crate::plan::{Action, Plan};
use crate::report::{ActionResult, Outcome, Report};
use crate::{AwsFailure, CleanupError, ErrorClass};

/// How one action ended: its outcome and a note, or the failure.
type ActionOutcome = Result<(Outcome, String), AwsFailure>;

/// Tuning of a run.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// On a second `DELETE_FAILED`, delete the stack while retaining the resources that failed.
    pub retain_failed: bool,
    /// Longest wait for a lifecycle (instance terminated, volume available, stack deleted), on
    /// the pace's clock.
    pub wait_timeout: Duration,
    /// Interval between state checks while waiting, on the pace's clock.
    pub poll_interval: Duration,
    /// Attempts at an action that meets a dependency conflict.
    pub conflict_attempts: u32,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            retain_failed: false,
            wait_timeout: Duration::from_secs(20 * 60),
            poll_interval: Duration::from_secs(5),
            conflict_attempts: 8,
        }
    }
}

/// Progress, for a live view.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        branch: &'static str,
        action: String,
    },
    Retrying {
        branch: &'static str,
        action: String,
        reason: String,
    },
    Finished {
        branch: &'static str,
        action: String,
        outcome: Outcome,
    },
}

/// Runs plans against one account.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

struct Inner {
    clients: Clients,
    pace: Pace,
    opts: ExecOptions,
    events: Option<UnboundedSender<Event>>,
}

fn wait_failure(op: &str, what: String) -> AwsFailure {
    AwsFailure::new(op, "WaitTimedOut", &what, ErrorClass::Service)
}

impl Executor {
    pub fn new(
        clients: Clients,
        pace: Pace,
        opts: ExecOptions,
        events: Option<UnboundedSender<Event>>,
    ) -> Executor {
        Executor {
            inner: Arc::new(Inner {
                clients,
                pace,
                opts,
                events,
            }),
        }
    }

    pub fn clients(&self) -> &Clients {
        &self.inner.clients
    }

    fn emit(&self, e: Event) {
        if let Some(tx) = &self.inner.events {
            let _ = tx.send(e);
        }
    }

    /// Discover, plan and (unless `dry_run`) execute, resuming an interrupted run from the
    /// journal when there is one; then check that nothing of the workshop's is left.
    pub async fn run(
        &self,
        inventory: &Inventory,
        journal: Option<&Journal>,
        window_days: i32,
        dry_run: bool,
    ) -> Result<(Plan, Report), CleanupError> {
        if !(7..=30).contains(&window_days) {
            return Err(CleanupError::KeyWindow(window_days));
        }
        let pace = &self.inner.pace;
        let clients = &self.inner.clients;
        let resume = match (journal, dry_run) {
            (Some(j), false) => j.unfinished()?,
            _ => None,
        };
        let mut report = Report {
            account: clients.account.clone(),
            regions: clients.regions.keys().cloned().collect(),
            dry_run,
            ..Report::default()
        };
        let (run_id, found, plan, done) = match resume {
            Some(r) => {
                report.resumed = true;
                (r.run, r.found, r.plan, r.done)
            }
            None => {
                let found = discover(clients, pace, inventory).await?;
                let plan = Plan::build(&found, window_days);
                (uuid::Uuid::new_v4().to_string(), found, plan, Vec::new())
            }
        };
        report.found = found.resources();
        report.skipped = found.skipped.clone();
        if dry_run {
            return Ok((plan, report));
        }
        if let Some(j) = journal {
            if !report.resumed {
                j.append(&Record::Plan {
                    run: run_id.clone(),
                    at: time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    found: Box::new(found.clone()),
                    plan: plan.clone(),
                })?;
            }
        }
        report.actions = self.execute(&plan, journal, &run_id, &done).await?;
        for a in report.actions.clone() {
            if let Some(c) = &a.class {
                if c == ErrorClass::AccessDenied.as_str() || c == ErrorClass::Credentials.as_str() {
                    report.note_class(ErrorClass::AccessDenied);
                }
            }
        }
        if let Some(j) = journal {
            let clean = report.failed().next().is_none();
            j.append(&Record::Finished {
                run: run_id.clone(),
                clean,
            })?;
        }
        match discover(clients, pace, inventory).await {
            Ok(after) => report.remaining = remaining(&after),
            Err(e) => {
                report.note_class(e.class);
                report.errors.push(format!("final check: {e}"));
            }
        }
        Ok((plan, report))
    }

    /// Execute `plan`; actions in `done` (from a journal) are not repeated.
    pub async fn execute(
        &self,
        plan: &Plan,
        journal: Option<&Journal>,
        run_id: &str,
        done: &[(String, String)],
    ) -> Result<Vec<ActionResult>, CleanupError> {
        let mut results: BTreeMap<String, ActionResult> = BTreeMap::new();
        let mut finished: BTreeSet<String> = BTreeSet::new();
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for (id, _) in done {
            if let Some(n) = plan.node(id) {
                finished.insert(id.clone());
                results.insert(
                    id.clone(),
                    ActionResult {
                        id: id.clone(),
                        action: n.action.describe(),
                        outcome: Outcome::DoneEarlier,
                        detail: String::new(),
                        class: None,
                    },
                );
            }
        }
        let mut started: BTreeSet<String> = finished.clone();
        let mut tasks: JoinSet<(String, ActionOutcome)> = JoinSet::new();
        loop {
            // Block what depends on a failure; start what is ready.
            let mut progressed = true;
            while progressed {
                progressed = false;
                for n in &plan.nodes {
                    if started.contains(&n.id) {
                        continue;
                    }
                    if let Some(bad) = n.after.iter().find(|a| failed.contains(*a)) {
                        let why = plan
                            .node(bad)
                            .map(|b| b.action.describe())
                            .unwrap_or_else(|| bad.clone());
                        started.insert(n.id.clone());
                        failed.insert(n.id.clone());
                        results.insert(
                            n.id.clone(),
                            ActionResult {
                                id: n.id.clone(),
                                action: n.action.describe(),
                                outcome: Outcome::Blocked,
                                detail: format!("not attempted: needs \"{why}\", which failed"),
                                class: None,
                            },
                        );
                        progressed = true;
                    } else if n
                        .after
                        .iter()
                        .all(|a| finished.contains(a) || plan.node(a).is_none())
                    {
                        started.insert(n.id.clone());
                        let me = self.clone();
                        let action = n.action.clone();
                        let id = n.id.clone();
                        self.emit(Event::Started {
                            branch: action.branch(),
                            action: action.describe(),
                        });
                        tasks.spawn(async move {
                            let r = me.perform(&action).await;
                            (id, r)
                        });
                    }
                }
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (id, result) = match joined {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "an action task failed to complete");
                    continue;
                }
            };
            let Some(node) = plan.node(&id) else { continue };
            let (outcome, detail, class) = match result {
                Ok((o, d)) => (o, d, None),
                Err(e) => (
                    Outcome::Failed,
                    e.to_string(),
                    Some(e.class.as_str().to_string()),
                ),
            };
            match outcome {
                Outcome::Failed => {
                    if let Some(j) = journal {
                        j.append(&Record::Failed {
                            run: run_id.to_string(),
                            action: id.clone(),
                            error: detail.clone(),
                        })?;
                    }
                    failed.insert(id.clone());
                }
                _ => {
                    if let Some(j) = journal {
                        j.append(&Record::Done {
                            run: run_id.to_string(),
                            action: id.clone(),
                            outcome: if outcome == Outcome::Changed {
                                "changed"
                            } else {
                                "already_gone"
                            }
                            .into(),
                            detail: detail.clone(),
                        })?;
                    }
                    finished.insert(id.clone());
                }
            }
            self.emit(Event::Finished {
                branch: node.action.branch(),
                action: node.action.describe(),
                outcome,
            });
            results.insert(
                id.clone(),
                ActionResult {
                    id,
                    action: node.action.describe(),
                    outcome,
                    detail,
                    class,
                },
            );
        }
        Ok(plan
            .nodes
            .iter()
            .filter_map(|n| results.remove(&n.id))
            .collect())
    }

    /// One action, with conflict retries; "not found" is success.
    async fn perform(&self, action: &Action) -> ActionOutcome {
        let pace = &self.inner.pace;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.perform_once(action).await {
                Err(e) if e.is_not_found() => return Ok((Outcome::AlreadyGone, String::new())),
                Err(e)
                    if e.class == ErrorClass::Conflict
                        && attempt < self.inner.opts.conflict_attempts =>
                {
                    self.emit(Event::Retrying {
                        branch: action.branch(),
                        action: action.describe(),
                        reason: format!("{}: {}", e.code, e.message),
                    });
                    pace.sleep(pace.backoff(
                        attempt,
                        Duration::from_secs(1),
                        Duration::from_secs(30),
                    ))
                    .await;
                }
                other => return other,
            }
        }
    }

    async fn perform_once(&self, action: &Action) -> ActionOutcome {
        let c = &self.inner.clients;
        let pace = &self.inner.pace;
        let changed = |d: &str| Ok((Outcome::Changed, d.to_string()));
        let regional = |r: &str| {
            c.region(r).ok_or_else(|| {
                AwsFailure::new(
                    action.api(),
                    "UnknownRegion",
                    &format!("no clients for region {r}"),
                    ErrorClass::InvalidInput,
                )
            })
        };
        macro_rules! send {
            ($api:literal, $req:expr) => {
                pace.call($api, || async {
                    $req.send().await.map_err(|e| AwsFailure::from_sdk($api, e))
                })
                .await
            };
        }
        match action {
            Action::DeleteAlias { region, alias } => {
                let kms = &regional(region)?.kms;
                send!("DeleteAlias", kms.delete_alias().alias_name(alias))?;
                changed("")
            }
            Action::ScheduleKeyDeletion {
                region,
                key_id,
                window_days,
            } => {
                let kms = &regional(region)?.kms;
                let d = send!("DescribeKey", kms.describe_key().key_id(key_id))?;
                let state = d
                    .key_metadata()
                    .and_then(|m| m.key_state())
                    .map(|s| s.as_str().to_string());
                if state.as_deref() == Some("PendingDeletion") {
                    return Ok((Outcome::AlreadyGone, "already pending deletion".into()));
                }
                let out = send!(
                    "ScheduleKeyDeletion",
                    kms.schedule_key_deletion()
                        .key_id(key_id)
                        .pending_window_in_days(*window_days)
                )?;
                changed(&format!(
                    "deletion on {}",
                    out.deletion_date()
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "the scheduled date".into())
                ))
            }
            Action::DetachRolePolicy { role, policy_arn } => {
                send!(
                    "DetachRolePolicy",
                    c.iam
                        .detach_role_policy()
                        .role_name(role)
                        .policy_arn(policy_arn)
                )?;
                changed("")
            }
            Action::DeleteRolePolicy { role, policy_name } => {
                send!(
                    "DeleteRolePolicy",
                    c.iam
                        .delete_role_policy()
                        .role_name(role)
                        .policy_name(policy_name)
                )?;
                changed("")
            }
            Action::DisassociateInstanceProfile {
                region,
                association_id,
                ..
            } => {
                let ec2 = &regional(region)?.ec2;
                send!(
                    "DisassociateIamInstanceProfile",
                    ec2.disassociate_iam_instance_profile()
                        .association_id(association_id)
                )?;
                changed("")
            }
            Action::RemoveRoleFromInstanceProfile { profile, role } => {
                send!(
                    "RemoveRoleFromInstanceProfile",
                    c.iam
                        .remove_role_from_instance_profile()
                        .instance_profile_name(profile)
                        .role_name(role)
                )?;
                changed("")
            }
            Action::DeleteInstanceProfile { profile } => {
                send!(
                    "DeleteInstanceProfile",
                    c.iam
                        .delete_instance_profile()
                        .instance_profile_name(profile)
                )?;
                changed("")
            }
            Action::DeleteRole { role } => {
                send!("DeleteRole", c.iam.delete_role().role_name(role))?;
                changed("")
            }
            Action::TerminateInstance {
                region,
                instance_id,
            } => {
                let ec2 = &regional(region)?.ec2;
                send!(
                    "TerminateInstances",
                    ec2.terminate_instances().instance_ids(instance_id)
                )?;
                self.wait_until(
                    "TerminateInstances",
                    &format!("instance {instance_id} terminated"),
                    || async {
                        let d = send!(
                            "DescribeInstances",
                            ec2.describe_instances().instance_ids(instance_id)
                        );
                        match d {
                            Ok(o) => {
                                Ok(o.reservations()
                                    .iter()
                                    .flat_map(|r| r.instances())
                                    .all(|i| {
                                        i.state().and_then(|s| s.name()).map(|n| n.as_str())
                                            == Some("terminated")
                                    }))
                            }
                            Err(e) if e.is_not_found() => Ok(true),
                            Err(e) => Err(e),
                        }
                    },
                )
                .await?;
                changed("terminated")
            }
            Action::DeleteVolume { region, volume_id } => {
                let ec2 = &regional(region)?.ec2;
                self.wait_until(
                    "DeleteVolume",
                    &format!("volume {volume_id} available"),
                    || async {
                        let d = send!(
                            "DescribeVolumes",
                            ec2.describe_volumes().volume_ids(volume_id)
                        )?;
                        Ok(d.volumes().iter().all(|v| {
                            matches!(
                                v.state().map(|s| s.as_str()),
                                Some("available" | "deleting" | "deleted" | "error")
                            )
                        }))
                    },
                )
                .await?;
                send!("DeleteVolume", ec2.delete_volume().volume_id(volume_id))?;
                changed("")
            }
            Action::EmptyBucket { bucket } => {
                let n = self.empty_bucket(bucket).await?;
                changed(&format!("{n} object versions deleted"))
            }
            Action::DeleteBucket { bucket } => {
                send!(
                    "DeleteBucket",
                    c.s3.delete_bucket()
                        .bucket(bucket)
                        .expected_bucket_owner(&c.account)
                )?;
                changed("")
            }
            Action::RemoveTargets { region, rule, ids } => {
                let ev = &regional(region)?.events;
                let out = send!(
                    "RemoveTargets",
                    ev.remove_targets().rule(rule).set_ids(Some(ids.clone()))
                )?;
                if out.failed_entry_count() > 0 {
                    let first = out.failed_entries().first();
                    return Err(AwsFailure::new(
                        "RemoveTargets",
                        first.and_then(|f| f.error_code()).unwrap_or("FailedEntry"),
                        first
                            .and_then(|f| f.error_message())
                            .unwrap_or("a target was not removed"),
                        ErrorClass::Conflict,
                    ));
                }
                changed("")
            }
            Action::DeleteRule { region, rule } => {
                let ev = &regional(region)?.events;
                send!("DeleteRule", ev.delete_rule().name(rule))?;
                changed("")
            }
            Action::Unsubscribe {
                region,
                subscription_arn,
            } => {
                let sns = &regional(region)?.sns;
                send!(
                    "Unsubscribe",
                    sns.unsubscribe().subscription_arn(subscription_arn)
                )?;
                changed("")
            }
            Action::DeleteTopic { region, topic_arn } => {
                let sns = &regional(region)?.sns;
                send!("DeleteTopic", sns.delete_topic().topic_arn(topic_arn))?;
                changed("")
            }
            Action::DeleteAlarms { region, names } => {
                let cw = &regional(region)?.cloudwatch;
                send!(
                    "DeleteAlarms",
                    cw.delete_alarms().set_alarm_names(Some(names.clone()))
                )?;
                changed("")
            }
            Action::DeletePolicyVersion {
                policy_arn,
                version_id,
            } => {
                send!(
                    "DeletePolicyVersion",
                    c.iam
                        .delete_policy_version()
                        .policy_arn(policy_arn)
                        .version_id(version_id)
                )?;
                changed("")
            }
            Action::DeletePolicy { policy_arn } => {
                send!("DeletePolicy", c.iam.delete_policy().policy_arn(policy_arn))?;
                changed("")
            }
            Action::DeleteTrail { region, name } => {
                // TrailNotFoundException is "not found", hence already gone, in `perform`.
                let ct = &regional(region)?.cloudtrail;
                send!("DeleteTrail", ct.delete_trail().name(name))?;
                changed("")
            }
            Action::DeleteStack {
                region, stack_id, ..
            } => self.delete_stack(region, stack_id).await,
        }
    }

    /// Poll `check` until it says done, within the wait timeout (both on the pace's clock).
    async fn wait_until<F, Fut>(&self, op: &str, what: &str, mut check: F) -> Result<(), AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, AwsFailure>>,
    {
        let opts = &self.inner.opts;
        let pace = &self.inner.pace;
        let deadline = tokio::time::Instant::now() + pace.scaled(opts.wait_timeout);
        loop {
            if check().await? {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(wait_failure(
                    op,
                    format!(
                        "gave up waiting for {what} after {}s",
                        opts.wait_timeout.as_secs()
                    ),
                ));
            }
            pace.sleep(opts.poll_interval).await;
        }
    }

    /// Delete every object version and delete marker; returns how many.
    async fn empty_bucket(&self, bucket: &str) -> Result<usize, AwsFailure> {
        let s3 = &self.inner.clients.s3;
        let owner = &self.inner.clients.account;
        let pace = &self.inner.pace;
        let mut total = 0;
        loop {
            let page = pace
                .call("ListObjectVersions", || async {
                    s3.list_object_versions()
                        .bucket(bucket)
                        .expected_bucket_owner(owner)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("ListObjectVersions", e))
                })
                .await?;
            let mut ids = Vec::new();
            for v in page.versions() {
                if let Some(k) = v.key() {
                    ids.push((k.to_string(), v.version_id().map(str::to_string)));
                }
            }
            for m in page.delete_markers() {
                if let Some(k) = m.key() {
                    ids.push((k.to_string(), m.version_id().map(str::to_string)));
                }
            }
            if ids.is_empty() {
                return Ok(total);
            }
            for chunk in ids.chunks(1000) {
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
                let out = pace
                    .call("DeleteObjects", || async {
                        s3.delete_objects()
                            .bucket(bucket)
                            .expected_bucket_owner(owner)
                            .delete(delete.clone())
                            .send()
                            .await
                            .map_err(|e| AwsFailure::from_sdk("DeleteObjects", e))
                    })
                    .await?;
                if let Some(err) = out.errors().first() {
                    let code = err.code().unwrap_or("DeleteObjectsError");
                    return Err(AwsFailure::new(
                        "DeleteObjects",
                        code,
                        err.message().unwrap_or("an object was not deleted"),
                        kms_workshop_aws_errors::classify(code, None),
                    ));
                }
                total += chunk.len();
            }
        }
    }

    /// DeleteStack and wait; on DELETE_FAILED, report why, fix what can be fixed (empty the
    /// bucket, detach what the template does not declare) and retry; retain only if asked.
    async fn delete_stack(&self, region: &str, stack_id: &str) -> ActionOutcome {
        let rc = self.inner.clients.region(region).ok_or_else(|| {
            AwsFailure::new(
                "DeleteStack",
                "UnknownRegion",
                &format!("no clients for region {region}"),
                ErrorClass::InvalidInput,
            )
        })?;
        let cfn = &rc.cloudformation;
        let pace = &self.inner.pace;
        let mut notes: Vec<String> = Vec::new();
        let mut retain: Option<Vec<String>> = None;
        for round in 0..3 {
            let r = retain.clone();
            pace.call("DeleteStack", || async {
                cfn.delete_stack()
                    .stack_name(stack_id)
                    .set_retain_resources(r.clone())
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("DeleteStack", e))
            })
            .await?;
            let status = std::sync::Mutex::new(String::new());
            self.wait_until(
                "DeleteStack",
                &format!("stack {stack_id} deleted"),
                || async {
                    let d = pace
                        .call("DescribeStacks", || async {
                            cfn.describe_stacks()
                                .stack_name(stack_id)
                                .send()
                                .await
                                .map_err(|e| AwsFailure::from_sdk("DescribeStacks", e))
                        })
                        .await;
                    let s = match d {
                        Ok(o) => o
                            .stacks()
                            .first()
                            .and_then(|s| s.stack_status())
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_else(|| "DELETE_COMPLETE".into()),
                        Err(e)
                            if e.is_not_found()
                                || (e.code == "ValidationError"
                                    && e.message.contains("does not exist")) =>
                        {
                            "DELETE_COMPLETE".into()
                        }
                        Err(e) => return Err(e),
                    };
                    let done = s == "DELETE_COMPLETE" || s == "DELETE_FAILED";
                    if let Ok(mut st) = status.lock() {
                        *st = s;
                    }
                    Ok(done)
                },
            )
            .await?;
            let status = status.lock().map(|s| s.clone()).unwrap_or_default();
            if status == "DELETE_COMPLETE" {
                notes.push("DELETE_COMPLETE".into());
                return Ok((Outcome::Changed, notes.join("; ")));
            }
            // DELETE_FAILED: which resources, and why.
            let res = pace
                .call("DescribeStackResources", || async {
                    cfn.describe_stack_resources()
                        .stack_name(stack_id)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("DescribeStackResources", e))
                })
                .await?;
            let failed: Vec<(String, String, String, String)> = res
                .stack_resources()
                .iter()
                .filter(|r| r.resource_status().map(|s| s.as_str()) == Some("DELETE_FAILED"))
                .map(|r| {
                    (
                        r.logical_resource_id().unwrap_or_default().to_string(),
                        r.physical_resource_id().unwrap_or_default().to_string(),
                        r.resource_type().unwrap_or_default().to_string(),
                        r.resource_status_reason()
                            .unwrap_or("no reason given")
                            .to_string(),
                    )
                })
                .collect();
            let reasons: Vec<String> = failed
                .iter()
                .map(|(l, p, t, why)| format!("{l} ({t} {p}): {why}"))
                .collect();
            notes.push(format!("DELETE_FAILED: {}", reasons.join("; ")));
            self.emit(Event::Retrying {
                branch: "stack",
                action: format!("delete stack {stack_id}"),
                reason: format!("DELETE_FAILED: {}", reasons.join("; ")),
            });
            if round == 0 {
                for (_, physical, kind, _) in &failed {
                    match kind.as_str() {
                        "AWS::S3::Bucket" => {
                            let n = self.empty_bucket(physical).await.or_else(|e| {
                                if e.is_not_found() {
                                    Ok(0)
                                } else {
                                    Err(e)
                                }
                            })?;
                            notes.push(format!("emptied bucket {physical} ({n} object versions)"));
                        }
                        "AWS::IAM::Role" => {
                            let n = self.strip_role(physical).await?;
                            notes.push(format!("detached {n} policies the template does not declare from {physical}"));
                        }
                        _ => {}
                    }
                }
            } else if self.inner.opts.retain_failed && retain.is_none() {
                let ids: Vec<String> = failed.iter().map(|(l, ..)| l.clone()).collect();
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

    /// Detach the managed policies the template does not declare and delete inline policies.
    async fn strip_role(&self, role: &str) -> Result<usize, AwsFailure> {
        let iam = &self.inner.clients.iam;
        let pace = &self.inner.pace;
        let attached = pace
            .call("ListAttachedRolePolicies", || async {
                iam.list_attached_role_policies()
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListAttachedRolePolicies", e))
            })
            .await?;
        let mut n = 0;
        for p in attached.attached_policies() {
            let Some(arn) = p.policy_arn() else { continue };
            if names::TEMPLATE_POLICIES.contains(&arn) {
                continue;
            }
            match pace
                .call("DetachRolePolicy", || async {
                    iam.detach_role_policy()
                        .role_name(role)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("DetachRolePolicy", e))
                })
                .await
            {
                Ok(_) => n += 1,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let inline = pace
            .call("ListRolePolicies", || async {
                iam.list_role_policies()
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListRolePolicies", e))
            })
            .await?;
        for name in inline.policy_names() {
            match pace
                .call("DeleteRolePolicy", || async {
                    iam.delete_role_policy()
                        .role_name(role)
                        .policy_name(name)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("DeleteRolePolicy", e))
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

/// What of the workshop's a discovery still finds (keys pending deletion count as done).
pub fn remaining(found: &Found) -> Vec<String> {
    found.resources()
}
