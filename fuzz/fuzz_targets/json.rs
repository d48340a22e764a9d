//! awsJson1.0/1.1 request decoding: first line is the `X-Amz-Target` header, the rest the body.
#![no_main]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use kms_workshop_sandbox::protocol::json;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (head, body) = common::split(data);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(head) {
        headers.insert("x-amz-target", v);
    }
    if let Ok(decoded) = json::decode(&headers, &Bytes::copy_from_slice(body)) {
        common::exercise(&decoded.input);
    }
});
