//! Smithy RPC v2 CBOR request decoding: first line is the request path, the rest the CBOR body.
#![no_main]

use bytes::Bytes;
use kms_workshop_sandbox::protocol::cbor;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (head, body) = common::split(data);
    let path = String::from_utf8_lossy(head);
    let _ = cbor::operation_from_path(&path);
    if let Ok(decoded) = cbor::decode(&path, &Bytes::copy_from_slice(body)) {
        common::exercise(&decoded.input);
    }
});
