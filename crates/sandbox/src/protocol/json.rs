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
        v => {
            // Room for a typical answer from the start, rather than growing to it.
            let mut out = Vec::with_capacity(512);
            match serde_json::to_writer(&mut out, &AsJson(v)) {
                Ok(()) => out,
                Err(_) => b"{}".to_vec(),
            }
        }
    };
    Encoded::new(200, content_type, body)
}

/// A value written as JSON straight from its members, the same text as
/// `serde_json::to_vec(&v.to_json())` without building the JSON value first (whose map and
/// strings were a third of an answer's encoding). A member named twice is written once, where
/// it first appears, with its last value, as the JSON value's map keeps it.
struct AsJson<'a>(&'a Value);

/// Members beyond which the last of each name is found through a map instead of by looking
/// along the list.
const LOOK_ALONG: usize = 32;

impl serde::Serialize for AsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::List(items) | Value::NamedList(_, items) | Value::FlatList(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&AsJson(item))?;
                }
                seq.end()
            }
            Value::Struct(fields) | Value::Map(fields) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in last_of_each(fields) {
                    map.serialize_entry(k, &AsJson(v))?;
                }
                map.end()
            }
            Value::Str(text) => s.serialize_str(text),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            // Blobs, times and non-finite numbers as `to_json` writes them.
            other => other.to_json().serialize(s),
        }
    }
}

/// Each member name once, at its first place, with its last value.
fn last_of_each(fields: &[(String, Value)]) -> Vec<(&str, &Value)> {
    let mut out: Vec<(&str, &Value)> = Vec::with_capacity(fields.len());
    if fields.len() <= LOOK_ALONG {
        for (k, v) in fields {
            match out.iter_mut().find(|(seen, _)| *seen == k.as_str()) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
    } else {
        let mut at: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(fields.len());
        for (k, v) in fields {
            match at.get(k.as_str()) {
                Some(&i) => out[i].1 = v,
                None => {
                    at.insert(k, out.len());
                    out.push((k, v));
                }
            }
        }
    }
    out
}

pub fn encode_err(err: &AwsError, content_type: &'static str, query_compatible: bool) -> Encoded {
    let body = serde_json::json!({ "__type": err.code, "message": err.message });
    let mut enc = Encoded::new(err.status, content_type, body.to_string())
        .with_header(super::ERROR_TYPE, &err.code);
    if query_compatible {
        enc = enc.with_header(super::QUERY_ERROR, &query_error_header(err));
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

    /// The answer written straight from the value is the text of the value made JSON first:
    /// every kind of member, a name given twice (short and long structures), an odd number.
    #[test]
    fn an_answer_is_written_as_its_json_value_would_be() {
        let time =
            time::OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_789).unwrap();
        let many: Vec<(String, Value)> = (0..40)
            .map(|i| (format!("k{}", i % 7), Value::Int(i)))
            .collect();
        let v = Value::obj()
            .with("KeyId", "arn:aws:kms:us-east-1:111122223333:key/\"k\"")
            .with("CiphertextBlob", Value::Blob(vec![0, 1, 2, 250]))
            .with("Enabled", true)
            .with("Count", 3i64)
            .with("Ratio", 0.5)
            .with("Odd", f64::NAN)
            .with("CreationDate", time)
            .with("Nothing", Value::Null)
            .with("Enabled", false)
            .with("Tags", Value::Map(many))
            .with(
                "Keys",
                Value::List(vec![
                    Value::obj().with("a", 1i64).with("a", 2i64),
                    "x".into(),
                    Value::Null,
                ]),
            );
        let direct = serde_json::to_vec(&AsJson(&v)).unwrap();
        let through = serde_json::to_vec(&v.to_json()).unwrap();
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(through).unwrap()
        );
    }
}
