//! EC2's errors, spelled (code and message) as AWS spells them.

use crate::protocol::AwsError;

/// A client error (HTTP 400) with EC2's code.
pub(crate) fn err(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::new(400, code, message)
}

pub(crate) fn missing(name: &str) -> AwsError {
    err(
        "MissingParameter",
        format!("The request must contain the parameter {name}"),
    )
}

pub(crate) fn invalid_value(name: &str, value: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Value ({value}) for parameter {name} is invalid."),
    )
}

pub(crate) fn not_integer(name: &str, value: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Invalid value '{value}' for {name}. It must be an integer."),
    )
}

pub(crate) fn not_boolean(name: &str, value: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Invalid value '{value}' for {name}. It must be true or false."),
    )
}

/// What a request with `DryRun` set answers when it would have succeeded.
pub(crate) fn dry_run_ok() -> AwsError {
    AwsError::new(
        412,
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.",
    )
}

pub(crate) fn malformed(code: &str, id: &str, prefix: &str) -> AwsError {
    err(
        code,
        format!("Invalid id: \"{id}\" (expecting \"{prefix}-...\")"),
    )
}

pub(crate) fn instances_not_found(ids: &[&String]) -> AwsError {
    if ids.len() == 1 {
        err(
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{}' does not exist", ids[0]),
        )
    } else {
        let list: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
        err(
            "InvalidInstanceID.NotFound",
            format!("The instance IDs '{}' do not exist", list.join(", ")),
        )
    }
}

pub(crate) fn volume_not_found(id: &str) -> AwsError {
    err(
        "InvalidVolume.NotFound",
        format!("The volume '{id}' does not exist."),
    )
}

pub(crate) fn association_not_found(id: &str) -> AwsError {
    err(
        "InvalidAssociationID.NotFound",
        format!("An invalid association-id of '{id}' was given"),
    )
}

pub(crate) fn invalid_filter(name: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("The filter '{name}' is invalid"),
    )
}

pub(crate) fn max_results_too_small(n: i64, min: i64) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Value ( {n} ) for parameter maxResults is invalid. Expecting a value greater than {min}."),
    )
}

pub(crate) fn bad_page_token() -> AwsError {
    err(
        "InvalidPaginationToken",
        "The specified pagination token is not valid or is expired.",
    )
}

/// Ids and `MaxResults` together (`set`: `instancesSet`, `volumeSet`).
pub(crate) fn ids_with_max_results(set: &str) -> AwsError {
    err(
        "InvalidParameterCombination",
        format!("The parameter {set} cannot be used with the parameter maxResults"),
    )
}

pub(crate) fn invalid_instance_type(t: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Invalid value '{t}' for InstanceType."),
    )
}

/// The instance is not in a state that allows `what` ("stopped", "started", "modified").
pub(crate) fn cannot_be(id: &str, what: &str) -> AwsError {
    err(
        "IncorrectInstanceState",
        format!("The instance '{id}' is not in a state from which it can be {what}."),
    )
}

pub(crate) fn unknown_attribute(attribute: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Value ({attribute}) for parameter attribute is invalid. Unknown attribute."),
    )
}

pub(crate) fn unmodelled_attribute(attribute: &str) -> AwsError {
    err(
        "UnsupportedOperation",
        format!("The sandbox does not model the instance attribute '{attribute}'; it supports disableApiTermination, instanceType and instanceInitiatedShutdownBehavior."),
    )
}

pub(crate) fn empty_tag_key() -> AwsError {
    err("InvalidParameterValue", "Tag key cannot be null or empty.")
}
