//! Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Op>`, `smithy-protocol: rpc-v2-cbor`,
//! CBOR bodies. Requests are normalised to the JSON conventions [`Input`] uses (byte strings →
//! base64, tag-1 timestamps → epoch seconds); answers are encoded from [`Value`] natively.

use bytes::Bytes;
use ciborium::value::Value as C;

use super::{AwsError, Decoded, Encoded, Input, Value};

/// The operation from an RPC v2 path, e.g. `/service/GraniteServiceVersion20100801/operation/PutMetricAlarm`.
pub fn operation_from_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/service/")?;
    let (service, op) = rest.split_once("/operation/")?;
    (!service.is_empty() && !op.is_empty() && !op.contains('/')).then_some((service, op))
}

pub fn decode(path: &str, body: &Bytes) -> Result<Decoded, AwsError> {
    let (_, op) = operation_from_path(path).ok_or_else(|| {
        AwsError::new(
            404,
            "UnknownOperationException",
            format!("No operation at {path}"),
        )
    })?;
    let input = if body.is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        let v: C = ciborium::de::from_reader(body.as_ref()).map_err(|e| {
            AwsError::new(
                400,
                "SerializationException",
                format!("The request body is not valid CBOR: {e}"),
            )
        })?;
        match to_json(v) {
            j @ serde_json::Value::Object(_) => j,
            _ => {
                return Err(AwsError::new(
                    400,
                    "SerializationException",
                    "Expected a CBOR map as the request body.",
                ))
            }
        }
    };
    Ok(Decoded {
        operation: op.to_string(),
        input: Input::Json(input),
    })
}

fn to_json(v: C) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        C::Null => J::Null,
        C::Bool(b) => J::Bool(b),
        C::Integer(i) => {
            let i: i128 = i.into();
            i64::try_from(i)
                .map(J::from)
                .unwrap_or_else(|_| J::from(i as f64))
        }
        // Non-finite doubles as AWS's JSON protocols spell them ("NaN", "Infinity").
        C::Float(f) => serde_json::Number::from_f64(f)
            .map(J::Number)
            .unwrap_or_else(|| J::String(non_finite(f).into())),
        C::Text(s) => J::String(s),
        C::Bytes(b) => J::String(crate::util::b64(&b)),
        C::Tag(1, inner) => to_json(*inner),
        C::Tag(_, inner) => to_json(*inner),
        C::Array(a) => J::Array(a.into_iter().map(to_json).collect()),
        C::Map(m) => J::Object(
            m.into_iter()
                .filter_map(|(k, v)| match k {
                    C::Text(k) => Some((k, to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => J::Null,
    }
}

fn to_cbor(v: &Value) -> C {
    match v {
        Value::Null => C::Null,
        Value::Bool(b) => C::Bool(*b),
        Value::Int(i) => C::Integer((*i).into()),
        Value::Float(f) => C::Float(*f),
        Value::Str(s) => C::Text(s.clone()),
        Value::Blob(b) => C::Bytes(b.clone()),
        Value::Time(t) => C::Tag(1, Box::new(C::Float(t.unix_timestamp_nanos() as f64 / 1e9))),
        Value::List(l) | Value::NamedList(_, l) | Value::FlatList(l) => {
            C::Array(l.iter().map(to_cbor).collect())
        }
        Value::Struct(f) | Value::Map(f) => C::Map(
            f.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (C::Text(k.clone()), to_cbor(v)))
                .collect(),
        ),
    }
}

fn encode(status: u16, v: &C) -> Encoded {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(v, &mut buf);
    Encoded::new(status, "application/cbor", buf).with_header(super::SMITHY_PROTOCOL, "rpc-v2-cbor")
}

pub fn encode_ok(v: &Value) -> Encoded {
    let v = match v {
        Value::Null => C::Map(Vec::new()),
        v => to_cbor(v),
    };
    encode(200, &v)
}

pub fn encode_err(err: &AwsError) -> Encoded {
    let v = C::Map(vec![
        (C::Text("__type".into()), C::Text(err.code.clone())),
        (C::Text("message".into()), C::Text(err.message.clone())),
    ]);
    encode(err.status, &v).with_header(super::QUERY_ERROR, &super::json::query_error_header(err))
}

/// A non-finite double's name in AWS's JSON protocols.
fn non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_normalises_bytes_and_times() {
        let body = C::Map(vec![
            (C::Text("Name".into()), C::Text("a".into())),
            (C::Text("Blob".into()), C::Bytes(vec![1, 2, 3])),
            (
                C::Text("At".into()),
                C::Tag(1, Box::new(C::Float(1_700_000_000.5))),
            ),
        ]);
        let mut buf = Vec::new();
        ciborium::ser::into_writer(&body, &mut buf).unwrap();
        let d = decode(
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            &Bytes::from(buf),
        )
        .unwrap();
        assert_eq!(d.operation, "PutMetricData");
        assert_eq!(d.input.blob("Blob").unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(
            d.input.time("At").unwrap().unwrap().unix_timestamp(),
            1_700_000_000
        );
        assert!(decode(
            "/service/x/operation/Op",
            &Bytes::from_static(&[0xff, 0x00])
        )
        .is_err());
        assert!(decode("/nope", &Bytes::new()).is_err());
    }

    #[test]
    fn encode_roundtrip() {
        let enc = encode_ok(
            &Value::obj()
                .with("T", Value::Time(time::OffsetDateTime::UNIX_EPOCH))
                .with("B", Value::Blob(vec![9])),
        );
        let v: C = ciborium::de::from_reader(enc.body.as_ref()).unwrap();
        let m = v.as_map().unwrap();
        assert!(matches!(&m[0].1, C::Tag(1, _)));
        assert!(matches!(&m[1].1, C::Bytes(b) if b == &vec![9]));
    }
}
