//! CloudFormation's part of the workshop seed: `KMSWorkshop-Stack`, created from
//! [`WORKSHOP_TEMPLATE`] as the learner did, through CreateStack, days before the chapter
//! starts; and the stack's resources for the other services' seeds.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::lifecycle::settle_stack;
use super::ops::stacks::create_stack;
use super::state::{CfnState, StackStatus};
use super::{WORKSHOP_STACK, WORKSHOP_TEMPLATE};
use crate::identity::{learner_credential, Caller};
use crate::protocol::input::FormStyle;
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::services::Call;
use crate::Sandbox;

/// Create `KMSWorkshop-Stack` from [`WORKSHOP_TEMPLATE`] as the learner did, `at` (days before
/// the chapter starts), through CreateStack, and complete it at once.
pub fn seed_workshop(
    sb: &Sandbox,
    account: &str,
    region: &str,
    at: OffsetDateTime,
) -> Result<(), AwsError> {
    let params: BTreeMap<String, String> = [
        ("StackName", WORKSHOP_STACK),
        ("TemplateBody", WORKSHOP_TEMPLATE),
        ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let input = Input::form(params, FormStyle::Query);
    let mut cx = Call {
        sandbox: sb,
        caller: Caller::from(&learner_credential(account, &sb.secret_seed())),
        region: region.to_string(),
        request_id: crate::util::uuid(),
        now: at,
        protocol: Protocol::AwsQuery,
        resources: Vec::new(),
        response_elements: None,
    };
    let id = match create_stack(&mut cx, &input)? {
        Value::Struct(f) => f
            .into_iter()
            .find(|(k, _)| k == "StackId")
            .and_then(|(_, v)| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    // Due at once, whatever the latency profile: the learner's stack finished days ago.
    sb.write::<CfnState, _>(account, region, |st| {
        if let Some(p) = st
            .stacks
            .iter_mut()
            .find(|s| s.id == id)
            .and_then(|s| s.pending.as_mut())
        {
            p.due = at;
        }
        Ok(())
    })?;
    settle_stack(sb, account, region, &id, at + Duration::seconds(40), false)?;
    let status = sb.read::<CfnState, _>(account, region, |st| {
        st.stacks
            .iter()
            .find(|s| s.id == id)
            .map(|s| (s.status, s.status_reason.clone()))
    });
    match status {
        Some((StackStatus::CreateComplete, _)) => Ok(()),
        other => Err(AwsError::internal(format!(
            "the workshop stack was not created: {other:?}"
        ))),
    }
}

/// The physical id of resource `logical_id` of the live stack `stack` (for the other seeds).
pub fn stack_resource(
    sb: &Sandbox,
    account: &str,
    region: &str,
    stack: &str,
    logical_id: &str,
) -> Option<String> {
    sb.read::<CfnState, _>(account, region, |st| {
        st.stacks
            .iter()
            .rev()
            .find(|s| s.name == stack && s.live())
            .and_then(|s| s.resources.iter().find(|r| r.logical_id == logical_id))
            .and_then(|r| r.physical_id.clone())
    })
}
