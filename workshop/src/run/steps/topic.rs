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

/// The email's subscription; interactively on AWS, after waiting (skippable: `None`) for
/// the learner to click the link.
async fn subscription(
    cx: &Ctx,
    topic_arn: &str,
) -> Option<Result<SubscriptionState, kms_workshop_notify::NotifyError>> {
    let wait_for_learner = cx.ui.interactive && !cx.is_sandbox();
    let wait_confirmed = async {
        loop {
            match kms_workshop_notify::subscription_state(&cx.sns, topic_arn, &cx.email).await {
                Ok(SubscriptionState::PendingConfirmation) if wait_for_learner => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                other => return other,
            }
        }
    };
    if wait_for_learner {
        cx.ui
            .wait(
                &format!("waiting for {} to confirm the subscription", cx.email),
                wait_confirmed,
            )
            .await
    } else {
        Some(wait_confirmed.await)
    }
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
        cx.record(Topic::ID, ResourceKind::SnsSubscription, &arn);
        cx.set_fact(Topic::ID, "subscription_arn", arn);
    }
    Ok(())
}
