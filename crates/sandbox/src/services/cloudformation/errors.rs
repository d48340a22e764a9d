//! CloudFormation's errors: almost all are `ValidationError`s with CloudFormation's wording.

use crate::protocol::AwsError;

pub fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

pub fn no_stack(name: &str) -> AwsError {
    validation(format!("Stack with id {name} does not exist"))
}

/// A required member the request lacks.
pub fn missing(member: &str) -> AwsError {
    AwsError::missing(member).with_code("ValidationError")
}
