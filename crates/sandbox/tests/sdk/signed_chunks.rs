//! S3 uploads with signed streaming payloads (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`): each
//! chunk's signature is checked, so a body cannot be swapped after signing by sending made-up
//! chunk signatures under a genuine request signature.

use crate::common;

use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use kms_workshop_sandbox::seed;

const STREAMING: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/// A PUT of `data` to `path`, signed as the learner with a streaming payload; the chunks signed
/// in the chain unless `forge`, which writes made-up chunk signatures. (status, body)
async fn put(ep: &str, path: &str, data: &[u8], forge: bool) -> (u16, String) {
    let sb = common::served(ep);
    let cred = sb.credential(seed::LEARNER_ACCESS_KEY).expect("learner");
    let identity = aws_credential_types::Credentials::new(
        cred.access_key_id,
        cred.secret_access_key,
        None,
        None,
        "test",
    )
    .into();
    let now = SystemTime::now();
    let params = || {
        v4::SigningParams::builder()
            .identity(&identity)
            .region(seed::REGION)
            .name("s3")
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .expect("params")
    };
    let host = ep.trim_start_matches("http://").to_string();
    let length = data.len().to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-encoding", "aws-chunked"),
        ("x-amz-content-sha256", STREAMING),
        ("x-amz-decoded-content-length", length.as_str()),
    ];
    let url = format!("{ep}{path}");
    let signable = SignableRequest::new(
        "PUT",
        &url,
        headers.iter().copied(),
        SignableBody::Precomputed(STREAMING.into()),
    )
    .expect("signable");
    let (instructions, seed_sig) = sign(signable, &params().into())
        .expect("signed")
        .into_parts();
    let mut body = Vec::new();
    let mut previous = seed_sig;
    for chunk in [data, &b""[..]] {
        let sig = if forge {
            "0".repeat(64)
        } else {
            v4::sign_chunk(&bytes::Bytes::copy_from_slice(chunk), &previous, &params())
                .expect("chunk signed")
                .signature()
                .to_string()
        };
        body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = sig;
    }
    body.extend_from_slice(b"\r\n");
    let mut req = reqwest::Client::new().put(&url).body(body);
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
        req = req.header(*k, *v);
    }
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("answer");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn forged_chunk_signatures_are_refused_and_signed_chunks_stored() {
    let env = kms_workshop_testkit::workshop().await;
    let ep = env.running.endpoint();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&env.cfg)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("chunks")
        .send()
        .await
        .expect("bucket");
    let (status, body) = put(&ep, "/chunks/forged.txt", b"swapped after signing", true).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    assert!(s3
        .head_object()
        .bucket("chunks")
        .key("forged.txt")
        .send()
        .await
        .is_err());
    let (status, body) = put(&ep, "/chunks/signed.txt", b"signed chunk by chunk", false).await;
    assert_eq!(status, 200, "{body}");
    let got = s3
        .get_object()
        .bucket("chunks")
        .key("signed.txt")
        .send()
        .await
        .expect("stored");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"signed chunk by chunk");
}
