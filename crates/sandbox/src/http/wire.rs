//! The AWS side's HTTP plumbing: reading a body within its limit, turning an encoded answer into
//! a response, and the errors a request meets before any service sees it (authentication,
//! content type), in the code and wording each protocol's services use.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::auth::AuthError;
use crate::protocol::{AwsError, Encoded, Protocol};

/// Read a request body of at most `limit` bytes. A body its `Content-Length` declares past the
/// limit by more than [`DRAIN_ALLOWANCE`] is refused before any of it is read. One past the
/// limit by less is read on and discarded (nothing kept), so that an ordinary client, which
/// writes the whole body before it reads, gets to read the 413 instead of a broken pipe;
/// past that the sandbox stops reading. Either way the answer closes the connection.
pub(super) async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ()> {
    use http_body_util::BodyExt;
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let cap = limit.saturating_add(DRAIN_ALLOWANCE);
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(());
    }
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(()) };
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen > cap {
                return Err(());
            }
            if seen <= limit {
                buf.extend_from_slice(&data);
            }
        }
    }
    if seen > limit {
        Err(())
    } else {
        Ok(buf.freeze())
    }
}

/// How much past its limit an oversize body is read (and discarded) so that the client can read
/// its 413.
const DRAIN_ALLOWANCE: usize = 16 * 1024 * 1024;

pub(super) fn respond(enc: Encoded) -> Response {
    let mut resp = Response::new(Body::from(enc.body));
    *resp.status_mut() = enc.status;
    *resp.headers_mut() = enc.headers;
    resp
}

/// The protocol a request looks like before we know its service (for early errors).
pub(super) fn guess_protocol(headers: &HeaderMap, path: &str) -> Protocol {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if headers.contains_key("smithy-protocol") || path.starts_with("/service/") {
        Protocol::RpcV2Cbor
    } else if ct.starts_with("application/x-amz-json-1.0") {
        Protocol::AwsJson10 {
            query_compatible: false,
        }
    } else if headers.contains_key("x-amz-target") || ct.starts_with("application/x-amz-json") {
        Protocol::AwsJson11
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Protocol::AwsQuery
    } else {
        Protocol::RestXml
    }
}

/// Temporary credentials past their expiry, in the code each protocol's services use.
pub(super) fn expired_token(protocol: Protocol) -> AwsError {
    let code = match protocol {
        Protocol::AwsJson11 | Protocol::RpcV2Cbor => "ExpiredTokenException",
        Protocol::AwsJson10 {
            query_compatible: false,
        } => "ExpiredTokenException",
        _ => "ExpiredToken",
    };
    AwsError::new(
        400,
        code,
        "The security token included in the request is expired",
    )
}

pub(super) fn auth_error(protocol: Protocol, e: &AuthError, unknown_key: bool) -> AwsError {
    let json = matches!(
        protocol,
        Protocol::AwsJson11
            | Protocol::AwsJson10 {
                query_compatible: false
            }
    );
    match (e, unknown_key) {
        (_, true) => match protocol {
            _ if json => AwsError::new(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            Protocol::Ec2Query => AwsError::new(
                401,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials",
            ),
            Protocol::RestXml => AwsError::new(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ),
            _ => AwsError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
        },
        (AuthError::Missing, _) => match protocol {
            _ if json => AwsError::new(
                400,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            Protocol::RestXml => AwsError::new(403, "AccessDenied", "Access Denied"),
            _ => AwsError::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
        },
        (AuthError::Malformed(m), _) => match protocol {
            _ if json => AwsError::new(400, "IncompleteSignatureException", m.clone()),
            Protocol::RestXml => AwsError::new(400, "AuthorizationHeaderMalformed", m.clone()),
            _ => AwsError::new(400, "IncompleteSignature", m.clone()),
        },
        (AuthError::Expired(m), _) => match protocol {
            Protocol::RestXml => AwsError::new(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            ),
            Protocol::Ec2Query => AwsError::new(400, "RequestExpired", "Request has expired."),
            _ if json => AwsError::new(400, "InvalidSignatureException", m.clone()),
            _ => AwsError::new(403, "SignatureDoesNotMatch", m.clone()),
        },
        (AuthError::UrlExpired, _) => AwsError::new(403, "AccessDenied", "Request has expired"),
        (AuthError::ContentSha256Mismatch, _) => {
            AwsError::new(400, "XAmzContentSHA256Mismatch", e.to_string())
        }
        (e, _) => match protocol {
            _ if json => AwsError::new(400, "InvalidSignatureException", e.to_string()),
            Protocol::Ec2Query => AwsError::new(401, "AuthFailure", e.to_string()),
            _ => AwsError::new(403, "SignatureDoesNotMatch", e.to_string()),
        },
    }
}

pub(super) fn content_type_ok(
    protocol: Protocol,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), AwsError> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = match protocol {
        Protocol::AwsJson11 | Protocol::AwsJson10 { .. } => {
            ct.starts_with("application/x-amz-json-1.")
        }
        Protocol::AwsQuery | Protocol::Ec2Query => {
            *method == Method::GET || ct.starts_with("application/x-www-form-urlencoded")
        }
        Protocol::RpcV2Cbor => ct.is_empty() || ct.starts_with("application/cbor"),
        Protocol::RestXml => true,
    };
    if ok {
        Ok(())
    } else {
        let expected = match protocol {
            Protocol::AwsJson11 => "application/x-amz-json-1.1",
            Protocol::AwsJson10 { .. } => "application/x-amz-json-1.0",
            Protocol::RpcV2Cbor => "application/cbor",
            _ => "application/x-www-form-urlencoded",
        };
        let shown = if ct.is_empty() { "(none)" } else { ct };
        Err(AwsError::new(
            415,
            "UnsupportedMediaTypeException",
            format!("Unsupported Content-Type {shown}; this operation expects {expected}"),
        ))
    }
}
