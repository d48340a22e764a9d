//! A stack's resources and events: DescribeStackResources, DescribeStackResource,
//! ListStackResources, DescribeStackEvents.

use super::{find_stack, required};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudformation::errors::validation;
use crate::services::cloudformation::views;
use crate::services::Call;

pub fn describe_stack_resources(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let s = find_stack(cx, input, true)?;
    let logical = input.str("LogicalResourceId")?;
    let items: Vec<Value> = s
        .resources
        .iter()
        .filter(|r| logical.as_deref().is_none_or(|l| l == r.logical_id))
        .map(|r| views::resource(&s, r, false))
        .collect();
    Ok(Value::obj().with("StackResources", Value::List(items)))
}

pub fn describe_stack_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = required(input, "StackName")?;
    let logical = required(input, "LogicalResourceId")?;
    let s = find_stack(cx, input, false)?;
    let r = s
        .resources
        .iter()
        .find(|r| r.logical_id == logical)
        .ok_or_else(|| {
            validation(format!(
                "Resource {logical} does not exist for stack {name}"
            ))
        })?;
    Ok(Value::obj().with("StackResourceDetail", views::resource(&s, r, true)))
}

pub fn list_stack_resources(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let s = find_stack(cx, input, false)?;
    let items: Vec<Value> = s.resources.iter().map(views::resource_summary).collect();
    Ok(Value::obj().with("StackResourceSummaries", Value::List(items)))
}

pub fn describe_stack_events(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let s = find_stack(cx, input, false)?;
    let items: Vec<Value> = s.events.iter().rev().map(|e| views::event(&s, e)).collect();
    Ok(Value::obj().with("StackEvents", Value::List(items)))
}
