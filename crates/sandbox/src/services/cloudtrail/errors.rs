//! CloudTrail's errors, with the codes and messages CloudTrail answers.

use crate::protocol::AwsError;
use crate::services::Call;

pub fn trail_not_found(cx: &Call<'_>, name: &str) -> AwsError {
    let arn = if name.starts_with("arn:") {
        name.to_string()
    } else {
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/{name}",
            cx.region,
            cx.account()
        )
    };
    AwsError::new(
        400,
        "TrailNotFoundException",
        format!("Unknown trail: {arn} for the user: {}", cx.account()),
    )
}

pub fn invalid_trail_arn(raw: &str) -> AwsError {
    AwsError::new(
        400,
        "InvalidTrailNameException",
        format!("Invalid trail ARN {raw}"),
    )
}

pub fn invalid_lookup_attributes(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidLookupAttributesException", message)
}

pub fn invalid_event_selectors(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidEventSelectorsException", message)
}

pub fn invalid_next_token() -> AwsError {
    AwsError::new(
        400,
        "InvalidNextTokenException",
        "Invalid NextToken: it is malformed or was issued for a query with different parameters.",
    )
}
