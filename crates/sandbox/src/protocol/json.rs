//! awsJson1.0 / awsJson1.1: `POST /`, `X-Amz-Target: Prefix.Operation`, JSON bodies.

use bytes::Bytes;
use http::HeaderMap;

use super::{AwsError, Decoded, Encoded, Input, Value};

/// Decode the operation (from `X-Amz-Target`) and the JSON body.
pub fn decode(headers: &HeaderMap, body: &Bytes) -> Result<Decoded, AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AwsError::new(
                400,
                "UnknownOperationException",
                "The X-Amz-Target header is missing: it names the operation.",
            )
        })?;
    let operation = target.rsplit('.').next().unwrap_or(target).to_string();
    let input = parse_body(body)?;
    Ok(Decoded {
        operation,
        input: Input::Json(input),
    })
}

pub fn parse_body(body: &Bytes) -> Result<serde_json::Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(AwsError::new(
            400,
            "SerializationException",
            "Start of structure or map found where not expected.",
        )),
        Err(e) => Err(AwsError::new(
            400,
            "SerializationException",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

pub fn encode_ok(v: &Value, content_type: &'static str) -> Encoded {
    let body = match v {
        Value::Null => b"{}".to_vec(),
        v => serde_json::to_vec(&v.to_json()).unwrap_or_else(|_| b"{}".to_vec()),
    };
    Encoded::new(200, content_type, body)
}

pub fn encode_err(err: &AwsError, content_type: &'static str, query_compatible: bool) -> Encoded {
    let body = serde_json::json!({ "__type": err.code, "message": err.message });
    let mut enc = Encoded::new(err.status, content_type, body.to_string())
        .with_header("x-amzn-ErrorType", &err.code);
    if query_compatible {
        enc = enc.with_header("x-amzn-query-error", &query_error_header(err));
    }
    enc
}

/// `Code;Sender` — how awsQueryCompatible services pass the query error code to JSON/CBOR clients.
pub fn query_error_header(err: &AwsError) -> String {
    let fault = match err.fault {
        super::Fault::Sender => "Sender",
        super::Fault::Receiver => "Receiver",
    };
    format!("{};{}", err.code, fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_target_and_body() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-target",
            "TrentService.GenerateDataKey".parse().unwrap(),
        );
        let d = decode(&h, &Bytes::from_static(br#"{"KeyId":"alias/x"}"#)).unwrap();
        assert_eq!(d.operation, "GenerateDataKey");
        assert_eq!(d.input.str("KeyId").unwrap().as_deref(), Some("alias/x"));
        assert_eq!(
            decode(&h, &Bytes::from_static(b"[1]")).unwrap_err().code,
            "SerializationException"
        );
        assert_eq!(
            decode(&h, &Bytes::from_static(b"{")).unwrap_err().code,
            "SerializationException"
        );
        assert_eq!(
            decode(&HeaderMap::new(), &Bytes::new()).unwrap_err().code,
            "UnknownOperationException"
        );
    }

    #[test]
    fn error_shape() {
        let e = encode_err(
            &AwsError::new(400, "NotFoundException", "nope"),
            "application/x-amz-json-1.1",
            true,
        );
        let v: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(v["__type"], "NotFoundException");
        assert_eq!(e.headers["x-amzn-query-error"], "NotFoundException;Sender");
    }
}
