//! The error of every KMS operation in this crate.

use kms_workshop_aws_errors::{AwsFailure, ErrorClass};

/// Why a KMS operation of this crate failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeysError {
    /// AWS answered with an error (or did not answer); code, message and request id kept.
    #[error(transparent)]
    Aws(AwsFailure),
    /// `Decrypt` refused the ciphertext (`InvalidCiphertextException`): it was not made under
    /// this encryption context, was made by another key, or is corrupt.
    #[error("the ciphertext does not decrypt with this encryption context or key: {0}")]
    InvalidCiphertext(AwsFailure),
    /// An input was rejected before calling AWS.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// A successful answer lacked a member this crate needs.
    #[error("{operation} answered without {member}")]
    IncompleteAnswer {
        operation: &'static str,
        member: &'static str,
    },
}

impl KeysError {
    /// Wrap an SDK failure of `operation`; `InvalidCiphertextException` gets its own variant.
    pub(crate) fn sdk<E>(operation: &str, err: aws_sdk_kms::error::SdkError<E>) -> Self
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let f = AwsFailure::from_sdk(operation, err);
        if f.code == "InvalidCiphertextException" {
            KeysError::InvalidCiphertext(f)
        } else {
            KeysError::Aws(f)
        }
    }

    /// The AWS failure behind this error, if AWS was called.
    pub fn aws(&self) -> Option<&AwsFailure> {
        match self {
            KeysError::Aws(f) | KeysError::InvalidCiphertext(f) => Some(f),
            _ => None,
        }
    }

    /// AWS's error code, if AWS answered.
    pub fn code(&self) -> Option<&str> {
        self.aws().map(|f| f.code.as_str())
    }

    /// Credentials, permissions, throttling, network or a failing service: nothing about the
    /// keys themselves is known from this error.
    pub fn is_infrastructure(&self) -> bool {
        self.aws().is_some_and(|f| f.class.is_infrastructure())
    }

    /// The key or alias does not exist (yet, or any more).
    pub fn is_not_found(&self) -> bool {
        self.aws().is_some_and(|f| f.class == ErrorClass::NotFound)
    }
}
