//! CloudWatch's errors, as its awsQuery-compatible protocol spells them.

use crate::protocol::AwsError;

pub(super) fn invalid_value(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidParameterValue", msg)
}

pub(super) fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

pub(super) fn missing_param(name: &str) -> AwsError {
    AwsError::new(
        400,
        "MissingParameter",
        format!("The parameter {name} is required."),
    )
}

pub(super) fn combination(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidParameterCombination", msg)
}

pub(super) fn not_found(msg: impl Into<String>) -> AwsError {
    AwsError::new(404, "ResourceNotFound", msg)
}

/// An alarm a resource ARN names that does not exist (here).
pub(super) fn alarm_not_found(name: &str) -> AwsError {
    AwsError::new(
        404,
        "ResourceNotFoundException",
        format!("Alarm {name} not found"),
    )
}

pub(super) fn bad_token() -> AwsError {
    AwsError::new(
        400,
        "InvalidNextToken",
        "The service couldn't process the NextToken.",
    )
}

pub(super) fn enum_error(member: &str, value: &str, set: &[&str]) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        set.join(", ")
    ))
}

/// Input errors from the protocol layer use the query code `ValidationError`.
pub(super) fn q<T>(r: Result<T, AwsError>) -> Result<T, AwsError> {
    r.map_err(|e| {
        if e.code == "ValidationException" {
            e.with_code("ValidationError")
        } else {
            e
        }
    })
}
