//! Cross-service deliveries are authorised as AWS authorises them: a CloudWatch alarm in one
//! account cannot publish into another account's topic unless that topic's access policy lets
//! `cloudwatch.amazonaws.com` publish for it (EventBridge's rules already were checked).

use crate::common;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{ComparisonOperator, HistoryItemType, StateValue, Statistic};
use common::{classroom_learner, serve};
use kms_workshop_sandbox::{seed, Config, Sandbox};

/// Learner 1's alarm `name` notifying `topic`, set to ALARM: its Action history item.
async fn fire(cfg: &SdkConfig, name: &str, topic: &str) -> String {
    let cw = aws_sdk_cloudwatch::Client::new(cfg);
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/KMS")
        .metric_name("SecondsUntilKeyMaterialExpiration")
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .alarm_actions(topic)
        .send()
        .await
        .expect("put alarm");
    cw.set_alarm_state()
        .alarm_name(name)
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .expect("set alarm state");
    let history = cw
        .describe_alarm_history()
        .alarm_name(name)
        .history_item_type(HistoryItemType::Action)
        .send()
        .await
        .expect("history");
    history
        .alarm_history_items()
        .iter()
        .filter_map(|h| h.history_summary())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn an_alarm_cannot_publish_into_another_accounts_topic_unless_its_policy_allows() {
    let sb = Sandbox::open(Config {
        learners: 2,
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let (one, two) = (
        classroom_learner(&ep, 1).await,
        classroom_learner(&ep, 2).await,
    );
    let sns2 = aws_sdk_sns::Client::new(&two);
    let victim = sns2
        .create_topic()
        .name("victim")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_string();
    let summary = fire(&one, "into-two", &victim).await;
    assert!(
        summary.contains("Failed"),
        "the default policy keeps learner 1's alarm out: {summary}"
    );
    // Learner 2 lets learner 1's alarms in.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": victim,
            "Condition": {"StringEquals": {"aws:SourceAccount": seed::learner(1).account}}
        }]
    });
    sns2.set_topic_attributes()
        .topic_arn(&victim)
        .attribute_name("Policy")
        .attribute_value(policy.to_string())
        .send()
        .await
        .expect("set policy");
    let summary = fire(&one, "allowed-into-two", &victim).await;
    assert!(summary.contains("Successfully"), "{summary}");
    // An alarm in the topic's own account publishes under the default policy.
    let own = sns2
        .create_topic()
        .name("own")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_string();
    let summary = fire(&two, "own-topic", &own).await;
    assert!(summary.contains("Successfully"), "{summary}");
    // Unless the topic's policy explicitly denies CloudWatch: a deny wins in any account.
    let deny = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": own,
        }]
    });
    sns2.set_topic_attributes()
        .topic_arn(&own)
        .attribute_name("Policy")
        .attribute_value(deny.to_string())
        .send()
        .await
        .expect("set policy");
    let summary = fire(&two, "own-topic-denied", &own).await;
    assert!(
        summary.contains("Failed"),
        "an explicit deny stops it: {summary}"
    );
    running.shutdown().await;
}
