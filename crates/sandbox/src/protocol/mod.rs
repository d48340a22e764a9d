//! The wire-protocol layer: one module per AWS protocol, all sharing the same request
//! ([`Input`]), response ([`Value`]) and error ([`AwsError`]) model, so a service module is
//! written once and answers in whatever protocol its clients speak.

pub mod cbor;
pub mod chunked;
pub mod ec2;
pub mod error;
pub mod input;
pub mod json;
pub mod query;
pub mod restxml;
pub mod value;
mod xml;

pub use error::{AwsError, Fault};
pub use input::Input;
pub use value::Value;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// The wire protocols the sandbox speaks (see docs/ARCHITECTURE.md, "A request's path").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.1` with `X-Amz-Target` (KMS, CloudTrail, EventBridge).
    AwsJson11,
    /// `application/x-amz-json-1.0` with `X-Amz-Target`; `query_compatible` services (CloudWatch)
    /// also send `x-amzn-query-error`.
    AwsJson10 { query_compatible: bool },
    /// Form-encoded `Action=…` with XML answers (STS, SNS, IAM, CloudFormation, CloudWatch).
    AwsQuery,
    /// The EC2 dialect of the query protocol.
    Ec2Query,
    /// Smithy RPC v2 with CBOR bodies (CloudWatch from the Rust SDK).
    RpcV2Cbor,
    /// REST with XML bodies (S3, path-style).
    RestXml,
}

/// `x-amzn-RequestId`, on every answer (HTTP/1 names are sent lowercase).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
/// `x-amzn-ErrorType`, the error code of a JSON protocol's error.
pub const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
/// `x-amzn-query-error`, an awsQueryCompatible service's query error code.
pub const QUERY_ERROR: HeaderName = HeaderName::from_static("x-amzn-query-error");
/// `smithy-protocol`, naming the RPC v2 CBOR protocol of its answers.
pub const SMITHY_PROTOCOL: HeaderName = HeaderName::from_static("smithy-protocol");

/// A fully encoded HTTP answer.
#[derive(Debug)]
pub struct Encoded {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Encoded {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        Encoded {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            headers,
            body: body.into(),
        }
    }

    /// `name` is a constant ([`REQUEST_ID`]…): spelled out as a string, each answer parsed it
    /// again.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

/// What a decoded request carries besides its input.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub operation: String,
    pub input: Input,
}

impl Protocol {
    /// Encode a successful result of `operation`.
    pub fn encode_ok(
        self,
        service_xmlns: &str,
        operation: &str,
        value: &Value,
        request_id: &str,
    ) -> Encoded {
        let enc = match self {
            Protocol::AwsJson11 => json::encode_ok(value, "application/x-amz-json-1.1"),
            Protocol::AwsJson10 { .. } => json::encode_ok(value, "application/x-amz-json-1.0"),
            Protocol::AwsQuery => query::encode_ok(service_xmlns, operation, value, request_id),
            Protocol::Ec2Query => ec2::encode_ok(service_xmlns, operation, value, request_id),
            Protocol::RpcV2Cbor => cbor::encode_ok(value),
            Protocol::RestXml => restxml::encode_ok(operation, value),
        };
        enc.with_header(REQUEST_ID, request_id)
    }

    /// Encode an error in the shape this protocol's clients parse.
    pub fn encode_err(self, err: &AwsError, request_id: &str) -> Encoded {
        let enc = match self {
            Protocol::AwsJson11 => json::encode_err(err, "application/x-amz-json-1.1", false),
            Protocol::AwsJson10 { query_compatible } => {
                json::encode_err(err, "application/x-amz-json-1.0", query_compatible)
            }
            Protocol::AwsQuery => query::encode_err(err, request_id),
            Protocol::Ec2Query => ec2::encode_err(err, request_id),
            Protocol::RpcV2Cbor => cbor::encode_err(err),
            Protocol::RestXml => restxml::encode_err(err, request_id),
        };
        enc.with_header(REQUEST_ID, request_id)
    }

    /// The code an unknown operation gets in this protocol.
    pub fn unknown_operation(self, operation: &str) -> AwsError {
        match self {
            Protocol::AwsJson11 | Protocol::AwsJson10 { .. } | Protocol::RpcV2Cbor => {
                AwsError::new(
                    400,
                    "UnknownOperationException",
                    format!("Operation {operation} is not supported."),
                )
            }
            Protocol::AwsQuery => AwsError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {operation} for version"),
            ),
            Protocol::Ec2Query => AwsError::new(
                400,
                "InvalidAction",
                format!("The action {operation} is not valid for this web service."),
            ),
            Protocol::RestXml => AwsError::new(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ),
        }
    }
}
