//! The one error type every service returns; each protocol encodes it its own way.

use std::fmt;

/// Whether AWS blames the caller or itself (the query protocols print it as `<Type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// An AWS error: HTTP status, the error code clients switch on, and the message people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fault: Fault,
}

impl AwsError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        let fault = if status >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        };
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
            fault,
        }
    }

    /// 400 `ValidationException`: the name most services use for a malformed member.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message)
    }

    /// The Coral-style message AWS gives for a member that is missing.
    pub fn missing(member: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(member)
        ))
    }

    /// The Coral-style message for a member outside its allowed values.
    pub fn bad_value(member: &str, value: &str, constraint: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {constraint}",
            lower_first(member)
        ))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalFailure", message)
    }

    /// Replace the code, keeping status and message (services that spell a generic error
    /// their own way, e.g. query services use `ValidationError`).
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = code.to_string();
        self
    }
}

/// `s` with its first letter lower-cased (Coral's member names in paths).
pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    let mut out = String::with_capacity(s.len());
    if let Some(f) = c.next() {
        out.extend(f.to_lowercase());
        out.push_str(c.as_str());
    }
    out
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}
