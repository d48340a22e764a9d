//! CloudFormation's wire shapes: stacks, stack summaries, resources and events.

use super::state::{Stack, StackEvent, StackResource};
use time::OffsetDateTime;

use crate::protocol::Value;

fn drift(member: &str) -> Value {
    Value::obj().with(member, "NOT_CHECKED")
}

/// A stack as `DescribeStacks` answers it at `now` (`NoEcho` parameters masked).
pub fn stack(s: &Stack, now: OffsetDateTime) -> Value {
    let params: Vec<Value> = s
        .parameters
        .iter()
        .map(|p| {
            Value::obj().with("ParameterKey", p.key.as_str()).with(
                "ParameterValue",
                if p.no_echo { "****" } else { p.value.as_str() },
            )
        })
        .collect();
    let tags: Vec<Value> = s
        .tags
        .iter()
        .map(|(k, v)| {
            Value::obj()
                .with("Key", k.as_str())
                .with("Value", v.as_str())
        })
        .collect();
    let outputs: Vec<Value> = s
        .outputs
        .iter()
        .map(|(k, v, d)| {
            Value::obj()
                .with("OutputKey", k.as_str())
                .with("OutputValue", v.as_str())
                .with("Description", d.clone())
        })
        .collect();
    let mut v = Value::obj()
        .with("StackId", s.id.as_str())
        .with("StackName", s.name.as_str())
        .with("Description", s.description.clone());
    if !params.is_empty() {
        v = v.with("Parameters", Value::List(params));
    }
    v = v
        .with("CreationTime", s.created)
        .with("DeletionTime", s.deleted)
        .with("LastUpdatedTime", s.updated)
        .with("StackStatus", s.shown_status(now).as_str())
        .with("StackStatusReason", s.status_reason.clone())
        .with("DisableRollback", s.disable_rollback)
        .with("NotificationARNs", Value::List(Vec::new()));
    if !s.capabilities.is_empty() {
        v = v.with(
            "Capabilities",
            Value::List(s.capabilities.iter().map(Value::from).collect()),
        );
    }
    if !outputs.is_empty() {
        v = v.with("Outputs", Value::List(outputs));
    }
    v.with("Tags", Value::List(tags))
        .with("EnableTerminationProtection", s.termination_protection)
        .with("DriftInformation", drift("StackDriftStatus"))
}

/// An entry of `ListStacks` at `now`.
pub fn stack_summary(s: &Stack, now: OffsetDateTime) -> Value {
    Value::obj()
        .with("StackId", s.id.as_str())
        .with("StackName", s.name.as_str())
        .with("TemplateDescription", s.description.clone())
        .with("CreationTime", s.created)
        .with("LastUpdatedTime", s.updated)
        .with("DeletionTime", s.deleted)
        .with("StackStatus", s.shown_status(now).as_str())
        .with("StackStatusReason", s.status_reason.clone())
        .with("DriftInformation", drift("StackDriftStatus"))
}

/// A resource as `DescribeStackResources` (or with `detail`, `DescribeStackResource`)
/// answers it.
pub fn resource(s: &Stack, r: &StackResource, detail: bool) -> Value {
    let mut v = Value::obj()
        .with("StackName", s.name.as_str())
        .with("StackId", s.id.as_str())
        .with("LogicalResourceId", r.logical_id.as_str())
        .with("PhysicalResourceId", r.physical_id.clone())
        .with("ResourceType", r.resource_type.as_str());
    v = if detail {
        v.with("LastUpdatedTimestamp", r.updated)
    } else {
        v.with("Timestamp", r.updated)
    };
    v = v
        .with("ResourceStatus", r.status.as_str())
        .with("ResourceStatusReason", r.reason.clone());
    if detail {
        v = v.with("Metadata", "{}");
    }
    v.with("DriftInformation", drift("StackResourceDriftStatus"))
}

/// An entry of `ListStackResources`.
pub fn resource_summary(r: &StackResource) -> Value {
    Value::obj()
        .with("LogicalResourceId", r.logical_id.as_str())
        .with("PhysicalResourceId", r.physical_id.clone())
        .with("ResourceType", r.resource_type.as_str())
        .with("LastUpdatedTimestamp", r.updated)
        .with("ResourceStatus", r.status.as_str())
        .with("ResourceStatusReason", r.reason.clone())
        .with("DriftInformation", drift("StackResourceDriftStatus"))
}

/// An entry of `DescribeStackEvents`.
pub fn event(s: &Stack, e: &StackEvent) -> Value {
    Value::obj()
        .with("StackId", s.id.as_str())
        .with("EventId", e.id.as_str())
        .with("StackName", s.name.as_str())
        .with("LogicalResourceId", e.logical_id.as_str())
        .with("PhysicalResourceId", e.physical_id.clone())
        .with("ResourceType", e.resource_type.as_str())
        .with("Timestamp", e.timestamp)
        .with("ResourceStatus", e.status.as_str())
        .with("ResourceStatusReason", e.reason.clone())
        .with("ResourceProperties", e.properties.clone())
        .with("ClientRequestToken", e.token.clone())
}
