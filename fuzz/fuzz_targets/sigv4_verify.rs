//! SigV4 verification of a whole request: the canonical request built from any method, URI,
//! headers and body, the body hash compared with `x-amz-content-sha256` (streaming payloads
//! included), against one known credential. Input: first line `METHOD URI`, then `name: value`
//! header lines up to an empty line, then the body.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use kms_workshop_sandbox::auth;
use kms_workshop_sandbox::identity::{Credential, Principal};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn credential() -> Credential {
    Credential {
        access_key_id: "AKIAWORKSHOPLEARNER1".into(),
        secret_access_key: "fuzz-secret".into(),
        session_token: None,
        account: "111122223333".into(),
        principal: Principal::IamUser {
            name: "workshop-learner".into(),
            user_id: "AIDAWORKSHOPLEARNER01".into(),
        },
        expires_ms: None,
        console_since: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let (line, mut rest) = common::split(data);
    let line = String::from_utf8_lossy(line);
    let (method, uri) = line.split_once(' ').unwrap_or((line.as_ref(), "/"));
    let mut headers = HeaderMap::new();
    loop {
        let (h, after) = common::split(rest);
        rest = after;
        if h.is_empty() {
            break;
        }
        let Some(colon) = h.iter().position(|&b| b == b':') else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(&h[..colon]),
            HeaderValue::from_bytes(h[colon + 1..].trim_ascii()),
        ) {
            headers.append(n, v);
        }
        if rest.is_empty() {
            break;
        }
    }
    let body = rest;
    let _ = auth::body_matches_declared_hash(&headers, body);
    if let Ok(parsed) = auth::parse_authorization(&headers) {
        let _ = auth::verify(
            method,
            uri,
            &headers,
            body,
            &parsed,
            credential().access_key(),
        );
    }
});
