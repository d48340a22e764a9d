//! One description of a failed AWS call, shared by the kms-workshop domain crates (`keys`,
//! `trail`, `notify`, `alarms`, `cleanup`).
//!
//! Every SDK client returns its own `SdkError<OperationError, HttpResponse>`; callers of the
//! domain crates need the same three things from all of them: AWS's error code and message as
//! AWS sent them (to show a person), the request id (to quote to AWS support or find the call in
//! CloudTrail), and a [`ErrorClass`] that says what to do about it: retry (throttling, 5xx,
//! network), stop and fix credentials or permissions, or treat "not found" as already done.
//! [`AwsFailure::from_sdk`] builds that once for every client.

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure a call met, as far as a caller needs to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// No credentials, unknown or expired keys, bad signatures: fix the credentials.
    Credentials,
    /// The identity is known but not allowed: permanent, never retried.
    AccessDenied,
    /// Request rate exceeded: retry with backoff and jitter.
    Throttling,
    /// The service failed (5xx, InternalError, ServiceUnavailable): retry.
    Transient,
    /// The request never got an answer (connection refused, timeout, broken response).
    Network,
    /// The resource does not exist (for a deletion: already done).
    NotFound,
    /// The resource is in use or in the wrong state (DeleteConflict, DependencyViolation,
    /// BucketNotEmpty, …): may succeed later.
    Conflict,
    /// The request itself is wrong (validation): retrying cannot help.
    InvalidInput,
    /// Any other error the service answered with.
    Service,
}

impl ErrorClass {
    /// Whether repeating the same request later may succeed without anything else changing.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::Throttling | ErrorClass::Transient | ErrorClass::Network
        )
    }

    /// Whether the failure lies outside the request (credentials, permissions, throttling,
    /// network, the service itself) rather than in the state of the resources it names.
    pub fn is_infrastructure(self) -> bool {
        matches!(
            self,
            ErrorClass::Credentials
                | ErrorClass::AccessDenied
                | ErrorClass::Throttling
                | ErrorClass::Transient
                | ErrorClass::Network
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Credentials => "credentials",
            ErrorClass::AccessDenied => "access denied",
            ErrorClass::Throttling => "throttling",
            ErrorClass::Transient => "service error",
            ErrorClass::Network => "network",
            ErrorClass::NotFound => "not found",
            ErrorClass::Conflict => "conflict",
            ErrorClass::InvalidInput => "invalid input",
            ErrorClass::Service => "service",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed AWS call: the operation, AWS's code and message, the request id and the class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {code}: {message}{}", request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
pub struct AwsFailure {
    /// The API operation, e.g. `GenerateDataKey`.
    pub operation: String,
    /// AWS's error code (`NotFoundException`, `DeleteConflict`, …); for failures without an
    /// answer, a description of the kind (`DispatchFailure`, `TimeoutError`, …).
    pub code: String,
    /// AWS's message, or the client's description when there was no answer.
    pub message: String,
    pub request_id: Option<String>,
    /// HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    pub class: ErrorClass,
}

impl AwsFailure {
    /// Describe a failed SDK call of `operation`.
    pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        match &err {
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                let meta = ctx.err().meta();
                let code = meta.code().unwrap_or("Unknown").to_string();
                let message = meta
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| ctx.err().to_string());
                let request_id = meta
                    .extra("aws_request_id")
                    .map(str::to_string)
                    .or_else(|| header(ctx.raw(), "x-amzn-requestid"))
                    .or_else(|| header(ctx.raw(), "x-amz-request-id"));
                let class = classify(&code, Some(status));
                AwsFailure {
                    operation: operation.to_string(),
                    code,
                    message,
                    request_id,
                    status: Some(status),
                    class,
                }
            }
            SdkError::ResponseError(ctx) => {
                let status = ctx.raw().status().as_u16();
                AwsFailure {
                    operation: operation.to_string(),
                    code: "ResponseError".into(),
                    message: chain(&err),
                    request_id: header(ctx.raw(), "x-amzn-requestid"),
                    status: Some(status),
                    class: if status >= 500 {
                        ErrorClass::Transient
                    } else {
                        ErrorClass::Network
                    },
                }
            }
            SdkError::TimeoutError(_) => Self::unanswered(operation, "TimeoutError", &err),
            SdkError::DispatchFailure(_) => Self::unanswered(operation, "DispatchFailure", &err),
            SdkError::ConstructionFailure(_) => {
                Self::unanswered(operation, "ConstructionFailure", &err)
            }
            _ => Self::unanswered(operation, "SdkError", &err),
        }
    }

    fn unanswered(operation: &str, code: &str, err: &dyn StdError) -> Self {
        let message = chain(err);
        // The SDK resolves credentials while it builds the request; a missing or broken chain
        // surfaces here, without an answer from AWS.
        let class = if message.to_ascii_lowercase().contains("credential") {
            ErrorClass::Credentials
        } else if code == "ConstructionFailure" {
            ErrorClass::InvalidInput
        } else {
            ErrorClass::Network
        };
        AwsFailure {
            operation: operation.to_string(),
            code: code.to_string(),
            message,
            request_id: None,
            status: None,
            class,
        }
    }

    /// A failure built by hand (tests, and checks a crate makes before calling AWS).
    pub fn new(operation: &str, code: &str, message: &str, class: ErrorClass) -> Self {
        AwsFailure {
            operation: operation.to_string(),
            code: code.to_string(),
            message: message.to_string(),
            request_id: None,
            status: None,
            class,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.class == ErrorClass::NotFound
    }

    pub fn is_retryable(&self) -> bool {
        self.class.is_retryable()
    }
}

fn header(resp: &HttpResponse, name: &str) -> Option<String> {
    resp.headers().get(name).map(str::to_string)
}

/// The error and its sources, joined: the SDK's top-level messages ("dispatch failure") say
/// little; the cause ("Connection refused") is in the chain.
fn chain(err: &dyn StdError) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

// AWS's error codes by class, as the services spell them (several services spell one idea
// differently: `AccessDenied`, `AccessDeniedException`, `UnauthorizedOperation`).
const CREDENTIALS: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "AuthFailure",
    "InvalidToken",
];
const ACCESS: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
    "NotAuthorizedForSourceException",
];
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
    "Throttled",
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceededException",
];
const TRANSIENT: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalFailureException",
    "InternalServerError",
    "InternalException",
    "KMSInternalException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
    "InternalServiceError",
    "DependencyTimeoutException",
];
const NOT_FOUND: &[&str] = &[
    "NoSuchEntity",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "TrailNotFoundException",
    "InvalidInstanceID.NotFound",
    "InvalidVolume.NotFound",
    "InvalidAssociationID.NotFound",
    "ResourceNotFound",
];
const CONFLICT: &[&str] = &[
    "DeleteConflict",
    "DependencyViolation",
    "BucketNotEmpty",
    "ConcurrentModificationException",
    "ConcurrentModification",
    "ConflictException",
    "VolumeInUse",
    "IncorrectState",
    "IncorrectInstanceState",
    "InvalidVolume.ZoneMismatch",
    "OperationAbortedException",
    "OperationAborted",
    "KMSInvalidStateException",
    "DisabledException",
    "ResourceInUseException",
    "InvalidStateException",
    "TokenAlreadyExistsException",
];
const INPUT: &[&str] = &[
    "ValidationError",
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterException",
    "InvalidParameter",
    "InvalidParameterCombination",
    "MissingParameter",
    "MalformedInput",
    "MalformedPolicyDocument",
    "MalformedPolicyDocumentException",
    "InvalidKeyUsageException",
    "InvalidCiphertextException",
    "InvalidEventPatternException",
    "InvalidLookupAttributesException",
    "InvalidTimeRangeException",
    "InvalidNextTokenException",
    "InvalidMaxResultsException",
    "InvalidArnException",
    "InvalidAliasNameException",
    "InvalidInput",
    "InvalidRequest",
    "InvalidAction",
    "UnknownOperationException",
    "InvalidBucketName",
    "SerializationException",
];

/// The class of an AWS error code (and HTTP status, for codes this table does not know).
pub fn classify(code: &str, status: Option<u16>) -> ErrorClass {
    let in_ = |list: &[&str]| list.contains(&code);
    if in_(CREDENTIALS) {
        ErrorClass::Credentials
    } else if in_(ACCESS) {
        ErrorClass::AccessDenied
    } else if in_(THROTTLING) {
        ErrorClass::Throttling
    } else if in_(TRANSIENT) {
        ErrorClass::Transient
    } else if in_(NOT_FOUND)
        || (code.starts_with("Invalid") && code.ends_with(".NotFound"))
        || code.ends_with("NotFoundException")
        || code.starts_with("NoSuch")
    {
        ErrorClass::NotFound
    } else if in_(CONFLICT) {
        ErrorClass::Conflict
    } else if in_(INPUT) || (code.starts_with("Invalid") && code.ends_with(".Malformed")) {
        ErrorClass::InvalidInput
    } else {
        match status {
            Some(429) => ErrorClass::Throttling,
            Some(s) if s >= 500 => ErrorClass::Transient,
            Some(404) => ErrorClass::NotFound,
            Some(403) => ErrorClass::AccessDenied,
            Some(409) => ErrorClass::Conflict,
            _ => ErrorClass::Service,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(
            classify("ThrottlingException", Some(400)),
            ErrorClass::Throttling
        );
        assert_eq!(
            classify("InvalidInstanceID.NotFound", Some(400)),
            ErrorClass::NotFound
        );
        assert_eq!(classify("NoSuchEntity", Some(404)), ErrorClass::NotFound);
        assert_eq!(classify("DeleteConflict", Some(409)), ErrorClass::Conflict);
        assert_eq!(
            classify("UnrecognizedClientException", Some(400)),
            ErrorClass::Credentials
        );
        assert_eq!(
            classify("AccessDeniedException", Some(400)),
            ErrorClass::AccessDenied
        );
        assert_eq!(classify("Whatever", Some(503)), ErrorClass::Transient);
        assert_eq!(classify("Whatever", Some(400)), ErrorClass::Service);
        assert!(ErrorClass::Throttling.is_retryable());
        assert!(!ErrorClass::AccessDenied.is_retryable());
        assert!(ErrorClass::Credentials.is_infrastructure());
        assert!(!ErrorClass::NotFound.is_infrastructure());
    }

    #[test]
    fn display_names_operation_code_and_request() {
        let mut f = AwsFailure::new(
            "DeleteRole",
            "DeleteConflict",
            "must detach",
            ErrorClass::Conflict,
        );
        assert_eq!(
            f.to_string(),
            "DeleteRole failed: DeleteConflict: must detach"
        );
        f.request_id = Some("abc".into());
        assert_eq!(
            f.to_string(),
            "DeleteRole failed: DeleteConflict: must detach (request id abc)"
        );
    }
}
