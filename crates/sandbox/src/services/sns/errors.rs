//! SNS's errors, with the codes and messages SNS answers them with.

use crate::protocol::AwsError;

/// A topic or subscription that does not exist (`what`: `Topic`, `Subscription`).
pub(crate) fn not_found(what: &str) -> AwsError {
    AwsError::new(404, "NotFound", format!("{what} does not exist"))
}

pub(crate) fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::new(
        400,
        "InvalidParameter",
        format!("Invalid parameter: {}", msg.into()),
    )
}

/// A required parameter left out.
pub(super) fn missing(name: &str) -> AwsError {
    AwsError::missing(name).with_code("InvalidParameter")
}

/// The tagging operations' answer for a resource that does not exist.
pub(super) fn resource_not_found() -> AwsError {
    AwsError::new(404, "ResourceNotFound", "Resource does not exist")
}
