//! Targets: PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.

use serde_json::Value as J;

use super::{check_bus, page, rule_resource};
use crate::protocol::{AwsError, Input, Value};
use crate::services::events::errors::{rule_not_found, too_many_targets};
use crate::services::events::state::{EventsState, Target};
use crate::services::events::views;
use crate::services::Call;

/// The answer of PutTargets and RemoveTargets: every entry succeeded.
fn no_failed_entries() -> Value {
    Value::obj()
        .with("FailedEntryCount", 0i64)
        .with("FailedEntries", Value::List(Vec::new()))
}

/// One member of `Targets`.
fn parse_target(t: &Input) -> Result<Target, AwsError> {
    let id = t.req_str("Id")?;
    let arn = t.req_str("Arn")?;
    if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
        return Err(AwsError::validation(format!(
            "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
        )));
    }
    let input_text = t.str("Input")?;
    if let Some(i) = &input_text {
        serde_json::from_str::<J>(i).map_err(|_| {
            AwsError::validation(format!("Input for target {id} is not valid JSON."))
        })?;
    }
    let input_path = t.str("InputPath")?;
    let transformer = match t.child("InputTransformer") {
        Some(tr) => Some((
            tr.str_map("InputPathsMap")?.into_iter().collect(),
            tr.req_str("InputTemplate")?,
        )),
        None => None,
    };
    let given = [
        input_text.is_some(),
        input_path.is_some(),
        transformer.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given > 1 {
        return Err(AwsError::validation(format!(
            "Target {id}: only one of Input, InputPath and InputTransformer may be given."
        )));
    }
    Ok(Target {
        id,
        arn,
        input: input_text,
        input_path,
        input_transformer: transformer,
    })
}

pub(crate) fn put_targets(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let name = input.req_str("Rule")?;
    let targets = input
        .list("Targets")?
        .iter()
        .map(parse_target)
        .collect::<Result<Vec<_>, _>>()?;
    if targets.is_empty() {
        return Err(AwsError::missing("Targets"));
    }
    let sb = cx.sandbox;
    let account = cx.account().to_string();
    let region = cx.region.clone();
    sb.write::<EventsState, _>(&account, &region, |st| {
        let r = st
            .rules
            .get_mut(&name)
            .ok_or_else(|| rule_not_found(&name))?;
        cx.resources.push(rule_resource(&r.arn));
        let mut merged = r.targets.clone();
        for t in targets {
            match merged.iter_mut().find(|x| x.id == t.id) {
                Some(existing) => *existing = t,
                None => merged.push(t),
            }
        }
        if merged.len() > 5 {
            return Err(too_many_targets());
        }
        r.targets = merged;
        r.live_from = super::rules::propagated(sb, cx.now).max(r.live_from);
        Ok(no_failed_entries())
    })
}

pub(crate) fn remove_targets(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let name = input.req_str("Rule")?;
    let ids = input.str_list("Ids")?;
    cx.sandbox
        .write::<EventsState, _>(cx.account(), &cx.region, |st| {
            let r = st
                .rules
                .get_mut(&name)
                .ok_or_else(|| rule_not_found(&name))?;
            r.targets.retain(|t| !ids.contains(&t.id));
            Ok(no_failed_entries())
        })
}

pub(crate) fn list_targets_by_rule(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let name = input.req_str("Rule")?;
    let targets = cx
        .sandbox
        .read::<EventsState, _>(cx.account(), &cx.region, |st| {
            st.rules
                .get(&name)
                .map(|r| r.targets.iter().map(views::target).collect::<Vec<_>>())
                .ok_or_else(|| rule_not_found(&name))
        })?;
    let (items, next) = page(input, targets)?;
    Ok(Value::obj()
        .with("Targets", Value::List(items))
        .with("NextToken", next))
}

pub(crate) fn list_rule_names_by_target(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let arn = input.req_str("TargetArn")?;
    let names: Vec<Value> = cx
        .sandbox
        .read::<EventsState, _>(cx.account(), &cx.region, |st| {
            st.rules
                .values()
                .filter(|r| r.targets.iter().any(|t| t.arn == arn))
                .map(|r| Value::from(r.name.clone()))
                .collect()
        });
    let (items, next) = page(input, names)?;
    Ok(Value::obj()
        .with("RuleNames", Value::List(items))
        .with("NextToken", next))
}
