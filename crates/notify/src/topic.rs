//! The SNS topic and its email subscription.

use aws_sdk_sns::Client;
use kms_workshop_aws_errors::AwsFailure;

use crate::validate::{validate_display_name, validate_email, validate_topic_name};
use crate::NotifyError;

/// An SNS topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    /// `DisplayName` (empty when not set).
    pub display_name: String,
}

/// Where one endpoint's subscription to a topic stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// No subscription of this endpoint.
    NotSubscribed,
    /// Waiting for the link in the confirmation email (valid 2 days).
    PendingConfirmation,
    /// Confirmed: messages are delivered.
    Confirmed { arn: String },
    /// SNS lists it as `Deleted` (unsubscribed or expired before confirmation).
    Deleted,
}

fn name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

async fn display_name(client: &Client, arn: &str) -> Result<String, NotifyError> {
    let out = client
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("GetTopicAttributes", e))?;
    Ok(out
        .attributes()
        .and_then(|a| a.get("DisplayName"))
        .cloned()
        .unwrap_or_default())
}

/// The topic named `name` in the client's account and region, if it exists.
pub async fn find_topic(client: &Client, name: &str) -> Result<Option<Topic>, NotifyError> {
    validate_topic_name(name)?;
    let mut pages = client.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsFailure::from_sdk("ListTopics", e))?;
        if let Some(arn) = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| name_of(arn) == name)
        {
            return Ok(Some(Topic {
                arn: arn.to_string(),
                name: name.to_string(),
                display_name: display_name(client, arn).await?,
            }));
        }
    }
    Ok(None)
}

/// Find the topic or create it, with `display_name` (validated: at most 10 characters). An
/// existing topic whose display name differs gets it set: `CreateTopic` refuses to re-create a
/// topic with different attributes.
pub async fn create_topic(
    client: &Client,
    name: &str,
    display_name: Option<&str>,
) -> Result<Topic, NotifyError> {
    validate_topic_name(name)?;
    if let Some(d) = display_name {
        validate_display_name(d)?;
    }
    if let Some(mut topic) = find_topic(client, name).await? {
        if let Some(d) = display_name {
            if topic.display_name != d {
                client
                    .set_topic_attributes()
                    .topic_arn(&topic.arn)
                    .attribute_name("DisplayName")
                    .attribute_value(d)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("SetTopicAttributes", e))?;
                topic.display_name = d.to_string();
            }
        }
        return Ok(topic);
    }
    let mut req = client.create_topic().name(name);
    if let Some(d) = display_name {
        req = req.attributes("DisplayName", d);
    }
    let out = req
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("CreateTopic", e))?;
    let arn = out.topic_arn().ok_or(NotifyError::IncompleteAnswer {
        operation: "CreateTopic",
        member: "TopicArn",
    })?;
    Ok(Topic {
        arn: arn.to_string(),
        name: name.to_string(),
        display_name: display_name.unwrap_or_default().to_string(),
    })
}

/// Subscribe `email` (validated first) to the topic. SNS mails a confirmation link; until it
/// is followed the subscription is [`SubscriptionState::PendingConfirmation`]. Returns the
/// subscription ARN (asked for explicitly, so it is known even while pending).
pub async fn subscribe_email(
    client: &Client,
    topic_arn: &str,
    email: &str,
) -> Result<String, NotifyError> {
    validate_email(email)?;
    let out = client
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("email")
        .endpoint(email)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("Subscribe", e))?;
    out.subscription_arn()
        .map(str::to_string)
        .ok_or(NotifyError::IncompleteAnswer {
            operation: "Subscribe",
            member: "SubscriptionArn",
        })
}

/// Confirm a subscription with the token of its confirmation message (what the link in the
/// email does). Returns the subscription ARN.
pub async fn confirm_subscription(
    client: &Client,
    topic_arn: &str,
    token: &str,
) -> Result<String, NotifyError> {
    if token.trim().is_empty() {
        return Err(NotifyError::Invalid {
            field: "Token",
            reason: "empty: use the token of the SubscriptionConfirmation message".into(),
        });
    }
    let out = client
        .confirm_subscription()
        .topic_arn(topic_arn)
        .token(token.trim())
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("ConfirmSubscription", e))?;
    out.subscription_arn()
        .map(str::to_string)
        .ok_or(NotifyError::IncompleteAnswer {
            operation: "ConfirmSubscription",
            member: "SubscriptionArn",
        })
}

/// The state of `endpoint`'s subscription to the topic (email addresses compared without
/// regard to case). With several (email and email-json, say), the most advanced one counts.
pub async fn subscription_state(
    client: &Client,
    topic_arn: &str,
    endpoint: &str,
) -> Result<SubscriptionState, NotifyError> {
    let mut best = SubscriptionState::NotSubscribed;
    let rank = |s: &SubscriptionState| match s {
        SubscriptionState::NotSubscribed => 0,
        SubscriptionState::Deleted => 1,
        SubscriptionState::PendingConfirmation => 2,
        SubscriptionState::Confirmed { .. } => 3,
    };
    let mut pages = client
        .list_subscriptions_by_topic()
        .topic_arn(topic_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsFailure::from_sdk("ListSubscriptionsByTopic", e))?;
        for s in page.subscriptions() {
            if !s
                .endpoint()
                .is_some_and(|e| e.eq_ignore_ascii_case(endpoint))
            {
                continue;
            }
            let state = match s.subscription_arn() {
                Some("PendingConfirmation") => SubscriptionState::PendingConfirmation,
                Some("Deleted") => SubscriptionState::Deleted,
                Some(arn) if arn.starts_with("arn:") => SubscriptionState::Confirmed {
                    arn: arn.to_string(),
                },
                _ => continue,
            };
            if rank(&state) > rank(&best) {
                best = state;
            }
        }
    }
    Ok(best)
}
