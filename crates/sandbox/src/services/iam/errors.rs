//! IAM's errors, with the statuses, codes and messages AWS gives (query clients switch on
//! `NoSuchEntity`, `EntityAlreadyExists`, `ValidationError`, …).

use crate::protocol::AwsError;

pub(super) fn no_such(msg: impl Into<String>) -> AwsError {
    AwsError::new(404, "NoSuchEntity", msg)
}

pub(super) fn already_exists(msg: impl Into<String>) -> AwsError {
    AwsError::new(409, "EntityAlreadyExists", msg)
}

pub(super) fn delete_conflict(msg: impl Into<String>) -> AwsError {
    AwsError::new(409, "DeleteConflict", msg)
}

pub(super) fn limit(msg: impl Into<String>) -> AwsError {
    AwsError::new(409, "LimitExceeded", msg)
}

pub(super) fn malformed(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "MalformedPolicyDocument", msg)
}

pub(super) fn invalid_input(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidInput", msg)
}

pub(super) fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

/// The Coral-style message IAM gives for a member that breaks its constraint.
pub(super) fn constraint(member: &str, value: &str, what: &str) -> AwsError {
    AwsError::bad_value(member, value, what).with_code("ValidationError")
}

/// A required member that is absent.
pub(super) fn missing(member: &str) -> AwsError {
    AwsError::missing(member).with_code("ValidationError")
}

/// A list member (`tags`, `tagKeys`) with more than IAM's 50 entries.
pub(super) fn over_fifty(member: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to 50"
    ))
}

/// A `Marker` this service did not hand out.
pub(super) fn bad_marker() -> AwsError {
    validation("Invalid Marker.")
}

pub(super) fn role_not_found(name: &str) -> AwsError {
    no_such(format!("The role with name {name} cannot be found."))
}

pub(super) fn user_not_found(name: &str) -> AwsError {
    no_such(format!("The user with name {name} cannot be found."))
}

pub(super) fn profile_not_found(name: &str) -> AwsError {
    no_such(format!("Instance Profile {name} cannot be found."))
}

pub(super) fn role_policy_not_found(name: &str) -> AwsError {
    no_such(format!("The role policy with name {name} cannot be found."))
}

pub(super) fn access_key_not_found(id: &str) -> AwsError {
    no_such(format!("The Access Key with id {id} cannot be found."))
}

pub(super) fn policy_not_found(arn: &str) -> AwsError {
    no_such(format!("Policy {arn} was not found."))
}

pub(super) fn not_attachable(arn: &str) -> AwsError {
    no_such(format!("Policy {arn} does not exist or is not attachable."))
}

pub(super) fn version_not_found(arn: &str, version: &str) -> AwsError {
    no_such(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

/// What AWS answers when anyone tries to change an AWS-managed policy.
pub(super) fn aws_managed_denied(caller_arn: &str, action: &str, arn: &str) -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        format!(
            "User: {caller_arn} is not authorized to perform: iam:{action} on resource: policy {arn} because no resource-based policy allows the iam:{action} action"
        ),
    )
}

/// IAM's `PoliciesPerRole`-style quota message.
pub(super) fn quota(what: &str, n: usize) -> AwsError {
    limit(format!("Cannot exceed quota for {what}: {n}"))
}

/// Deleting a role still in an instance profile, or a profile that still has its role.
pub(super) fn roles_in_profile() -> AwsError {
    delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
}
