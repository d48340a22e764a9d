//! The topic-policy statement that lets EventBridge publish to the topic.
//!
//! A rule target made in the console gets this statement added for it; one made through the
//! API does not, and without it EventBridge's deliveries fail silently. The statement is merged
//! into the topic's existing policy: the other statements (the default one, anything the owner
//! added) stay, and a second merge changes nothing.

use aws_sdk_sns::Client;
use kms_workshop_aws_errors::AwsFailure;
use serde_json::{json, Value};

use crate::NotifyError;

/// The `Sid` of the statement this crate adds.
pub const STATEMENT_ID: &str = "AllowEventBridgePublish";

/// What [`allow_eventbridge_publish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyChange {
    /// The statement was added (or an outdated one of the same `Sid` replaced).
    Added,
    /// The policy already let `events.amazonaws.com` publish; nothing was written.
    AlreadyAllowed,
}

/// Allow `events.amazonaws.com` to `sns:Publish` to `topic_arn`.
pub fn events_publish_statement(topic_arn: &str) -> Value {
    json!({
        "Sid": STATEMENT_ID,
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `stmt` already grants what `wanted` grants: same effect, a principal service, action
/// and resource covering it, and no condition narrowing it.
fn grants(stmt: &Value, wanted: &Value) -> bool {
    if stmt == wanted {
        return true;
    }
    if stmt.get("Effect").and_then(Value::as_str) != Some("Allow")
        || stmt.get("Condition").is_some()
    {
        return false;
    }
    let services = strings(stmt.get("Principal").and_then(|p| p.get("Service")));
    let wanted_services = strings(wanted.get("Principal").and_then(|p| p.get("Service")));
    let actions: Vec<String> = strings(stmt.get("Action"))
        .into_iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let wanted_actions: Vec<String> = strings(wanted.get("Action"))
        .into_iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let resources = strings(stmt.get("Resource"));
    let wanted_resources = strings(wanted.get("Resource"));
    wanted_services.iter().all(|s| services.contains(s))
        && wanted_actions
            .iter()
            .all(|a| actions.iter().any(|x| x == a || x == "sns:*" || x == "*"))
        && wanted_resources
            .iter()
            .all(|r| resources.iter().any(|x| x == r || x == "*"))
}

/// Merge `statement` into the policy document `policy` (`None` or empty: no policy yet).
/// Returns the new document, or `None` when the policy already grants it. A statement with the
/// same `Sid` that grants something else is replaced; every other statement is kept as it was.
pub fn merge_statement(policy: Option<&str>, statement: &Value) -> Result<Option<Value>, String> {
    let mut doc: Value = match policy.map(str::trim).filter(|p| !p.is_empty()) {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?,
        None => json!({"Version": "2012-10-17", "Statement": []}),
    };
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| "the policy is not a JSON object".to_string())?;
    let mut statements = match obj.remove("Statement") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err("Statement is neither a statement nor a list of them".into()),
    };
    if statements.iter().any(|s| grants(s, statement)) {
        return Ok(None);
    }
    let sid = statement.get("Sid");
    match statements
        .iter_mut()
        .find(|s| sid.is_some() && s.get("Sid") == sid)
    {
        Some(existing) => *existing = statement.clone(),
        None => statements.push(statement.clone()),
    }
    obj.insert("Statement".into(), Value::Array(statements));
    Ok(Some(doc))
}

/// The topic's policy with [`events_publish_statement`] merged in, and whether that changed
/// it. A topic that does not exist yet gets a policy of that one statement.
pub async fn policy_with_eventbridge(
    client: &Client,
    topic_arn: &str,
) -> Result<(Value, PolicyChange), NotifyError> {
    let current = match client
        .get_topic_attributes()
        .topic_arn(topic_arn)
        .send()
        .await
    {
        Ok(attrs) => attrs.attributes().and_then(|a| a.get("Policy")).cloned(),
        Err(e) => {
            let f = AwsFailure::from_sdk("GetTopicAttributes", e);
            if f.code != "NotFound" {
                return Err(f.into());
            }
            None
        }
    };
    let merged = merge_statement(current.as_deref(), &events_publish_statement(topic_arn))
        .map_err(|reason| NotifyError::Policy {
            topic_arn: topic_arn.to_string(),
            reason,
        })?;
    Ok(match merged {
        Some(doc) => (doc, PolicyChange::Added),
        None => {
            let text = current.unwrap_or_default();
            let doc = serde_json::from_str(&text).unwrap_or(Value::Null);
            (doc, PolicyChange::AlreadyAllowed)
        }
    })
}

/// Let EventBridge publish to the topic: read its policy, merge
/// [`events_publish_statement`], write it back if it changed.
pub async fn allow_eventbridge_publish(
    client: &Client,
    topic_arn: &str,
) -> Result<PolicyChange, NotifyError> {
    let (doc, change) = policy_with_eventbridge(client, topic_arn).await?;
    if change == PolicyChange::AlreadyAllowed {
        return Ok(change);
    }
    client
        .set_topic_attributes()
        .topic_arn(topic_arn)
        .attribute_name("Policy")
        .attribute_value(doc.to_string())
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("SetTopicAttributes", e))?;
    tracing::debug!(
        topic = topic_arn,
        "topic policy lets events.amazonaws.com publish"
    );
    Ok(PolicyChange::Added)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sns:us-east-1:111122223333:snsworkshop";

    #[test]
    fn merging_keeps_other_statements_and_is_idempotent() {
        let existing = json!({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [
            {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["SNS:Publish"], "Resource": ARN,
             "Condition": {"StringEquals": {"AWS:SourceOwner": "111122223333"}}}
        ]});
        let stmt = events_publish_statement(ARN);
        let merged = merge_statement(Some(&existing.to_string()), &stmt)
            .expect("valid")
            .expect("changed");
        let list = merged["Statement"].as_array().cloned().unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], existing["Statement"][0]);
        assert_eq!(list[1], stmt);
        assert_eq!(merged["Id"], "__default_policy_ID");
        assert_eq!(merge_statement(Some(&merged.to_string()), &stmt), Ok(None));
    }

    #[test]
    fn equivalent_grants_count_and_outdated_sids_are_replaced() {
        let stmt = events_publish_statement(ARN);
        let broader = json!({"Statement": {"Effect": "Allow",
            "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
            "Action": "SNS:*", "Resource": "*"}});
        assert_eq!(merge_statement(Some(&broader.to_string()), &stmt), Ok(None));
        let outdated = json!({"Statement": [{"Sid": STATEMENT_ID, "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": "arn:aws:sns:us-east-1:111122223333:old"}]});
        let merged = merge_statement(Some(&outdated.to_string()), &stmt)
            .expect("valid")
            .expect("changed");
        assert_eq!(merged["Statement"], json!([stmt]));
        let fresh = merge_statement(None, &stmt)
            .expect("valid")
            .expect("changed");
        assert_eq!(fresh["Statement"], json!([stmt]));
        assert!(merge_statement(Some("{not json"), &stmt).is_err());
        assert!(merge_statement(Some("[1]"), &stmt).is_err());
    }
}
