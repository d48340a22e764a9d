//! The notify crate against the sandbox through the real SDK: validation before any call, the
//! topic policy merge, the rule + target + policy delivering a GenerateDataKey notification to
//! a confirmed email subscription, the trail check, and the pre-flight of the console's pattern.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use kms_workshop_testkit as common;

use kms_workshop_names::{DISPLAY_NAME, IMPORTED_ALIAS, TOPIC};
use kms_workshop_notify::{
    allow_eventbridge_publish, cloudtrail_bucket_policy, confirm_subscription,
    create_logging_trail, create_topic, ensure_management_trail, find_topic, preflight, put_rule,
    put_sns_target, read_rule, sample_generate_data_key_event, subscribe_email, subscription_state,
    trail_check, verify_rule, workshop_pattern, NotifyError, PolicyChange, RuleSpec,
    SubscriptionState, TrailSetup, ALL_MANAGEMENT_EVENTS,
};
use kms_workshop_sandbox::seed;
use serde_json::Value;

const EMAIL: &str = "learner@example.com";

fn confirmation_token(env: &common::Env, topic_arn: &str) -> String {
    env.sb
        .outbox(0)
        .into_iter()
        .rev()
        .find(|m| m.kind == "SubscriptionConfirmation" && m.topic_arn == topic_arn)
        .and_then(|m| m.document["Token"].as_str().map(str::to_string))
        .expect("a confirmation message with a token")
}

/// An S3 client (path style) and the trail the tests set up.
fn trail_setup(env: &common::Env) -> (aws_sdk_s3::Client, TrailSetup) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&env.cfg)
            .force_path_style(true)
            .build(),
    );
    let setup = TrailSetup {
        trail_name: "kmsworkshop-trail".into(),
        bucket: "kmsworkshop-trail-logs".into(),
        account_id: seed::ACCOUNT.into(),
        region: seed::REGION.into(),
        partition: "aws".into(),
    };
    (s3, setup)
}

async fn policy_of(sns: &aws_sdk_sns::Client, arn: &str) -> Value {
    let attrs = sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .expect("GetTopicAttributes");
    let text = attrs
        .attributes()
        .and_then(|a| a.get("Policy"))
        .cloned()
        .expect("a policy");
    serde_json::from_str(&text).expect("policy JSON")
}

async fn k3_arn(env: &common::Env) -> String {
    aws_sdk_kms::Client::new(&env.cfg)
        .describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("arn")
        .to_string()
}

#[tokio::test]
async fn validation_errors_name_the_field_before_any_call() {
    let env = common::workshop().await;
    let sns = aws_sdk_sns::Client::new(&env.cfg);
    let err = create_topic(&sns, TOPIC, Some("KMSWorkshop"))
        .await
        .expect_err("11 characters");
    match &err {
        NotifyError::TooLong {
            field,
            limit,
            actual,
            ..
        } => {
            assert_eq!((*field, *limit, *actual), ("DisplayName", 10, 11));
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert!(err.to_string().contains("DisplayName"));
    assert_eq!(find_topic(&sns, TOPIC).await.expect("list"), None);

    let err = create_topic(&sns, "sns workshop", None)
        .await
        .expect_err("space");
    assert_eq!(err.field(), Some("Name"));

    let topic = create_topic(&sns, TOPIC, Some("KMSWorksho"))
        .await
        .expect("10 characters are fine");
    assert_eq!(topic.display_name, "KMSWorksho");
    let err = subscribe_email(&sns, &topic.arn, "learner.example.com")
        .await
        .expect_err("no @");
    assert_eq!(err.field(), Some("Endpoint"));
    assert_eq!(
        subscription_state(&sns, &topic.arn, "learner.example.com")
            .await
            .expect("state"),
        SubscriptionState::NotSubscribed
    );

    // Creating again finds the topic, and updates a changed display name.
    let again = create_topic(&sns, TOPIC, Some("KMS")).await.expect("again");
    assert_eq!(again.arn, topic.arn);
    let found = find_topic(&sns, TOPIC).await.expect("find");
    assert_eq!(found.map(|t| t.display_name), Some("KMS".to_string()));
}

#[tokio::test]
async fn policy_merge_keeps_other_statements_and_is_idempotent() {
    let env = common::workshop().await;
    let sns = aws_sdk_sns::Client::new(&env.cfg);
    let topic = create_topic(&sns, TOPIC, None).await.expect("topic");
    let before = policy_of(&sns, &topic.arn).await;
    let original = before["Statement"].as_array().cloned().expect("statements");
    assert!(!original.is_empty());

    assert_eq!(
        allow_eventbridge_publish(&sns, &topic.arn)
            .await
            .expect("merge"),
        PolicyChange::Added
    );
    let after = policy_of(&sns, &topic.arn).await;
    let statements = after["Statement"].as_array().cloned().expect("statements");
    assert_eq!(statements.len(), original.len() + 1);
    assert_eq!(statements[..original.len()], original[..]);
    let ours = statements.last().expect("ours");
    assert_eq!(ours["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(ours["Action"], "sns:Publish");
    assert_eq!(ours["Resource"], topic.arn.as_str());

    assert_eq!(
        allow_eventbridge_publish(&sns, &topic.arn)
            .await
            .expect("merge again"),
        PolicyChange::AlreadyAllowed
    );
    assert_eq!(policy_of(&sns, &topic.arn).await, after);

    let missing = format!("arn:aws:sns:{}:{}:nothere", seed::REGION, seed::ACCOUNT);
    let err = allow_eventbridge_publish(&sns, &missing)
        .await
        .expect_err("no topic");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn rule_target_and_policy_deliver_generate_data_key_to_a_confirmed_email() {
    let env = common::workshop().await;
    let sns = aws_sdk_sns::Client::new(&env.cfg);
    let events = aws_sdk_eventbridge::Client::new(&env.cfg);
    let ct = aws_sdk_cloudtrail::Client::new(&env.cfg);
    let kms = aws_sdk_kms::Client::new(&env.cfg);

    let topic = create_topic(&sns, TOPIC, Some(DISPLAY_NAME))
        .await
        .expect("topic");
    let sub = subscribe_email(&sns, &topic.arn, EMAIL)
        .await
        .expect("subscribe");
    assert!(sub.starts_with(&topic.arn));
    assert_eq!(
        subscription_state(&sns, &topic.arn, EMAIL)
            .await
            .expect("state"),
        SubscriptionState::PendingConfirmation
    );
    let token = confirmation_token(&env, &topic.arn);
    let confirmed = confirm_subscription(&sns, &topic.arn, &token)
        .await
        .expect("confirm");
    assert_eq!(
        subscription_state(&sns, &topic.arn, "Learner@Example.com")
            .await
            .expect("state"),
        SubscriptionState::Confirmed { arn: confirmed }
    );

    // No trail yet: EventBridge gets no CloudTrail events.
    let check = trail_check(&ct).await.expect("trail check");
    assert!(check.trails.is_empty() && check.ready().is_none());
    let (s3, setup) = trail_setup(&env);
    let trail = ensure_management_trail(&s3, &ct, &setup)
        .await
        .expect("bucket, policy and trail");
    let stored = s3
        .get_bucket_policy()
        .bucket(&setup.bucket)
        .send()
        .await
        .expect("GetBucketPolicy");
    let stored: Value = serde_json::from_str(stored.policy().expect("policy")).expect("JSON");
    assert_eq!(stored, cloudtrail_bucket_policy(&setup));
    assert!(trail.is_logging);
    assert_eq!(trail.bucket.as_deref(), Some("kmsworkshop-trail-logs"));
    let check = trail_check(&ct).await.expect("trail check");
    assert_eq!(check.trails.len(), 1);
    assert!(check.trails[0].is_logging);
    if check.trails[0].management.includes_read().is_some() {
        assert_eq!(
            check.ready().map(|t| t.name.as_str()),
            Some("kmsworkshop-trail")
        );
    } else {
        assert_eq!(check.unverified().count(), 1);
    }
    // Creating it again keeps the trail and keeps it logging.
    assert!(
        create_logging_trail(&ct, &setup)
            .await
            .expect("again")
            .is_logging
    );

    let rule_arn = put_rule(&events, &RuleSpec::workshop("kmsworkshop-gdk"))
        .await
        .expect("rule");
    assert!(rule_arn.ends_with("rule/kmsworkshop-gdk"));
    put_sns_target(&events, "kmsworkshop-gdk", TOPIC, &topic.arn)
        .await
        .expect("target");

    let notifications = |env: &common::Env| {
        env.sb
            .outbox(0)
            .into_iter()
            .filter(|m| m.kind == "Notification" && m.recipient == EMAIL)
            .collect::<Vec<_>>()
    };
    let generate = || async {
        kms.generate_data_key()
            .key_id(IMPORTED_ALIAS)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .encryption_context("project", "workshop")
            .send()
            .await
            .expect("GenerateDataKey");
        env.sb.tick();
    };

    // Without the topic policy statement EventBridge may not publish: nothing arrives.
    generate().await;
    assert!(notifications(&env).is_empty());

    assert_eq!(
        allow_eventbridge_publish(&sns, &topic.arn)
            .await
            .expect("policy"),
        PolicyChange::Added
    );
    generate().await;
    let mails = notifications(&env);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let message: Value =
        serde_json::from_str(mails[0].document["Message"].as_str().expect("Message"))
            .expect("the event as JSON");
    assert_eq!(message["source"], "aws.kms");
    assert_eq!(message["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(message["detail"]["eventName"], "GenerateDataKey");
    assert_eq!(
        message["detail"]["requestParameters"]["keyId"],
        IMPORTED_ALIAS
    );

    // The rule as EventBridge reports it passes the check.
    let view = read_rule(&events, "kmsworkshop-gdk")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(view.state.as_deref(), Some(ALL_MANAGEMENT_EVENTS));
    let sample = sample_generate_data_key_event(seed::ACCOUNT, seed::REGION, &k3_arn(&env).await);
    let checked = verify_rule(&view, &topic.arn, &sample);
    assert!(checked.passed(), "{checked:#?}");
    // The real event delivered matches the pattern too.
    let real = preflight(&workshop_pattern().to_string(), &message).expect("valid");
    assert!(real.matched);
}

#[tokio::test]
async fn preflight_catches_the_consoles_cloudtrail_pattern() {
    let env = common::workshop().await;
    let events = aws_sdk_eventbridge::Client::new(&env.cfg);
    let topic = format!("arn:aws:sns:{}:{}:{TOPIC}", seed::REGION, seed::ACCOUNT);
    // As the console's "Service Name: CloudTrail" builds it, made by hand.
    let console = r#"{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["GenerateDataKey"]}}"#;
    events
        .put_rule()
        .name("by-hand")
        .event_pattern(console)
        .send()
        .await
        .expect("PutRule");
    let view = read_rule(&events, "by-hand")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(view.state.as_deref(), Some("ENABLED"));
    let sample = sample_generate_data_key_event(seed::ACCOUNT, seed::REGION, &k3_arn(&env).await);
    let checked = verify_rule(&view, &topic, &sample);
    let failed: Vec<&str> = checked.failures().map(|c| c.criterion).collect();
    assert_eq!(failed, vec!["state", "pattern", "target"], "{checked:#?}");
    let pattern = &checked.checks[1].reason;
    assert!(
        pattern.contains("aws.cloudtrail") && pattern.contains("aws.kms"),
        "{pattern}"
    );
    assert!(checked.checks[0].reason.contains(ALL_MANAGEMENT_EVENTS));

    let flight = preflight(view.pattern.as_deref().expect("pattern"), &sample).expect("valid");
    assert!(!flight.matched);
    let paths: Vec<&str> = flight.mismatches.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, vec!["source", "detail.eventSource"]);

    assert_eq!(
        read_rule(&events, "no-such-rule").await.expect("read"),
        None
    );
    let bad = RuleSpec {
        state: "ON".into(),
        ..RuleSpec::workshop("kmsworkshop-gdk")
    };
    let err = put_rule(&events, &bad).await.expect_err("state");
    assert_eq!(err.field(), Some("State"));
}

/// A member of an organization lists the management account's trail but may not read its
/// status or selectors (`TrailNotFoundException`): that trail counts as not logging and the
/// check goes on to the account's own trails instead of failing.
#[tokio::test]
async fn an_organization_trail_the_member_cannot_read_counts_as_not_logging() {
    use kms_workshop_sandbox::realism::Realism;
    use kms_workshop_sandbox::services::cloudtrail::organization;
    let env = common::start(kms_workshop_sandbox::Config {
        realism: Realism {
            organization_trail: true,
            ..Realism::default()
        },
        ..kms_workshop_sandbox::Config::default()
    })
    .await;
    let ct = aws_sdk_cloudtrail::Client::new(&env.cfg);
    let status = ct
        .get_trail_status()
        .name(organization::trail().arn)
        .send()
        .await
        .expect_err("another account's trail");
    assert_eq!(
        status.into_service_error().meta().code(),
        Some("TrailNotFoundException")
    );

    let check = trail_check(&ct).await.expect("the check goes on");
    assert_eq!(check.trails.len(), 1, "{check:#?}");
    assert_eq!(check.trails[0].name, organization::NAME);
    assert!(!check.trails[0].is_logging);
    assert!(check.ready().is_none());

    let (s3, setup) = trail_setup(&env);
    ensure_management_trail(&s3, &ct, &setup)
        .await
        .expect("the account's own trail");
    let check = trail_check(&ct).await.expect("trail check");
    assert_eq!(check.trails.len(), 2, "{check:#?}");
    assert_eq!(
        check.ready().map(|t| t.name.as_str()),
        Some("kmsworkshop-trail")
    );
}
