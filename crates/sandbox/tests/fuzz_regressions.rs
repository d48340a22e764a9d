//! Inputs the fuzz targets in `fuzz/` found to crash a request decoder, kept as ordinary tests
//! so they stay fixed. Each names the target and what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use kms_workshop_sandbox::protocol::{json, query};

/// fuzz target `json`: a timestamp member far outside any date (`1350E00080` epoch seconds)
/// overflowed the seconds-to-nanoseconds multiplication and panicked; it is a
/// SerializationException like any other invalid timestamp.
#[test]
fn json_timestamp_far_out_of_range_is_a_serialization_error() {
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-target", HeaderValue::from_static("c10}"));
    let body = Bytes::from_static(br#"{"LookupAttttetrTmia":1350E00080}"#);
    let decoded = json::decode(&headers, &body).expect("the body is a JSON object");
    let err = decoded
        .input
        .time("LookupAttttetrTmia")
        .expect_err("1.35e83 seconds is no timestamp");
    assert_eq!(err.code, "SerializationException");
    // The largest finite value, and its negative, take the same path.
    for v in [f64::MAX, f64::MIN, 1e300, -1e300] {
        let body = Bytes::from(format!(r#"{{"StartTime":{v:e}}}"#));
        let decoded = json::decode(&headers, &body).expect("a JSON object");
        assert!(decoded.input.time("StartTime").is_err(), "{v:e}");
    }
    // In a form (awsQuery), epoch seconds as text too.
    let decoded = query::decode(None, &Bytes::from_static(b"Action=X&StartTime=1e300")).unwrap();
    assert!(decoded.input.time("StartTime").is_err());
    // A real timestamp still decodes.
    let body = Bytes::from_static(br#"{"StartTime":1795000000.123}"#);
    let decoded = json::decode(&headers, &body).unwrap();
    let t = decoded.input.time("StartTime").unwrap().unwrap();
    assert_eq!(t.unix_timestamp_nanos(), 1_795_000_000_123_000_000);
}
