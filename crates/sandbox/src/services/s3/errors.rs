//! S3's errors, with the status codes and messages S3 answers them with.

use crate::protocol::AwsError;

pub(super) fn err(status: u16, code: &str, msg: &str) -> AwsError {
    AwsError::new(status, code, msg)
}

pub(super) fn no_such_bucket() -> AwsError {
    err(404, "NoSuchBucket", "The specified bucket does not exist")
}

pub(super) fn no_such_key() -> AwsError {
    err(404, "NoSuchKey", "The specified key does not exist.")
}

pub(super) fn access_denied() -> AwsError {
    err(403, "AccessDenied", "Access Denied")
}

pub(super) fn malformed_xml() -> AwsError {
    err(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

pub(super) fn malformed_policy(msg: &str) -> AwsError {
    err(400, "MalformedPolicy", msg)
}

pub(super) fn not_implemented() -> AwsError {
    err(
        501,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
    )
}

pub(super) fn invalid_argument(msg: &str) -> AwsError {
    err(400, "InvalidArgument", msg)
}

pub(super) fn incomplete_body(msg: &str) -> AwsError {
    err(400, "IncompleteBody", msg)
}

pub(super) fn bad_digest(msg: &str) -> AwsError {
    err(400, "BadDigest", msg)
}

pub(super) fn illegal_location_constraint(msg: &str) -> AwsError {
    err(400, "IllegalLocationConstraintException", msg)
}
