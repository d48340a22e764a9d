//! Run a rule's event pattern against a sample GenerateDataKey event, locally, before anyone
//! waits minutes for a notification that cannot come.
//!
//! The check goes field by field: each leaf of the pattern (a path ending in a list of values or
//! operators, or an `$or`) is matched alone, so the answer names the fields that fail, with what
//! the pattern expects, what the event holds, and — for the console's known mistake (`source:
//! aws.cloudtrail`, `eventSource: cloudtrail.amazonaws.com`) — why.

use kms_workshop_patterns::Pattern;
use serde_json::{json, Map, Value};

use crate::NotifyError;

/// One pattern field the sample event does not satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMismatch {
    /// Dotted path, e.g. `source` or `detail.eventName` (`(top level)` for a top-level `$or`).
    pub path: String,
    /// The pattern's condition at that path.
    pub expected: Value,
    /// The event's value at that path; `None` when the event has no such field.
    pub actual: Option<Value>,
    /// Why it does not match, in words a learner can act on.
    pub explanation: String,
}

/// The outcome of a pre-flight check.
#[derive(Debug, Clone, PartialEq)]
pub struct Preflight {
    /// Whether the whole pattern matches the sample.
    pub matched: bool,
    /// The fields that fail on their own. Empty when `matched`; can also be empty when every
    /// field matches alone but not together (conditions on one element of an array of objects).
    pub mismatches: Vec<FieldMismatch>,
}

/// A GenerateDataKey call on `key_arn`, as EventBridge receives it from CloudTrail: the
/// "AWS API Call via CloudTrail" envelope around the CloudTrail record.
pub fn sample_generate_data_key_event(account: &str, region: &str, key_arn: &str) -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms",
        "account": account,
        "time": "2026-01-01T00:00:00Z",
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.11",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLE",
                "arn": format!("arn:aws:iam::{account}:user/workshop-learner"),
                "accountId": account,
                "accessKeyId": "AKIAEXAMPLE",
                "userName": "workshop-learner"
            },
            "eventTime": "2026-01-01T00:00:00Z",
            "eventSource": "kms.amazonaws.com",
            "eventName": "GenerateDataKey",
            "awsRegion": region,
            "sourceIPAddress": "192.0.2.1",
            "userAgent": "aws-cli/2",
            "requestParameters": {
                "keyId": "alias/ImportedCMK",
                "keySpec": "AES_256",
                "encryptionContext": {"project": "workshop"}
            },
            "responseElements": null,
            "requestID": "00000000-0000-0000-0000-000000000000",
            "eventID": "11111111-1111-1111-1111-111111111111",
            "readOnly": true,
            "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": account,
            "eventCategory": "Management"
        }
    })
}

/// Match `pattern` (JSON text, as `PutRule` takes it) against `event`, field by field. A pattern
/// EventBridge would refuse is [`NotifyError::Pattern`] with EventBridge's message.
pub fn preflight(pattern: &str, event: &Value) -> Result<Preflight, NotifyError> {
    let whole = Pattern::parse(pattern).map_err(|e| NotifyError::Pattern(e.to_string()))?;
    let tree: Value =
        serde_json::from_str(pattern).map_err(|e| NotifyError::Pattern(e.to_string()))?;
    let matched = whole.matches(event);
    let mut mismatches = Vec::new();
    if !matched {
        let mut leaves = Vec::new();
        collect_leaves(&tree, &mut Vec::new(), &mut leaves);
        for (path, condition) in leaves {
            let alone = nest(&path, condition.clone());
            // A leaf of a valid pattern is a valid pattern; if not, it cannot be judged alone.
            let Ok(p) = Pattern::from_value(&alone) else {
                continue;
            };
            if p.matches(event) {
                continue;
            }
            let actual = lookup(event, &path).cloned();
            let dotted = if path.is_empty() {
                "(top level)".to_string()
            } else {
                path.join(".")
            };
            mismatches.push(FieldMismatch {
                explanation: explain(&dotted, &condition, actual.as_ref()),
                path: dotted,
                expected: condition,
                actual,
            });
        }
    }
    Ok(Preflight {
        matched,
        mismatches,
    })
}

/// Leaves of a pattern: paths to a list (values/operators) or to an `$or`.
fn collect_leaves(node: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    let Value::Object(map) = node else {
        out.push((path.clone(), node.clone()));
        return;
    };
    for (key, value) in map {
        if key == "$or" {
            // An `$or` stands for its whole level: judge it as one condition.
            out.push((path.clone(), json!({ "$or": value.clone() })));
            continue;
        }
        path.push(key.clone());
        collect_leaves(value, path, out);
        path.pop();
    }
}

/// `leaf` under the keys of `path`: `["detail", "eventName"]` → `{"detail":{"eventName":leaf}}`.
fn nest(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |node, key| {
        let mut m = Map::new();
        m.insert(key.clone(), node);
        Value::Object(m)
    })
}

fn lookup<'a>(event: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(event, |v, key| v.get(key))
}

fn mentions(condition: &Value, text: &str) -> bool {
    condition.to_string().contains(text)
}

fn explain(path: &str, expected: &Value, actual: Option<&Value>) -> String {
    let found = match actual {
        Some(v) => format!("the event has {v}"),
        None => "the event has no such field".to_string(),
    };
    match path {
        "source" if mentions(expected, "aws.cloudtrail") => format!(
            "the pattern expects source {expected}, but {found}: a KMS call recorded by CloudTrail \
             reaches EventBridge with the source of the service called (aws.kms); aws.cloudtrail \
             (the console's \"Service Name: CloudTrail\") matches only calls to CloudTrail's own API"
        ),
        "detail.eventSource" if mentions(expected, "cloudtrail.amazonaws.com") => format!(
            "the pattern expects eventSource {expected}, but {found}: eventSource names the \
             service called (kms.amazonaws.com for GenerateDataKey), not CloudTrail"
        ),
        "detail-type" => format!(
            "the pattern expects detail-type {expected}, but {found}: CloudTrail-recorded API \
             calls arrive as \"AWS API Call via CloudTrail\""
        ),
        _ => format!("the pattern expects {path} {expected}, but {found}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        sample_generate_data_key_event(
            "111122223333",
            "us-east-1",
            "arn:aws:kms:us-east-1:111122223333:key/k3",
        )
    }

    #[test]
    fn the_workshop_pattern_matches() {
        let p = crate::rule::workshop_pattern().to_string();
        let r = preflight(&p, &sample()).expect("valid");
        assert!(r.matched);
        assert!(r.mismatches.is_empty());
    }

    #[test]
    fn the_consoles_cloudtrail_pattern_is_explained() {
        let p = r#"{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["GenerateDataKey"]}}"#;
        let r = preflight(p, &sample()).expect("valid");
        assert!(!r.matched);
        let paths: Vec<&str> = r.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, vec!["source", "detail.eventSource"]);
        assert_eq!(r.mismatches[0].actual, Some(json!("aws.kms")));
        assert_eq!(r.mismatches[0].expected, json!(["aws.cloudtrail"]));
        assert!(r.mismatches[0].explanation.contains("aws.kms"));
        assert!(r.mismatches[1].explanation.contains("kms.amazonaws.com"));
    }

    #[test]
    fn or_and_missing_fields_and_invalid_patterns() {
        let p = r#"{"detail":{"$or":[{"eventName":["Decrypt"]},{"eventName":["Encrypt"]}],"errorCode":[{"exists":true}]}}"#;
        let r = preflight(p, &sample()).expect("valid");
        assert!(!r.matched);
        assert_eq!(r.mismatches.len(), 2, "{r:#?}");
        assert_eq!(r.mismatches[0].path, "detail");
        assert_eq!(r.mismatches[1].path, "detail.errorCode");
        assert_eq!(r.mismatches[1].actual, None);
        let err = preflight(r#"{"source":[]}"#, &sample()).expect_err("empty array");
        assert!(matches!(err, NotifyError::Pattern(m) if m.contains("Empty arrays")));
    }
}
