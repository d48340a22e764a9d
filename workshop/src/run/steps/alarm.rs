//! Step 5: the CloudWatch alarm on the imported key material's expiry, as the KMS guide
//! recommends; in the sandbox, the clock is moved on so the learner sees it fire.

use std::time::Duration;

use anyhow::{anyhow, Result};
use kms_workshop_alarms::{AlarmSpec, AlarmView};
use kms_workshop_cleanup::ResourceKind;

use super::{topic, Step};
use crate::run::checks::{criteria, Checks};
use crate::run::{Ctx, ALARM_NAME, KEY_ALIAS};

pub struct Alarm;

criteria! {
    pub enum Check {
        MetricPublished = "metric-published",
        AlarmConfigured = "alarm-configured",
        AlarmEvaluated = "alarm-evaluated",
    }
}

/// The workshop's alarm on `key_id`, notifying `topic_arn`, at the run's threshold.
fn spec(cx: &Ctx, key_id: &str, topic_arn: &str) -> AlarmSpec {
    let mut spec = AlarmSpec::recommended(ALARM_NAME, key_id, topic_arn);
    spec.threshold = cx.threshold;
    spec
}

impl Step for Alarm {
    const ID: &'static str = "kms-alarm";
    type Criterion = Check;

    async fn perform(cx: &mut Ctx) -> Result<()> {
        let topic_arn =
            topic::topic_arn(cx).ok_or_else(|| anyhow!("no topic yet: do the SNS step first"))?;
        let key = kms_workshop_keys::describe_key(&cx.kms, KEY_ALIAS).await?;
        kms_workshop_alarms::put_expiration_alarm(&cx.cw, &spec(cx, &key.key_id, &topic_arn))
            .await?;
        let view = kms_workshop_alarms::describe_alarm(&cx.cw, ALARM_NAME).await?;
        if let Some(arn) = &view.arn {
            cx.record(Self::ID, ResourceKind::CloudWatchAlarm, arn);
        }
        cx.set_fact(Self::ID, "alarm_name", ALARM_NAME);
        Ok(())
    }

    async fn verify(cx: &mut Ctx, checks: &mut Checks<Check>) {
        let key = match kms_workshop_keys::describe_key(&cx.kms, KEY_ALIAS).await {
            Ok(k) => k,
            Err(e) => return checks.aws(Check::MetricPublished, &e),
        };
        cx.set_fact(Self::ID, "key_id", key.key_id.clone());
        // Material that does not expire publishes no metric: say so instead of waiting for it.
        if key.expiration_model.as_deref() != Some("KEY_MATERIAL_EXPIRES") {
            return checks.fail(
                Check::MetricPublished,
                format!(
                    "{KEY_ALIAS}'s key material does not expire ({} {}): KMS publishes SecondsUntilKeyMaterialExpiration only for imported material with an expiry; import it again with --valid-to",
                    key.origin,
                    key.expiration_model.as_deref().unwrap_or("no imported material")
                ),
            );
        }
        let Some(topic_arn) = topic::topic_arn(cx) else {
            report_reading(cx, checks, &key.key_id).await;
            return checks.fail(Check::AlarmConfigured, "no topic: do the SNS step first");
        };
        let spec = spec(cx, &key.key_id, &topic_arn);
        let configured = kms_workshop_alarms::check_alarm(&cx.cw, ALARM_NAME, &spec).await;
        // A misconfigured alarm (a wrong KeyId, say) may never leave INSUFFICIENT_DATA:
        // nothing to wait for.
        let mut settled = match &configured {
            Ok(list) if list.passed() => settle(cx).await,
            _ => None,
        };
        if let Some(Ok(Some(v))) = &settled {
            // In the sandbox the clock moves on so the alarm fires; what is reported below is
            // read after that, so the checklist agrees with the email just shown.
            if v.state == "OK" && see_it_fire(cx).await {
                settled = Some(
                    kms_workshop_alarms::describe_alarm(&cx.cw, ALARM_NAME)
                        .await
                        .map(Some)
                        .map_err(Into::into),
                );
            }
        }
        report_reading(cx, checks, &key.key_id).await;
        match configured {
            Ok(list) if list.passed() => checks.pass(Check::AlarmConfigured, "namespace, metric, dimension, statistic, period, comparison, threshold and action as recommended"),
            Ok(list) => checks.fail(
                Check::AlarmConfigured,
                list.failures().map(|c| c.reason.clone()).collect::<Vec<_>>().join("; "),
            ),
            Err(e) => return checks.aws(Check::AlarmConfigured, &e),
        }
        if checks.failed(Check::AlarmConfigured) {
            return checks.fail(
                Check::AlarmEvaluated,
                "not waited for: fix the alarm's configuration first",
            );
        }
        if let Some(v) = checks.waited(Check::AlarmEvaluated, settled, "still INSUFFICIENT_DATA") {
            checks.pass(
                Check::AlarmEvaluated,
                format!("{}: {}", v.state, v.reason.clone().unwrap_or_default()),
            );
        }
    }
}

/// The metric's latest reading, as of the target's clock now.
async fn report_reading(cx: &Ctx, checks: &mut Checks<Check>, key_id: &str) {
    let now_at = cx.now().await;
    match kms_workshop_alarms::latest_expiration_reading(&cx.cw, key_id, now_at).await {
        Ok(Some(r)) => checks.pass(
            Check::MetricPublished,
            format!(
                "{:.0} s ({:.1} days) until the material expires, at {}",
                r.seconds,
                r.seconds / 86_400.0,
                crate::util::rfc3339(r.timestamp)
            ),
        ),
        Ok(None) => checks.fail(
            Check::MetricPublished,
            "no datapoint in the last hours (is the key's material set to expire?)",
        ),
        Err(e) => checks.aws(Check::MetricPublished, &e),
    }
}

/// Let the alarm evaluate (the sandbox: at its next tick; AWS: within a minute or two).
async fn settle(cx: &Ctx) -> Option<Result<Option<AlarmView>>> {
    let cw = &cx.cw;
    // Without the admin token (a classroom's learner), the sandbox's minutes pass as AWS's do.
    let admin = cx.admin.as_ref().filter(|a| a.moves_clock());
    // The alarm's period is a minute of the target's own clock (not shortened by a sandbox's
    // time scale): on AWS it settles within a few.
    let deadline = Duration::from_secs(5 * 60);
    let settle = async {
        let began = std::time::Instant::now();
        for pass in 1.. {
            // The sandbox's minutes pass on request: one period of data per step, ten at most
            // (the clock it moves is the learner's for good).
            if let Some(a) = admin {
                if pass > 10 {
                    break;
                }
                a.advance(60.0).await?;
            }
            let v = kms_workshop_alarms::describe_alarm(cw, ALARM_NAME).await?;
            if v.state != "INSUFFICIENT_DATA" {
                return Ok::<_, anyhow::Error>(Some(v));
            }
            if began.elapsed() > deadline {
                break;
            }
            tokio::time::sleep(if admin.is_some() {
                Duration::from_millis(250)
            } else {
                cx.pause(Duration::from_secs(10))
                    .max(Duration::from_secs(1))
            })
            .await;
        }
        Ok(None)
    };
    cx.ui
        .wait("waiting for the alarm to leave INSUFFICIENT_DATA", settle)
        .await
}

/// In the sandbox: move the clock past the threshold so the alarm fires and its email arrives
/// (whether the clock moved).
async fn see_it_fire(cx: &mut Ctx) -> bool {
    let Some(admin) = &cx.admin else {
        return false;
    };
    if !admin.moves_clock() {
        cx.ui.say(
            "  The sandbox's clock is the class's: the instructor can move it \
             (`kms-workshop sandbox clock advance`) to show the alarm firing.",
        );
        return false;
    }
    let key_id = cx.fact(Alarm::ID, "key_id").unwrap_or_default();
    let now_at = cx.now().await;
    let Ok(Some(r)) = kms_workshop_alarms::latest_expiration_reading(&cx.cw, &key_id, now_at).await
    else {
        return false;
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
        return false;
    }
    if let Err(e) = admin.advance(jump).await {
        cx.ui
            .note(format!("  cannot move the sandbox clock: {e:#}"));
        return false;
    }
    let cw = &cx.cw;
    let email = cx.email.as_str();
    let watch = async {
        for _ in 0..40 {
            admin.tick().await?;
            let v = kms_workshop_alarms::describe_alarm(cw, ALARM_NAME).await?;
            let mail = admin
                .latest_mail(email, |m| m.subject.starts_with("ALARM:"))
                .await?;
            if v.state == "ALARM" && mail.is_some() {
                return Ok::<_, anyhow::Error>(mail);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(None)
    };
    let outcome = cx
        .ui
        .wait("waiting for the alarm and its email", watch)
        .await;
    match outcome {
        Some(Ok(Some(m))) => {
            cx.set_fact(Alarm::ID, "alarm_email", m.subject.clone());
            cx.ui
                .say(format!("\n  The alarm fired; its email to {}:", cx.email));
            cx.ui.say(crate::mail::render_indented(&m, "    "));
        }
        Some(Ok(None)) => cx.ui.say("  The alarm did not fire within the wait."),
        Some(Err(e)) => cx.ui.note(format!("  {e:#}")),
        None => {}
    }
    true
}
