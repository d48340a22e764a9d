//! KMS's errors, with the codes and messages KMS answers.

use super::state::{Key, KeyState};
use crate::protocol::AwsError;

pub fn invalid_state(arn: &str, what: &str) -> AwsError {
    AwsError::new(400, "KMSInvalidStateException", format!("{arn} is {what}."))
}

pub fn pending_deletion(arn: &str) -> AwsError {
    invalid_state(arn, "pending deletion")
}

pub fn not_found_key(arn: &str) -> AwsError {
    AwsError::new(
        400,
        "NotFoundException",
        format!("Key '{arn}' does not exist"),
    )
}

pub fn alias_not_found(arn: &str) -> AwsError {
    AwsError::new(
        400,
        "NotFoundException",
        format!("Alias {arn} is not found."),
    )
}

pub fn unsupported(message: String) -> AwsError {
    AwsError::new(400, "UnsupportedOperationException", message)
}

/// An operation that only keys with imported material (origin `EXTERNAL`) take.
pub fn not_external(k: &Key) -> AwsError {
    unsupported(format!(
        "{} origin is {} which is not valid for this operation.",
        k.arn,
        k.origin.as_str()
    ))
}

pub fn malformed_policy() -> AwsError {
    AwsError::new(
        400,
        "MalformedPolicyDocumentException",
        "The new key policy is not valid JSON.",
    )
}

pub fn invalid_marker() -> AwsError {
    AwsError::new(400, "InvalidMarkerException", "Invalid marker")
}

pub fn invalid_ciphertext(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidCiphertextException", message)
}

pub fn tag_error(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "TagException", message)
}

pub fn incorrect_material(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "IncorrectKeyMaterialException", message)
}

/// Why a key cannot encrypt or decrypt now (`None`: it can).
pub fn not_usable(k: &Key, now: time::OffsetDateTime) -> Option<AwsError> {
    match k.state(now) {
        KeyState::Enabled => None,
        KeyState::Disabled => Some(AwsError::new(
            400,
            "DisabledException",
            format!("{} is disabled.", k.arn),
        )),
        KeyState::PendingDeletion => Some(pending_deletion(&k.arn)),
        KeyState::PendingImport => Some(invalid_state(&k.arn, "pending import")),
    }
}

/// A length or range constraint in KMS's validation wording.
pub fn out_of_range(member: &str, value: i64, lo: i64, hi: i64) -> AwsError {
    AwsError::bad_value(
        member,
        &value.to_string(),
        &format!("Member must have value between {lo} and {hi}"),
    )
}
