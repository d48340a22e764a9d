//! EventBridge (awsJson1.1, `AWSEvents.*`) on the default event bus: rules with event
//! patterns (parsed and matched by the `kms-workshop-patterns` crate) or schedules, targets with
//! Input / InputPath / InputTransformer, PutEvents, TestEventPattern, and the delivery of
//! CloudTrail management events ("AWS API Call via CloudTrail") to matching rules and on to SNS
//! topics, refused unless the topic policy lets `events.amazonaws.com` publish — as on AWS.

use std::collections::BTreeMap;

use http::HeaderMap;
use kms_workshop_patterns::Pattern;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use super::sns::{service_may_publish, Publication, SnsState};
use super::{Call, Service, TrailResource};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct Events;

pub const ALL_MANAGEMENT: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EventsState {
    #[serde(default)]
    pub rules: BTreeMap<String, Rule>,
}

impl RegionalState for EventsState {
    const NAME: &'static str = "events";
    fn of(region: &Region) -> &Self {
        &region.events
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.events
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub event_pattern: Option<String>,
    #[serde(default)]
    pub schedule: Option<String>,
    pub state: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub metrics: RuleMetrics,
}

/// What CloudWatch would show for the rule (`MatchedEvents`, `Invocations`,
/// `FailedInvocations`), kept for the sandbox admin view.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleMetrics {
    pub matched_events: u64,
    pub invocations: u64,
    pub failed_invocations: u64,
    #[serde(default)]
    pub last_failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub arn: String,
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub input_path: Option<String>,
    /// (InputPathsMap, InputTemplate)
    #[serde(default)]
    pub input_transformer: Option<(BTreeMap<String, String>, String)>,
}

impl Target {
    fn describe(&self) -> Value {
        let mut v = Value::obj()
            .with("Id", self.id.clone())
            .with("Arn", self.arn.clone())
            .with("Input", self.input.clone())
            .with("InputPath", self.input_path.clone());
        if let Some((paths, template)) = &self.input_transformer {
            v = v.with(
                "InputTransformer",
                Value::obj()
                    .with("InputPathsMap", Value::str_map(paths.iter()))
                    .with("InputTemplate", template.clone()),
            );
        }
        v
    }
}

fn name_ok(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

fn rule_not_found(name: &str) -> AwsError {
    AwsError::new(
        400,
        "ResourceNotFoundException",
        format!("Rule {name} does not exist on EventBus default."),
    )
}

fn check_bus(input: &Input) -> Result<(), AwsError> {
    match input.str("EventBusName")?.as_deref() {
        None | Some("default") => Ok(()),
        Some(arn) if arn.starts_with("arn:") && arn.ends_with(":event-bus/default") => Ok(()),
        Some(other) => Err(AwsError::new(
            400,
            "ResourceNotFoundException",
            format!(
                "Event bus {other} does not exist. (The sandbox has the default event bus only.)"
            ),
        )),
    }
}

fn schedule_ok(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = inner.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Ok(n) = n.parse::<u64>() else {
            return false;
        };
        let unit_ok = if n == 1 {
            ["minute", "hour", "day"].contains(&unit)
        } else {
            ["minutes", "hours", "days"].contains(&unit)
        };
        return n > 0 && unit_ok;
    }
    if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return inner.split_whitespace().count() == 6;
    }
    false
}

fn parse_pattern(text: &str) -> Result<Pattern, AwsError> {
    Pattern::parse(text)
        .map_err(|e| AwsError::new(400, "InvalidEventPatternException", e.to_string()))
}

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

fn transform(target: &Target, rule: &Rule, event: &J) -> String {
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

impl Sandbox {
    /// Offer an event to the rules of the default bus. `read_only_cloudtrail` is `Some(true)`
    /// for a read-only CloudTrail management event, which only rules in
    /// `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` receive.
    pub fn route_event(
        &self,
        account: &str,
        region: &str,
        event: &J,
        read_only_cloudtrail: Option<bool>,
    ) {
        let rules: Vec<Rule> =
            self.read::<EventsState, _>(account, region, |st| st.rules.values().cloned().collect());
        for rule in rules {
            let receives = match rule.state.as_str() {
                ALL_MANAGEMENT => true,
                "ENABLED" => read_only_cloudtrail != Some(true),
                _ => false,
            };
            let Some(pattern_text) = rule.event_pattern.as_deref().filter(|_| receives) else {
                continue;
            };
            let Ok(pattern) = Pattern::parse(pattern_text) else {
                continue;
            };
            if !pattern.matches(event) {
                continue;
            }
            let mut outcomes: Vec<Result<(), String>> = Vec::new();
            for target in &rule.targets {
                outcomes.push(self.invoke_target(account, region, &rule, target, event));
            }
            let name = rule.name.clone();
            let result = self.write::<EventsState, _>(account, region, |st| {
                if let Some(r) = st.rules.get_mut(&name) {
                    r.metrics.matched_events += 1;
                    for o in &outcomes {
                        r.metrics.invocations += 1;
                        if let Err(why) = o {
                            r.metrics.failed_invocations += 1;
                            r.metrics.last_failure = Some(why.clone());
                        }
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                tracing::error!(error = %e, "cannot record rule metrics");
            }
        }
    }

    fn invoke_target(
        &self,
        account: &str,
        region: &str,
        rule: &Rule,
        target: &Target,
        event: &J,
    ) -> Result<(), String> {
        let fail = |why: String| {
            tracing::warn!(rule = %rule.arn, target = %target.arn, %why, "EventBridge target invocation failed");
            Err(why)
        };
        let parts: Vec<&str> = target.arn.splitn(6, ':').collect();
        let ["arn", _, "sns", t_region, t_account, _] = parts.as_slice() else {
            return fail(format!(
                "target {} is not an SNS topic; the sandbox delivers to SNS topics only",
                target.arn
            ));
        };
        let (t_account, t_region) = (t_account.to_string(), t_region.to_string());
        let policy = self.read::<SnsState, _>(&t_account, &t_region, |st| {
            st.topics
                .get(&target.arn)
                .map(|t| t.attributes.get("Policy").cloned().unwrap_or_default())
        });
        let Some(policy) = policy else {
            return fail(format!("topic {} does not exist", target.arn));
        };
        if !service_may_publish(
            &policy,
            &target.arn,
            "events.amazonaws.com",
            &rule.arn,
            account,
        ) {
            return fail(format!(
                "the access policy of topic {} does not allow events.amazonaws.com to sns:Publish (add a statement for it)",
                target.arn
            ));
        }
        let message = transform(target, rule, event);
        let mut messages = BTreeMap::new();
        messages.insert("default".to_string(), message);
        let _ = region;
        match self.publish_to_topic(
            &t_account,
            &t_region,
            &target.arn,
            &Publication {
                subject: None,
                messages,
                attributes: Vec::new(),
            },
        ) {
            Ok(_) => Ok(()),
            Err(e) => fail(e.message),
        }
    }

    /// Route CloudTrail events whose delivery time has come (see `cloudtrail_delay`).
    pub fn deliver_due_events(&self) {
        let now_ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        let due: Vec<PendingEvent> = {
            let mut q = self.pending_events.lock();
            let (due, later): (Vec<_>, Vec<_>) = q.drain(..).partition(|p| p.due_ms <= now_ms);
            *q = later;
            due
        };
        for p in due {
            self.route_event(&p.account, &p.region, &p.event, Some(p.read_only));
        }
    }
}

/// A CloudTrail event waiting for its delivery delay to pass.
pub struct PendingEvent {
    pub due_ms: i64,
    pub account: String,
    pub region: String,
    pub event: J,
    pub read_only: bool,
}

fn tags_of(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    input
        .list("Tags")?
        .iter()
        .map(|t| Ok((t.req_str("Key")?, t.str("Value")?.unwrap_or_default())))
        .collect()
}

fn rule_value(r: &Rule, full: bool) -> Value {
    let mut v = Value::obj()
        .with("Name", r.name.clone())
        .with("Arn", r.arn.clone())
        .with("EventPattern", r.event_pattern.clone())
        .with("ScheduleExpression", r.schedule.clone())
        .with("State", r.state.clone())
        .with("Description", r.description.clone())
        .with("RoleArn", r.role_arn.clone())
        .with("EventBusName", "default");
    if full {
        v = v.with(
            "CreatedBy",
            r.arn.split(':').nth(4).unwrap_or_default().to_string(),
        );
    }
    v
}

fn page<T: Clone>(input: &Input, items: Vec<T>) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = input.int("Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(AwsError::bad_value(
            "Limit",
            &limit.to_string(),
            "Member must have value between 1 and 100",
        ));
    }
    let start = match input.str("NextToken")? {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| AwsError::validation("The NextToken is not valid."))?,
    };
    let end = (start + limit as usize).min(items.len());
    Ok((
        items[start..end].to_vec(),
        (end < items.len()).then(|| end.to_string()),
    ))
}

impl Service for Events {
    fn signing_name(&self) -> &'static str {
        "events"
    }
    fn event_source(&self) -> &'static str {
        "events.amazonaws.com"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsJson11
    }
    fn read_only(&self, op: &str) -> bool {
        ["Describe", "List", "Test"]
            .iter()
            .any(|p| op.starts_with(p))
    }

    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let sb = cx.sandbox;
        let account = cx.account().to_string();
        let region = cx.region.clone();
        match op {
            "PutRule" => {
                check_bus(input)?;
                let name = input.req_str("Name")?;
                if !name_ok(&name, 64) {
                    return Err(AwsError::bad_value("Name", &name, "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64"));
                }
                let pattern = input.str("EventPattern")?;
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
                let state = input.str("State")?.unwrap_or_else(|| "ENABLED".into());
                if !["ENABLED", "DISABLED", ALL_MANAGEMENT].contains(&state.as_str()) {
                    return Err(AwsError::bad_value(
                        "State",
                        &state,
                        "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
                    ));
                }
                let tags = tags_of(input)?;
                let arn = format!("arn:aws:events:{region}:{account}:rule/{name}");
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::Events::Rule".into(),
                });
                let description = input.str("Description")?;
                let role_arn = input.str("RoleArn")?;
                sb.write::<EventsState, _>(&account, &region, |st| {
                    let rule = st.rules.entry(name.clone()).or_insert_with(|| Rule {
                        name: name.clone(),
                        arn: arn.clone(),
                        event_pattern: None,
                        schedule: None,
                        state: state.clone(),
                        description: None,
                        role_arn: None,
                        targets: Vec::new(),
                        tags: BTreeMap::new(),
                        metrics: RuleMetrics::default(),
                    });
                    rule.event_pattern = pattern;
                    rule.schedule = schedule;
                    rule.state = state;
                    rule.description = description;
                    rule.role_arn = role_arn;
                    rule.tags.extend(tags);
                    Ok(Value::obj().with("RuleArn", arn.clone()))
                })
            }
            "DescribeRule" => {
                check_bus(input)?;
                let name = input.req_str("Name")?;
                sb.read::<EventsState, _>(&account, &region, |st| {
                    st.rules
                        .get(&name)
                        .map(|r| rule_value(r, true))
                        .ok_or_else(|| rule_not_found(&name))
                })
            }
            "ListRules" => {
                check_bus(input)?;
                let prefix = input.str("NamePrefix")?.unwrap_or_default();
                let rules: Vec<Value> = sb.read::<EventsState, _>(&account, &region, |st| {
                    st.rules
                        .values()
                        .filter(|r| r.name.starts_with(&prefix))
                        .map(|r| rule_value(r, false))
                        .collect()
                });
                let (items, next) = page(input, rules)?;
                Ok(Value::obj()
                    .with("Rules", Value::List(items))
                    .with("NextToken", next))
            }
            "EnableRule" | "DisableRule" => {
                check_bus(input)?;
                let name = input.req_str("Name")?;
                sb.write::<EventsState, _>(&account, &region, |st| {
                    let r = st
                        .rules
                        .get_mut(&name)
                        .ok_or_else(|| rule_not_found(&name))?;
                    cx.resources.push(TrailResource {
                        arn: r.arn.clone(),
                        resource_type: "AWS::Events::Rule".into(),
                    });
                    r.state = if op == "EnableRule" {
                        "ENABLED".into()
                    } else {
                        "DISABLED".into()
                    };
                    Ok(Value::Null)
                })
            }
            "DeleteRule" => {
                check_bus(input)?;
                let name = input.req_str("Name")?;
                sb.write::<EventsState, _>(&account, &region, |st| match st.rules.get(&name) {
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
            "PutTargets" => {
                check_bus(input)?;
                let name = input.req_str("Rule")?;
                let mut targets = Vec::new();
                for t in input.list("Targets")? {
                    let id = t.req_str("Id")?;
                    if !name_ok(&id, 64) {
                        return Err(AwsError::bad_value(
                            "Id",
                            &id,
                            "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
                        ));
                    }
                    let arn = t.req_str("Arn")?;
                    let input_text = t.str("Input")?;
                    if let Some(i) = &input_text {
                        serde_json::from_str::<J>(i).map_err(|_| {
                            AwsError::validation(format!(
                                "Input for target {id} is not valid JSON."
                            ))
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
                    targets.push(Target {
                        id,
                        arn,
                        input: input_text,
                        input_path,
                        input_transformer: transformer,
                    });
                }
                if targets.is_empty() {
                    return Err(AwsError::missing("Targets"));
                }
                sb.write::<EventsState, _>(&account, &region, |st| {
                    let r = st.rules.get_mut(&name).ok_or_else(|| rule_not_found(&name))?;
                    cx.resources.push(TrailResource { arn: r.arn.clone(), resource_type: "AWS::Events::Rule".into() });
                    let mut merged = r.targets.clone();
                    for t in targets {
                        match merged.iter_mut().find(|x| x.id == t.id) {
                            Some(existing) => *existing = t,
                            None => merged.push(t),
                        }
                    }
                    if merged.len() > 5 {
                        return Err(AwsError::new(400, "LimitExceededException", "The requested resource exceeds the maximum number allowed (5 targets per rule)."));
                    }
                    r.targets = merged;
                    Ok(Value::obj().with("FailedEntryCount", 0i64).with("FailedEntries", Value::List(Vec::new())))
                })
            }
            "RemoveTargets" => {
                check_bus(input)?;
                let name = input.req_str("Rule")?;
                let ids = input.str_list("Ids")?;
                sb.write::<EventsState, _>(&account, &region, |st| {
                    let r = st
                        .rules
                        .get_mut(&name)
                        .ok_or_else(|| rule_not_found(&name))?;
                    r.targets.retain(|t| !ids.contains(&t.id));
                    Ok(Value::obj()
                        .with("FailedEntryCount", 0i64)
                        .with("FailedEntries", Value::List(Vec::new())))
                })
            }
            "ListTargetsByRule" => {
                check_bus(input)?;
                let name = input.req_str("Rule")?;
                let targets = sb.read::<EventsState, _>(&account, &region, |st| {
                    st.rules
                        .get(&name)
                        .map(|r| r.targets.iter().map(Target::describe).collect::<Vec<_>>())
                        .ok_or_else(|| rule_not_found(&name))
                })?;
                let (items, next) = page(input, targets)?;
                Ok(Value::obj()
                    .with("Targets", Value::List(items))
                    .with("NextToken", next))
            }
            "ListRuleNamesByTarget" => {
                check_bus(input)?;
                let arn = input.req_str("TargetArn")?;
                let names: Vec<Value> = sb.read::<EventsState, _>(&account, &region, |st| {
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
            "TestEventPattern" => {
                let pattern = parse_pattern(&input.req_str("EventPattern")?)?;
                let event_text = input.req_str("Event")?;
                let event: J = serde_json::from_str(&event_text)
                    .map_err(|_| AwsError::validation("Parameter Event is not valid."))?;
                for field in ["id", "account", "source", "time", "region", "detail-type"] {
                    if event.get(field).is_none() {
                        return Err(AwsError::validation(format!(
                            "Parameter Event is not valid: the event has no '{field}'."
                        )));
                    }
                }
                Ok(Value::obj().with("Result", pattern.matches(&event)))
            }
            "PutEvents" => {
                let entries = input.list("Entries")?;
                if entries.is_empty() || entries.len() > 10 {
                    return Err(AwsError::validation("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10"));
                }
                let mut results = Vec::new();
                let mut failed = 0i64;
                let mut accepted = Vec::new();
                for e in entries {
                    let source = e.str("Source")?;
                    let detail_type = e.str("DetailType")?;
                    let detail = e.str("Detail")?;
                    let outcome = match (source, detail_type, detail) {
                        (Some(s), _, _) if s.starts_with("aws.") => Err((
                            "NotAuthorizedForSourceException",
                            "Not authorized for the source.",
                        )),
                        (Some(s), Some(dt), Some(d)) => match serde_json::from_str::<J>(&d) {
                            Ok(detail @ J::Object(_)) => {
                                let id = crate::util::uuid();
                                let time = e.time("Time")?.unwrap_or(cx.now);
                                let resources = e.str_list("Resources")?;
                                accepted.push(json!({
                                    "version": "0", "id": id, "detail-type": dt, "source": s, "account": account,
                                    "time": crate::util::iso8601_secs(time), "region": region, "resources": resources, "detail": detail,
                                }));
                                Ok(id)
                            }
                            _ => Err(("MalformedDetail", "Detail is malformed.")),
                        },
                        _ => Err((
                            "InvalidArgument",
                            "Parameters Source, DetailType and Detail are required.",
                        )),
                    };
                    match outcome {
                        Ok(id) => results.push(Value::obj().with("EventId", id)),
                        Err((code, msg)) => {
                            failed += 1;
                            results.push(
                                Value::obj()
                                    .with("ErrorCode", code)
                                    .with("ErrorMessage", msg),
                            );
                        }
                    }
                }
                for ev in &accepted {
                    sb.route_event(&account, &region, ev, None);
                }
                Ok(Value::obj()
                    .with("FailedEntryCount", failed)
                    .with("Entries", Value::List(results)))
            }
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                let arn = input.req_str("ResourceARN")?;
                let name = arn.rsplit('/').next().unwrap_or_default().to_string();
                let missing = || {
                    AwsError::new(
                        400,
                        "ResourceNotFoundException",
                        format!("Resource {arn} does not exist."),
                    )
                };
                if op == "ListTagsForResource" {
                    return sb.read::<EventsState, _>(&account, &region, |st| {
                        let r = st
                            .rules
                            .get(&name)
                            .filter(|r| r.arn == arn)
                            .ok_or_else(missing)?;
                        Ok(Value::obj().with(
                            "Tags",
                            Value::List(
                                r.tags
                                    .iter()
                                    .map(|(k, v)| {
                                        Value::obj().with("Key", k.clone()).with("Value", v.clone())
                                    })
                                    .collect(),
                            ),
                        ))
                    });
                }
                let tags = if op == "TagResource" {
                    tags_of(input)?
                } else {
                    Vec::new()
                };
                let keys = if op == "UntagResource" {
                    input.str_list("TagKeys")?
                } else {
                    Vec::new()
                };
                sb.write::<EventsState, _>(&account, &region, |st| {
                    let r = st
                        .rules
                        .get_mut(&name)
                        .filter(|r| r.arn == arn)
                        .ok_or_else(missing)?;
                    r.tags.extend(tags);
                    for k in &keys {
                        r.tags.remove(k);
                    }
                    Ok(Value::Null)
                })
            }
            _ => Err(cx.unknown(op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let v = json!({"detail": {"eventName": "GenerateDataKey", "list": [1, {"a": "b"}]}});
        assert_eq!(
            json_path(&v, "$.detail.eventName"),
            Some(&json!("GenerateDataKey"))
        );
        assert_eq!(json_path(&v, "$.detail.list[1].a"), Some(&json!("b")));
        assert_eq!(
            json_path(&v, "$['detail']['eventName']"),
            Some(&json!("GenerateDataKey"))
        );
        assert_eq!(json_path(&v, "$"), Some(&v));
        assert_eq!(json_path(&v, "$.nope"), None);
        assert_eq!(json_path(&v, "detail"), None);
    }

    #[test]
    fn schedules() {
        assert!(schedule_ok("rate(5 minutes)"));
        assert!(schedule_ok("rate(1 hour)"));
        assert!(!schedule_ok("rate(1 hours)"));
        assert!(schedule_ok("cron(0 12 * * ? *)"));
        assert!(!schedule_ok("every day"));
    }

    #[test]
    fn envelope_of_a_kms_record() {
        let rec = json!({"eventSource": "kms.amazonaws.com", "eventName": "GenerateDataKey", "eventTime": "2026-11-28T17:00:00Z"});
        let env = cloudtrail_envelope(&rec, "111122223333", "us-east-1");
        assert_eq!(env["source"], "aws.kms");
        assert_eq!(env["detail-type"], "AWS API Call via CloudTrail");
        assert_eq!(env["detail"]["eventName"], "GenerateDataKey");
        assert_eq!(env["time"], "2026-11-28T17:00:00Z");
    }
}
