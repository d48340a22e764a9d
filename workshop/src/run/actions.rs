//! What each step does ("do it for me") and how it is verified, through the domain crates.
//! Verification never assumes the runner did the work: it looks at the account, so a learner
//! who ran the CLI commands themselves is checked the same way.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use base64::Engine;
use kms_workshop_cleanup::{InventoryItem, ResourceKind};
use kms_workshop_keys::{DataKeySpec, KeysError};
use kms_workshop_notify::{RuleSpec, SubscriptionState};
use kms_workshop_trail::{Attribute, LookupQuery, TrailEvent, WaitFor};
use time::OffsetDateTime;

use super::steps::Step;
use super::ui::Crit;
use super::{Ctx, ALARM_NAME, KEY_ALIAS, RULE_NAME};

fn context() -> BTreeMap<String, String> {
    [("project".to_string(), "workshop".to_string())].into()
}

fn set_fact(cx: &mut Ctx, step: &str, name: &str, value: impl Into<String>) {
    cx.progress
        .steps
        .entry(step.to_string())
        .or_default()
        .facts
        .insert(name.to_string(), value.into());
}

fn record(cx: &mut Ctx, step: &str, kind: ResourceKind, arn: &str) {
    let item = InventoryItem {
        arn: arn.to_string(),
        kind,
        region: cx.target.region.clone(),
        account: cx.target.account.clone(),
        step: Some(step.to_string()),
    };
    cx.progress.record(item);
}

/// "Now" as the target sees it (the sandbox clock may run ahead of the wall clock).
async fn now(cx: &Ctx) -> OffsetDateTime {
    match &cx.admin {
        Some(a) => a.now().await.unwrap_or_else(|_| OffsetDateTime::now_utc()),
        None => OffsetDateTime::now_utc(),
    }
}

/// Do the step's work.
pub async fn perform(cx: &mut Ctx, step: &str) -> Result<()> {
    match step {
        "generate-data-key" => generate(cx, step).await,
        "find-in-cloudtrail" => find_event(cx).await,
        "sns-topic" => topic(cx, step).await,
        "eventbridge-rule" => rule(cx, step).await,
        "kms-alarm" => alarm(cx, step).await,
        "cleanup" => cleanup(cx, step).await,
        other => Err(anyhow!("no action for step '{other}'")),
    }
}

/// Check the step's criteria, recording what they found in the step's facts.
pub async fn verify(cx: &mut Ctx, step: &Step) -> Vec<Crit> {
    let text = |id: &str| {
        let values = cx.values();
        step.verify
            .iter()
            .find(|c| c.id == id)
            .map(|c| super::steps::fill(&c.text, &values))
            .unwrap_or_else(|| id.to_string())
    };
    let texts: BTreeMap<String, String> = step
        .verify
        .iter()
        .map(|c| (c.id.clone(), text(&c.id)))
        .collect();
    let t = |id: &str| texts.get(id).cloned().unwrap_or_else(|| id.to_string());
    let crits = match step.id.as_str() {
        "generate-data-key" => verify_generate(cx, &t).await,
        "find-in-cloudtrail" => verify_event(cx, &t).await,
        "sns-topic" => verify_topic(cx, &t).await,
        "eventbridge-rule" => verify_rule(cx, &t).await,
        "kms-alarm" => verify_alarm(cx, &t).await,
        "cleanup" => verify_cleanup(cx, &t).await,
        other => vec![Crit::fail(other, other, "no verification for this step")],
    };
    let values: Vec<serde_json::Value> = crits
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect();
    cx.progress
        .steps
        .entry(step.id.clone())
        .or_default()
        .criteria = values;
    crits
}

/// An AWS failure as a criterion: infrastructure problems are `error`, the rest `failed`.
fn aws_crit(id: &str, text: &str, infra: bool, e: impl std::fmt::Display) -> Crit {
    if infra {
        Crit::error(id, text, e.to_string())
    } else {
        Crit::fail(id, text, e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Generate a data key

async fn generate(cx: &mut Ctx, step: &str) -> Result<()> {
    set_fact(cx, step, "started", crate::util::rfc3339(now(cx).await));
    let dk =
        kms_workshop_keys::generate_data_key(&cx.kms, KEY_ALIAS, DataKeySpec::Aes256, &context())
            .await
            .with_context(|| format!("GenerateDataKey with {KEY_ALIAS}"))?;
    // The plaintext key is dropped (and zeroed) here: the workshop only looks at the call.
    set_fact(cx, step, "key_id", dk.key_id.clone());
    set_fact(cx, step, "key_arn", dk.key_arn.clone());
    set_fact(
        cx,
        step,
        "ciphertext",
        base64::engine::general_purpose::STANDARD.encode(&dk.ciphertext),
    );
    if let Some(r) = &dk.request_id {
        set_fact(cx, step, "request_id", r.clone());
    }
    cx.ui.say(format!(
        "  Generated a 256-bit data key under {} (request id {}); the plaintext stays in memory only and is gone now.",
        dk.key_arn,
        dk.request_id.as_deref().unwrap_or("?")
    ));
    Ok(())
}

async fn verify_generate(cx: &mut Ctx, t: &dyn Fn(&str) -> String) -> Vec<Crit> {
    let step = "generate-data-key";
    let mut out = Vec::new();
    match kms_workshop_keys::describe_key(&cx.kms, KEY_ALIAS).await {
        Ok(k) if k.state == "Enabled" => {
            set_fact(cx, step, "key_id", k.key_id.clone());
            set_fact(cx, step, "key_arn", k.arn.clone());
            out.push(Crit::pass(
                "key-usable",
                &t("key-usable"),
                format!("{} is Enabled", k.key_id),
            ))
        }
        Ok(k) => out.push(Crit::fail(
            "key-usable",
            &t("key-usable"),
            format!("{} is {}", k.key_id, k.state),
        )),
        Err(e) => out.push(aws_crit(
            "key-usable",
            &t("key-usable"),
            e.is_infrastructure(),
            e,
        )),
    }
    // Done by the learner: find their call in CloudTrail.
    if cx.fact(step, "request_id").is_none() {
        match find_own_call(cx).await {
            Ok(Some(ev)) => {
                if let Some(r) = ev.record.as_ref().and_then(|r| r.request_id.clone()) {
                    set_fact(cx, step, "request_id", r);
                }
            }
            Ok(None) => {}
            Err(e) => out.push(Crit::error(
                "data-key-generated",
                &t("data-key-generated"),
                e.to_string(),
            )),
        }
    }
    match cx.fact(step, "request_id") {
        Some(r) => out.push(Crit::pass("data-key-generated", &t("data-key-generated"), format!("request id {r}"))),
        None if out.iter().any(|c| c.id == "data-key-generated") => {}
        None => out.push(Crit::fail(
            "data-key-generated",
            &t("data-key-generated"),
            "no GenerateDataKey on alias/ImportedCMK with project=workshop found since the step began",
        )),
    }
    let id = "context-bound";
    match cx.fact(step, "ciphertext") {
        Some(b64) => {
            let blob = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            let with = kms_workshop_keys::decrypt(&cx.kms, &blob, &context(), None).await;
            let without = kms_workshop_keys::decrypt(&cx.kms, &blob, &BTreeMap::new(), None).await;
            match (with, without) {
                (Ok(_), Err(KeysError::InvalidCiphertext(_))) => out.push(Crit::pass(
                    id,
                    &t(id),
                    "Decrypt succeeds with project=workshop and fails with InvalidCiphertextException without it",
                )),
                (Ok(_), Ok(_)) => out.push(Crit::fail(id, &t(id), "the ciphertext decrypts without the context")),
                (Err(e), _) | (_, Err(e)) => out.push(aws_crit(id, &t(id), e.is_infrastructure(), e)),
            }
        }
        // The learner's own data key never reached the runner: the context is checked in the
        // CloudTrail record by the next step.
        None => out.push(Crit::pass(
            id,
            &t(id),
            "generated outside the runner: the next step checks the context CloudTrail recorded",
        )),
    }
    out
}

/// The learner's own GenerateDataKey (done outside the runner) since the step began.
async fn find_own_call(cx: &Ctx) -> Result<Option<TrailEvent>> {
    let since = cx
        .fact("generate-data-key", "started")
        .and_then(|s| crate::util::parse_rfc3339(&s))
        .unwrap_or_else(|| OffsetDateTime::now_utc() - time::Duration::hours(1));
    let q = LookupQuery {
        attribute: Some((Attribute::EventName, "GenerateDataKey".into())),
        start: Some(since - time::Duration::minutes(1)),
        end: None,
        max_events: Some(50),
    };
    let events = kms_workshop_trail::lookup(&cx.trail, q).await?;
    Ok(events.into_iter().find(|e| {
        e.record.as_ref().is_some_and(|r| {
            r.encryption_context() == Some(context())
                && r.resources.iter().any(|x| {
                    cx.fact("generate-data-key", "key_arn")
                        .is_some_and(|k| x.arn.as_deref() == Some(k.as_str()))
                })
        })
    }))
}

// ---------------------------------------------------------------------------------------------
// 2. Find it in CloudTrail

async fn find_event(cx: &mut Ctx) -> Result<()> {
    // Verification does the finding; doing it "for" the learner is the same wait.
    let _ = cx;
    Ok(())
}

async fn verify_event(cx: &mut Ctx, t: &dyn Fn(&str) -> String) -> Vec<Crit> {
    let step = "find-in-cloudtrail";
    let Some(request_id) = cx.fact("generate-data-key", "request_id") else {
        return vec![Crit::fail(
            "event-found",
            &t("event-found"),
            "no data key request to look for: do step 1 first",
        )];
    };
    let start = cx
        .fact("generate-data-key", "started")
        .and_then(|s| crate::util::parse_rfc3339(&s))
        .unwrap_or_else(OffsetDateTime::now_utc);
    let wait = WaitFor::new(request_id.clone(), "GenerateDataKey", start)
        .deadline(cx.cloudtrail_timeout)
        .intervals(
            if cx.is_sandbox() {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(5)
            },
            Duration::from_secs(30),
        );
    let trail = cx.trail.clone();
    let found = cx
        .ui
        .wait(
            &format!(
                "waiting for CloudTrail to show request {request_id} (about 5 minutes on AWS)"
            ),
            kms_workshop_trail::wait_for_event(&trail, wait, |_| {}),
        )
        .await;
    let found = match found {
        None => {
            return vec![Crit::fail(
                "event-found",
                &t("event-found"),
                "skipped the wait: verify again later",
            )]
        }
        Some(Err(e)) => {
            return vec![aws_crit(
                "event-found",
                &t("event-found"),
                e.is_infrastructure(),
                e,
            )]
        }
        Some(Ok(f)) => f,
    };
    let mut out = vec![Crit::pass(
        "event-found",
        &t("event-found"),
        format!(
            "after {} lookups in {:.1} s",
            found.attempts,
            found.elapsed.as_secs_f64()
        ),
    )];
    let ev = found.event;
    let rec = ev.record.clone();
    show_event(cx, &ev);
    let username = ev.username.clone().unwrap_or_default();
    let access_key = ev.access_key_id.clone().unwrap_or_default();
    set_fact(
        cx,
        step,
        "event_id",
        ev.event_id.clone().unwrap_or_default(),
    );
    set_fact(cx, step, "username", username.clone());
    set_fact(cx, step, "access_key", access_key.clone());
    let ctx_ok = rec.as_ref().and_then(|r| r.encryption_context()) == Some(context());
    out.push(if ctx_ok {
        Crit::pass(
            "event-context",
            &t("event-context"),
            "requestParameters.encryptionContext = {project: workshop}",
        )
    } else {
        Crit::fail(
            "event-context",
            &t("event-context"),
            format!(
                "the record's encryption context is {:?}",
                rec.as_ref().and_then(|r| r.encryption_context())
            ),
        )
    });
    let event_id = ev.event_id.clone().unwrap_or_default();
    let since = ev.event_time.map(|t| t - time::Duration::minutes(1));
    for (id, attr, value) in [
        ("by-username", Attribute::Username, username),
        (
            "by-event-source",
            Attribute::EventSource,
            "kms.amazonaws.com".to_string(),
        ),
        ("by-access-key", Attribute::AccessKeyId, access_key),
    ] {
        let q = LookupQuery {
            attribute: Some((attr, value.clone())),
            start: since,
            end: None,
            max_events: Some(50),
        };
        let text = super::steps::fill(&t(id), &cx.values());
        match kms_workshop_trail::lookup(&cx.trail, q).await {
            Ok(list) => {
                let hit = list
                    .iter()
                    .any(|e| e.event_id.as_deref() == Some(event_id.as_str()));
                cx.ui.say(format!(
                    "\n  Filtered by {attr} = {value}: {} event(s) since the call",
                    list.len()
                ));
                for e in list.iter().take(5) {
                    cx.ui.say(format!(
                        "    {}  {:<24} {:<22} {}",
                        e.event_time.map(crate::util::rfc3339).unwrap_or_default(),
                        e.event_name.as_deref().unwrap_or(""),
                        e.username.as_deref().unwrap_or(""),
                        e.event_source.as_deref().unwrap_or("")
                    ));
                }
                out.push(if hit {
                    Crit::pass(
                        id,
                        &text,
                        format!("{} event(s), ours among them", list.len()),
                    )
                } else {
                    Crit::fail(id, &text, "our event is not among the results")
                });
            }
            Err(e) => out.push(aws_crit(id, &text, e.is_infrastructure(), e)),
        }
    }
    out
}

/// Who, what, how, when of one event.
fn show_event(cx: &Ctx, ev: &TrailEvent) {
    let Some(r) = &ev.record else {
        return;
    };
    let u = &r.user_identity;
    let rows: Vec<(&str, String)> = vec![
        (
            "Who",
            format!(
                "{} ({}), {}",
                ev.username.clone().unwrap_or_default(),
                u.kind.clone().unwrap_or_default(),
                u.arn.clone().unwrap_or_default()
            ),
        ),
        ("  access key", u.access_key_id.clone().unwrap_or_default()),
        (
            "What",
            format!(
                "{} on {}",
                r.event_name.clone().unwrap_or_default(),
                r.event_source.clone().unwrap_or_default()
            ),
        ),
        ("  key", r.resource_arns("AWS::KMS::Key").join(", ")),
        ("  key spec", r.key_spec().unwrap_or("").to_string()),
        (
            "  encryption context",
            r.encryption_context()
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        ),
        (
            "  read-only",
            r.read_only.map(|b| b.to_string()).unwrap_or_default(),
        ),
        (
            "How",
            format!(
                "from {} with {}",
                r.source_ip_address.clone().unwrap_or_default(),
                r.user_agent.clone().unwrap_or_default()
            ),
        ),
        (
            "When",
            r.event_time.map(crate::util::rfc3339).unwrap_or_default(),
        ),
        ("  request id", r.request_id.clone().unwrap_or_default()),
        ("  event id", r.event_id.clone().unwrap_or_default()),
    ];
    cx.ui.say("\n  The event you caused:");
    for (k, v) in rows {
        cx.ui.say(format!("    {k:<22} {v}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 3. SNS topic and email subscription

async fn topic(cx: &mut Ctx, step: &str) -> Result<()> {
    let topic = kms_workshop_notify::create_topic(&cx.sns, &cx.topic, Some(&cx.display_name))
        .await
        .context("creating the topic")?;
    record(cx, step, ResourceKind::SnsTopic, &topic.arn);
    set_fact(cx, step, "topic_arn", topic.arn.clone());
    let state = kms_workshop_notify::subscription_state(&cx.sns, &topic.arn, &cx.email).await?;
    if matches!(
        state,
        SubscriptionState::NotSubscribed | SubscriptionState::Deleted
    ) {
        kms_workshop_notify::subscribe_email(&cx.sns, &topic.arn, &cx.email)
            .await
            .context("subscribing the email address")?;
        cx.ui.say(format!(
            "  Subscribed {}: a confirmation email is on its way.",
            cx.email
        ));
    }
    confirm_in_sandbox(cx, &topic.arn).await
}

/// In the sandbox, the runner reads the inbox and (asked, or non-interactively) confirms.
async fn confirm_in_sandbox(cx: &mut Ctx, topic_arn: &str) -> Result<()> {
    let Some(admin) = &cx.admin else {
        cx.ui
            .say("  Open the email from AWS Notifications and click \"Confirm subscription\".");
        return Ok(());
    };
    let outbox = admin.outbox().await?;
    let Some(token) = outbox
        .iter()
        .rev()
        .filter(|m| {
            m["kind"] == "SubscriptionConfirmation"
                && m["recipient"] == cx.email.as_str()
                && m["topic_arn"] == topic_arn
        })
        .find_map(|m| m["document"]["Token"].as_str().map(str::to_string))
    else {
        return Ok(());
    };
    cx.ui.say(format!(
        "  The sandbox's inbox has the confirmation email for {}.",
        cx.email
    ));
    let go = !cx.ui.interactive
        || cx
            .ui
            .confirm(
                "Confirm the subscription (as clicking the link in the email would)?",
                true,
            )
            .unwrap_or(false);
    if go {
        let arn = kms_workshop_notify::confirm_subscription(&cx.sns, topic_arn, &token).await?;
        record(cx, "sns-topic", ResourceKind::SnsSubscription, &arn);
        set_fact(cx, "sns-topic", "subscription_arn", arn);
    }
    Ok(())
}

async fn verify_topic(cx: &mut Ctx, t: &dyn Fn(&str) -> String) -> Vec<Crit> {
    let step = "sns-topic";
    let topic = match kms_workshop_notify::find_topic(&cx.sns, &cx.topic).await {
        Ok(Some(tp)) => tp,
        Ok(None) => {
            return vec![Crit::fail(
                "topic-exists",
                &t("topic-exists"),
                "no such topic",
            )]
        }
        Err(e) => {
            return vec![aws_crit(
                "topic-exists",
                &t("topic-exists"),
                e.is_infrastructure(),
                e,
            )]
        }
    };
    set_fact(cx, step, "topic_arn", topic.arn.clone());
    let mut out = vec![Crit::pass(
        "topic-exists",
        &t("topic-exists"),
        topic.arn.clone(),
    )];
    let n = topic.display_name.chars().count();
    out.push(if (1..=10).contains(&n) {
        Crit::pass(
            "display-name",
            &t("display-name"),
            format!("\"{}\" ({n} characters)", topic.display_name),
        )
    } else {
        Crit::fail(
            "display-name",
            &t("display-name"),
            format!("\"{}\" has {n} characters", topic.display_name),
        )
    });
    let wait_confirmed = async {
        loop {
            match kms_workshop_notify::subscription_state(&cx.sns, &topic.arn, &cx.email).await {
                Ok(SubscriptionState::PendingConfirmation)
                    if cx.ui.interactive && !cx.is_sandbox() =>
                {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                other => return other,
            }
        }
    };
    let state = if cx.ui.interactive && !cx.is_sandbox() {
        cx.ui
            .wait(
                &format!("waiting for {} to confirm the subscription", cx.email),
                wait_confirmed,
            )
            .await
    } else {
        Some(wait_confirmed.await)
    };
    match state {
        None => {
            out.push(Crit::pass(
                "subscribed",
                &t("subscribed"),
                "pending confirmation",
            ));
            out.push(Crit::fail(
                "confirmed",
                &t("confirmed"),
                "skipped the wait: still pending",
            ));
        }
        Some(Ok(SubscriptionState::Confirmed { arn })) => {
            record(cx, step, ResourceKind::SnsSubscription, &arn);
            set_fact(cx, step, "subscription_arn", arn.clone());
            out.push(Crit::pass("subscribed", &t("subscribed"), arn));
            out.push(Crit::pass("confirmed", &t("confirmed"), "Confirmed"));
        }
        Some(Ok(SubscriptionState::PendingConfirmation)) => {
            out.push(Crit::pass(
                "subscribed",
                &t("subscribed"),
                "pending confirmation",
            ));
            out.push(Crit::fail(
                "confirmed",
                &t("confirmed"),
                "still pending: click the link in the email",
            ));
        }
        Some(Ok(other)) => {
            out.push(Crit::fail(
                "subscribed",
                &t("subscribed"),
                format!("{other:?}"),
            ));
            out.push(Crit::fail("confirmed", &t("confirmed"), "not subscribed"));
        }
        Some(Err(e)) => out.push(aws_crit(
            "subscribed",
            &t("subscribed"),
            e.is_infrastructure(),
            e,
        )),
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 4. EventBridge rule → topic

async fn rule(cx: &mut Ctx, step: &str) -> Result<()> {
    let topic_arn = cx
        .fact("sns-topic", "topic_arn")
        .ok_or_else(|| anyhow!("no topic yet: do the SNS step first"))?;
    // The pattern is checked locally before anything waits on AWS.
    let key_arn = cx.fact("generate-data-key", "key_arn").unwrap_or_default();
    let sample = kms_workshop_notify::sample_generate_data_key_event(
        &cx.target.account,
        &cx.target.region,
        &key_arn,
    );
    let spec = RuleSpec::workshop(RULE_NAME);
    let pre = kms_workshop_notify::preflight(&spec.pattern.to_string(), &sample)?;
    if !pre.matched {
        return Err(anyhow!(
            "the rule's pattern does not match a GenerateDataKey event: {:?}",
            pre.mismatches
        ));
    }
    // A trail must be logging for CloudTrail to hand events to EventBridge.
    let check = kms_workshop_notify::trail_check(&cx.trail).await?;
    if check.ready().is_none() {
        let create = match cx.target.kind {
            crate::target::TargetKind::Aws if cx.ui.interactive => cx
                .ui
                .confirm(
                    "No trail logs management events here, so EventBridge gets no CloudTrail events. Create trail KMSWorkshop-Trail (and an S3 bucket for its logs)?",
                    false,
                )
                .unwrap_or(false),
            crate::target::TargetKind::Aws => cx.yes,
            _ => true,
        };
        if !create {
            return Err(anyhow!(
                "no trail is logging management events, and none was created"
            ));
        }
        let setup = kms_workshop_notify::TrailSetup {
            trail_name: kms_workshop_cleanup::names::TRAIL.into(),
            bucket: kms_workshop_cleanup::names::trail_bucket(
                &cx.target.account,
                &cx.target.region,
            ),
            account_id: cx.target.account.clone(),
            region: cx.target.region.clone(),
        };
        let info = kms_workshop_notify::ensure_management_trail(&cx.s3, &cx.trail, &setup).await?;
        record(cx, step, ResourceKind::CloudTrailTrail, &info.arn);
        record(
            cx,
            step,
            ResourceKind::S3Bucket,
            &format!("arn:aws:s3:::{}", setup.bucket),
        );
        set_fact(cx, step, "trail_arn", info.arn.clone());
        cx.ui.say(format!(
            "  Created trail {} (logging management events).",
            info.name
        ));
    }
    let rule_arn = kms_workshop_notify::put_rule(&cx.events, &spec).await?;
    record(cx, step, ResourceKind::EventsRule, &rule_arn);
    set_fact(cx, step, "rule_arn", rule_arn);
    kms_workshop_notify::allow_eventbridge_publish(&cx.sns, &topic_arn).await?;
    kms_workshop_notify::put_sns_target(&cx.events, RULE_NAME, "snsworkshop", &topic_arn).await?;
    // A new data key, to see the notification.
    let dk =
        kms_workshop_keys::generate_data_key(&cx.kms, KEY_ALIAS, DataKeySpec::Aes256, &context())
            .await?;
    set_fact(
        cx,
        step,
        "trigger_request_id",
        dk.request_id.clone().unwrap_or_default(),
    );
    set_fact(cx, step, "trigger_at", crate::util::rfc3339(now(cx).await));
    cx.ui
        .say("  Generated another data key: its notification should reach the topic.");
    Ok(())
}

async fn verify_rule(cx: &mut Ctx, t: &dyn Fn(&str) -> String) -> Vec<Crit> {
    let mut out = Vec::new();
    let Some(topic_arn) = cx.fact("sns-topic", "topic_arn") else {
        return vec![Crit::fail(
            "rule-target",
            &t("rule-target"),
            "no topic: do the SNS step first",
        )];
    };
    let key_arn = cx.fact("generate-data-key", "key_arn").unwrap_or_default();
    let sample = kms_workshop_notify::sample_generate_data_key_event(
        &cx.target.account,
        &cx.target.region,
        &key_arn,
    );
    let view = match kms_workshop_notify::read_rule(&cx.events, RULE_NAME).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return vec![Crit::fail(
                "pattern-matches",
                &t("pattern-matches"),
                format!("no rule named {RULE_NAME}"),
            )]
        }
        Err(e) => {
            return vec![aws_crit(
                "pattern-matches",
                &t("pattern-matches"),
                e.is_infrastructure(),
                e,
            )]
        }
    };
    let check = kms_workshop_notify::verify_rule(&view, &topic_arn, &sample);
    let by = |criterion: &str| check.checks.iter().find(|c| c.criterion == criterion);
    for (id, criterion) in [
        ("pattern-matches", "pattern"),
        ("rule-state", "state"),
        ("rule-target", "target"),
    ] {
        match by(criterion) {
            Some(c) if c.passed => out.push(Crit::pass(id, &t(id), c.reason.clone())),
            Some(c) => out.push(Crit::fail(id, &t(id), c.reason.clone())),
            None => out.push(Crit::fail(id, &t(id), "not checked")),
        }
    }
    let policy = cx
        .sns
        .get_topic_attributes()
        .topic_arn(&topic_arn)
        .send()
        .await
        .map(|a| a.attributes().and_then(|m| m.get("Policy").cloned()));
    match policy {
        Ok(p) => {
            let merged = kms_workshop_notify::merge_statement(
                p.as_deref(),
                &kms_workshop_notify::events_publish_statement(&topic_arn),
            );
            out.push(match merged {
                Ok(None) => Crit::pass("topic-policy", &t("topic-policy"), "a statement allows events.amazonaws.com sns:Publish"),
                Ok(Some(_)) => Crit::fail("topic-policy", &t("topic-policy"), "no statement lets events.amazonaws.com publish: targets added through the API need one"),
                Err(e) => Crit::fail("topic-policy", &t("topic-policy"), e),
            });
        }
        Err(e) => {
            let f = kms_workshop_aws_errors::AwsFailure::from_sdk("GetTopicAttributes", e);
            out.push(aws_crit(
                "topic-policy",
                &t("topic-policy"),
                f.class.is_infrastructure(),
                f,
            ));
        }
    }
    match kms_workshop_notify::trail_check(&cx.trail).await {
        Ok(c) => out.push(match c.ready() {
            Some(tr) => Crit::pass(
                "trail-logging",
                &t("trail-logging"),
                format!("trail {} is logging", tr.name),
            ),
            None => Crit::fail(
                "trail-logging",
                &t("trail-logging"),
                "no trail logs management events: CloudTrail hands EventBridge nothing",
            ),
        }),
        Err(e) => out.push(aws_crit(
            "trail-logging",
            &t("trail-logging"),
            e.is_infrastructure(),
            e,
        )),
    }
    out.push(notified(cx, &topic_arn, &t("notified")).await);
    out
}

/// Whether the notification of the step's GenerateDataKey reached the subscribers: in the
/// sandbox, the email in the inbox; on AWS, the rule's invocations (the learner's inbox is out
/// of reach).
async fn notified(cx: &mut Ctx, topic_arn: &str, text: &str) -> Crit {
    let id = "notified";
    let Some(request_id) = cx.fact("eventbridge-rule", "trigger_request_id") else {
        return Crit::fail(id, text, "no data key generated since the rule was made: choose \"Do it for me\" or run generate-data-key again");
    };
    match &cx.admin {
        Some(admin) => {
            let email = cx.email.clone();
            let deadline = cx.cloudtrail_timeout;
            let poll = async {
                let started = std::time::Instant::now();
                loop {
                    let msgs = admin.outbox().await?;
                    if let Some(m) = msgs.iter().find(|m| {
                        m["kind"] == "Notification"
                            && m["recipient"] == email.as_str()
                            && m["topic_arn"] == topic_arn
                            && m["body"].as_str().is_some_and(|b| b.contains(&request_id))
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
            match cx
                .ui
                .wait(
                    "waiting for the notification email in the sandbox's inbox",
                    poll,
                )
                .await
            {
                Some(Ok(Some(_))) => Crit::pass(
                    id,
                    text,
                    format!(
                        "an email to {} carries the event of request {request_id}",
                        cx.email
                    ),
                ),
                Some(Ok(None)) => {
                    Crit::fail(id, text, "no notification arrived before the deadline")
                }
                Some(Err(e)) => Crit::error(id, text, format!("{e:#}")),
                None => Crit::fail(id, text, "skipped the wait"),
            }
        }
        None => {
            let since = cx
                .fact("eventbridge-rule", "trigger_at")
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
            match cx
                .ui
                .wait(
                    "waiting for the rule to deliver (AWS/Events Invocations)",
                    poll,
                )
                .await
            {
                Some(Ok(Some(n))) => Crit::pass(
                    id,
                    text,
                    format!("the rule invoked its target {n} time(s); check your inbox"),
                ),
                Some(Ok(None)) => Crit::fail(id, text, "the rule has not invoked its target yet"),
                Some(Err(e)) => Crit::error(id, text, format!("{e:#}")),
                None => Crit::fail(id, text, "skipped the wait"),
            }
        }
    }
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

// ---------------------------------------------------------------------------------------------
// 5. The expiry alarm

async fn alarm(cx: &mut Ctx, step: &str) -> Result<()> {
    let topic_arn = cx
        .fact("sns-topic", "topic_arn")
        .ok_or_else(|| anyhow!("no topic yet: do the SNS step first"))?;
    let key = kms_workshop_keys::describe_key(&cx.kms, KEY_ALIAS).await?;
    let mut spec = kms_workshop_alarms::AlarmSpec::recommended(ALARM_NAME, &key.key_id, &topic_arn);
    spec.threshold = cx.threshold;
    kms_workshop_alarms::put_expiration_alarm(&cx.cw, &spec).await?;
    let view = kms_workshop_alarms::describe_alarm(&cx.cw, ALARM_NAME).await?;
    if let Some(arn) = &view.arn {
        record(cx, step, ResourceKind::CloudWatchAlarm, arn);
    }
    set_fact(cx, step, "alarm_name", ALARM_NAME);
    Ok(())
}

async fn verify_alarm(cx: &mut Ctx, t: &dyn Fn(&str) -> String) -> Vec<Crit> {
    let step = "kms-alarm";
    let mut out = Vec::new();
    let key = match kms_workshop_keys::describe_key(&cx.kms, KEY_ALIAS).await {
        Ok(k) => k,
        Err(e) => {
            return vec![aws_crit(
                "metric-published",
                &t("metric-published"),
                e.is_infrastructure(),
                e,
            )]
        }
    };
    set_fact(cx, step, "key_id", key.key_id.clone());
    let now_at = now(cx).await;
    match kms_workshop_alarms::latest_expiration_reading(&cx.cw, &key.key_id, now_at).await {
        Ok(Some(r)) => out.push(Crit::pass(
            "metric-published",
            &t("metric-published"),
            format!(
                "{:.0} s ({:.1} days) until the material expires, at {}",
                r.seconds,
                r.seconds / 86_400.0,
                crate::util::rfc3339(r.timestamp)
            ),
        )),
        Ok(None) => out.push(Crit::fail(
            "metric-published",
            &t("metric-published"),
            "no datapoint in the last hours (is the key's material set to expire?)",
        )),
        Err(e) => out.push(aws_crit(
            "metric-published",
            &t("metric-published"),
            e.is_infrastructure(),
            e,
        )),
    }
    let Some(topic_arn) = cx.fact("sns-topic", "topic_arn") else {
        out.push(Crit::fail(
            "alarm-configured",
            &t("alarm-configured"),
            "no topic: do the SNS step first",
        ));
        return out;
    };
    let mut spec = kms_workshop_alarms::AlarmSpec::recommended(ALARM_NAME, &key.key_id, &topic_arn);
    spec.threshold = cx.threshold;
    match kms_workshop_alarms::check_alarm(&cx.cw, ALARM_NAME, &spec).await {
        Ok(list) if list.passed() => out.push(Crit::pass("alarm-configured", &t("alarm-configured"), "namespace, metric, dimension, statistic, period, comparison, threshold and action as recommended")),
        Ok(list) => out.push(Crit::fail(
            "alarm-configured",
            &t("alarm-configured"),
            list.failures().map(|c| c.reason.clone()).collect::<Vec<_>>().join("; "),
        )),
        Err(e) => {
            out.push(aws_crit("alarm-configured", &t("alarm-configured"), e.is_infrastructure(), e));
            return out;
        }
    }
    // Let the alarm evaluate (the sandbox: at its next tick; AWS: within a minute or two).
    let cw = cx.cw.clone();
    let admin = cx.admin.as_ref();
    let settle = async {
        for _ in 0..if admin.is_some() { 10 } else { 60 } {
            // The sandbox's minutes pass on request: one period of data per step.
            if let Some(a) = admin {
                a.advance(60.0).await?;
            }
            let v = kms_workshop_alarms::describe_alarm(&cw, ALARM_NAME).await?;
            if v.state != "INSUFFICIENT_DATA" {
                return Ok::<_, anyhow::Error>(Some(v));
            }
            tokio::time::sleep(if admin.is_some() {
                Duration::from_millis(250)
            } else {
                Duration::from_secs(10)
            })
            .await;
        }
        Ok(None)
    };
    let state = match cx
        .ui
        .wait("waiting for the alarm to leave INSUFFICIENT_DATA", settle)
        .await
    {
        Some(Ok(Some(v))) => {
            out.push(Crit::pass(
                "alarm-evaluated",
                &t("alarm-evaluated"),
                format!("{}: {}", v.state, v.reason.clone().unwrap_or_default()),
            ));
            Some(v.state)
        }
        Some(Ok(None)) => {
            out.push(Crit::fail(
                "alarm-evaluated",
                &t("alarm-evaluated"),
                "still INSUFFICIENT_DATA",
            ));
            None
        }
        Some(Err(e)) => {
            out.push(Crit::error(
                "alarm-evaluated",
                &t("alarm-evaluated"),
                format!("{e:#}"),
            ));
            None
        }
        None => {
            out.push(Crit::fail(
                "alarm-evaluated",
                &t("alarm-evaluated"),
                "skipped the wait",
            ));
            None
        }
    };
    if state.as_deref() == Some("OK") {
        see_it_fire(cx).await;
    }
    out
}

/// In the sandbox: move the clock past the threshold so the alarm fires and its email arrives.
async fn see_it_fire(cx: &mut Ctx) {
    let Some(admin) = &cx.admin else {
        return;
    };
    let key_id = cx.fact("kms-alarm", "key_id").unwrap_or_default();
    let now_at = now(cx).await;
    let Ok(Some(r)) = kms_workshop_alarms::latest_expiration_reading(&cx.cw, &key_id, now_at).await
    else {
        return;
    };
    let jump = (r.seconds - cx.threshold + 86_400.0).max(60.0);
    let days = jump / 86_400.0;
    let go = !cx.ui.interactive
        || cx
            .ui
            .confirm(
                &format!("Move the sandbox clock {days:.1} days ahead to see the alarm fire and its email arrive?"),
                true,
            )
            .unwrap_or(false);
    if !go {
        return;
    }
    if let Err(e) = admin.advance(jump).await {
        cx.ui
            .note(format!("  cannot move the sandbox clock: {e:#}"));
        return;
    }
    let cw = cx.cw.clone();
    let email = cx.email.clone();
    let watch = async {
        for _ in 0..40 {
            admin.tick().await?;
            let v = kms_workshop_alarms::describe_alarm(&cw, ALARM_NAME).await?;
            let mail = admin.outbox().await?.into_iter().find(|m| {
                m["recipient"] == email.as_str()
                    && m["subject"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("ALARM:"))
            });
            if v.state == "ALARM" && mail.is_some() {
                return Ok::<_, anyhow::Error>(mail);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(None)
    };
    match cx
        .ui
        .wait("waiting for the alarm and its email", watch)
        .await
    {
        Some(Ok(Some(m))) => {
            set_fact(
                cx,
                "kms-alarm",
                "alarm_email",
                m["subject"].as_str().unwrap_or("").to_string(),
            );
            cx.ui.say(format!(
                "  The alarm fired: \"{}\" arrived at {}.",
                m["subject"].as_str().unwrap_or(""),
                cx.email
            ));
        }
        Some(Ok(None)) => cx.ui.say("  The alarm did not fire within the wait."),
        Some(Err(e)) => cx.ui.note(format!("  {e:#}")),
        None => {}
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Clean-up

async fn cleanup(cx: &mut Ctx, step: &str) -> Result<()> {
    if cx.target.kind == crate::target::TargetKind::Aws {
        let ok = if cx.ui.interactive {
            let typed = cx
                .ui
                .input(
                    &format!(
                        "Type the account id ({}) to delete the workshop's resources in it",
                        cx.target.account
                    ),
                    None,
                    |_| Ok(()),
                )
                .unwrap_or_default();
            typed.trim() == cx.target.account
        } else {
            cx.account_id.as_deref() == Some(cx.target.account.as_str())
        };
        if !ok {
            return Err(anyhow!(
                "the clean-up needs the account id confirmed (interactively, or --account-id {} with --non-interactive)",
                cx.target.account
            ));
        }
    }
    let report = crate::teardown::teardown(&cx.target, &cx.progress.inventory, 7).await?;
    set_fact(
        cx,
        step,
        "cleanup_report",
        crate::teardown::summary(&report),
    );
    cx.ui.say(report.render_text());
    Ok(())
}

async fn verify_cleanup(cx: &mut Ctx, t: &dyn Fn(&str) -> String) -> Vec<Crit> {
    match crate::teardown::remaining(&cx.target, &cx.progress.inventory).await {
        Ok(left) if left.is_empty() => vec![Crit::pass(
            "nothing-left",
            &t("nothing-left"),
            "nothing of the workshop's remains",
        )],
        Ok(left) => vec![Crit::fail(
            "nothing-left",
            &t("nothing-left"),
            format!("still there: {}", left.join(", ")),
        )],
        Err(e) => vec![Crit::error(
            "nothing-left",
            &t("nothing-left"),
            format!("{e:#}"),
        )],
    }
}
