//! Topics: create (idempotently), delete, list, and their attributes.

use crate::common::tags;
use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{page, touches_topic};
use crate::protocol::{AwsError, Input, Value};
use crate::services::sns::errors::{invalid, not_found};
use crate::services::sns::policy::default_policy;
use crate::services::sns::state::{SnsState, Topic};
use crate::services::sns::views::topic_attributes;
use crate::services::Call;

pub(crate) fn topic_name_ok(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    !base.is_empty()
        && name.len() <= 256
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_topic_attribute(name: &str, value: &str) -> Result<(), AwsError> {
    match name {
        "DisplayName" => {
            if value.chars().count() > 100 {
                return Err(invalid("DisplayName: must be at most 100 characters"));
            }
        }
        "Policy" => {
            // AWS's limit on a topic policy; it also bounds what the evaluator is given.
            const MAX_POLICY_BYTES: usize = 30 * 1024;
            if value.len() > MAX_POLICY_BYTES {
                return Err(invalid(format!(
                    "Policy Error: the policy is {} bytes, more than the {MAX_POLICY_BYTES} bytes a topic policy may hold",
                    value.len()
                )));
            }
            let v: J = serde_json::from_str(value)
                .map_err(|e| invalid(format!("Policy Error: not valid JSON ({e})")))?;
            if v.get("Statement").is_none() {
                return Err(invalid("Policy Error: null statement"));
            }
        }
        "DeliveryPolicy" => {
            serde_json::from_str::<J>(value)
                .map_err(|e| invalid(format!("DeliveryPolicy: not valid JSON ({e})")))?;
        }
        "KmsMasterKeyId"
        | "SignatureVersion"
        | "TracingConfig"
        | "ContentBasedDeduplication"
        | "FifoTopic"
        | "ArchivePolicy"
        | "DataProtectionPolicy" => {}
        other if other.ends_with("FeedbackRoleArn") || other.ends_with("FeedbackSampleRate") => {}
        other => return Err(invalid(format!("AttributeName: unknown attribute {other}"))),
    }
    Ok(())
}

pub(crate) fn create_topic(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (account, region) = (cx.account().to_string(), cx.region.clone());
    let name = input.req_str("Name")?;
    if !topic_name_ok(&name) {
        return Err(invalid("Topic Name"));
    }
    let arn = format!("arn:aws:sns:{region}:{account}:{name}");
    let attrs = input.str_map("Attributes")?;
    for (k, v) in &attrs {
        check_topic_attribute(k, v)?;
    }
    let tags = tags::read(input)?;
    touches_topic(cx, &arn);
    cx.sandbox.write::<SnsState, _>(&account, &region, |st| {
        if let Some(existing) = st.topics.get(&arn) {
            // Idempotent, unless the attributes differ.
            let differs = attrs
                .iter()
                .any(|(k, v)| existing.attributes.get(k) != Some(v));
            if differs {
                return Err(invalid("Topic already exists with different attributes"));
            }
            let tags: BTreeMap<String, String> = tags.iter().cloned().collect();
            if !tags.is_empty() && existing.tags != tags {
                return Err(invalid(
                    "Tags Reason: Topic already exists with different tags",
                ));
            }
            return Ok(Value::obj().with("TopicArn", arn.clone()));
        }
        let mut attributes: BTreeMap<String, String> = attrs.into_iter().collect();
        attributes
            .entry("Policy".into())
            .or_insert_with(|| default_policy(&arn, &account));
        st.topics.insert(
            arn.clone(),
            Topic {
                name,
                arn: arn.clone(),
                owner: account.clone(),
                attributes,
                tags: tags.into_iter().collect(),
                deleted_subscriptions: 0,
            },
        );
        Ok(Value::obj().with("TopicArn", arn.clone()))
    })
}

pub(crate) fn delete_topic(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = super::arn_member(input, "TopicArn")?;
    touches_topic(cx, &arn);
    cx.sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| {
            // AWS answers success for a topic that is already gone.
            st.topics.remove(&arn);
            st.subscriptions.retain(|_, s| s.topic_arn != arn);
            Ok(Value::Null)
        })
}

pub(crate) fn list_topics(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let topics: Vec<Value> = cx
        .sandbox
        .read::<SnsState, _>(cx.account(), &cx.region, |st| {
            st.topics
                .keys()
                .map(|a| Value::obj().with("TopicArn", a.clone()))
                .collect()
        });
    let (items, next) = page(input, &topics)?;
    Ok(Value::obj()
        .with("Topics", Value::List(items))
        .with("NextToken", next))
}

pub(crate) fn get_topic_attributes(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = super::arn_member(input, "TopicArn")?;
    touches_topic(cx, &arn);
    cx.sandbox
        .read::<SnsState, _>(cx.account(), &cx.region, |st| {
            let t = st.topics.get(&arn).ok_or_else(|| not_found("Topic"))?;
            Ok(Value::obj().with("Attributes", topic_attributes(t, st)))
        })
}

pub(crate) fn set_topic_attributes(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = super::arn_member(input, "TopicArn")?;
    let name = input.req_str("AttributeName")?;
    let value = input.str("AttributeValue")?.unwrap_or_default();
    check_topic_attribute(&name, &value)?;
    touches_topic(cx, &arn);
    cx.sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| {
            let t = st.topics.get_mut(&arn).ok_or_else(|| not_found("Topic"))?;
            t.attributes.insert(name, value);
            Ok(Value::Null)
        })
}
