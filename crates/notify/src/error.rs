//! The error of every operation in this crate.

use kms_workshop_aws_errors::{AwsFailure, ErrorClass};

/// Why an SNS, EventBridge or trail operation of this crate failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NotifyError {
    /// AWS answered with an error (or did not answer); code, message and request id kept.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// A value is longer than allowed (checked before calling AWS).
    #[error("{field} is {actual} characters long; at most {limit} are allowed ({why})")]
    TooLong {
        field: &'static str,
        limit: usize,
        actual: usize,
        why: &'static str,
    },
    /// A value is malformed (checked before calling AWS).
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// An event pattern that EventBridge would refuse, with EventBridge's reason.
    #[error("the event pattern is invalid: {0}")]
    Pattern(String),
    /// The topic's current access policy is not a JSON policy document.
    #[error("the access policy of {topic_arn} cannot be read: {reason}")]
    Policy { topic_arn: String, reason: String },
    /// `PutTargets` answered, but refused the target.
    #[error("PutTargets refused target {target_id}: {code}: {message}")]
    TargetRejected {
        target_id: String,
        code: String,
        message: String,
    },
    /// A successful answer lacked a member this crate needs.
    #[error("{operation} answered without {member}")]
    IncompleteAnswer {
        operation: &'static str,
        member: &'static str,
    },
}

impl NotifyError {
    pub fn aws(&self) -> Option<&AwsFailure> {
        match self {
            NotifyError::Aws(f) => Some(f),
            _ => None,
        }
    }

    /// The field a validation error is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            NotifyError::TooLong { field, .. } | NotifyError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Credentials, permissions, throttling, network or a failing service.
    pub fn is_infrastructure(&self) -> bool {
        self.aws().is_some_and(|f| f.class.is_infrastructure())
    }

    /// The topic, rule, subscription or trail is not there (yet).
    pub fn is_not_found(&self) -> bool {
        self.aws().is_some_and(|f| f.class == ErrorClass::NotFound)
    }
}
