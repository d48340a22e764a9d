//! The alarms crate against the sandbox through the real SDK: KMS metrics, the recommended
//! expiry alarm on K3 going INSUFFICIENT_DATA → OK → ALARM as the sandbox clock moves, its
//! history and notification, and the checklist of a hand-made alarm.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use kms_workshop_testkit as common;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use kms_workshop_alarms::{
    alarm_history, check_alarm, describe_alarm, expiration_readings, kms_metrics,
    latest_expiration_reading, put_expiration_alarm, AlarmSpec, AlarmsError, TreatMissingData,
    EXPIRATION_METRIC,
};
use kms_workshop_names::sandbox::{ACCOUNT, REGION};
use kms_workshop_names::{IMPORTED_ALIAS, TOPIC};

async fn k3_id(env: &common::Env) -> String {
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    kms.describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string()
}

/// The `snsworkshop` topic with a confirmed email subscription; its ARN.
async fn topic(env: &common::Env) -> String {
    let sns = aws_sdk_sns::Client::new(&env.cfg);
    let arn = sns
        .create_topic()
        .name(TOPIC)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("arn")
        .to_string();
    sns.subscribe()
        .topic_arn(&arn)
        .protocol("email")
        .endpoint("learner@example.com")
        .send()
        .await
        .expect("Subscribe");
    let confirmation = env
        .sb
        .outbox(0)
        .into_iter()
        .find(|m| m.kind == "SubscriptionConfirmation")
        .expect("confirmation mail");
    let token = confirmation.document["Token"].as_str().expect("token");
    sns.confirm_subscription()
        .topic_arn(&arn)
        .token(token)
        .send()
        .await
        .expect("ConfirmSubscription");
    arn
}

fn advance(env: &common::Env, by: time::Duration) {
    env.sb.advance_clock(by).expect("advance clock");
    env.sb.tick();
}

#[tokio::test]
async fn expiry_alarm_on_k3_goes_from_insufficient_data_to_ok_to_alarm() {
    let env = common::workshop().await;
    let cw = aws_sdk_cloudwatch::Client::new(&env.cfg);
    let key = k3_id(&env).await;
    let topic_arn = topic(&env).await;

    let metrics = kms_metrics(&cw).await.expect("ListMetrics");
    assert!(
        metrics
            .iter()
            .any(|m| m.name == EXPIRATION_METRIC && m.dimension("KeyId") == Some(key.as_str())),
        "{metrics:#?}"
    );
    let now = env.sb.clock.now();
    let readings = expiration_readings(&cw, &key, now, time::Duration::minutes(10))
        .await
        .expect("readings");
    assert!(readings.len() >= 9, "{readings:?}");
    assert!(readings.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    let latest = latest_expiration_reading(&cw, &key, now)
        .await
        .expect("latest")
        .expect("a reading");
    let left = latest.time_left();
    assert!(
        left > time::Duration::days(19)
            && left <= time::Duration::days(20) + time::Duration::minutes(1),
        "{left}"
    );

    let spec = AlarmSpec::recommended("ImportedCMK-expiry", &key, &topic_arn);
    put_expiration_alarm(&cw, &spec)
        .await
        .expect("PutMetricAlarm");
    let a = describe_alarm(&cw, &spec.name).await.expect("alarm");
    assert_eq!(a.state, "INSUFFICIENT_DATA");
    assert_eq!(a.statistic.as_deref(), Some("Minimum"));
    assert_eq!(a.threshold, Some(864_000.0));
    assert_eq!(a.alarm_actions, vec![topic_arn.clone()]);
    assert_eq!(a.treat_missing_data.as_deref(), Some("missing"));
    let list = check_alarm(&cw, &spec.name, &spec)
        .await
        .expect("checklist");
    assert!(list.passed(), "{list:#?}");

    advance(&env, time::Duration::seconds(60));
    let a = describe_alarm(&cw, &spec.name).await.expect("alarm");
    assert_eq!(a.state, "OK", "{a:#?}");
    assert!(a.reason.is_some());

    advance(&env, time::Duration::days(11));
    let a = describe_alarm(&cw, &spec.name).await.expect("alarm");
    assert_eq!(a.state, "ALARM", "{a:#?}");

    let history = alarm_history(&cw, &spec.name).await.expect("history");
    let transitions: Vec<(Option<&str>, Option<&str>)> = history
        .iter()
        .filter(|h| h.is_state_update())
        .map(|h| (h.old_state.as_deref(), h.new_state.as_deref()))
        .collect();
    assert_eq!(
        transitions,
        vec![
            (Some("OK"), Some("ALARM")),
            (Some("INSUFFICIENT_DATA"), Some("OK")),
        ],
        "newest first: {history:#?}"
    );
    assert!(history.iter().any(|h| h.kind == "ConfigurationUpdate"));

    let mails: Vec<_> = env
        .sb
        .outbox(0)
        .into_iter()
        .filter(|m| m.kind == "Notification")
        .collect();
    assert_eq!(mails.len(), 1, "one ALARM notification");
    assert!(mails[0]
        .subject
        .starts_with("ALARM: \"ImportedCMK-expiry\""));
}

#[tokio::test]
async fn checklist_flags_a_hand_made_alarm_with_the_wrong_statistic() {
    let env = common::workshop().await;
    let cw = aws_sdk_cloudwatch::Client::new(&env.cfg);
    let key = k3_id(&env).await;
    let topic_arn = topic(&env).await;
    cw.put_metric_alarm()
        .alarm_name("by-hand")
        .namespace("AWS/KMS")
        .metric_name(EXPIRATION_METRIC)
        .dimensions(Dimension::builder().name("KeyId").value(&key).build())
        .statistic(Statistic::Average)
        .period(300)
        .evaluation_periods(1)
        .threshold(864_000.0)
        .comparison_operator(ComparisonOperator::LessThanOrEqualToThreshold)
        .alarm_actions(&topic_arn)
        .send()
        .await
        .expect("PutMetricAlarm");
    let expected = AlarmSpec::recommended("by-hand", &key, &topic_arn);
    let list = check_alarm(&cw, "by-hand", &expected)
        .await
        .expect("checklist");
    assert!(!list.passed());
    let failed: Vec<&str> = list.failures().map(|c| c.criterion).collect();
    assert_eq!(failed, vec!["statistic", "period"], "{list:#?}");
    assert_eq!(
        list.get("statistic").map(|c| c.reason.as_str()),
        Some("statistic is Average, expected Minimum")
    );
    assert_eq!(
        list.get("period").map(|c| c.reason.as_str()),
        Some("period is 300 s, expected 60 s")
    );
    assert!(list.get("threshold").is_some_and(|c| c.passed));

    // Against another topic, the action fails too.
    let other = AlarmSpec::recommended(
        "by-hand",
        &key,
        &format!("arn:aws:sns:{REGION}:{ACCOUNT}:other"),
    );
    let list = check_alarm(&cw, "by-hand", &other)
        .await
        .expect("checklist");
    assert!(list.get("alarm action").is_some_and(|c| !c.passed));

    let missing = describe_alarm(&cw, "no-such-alarm")
        .await
        .expect_err("missing");
    assert!(missing.is_not_found());
    assert!(!missing.is_infrastructure());
}

#[tokio::test]
async fn invalid_specs_are_refused_before_calling() {
    let env = common::workshop().await;
    let cw = aws_sdk_cloudwatch::Client::new(&env.cfg);
    let mut spec = AlarmSpec::recommended("x", IMPORTED_ALIAS, "arn:aws:sns:us-east-1:1:t");
    let err = put_expiration_alarm(&cw, &spec).await.expect_err("alias");
    assert!(matches!(
        err,
        AlarmsError::InvalidInput { field: "KeyId", .. }
    ));
    spec.key_id = "1234".into();
    spec.topic_arn = TOPIC.into();
    let err = put_expiration_alarm(&cw, &spec)
        .await
        .expect_err("not an ARN");
    assert!(matches!(
        err,
        AlarmsError::InvalidInput {
            field: "AlarmActions",
            ..
        }
    ));
    assert_eq!(
        "notBreaching".parse::<TreatMissingData>().ok(),
        Some(TreatMissingData::NotBreaching)
    );
    assert!("never".parse::<TreatMissingData>().is_err());
}
