//! The error of every CloudTrail operation in this crate.

use std::time::Duration;

use kms_workshop_aws_errors::AwsFailure;

/// Why a CloudTrail operation of this crate failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrailError {
    /// AWS answered with an error (or did not answer); code, message and request id kept.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// An input was rejected before calling AWS.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// The event did not appear before the deadline. CloudTrail delivers in about 5 minutes
    /// on average, without a guarantee: waiting longer may still find it.
    #[error("no {event_name} event with {wanted} after {attempts} lookups over {waited:?}")]
    Timeout {
        /// The event waited for ("request id …", or what a predicate looked for).
        wanted: String,
        event_name: String,
        attempts: u32,
        waited: Duration,
    },
}

impl TrailError {
    pub fn aws(&self) -> Option<&AwsFailure> {
        match self {
            TrailError::Aws(f) => Some(f),
            _ => None,
        }
    }

    /// Credentials, permissions, throttling, network or a failing service.
    pub fn is_infrastructure(&self) -> bool {
        self.aws().is_some_and(|f| f.class.is_infrastructure())
    }

    /// The event is not there yet: the wait timed out.
    pub fn is_not_there_yet(&self) -> bool {
        matches!(self, TrailError::Timeout { .. })
    }
}
