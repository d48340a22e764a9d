//! Raw HTTP/1.1 on loopback, for what the SDKs and the CLI do not send: the sandbox's control
//! API (with the admin token of the sandbox [`super::SandboxProc`] started) and hand-built
//! requests.

use std::io::{Read, Write};

/// Send `method path` with `headers` and `body` to `endpoint`; (status, body).
pub fn raw(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String) {
    let host = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).expect("connect to the sandbox");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    s.write_all(body).expect("send the body");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read the answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A control call (`/_sandbox/…`) with the sandbox's admin token; (status, body).
pub fn control(endpoint: &str, method: &str, path: &str) -> (u16, String) {
    let token = super::token_of(endpoint).expect("a sandbox started by SandboxProc");
    raw(
        endpoint,
        method,
        path,
        &[("x-sandbox-token".to_string(), token)],
        b"",
    )
}

/// A control call that must succeed; its answer as JSON.
pub fn control_json(endpoint: &str, method: &str, path: &str) -> serde_json::Value {
    let (status, body) = control(endpoint, method, path);
    assert_eq!(status, 200, "{method} {path}: {body}");
    serde_json::from_str(&body).expect("a JSON answer")
}
