//! The encryption context a CloudTrail record shows is the one the call used. A JSON request may
//! carry members the model does not have (AWS ignores them, and so does the sandbox), among them
//! a lower-case `encryptionContext`, the very name CloudTrail writes the context under: such a
//! request must not make the history show a context other than the one the data key is bound
//! to. The SDKs send only modelled members, so the request here is made and signed by hand.

use crate::common;

use aws_sdk_kms::primitives::Blob;
use base64::Engine as _;
use kms_workshop_sandbox::{seed, Config};

/// `body` as a KMS `GenerateDataKey` request, signed as the learner; (status, answer).
async fn generate_data_key(ep: &str, body: &str) -> (u16, serde_json::Value) {
    let cred = common::served(ep)
        .credential(seed::LEARNER_ACCESS_KEY)
        .expect("learner");
    let headers = kms_workshop_testkit::sigv4::signed_post(
        ep,
        (&cred.access_key_id, &cred.secret_access_key),
        ("kms", seed::REGION),
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.GenerateDataKey"),
        ],
        body.as_bytes(),
    );
    let mut req = reqwest::Client::new()
        .post(format!("{ep}/"))
        .body(body.to_string());
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("answer");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// The newest GenerateDataKey record's `requestParameters`.
async fn logged(cfg: &aws_config::SdkConfig) -> serde_json::Value {
    let newest = common::records(cfg, "GenerateDataKey").await;
    let record: serde_json::Value =
        serde_json::from_str(newest.first().expect("a record")).expect("JSON");
    record["requestParameters"].clone()
}

#[tokio::test]
async fn a_spoofed_context_member_is_not_what_the_history_shows() {
    let (_sb, running) = common::start_sandbox(Config {
        cloudtrail_delay: time::Duration::ZERO,
        ..Config::default()
    })
    .await;
    let ep = format!("http://{}", running.addr);
    let cfg = common::identity_config(&ep, seed::LEARNER_ACCESS_KEY).await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let used = r#"{"project":"workshop"}"#;
    let spoof = r#"{"project":"someone-else"}"#;
    for body in [
        format!(
            r#"{{"KeyId":"alias/ImportedCMK","KeySpec":"AES_256","EncryptionContext":{used},"encryptionContext":{spoof}}}"#
        ),
        format!(
            r#"{{"encryptionContext":{spoof},"KeyId":"alias/ImportedCMK","KeySpec":"AES_256","EncryptionContext":{used}}}"#
        ),
    ] {
        let (status, answer) = generate_data_key(&ep, &body).await;
        assert_eq!(status, 200, "{answer}");
        let blob = base64::engine::general_purpose::STANDARD
            .decode(answer["CiphertextBlob"].as_str().expect("a ciphertext"))
            .expect("base64");
        // The data key is bound to the context used ...
        let decrypt = |context: &str| {
            kms.decrypt()
                .ciphertext_blob(Blob::new(blob.clone()))
                .encryption_context("project", context)
                .send()
        };
        assert!(decrypt("workshop").await.is_ok(), "{body}");
        assert!(decrypt("someone-else").await.is_err(), "{body}");
        // ... and that context is the one its record shows.
        let params = logged(&cfg).await;
        assert_eq!(
            params["encryptionContext"],
            serde_json::json!({"project": "workshop"}),
            "{body}: {params}"
        );
        assert!(!params.to_string().contains("someone-else"), "{params}");
    }
    running.shutdown().await;
}
