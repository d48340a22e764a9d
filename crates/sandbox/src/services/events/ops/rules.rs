//! Rules: PutRule, DescribeRule, ListRules, EnableRule / DisableRule, DeleteRule.

use crate::common::tags;
use std::collections::BTreeMap;

use super::{check_bus, page, parse_pattern, rule_resource};
use crate::protocol::{AwsError, Input, Value};
use crate::services::events::errors::rule_not_found;
use crate::services::events::schedule::schedule_ok;
use crate::services::events::state::{EventsState, Rule, RuleMetrics, RuleState};
use crate::services::events::views;
use crate::services::Call;

pub(crate) fn put_rule(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let account = cx.account().to_string();
    let region = cx.region.clone();
    check_bus(input)?;
    let name = input.req_str("Name")?;
    // An empty pattern is no pattern (a scheduled rule may send one).
    let pattern = input.str("EventPattern")?.filter(|p| !p.is_empty());
    let schedule = input.str("ScheduleExpression")?;
    if pattern.is_none() && schedule.is_none() {
        return Err(AwsError::validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    }
    if let Some(p) = &pattern {
        parse_pattern(p)?;
    }
    if let Some(s) = &schedule {
        if !schedule_ok(s) {
            return Err(AwsError::validation(
                "Parameter ScheduleExpression is not valid.",
            ));
        }
    }
    let state_text = input.str("State")?;
    let state = match state_text.as_deref() {
        None => RuleState::Enabled,
        Some(s) => RuleState::parse(s).ok_or_else(|| {
            AwsError::bad_value(
                "State",
                s,
                "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
            )
        })?,
    };
    let tags = tags::read(input)?;
    let arn = format!("arn:aws:events:{region}:{account}:rule/{name}");
    cx.resources.push(rule_resource(&arn));
    let description = input.str("Description")?;
    let role_arn = input.str("RoleArn")?;
    cx.sandbox.write::<EventsState, _>(&account, &region, |st| {
        let rule = st.rules.entry(name.clone()).or_insert_with(|| Rule {
            name: name.clone(),
            arn: arn.clone(),
            event_pattern: None,
            schedule: None,
            state,
            description: None,
            role_arn: None,
            targets: Vec::new(),
            tags: BTreeMap::new(),
            metrics: RuleMetrics::default(),
            live_from: None,
        });
        rule.event_pattern = pattern;
        rule.schedule = schedule;
        rule.state = state;
        rule.description = description;
        rule.role_arn = role_arn;
        rule.tags.extend(tags);
        rule.live_from = propagated(cx.sandbox, cx.now).max(rule.live_from);
        Ok(Value::obj().with("RuleArn", arn.clone()))
    })
}

pub(crate) fn describe_rule(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let name = input.req_str("Name")?;
    cx.sandbox
        .read::<EventsState, _>(cx.account(), &cx.region, |st| {
            st.rules
                .get(&name)
                .map(|r| views::rule(r, true))
                .ok_or_else(|| rule_not_found(&name))
        })
}

pub(crate) fn list_rules(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let prefix = input.str("NamePrefix")?.unwrap_or_default();
    let rules: Vec<Value> = cx
        .sandbox
        .read::<EventsState, _>(cx.account(), &cx.region, |st| {
            st.rules
                .values()
                .filter(|r| r.name.starts_with(&prefix))
                .map(|r| views::rule(r, false))
                .collect()
        });
    let (items, next) = page(input, rules)?;
    Ok(Value::obj()
        .with("Rules", Value::List(items))
        .with("NextToken", next))
}

/// EnableRule (`ENABLED`) and DisableRule (`DISABLED`).
pub(crate) fn set_rule_state(
    cx: &mut Call<'_>,
    input: &Input,
    state: RuleState,
) -> Result<Value, AwsError> {
    check_bus(input)?;
    let name = input.req_str("Name")?;
    let account = cx.account().to_string();
    let region = cx.region.clone();
    let resources = &mut cx.resources;
    cx.sandbox.write::<EventsState, _>(&account, &region, |st| {
        let r = st
            .rules
            .get_mut(&name)
            .ok_or_else(|| rule_not_found(&name))?;
        resources.push(rule_resource(&r.arn));
        r.state = state;
        Ok(Value::Null)
    })
}

pub(crate) fn delete_rule(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    check_bus(input)?;
    let name = input.req_str("Name")?;
    cx.sandbox
        .write::<EventsState, _>(cx.account(), &cx.region, |st| match st.rules.get(&name) {
            None => Ok(Value::Null),
            Some(r) if !r.targets.is_empty() => Err(AwsError::validation(
                "Rule can't be deleted since it has targets.",
            )),
            Some(_) => {
                st.rules.remove(&name);
                Ok(Value::Null)
            }
        })
}

/// When a change made `now` takes effect (`None`: at once).
pub(super) fn propagated(
    sb: &crate::Sandbox,
    now: time::OffsetDateTime,
) -> Option<time::OffsetDateTime> {
    let delay = sb.config.rule_propagation_delay();
    (delay > time::Duration::ZERO).then(|| now + delay)
}
