//! EventBridge's wire shapes: rules, targets and tags as the API answers them.

use super::state::{Rule, Target};
use crate::protocol::Value;

/// A rule as `ListRules` (`full`: `DescribeRule`, which adds `CreatedBy`) answers it.
pub(super) fn rule(r: &Rule, full: bool) -> Value {
    let mut v = Value::obj()
        .with("Name", r.name.clone())
        .with("Arn", r.arn.clone())
        .with("EventPattern", r.event_pattern.clone())
        .with("ScheduleExpression", r.schedule.clone())
        .with("State", r.state.as_str())
        .with("Description", r.description.clone())
        .with("RoleArn", r.role_arn.clone())
        .with("EventBusName", "default");
    if full {
        v = v.with(
            "CreatedBy",
            r.arn.split(':').nth(4).unwrap_or_default().to_string(),
        );
    }
    v
}

pub(super) fn target(t: &Target) -> Value {
    let mut v = Value::obj()
        .with("Id", t.id.clone())
        .with("Arn", t.arn.clone())
        .with("Input", t.input.clone())
        .with("InputPath", t.input_path.clone());
    if let Some((paths, template)) = &t.input_transformer {
        v = v.with(
            "InputTransformer",
            Value::obj()
                .with("InputPathsMap", Value::str_map(paths.iter()))
                .with("InputTemplate", template.clone()),
        );
    }
    v
}
