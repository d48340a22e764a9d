//! awsQuery: form-encoded `Action=…&Version=…` requests, XML `<OpResponse><OpResult>` answers
//! and `<ErrorResponse>` errors.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::input::FormStyle;
use super::xml::{self, ListItems};
use super::{AwsError, Decoded, Encoded, Input, Value};

/// Parse a form body (and the URL's query string, which GET requests use) into parameters.
pub fn form_params(query: Option<&str>, body: &Bytes) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    if let Some(q) = query {
        params.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    params.extend(form_urlencoded::parse(body).into_owned());
    params
}

pub fn decode_with(
    query: Option<&str>,
    body: &Bytes,
    style: FormStyle,
) -> Result<Decoded, AwsError> {
    let params = form_params(query, body);
    let operation = params
        .get("Action")
        .cloned()
        .ok_or_else(|| AwsError::new(400, "MissingAction", "Missing Action"))?;
    Ok(Decoded {
        operation,
        input: Input::form(params, style),
    })
}

pub fn decode(query: Option<&str>, body: &Bytes) -> Result<Decoded, AwsError> {
    decode_with(query, body, FormStyle::Query)
}

pub fn encode_ok(xmlns: &str, operation: &str, v: &Value, request_id: &str) -> Encoded {
    let mut out = String::with_capacity(256);
    out.push_str(&format!("<{operation}Response xmlns=\"{xmlns}\">"));
    // An operation with an output shape answers `<OpResult>` even when the shape has no
    // members (SNS TagResource): botocore fails without it. `Value::Null`: no output shape.
    if matches!(v, Value::Struct(_)) {
        xml::element(
            &mut out,
            &format!("{operation}Result"),
            v,
            ListItems::Member,
        );
    }
    out.push_str("<ResponseMetadata><RequestId>");
    xml::text(&mut out, request_id);
    out.push_str(&format!(
        "</RequestId></ResponseMetadata></{operation}Response>"
    ));
    Encoded::new(200, "text/xml", out)
}

pub fn encode_err(err: &AwsError, request_id: &str) -> Encoded {
    let fault = match err.fault {
        super::Fault::Sender => "Sender",
        super::Fault::Receiver => "Receiver",
    };
    let head = format!("<ErrorResponse><Error><Type>{fault}</Type>");
    let out = xml::error_document(
        err,
        request_id,
        (&head, "</Error>", "RequestId", "</ErrorResponse>"),
    );
    Encoded::new(err.status, "text/xml", out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_shapes() {
        let d = decode(
            None,
            &Bytes::from_static(b"Action=GetCallerIdentity&Version=2011-06-15"),
        )
        .unwrap();
        assert_eq!(d.operation, "GetCallerIdentity");
        assert_eq!(
            decode(None, &Bytes::from_static(b"Version=1"))
                .unwrap_err()
                .code,
            "MissingAction"
        );
        let e = encode_ok(
            "https://sts.amazonaws.com/doc/2011-06-15/",
            "GetCallerIdentity",
            &Value::obj().with("Account", "1"),
            "r1",
        );
        let s = String::from_utf8(e.body.to_vec()).unwrap();
        assert!(
            s.contains("<GetCallerIdentityResult><Account>1</Account></GetCallerIdentityResult>"),
            "{s}"
        );
        let s = String::from_utf8(
            encode_ok("x", "TagResource", &Value::obj(), "r1")
                .body
                .to_vec(),
        )
        .unwrap();
        assert!(
            s.contains("<TagResourceResult></TagResourceResult>")
                || s.contains("<TagResourceResult/>"),
            "{s}"
        );
        let s = String::from_utf8(
            encode_ok("x", "SetTopicAttributes", &Value::Null, "r1")
                .body
                .to_vec(),
        )
        .unwrap();
        assert!(!s.contains("SetTopicAttributesResult"), "{s}");
        let e = encode_err(
            &AwsError::new(403, "InvalidClientTokenId", "bad <token>"),
            "r2",
        );
        let s = String::from_utf8(e.body.to_vec()).unwrap();
        assert!(
            s.contains("<Code>InvalidClientTokenId</Code><Message>bad &lt;token&gt;</Message>"),
            "{s}"
        );
        assert_eq!(e.status, 403);
    }
}
