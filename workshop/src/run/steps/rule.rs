//! Step 4: the EventBridge rule that sends GenerateDataKey calls to the topic, the topic
//! policy that lets EventBridge publish, the trail CloudTrail needs to hand events over, and a
//! new data key to see the notification arrive.

use std::time::Duration;

use anyhow::{anyhow, Result};
use kms_workshop_cleanup::ResourceKind;
use kms_workshop_keys::DataKeySpec;
use kms_workshop_names::{trail_bucket, TRAIL};
use kms_workshop_notify::RuleSpec;
use time::OffsetDateTime;

use super::{context, generate_data_key, topic, Step};
use crate::run::admin::Admin;
use crate::run::checks::{criteria, Checks};
use crate::run::{Ctx, KEY_ALIAS, RULE_NAME};
use crate::target::TargetKind;

/// The id of the rule's target (the workshop's `put-targets` uses this one).
const TARGET_ID: &str = "snsworkshop";

pub struct Rule;

criteria! {
    pub enum Check {
        PatternMatches = "pattern-matches",
        RuleState = "rule-state",
        RuleTarget = "rule-target",
        TopicPolicy = "topic-policy",
        TrailLogging = "trail-logging",
        Notified = "notified",
    }
}

impl Step for Rule {
    const ID: &'static str = "eventbridge-rule";
    type Criterion = Check;

    async fn perform(cx: &mut Ctx) -> Result<()> {
        let topic_arn =
            topic::topic_arn(cx).ok_or_else(|| anyhow!("no topic yet: do the SNS step first"))?;
        // The pattern is checked locally before anything waits on AWS.
        let spec = RuleSpec::workshop(RULE_NAME);
        let pre = kms_workshop_notify::preflight(&spec.pattern.to_string(), &sample_event(cx))?;
        if !pre.matched {
            return Err(anyhow!(
                "the rule's pattern does not match a GenerateDataKey event: {:?}",
                pre.mismatches
            ));
        }
        ensure_trail(cx).await?;
        let rule_arn = kms_workshop_notify::put_rule(&cx.events, &spec).await?;
        cx.record(Self::ID, ResourceKind::EventsRule, &rule_arn);
        cx.set_fact(Self::ID, "rule_arn", rule_arn);
        kms_workshop_notify::allow_eventbridge_publish(&cx.sns, &topic_arn).await?;
        kms_workshop_notify::put_sns_target(&cx.events, RULE_NAME, TARGET_ID, &topic_arn).await?;
        // A new data key, to see the notification.
        let dk = kms_workshop_keys::generate_data_key(
            &cx.kms,
            KEY_ALIAS,
            DataKeySpec::Aes256,
            &context(),
        )
        .await?;
        cx.set_fact(
            Self::ID,
            "trigger_request_id",
            dk.request_id.clone().unwrap_or_default(),
        );
        let at = crate::util::rfc3339(cx.now().await);
        cx.set_fact(Self::ID, "trigger_at", at);
        cx.ui
            .say("  Generated another data key: its notification should reach the topic.");
        Ok(())
    }

    async fn verify(cx: &mut Ctx, checks: &mut Checks<Check>) {
        let Some(topic_arn) = topic::topic_arn(cx) else {
            return checks.fail(Check::RuleTarget, "no topic: do the SNS step first");
        };
        let view = match kms_workshop_notify::read_rule(&cx.events, RULE_NAME).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                return checks.fail(Check::PatternMatches, format!("no rule named {RULE_NAME}"))
            }
            Err(e) => return checks.aws(Check::PatternMatches, &e),
        };
        let verdict = kms_workshop_notify::verify_rule(&view, &topic_arn, &sample_event(cx));
        for (id, criterion) in [
            (Check::PatternMatches, "pattern"),
            (Check::RuleState, "state"),
            (Check::RuleTarget, "target"),
        ] {
            match verdict.checks.iter().find(|c| c.criterion == criterion) {
                Some(c) => checks.check(id, c.passed, c.reason.clone()),
                None => checks.fail(id, "not checked"),
            }
        }
        check_topic_policy(cx, checks, &topic_arn).await;
        match kms_workshop_notify::trail_check(&cx.trail).await {
            Ok(c) => match c.ready() {
                Some(tr) => {
                    checks.pass(Check::TrailLogging, format!("trail {} is logging", tr.name))
                }
                None => checks.fail(
                    Check::TrailLogging,
                    "no trail logs management events: CloudTrail hands EventBridge nothing",
                ),
            },
            Err(e) => checks.aws(Check::TrailLogging, &e),
        }
        notified(cx, checks, &topic_arn).await;
    }
}

/// A GenerateDataKey event as CloudTrail would hand it to EventBridge here.
fn sample_event(cx: &Ctx) -> serde_json::Value {
    let key_arn = generate_data_key::key_arn(cx).unwrap_or_default();
    kms_workshop_notify::sample_generate_data_key_event(
        &cx.target.account,
        &cx.target.region,
        &key_arn,
    )
}

/// A trail must be logging for CloudTrail to hand events to EventBridge: make one if none is
/// (on AWS, only when the learner agrees).
async fn ensure_trail(cx: &mut Ctx) -> Result<()> {
    let check = kms_workshop_notify::trail_check(&cx.trail).await?;
    if check.ready().is_some() {
        return Ok(());
    }
    let create = match cx.target.kind {
        TargetKind::Aws if cx.ui.interactive => cx
            .ui
            .confirm(
                &format!("No trail logs management events here, so EventBridge gets no CloudTrail events. Create trail {TRAIL} (and an S3 bucket for its logs)?"),
                false,
            )
            .unwrap_or(false),
        TargetKind::Aws => cx.yes,
        _ => true,
    };
    if !create {
        return Err(anyhow!(
            "no trail is logging management events, and none was created"
        ));
    }
    let setup = kms_workshop_notify::TrailSetup {
        trail_name: TRAIL.into(),
        bucket: trail_bucket(&cx.target.account, &cx.target.region),
        account_id: cx.target.account.clone(),
        region: cx.target.region.clone(),
    };
    let info = kms_workshop_notify::ensure_management_trail(&cx.s3, &cx.trail, &setup).await?;
    cx.record(Rule::ID, ResourceKind::CloudTrailTrail, &info.arn);
    cx.record(
        Rule::ID,
        ResourceKind::S3Bucket,
        &format!("arn:aws:s3:::{}", setup.bucket),
    );
    cx.set_fact(Rule::ID, "trail_arn", info.arn.clone());
    cx.ui.say(format!(
        "  Created trail {} (logging management events).",
        info.name
    ));
    Ok(())
}

/// The topic policy has a statement that lets EventBridge publish.
async fn check_topic_policy(cx: &Ctx, checks: &mut Checks<Check>, topic_arn: &str) {
    let policy = cx
        .sns
        .get_topic_attributes()
        .topic_arn(topic_arn)
        .send()
        .await
        .map(|a| a.attributes().and_then(|m| m.get("Policy").cloned()));
    let p = match policy {
        Ok(p) => p,
        Err(e) => {
            let f = kms_workshop_aws_errors::AwsFailure::from_sdk("GetTopicAttributes", e);
            return checks.aws(Check::TopicPolicy, &f);
        }
    };
    match kms_workshop_notify::merge_statement(
        p.as_deref(),
        &kms_workshop_notify::events_publish_statement(topic_arn),
    ) {
        Ok(None) => checks.pass(
            Check::TopicPolicy,
            "a statement allows events.amazonaws.com sns:Publish",
        ),
        Ok(Some(_)) => checks.fail(
            Check::TopicPolicy,
            "no statement lets events.amazonaws.com publish: targets added through the API need one",
        ),
        Err(e) => checks.fail(Check::TopicPolicy, e),
    }
}

/// Whether the notification of the step's GenerateDataKey reached the subscribers: in the
/// sandbox, the email in the inbox; on AWS, the rule's invocations (the learner's inbox is out
/// of reach).
async fn notified(cx: &Ctx, checks: &mut Checks<Check>, topic_arn: &str) {
    let Some(request_id) = cx.fact(Rule::ID, "trigger_request_id") else {
        return checks.fail(Check::Notified, "no data key generated since the rule was made: choose \"Do it for me\" or run generate-data-key again");
    };
    if let Some(admin) = &cx.admin {
        let mailed = notification_in_inbox(cx, admin, topic_arn, &request_id).await;
        if checks
            .waited(
                Check::Notified,
                mailed,
                "no notification arrived before the deadline",
            )
            .is_some()
        {
            checks.pass(
                Check::Notified,
                format!(
                    "an email to {} carries the event of request {request_id}",
                    cx.email
                ),
            );
        }
    } else {
        let invoked = invocations(cx).await;
        if let Some(n) = checks.waited(
            Check::Notified,
            invoked,
            "the rule has not invoked its target yet",
        ) {
            checks.pass(
                Check::Notified,
                format!("the rule invoked its target {n} time(s); check your inbox"),
            );
        }
    }
}

/// The sandbox: wait for the notification email of `request_id` (its subject, when it came).
async fn notification_in_inbox(
    cx: &Ctx,
    admin: &Admin,
    topic_arn: &str,
    request_id: &str,
) -> Option<Result<Option<String>>> {
    let email = cx.email.as_str();
    let deadline = cx.cloudtrail_timeout;
    let poll = async {
        let started = std::time::Instant::now();
        loop {
            let msgs = admin.outbox().await?;
            if let Some(m) = msgs.iter().find(|m| {
                m["kind"] == "Notification"
                    && m["recipient"] == email
                    && m["topic_arn"] == topic_arn
                    && m["body"].as_str().is_some_and(|b| b.contains(request_id))
            }) {
                return Ok::<_, anyhow::Error>(Some(
                    m["subject"].as_str().unwrap_or("").to_string(),
                ));
            }
            if started.elapsed() > deadline {
                return Ok(None);
            }
            admin.tick().await?;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    cx.ui
        .wait(
            "waiting for the notification email in the sandbox's inbox",
            poll,
        )
        .await
}

/// AWS: wait for the rule to invoke its target since the trigger (how many times).
async fn invocations(cx: &Ctx) -> Option<Result<Option<f64>>> {
    let since = cx
        .fact(Rule::ID, "trigger_at")
        .and_then(|s| crate::util::parse_rfc3339(&s))
        .unwrap_or_else(OffsetDateTime::now_utc);
    let cw = cx.cw.clone();
    let deadline = cx.cloudtrail_timeout;
    let poll = async move {
        let started = std::time::Instant::now();
        loop {
            let sum = rule_invocations(&cw, since).await?;
            if sum > 0.0 {
                return Ok::<_, anyhow::Error>(Some(sum));
            }
            if started.elapsed() > deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    };
    cx.ui
        .wait(
            "waiting for the rule to deliver (AWS/Events Invocations)",
            poll,
        )
        .await
}

async fn rule_invocations(cw: &aws_sdk_cloudwatch::Client, since: OffsetDateTime) -> Result<f64> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let out = cw
        .get_metric_statistics()
        .namespace("AWS/Events")
        .metric_name("Invocations")
        .dimensions(
            Dimension::builder()
                .name("RuleName")
                .value(RULE_NAME)
                .build(),
        )
        .statistics(Statistic::Sum)
        .period(60)
        .start_time(DateTime::from_secs(since.unix_timestamp() - 60))
        .end_time(DateTime::from_secs(
            OffsetDateTime::now_utc().unix_timestamp() + 60,
        ))
        .send()
        .await
        .map_err(|e| kms_workshop_aws_errors::AwsFailure::from_sdk("GetMetricStatistics", e))?;
    Ok(out.datapoints().iter().filter_map(|d| d.sum()).sum())
}
