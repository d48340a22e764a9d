//! Stacks' work on the sandbox clock: a stack's pending creation, rollback or deletion is done
//! when it falls due — at the server's tick, or before and after any CloudFormation call.

mod create;
mod delete;

use time::OffsetDateTime;

use super::provision::Env;
use super::state::{CfnState, OpKind};
use crate::protocol::AwsError;
use crate::Sandbox;

/// Do the work of every stack whose time has come (called from the server's tick).
pub fn settle_due(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        settle_in(sb, &account, &region, now, true);
    }
}

/// Do the work due at `now` of the stacks of one account and region; `record`: whether the
/// calls CloudFormation makes go to CloudTrail (not for the seed's own calls).
pub(super) fn settle_in(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
    record: bool,
) {
    let due: Vec<String> = sb.read::<CfnState, _>(account, region, |st| {
        st.stacks
            .iter()
            .filter(|s| s.pending.as_ref().is_some_and(|p| p.due <= now))
            .map(|s| s.id.clone())
            .collect()
    });
    for id in due {
        if let Err(e) = settle_stack(sb, account, region, &id, now, record) {
            tracing::error!(error = %e, stack = %id, "cannot settle a stack");
        }
    }
}

/// Run a stack's pending work (repeatedly, while more is due at `now`); `record`: whether the
/// calls CloudFormation makes go to CloudTrail.
pub(super) fn settle_stack(
    sb: &Sandbox,
    account: &str,
    region: &str,
    id: &str,
    now: OffsetDateTime,
    record: bool,
) -> Result<(), AwsError> {
    for _ in 0..16 {
        // Claim the work, so a concurrent tick does not do it twice.
        let claimed = sb.write::<CfnState, _>(account, region, |st| {
            let Some(s) = st.stacks.iter_mut().find(|s| s.id == id) else {
                return Ok(None);
            };
            match &s.pending {
                Some(p) if p.due <= now => {
                    let claim = (p.kind, p.by_seed.then_some(p.due));
                    s.pending = None;
                    Ok(Some((claim, s.clone())))
                }
                _ => Ok(None),
            }
        })?;
        let Some(((kind, seed_time), mut stack)) = claimed else {
            return Ok(());
        };
        // The seed's stack is done at the seed's time, unrecorded, whoever gets to it.
        let env = Env {
            sb,
            caller: stack.caller(account),
            region: region.to_string(),
            now: seed_time.unwrap_or(now),
            record: record && seed_time.is_none(),
            stack_name: stack.name.clone(),
            stack_id: stack.id.clone(),
            stack_tags: stack.tags.clone(),
        };
        match kind {
            OpKind::Create => create::run(&env, &mut stack),
            OpKind::Rollback | OpKind::Delete => delete::run(&env, &mut stack, kind),
        }
        let done = stack.pending.as_ref().is_none_or(|p| p.due > now);
        sb.write::<CfnState, _>(account, region, |st| {
            if let Some(s) = st.stacks.iter_mut().find(|s| s.id == id) {
                *s = stack;
            }
            Ok(())
        })?;
        if done {
            return Ok(());
        }
    }
    Ok(())
}
