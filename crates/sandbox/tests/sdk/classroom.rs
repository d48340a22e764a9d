//! Classroom mode through the Rust SDK: every learner has an account of their own that no
//! other learner can see into; the instructor assumes a role into each; one learner's account
//! can be reset without touching the others, and the reset survives a restart.

use crate::common;

use aws_config::SdkConfig;
use common::{classroom_learner, credentials_config, serve};
use kms_workshop_names::{IMPORTED_ALIAS, TOPIC};
use kms_workshop_sandbox::{seed, Config, Sandbox};

async fn key_ids(cfg: &SdkConfig) -> Vec<String> {
    let out = aws_sdk_kms::Client::new(cfg)
        .list_keys()
        .send()
        .await
        .expect("ListKeys");
    out.keys()
        .iter()
        .filter_map(|k| k.key_arn().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn learners_are_isolated() {
    let sb = Sandbox::open(Config {
        learners: 3,
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let (one, two) = (
        classroom_learner(&ep, 1).await,
        classroom_learner(&ep, 2).await,
    );
    let (a1, a2) = (seed::learner(1).account, seed::learner(2).account);
    assert_ne!(a1, a2);

    // Who am I.
    let who = aws_sdk_sts::Client::new(&two)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(who.account(), Some(a2.as_str()));

    // KMS: each sees only their own keys, and cannot use the other's by ARN.
    let (k1, k2) = (key_ids(&one).await, key_ids(&two).await);
    assert!(!k1.is_empty() && !k2.is_empty());
    assert!(k1.iter().all(|a| a.contains(&format!(":{a1}:"))), "{k1:?}");
    assert!(k2.iter().all(|a| a.contains(&format!(":{a2}:"))), "{k2:?}");
    let theirs = k2[0].clone();
    let err = aws_sdk_kms::Client::new(&one)
        .describe_key()
        .key_id(&theirs)
        .send()
        .await
        .expect_err("another learner's key");
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("NotFoundException")
    );

    // CloudTrail: learner 2's call is in learner 2's history only.
    let gdk = aws_sdk_kms::Client::new(&two)
        .generate_data_key()
        .key_id(IMPORTED_ALIAS)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .expect("GenerateDataKey");
    let lookup = |cfg: &SdkConfig, key: &str, value: &str| {
        let client = aws_sdk_cloudtrail::Client::new(cfg);
        let attr = aws_sdk_cloudtrail::types::LookupAttribute::builder()
            .attribute_key(key.into())
            .attribute_value(value)
            .build()
            .expect("attribute");
        async move {
            client
                .lookup_events()
                .lookup_attributes(attr)
                .send()
                .await
                .expect("LookupEvents")
                .events()
                .to_vec()
        }
    };
    let mine = lookup(&two, "EventName", "GenerateDataKey").await;
    assert!(mine.iter().any(|e| e
        .cloud_trail_event()
        .is_some_and(|r| r.contains(&format!("\"recipientAccountId\":\"{a2}\"")))));
    let other_key = seed::learner(2).access_key_id;
    assert!(lookup(&one, "AccessKeyId", &other_key).await.is_empty());
    let _ = gdk;
    for e in lookup(&one, "EventSource", "kms.amazonaws.com").await {
        let rec = e.cloud_trail_event().unwrap_or_default();
        assert!(
            rec.contains(&format!("\"recipientAccountId\":\"{a1}\"")),
            "{rec}"
        );
    }
    // The seeded history is each learner's own.
    assert!(!lookup(&one, "EventName", "ScheduleKeyDeletion")
        .await
        .is_empty());

    // SNS, IAM, EC2, S3: nothing of learner 2 shows for learner 1.
    let sns2 = aws_sdk_sns::Client::new(&two);
    let topic = sns2
        .create_topic()
        .name(TOPIC)
        .send()
        .await
        .expect("CreateTopic");
    let topic_arn = topic.topic_arn().unwrap_or_default().to_string();
    let topics1 = aws_sdk_sns::Client::new(&one)
        .list_topics()
        .send()
        .await
        .expect("ListTopics");
    assert!(topics1
        .topics()
        .iter()
        .all(|t| t.topic_arn().is_some_and(|a| a.contains(&a1))));
    let err = aws_sdk_sns::Client::new(&one)
        .get_topic_attributes()
        .topic_arn(&topic_arn)
        .send()
        .await
        .expect_err("another learner's topic");
    assert_eq!(err.into_service_error().meta().code(), Some("NotFound"));

    let roles = aws_sdk_iam::Client::new(&one)
        .list_roles()
        .send()
        .await
        .expect("ListRoles");
    assert!(roles.roles().iter().all(|r| r.arn().contains(&a1)));
    let reservations = aws_sdk_ec2::Client::new(&one)
        .describe_instances()
        .send()
        .await
        .expect("DescribeInstances");
    assert!(reservations
        .reservations()
        .iter()
        .all(|r| r.owner_id() == Some(a1.as_str())));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&one)
            .force_path_style(true)
            .build(),
    );
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    assert!(buckets
        .buckets()
        .iter()
        .all(|b| !b.name().unwrap_or_default().contains(&a2)));
    assert!(s3
        .list_objects_v2()
        .bucket(kms_workshop_names::bucket(&a2))
        .send()
        .await
        .is_err());

    // Messages: learner 2's account's outbox is not learner 1's.
    assert!(sb
        .outbox(0)
        .iter()
        .all(|m| m.account == a1 || m.account == a2 || m.account == seed::learner(3).account));
    drop(running);
}

#[tokio::test]
async fn instructor_assumes_the_classroom_role() {
    let sb = Sandbox::open(Config {
        learners: 2,
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let instructor = common::identity_config(&ep, seed::INSTRUCTOR_ACCESS_KEY).await;
    let a2 = seed::learner(2).account;
    let role = format!("arn:aws:iam::{a2}:role/{}", seed::CLASSROOM_ROLE);
    let out = aws_sdk_sts::Client::new(&instructor)
        .assume_role()
        .role_arn(&role)
        .role_session_name("cleanup")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    assert!(c.access_key_id().starts_with("ASIA"));
    assert_eq!(
        out.assumed_role_user().map(|u| u.arn()),
        Some(
            format!(
                "arn:aws:sts::{a2}:assumed-role/{}/cleanup",
                seed::CLASSROOM_ROLE
            )
            .as_str()
        )
    );
    let assumed = credentials_config(
        &ep,
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    )
    .await;
    let who = aws_sdk_sts::Client::new(&assumed)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(who.account(), Some(a2.as_str()));
    let keys = key_ids(&assumed).await;
    assert!(keys.iter().all(|k| k.contains(&a2)) && !keys.is_empty());

    // A learner may not assume the role in another learner's account.
    let one = classroom_learner(&ep, 1).await;
    let err = aws_sdk_sts::Client::new(&one)
        .assume_role()
        .role_arn(&role)
        .role_session_name("sneaky")
        .send()
        .await
        .expect_err("learner 1 into learner 2");
    assert_eq!(err.into_service_error().meta().code(), Some("AccessDenied"));
    // Nor may anyone assume a role that does not exist, or for a too-short session.
    let err = aws_sdk_sts::Client::new(&instructor)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{a2}:role/NoSuchRole"))
        .role_session_name("x1")
        .send()
        .await
        .expect_err("missing role");
    assert_eq!(err.into_service_error().meta().code(), Some("AccessDenied"));
    let err = aws_sdk_sts::Client::new(&instructor)
        .assume_role()
        .role_arn(&role)
        .role_session_name("x1")
        .duration_seconds(60)
        .send()
        .await
        .expect_err("short session");
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("ValidationError")
    );

    // The session ends an hour later on the sandbox clock.
    sb.advance_clock(time::Duration::minutes(61))
        .expect("clock");
    let err = aws_sdk_sts::Client::new(&assumed)
        .get_caller_identity()
        .send()
        .await
        .expect_err("expired");
    assert_eq!(err.into_service_error().meta().code(), Some("ExpiredToken"));
    drop(running);
}

#[tokio::test]
async fn resetting_one_learner_leaves_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = Config {
        learners: 2,
        state_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let (a1, a2) = (seed::learner(1).account, seed::learner(2).account);
    let history_len;
    {
        let sb = Sandbox::open(cfg.clone()).expect("sandbox");
        let running = serve(&sb).await;
        let ep = format!("http://{}", running.addr);
        // Learner 2's first request seeds their account: the earlier sections' history, and
        // the request itself.
        aws_sdk_sts::Client::new(&classroom_learner(&ep, 2).await)
            .get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity");
        history_len = sb.events().len(&a2, seed::REGION) - 1;
        assert!(history_len > 0, "the seed's history");
        for k in [1, 2] {
            let cfg = classroom_learner(&ep, k).await;
            aws_sdk_sns::Client::new(&cfg)
                .create_topic()
                .name(TOPIC)
                .send()
                .await
                .expect("CreateTopic");
        }
        let keys_before = key_ids(&classroom_learner(&ep, 2).await).await;
        assert_eq!(sb.events().len(&a2, seed::REGION), history_len + 3);
        assert_eq!(sb.reset_learner(2).expect("reset"), a2);
        assert_eq!(
            sb.events().len(&a2, seed::REGION),
            0,
            "seeded on its next request"
        );
        assert!(sb.reset_learner(3).is_err(), "no learner 3");
        // Learner 2 is back at the start: no topic, fresh keys, only the seeded history.
        let two = classroom_learner(&ep, 2).await;
        let topics = aws_sdk_sns::Client::new(&two)
            .list_topics()
            .send()
            .await
            .expect("ListTopics");
        assert!(topics.topics().iter().all(|t| !t
            .topic_arn()
            .unwrap_or_default()
            .ends_with(&format!(":{TOPIC}"))));
        let keys_after = key_ids(&two).await;
        assert_eq!(keys_after.len(), keys_before.len());
        assert_ne!(keys_after, keys_before, "the seed makes new keys");
        // The reset's own ListTopics/ListKeys just now are the only new events.
        assert_eq!(sb.events().len(&a2, seed::REGION), history_len + 2);
        // Learner 1 keeps their topic.
        let one = classroom_learner(&ep, 1).await;
        let topics = aws_sdk_sns::Client::new(&one)
            .list_topics()
            .send()
            .await
            .expect("ListTopics");
        assert!(topics.topics().iter().any(|t| t.topic_arn()
            == Some(format!("arn:aws:sns:{}:{a1}:{TOPIC}", seed::REGION).as_str())));
        running.shutdown().await;
        sb.sync();
    }
    // After a restart the reset holds (history included).
    let sb = Sandbox::open(cfg).expect("reopen");
    assert_eq!(sb.events().len(&a2, seed::REGION), history_len + 2);
    assert_eq!(sb.learners().len(), 2);
}
