//! Publish: check the message, then hand it to delivery, which fans it out to the topic's
//! confirmed subscriptions.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::touches_topic;
use crate::pipeline::delivery::Publication;
use crate::protocol::{AwsError, Input, Value};
use crate::services::sns::errors::{invalid, missing};
use crate::services::sns::state::SnsState;
use crate::services::Call;

pub(crate) fn publish(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = match (input.str("TopicArn")?, input.str("TargetArn")?) {
        (Some(t), _) => super::checked_arn("TopicArn", t)?,
        (None, Some(t)) => super::checked_arn("TargetArn", t)?,
        (None, None) => {
            if input.has("PhoneNumber") {
                return Err(invalid("PhoneNumber: SMS is not available in the sandbox"));
            }
            return Err(missing("TopicArn"));
        }
    };
    let message = input.str("Message")?.unwrap_or_default();
    if message.is_empty() {
        return Err(invalid("Empty message"));
    }
    if message.len() > 256 * 1024 {
        return Err(invalid("Message too long"));
    }
    let subject = input.str("Subject")?;
    if let Some(s) = &subject {
        if s.is_empty() || s.len() > 100 || !s.is_ascii() || s.contains('\n') {
            return Err(invalid("Subject"));
        }
    }
    let messages = if input.str("MessageStructure")?.as_deref() == Some("json") {
        per_protocol(&message)?
    } else {
        BTreeMap::from([("default".to_string(), message)])
    };
    let attributes = message_attributes(input)?;
    if input.has("MessageDeduplicationId") && !fifo(cx, &arn) {
        return Err(invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"));
    }
    touches_topic(cx, &arn);
    let id = cx.sandbox.publish_to_topic(
        cx.account(),
        &cx.region,
        &arn,
        &Publication {
            subject,
            messages,
            attributes,
        },
    )?;
    Ok(Value::obj().with("MessageId", id))
}

/// Whether `arn` is a FIFO topic (a topic that does not exist is not: Publish then answers
/// that it does not exist).
fn fifo(cx: &Call<'_>, arn: &str) -> bool {
    let Some((account, region, _)) = crate::services::sns::arn_parts(arn) else {
        return false;
    };
    cx.sandbox.read::<SnsState, _>(account, region, |st| {
        st.topics
            .get(arn)
            .is_some_and(|t| t.attributes.get("FifoTopic").is_some_and(|v| v == "true"))
    })
}

/// `MessageStructure=json`: one body per protocol, `default` required.
fn per_protocol(message: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let unparsable = || invalid("Message Structure - JSON message body failed to parse");
    let Ok(J::Object(m)) = serde_json::from_str::<J>(message) else {
        return Err(unparsable());
    };
    if !m.contains_key("default") {
        return Err(invalid(
            "Message Structure - No default entry in JSON message body",
        ));
    }
    Ok(m.into_iter()
        .map(|(k, v)| {
            let body = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            (k, body)
        })
        .collect())
}

/// `MessageAttributes`: (name, data type, value).
fn message_attributes(input: &Input) -> Result<Vec<(String, String, String)>, AwsError> {
    let mut attributes = Vec::new();
    for (name, v) in input.entries("MessageAttributes", "Name", "Value")? {
        let t = v.req_str("DataType")?;
        let val = match v.str("StringValue")? {
            Some(s) => s,
            None => v.str("BinaryValue")?.ok_or_else(|| {
                invalid(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value"
                ))
            })?,
        };
        attributes.push((name, t, val));
    }
    Ok(attributes)
}
