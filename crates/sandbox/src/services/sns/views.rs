//! SNS's wire shapes: topic and subscription attributes, list entries, tags.

use super::state::{SnsState, Subscription, Topic};
use crate::protocol::Value;

pub(super) fn topic_attributes(t: &Topic, st: &SnsState) -> Value {
    let subs: Vec<&Subscription> = st
        .subscriptions
        .values()
        .filter(|s| s.topic_arn == t.arn)
        .collect();
    let mut m: Vec<(String, Value)> = vec![
        ("TopicArn".into(), t.arn.clone().into()),
        ("Owner".into(), t.owner.clone().into()),
        ("SubscriptionsConfirmed".into(), subs.iter().filter(|s| s.confirmed).count().to_string().into()),
        ("SubscriptionsPending".into(), subs.iter().filter(|s| !s.confirmed).count().to_string().into()),
        ("SubscriptionsDeleted".into(), t.deleted_subscriptions.to_string().into()),
        ("DisplayName".into(), t.attributes.get("DisplayName").cloned().unwrap_or_default().into()),
        (
            "EffectiveDeliveryPolicy".into(),
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#.into(),
        ),
    ];
    for (k, v) in &t.attributes {
        if k != "DisplayName" {
            m.push((k.clone(), v.clone().into()));
        }
    }
    Value::Map(m)
}

pub(super) fn sub_list_entry(s: &Subscription) -> Value {
    Value::obj()
        .with(
            "SubscriptionArn",
            if s.confirmed {
                s.arn.clone()
            } else {
                "PendingConfirmation".into()
            },
        )
        .with("Owner", s.owner.clone())
        .with("Protocol", s.protocol.clone())
        .with("Endpoint", s.endpoint.clone())
        .with("TopicArn", s.topic_arn.clone())
}

/// GetSubscriptionAttributes' `Attributes`.
pub(super) fn subscription_attributes(s: &Subscription) -> Value {
    let mut m: Vec<(String, Value)> = vec![
        ("SubscriptionArn".into(), s.arn.clone().into()),
        ("TopicArn".into(), s.topic_arn.clone().into()),
        ("Owner".into(), s.owner.clone().into()),
        ("Protocol".into(), s.protocol.clone().into()),
        ("Endpoint".into(), s.endpoint.clone().into()),
        (
            "PendingConfirmation".into(),
            (!s.confirmed).to_string().into(),
        ),
        ("ConfirmationWasAuthenticated".into(), "false".into()),
        (
            "RawMessageDelivery".into(),
            s.attributes
                .get("RawMessageDelivery")
                .cloned()
                .unwrap_or_else(|| "false".into())
                .into(),
        ),
    ];
    for (k, v) in &s.attributes {
        if k != "RawMessageDelivery" {
            m.push((k.clone(), v.clone().into()));
        }
    }
    Value::Map(m)
}
