//! ec2Query request decoding: first line is the URL query string, the rest the form body.
#![no_main]

use bytes::Bytes;
use kms_workshop_sandbox::protocol::ec2;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (head, body) = common::split(data);
    let q = std::str::from_utf8(head).ok().filter(|q| !q.is_empty());
    if let Ok(decoded) = ec2::decode(q, &Bytes::copy_from_slice(body)) {
        common::exercise(&decoded.input);
    }
});
