//! Oversize bodies are not read on: a request whose `Content-Length` is far past the service's
//! limit gets its 413 before the sandbox reads a byte of the body (here the client never sends
//! the body at all, so a server that waited for it would never answer), and the connection is
//! closed rather than left to carry the rest. (A body a little past the limit is drained so the
//! client can read its 413: `tests/robustness/malformed.rs` sends 10 MB to KMS.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common;

use common::serve;
use kms_workshop_sandbox::{Config, Sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_declared_past_the_limit_is_refused_before_it_is_read() {
    let sb = Sandbox::open(Config::default()).expect("sandbox");
    let running = serve(&sb).await;
    let addr = running.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut conn = TcpStream::connect(addr).expect("connect");
        // A guard against a server that waits for the body: it fails the test, not hangs it.
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: TrentService.ListKeys\r\nX-Amz-Date: 20260101T000000Z\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKIAWORKSHOPLEARNER1/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Content-Length: {}\r\n\r\n",
            1u64 << 30
        );
        conn.write_all(head.as_bytes()).expect("send the head");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => {
                    assert!(!got.is_empty(), "no answer before the body: {e}");
                    break;
                }
            }
        }
        String::from_utf8_lossy(&got).to_string()
    })
    .await
    .expect("client");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("RequestEntityTooLarge"), "{answer}");
    running.shutdown().await;
}
