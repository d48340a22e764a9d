//! Presigned S3 URLs (SigV4 in the query string), as the SDK makes them: the link works without
//! keys for as long as it says and for exactly what was signed; changed, stretched or expired,
//! it is refused with S3's errors. Requests signed too long ago or too far ahead are refused
//! in AWS's words.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;

async fn s3(env: &kms_workshop_testkit::Env) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&env.cfg)
            .force_path_style(true)
            .build(),
    )
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("answer");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn presigned_links_work_for_what_was_signed_until_they_expire() {
    let env = kms_workshop_testkit::workshop().await;
    let s3 = s3(&env).await;
    s3.create_bucket()
        .bucket("links")
        .send()
        .await
        .expect("bucket");
    s3.put_object()
        .bucket("links")
        .key("report.txt")
        .body(b"quarterly numbers".to_vec().into())
        .send()
        .await
        .expect("put");
    let presigned = |key: &'static str, secs: u64| {
        let s3 = s3.clone();
        async move {
            s3.get_object()
                .bucket("links")
                .key(key)
                .presigned(PresigningConfig::expires_in(Duration::from_secs(secs)).expect("config"))
                .await
                .expect("presigned")
                .uri()
                .to_string()
        }
    };
    let url = presigned("report.txt", 60).await;
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert_eq!(get(&url).await, (200, "quarterly numbers".to_string()));

    // Another object under the same signature, a longer life, a made-up signature: refused.
    let other = url.replace("/report.txt", "/other.txt");
    let (status, body) = get(&other).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    let stretched = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600");
    assert_eq!(get(&stretched).await.0, 403);
    let week_and_a_day = url.replace("X-Amz-Expires=60", "X-Amz-Expires=691200");
    let (status, body) = get(&week_and_a_day).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("X-Amz-Expires"), "{body}");

    // Expired: signed a second's life, fetched after it.
    let short = presigned("report.txt", 1).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = get(&short).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("AccessDenied") && body.contains("Request has expired"),
        "{body}"
    );
}

/// The learner's configuration with a clock `offset` away from the real one.
fn skewed(env: &kms_workshop_testkit::Env, ahead: bool) -> aws_config::SdkConfig {
    use aws_smithy_async::time::{SharedTimeSource, StaticTimeSource};
    let twenty = Duration::from_secs(20 * 60);
    let now = std::time::SystemTime::now();
    let at = if ahead { now + twenty } else { now - twenty };
    env.cfg
        .to_builder()
        .time_source(SharedTimeSource::new(StaticTimeSource::new(at)))
        .build()
}

#[tokio::test]
async fn requests_signed_too_early_or_too_late_are_refused_in_aws_words() {
    let env = kms_workshop_testkit::workshop().await;
    let kms = aws_sdk_kms::Client::new(&skewed(&env, false));
    let e = kms
        .list_keys()
        .send()
        .await
        .expect_err("stale")
        .into_service_error();
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::code(&e),
        Some("InvalidSignatureException")
    );
    let m = aws_sdk_kms::error::ProvideErrorMetadata::message(&e)
        .unwrap_or_default()
        .to_string();
    assert!(
        m.starts_with("Signature expired: ") && m.ends_with(" - 15 min.)"),
        "{m}"
    );
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&skewed(&env, true))
            .force_path_style(true)
            .build(),
    );
    let e = s3
        .list_buckets()
        .send()
        .await
        .expect_err("ahead")
        .into_service_error();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&e),
        Some("RequestTimeTooSkewed")
    );
}

/// A page anyone with keys can put in S3 and open by its link shares the console's origin: it
/// must come as a sandboxed document (an opaque origin: no console cookie, no reading the
/// console's pages), never sniffed. The refusal of a request naming another host is marked
/// too, and every answer is dated by the sandbox's clock, which here runs ten minutes behind.
#[tokio::test]
async fn an_uploaded_page_is_a_sandboxed_document_and_every_answer_has_the_sandboxs_date() {
    let env = kms_workshop_testkit::start(kms_workshop_sandbox::Config {
        clock_behind: time::Duration::minutes(10),
        ..Default::default()
    })
    .await;
    let s3 = s3(&env).await;
    s3.create_bucket()
        .bucket("pages")
        .send()
        .await
        .expect("bucket");
    s3.put_object()
        .bucket("pages")
        .key("steal.html")
        .content_type("text/html")
        .body(
            b"<script>fetch('/console/').then(r => r.text())</script>"
                .to_vec()
                .into(),
        )
        .send()
        .await
        .expect("put");
    let url = s3
        .get_object()
        .bucket("pages")
        .key("steal.html")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).expect("config"))
        .await
        .expect("presigned")
        .uri()
        .to_string();
    let page = reqwest::get(&url).await.expect("answer");
    assert_eq!(page.status(), 200);
    let foreign = reqwest::Client::new()
        .get(env.running.endpoint())
        .header("Host", "attacker.example")
        .send()
        .await
        .expect("answer");
    assert_eq!(foreign.status(), 403);
    for answer in [&page, &foreign] {
        let h = answer.headers();
        assert_eq!(h["content-security-policy"], "sandbox", "{h:?}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{h:?}");
        let date = httpdate::parse_http_date(h["date"].to_str().expect("text")).expect("date");
        let behind = std::time::SystemTime::now()
            .duration_since(date)
            .expect("the sandbox's date is behind this machine's");
        assert!(
            (590..=610).contains(&behind.as_secs()),
            "Date is the sandbox's time, ten minutes behind: {behind:?}"
        );
    }
}
