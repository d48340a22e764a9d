//! CloudFormation: the workshop's stack by its exact name, and its resources (what the stack
//! deletes itself, and what blocks its deletion).

use serde::{Deserialize, Serialize};

use crate::{names, AwsFailure, Pace};

/// The workshop's stack, not yet deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackFound {
    pub name: String,
    pub id: String,
    pub status: String,
    pub resources: Vec<StackResource>,
}

/// One resource of the stack, as DescribeStackResources lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
}

/// The stack does not exist: "not found", or CloudFormation's ValidationError saying so.
pub fn is_missing_stack(e: &AwsFailure) -> bool {
    e.is_not_found() || (e.code == "ValidationError" && e.message.contains("does not exist"))
}

/// The workshop's stack in this region, unless there is none or it is already deleted.
pub(super) async fn stack(
    cfn: &aws_sdk_cloudformation::Client,
    pace: &Pace,
) -> Result<Option<StackFound>, AwsFailure> {
    let described = pace
        .send("DescribeStacks", || {
            cfn.describe_stacks().stack_name(names::STACK).send()
        })
        .await;
    let out = match described {
        Ok(o) => o,
        Err(e) if is_missing_stack(&e) => return Ok(None),
        // A region or endpoint without CloudFormation has no stack to find.
        Err(e) if e.code == "UnknownServiceException" => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(stack) = out
        .stacks()
        .iter()
        .find(|s| s.stack_name() == Some(names::STACK))
    else {
        return Ok(None);
    };
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    let id = stack.stack_id().unwrap_or(names::STACK).to_string();
    let resources = stack_resources(cfn, pace, &id).await?;
    Ok(Some(StackFound {
        name: names::STACK.to_string(),
        id,
        status,
        resources,
    }))
}

/// The resources of stack `stack` (a name or id) and their states.
pub(crate) async fn stack_resources(
    cfn: &aws_sdk_cloudformation::Client,
    pace: &Pace,
    stack: &str,
) -> Result<Vec<StackResource>, AwsFailure> {
    let res = pace
        .send("DescribeStackResources", || {
            cfn.describe_stack_resources().stack_name(stack).send()
        })
        .await?;
    Ok(res
        .stack_resources()
        .iter()
        .map(|r| StackResource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
            kind: r.resource_type().unwrap_or_default().to_string(),
            status: r
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: r.resource_status_reason().map(str::to_string),
        })
        .collect())
}
