//! What an event looks like on the bus and what a target receives of it: the EventBridge
//! envelope of a CloudTrail record, and the event reshaped by a target's Input, InputPath or
//! InputTransformer.

use std::collections::BTreeMap;

use serde_json::{json, Value as J};

use super::state::{Rule, Target};

/// A JSONPath of the simple form EventBridge accepts (`$`, `$.a.b`, `$.a[0]`, `$['a']`).
pub fn json_path<'a>(v: &'a J, path: &str) -> Option<&'a J> {
    let rest = path.trim().strip_prefix('$')?;
    let mut cur = v;
    let mut chars = rest;
    while !chars.is_empty() {
        if let Some(r) = chars.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            chars = &r[end..];
        } else if let Some(r) = chars.strip_prefix('[') {
            let end = r.find(']')?;
            let key = &r[..end];
            cur = match key.trim_matches(|c| c == '\'' || c == '"') {
                k if key.starts_with('\'') || key.starts_with('"') => cur.get(k)?,
                k => cur.get(k.parse::<usize>().ok()?)?,
            };
            chars = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur)
}

/// The message `target` of `rule` receives for `event`.
pub(crate) fn transform(target: &Target, rule: &Rule, event: &J) -> String {
    if let Some(input) = &target.input {
        return input.clone();
    }
    if let Some(path) = &target.input_path {
        return json_path(event, path)
            .map(J::to_string)
            .unwrap_or_else(|| "null".into());
    }
    if let Some((paths, template)) = &target.input_transformer {
        return transform_input(paths, template, &rule.arn, &rule.name, event);
    }
    event.to_string()
}

/// An InputTransformer's output: `template` with each `<name>` replaced by the value its
/// `paths` entry selects from `event` (a string as it is, anything else as JSON; nothing when
/// the path selects nothing), and the predefined `aws.events.*` variables.
///
/// One pass over the template, as EventBridge substitutes: a value that itself contains
/// `<name>` (event data is the sender's) is copied as it is, never substituted again.
pub fn transform_input(
    paths: &BTreeMap<String, String>,
    template: &str,
    rule_arn: &str,
    rule_name: &str,
    event: &J,
) -> String {
    let value = |name: &str| -> Option<String> {
        if let Some(path) = paths.get(name) {
            return Some(match json_path(event, path) {
                Some(J::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            });
        }
        match name {
            "aws.events.rule-arn" => Some(rule_arn.to_string()),
            "aws.events.rule-name" => Some(rule_name.to_string()),
            "aws.events.event" | "aws.events.event.json" => Some(event.to_string()),
            _ => None,
        }
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find(['>', '<'])
            .filter(|&end| after.as_bytes()[end] == b'>')
        {
            Some(end) => match value(&after[..end]) {
                Some(v) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[open..open + end + 2]);
                    rest = &after[end + 1..];
                }
            },
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The EventBridge form of a CloudTrail record ("AWS API Call via CloudTrail").
pub fn cloudtrail_envelope(record: &J, account: &str, region: &str) -> J {
    let source = record
        .get("eventSource")
        .and_then(J::as_str)
        .map(|s| format!("aws.{}", s.trim_end_matches(".amazonaws.com")))
        .unwrap_or_else(|| "aws.unknown".into());
    json!({
        "version": "0",
        "id": crate::util::uuid(),
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": account,
        "time": record.get("eventTime").cloned().unwrap_or(J::Null),
        "region": region,
        "resources": [],
        "detail": record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_in_one_pass() {
        let paths: BTreeMap<String, String> = [("who".to_string(), "$.detail.who".to_string())]
            .into_iter()
            .collect();
        let event = json!({"detail": {"who": "<aws.events.rule-arn> and <who>", "n": 1}});
        let out = transform_input(
            &paths,
            "<who> fired <aws.events.rule-name>; <unknown> a<b <",
            "arn:r",
            "r",
            &event,
        );
        assert_eq!(
            out,
            "<aws.events.rule-arn> and <who> fired r; <unknown> a<b <"
        );
        let out = transform_input(&BTreeMap::new(), "<aws.events.event>", "a", "r", &event);
        assert_eq!(out, event.to_string());
    }
}
