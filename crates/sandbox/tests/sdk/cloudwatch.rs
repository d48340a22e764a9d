//! CloudWatch through the Rust SDK (RPC v2 CBOR) against an in-process sandbox: the KMS
//! guide's alarm on `SecondsUntilKeyMaterialExpiration`, metric reads, SetAlarmState,
//! DeleteAlarms, errors, and the alarm firing to SNS after the sandbox clock is advanced.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, HistoryItemType, Metric, MetricDataQuery, MetricDatum,
    MetricStat, StateValue, Statistic,
};
use kms_workshop_names::{IMPORTED_ALIAS, TOPIC};
use kms_workshop_sandbox::services::kms::KmsState;
use kms_workshop_sandbox::services::sns::{SnsState, Subscription, Topic};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};

struct Env {
    sb: Arc<Sandbox>,
    _running: Running,
    cfg: SdkConfig,
}

impl Env {
    fn cw(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.cfg)
    }
    fn now(&self) -> time::OffsetDateTime {
        self.sb.clock.now()
    }
}

async fn start() -> Env {
    let (sb, running) = common::start_sandbox(Config {
        seed: Seed::Workshop,
        ..Config::default()
    })
    .await;
    let cfg = common::learner_config(&running.endpoint()).await;
    Env {
        sb,
        _running: running,
        cfg,
    }
}

fn topic_arn(env: &Env) -> String {
    format!("arn:aws:sns:{}:{}:{TOPIC}", seed::REGION, account(env))
}

fn account(_env: &Env) -> String {
    seed::ACCOUNT.to_string()
}

/// A topic with a confirmed email subscription, made directly in the SNS state.
fn make_topic(env: &Env) {
    let arn = topic_arn(env);
    let acct = account(env);
    env.sb
        .write::<SnsState, _>(&acct, seed::REGION, |st| {
            st.topics.insert(
                arn.clone(),
                Topic {
                    name: TOPIC.into(),
                    arn: arn.clone(),
                    owner: acct.clone(),
                    attributes: Default::default(),
                    tags: Default::default(),
                    deleted_subscriptions: 0,
                },
            );
            let sub = format!("{arn}:sub-1");
            st.subscriptions.insert(
                sub.clone(),
                Subscription {
                    arn: sub,
                    topic_arn: arn.clone(),
                    owner: acct.clone(),
                    protocol: "email".into(),
                    endpoint: "learner@example.com".into(),
                    confirmed: true,
                    token: "t".into(),
                    token_expires: time::OffsetDateTime::now_utc() + time::Duration::days(2),
                    attributes: Default::default(),
                },
            );
            Ok(())
        })
        .unwrap();
}

fn k3(env: &Env) -> String {
    env.sb
        .read::<KmsState, _>(seed::ACCOUNT, seed::REGION, |st| {
            st.aliases.get(IMPORTED_ALIAS).unwrap().target.clone()
        })
}

fn dt(t: time::OffsetDateTime) -> DateTime {
    DateTime::from_secs(t.unix_timestamp())
}

fn alarm_mails(env: &Env) -> Vec<kms_workshop_sandbox::services::sns::OutboxMessage> {
    env.sb
        .outbox(0)
        .into_iter()
        .filter(|m| m.kind == "Notification")
        .collect()
}

async fn state_of(env: &Env, name: &str) -> StateValue {
    let out = env
        .cw()
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap();
    out.metric_alarms()[0].state_value().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_expiry_alarm_fires_through_cbor() {
    let env = start().await;
    make_topic(&env);
    let key = k3(&env);
    let cw = env.cw();
    let dim = Dimension::builder().name("KeyId").value(&key).build();

    cw.put_metric_alarm()
        .alarm_name("ImportedCMK-expiry")
        .namespace("AWS/KMS")
        .metric_name("SecondsUntilKeyMaterialExpiration")
        .dimensions(dim.clone())
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(864_000.0)
        .comparison_operator(ComparisonOperator::LessThanOrEqualToThreshold)
        .alarm_actions(topic_arn(&env))
        .send()
        .await
        .unwrap();
    let a = cw
        .describe_alarms()
        .alarm_names("ImportedCMK-expiry")
        .send()
        .await
        .unwrap();
    let alarm = &a.metric_alarms()[0];
    assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(
        alarm.state_reason(),
        Some("Unchecked: Initial alarm creation")
    );
    assert_eq!(alarm.threshold(), Some(864_000.0));
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(alarm.dimensions()[0].value(), Some(key.as_str()));
    assert!(alarm
        .alarm_arn()
        .unwrap()
        .ends_with(":alarm:ImportedCMK-expiry"));

    // The metric: one datapoint a minute, the seconds until ValidTo, newest first.
    let now = env.now();
    let q = MetricDataQuery::builder()
        .id("m1")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/KMS")
                        .metric_name("SecondsUntilKeyMaterialExpiration")
                        .dimensions(dim.clone())
                        .build(),
                )
                .period(60)
                .stat("Minimum")
                .build(),
        )
        .build();
    let data = cw
        .get_metric_data()
        .metric_data_queries(q.clone())
        .start_time(dt(now - time::Duration::minutes(10)))
        .end_time(dt(now))
        .send()
        .await
        .unwrap();
    let r = &data.metric_data_results()[0];
    assert_eq!(r.id(), Some("m1"));
    assert_eq!(r.status_code().map(|s| s.as_str()), Some("Complete"));
    assert!(r.values().len() >= 9, "{r:?}");
    assert!(r.timestamps()[0].secs() > r.timestamps()[1].secs());
    assert!(r.values()[0] < r.values()[1]);
    assert!(
        r.values()[0] > 19.0 * 86_400.0 && r.values()[0] <= 20.0 * 86_400.0 + 60.0,
        "{r:?}"
    );

    // A minute of sandbox time: the alarm is evaluated, OK (20 days left).
    env.sb.advance_clock(time::Duration::seconds(60)).unwrap();
    env.sb.tick();
    assert_eq!(state_of(&env, "ImportedCMK-expiry").await, StateValue::Ok);
    assert!(alarm_mails(&env).is_empty());

    // 11 days later fewer than 10 days are left: ALARM, and the email goes out.
    env.sb.advance_clock(time::Duration::days(11)).unwrap();
    env.sb.tick();
    assert_eq!(
        state_of(&env, "ImportedCMK-expiry").await,
        StateValue::Alarm
    );
    let mails = alarm_mails(&env);
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject,
        "ALARM: \"ImportedCMK-expiry\" in US East (N. Virginia)"
    );
    // An email subscriber reads AWS's text, not the JSON (email-json gets that).
    let text = mails[0].document["Message"].as_str().unwrap();
    assert!(
        text.starts_with("You are receiving this email because your Amazon CloudWatch Alarm \"ImportedCMK-expiry\" in the US East (N. Virginia) region has entered the ALARM state, because \"Threshold Crossed: "),
        "{text}"
    );
    for line in [
        "- State Change:               OK -> ALARM".to_string(),
        format!("- AWS Account:                {}", seed::ACCOUNT),
        "- The alarm is in the ALARM state when the metric is LessThanOrEqualToThreshold 864000.0 for 60 seconds.".to_string(),
        format!("- Dimensions:                          [KeyId = {key}]"),
        "- Statistic:                           Minimum".to_string(),
    ] {
        assert!(text.contains(&line), "{line}\n{text}");
    }
    assert!(mails[0].body.starts_with(text), "{}", mails[0].body);

    // History: created, two state updates, one action.
    let h = cw
        .describe_alarm_history()
        .alarm_name("ImportedCMK-expiry")
        .send()
        .await
        .unwrap();
    let kinds: Vec<_> = h
        .alarm_history_items()
        .iter()
        .map(|i| i.history_item_type().unwrap().clone())
        .collect();
    assert_eq!(kinds[0], HistoryItemType::Action);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == HistoryItemType::StateUpdate)
            .count(),
        2
    );
    assert_eq!(kinds.last(), Some(&HistoryItemType::ConfigurationUpdate));

    // SetAlarmState fires the actions of the new state (none for OK; ALARM mails again).
    cw.set_alarm_state()
        .alarm_name("ImportedCMK-expiry")
        .state_value(StateValue::Ok)
        .state_reason("testing")
        .send()
        .await
        .unwrap();
    assert_eq!(state_of(&env, "ImportedCMK-expiry").await, StateValue::Ok);
    cw.set_alarm_state()
        .alarm_name("ImportedCMK-expiry")
        .state_value(StateValue::Alarm)
        .state_reason("testing")
        .send()
        .await
        .unwrap();
    assert_eq!(alarm_mails(&env).len(), 2);

    // Errors, with the query-compatible codes.
    let e = cw
        .set_alarm_state()
        .alarm_name("nope")
        .state_value(StateValue::Ok)
        .state_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().code(), Some("ResourceNotFound"));
    let e = cw
        .put_metric_data()
        .namespace("AWS/KMS")
        .metric_data(MetricDatum::builder().metric_name("x").value(1.0).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().code(), Some("InvalidParameterValue"));
    let e = cw
        .put_metric_alarm()
        .alarm_name("bad")
        .namespace("AWS/KMS")
        .metric_name("SecondsUntilKeyMaterialExpiration")
        .statistic(Statistic::Minimum)
        .period(45)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().code(), Some("InvalidParameterValue"));

    // Custom metrics round-trip through PutMetricData and GetMetricStatistics.
    let now = env.now();
    cw.put_metric_data()
        .namespace("Workshop")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .value(3.0)
                .timestamp(dt(now))
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .value(5.0)
                .timestamp(dt(now))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let s = cw
        .get_metric_statistics()
        .namespace("Workshop")
        .metric_name("Latency")
        .start_time(dt(now - time::Duration::minutes(5)))
        .end_time(dt(now + time::Duration::minutes(1)))
        .period(60)
        .statistics(Statistic::Average)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .unwrap();
    assert_eq!(s.datapoints().len(), 1);
    assert_eq!(s.datapoints()[0].average(), Some(4.0));
    assert_eq!(s.datapoints()[0].sample_count(), Some(2.0));
    let metrics = cw.list_metrics().namespace("AWS/KMS").send().await.unwrap();
    assert!(metrics
        .metrics()
        .iter()
        .any(|m| m.dimensions()[0].value() == Some(key.as_str())));

    cw.delete_alarms()
        .alarm_names("ImportedCMK-expiry")
        .send()
        .await
        .unwrap();
    assert!(cw
        .describe_alarms()
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .is_empty());
    let e = cw
        .delete_alarms()
        .alarm_names("ImportedCMK-expiry")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().code(), Some("ResourceNotFound"));
}
