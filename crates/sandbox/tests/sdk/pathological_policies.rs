//! Policies cannot bring the sandbox down: a topic policy past AWS's 30 KiB (here a `Resource`
//! of 300,000 `*`, which overflowed the stack of the old recursive matcher) is refused, and a
//! policy built to make a backtracking matcher take exponential time is evaluated like any
//! other (the one wildcard matcher is linear).

use crate::common;

use common::{learner_config, serve};
use kms_workshop_sandbox::{Config, Sandbox};

fn policy(topic: &str, resource: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": resource,
        }, {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sns:Publish",
            "Resource": topic,
        }]
    })
    .to_string()
}

#[tokio::test]
async fn oversize_and_pathological_topic_policies() {
    let sb = Sandbox::open(Config::default()).expect("sandbox");
    let running = serve(&sb).await;
    let cfg = learner_config(&format!("http://{}", running.addr)).await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let topic = sns
        .create_topic()
        .name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_string();
    let set = |text: String| {
        sns.set_topic_attributes()
            .topic_arn(&topic)
            .attribute_name("Policy")
            .attribute_value(text)
            .send()
    };
    let err = set(policy(&topic, &"*".repeat(300_000)))
        .await
        .expect_err("a 300 KB policy");
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameter")
    );
    // Within the limit, the pattern a backtracking matcher chokes on is just a pattern.
    let nasty = format!("{}b", "*a".repeat(50));
    set(policy(&topic, &nasty))
        .await
        .expect("a nasty but small policy");
    sns.publish()
        .topic_arn(&topic)
        .message("still serving")
        .send()
        .await
        .expect("publish");
    running.shutdown().await;
}
