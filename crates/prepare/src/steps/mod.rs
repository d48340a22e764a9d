//! Carrying out one set-up step. Every step looks before it makes: what is there already is
//! kept (`kept`), so a step repeated after a crash, or a second `prepare`, changes nothing.
//!
//! - `account`: the stack, the customer policies and their attachments, the sample files;
//! - `kms`: the keys, their aliases, the imported material;
//! - `ec2`: the instance and the volume.

use kms_workshop_cleanup::exec::ActionOutcome;
use kms_workshop_cleanup::report::Outcome;
use kms_workshop_cleanup::{AwsFailure, ErrorClass, Executor};

use crate::plan::Setup;

mod account;
mod ec2;
mod kms;

/// The step made or changed something.
pub(crate) fn made(detail: impl Into<String>) -> ActionOutcome {
    Ok((Outcome::Changed, detail.into()))
}

/// What the step makes was there already.
pub(crate) fn kept(detail: impl Into<String>) -> ActionOutcome {
    Ok((Outcome::Kept, detail.into()))
}

/// A step met a state it cannot go on from.
pub(crate) fn stuck(op: &str, code: &str, message: impl Into<String>) -> AwsFailure {
    AwsFailure::new(op, code, &message.into(), ErrorClass::Service)
}

/// Carry `step` out once (its calls retried under the executor's pace; dependency conflicts
/// with backoff).
pub async fn perform(ex: &Executor, step: &Setup) -> ActionOutcome {
    let region = match step {
        Setup::CreatePolicy { .. } | Setup::AttachRolePolicy { .. } => None,
        Setup::CreateStack { region }
        | Setup::CreateKey { region, .. }
        | Setup::ImportMaterial { region, .. }
        | Setup::RunInstance { region, .. }
        | Setup::CreateVolume { region, .. }
        | Setup::PutSample { region, .. } => Some(region),
    };
    let rc = match region {
        Some(r) => Some(ex.clients().region(r).ok_or_else(|| {
            stuck(
                kms_workshop_cleanup::plan::Step::api(step),
                "UnknownRegion",
                format!("no clients for region {r}"),
            )
        })?),
        None => None,
    };
    ex.on_conflict_retry(step, || async {
        match (step, rc) {
            (Setup::CreateStack { .. }, Some(rc)) => account::create_stack(ex, rc).await,
            (Setup::CreatePolicy { name }, _) => account::create_policy(ex, name).await,
            (Setup::AttachRolePolicy { policy_arn }, _) => account::attach(ex, policy_arn).await,
            (Setup::PutSample { key, .. }, Some(rc)) => account::put_sample(ex, rc, key).await,
            (Setup::CreateKey { role, run, .. }, Some(rc)) => {
                kms::create_key(ex, rc, role, run).await
            }
            (Setup::ImportMaterial { days, .. }, Some(rc)) => {
                kms::import_material(ex, rc, *days).await
            }
            (
                Setup::RunInstance {
                    ami,
                    instance_type,
                    client_token,
                    ..
                },
                Some(rc),
            ) => ec2::run_instance(ex, rc, ami, instance_type, client_token).await,
            (Setup::CreateVolume { client_token, .. }, Some(rc)) => {
                ec2::create_volume(ex, rc, client_token).await
            }
            (_, None) => Err(stuck(
                "Setup",
                "UnknownRegion",
                "a regional step without a region",
            )),
        }
    })
    .await
}
