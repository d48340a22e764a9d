//! The error of every CloudWatch operation in this crate.

use kms_workshop_aws_errors::{AwsFailure, ErrorClass};

/// Why a CloudWatch operation of this crate failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AlarmsError {
    /// AWS answered with an error (or did not answer); code, message and request id kept.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// An input was rejected before calling AWS.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// No alarm of that name exists (yet).
    #[error("no alarm named {0}")]
    NoSuchAlarm(String),
}

impl AlarmsError {
    pub fn aws(&self) -> Option<&AwsFailure> {
        match self {
            AlarmsError::Aws(f) => Some(f),
            _ => None,
        }
    }

    /// Credentials, permissions, throttling, network or a failing service.
    pub fn is_infrastructure(&self) -> bool {
        self.aws().is_some_and(|f| f.class.is_infrastructure())
    }

    /// The alarm is not there (yet).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AlarmsError::NoSuchAlarm(_))
            || self.aws().is_some_and(|f| f.class == ErrorClass::NotFound)
    }
}
