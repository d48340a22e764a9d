//! CloudFormation (awsQuery, API 2010-05-15): stacks from JSON or YAML templates, created and
//! deleted on the sandbox clock by calling the other services' own operations
//! ([`provision`]), with stack events for every transition, rollback on failure,
//! `DELETE_FAILED` with CloudFormation's reasons when a resource cannot go (a non-empty bucket,
//! a role with policies attached by hand), `RetainResources`, and termination protection.
//!
//! The workshop's stack (`KMSWorkshop-Stack`, from [`WORKSHOP_TEMPLATE`]) is created by the
//! `workshop` seed's plan (`crate::seed::plan`) through CreateStack, as `prepare` creates it.
//!
//! Layout: `state` (stacks, their resources and events), `ops` (one function per operation),
//! [`template`] (parsing, checks, conditions, intrinsic functions), `params`, `lifecycle`
//! (the work on the sandbox clock), [`provision`] (one module per resource type), `views`,
//! `errors`.

mod errors;
mod lifecycle;
mod ops;
mod params;
pub mod provision;
mod state;
pub mod template;
mod views;

#[cfg(test)]
mod tests;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub use lifecycle::settle_due;
pub use state::{
    CfnState, OpKind, Pending, ResourceStatus, Stack, StackEvent, StackParam, StackResource,
    StackStatus,
};

/// The KMS workshop's template: the bucket `kmsworkshop-<account>`, the role
/// `KMSWorkshop-InstanceInitRole` and its instance profile.
pub const WORKSHOP_TEMPLATE: &str = kms_workshop_names::starting::TEMPLATE;
/// The stack name the workshop tells learners to use.
pub const WORKSHOP_STACK: &str = kms_workshop_names::STACK;

pub struct CloudFormation;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new(
    "cloudformation",
    "cloudformation.amazonaws.com",
    Protocol::AwsQuery,
)
.xmlns("http://cloudformation.amazonaws.com/doc/2010-05-15/")
.read_only(&["Describe", "Get", "List", "Validate", "Estimate", "Detect"]);

impl Service for CloudFormation {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        use ops::{resources, stacks, templates};
        let (account, region) = (cx.account().to_string(), cx.region.clone());
        if !cx.seeding {
            // A due stack deletion changes the world even in a Describe: it comes after the
            // calls answered before it, their records' deliveries included.
            crate::services::cloudtrail::unrecorded::settle(cx.sandbox);
        }
        lifecycle::settle_in(cx.sandbox, &account, &region, cx.now, !cx.seeding);
        let out = match op {
            "CreateStack" => stacks::create_stack(cx, input),
            "DescribeStacks" => stacks::describe_stacks(cx, input),
            "ListStacks" => stacks::list_stacks(cx, input),
            "UpdateTerminationProtection" => stacks::update_termination_protection(cx, input),
            "DeleteStack" => stacks::delete_stack(cx, input),
            "DescribeStackResources" => resources::describe_stack_resources(cx, input),
            "DescribeStackResource" => resources::describe_stack_resource(cx, input),
            "ListStackResources" => resources::list_stack_resources(cx, input),
            "DescribeStackEvents" => resources::describe_stack_events(cx, input),
            "GetTemplate" => templates::get_template(cx, input),
            "ValidateTemplate" => templates::validate_template(cx, input),
            _ => return Err(cx.unknown(op)),
        }?;
        // Work due now (the instant latency profile) is done before the caller looks again.
        lifecycle::settle_in(cx.sandbox, &account, &region, cx.now, !cx.seeding);
        Ok(out)
    }
}
