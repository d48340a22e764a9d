//! Failures of real SDK calls against the sandbox keep AWS's code, message and request id, and
//! land in the right class.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use kms_workshop_aws_errors::{AwsFailure, ErrorClass};
use kms_workshop_sandbox::{seed, Config, Sandbox};

async fn kms(endpoint: &str, key: &str, secret: &str) -> aws_sdk_kms::Client {
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(seed::REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            key, secret, None, None, "test",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    aws_sdk_kms::Client::new(&cfg)
}

#[tokio::test]
async fn service_errors_keep_code_message_and_request_id() {
    let sb = Sandbox::open(Config::default()).expect("sandbox");
    let running = kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve");
    let url = format!("http://{}", running.addr);
    let learner = sb
        .credential(seed::LEARNER_ACCESS_KEY)
        .expect("seeded learner");
    let client = kms(&url, &learner.access_key_id, &learner.secret_access_key).await;
    let err = client
        .describe_key()
        .key_id("alias/NoSuchAlias")
        .send()
        .await
        .expect_err("missing alias");
    let f = AwsFailure::from_sdk("DescribeKey", err);
    assert_eq!(f.code, "NotFoundException");
    assert_eq!(f.class, ErrorClass::NotFound);
    assert!(f.message.contains("alias/NoSuchAlias"), "{}", f.message);
    assert!(f.request_id.as_deref().is_some_and(|r| !r.is_empty()));
    assert_eq!(f.status, Some(400));

    let stranger = kms(&url, "AKIAUNKNOWNKEY000000", "nope").await;
    let err = stranger.list_keys().send().await.expect_err("unknown key");
    let f = AwsFailure::from_sdk("ListKeys", err);
    assert_eq!(f.code, "UnrecognizedClientException");
    assert_eq!(f.class, ErrorClass::Credentials);
    assert!(f.class.is_infrastructure());
}

#[tokio::test]
async fn no_answer_is_a_network_failure() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let client = kms(
        &format!("http://127.0.0.1:{port}"),
        seed::LEARNER_ACCESS_KEY,
        "any secret: nothing answers",
    )
    .await;
    let err = client.list_keys().send().await.expect_err("closed port");
    let f = AwsFailure::from_sdk("ListKeys", err);
    assert_eq!(f.class, ErrorClass::Network, "{f:?}");
    assert!(f.is_retryable());
    assert_eq!(f.status, None);
}
