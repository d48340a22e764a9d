//! restXml (S3) request decoding: first line is `path?query`, second line the
//! `x-amz-content-sha256` header (e.g. `STREAMING-UNSIGNED-PAYLOAD-TRAILER` selects aws-chunked
//! framing), the rest the body; the payload is then unframed and its checksums checked.
#![no_main]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use kms_workshop_sandbox::protocol::restxml;
use kms_workshop_sandbox::services::s3;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (target, rest) = common::split(data);
    let (sha, body) = common::split(rest);
    let target = String::from_utf8_lossy(target);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target.as_ref(), None),
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(sha) {
        headers.insert("x-amz-content-sha256", v.clone());
        if sha.starts_with(b"STREAMING-") {
            headers.insert(
                "x-amz-trailer",
                HeaderValue::from_static("x-amz-checksum-crc32"),
            );
        }
    }
    let method = if body.is_empty() {
        Method::GET
    } else {
        Method::PUT
    };
    if let Ok(req) = restxml::decode(
        &method,
        path,
        query,
        &headers,
        &Bytes::copy_from_slice(body),
    ) {
        let _ = s3::payload(&req);
    }
});
