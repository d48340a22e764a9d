//! Deleting a stack (or rolling back a failed creation): its resources in reverse order, those
//! `RetainResources` names kept; a resource that cannot go (a non-empty bucket, a role with
//! policies attached by hand) leaves the stack `DELETE_FAILED` (`ROLLBACK_FAILED`) with
//! CloudFormation's reasons, to be deleted again or retained.

use time::{Duration, OffsetDateTime};

use crate::services::cloudformation::provision::{self, Deleted, Env};
use crate::services::cloudformation::state::{OpKind, Pending, ResourceStatus, Stack, StackStatus};

/// Delete the stack's resources; `kind` is `Delete` or `Rollback`.
pub(super) fn run(env: &Env<'_>, s: &mut Stack, kind: OpKind) {
    let now = env.now;
    if delete_resources(env, s, kind) == Deleted::Waiting {
        s.pending = Some(Pending {
            kind,
            due: now + Duration::seconds(1),
            by_seed: false,
        });
        return;
    }
    finish(s, now, kind);
}

/// Delete what is left, last created first; `Waiting` when one is still going.
fn delete_resources(env: &Env<'_>, s: &mut Stack, kind: OpKind) -> Deleted {
    let now = env.now;
    for i in (0..s.resources.len()).rev() {
        let r = &s.resources[i];
        if matches!(
            r.status,
            ResourceStatus::DeleteComplete | ResourceStatus::DeleteSkipped
        ) {
            continue;
        }
        if kind == OpKind::Delete && s.retain.contains(&r.logical_id) {
            s.resource_event(i, now, ResourceStatus::DeleteSkipped, None);
            continue;
        }
        let Some(physical) = r.physical_id.clone() else {
            // Never created: nothing to delete.
            s.resource_event(i, now, ResourceStatus::DeleteComplete, None);
            continue;
        };
        if r.status != ResourceStatus::DeleteInProgress {
            s.resource_event(i, now, ResourceStatus::DeleteInProgress, None);
        }
        let r = &s.resources[i];
        match provision::delete(env, &r.resource_type, &physical, &r.properties) {
            Ok(Deleted::Done) => s.resource_event(i, now, ResourceStatus::DeleteComplete, None),
            Ok(Deleted::Waiting) => return Deleted::Waiting,
            Err(reason) => s.resource_event(i, now, ResourceStatus::DeleteFailed, Some(reason)),
        }
    }
    Deleted::Done
}

/// The stack's status once no resource is still going.
fn finish(s: &mut Stack, now: OffsetDateTime, kind: OpKind) {
    let mut failed: Vec<&str> = s
        .resources
        .iter()
        .filter(|r| r.status == ResourceStatus::DeleteFailed)
        .map(|r| r.logical_id.as_str())
        .collect();
    failed.sort_unstable();
    let reason = (!failed.is_empty()).then(|| {
        format!(
            "The following resource(s) failed to delete: [{}]. ",
            failed.join(", ")
        )
    });
    match (kind, reason) {
        (OpKind::Delete, Some(r)) => s.stack_event(now, StackStatus::DeleteFailed, Some(r)),
        (OpKind::Delete, None) => {
            s.stack_event(now, StackStatus::DeleteComplete, None);
            s.deleted = Some(now);
        }
        (_, Some(r)) => s.stack_event(now, StackStatus::RollbackFailed, Some(r)),
        (_, None) => {
            s.stack_event(now, StackStatus::RollbackComplete, None);
            if s.on_failure == "DELETE" {
                s.stack_event(now, StackStatus::DeleteInProgress, None);
                s.stack_event(now, StackStatus::DeleteComplete, None);
                s.deleted = Some(now);
            }
        }
    }
}
