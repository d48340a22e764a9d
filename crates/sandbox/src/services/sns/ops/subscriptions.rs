//! Subscriptions: subscribe (pending until confirmed with the token sent out), confirm,
//! unsubscribe, list, attributes; and the links of the emails, which a person follows
//! without signing anything.

use std::collections::BTreeMap;

use time::Duration;

use super::{page, touches_topic};
use crate::protocol::{AwsError, Input, Value};
use crate::services::sns::errors::{invalid, missing, not_found};
use crate::services::sns::state::{SnsState, Subscription};
use crate::services::sns::views::{sub_list_entry, subscription_attributes};
use crate::services::Call;
use crate::Sandbox;

pub(crate) fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
}

/// Check a subscription's protocol (lower-cased) and endpoint.
fn check_endpoint(protocol: &str, endpoint: &str) -> Result<(), AwsError> {
    match protocol {
        "email" | "email-json" if !valid_email(endpoint) => Err(invalid("Email address")),
        "http" if !endpoint.starts_with("http://") => {
            Err(invalid("Endpoint must begin with http://"))
        }
        "https" if !endpoint.starts_with("https://") => {
            Err(invalid("Endpoint must begin with https://"))
        }
        "email" | "email-json" | "http" | "https" => Ok(()),
        "sqs" | "lambda" | "sms" | "application" | "firehose" => Err(invalid(format!(
            "Protocol {protocol} is not available in the sandbox (email, email-json, http, https are)"
        ))),
        _ => Err(invalid("Invalid protocol type")),
    }
}

pub(crate) fn subscribe(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let topic_arn = super::arn_member(input, "TopicArn")?;
    let protocol = input.req_str("Protocol")?.to_ascii_lowercase();
    let endpoint = input.str("Endpoint")?.unwrap_or_default();
    check_endpoint(&protocol, &endpoint)?;
    let return_arn = input.bool("ReturnSubscriptionArn")?.unwrap_or(false);
    let attrs = input.str_map("Attributes")?;
    for (name, value) in &attrs {
        check_attribute(name, value)?;
    }
    touches_topic(cx, &topic_arn);
    let (sub, display, fresh) =
        cx.sandbox.write::<SnsState, _>(&account, &region, |st| {
            let t = st
                .topics
                .get(&topic_arn)
                .ok_or_else(|| not_found("Topic"))?;
            let display = t.display_name();
            if let Some(existing) = st.subscriptions.values_mut().find(|s| {
                s.topic_arn == topic_arn && s.protocol == protocol && s.endpoint == endpoint
            }) {
                // Subscribing again re-sends the confirmation of a pending subscription.
                if !existing.confirmed {
                    existing.token_expires = now + Duration::days(2);
                }
                return Ok((existing.clone(), display, !existing.confirmed));
            }
            let sub = Subscription {
                arn: format!("{topic_arn}:{}", crate::util::uuid()),
                topic_arn: topic_arn.clone(),
                owner: account.clone(),
                protocol: protocol.clone(),
                endpoint: endpoint.clone(),
                confirmed: false,
                // 64 random bytes, hex, as AWS's tokens are.
                token: crate::util::random_id(b"0123456789abcdef", 128),
                token_expires: now + Duration::days(2),
                attributes: attrs.into_iter().collect(),
            };
            st.subscriptions.insert(sub.arn.clone(), sub.clone());
            Ok((sub, display, true))
        })?;
    if fresh {
        cx.sandbox
            .send_confirmation(&account, &region, &sub, &display)?;
    }
    let shown = if sub.confirmed || return_arn {
        sub.arn.clone()
    } else {
        "pending confirmation".into()
    };
    Ok(Value::obj().with("SubscriptionArn", shown))
}

pub(crate) fn confirm_subscription(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let topic_arn = super::arn_member(input, "TopicArn")?;
    let token = input.req_str("Token")?;
    touches_topic(cx, &topic_arn);
    let now = cx.now;
    let arn = cx
        .sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| {
            st.confirm(&topic_arn, &token, now)
        })?;
    Ok(Value::obj().with("SubscriptionArn", arn))
}

pub(crate) fn unsubscribe(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = super::arn_member(input, "SubscriptionArn")?;
    cx.sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| st.unsubscribe(&arn))?;
    Ok(Value::Null)
}

pub(crate) fn list_subscriptions(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    list(cx, input, None)
}

pub(crate) fn list_subscriptions_by_topic(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    let topic = super::arn_member(input, "TopicArn")?;
    list(cx, input, Some(topic))
}

/// The subscriptions of the account and region, or of one topic.
fn list(cx: &mut Call<'_>, input: &Input, topic: Option<String>) -> Result<Value, AwsError> {
    let subs = cx
        .sandbox
        .read::<SnsState, _>(cx.account(), &cx.region, |st| {
            if let Some(t) = &topic {
                if !st.topics.contains_key(t) {
                    return Err(not_found("Topic"));
                }
            }
            Ok(st
                .subscriptions
                .values()
                .filter(|s| topic.as_ref().is_none_or(|t| &s.topic_arn == t))
                .map(sub_list_entry)
                .collect::<Vec<_>>())
        })?;
    let (items, next) = page(input, &subs)?;
    Ok(Value::obj()
        .with("Subscriptions", Value::List(items))
        .with("NextToken", next))
}

pub(crate) fn get_subscription_attributes(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    let arn = super::arn_member(input, "SubscriptionArn")?;
    cx.sandbox
        .read::<SnsState, _>(cx.account(), &cx.region, |st| {
            let s = st
                .subscriptions
                .get(&arn)
                .ok_or_else(|| not_found("Subscription"))?;
            Ok(Value::obj().with("Attributes", subscription_attributes(s)))
        })
}

pub(crate) fn set_subscription_attributes(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    let arn = super::arn_member(input, "SubscriptionArn")?;
    let name = input.req_str("AttributeName")?;
    let value = input.str("AttributeValue")?.unwrap_or_default();
    if ![
        "RawMessageDelivery",
        "FilterPolicy",
        "FilterPolicyScope",
        "DeliveryPolicy",
        "RedrivePolicy",
    ]
    .contains(&name.as_str())
    {
        return Err(invalid(format!("AttributeName: unknown attribute {name}")));
    }
    check_attribute(&name, &value)?;
    cx.sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| {
            let s = st
                .subscriptions
                .get_mut(&arn)
                .ok_or_else(|| not_found("Subscription"))?;
            s.attributes.insert(name, value);
            Ok(Value::Null)
        })
}

/// A subscription attribute's value, as SNS checks it: a filter policy is a JSON object.
fn check_attribute(name: &str, value: &str) -> Result<(), AwsError> {
    if name != "FilterPolicy" || value.is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(invalid("FilterPolicy: Filter policy must be a JSON object")),
        Err(e) => Err(invalid(format!("FilterPolicy: failed to parse JSON. {e}"))),
    }
}

/// The account and region in an SNS topic or subscription ARN.
fn arn_scope(arn: &str) -> Option<(String, String)> {
    let (account, region, _) = crate::services::sns::arn_parts(arn)?;
    Some((account.to_string(), region.to_string()))
}

/// Follow a SubscribeURL or UnsubscribeURL (unsigned GET, as a person clicking the link in
/// the email does). Returns the operation and its result.
pub fn follow_link(
    sb: &Sandbox,
    params: &BTreeMap<String, String>,
) -> Result<(String, Value), AwsError> {
    let now = sb.clock.now();
    let get = |k: &str| params.get(k).cloned().ok_or_else(|| missing(k));
    match params.get("Action").map(String::as_str) {
        Some("ConfirmSubscription") => {
            let topic_arn = get("TopicArn")?;
            let token = get("Token")?;
            let (account, region) = arn_scope(&topic_arn).ok_or_else(|| invalid("TopicArn"))?;
            let arn = sb.write::<SnsState, _>(&account, &region, |st| {
                st.confirm(&topic_arn, &token, now)
            })?;
            Ok((
                "ConfirmSubscription".into(),
                Value::obj().with("SubscriptionArn", arn),
            ))
        }
        Some("Unsubscribe") => {
            let arn = get("SubscriptionArn")?;
            let (account, region) = arn_scope(&arn).ok_or_else(|| invalid("SubscriptionArn"))?;
            sb.write::<SnsState, _>(&account, &region, |st| st.unsubscribe(&arn))?;
            Ok(("Unsubscribe".into(), Value::Null))
        }
        _ => Err(AwsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )),
    }
}
