//! `AWS::Events::Rule` with its targets (EventBridge's JSON operations).

use std::collections::BTreeMap;

use serde_json::{json, Value as J};

use super::{deleted, document, failed, items, member, prop_str, text, Deleted, Env, Failed};
use crate::protocol::{Input, Value};
use crate::services::cloudformation::template::Made;

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

pub(super) fn create_rule(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    let name = prop_str(props, "Name").unwrap_or_else(|| env.generated_name(logical_id, 64, false));
    let mut input = json!({ "Name": name, "State": prop_str(props, "State").unwrap_or_else(|| "ENABLED".into()) });
    if let Some(p) = props.get("EventPattern") {
        input["EventPattern"] = J::from(document(p));
    }
    for m in [
        "ScheduleExpression",
        "Description",
        "EventBusName",
        "RoleArn",
    ] {
        if let Some(v) = prop_str(props, m) {
            input[m] = J::from(v);
        }
    }
    let out = env
        .call("events", "PutRule", Input::Json(input))
        .map_err(failed(None))?;
    let arn = text(member(&out, "RuleArn")).unwrap_or_default();
    if let Some(J::Array(targets)) = props.get("Targets") {
        let list: Vec<J> = targets
            .iter()
            .map(|t| {
                let mut o = json!({"Id": prop_str(t, "Id").unwrap_or_default(), "Arn": prop_str(t, "Arn").unwrap_or_default()});
                for m in ["Input", "InputPath", "RoleArn"] {
                    if let Some(v) = prop_str(t, m) {
                        o[m] = J::from(v);
                    }
                }
                o
            })
            .collect();
        let out = env
            .call(
                "events",
                "PutTargets",
                Input::Json(json!({"Rule": name, "Targets": list})),
            )
            .map_err(failed(Some(name.clone())))?;
        if let Some(Value::Int(n)) = member(&out, "FailedEntryCount") {
            if *n > 0 {
                return Err(Failed {
                    physical_id: Some(name),
                    reason: format!("{n} target(s) could not be added to the rule"),
                });
            }
        }
    }
    Ok(Made {
        physical_id: name,
        attrs: BTreeMap::from([("Arn".into(), arn)]),
    })
}

pub(super) fn delete_rule(env: &Env<'_>, name: &str) -> Result<Deleted, String> {
    let rule = Input::Json(json!({"Rule": name}));
    let out = match env.call("events", "ListTargetsByRule", rule) {
        Ok(v) => v,
        Err(e) if e.gone(NOT_FOUND) => return Ok(Deleted::Done),
        Err(e) => return Err(e.reason()),
    };
    let ids: Vec<String> = items(member(&out, "Targets"))
        .iter()
        .filter_map(|t| text(member(t, "Id")))
        .collect();
    if !ids.is_empty() {
        let targets = Input::Json(json!({"Rule": name, "Ids": ids}));
        if let Err(e) = env.call("events", "RemoveTargets", targets) {
            if !e.gone(NOT_FOUND) {
                return Err(e.reason());
            }
        }
    }
    let rule = Input::Json(json!({"Name": name}));
    deleted(env.call("events", "DeleteRule", rule), NOT_FOUND)
}
