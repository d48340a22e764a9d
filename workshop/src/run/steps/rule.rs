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
use kms_workshop_sandbox::services::sns::OutboxMessage;

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

    /// The topic policy the `set-topic-attributes` command shown sets: the topic's own with
    /// EventBridge's statement added, in a file the command names by its full path.
    async fn prepare(cx: &mut Ctx) -> Result<()> {
        let topic_arn = cx.values().get("topic_arn").cloned().unwrap_or_default();
        let (doc, _) = kms_workshop_notify::policy_with_eventbridge(&cx.sns, &topic_arn).await?;
        let file = json_file(cx, "topic-policy.json", &doc)?;
        cx.set_fact(Self::ID, "topic_policy_file", file);
        // Without a logging trail the learner's commands start with making one.
        let check = kms_workshop_notify::trail_check(&cx.trail).await?;
        let none_logs = check.ready().is_none() && check.unverified().next().is_none();
        cx.set_fact(Self::ID, "no_trail", if none_logs { "yes" } else { "no" });
        if none_logs {
            let setup = trail_setup(cx);
            let policy = kms_workshop_notify::cloudtrail_bucket_policy(&setup);
            let file = json_file(cx, "trail-bucket-policy.json", &policy)?;
            cx.set_fact(Self::ID, "trail_policy_file", file);
            cx.set_fact(Self::ID, "trail", setup.trail_name);
            cx.set_fact(Self::ID, "trail_bucket", setup.bucket);
            // Outside us-east-1 S3 wants the bucket's region named.
            let location = match cx.target.region.as_str() {
                "us-east-1" => String::new(),
                r => format!(" --create-bucket-configuration LocationConstraint={r}"),
            };
            cx.set_fact(Self::ID, "bucket_location", location);
        }
        Ok(())
    }

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
            Ok(c) => match (c.ready(), c.unverified().next()) {
                (Some(tr), _) => {
                    checks.pass(Check::TrailLogging, format!("trail {} is logging", tr.name))
                }
                (None, Some(tr)) => checks.error(
                    Check::TrailLogging,
                    format!("trail {} is logging, but its event selectors cannot be read here", tr.name),
                ),
                (None, None) => checks.fail(
                    Check::TrailLogging,
                    "no trail logs KMS's read-only management events: CloudTrail hands EventBridge nothing",
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
    // A trail that logs but whose selectors this identity may not read probably records
    // management events: a second trail would be billed for nothing.
    if let Some(t) = check.unverified().next() {
        cx.ui.say(format!(
            "  Trail {} is logging, but its event selectors cannot be read here: assuming it records KMS's management events (no second trail made).",
            t.name
        ));
        return Ok(());
    }
    let cost = if check.trails.is_empty() {
        "the first trail's management events are free; its log files cost S3 storage".to_string()
    } else {
        format!(
            "a trail already records management events (not KMS's read-only ones), so this one is a second copy: {}",
            kms_workshop_notify::SECOND_TRAIL_COST
        )
    };
    let create = match cx.target.kind {
        TargetKind::Aws if cx.ui.interactive => cx
            .ui
            .confirm(
                &format!("No trail logs KMS's read-only management events here, so EventBridge gets no GenerateDataKey. Create trail {TRAIL} (and an S3 bucket for its logs)? Cost: {cost}."),
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
    let setup = trail_setup(cx);
    let info = kms_workshop_notify::ensure_management_trail(&cx.s3, &cx.trail, &setup).await?;
    cx.record(Rule::ID, ResourceKind::CloudTrailTrail, &info.arn);
    cx.record(
        Rule::ID,
        ResourceKind::S3Bucket,
        &format!("arn:{}:s3:::{}", cx.target.partition(), setup.bucket),
    );
    cx.set_fact(Rule::ID, "trail_arn", info.arn.clone());
    cx.ui.say(format!(
        "  Created trail {} (logging management events).",
        info.name
    ));
    Ok(())
}

/// Write `doc` as `name` beside the progress file, for a command shown to name; its path.
fn json_file(cx: &Ctx, name: &str, doc: &serde_json::Value) -> Result<String> {
    let file = cx.files_dir().join(name);
    let text = serde_json::to_string_pretty(doc)? + "\n";
    crate::util::write_private(&file, text.as_bytes())
        .map_err(|e| anyhow!("cannot write {}: {e}", file.display()))?;
    Ok(file.display().to_string())
}

/// The workshop's trail in this account and region.
fn trail_setup(cx: &Ctx) -> kms_workshop_notify::TrailSetup {
    kms_workshop_notify::TrailSetup {
        trail_name: TRAIL.into(),
        bucket: trail_bucket(&cx.target.account, &cx.target.region),
        account_id: cx.target.account.clone(),
        region: cx.target.region.clone(),
        partition: cx.target.partition().to_string(),
    }
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

/// When the step's latest GenerateDataKey was made: the runner's own (do it for me, or a
/// re-trigger), else the learner's since the step began.
fn trigger_since(cx: &Ctx) -> OffsetDateTime {
    let trigger = cx
        .fact(Rule::ID, "trigger_at")
        .and_then(|s| crate::util::parse_rfc3339(&s));
    let started = super::started(cx, Rule::ID);
    trigger.max(started).unwrap_or_else(|| cx.target.now())
}

/// Whether the notification of a GenerateDataKey made for this step (by the runner, or by the
/// learner with the command shown) reached the subscribers: in the sandbox, the email in the
/// inbox; on AWS, the topic's delivery metrics (the learner's inbox is out of reach). Not
/// waited for when what it needs already failed: nothing could arrive.
async fn notified(cx: &mut Ctx, checks: &mut Checks<Check>, topic_arn: &str) {
    let blocked = [
        Check::PatternMatches,
        Check::RuleState,
        Check::RuleTarget,
        Check::TopicPolicy,
        Check::TrailLogging,
    ]
    .into_iter()
    .any(|c| checks.failed(c));
    if blocked {
        return checks.fail(
            Check::Notified,
            "not waited for: fix what failed above first, then verify again",
        );
    }
    let since = trigger_since(cx);
    if let Some(admin) = &cx.admin {
        let mailed = notification_in_inbox(cx, admin, topic_arn, since).await;
        if let Some(m) = checks.waited(
            Check::Notified,
            mailed,
            "no notification arrived before the deadline (generate a data key with the command shown, then verify again)",
        ) {
            cx.ui.say("\n  The notification email:");
            cx.ui.say(crate::mail::render_indented(&m, "    "));
            let rid = notified_request(&m).unwrap_or_else(|| "?".into());
            checks.pass(
                Check::Notified,
                format!("an email to {} carries the event of request {rid}", cx.email),
            );
        }
        return;
    }
    let evidence = delivered(cx, topic_arn, since).await;
    if let Some(d) = checks.waited(
        Check::Notified,
        evidence,
        "no notification delivered by the topic yet (AWS/SNS NumberOfNotificationsDelivered)",
    ) {
        let reason = if d.delivered > 0.0 {
            format!(
                "the topic delivered {} notification(s) since the last data key; check your inbox",
                d.delivered
            )
        } else {
            format!("the rule failed to invoke the topic {} time(s) since the last data key (AWS/Events FailedInvocations): check the topic policy", d.failed)
        };
        checks.check(Check::Notified, d.delivered > 0.0, reason);
    }
}

/// What CloudWatch says of the notifications since the latest trigger.
struct Delivery {
    delivered: f64,
    failed: f64,
}

/// At most this many new data keys while waiting for a notification on AWS.
const RETRIGGERS: u32 = 3;

/// AWS: wait for the topic to deliver a notification since the latest trigger (AWS/SNS
/// NumberOfNotificationsDelivered; AWS/Events Invocations also counts failed attempts, so it
/// proves nothing), or for the rule to fail invoking it; a new data key every two minutes (at
/// most [`RETRIGGERS`]), since a rule just put may not have been live for the first one.
async fn delivered(
    cx: &mut Ctx,
    topic_arn: &str,
    since: OffsetDateTime,
) -> Option<Result<Option<Delivery>>> {
    let topic_name = topic_arn.rsplit(':').next().unwrap_or_default().to_string();
    let deadline = cx.cloudtrail_timeout;
    let retrigger = cx
        .pause(Duration::from_secs(120))
        .max(Duration::from_secs(10));
    let poll_every = cx.pause(Duration::from_secs(30));
    let (cw, kms) = (cx.cw.clone(), cx.kms.clone());
    // Metrics are timed by AWS's clock, as the trigger must be.
    let target = &cx.target;
    let aws_now = || target.now();
    let mut latest = since;
    let poll = async {
        let started = std::time::Instant::now();
        let mut triggered = std::time::Instant::now();
        let mut retriggers = 0;
        loop {
            let sum = |ns, metric, dim| metric_sum(&cw, (ns, metric), dim, (latest, aws_now()));
            let delivered = sum(
                "AWS/SNS",
                "NumberOfNotificationsDelivered",
                ("TopicName", &topic_name),
            )
            .await?;
            let failed = sum("AWS/Events", "FailedInvocations", ("RuleName", RULE_NAME)).await?;
            if delivered > 0.0 || failed > 0.0 {
                return Ok::<_, anyhow::Error>(Some(Delivery { delivered, failed }));
            }
            if started.elapsed() > deadline {
                return Ok(None);
            }
            if triggered.elapsed() > retrigger && retriggers < RETRIGGERS {
                latest = aws_now();
                kms_workshop_keys::generate_data_key(
                    &kms,
                    KEY_ALIAS,
                    DataKeySpec::Aes256,
                    &context(),
                )
                .await?;
                triggered = std::time::Instant::now();
                retriggers += 1;
            }
            tokio::time::sleep(poll_every).await;
        }
    };
    let out = cx
        .ui
        .wait(
            "waiting for the topic to deliver the notification (AWS/SNS NumberOfNotificationsDelivered)",
            poll,
        )
        .await;
    if latest > since {
        cx.set_fact(Rule::ID, "trigger_at", crate::util::rfc3339(latest));
    }
    out
}

/// The event a notification carries (EventBridge publishes it as the message, as JSON).
fn carried_event(m: &OutboxMessage) -> serde_json::Value {
    m.document["Message"]
        .as_str()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// The request id of the GenerateDataKey event a notification email carries.
fn notified_request(m: &OutboxMessage) -> Option<String> {
    carried_event(m)["detail"]["requestID"]
        .as_str()
        .map(str::to_string)
}

/// The sandbox: wait for the notification email of a GenerateDataKey (the runner's or the
/// learner's) sent since `since`.
async fn notification_in_inbox(
    cx: &Ctx,
    admin: &Admin,
    topic_arn: &str,
    since: OffsetDateTime,
) -> Option<Result<Option<OutboxMessage>>> {
    let deadline = cx.cloudtrail_timeout;
    let ours = |m: &OutboxMessage| {
        m.kind == "Notification"
            && m.topic_arn == topic_arn
            && m.time >= since - time::Duration::seconds(1)
            && carried_event(m)["detail"]["eventName"] == "GenerateDataKey"
    };
    let poll = async {
        let started = std::time::Instant::now();
        loop {
            if let Some(m) = admin.latest_mail(&cx.email, ours).await? {
                return Ok::<_, anyhow::Error>(Some(m));
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

/// The sum of one metric with one dimension, from a minute before `since` (at most three
/// hours back: a 60-second period allows 1,440 datapoints) to a minute after `now` (both on
/// AWS's clock).
async fn metric_sum(
    cw: &aws_sdk_cloudwatch::Client,
    (namespace, metric): (&str, &str),
    (dimension, value): (&str, &str),
    (since, now): (OffsetDateTime, OffsetDateTime),
) -> Result<f64> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let out = cw
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(metric)
        .dimensions(Dimension::builder().name(dimension).value(value).build())
        .statistics(Statistic::Sum)
        .period(60)
        .start_time(DateTime::from_secs(
            (since.unix_timestamp() - 60).max(now.unix_timestamp() - 3 * 3600),
        ))
        .end_time(DateTime::from_secs(now.unix_timestamp() + 60))
        .send()
        .await
        .map_err(|e| kms_workshop_aws_errors::AwsFailure::from_sdk("GetMetricStatistics", e))?;
    Ok(out.datapoints().iter().filter_map(|d| d.sum()).sum())
}
