//! What an event looks like on the bus and what a target receives of it: the EventBridge
//! envelope of a CloudTrail record, and the event reshaped by a target's Input, InputPath or
//! InputTransformer.

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
        let mut out = template.clone();
        let mut vars: Vec<(String, String)> = paths
            .iter()
            .map(|(name, path)| {
                let text = match json_path(event, path) {
                    Some(J::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                (name.clone(), text)
            })
            .collect();
        vars.push(("aws.events.rule-arn".into(), rule.arn.clone()));
        vars.push(("aws.events.rule-name".into(), rule.name.clone()));
        vars.push(("aws.events.event".into(), event.to_string()));
        vars.push(("aws.events.event.json".into(), event.to_string()));
        for (name, text) in vars {
            out = out.replace(&format!("<{name}>"), &text);
        }
        return out;
    }
    event.to_string()
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
