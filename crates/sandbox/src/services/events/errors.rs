//! EventBridge's errors, as AWS words them.

use crate::protocol::AwsError;

pub(super) fn rule_not_found(name: &str) -> AwsError {
    AwsError::new(
        400,
        "ResourceNotFoundException",
        format!("Rule {name} does not exist on EventBus default."),
    )
}

pub(super) fn bus_not_found(bus: &str) -> AwsError {
    AwsError::new(
        400,
        "ResourceNotFoundException",
        format!("Event bus {bus} does not exist. (The sandbox has the default event bus only.)"),
    )
}

pub(super) fn resource_not_found(arn: &str) -> AwsError {
    AwsError::new(
        400,
        "ResourceNotFoundException",
        format!("Resource {arn} does not exist."),
    )
}

pub(super) fn invalid_pattern(why: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidEventPatternException", why)
}

pub(super) fn bad_token() -> AwsError {
    AwsError::validation("The NextToken is not valid.")
}

pub(super) fn too_many_targets() -> AwsError {
    AwsError::new(
        400,
        "LimitExceededException",
        "The requested resource exceeds the maximum number allowed (5 targets per rule).",
    )
}
