//! SNS's persisted state: per account and region the topics and subscriptions, and the
//! outbox of what the sandbox "sent" (emails, records of HTTP deliveries).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as J;
use time::OffsetDateTime;

use super::errors::{invalid, not_found};
use crate::protocol::AwsError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnsState {
    /// By topic ARN.
    pub topics: BTreeMap<String, Topic>,
    /// By subscription ARN.
    pub subscriptions: BTreeMap<String, Subscription>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub arn: String,
    pub owner: String,
    /// Settable attributes (DisplayName, Policy, DeliveryPolicy, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub deleted_subscriptions: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub token_expires: OffsetDateTime,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One message the sandbox "sent": an email in the outbox, or the record of an HTTP delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub account: String,
    pub region: String,
    /// `SubscriptionConfirmation` or `Notification`.
    pub kind: String,
    pub protocol: String,
    pub recipient: String,
    pub from: String,
    pub subject: String,
    /// What the recipient reads (the email text, or the JSON document).
    pub body: String,
    /// The full SNS JSON document.
    pub document: J,
    pub topic_arn: String,
    pub subscription_arn: String,
    /// For http(s): whether the POST was accepted (2xx) — filled in after delivery.
    pub delivery: Option<String>,
}

/// Outbox of one account and region; entries are persisted one by one, keyed by sequence.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Outbox {
    pub messages: BTreeMap<String, OutboxMessage>,
}

impl Topic {
    /// The sender name of the topic's emails: its `DisplayName`, else its name.
    pub fn display_name(&self) -> String {
        self.attributes
            .get("DisplayName")
            .filter(|d| !d.is_empty())
            .cloned()
            .unwrap_or_else(|| self.name.clone())
    }
}

impl SnsState {
    /// Confirm the subscription to `topic_arn` that `token` was sent for; answers its ARN.
    pub(super) fn confirm(
        &mut self,
        topic_arn: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<String, AwsError> {
        if !self.topics.contains_key(topic_arn) {
            return Err(not_found("Topic"));
        }
        let s = self
            .subscriptions
            .values_mut()
            .find(|s| s.topic_arn == topic_arn && s.token == token)
            .ok_or_else(|| invalid("Token"))?;
        if !s.confirmed && s.token_expires <= now {
            return Err(invalid(
                "Token (it expired: confirmation links are valid for 2 days)",
            ));
        }
        s.confirmed = true;
        Ok(s.arn.clone())
    }

    /// Remove a subscription, counting it in its topic's `SubscriptionsDeleted`.
    pub(super) fn unsubscribe(&mut self, arn: &str) -> Result<(), AwsError> {
        let s = self
            .subscriptions
            .remove(arn)
            .ok_or_else(|| not_found("Subscription"))?;
        if let Some(t) = self.topics.get_mut(&s.topic_arn) {
            t.deleted_subscriptions += 1;
        }
        Ok(())
    }
}
