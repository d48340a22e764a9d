//! Step 3: the SNS topic and the learner's email subscription (confirmed by the runner in the
//! sandbox, whose inbox it can read; by the learner on AWS).

use std::time::Duration;

use anyhow::{Context, Result};
use kms_workshop_cleanup::ResourceKind;
use kms_workshop_notify::SubscriptionState;

use super::Step;
use crate::run::checks::{criteria, Checks};
use crate::run::Ctx;

pub struct Topic;

criteria! {
    pub enum Check {
        TopicExists = "topic-exists",
        DisplayName = "display-name",
        Subscribed = "subscribed",
        Confirmed = "confirmed",
    }
}

/// The topic's ARN, once the step made or found it.
pub fn topic_arn(cx: &Ctx) -> Option<String> {
    cx.fact(Topic::ID, "topic_arn")
}

impl Step for Topic {
    const ID: &'static str = "sns-topic";
    type Criterion = Check;

    async fn perform(cx: &mut Ctx) -> Result<()> {
        let topic = kms_workshop_notify::create_topic(&cx.sns, &cx.topic, Some(&cx.display_name))
            .await
            .context("creating the topic")?;
        cx.record(Self::ID, ResourceKind::SnsTopic, &topic.arn);
        cx.set_fact(Self::ID, "topic_arn", topic.arn.clone());
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

    async fn verify(cx: &mut Ctx, checks: &mut Checks<Check>) {
        let topic = match kms_workshop_notify::find_topic(&cx.sns, &cx.topic).await {
            Ok(Some(tp)) => tp,
            Ok(None) => return checks.fail(Check::TopicExists, "no such topic"),
            Err(e) => return checks.aws(Check::TopicExists, &e),
        };
        cx.set_fact(Self::ID, "topic_arn", topic.arn.clone());
        checks.pass(Check::TopicExists, topic.arn.clone());
        let n = topic.display_name.chars().count();
        if (1..=10).contains(&n) {
            checks.pass(
                Check::DisplayName,
                format!("\"{}\" ({n} characters)", topic.display_name),
            );
        } else {
            checks.fail(
                Check::DisplayName,
                format!("\"{}\" has {n} characters", topic.display_name),
            );
        }
        match subscription(cx, &topic.arn).await {
            None => {
                checks.pass(Check::Subscribed, "pending confirmation");
                checks.fail(Check::Confirmed, "skipped the wait: still pending");
            }
            Some(Ok(SubscriptionState::Confirmed { arn })) => {
                cx.record(Self::ID, ResourceKind::SnsSubscription, &arn);
                cx.set_fact(Self::ID, "subscription_arn", arn.clone());
                checks.pass(Check::Subscribed, arn);
                checks.pass(Check::Confirmed, "Confirmed");
            }
            Some(Ok(SubscriptionState::PendingConfirmation)) => {
                checks.pass(Check::Subscribed, "pending confirmation");
                checks.fail(
                    Check::Confirmed,
                    "still pending: click the link in the email",
                );
            }
            Some(Ok(other)) => {
                checks.fail(Check::Subscribed, format!("{other:?}"));
                checks.fail(Check::Confirmed, "not subscribed");
            }
            Some(Err(e)) => checks.aws(Check::Subscribed, &e),
        }
    }
}

/// The email's subscription, once someone followed the confirmation link: interactively
/// always (Enter stops waiting), and on AWS also without prompts, up to `--confirm-timeout`
/// (a person must click it). A run without prompts in the sandbox confirmed it itself.
async fn subscription(
    cx: &Ctx,
    topic_arn: &str,
) -> Option<Result<SubscriptionState, kms_workshop_notify::NotifyError>> {
    let first = kms_workshop_notify::subscription_state(&cx.sns, topic_arn, &cx.email).await;
    let someone_must_click = cx.ui.interactive || !cx.is_sandbox();
    if !someone_must_click || !matches!(first, Ok(SubscriptionState::PendingConfirmation)) {
        return Some(first);
    }
    show_confirmation_email(cx, topic_arn).await;
    let deadline = cx.confirm_timeout;
    let pause = if cx.is_sandbox() {
        Duration::from_millis(250)
    } else {
        cx.pause(Duration::from_secs(5))
    };
    let wait_confirmed = async {
        let began = std::time::Instant::now();
        loop {
            match kms_workshop_notify::subscription_state(&cx.sns, topic_arn, &cx.email).await {
                Ok(SubscriptionState::PendingConfirmation) if began.elapsed() < deadline => {
                    tokio::time::sleep(pause).await;
                }
                other => return other,
            }
        }
    };
    cx.ui
        .wait(
            &format!(
                "waiting for {} to confirm the subscription (the link in the email; at most {})",
                cx.email,
                humantime::format_duration(deadline)
            ),
            wait_confirmed,
        )
        .await
}

/// The confirmation email, as the learner's mail client shows it: in the sandbox, from its
/// inbox; on AWS, where to find it.
async fn show_confirmation_email(cx: &Ctx, topic_arn: &str) -> Option<String> {
    let Some(admin) = &cx.admin else {
        cx.ui.say(format!(
            "  Open the email \"AWS Notification - Subscription Confirmation\" sent to {} and click \"Confirm subscription\".",
            cx.email
        ));
        if let (true, Some(e)) = (cx.a_sandbox, cx.target.endpoint.as_deref()) {
            cx.ui.say(format!(
                "  This sandbox's inbox: kms-workshop sandbox inbox --endpoint {e} (or follow the link with kms-workshop sandbox confirm --endpoint {e})"
            ));
        }
        return None;
    };
    let mail = admin
        .latest_mail(&cx.email, |m| {
            m.kind == "SubscriptionConfirmation" && m.topic_arn == topic_arn
        })
        .await
        .ok()
        .flatten()?;
    cx.ui.say(format!(
        "\n  The confirmation email in {}'s inbox (`kms-workshop sandbox inbox{}` shows it too):",
        cx.email,
        cx.target
            .endpoint
            .as_deref()
            .map(|e| format!(" --endpoint {e}"))
            .unwrap_or_default()
    ));
    cx.ui.say(crate::mail::render_indented(&mail, "    "));
    let link = crate::mail::confirmation_link(&mail).map(str::to_string);
    if let Some(l) = &link {
        cx.ui.say(format!(
            "  To confirm, open the link (in a browser, or `curl {}`).",
            crate::util::shell_word(l)
        ));
    }
    mail.document["Token"].as_str().map(str::to_string)
}

/// Show the confirmation email (or, on AWS, where it is); in the sandbox, confirm the
/// subscription as following its link would (asked, or without prompts).
async fn confirm_in_sandbox(cx: &mut Ctx, topic_arn: &str) -> Result<()> {
    // On AWS no token is shown here: only the learner's click confirms.
    let Some(token) = show_confirmation_email(cx, topic_arn).await else {
        return Ok(());
    };
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
        cx.record(Topic::ID, ResourceKind::SnsSubscription, &arn);
        cx.set_fact(Topic::ID, "subscription_arn", arn);
    }
    Ok(())
}
