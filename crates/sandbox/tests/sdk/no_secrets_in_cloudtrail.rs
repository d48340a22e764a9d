//! No secret in any CloudTrail record (AWS logs neither a secret access key nor a session token
//! it hands out, nor a plaintext): AssumeRole's temporary credentials and CreateAccessKey's
//! secret stay out of LookupEvents and out of the events log on disk, where anyone who can read
//! the account's event history would find them.

use crate::common;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use common::{classroom_learner, records, serve};
use kms_workshop_sandbox::{seed, Config, Sandbox};

#[tokio::test]
async fn assume_role_and_create_access_key_records_hold_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = Sandbox::open(Config {
        learners: 2,
        state_dir: Some(dir.path().to_path_buf()),
        cloudtrail_delay: time::Duration::ZERO,
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let instructor = common::identity_config(&ep, seed::INSTRUCTOR_ACCESS_KEY).await;
    let a2 = seed::learner(2);
    let out = aws_sdk_sts::Client::new(&instructor)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{}:role/{}",
            a2.account,
            seed::CLASSROOM_ROLE
        ))
        .role_session_name("audit")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let learner2 = classroom_learner(&ep, 2).await;
    let key = aws_sdk_iam::Client::new(&learner2)
        .create_access_key()
        .send()
        .await
        .expect("CreateAccessKey");
    let key_secret = key
        .access_key()
        .expect("key")
        .secret_access_key()
        .to_string();
    let secrets = [
        c.secret_access_key().to_string(),
        c.session_token().to_string(),
        key_secret,
    ];

    let mut seen = std::collections::BTreeMap::new();
    for (cfg, event) in [
        (&learner2, "AssumeRole"),
        (&instructor, "AssumeRole"),
        (&learner2, "CreateAccessKey"),
    ] {
        for record in records(cfg, event).await {
            *seen.entry(event).or_insert(0) += 1;
            for s in &secrets {
                assert!(
                    !record.contains(s.as_str()),
                    "{event} record holds a secret: {record}"
                );
            }
            assert!(
                !record.to_ascii_lowercase().contains("secretaccesskey"),
                "{record}"
            );
        }
    }
    assert_eq!(seen.len(), 2, "both calls' records are there: {seen:?}");
    // Nor in the history on disk.
    let log = std::fs::read(dir.path().join("events.bin")).expect("events.bin");
    for s in &secrets {
        assert!(!contains(&log, s), "events.bin holds a secret");
    }
    drop(running);
}

#[tokio::test]
async fn run_instances_user_data_is_not_logged() {
    let sb = Sandbox::open(Config {
        cloudtrail_delay: time::Duration::ZERO,
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let cfg = common::learner_config(&ep).await;
    // "#!/bin/sh\nexport DB_PASSWORD=hunter2", base64 as the API takes it.
    let user_data = "IyEvYmluL3NoCmV4cG9ydCBEQl9QQVNTV09SRD1odW50ZXIy";
    aws_sdk_ec2::Client::new(&cfg)
        .run_instances()
        .image_id(kms_workshop_sandbox::services::ec2::WORKSHOP_AMI)
        .instance_type(aws_sdk_ec2::types::InstanceType::T2Micro)
        .min_count(1)
        .max_count(1)
        .user_data(user_data)
        .send()
        .await
        .expect("RunInstances");
    let ct = aws_sdk_cloudtrail::Client::new(&cfg);
    let out = ct
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value("RunInstances")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    let records: Vec<&str> = out
        .events()
        .iter()
        .filter_map(|e| e.cloud_trail_event())
        .filter(|r| r.contains("sensitiveDataRemoved") || r.contains(user_data))
        .collect();
    assert!(!records.is_empty(), "the RunInstances record is there");
    for r in records {
        assert!(!r.contains(user_data), "user data logged: {r}");
        assert!(r.contains("\"userData\":\"<sensitiveDataRemoved>\""), "{r}");
    }
    drop(running);
}

#[tokio::test]
async fn records_written_before_are_served_without_their_secrets_and_contexts_stay_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || {
        Sandbox::open(Config {
            state_dir: Some(dir.path().to_path_buf()),
            cloudtrail_delay: time::Duration::ZERO,
            ..Config::default()
        })
        .expect("sandbox")
    };
    let sb = open();
    let running = serve(&sb).await;
    let cfg = common::learner_config(&running.endpoint()).await;
    // A context key that happens to be named like a secret is the caller's data: kept.
    aws_sdk_kms::Client::new(&cfg)
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .encryption_context("plaintext", "a-label")
        .send()
        .await
        .expect("data key");
    let gdk = records(&cfg, "GenerateDataKey").await;
    assert!(
        gdk.iter().any(|r| r.contains(r#""plaintext":"a-label""#)),
        "{gdk:?}"
    );
    running.shutdown().await;
    drop(sb);
    // A history an older build wrote (JSON lines, state format 1), with a secret in a record;
    // the binary one beside it is what a migration cut short would leave, and goes.
    let mut rec: serde_json::Value = serde_json::from_str(
        gdk.iter()
            .find(|r| r.contains("a-label"))
            .expect("the data key's record"),
    )
    .expect("JSON");
    rec["responseElements"] = serde_json::json!({"credentials": {"accessKeyId": "ASIAOLD",
        "secretAccessKey": "OLD-SECRET", "sessionToken": "OLD-TOKEN"}});
    rec["eventID"] = serde_json::json!("old-event-1");
    let time_ms = time::OffsetDateTime::parse(
        rec["eventTime"].as_str().expect("time"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("eventTime")
    .unix_timestamp()
        * 1000;
    let line = serde_json::json!({"a": seed::ACCOUNT, "r": seed::REGION, "t": time_ms, "v": time_ms,
        "id": "old-event-1", "n": "GenerateDataKey", "s": "kms.amazonaws.com",
        "u": seed::LEARNER_USER, "k": "AKIAOLD", "ro": true, "res": [], "rec": rec.to_string()});
    let json = line.to_string();
    let framed = format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()));
    std::fs::write(dir.path().join("events.log"), framed).expect("events.log");
    std::fs::write(
        dir.path().join("sandbox.json"),
        r#"{"format":"kms-workshop-sandbox","version":1}"#,
    )
    .expect("marker");
    for restart in 0..2 {
        let sb = open();
        let running = serve(&sb).await;
        let cfg = common::learner_config(&running.endpoint()).await;
        let found = records(&cfg, "GenerateDataKey").await;
        assert_eq!(
            found.len(),
            1,
            "restart {restart}: only the old history is left: {found:?}"
        );
        let all = &found[0];
        assert!(all.contains("ASIAOLD"), "the old record is served: {all}");
        assert!(all.contains(r#""plaintext":"a-label""#), "{all}");
        assert!(
            !all.contains("OLD-SECRET") && !all.contains("OLD-TOKEN"),
            "{all}"
        );
        running.shutdown().await;
        drop(sb);
        // Written anew (without the secret) on the first open, read back on the second.
        assert!(!dir.path().join("events.log").exists(), "restart {restart}");
        let bin = std::fs::read(dir.path().join("events.bin")).expect("events.bin");
        assert!(contains(&bin, "ASIAOLD") && !contains(&bin, "OLD-SECRET"));
        let marker = std::fs::read_to_string(dir.path().join("sandbox.json")).unwrap();
        assert!(marker.contains("\"version\": 2"), "{marker}");
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
