//! The ceiling for GenerateDataKey: a minimal HTTP server (axum, in this process) that answers
//! `CreateKey` and `GenerateDataKey` with fixed, valid awsJson1.1 documents and checks nothing
//! (no SigV4, no state, no CloudTrail). The same aws-sdk-kms client against it measures the best
//! any emulator could do with this client on this machine: what is left is the client's own cost
//! (signing, HTTP, parsing) and the loopback.

use std::net::SocketAddr;
use std::sync::LazyLock;

use anyhow::{Context, Result};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use kms_workshop_names::sandbox::{ACCOUNT, REGION};
use tokio::sync::oneshot;

const KEY_ID: &str = "0b5d7bfd-1f3c-4d6e-9a2b-3c4d5e6f7a8b";

/// The fixed key's ARN, in the seeded account and region (made once: the server's answers are
/// to cost as little as possible).
static KEY_ARN: LazyLock<String> =
    LazyLock::new(|| format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"));

fn generate_data_key_body() -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    // A ciphertext blob of the size KMS returns for a 32-byte key; 32 zero bytes stand in for
    // the data key: the client only decodes them, and a fixed value is no key anyone uses.
    format!(
        r#"{{"CiphertextBlob":"{}","KeyId":"{}","Plaintext":"{}"}}"#,
        b64.encode([7u8; 184]),
        *KEY_ARN,
        b64.encode([0u8; 32])
    )
}

fn create_key_body() -> String {
    format!(
        r#"{{"KeyMetadata":{{"AWSAccountId":"{ACCOUNT}","KeyId":"{KEY_ID}","Arn":"{}","CreationDate":1.7e9,"Enabled":true,"Description":"ceiling","KeyUsage":"ENCRYPT_DECRYPT","KeyState":"Enabled","Origin":"AWS_KMS","KeyManager":"CUSTOMER","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT","KeySpec":"SYMMETRIC_DEFAULT","EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegion":false}}}}"#,
        *KEY_ARN
    )
}

async fn handle(headers: HeaderMap, _body: axum::body::Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body = match target.rsplit('.').next() {
        Some("GenerateDataKey") => generate_data_key_body(),
        Some("CreateKey") => create_key_body(),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                [("content-type", "application/x-amz-json-1.1")],
                r#"{"__type":"UnknownOperationException"}"#,
            )
                .into_response()
        }
    };
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    r.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_static("3b8f2d3e-0000-4000-8000-000000000000"),
    );
    r
}

/// The running ceiling server; stops when dropped.
pub struct Ceiling {
    pub endpoint: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn start() -> Result<Ceiling> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("binding the ceiling server")?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/", post(handle));
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Ceiling {
        endpoint: format!("http://{addr}"),
        stop: Some(tx),
    })
}
