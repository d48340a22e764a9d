//! The sandbox's fault switch, as the clean-up sees it: each service's injected throttling
//! arrives in that service's own encoding and is classified as throttling (so it is retried),
//! injected 5xx as a service error, and the switch never touches `/_sandbox/` itself.

use aws_config::SdkConfig;
use kms_workshop_cleanup::{AwsFailure, ErrorClass};
use kms_workshop_sandbox::{seed, Config};
use kms_workshop_testkit as testkit;

use testkit::control as admin;

/// The failure the sandbox's fault switch injects into `request`.
macro_rules! injected {
    ($op:literal, $request:expr) => {
        $request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsFailure::from_sdk($op, e))
            .expect_err("injected")
    };
}

/// One call to each protocol family: awsJson (KMS), awsQuery (IAM, SNS), ec2Query, restXml.
async fn failures(c: &SdkConfig) -> Vec<AwsFailure> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(c)
            .force_path_style(true)
            .build(),
    );
    vec![
        injected!("ListKeys", aws_sdk_kms::Client::new(c).list_keys()),
        injected!("ListRoles", aws_sdk_iam::Client::new(c).list_roles()),
        injected!("ListTopics", aws_sdk_sns::Client::new(c).list_topics()),
        injected!(
            "DescribeVolumes",
            aws_sdk_ec2::Client::new(c).describe_volumes()
        ),
        injected!("ListBuckets", s3.list_buckets()),
    ]
}

#[tokio::test]
async fn injected_faults_speak_each_protocol_and_spare_the_admin_api() {
    let testkit::Env {
        running, cfg: c, ..
    } = testkit::start(Config::default()).await;
    let endpoint = running.endpoint();

    let (status, body) = admin(&endpoint, "POST", "/_sandbox/faults?throttle=1").await;
    assert_eq!(status, 200, "{body}");
    let got = failures(&c).await;
    let codes: Vec<&str> = got.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "ThrottlingException",
            "Throttling",
            "Throttling",
            "RequestLimitExceeded",
            "SlowDown"
        ]
    );
    for f in &got {
        assert_eq!(f.class, ErrorClass::Throttling, "{f}");
    }
    // The admin API is never faulted.
    let (status, _) = admin(&endpoint, "GET", "/_sandbox/health").await;
    assert_eq!(status, 200);

    let (status, _) = admin(&endpoint, "POST", "/_sandbox/faults?throttle=0&error5xx=1").await;
    assert_eq!(status, 200);
    for f in failures(&c).await {
        assert_eq!(f.status, Some(500), "{f}");
        assert_eq!(f.class, ErrorClass::Transient, "{f}");
    }

    let (status, body) = admin(&endpoint, "POST", "/_sandbox/faults?throttle=2").await;
    assert_eq!(status, 400, "a fraction above 1 is refused: {body}");
    assert!(body.contains("throttle"), "{body}");
    for count in ["0", "-1", "two", "1.5"] {
        let path = format!("/_sandbox/faults?error5xx=1&count={count}");
        let (status, body) = admin(&endpoint, "POST", &path).await;
        assert_eq!(status, 400, "count={count} is refused: {body}");
        assert!(body.contains("count must be a whole number"), "{body}");
    }

    let (status, _) = admin(&endpoint, "DELETE", "/_sandbox/faults").await;
    assert_eq!(status, 200);
    aws_sdk_kms::Client::new(&c)
        .list_keys()
        .send()
        .await
        .expect("no faults once cleared");
    running.shutdown().await;
}

/// The pre-flight "whose account is this?" rides out injected 5xx like every call of a run
/// (the client here makes one attempt per call, so every retry is the clean-up's own), and
/// reports an endpoint nobody listens on as a network failure. The faults are counted, not
/// drawn: the sandbox fails exactly the calls asked for, so the test cannot pass or fail by
/// luck. (That the retries end after `max_attempts` is the pace crate's own test: here its
/// backoff would take some twenty seconds to reach the bound.)
#[tokio::test]
async fn caller_account_retries_service_errors_but_not_an_unreachable_endpoint() {
    let testkit::Env {
        running, cfg: c, ..
    } = testkit::start(Config::default()).await;
    let endpoint = running.endpoint();

    let (status, body) = admin(&endpoint, "POST", "/_sandbox/faults?error5xx=1&count=3").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""remaining":3"#), "{body}");
    let account = kms_workshop_cleanup::aws::caller_account(&c)
        .await
        .expect("three refused attempts, then the fourth answers");
    assert_eq!(account, seed::ACCOUNT);
    let (_, rates) = admin(&endpoint, "GET", "/_sandbox/faults").await;
    assert!(!rates.contains("remaining"), "the count is spent: {rates}");
    running.shutdown().await;

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let nobody = testkit::credentials_config(
        &format!("http://{closed}"),
        seed::LEARNER_ACCESS_KEY,
        "any secret: nothing answers",
        None,
    )
    .await;
    let err = kms_workshop_cleanup::aws::caller_account(&nobody)
        .await
        .expect_err("nothing listens there");
    assert_eq!(err.class, ErrorClass::Network, "{err}");
}
