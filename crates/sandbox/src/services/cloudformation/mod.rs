//! CloudFormation (awsQuery, API 2010-05-15): stacks from JSON or YAML templates, created and
//! deleted on the sandbox clock by calling the other services' own operations
//! ([`provision`]), with stack events for every transition, rollback on failure,
//! `DELETE_FAILED` with CloudFormation's reasons when a resource cannot go (a non-empty bucket,
//! a role with policies attached by hand), `RetainResources`, and termination protection.
//!
//! The workshop's stack (`KMSWorkshop-Stack`, from [`WORKSHOP_TEMPLATE`]) is created by the
//! `workshop` seed through the same code path.

pub mod provision;
pub mod template;

use std::collections::BTreeMap;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as J;
use time::{Duration, OffsetDateTime};

use self::provision::{Deleted, Env};
use self::template::{Made, Scope, Template};
use super::{Call, Service};
use crate::identity::{Caller, Principal};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::world::{Region, RegionalState};
use crate::Sandbox;

/// The KMS workshop's template: the bucket `kmsworkshop-<account>`, the role
/// `KMSWorkshop-InstanceInitRole` and its instance profile.
pub const WORKSHOP_TEMPLATE: &str = include_str!("workshop-template.yaml");
/// The stack name the workshop tells learners to use.
pub const WORKSHOP_STACK: &str = kms_workshop_names::STACK;

pub struct CloudFormation;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CfnState {
    /// Every stack, live or deleted, in creation order.
    #[serde(default)]
    pub stacks: Vec<Stack>,
}

impl RegionalState for CfnState {
    const NAME: &'static str = "cloudformation";
    fn of(region: &Region) -> &Self {
        &region.cloudformation
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.cloudformation
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackParam {
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub no_echo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Create,
    Rollback,
    Delete,
}

/// Work the stack still has to do, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub kind: OpKind,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub resource_type: String,
    #[serde(default)]
    pub physical_id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
    /// The properties as resolved when it was created (what deletion undoes).
    #[serde(default)]
    pub properties: J,
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    #[serde(default)]
    pub physical_id: Option<String>,
    pub resource_type: String,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub properties: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stack {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub template_body: String,
    #[serde(default)]
    pub parameters: Vec<StackParam>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub disable_rollback: bool,
    /// `ROLLBACK` (default), `DO_NOTHING` or `DELETE`.
    #[serde(default)]
    pub on_failure: String,
    #[serde(default)]
    pub termination_protection: bool,
    pub status: String,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deleted: Option<OffsetDateTime>,
    #[serde(default)]
    pub resources: Vec<StackResource>,
    #[serde(default)]
    pub events: Vec<StackEvent>,
    #[serde(default)]
    pub outputs: Vec<(String, String, Option<String>)>,
    #[serde(default)]
    pub pending: Option<Pending>,
    /// Logical ids a `DeleteStack` asked to keep.
    #[serde(default)]
    pub retain: Vec<String>,
    #[serde(default)]
    pub token: Option<String>,
    /// Who created the stack: CloudFormation acts with their permissions.
    pub caller_key: String,
    pub caller_principal: Principal,
}

impl Stack {
    fn live(&self) -> bool {
        self.status != "DELETE_COMPLETE"
    }

    fn caller(&self, account: &str) -> Caller {
        Caller {
            access_key_id: self.caller_key.clone(),
            account: account.to_string(),
            principal: self.caller_principal.clone(),
        }
    }

    /// Events strictly after the previous one (several transitions can share a sandbox
    /// instant; their order and ids must not).
    fn event_time(&self, at: OffsetDateTime) -> OffsetDateTime {
        match self.events.last() {
            Some(e) if e.timestamp >= at => e.timestamp + Duration::milliseconds(1),
            _ => at,
        }
    }

    fn stack_event(&mut self, at: OffsetDateTime, status: &str, reason: Option<String>) {
        let at = self.event_time(at);
        self.events.push(StackEvent {
            id: crate::util::uuid(),
            logical_id: self.name.clone(),
            physical_id: Some(self.id.clone()),
            resource_type: "AWS::CloudFormation::Stack".into(),
            timestamp: at,
            status: status.into(),
            reason: reason.clone(),
            properties: None,
            token: self.token.clone(),
        });
        self.status = status.into();
        self.status_reason = reason;
    }

    fn resource_event(
        &mut self,
        i: usize,
        at: OffsetDateTime,
        status: &str,
        reason: Option<String>,
    ) {
        let at = self.event_time(at);
        let Some(r) = self.resources.get_mut(i) else {
            return;
        };
        r.status = status.into();
        r.reason = reason.clone();
        r.updated = at;
        let ev = StackEvent {
            id: format!("{}-{status}-{}", r.logical_id, crate::util::iso8601(at)),
            logical_id: r.logical_id.clone(),
            physical_id: r.physical_id.clone(),
            resource_type: r.resource_type.clone(),
            timestamp: at,
            status: status.into(),
            reason,
            properties: (status == "CREATE_IN_PROGRESS").then(|| r.properties.to_string()),
            token: self.token.clone(),
        };
        self.events.push(ev);
    }
}

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

fn no_stack(name: &str) -> AwsError {
    validation(format!("Stack with id {name} does not exist"))
}

fn stack_index(st: &CfnState, name: &str) -> Option<usize> {
    if name.starts_with("arn:") {
        st.stacks.iter().position(|s| s.id == name)
    } else {
        st.stacks.iter().position(|s| s.name == name && s.live())
    }
}

impl Service for CloudFormation {
    fn signing_name(&self) -> &'static str {
        "cloudformation"
    }
    fn event_source(&self) -> &'static str {
        "cloudformation.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        "http://cloudformation.amazonaws.com/doc/2010-05-15/"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsQuery
    }
    fn read_only(&self, op: &str) -> bool {
        ["Describe", "Get", "List", "Validate", "Estimate", "Detect"]
            .iter()
            .any(|p| op.starts_with(p))
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let (account, region) = (cx.account().to_string(), cx.region.clone());
        settle_in(cx.sandbox, &account, &region, cx.now);
        let out = match op {
            "CreateStack" => create_stack(cx, input),
            "DescribeStacks" => describe_stacks(cx, input),
            "ListStacks" => list_stacks(cx, input),
            "DescribeStackResources" => describe_stack_resources(cx, input),
            "DescribeStackResource" => describe_stack_resource(cx, input),
            "ListStackResources" => list_stack_resources(cx, input),
            "DescribeStackEvents" => describe_stack_events(cx, input),
            "GetTemplate" => get_template(cx, input),
            "ValidateTemplate" => validate_template(input),
            "UpdateTerminationProtection" => update_termination_protection(cx, input),
            "DeleteStack" => delete_stack(cx, input),
            _ => return Err(cx.unknown(op)),
        }?;
        // Work due now (the instant latency profile) is done before the caller looks again.
        settle_in(cx.sandbox, &account, &region, cx.now);
        Ok(out)
    }
}

fn template_body(input: &Input) -> Result<String, AwsError> {
    match (input.str("TemplateBody")?, input.str("TemplateURL")?) {
        (Some(b), None) if b.len() > 51_200 => Err(validation(
            "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200",
        )),
        (Some(b), None) => Ok(b),
        (Some(_), Some(_)) => Err(validation(
            "Specify exactly one of TemplateBody or TemplateUrl.",
        )),
        (None, Some(_)) => Err(validation(
            "TemplateURL must be a supported URL. (The sandbox takes templates as TemplateBody only.)",
        )),
        (None, None) => Err(validation(
            "Either Template URL or Template Body must be specified.",
        )),
    }
}

fn stack_name_ok(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        && name.len() <= 128
}

/// The parameter values a stack gets: given, else default; checked against the template.
fn resolve_params(t: &Template, input: &Input) -> Result<Vec<StackParam>, AwsError> {
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    for p in input.list("Parameters")? {
        let key = p.str("ParameterKey")?.ok_or_else(|| {
            AwsError::missing("parameters.member.parameterKey").with_code("ValidationError")
        })?;
        given.insert(key, p.str("ParameterValue")?.unwrap_or_default());
    }
    let unknown: Vec<&str> = given
        .keys()
        .map(String::as_str)
        .filter(|k| !t.parameters.iter().any(|p| p.key == *k))
        .collect();
    if !unknown.is_empty() {
        return Err(validation(format!(
            "Parameters: [{}] do not exist in the template",
            unknown.join(", ")
        )));
    }
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for p in &t.parameters {
        let Some(value) = given.get(&p.key).cloned().or_else(|| p.default.clone()) else {
            missing.push(p.key.clone());
            continue;
        };
        if !p.allowed.is_empty() && !p.allowed.contains(&value) {
            return Err(validation(format!(
                "Parameter '{}' must be one of AllowedValues",
                p.key
            )));
        }
        if p.kind == "Number" && value.parse::<f64>().is_err() {
            return Err(validation(format!(
                "Parameter '{}' must be a number.",
                p.key
            )));
        }
        out.push(StackParam {
            key: p.key.clone(),
            value,
            no_echo: p.no_echo,
        });
    }
    if !missing.is_empty() {
        return Err(validation(format!(
            "Parameters: [{}] must have values",
            missing.join(", ")
        )));
    }
    Ok(out)
}

fn param_values(t: &Template, params: &[StackParam]) -> BTreeMap<String, J> {
    params
        .iter()
        .map(|p| {
            let kind = t
                .parameters
                .iter()
                .find(|d| d.key == p.key)
                .map(|d| d.kind.as_str())
                .unwrap_or("String");
            let v = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
                J::Array(
                    p.value
                        .split(',')
                        .map(|s| J::from(s.trim().to_string()))
                        .collect(),
                )
            } else {
                J::from(p.value.clone())
            };
            (p.key.clone(), v)
        })
        .collect()
}

fn create_stack(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input
        .str("StackName")?
        .ok_or_else(|| AwsError::missing("StackName").with_code("ValidationError"))?;
    if !stack_name_ok(&name) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )));
    }
    let body = template_body(input)?;
    let t = template::check(&body).map_err(validation)?;
    let params = resolve_params(&t, input)?;
    let capabilities = input.str_list("Capabilities")?;
    for c in &capabilities {
        if ![
            "CAPABILITY_IAM",
            "CAPABILITY_NAMED_IAM",
            "CAPABILITY_AUTO_EXPAND",
        ]
        .contains(&c.as_str())
        {
            return Err(validation(format!(
                "1 validation error detected: Value '[{c}]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]"
            )));
        }
    }
    if let Some(need) = template::required_capability(&t) {
        let ok = capabilities.iter().any(|c| c == need)
            || (need == "CAPABILITY_IAM"
                && capabilities.iter().any(|c| c == "CAPABILITY_NAMED_IAM"));
        if !ok {
            return Err(AwsError::new(
                400,
                "InsufficientCapabilitiesException",
                format!("Requires capabilities : [{need}]"),
            ));
        }
    }
    let mut tags = Vec::new();
    for tag in input.list("Tags")? {
        let k = tag.str("Key")?.unwrap_or_default();
        if k.starts_with("aws:") {
            return Err(validation(
                "Invalid tag key: aws: prefixed tag key names are not allowed for external use.",
            ));
        }
        tags.push((k, tag.str("Value")?.unwrap_or_default()));
    }
    let on_failure = match (input.str("OnFailure")?, input.bool("DisableRollback")?) {
        (Some(_), Some(_)) => {
            return Err(validation(
                "You cannot specify both OnFailure and DisableRollback.",
            ))
        }
        (Some(o), None) if ["ROLLBACK", "DO_NOTHING", "DELETE"].contains(&o.as_str()) => o,
        (Some(o), None) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{o}' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"
            )))
        }
        (None, Some(true)) => "DO_NOTHING".to_string(),
        (None, _) => "ROLLBACK".to_string(),
    };
    let token = input.str("ClientRequestToken")?;
    let termination_protection = input.bool("EnableTerminationProtection")?.unwrap_or(false);
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let id = format!(
        "arn:aws:cloudformation:{region}:{account}:stack/{name}/{}",
        crate::util::uuid()
    );
    let delay = cx.sandbox.config.lifecycle_delay(20.0, 60.0);
    let mut stack = Stack {
        id: id.clone(),
        name: name.clone(),
        description: t.description.clone(),
        template_body: body,
        parameters: params,
        tags,
        capabilities,
        disable_rollback: on_failure == "DO_NOTHING",
        on_failure,
        termination_protection,
        status: String::new(),
        status_reason: None,
        created: now,
        updated: None,
        deleted: None,
        resources: Vec::new(),
        events: Vec::new(),
        outputs: Vec::new(),
        pending: Some(Pending {
            kind: OpKind::Create,
            due: now + delay,
        }),
        retain: Vec::new(),
        token,
        caller_key: cx.caller.access_key_id.clone(),
        caller_principal: cx.caller.principal.clone(),
    };
    stack.stack_event(now, "CREATE_IN_PROGRESS", Some("User Initiated".into()));
    cx.sandbox.write::<CfnState, _>(&account, &region, |st| {
        if st.stacks.iter().any(|s| s.name == name && s.live()) {
            return Err(AwsError::new(
                400,
                "AlreadyExistsException",
                format!("Stack [{name}] already exists"),
            ));
        }
        st.stacks.push(stack);
        Ok(())
    })?;
    Ok(Value::obj().with("StackId", id))
}

fn drift(member: &str) -> Value {
    Value::obj().with(member, "NOT_CHECKED")
}

fn stack_value(s: &Stack) -> Value {
    let params: Vec<Value> = s
        .parameters
        .iter()
        .map(|p| {
            Value::obj().with("ParameterKey", p.key.as_str()).with(
                "ParameterValue",
                if p.no_echo { "****" } else { p.value.as_str() },
            )
        })
        .collect();
    let tags: Vec<Value> = s
        .tags
        .iter()
        .map(|(k, v)| {
            Value::obj()
                .with("Key", k.as_str())
                .with("Value", v.as_str())
        })
        .collect();
    let outputs: Vec<Value> = s
        .outputs
        .iter()
        .map(|(k, v, d)| {
            Value::obj()
                .with("OutputKey", k.as_str())
                .with("OutputValue", v.as_str())
                .with("Description", d.clone())
        })
        .collect();
    let mut v = Value::obj()
        .with("StackId", s.id.as_str())
        .with("StackName", s.name.as_str())
        .with("Description", s.description.clone());
    if !params.is_empty() {
        v = v.with("Parameters", Value::List(params));
    }
    v = v
        .with("CreationTime", s.created)
        .with("DeletionTime", s.deleted)
        .with("LastUpdatedTime", s.updated)
        .with("StackStatus", s.status.as_str())
        .with("StackStatusReason", s.status_reason.clone())
        .with("DisableRollback", s.disable_rollback)
        .with("NotificationARNs", Value::List(Vec::new()));
    if !s.capabilities.is_empty() {
        v = v.with(
            "Capabilities",
            Value::List(s.capabilities.iter().map(Value::from).collect()),
        );
    }
    if !outputs.is_empty() {
        v = v.with("Outputs", Value::List(outputs));
    }
    v.with("Tags", Value::List(tags))
        .with("EnableTerminationProtection", s.termination_protection)
        .with("DriftInformation", drift("StackDriftStatus"))
}

fn describe_stacks(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input.str("StackName")?;
    let stacks = cx
        .sandbox
        .read::<CfnState, _>(cx.account(), &cx.region, |st| match &name {
            Some(n) => stack_index(st, n)
                .map(|i| vec![stack_value(&st.stacks[i])])
                .ok_or_else(|| no_stack(n)),
            None => Ok(st
                .stacks
                .iter()
                .rev()
                .filter(|s| s.live())
                .map(stack_value)
                .collect()),
        })?;
    Ok(Value::obj().with("Stacks", Value::List(stacks)))
}

fn list_stacks(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let filter = input.str_list("StackStatusFilter")?;
    let items = cx
        .sandbox
        .read::<CfnState, _>(cx.account(), &cx.region, |st| {
            st.stacks
                .iter()
                .rev()
                .filter(|s| filter.is_empty() || filter.contains(&s.status))
                .map(|s| {
                    Value::obj()
                        .with("StackId", s.id.as_str())
                        .with("StackName", s.name.as_str())
                        .with("TemplateDescription", s.description.clone())
                        .with("CreationTime", s.created)
                        .with("LastUpdatedTime", s.updated)
                        .with("DeletionTime", s.deleted)
                        .with("StackStatus", s.status.as_str())
                        .with("StackStatusReason", s.status_reason.clone())
                        .with("DriftInformation", drift("StackDriftStatus"))
                })
                .collect::<Vec<_>>()
        });
    Ok(Value::obj().with("StackSummaries", Value::List(items)))
}

/// Resources of the stack named by `StackName`, or the stack of `PhysicalResourceId`.
fn find_resources(cx: &Call<'_>, input: &Input, allow_physical: bool) -> Result<Stack, AwsError> {
    let name = input.str("StackName")?;
    let physical = if allow_physical {
        input.str("PhysicalResourceId")?
    } else {
        None
    };
    cx.sandbox
        .read::<CfnState, _>(cx.account(), &cx.region, |st| match (&name, &physical) {
            (Some(n), _) => stack_index(st, n)
                .map(|i| st.stacks[i].clone())
                .ok_or_else(|| no_stack(n)),
            (None, Some(p)) => st
                .stacks
                .iter()
                .rev()
                .find(|s| {
                    s.resources
                        .iter()
                        .any(|r| r.physical_id.as_deref() == Some(p.as_str()))
                })
                .cloned()
                .ok_or_else(|| validation(format!("Stack for {p} does not exist"))),
            (None, None) => Err(AwsError::missing("StackName").with_code("ValidationError")),
        })
}

fn resource_value(s: &Stack, r: &StackResource, detail: bool) -> Value {
    let mut v = Value::obj()
        .with("StackName", s.name.as_str())
        .with("StackId", s.id.as_str())
        .with("LogicalResourceId", r.logical_id.as_str())
        .with("PhysicalResourceId", r.physical_id.clone())
        .with("ResourceType", r.resource_type.as_str());
    v = if detail {
        v.with("LastUpdatedTimestamp", r.updated)
    } else {
        v.with("Timestamp", r.updated)
    };
    v = v
        .with("ResourceStatus", r.status.as_str())
        .with("ResourceStatusReason", r.reason.clone());
    if detail {
        v = v.with("Metadata", "{}");
    }
    v.with("DriftInformation", drift("StackResourceDriftStatus"))
}

fn describe_stack_resources(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let s = find_resources(cx, input, true)?;
    let logical = input.str("LogicalResourceId")?;
    let items: Vec<Value> = s
        .resources
        .iter()
        .filter(|r| logical.as_deref().is_none_or(|l| l == r.logical_id))
        .map(|r| resource_value(&s, r, false))
        .collect();
    Ok(Value::obj().with("StackResources", Value::List(items)))
}

fn describe_stack_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input
        .str("StackName")?
        .ok_or_else(|| AwsError::missing("StackName").with_code("ValidationError"))?;
    let logical = input
        .str("LogicalResourceId")?
        .ok_or_else(|| AwsError::missing("LogicalResourceId").with_code("ValidationError"))?;
    let s = find_resources(cx, input, false)?;
    let r = s
        .resources
        .iter()
        .find(|r| r.logical_id == logical)
        .ok_or_else(|| {
            validation(format!(
                "Resource {logical} does not exist for stack {name}"
            ))
        })?;
    Ok(Value::obj().with("StackResourceDetail", resource_value(&s, r, true)))
}

fn list_stack_resources(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let s = find_resources(cx, input, false)?;
    let items: Vec<Value> = s
        .resources
        .iter()
        .map(|r| {
            Value::obj()
                .with("LogicalResourceId", r.logical_id.as_str())
                .with("PhysicalResourceId", r.physical_id.clone())
                .with("ResourceType", r.resource_type.as_str())
                .with("LastUpdatedTimestamp", r.updated)
                .with("ResourceStatus", r.status.as_str())
                .with("ResourceStatusReason", r.reason.clone())
                .with("DriftInformation", drift("StackResourceDriftStatus"))
        })
        .collect();
    Ok(Value::obj().with("StackResourceSummaries", Value::List(items)))
}

fn describe_stack_events(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let s = find_resources(cx, input, false)?;
    let items: Vec<Value> = s
        .events
        .iter()
        .rev()
        .map(|e| {
            Value::obj()
                .with("StackId", s.id.as_str())
                .with("EventId", e.id.as_str())
                .with("StackName", s.name.as_str())
                .with("LogicalResourceId", e.logical_id.as_str())
                .with("PhysicalResourceId", e.physical_id.clone())
                .with("ResourceType", e.resource_type.as_str())
                .with("Timestamp", e.timestamp)
                .with("ResourceStatus", e.status.as_str())
                .with("ResourceStatusReason", e.reason.clone())
                .with("ResourceProperties", e.properties.clone())
                .with("ClientRequestToken", e.token.clone())
        })
        .collect();
    Ok(Value::obj().with("StackEvents", Value::List(items)))
}

fn get_template(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    match input.str("TemplateStage")?.as_deref() {
        None | Some("Original") | Some("Processed") => {}
        Some(other) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'templateStage' failed to satisfy constraint: Member must satisfy enum value set: [Original, Processed]"
            )))
        }
    }
    let s = find_resources(cx, input, false)?;
    Ok(Value::obj()
        .with("TemplateBody", s.template_body.as_str())
        .with(
            "StagesAvailable",
            Value::List(vec!["Original".into(), "Processed".into()]),
        ))
}

fn validate_template(input: &Input) -> Result<Value, AwsError> {
    let body = template_body(input)?;
    let t = template::check(&body).map_err(validation)?;
    let params: Vec<Value> = t
        .parameters
        .iter()
        .map(|p| {
            Value::obj()
                .with("ParameterKey", p.key.as_str())
                .with("DefaultValue", p.default.clone())
                .with("NoEcho", p.no_echo)
                .with("Description", p.description.clone())
        })
        .collect();
    let mut v = Value::obj()
        .with("Parameters", Value::List(params))
        .with("Description", t.description.clone());
    if let Some(c) = template::required_capability(&t) {
        let kinds: Vec<&str> = t
            .resources
            .iter()
            .filter(|r| r.resource_type.starts_with("AWS::IAM::"))
            .map(|r| r.resource_type.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        v = v.with("Capabilities", Value::List(vec![c.into()])).with(
            "CapabilitiesReason",
            format!(
                "The following resource(s) require capabilities: [{}]",
                kinds.join(", ")
            ),
        );
    }
    Ok(v)
}

fn update_termination_protection(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let enable = input.bool("EnableTerminationProtection")?.ok_or_else(|| {
        AwsError::missing("EnableTerminationProtection").with_code("ValidationError")
    })?;
    let name = input
        .str("StackName")?
        .ok_or_else(|| AwsError::missing("StackName").with_code("ValidationError"))?;
    let (account, region) = (cx.account().to_string(), cx.region.clone());
    let id = cx.sandbox.write::<CfnState, _>(&account, &region, |st| {
        let i = stack_index(st, &name).ok_or_else(|| no_stack(&name))?;
        let s = &mut st.stacks[i];
        if !s.live() {
            return Err(no_stack(&name));
        }
        s.termination_protection = enable;
        Ok(s.id.clone())
    })?;
    Ok(Value::obj().with("StackId", id))
}

fn delete_stack(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input
        .str("StackName")?
        .ok_or_else(|| AwsError::missing("StackName").with_code("ValidationError"))?;
    let retain = input.str_list("RetainResources")?;
    let token = input.str("ClientRequestToken")?;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let delay = cx.sandbox.config.lifecycle_delay(10.0, 30.0);
    cx.sandbox.write::<CfnState, _>(&account, &region, |st| {
        // Deleting a stack that does not exist (or is gone) succeeds, as on AWS.
        let Some(i) = stack_index(st, &name) else {
            return Ok(());
        };
        let s = &mut st.stacks[i];
        if !s.live() || s.status == "DELETE_IN_PROGRESS" {
            return Ok(());
        }
        if s.termination_protection {
            return Err(validation(format!(
                "Stack [{}] cannot be deleted while TerminationProtection is enabled",
                s.name
            )));
        }
        if !retain.is_empty() {
            if s.status != "DELETE_FAILED" {
                return Err(validation(format!(
                    "Invalid operation on stack [{}]. RetainResources can be specified only when the stack is in the DELETE_FAILED state",
                    s.id
                )));
            }
            let unknown: Vec<&String> = retain
                .iter()
                .filter(|l| !s.resources.iter().any(|r| &r.logical_id == *l))
                .collect();
            if let Some(u) = unknown.first() {
                return Err(validation(format!(
                    "Resource {u} does not exist for stack {}",
                    s.name
                )));
            }
        }
        s.retain = retain.clone();
        s.token = token.clone();
        s.stack_event(now, "DELETE_IN_PROGRESS", Some("User Initiated".into()));
        s.pending = Some(Pending {
            kind: OpKind::Delete,
            due: now + delay,
        });
        Ok(())
    })?;
    Ok(Value::obj())
}

// ---------------------------------------------------------------------------------------------
// Lifecycle on the sandbox clock.

/// Do the work of every stack whose time has come (called from the server's tick).
pub fn settle_due(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        settle_in(sb, &account, &region, now);
    }
}

fn settle_in(sb: &Sandbox, account: &str, region: &str, now: OffsetDateTime) {
    let due: Vec<String> = sb.read::<CfnState, _>(account, region, |st| {
        st.stacks
            .iter()
            .filter(|s| s.pending.as_ref().is_some_and(|p| p.due <= now))
            .map(|s| s.id.clone())
            .collect()
    });
    for id in due {
        if let Err(e) = settle_stack(sb, account, region, &id, now, true) {
            tracing::error!(error = %e, stack = %id, "cannot settle a stack");
        }
    }
}

/// Run a stack's pending work (repeatedly, while more is due at `now`).
fn settle_stack(
    sb: &Sandbox,
    account: &str,
    region: &str,
    id: &str,
    now: OffsetDateTime,
    record: bool,
) -> Result<(), AwsError> {
    for _ in 0..16 {
        // Claim the work, so a concurrent tick does not do it twice.
        let claimed = sb.write::<CfnState, _>(account, region, |st| {
            let Some(s) = st.stacks.iter_mut().find(|s| s.id == id) else {
                return Ok(None);
            };
            match &s.pending {
                Some(p) if p.due <= now => {
                    let kind = p.kind;
                    s.pending = None;
                    Ok(Some((kind, s.clone())))
                }
                _ => Ok(None),
            }
        })?;
        let Some((kind, mut stack)) = claimed else {
            return Ok(());
        };
        let env = Env {
            sb,
            caller: stack.caller(account),
            region: region.to_string(),
            now,
            record,
            stack_name: stack.name.clone(),
            stack_id: stack.id.clone(),
            stack_tags: stack.tags.clone(),
        };
        match kind {
            OpKind::Create => run_create(&env, &mut stack),
            OpKind::Rollback | OpKind::Delete => run_delete(&env, &mut stack, kind),
        }
        let done = stack.pending.as_ref().is_none_or(|p| p.due > now);
        sb.write::<CfnState, _>(account, region, |st| {
            if let Some(s) = st.stacks.iter_mut().find(|s| s.id == id) {
                *s = stack;
            }
            Ok(())
        })?;
        if done {
            return Ok(());
        }
    }
    Ok(())
}

fn run_create(env: &Env<'_>, s: &mut Stack) {
    let now = env.now;
    let t = match template::check(&s.template_body) {
        Ok(t) => t,
        Err(e) => {
            s.stack_event(now, "CREATE_FAILED", Some(e));
            return;
        }
    };
    let params = param_values(&t, &s.parameters);
    let mut made: BTreeMap<String, Made> = BTreeMap::new();
    let mut failed: Vec<String> = Vec::new();
    for decl in &t.resources {
        let scope = Scope {
            template: &t,
            params: &params,
            account: &env.caller.account,
            region: &env.region,
            stack_name: &s.name,
            stack_id: &s.id,
            made: &made,
        };
        if let Some(c) = &decl.condition {
            match scope.condition(c, 0) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    s.stack_event(now, "CREATE_FAILED", Some(e));
                    return;
                }
            }
        }
        let resolved = scope.resolve(&decl.properties, 0);
        s.resources.push(StackResource {
            logical_id: decl.logical_id.clone(),
            resource_type: decl.resource_type.clone(),
            physical_id: None,
            status: String::new(),
            reason: None,
            updated: now,
            properties: resolved.as_ref().ok().cloned().flatten().unwrap_or(J::Null),
            attrs: BTreeMap::new(),
        });
        let i = s.resources.len() - 1;
        s.resource_event(i, now, "CREATE_IN_PROGRESS", None);
        let props = match resolved {
            Ok(p) => p.unwrap_or(J::Object(Default::default())),
            Err(e) => {
                s.resource_event(i, now, "CREATE_FAILED", Some(e));
                failed.push(decl.logical_id.clone());
                break;
            }
        };
        match provision::create(env, &decl.logical_id, &decl.resource_type, &props) {
            Ok(m) => {
                s.resources[i].physical_id = Some(m.physical_id.clone());
                s.resources[i].attrs = m.attrs.clone();
                s.resource_event(
                    i,
                    now,
                    "CREATE_IN_PROGRESS",
                    Some("Resource creation Initiated".into()),
                );
                s.resource_event(i, now, "CREATE_COMPLETE", None);
                made.insert(decl.logical_id.clone(), m);
            }
            Err(f) => {
                s.resources[i].physical_id = f.physical_id.clone();
                s.resource_event(i, now, "CREATE_FAILED", Some(f.reason));
                failed.push(decl.logical_id.clone());
                break;
            }
        }
    }
    if failed.is_empty() {
        let scope = Scope {
            template: &t,
            params: &params,
            account: &env.caller.account,
            region: &env.region,
            stack_name: &s.name,
            stack_id: &s.id,
            made: &made,
        };
        let mut outputs = Vec::new();
        for (key, o) in &t.outputs {
            if let Some(c) = o.get("Condition").and_then(J::as_str) {
                if !scope.condition(c, 0).unwrap_or(false) {
                    continue;
                }
            }
            let value = o
                .get("Value")
                .map(|v| scope.resolve(v, 0))
                .transpose()
                .ok()
                .flatten()
                .flatten();
            let text = match value {
                Some(J::String(s)) => s,
                Some(J::Array(a)) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                Some(other) => other.to_string(),
                None => continue,
            };
            let desc = o.get("Description").and_then(J::as_str).map(str::to_string);
            outputs.push((key.clone(), text, desc));
        }
        s.outputs = outputs;
        s.stack_event(now, "CREATE_COMPLETE", None);
        return;
    }
    let list = failed.join(", ");
    if s.on_failure == "DO_NOTHING" {
        s.stack_event(
            now,
            "CREATE_FAILED",
            Some(format!(
                "The following resource(s) failed to create: [{list}]. "
            )),
        );
        return;
    }
    s.stack_event(
        now,
        "ROLLBACK_IN_PROGRESS",
        Some(format!(
            "The following resource(s) failed to create: [{list}]. Rollback requested by user."
        )),
    );
    s.pending = Some(Pending {
        kind: OpKind::Rollback,
        due: now,
    });
}

fn run_delete(env: &Env<'_>, s: &mut Stack, kind: OpKind) {
    let now = env.now;
    let mut waiting = false;
    for i in (0..s.resources.len()).rev() {
        let r = &s.resources[i];
        if matches!(r.status.as_str(), "DELETE_COMPLETE" | "DELETE_SKIPPED") {
            continue;
        }
        if kind == OpKind::Delete && s.retain.contains(&r.logical_id) {
            s.resource_event(i, now, "DELETE_SKIPPED", None);
            continue;
        }
        let Some(physical) = r.physical_id.clone() else {
            // Never created: nothing to delete.
            s.resource_event(i, now, "DELETE_COMPLETE", None);
            continue;
        };
        if r.status != "DELETE_IN_PROGRESS" {
            s.resource_event(i, now, "DELETE_IN_PROGRESS", None);
        }
        let (kind_name, props) = (
            s.resources[i].resource_type.clone(),
            s.resources[i].properties.clone(),
        );
        match provision::delete(env, &kind_name, &physical, &props) {
            Ok(Deleted::Done) => s.resource_event(i, now, "DELETE_COMPLETE", None),
            Ok(Deleted::Waiting) => {
                waiting = true;
                break;
            }
            Err(reason) => s.resource_event(i, now, "DELETE_FAILED", Some(reason)),
        }
    }
    if waiting {
        s.pending = Some(Pending {
            kind,
            due: now + Duration::seconds(1),
        });
        return;
    }
    let mut failed: Vec<&str> = s
        .resources
        .iter()
        .filter(|r| r.status == "DELETE_FAILED")
        .map(|r| r.logical_id.as_str())
        .collect();
    failed.sort_unstable();
    let reason = (!failed.is_empty()).then(|| {
        format!(
            "The following resource(s) failed to delete: [{}]. ",
            failed.join(", ")
        )
    });
    match (kind, reason) {
        (OpKind::Delete, Some(r)) => s.stack_event(now, "DELETE_FAILED", Some(r)),
        (OpKind::Delete, None) => {
            s.stack_event(now, "DELETE_COMPLETE", None);
            s.deleted = Some(now);
        }
        (_, Some(r)) => s.stack_event(now, "ROLLBACK_FAILED", Some(r)),
        (_, None) => {
            s.stack_event(now, "ROLLBACK_COMPLETE", None);
            if s.on_failure == "DELETE" {
                s.stack_event(now, "DELETE_IN_PROGRESS", None);
                s.stack_event(now, "DELETE_COMPLETE", None);
                s.deleted = Some(now);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The workshop seed.

/// Create `KMSWorkshop-Stack` from [`WORKSHOP_TEMPLATE`] as the learner did, `at` (days before
/// the chapter starts), through CreateStack, and complete it at once.
pub fn seed_workshop(
    sb: &Sandbox,
    account: &str,
    region: &str,
    at: OffsetDateTime,
) -> Result<(), AwsError> {
    let caller = Caller::from(&crate::identity::learner_credential(account));
    let params: BTreeMap<String, String> = [
        ("StackName", WORKSHOP_STACK),
        ("TemplateBody", WORKSHOP_TEMPLATE),
        ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let input = Input::form(params, crate::protocol::input::FormStyle::Query);
    let mut cx = Call {
        sandbox: sb,
        caller,
        region: region.to_string(),
        request_id: crate::util::uuid(),
        now: at,
        protocol: Protocol::AwsQuery,
        resources: Vec::new(),
        response_elements: None,
    };
    let out = create_stack(&mut cx, &input)?;
    let id = match out {
        Value::Struct(f) => f
            .into_iter()
            .find(|(k, _)| k == "StackId")
            .and_then(|(_, v)| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    // Due at once, whatever the latency profile: the learner's stack finished days ago.
    sb.write::<CfnState, _>(account, region, |st| {
        if let Some(p) = st
            .stacks
            .iter_mut()
            .find(|s| s.id == id)
            .and_then(|s| s.pending.as_mut())
        {
            p.due = at;
        }
        Ok(())
    })?;
    settle_stack(sb, account, region, &id, at + Duration::seconds(40), false)?;
    let status = sb.read::<CfnState, _>(account, region, |st| {
        st.stacks
            .iter()
            .find(|s| s.id == id)
            .map(|s| (s.status.clone(), s.status_reason.clone()))
    });
    match status {
        Some((s, _)) if s == "CREATE_COMPLETE" => Ok(()),
        other => Err(AwsError::internal(format!(
            "the workshop stack was not created: {other:?}"
        ))),
    }
}

/// The workshop stack's resources by logical id → physical id (for the other seeds).
pub fn stack_resource(
    sb: &Sandbox,
    account: &str,
    region: &str,
    stack: &str,
    logical_id: &str,
) -> Option<String> {
    sb.read::<CfnState, _>(account, region, |st| {
        st.stacks
            .iter()
            .rev()
            .find(|s| s.name == stack && s.live())
            .and_then(|s| s.resources.iter().find(|r| r.logical_id == logical_id))
            .and_then(|r| r.physical_id.clone())
    })
}
