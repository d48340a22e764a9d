//! SigV4 `Authorization` header parsing, as the raw header value and through a `HeaderMap`.
#![no_main]

use http::{HeaderMap, HeaderValue};
use kms_workshop_sandbox::auth;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = auth::parse_authorization_value(s);
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(data) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    let _ = auth::parse_authorization(&headers);
});
