//! Stacks: CreateStack (the work is done on the sandbox clock, see `lifecycle`),
//! DescribeStacks, ListStacks, UpdateTerminationProtection, DeleteStack.

use super::{required, stack_index, template_body};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudformation::errors::{missing, no_stack, validation};
use crate::services::cloudformation::state::{
    CfnState, OpKind, Pending, Stack, StackStatus, Stale,
};
use crate::services::cloudformation::template::{self, Template};
use crate::services::cloudformation::{params, views};
use crate::services::Call;

fn stack_name_ok(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        && name.len() <= 128
}

/// The `Capabilities` given: known ones, and those the template needs.
fn capabilities(input: &Input, t: &Template) -> Result<Vec<String>, AwsError> {
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
    if let Some(need) = template::required_capability(t) {
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
    Ok(capabilities)
}

fn tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
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
    Ok(tags)
}

/// What a failed creation does: `OnFailure`, or `DisableRollback` as `DO_NOTHING`.
fn on_failure(input: &Input) -> Result<String, AwsError> {
    match (input.str("OnFailure")?, input.bool("DisableRollback")?) {
        (Some(_), Some(_)) => Err(validation(
            "You cannot specify both OnFailure and DisableRollback.",
        )),
        (Some(o), None) if ["ROLLBACK", "DO_NOTHING", "DELETE"].contains(&o.as_str()) => Ok(o),
        (Some(o), None) => Err(validation(format!(
            "1 validation error detected: Value '{o}' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"
        ))),
        (None, Some(true)) => Ok("DO_NOTHING".to_string()),
        (None, _) => Ok("ROLLBACK".to_string()),
    }
}

pub fn create_stack(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = required(input, "StackName")?;
    if !stack_name_ok(&name) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )));
    }
    let body = template_body(input)?;
    let t = template::check(&body).map_err(validation)?;
    let parameters = params::resolve(&t, input)?;
    let capabilities = capabilities(input, &t)?;
    let tags = tags(input)?;
    let on_failure = on_failure(input)?;
    let token = input.str("ClientRequestToken")?;
    let termination_protection = input.bool("EnableTerminationProtection")?.unwrap_or(false);
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let id = format!(
        "arn:aws:cloudformation:{region}:{account}:stack/{name}/{}",
        crate::util::uuid()
    );
    let delay = cx.lifecycle_delay(20.0, 60.0);
    let mut stack = Stack {
        id: id.clone(),
        name: name.clone(),
        description: t.description.clone(),
        template_body: body,
        parameters,
        tags,
        capabilities,
        disable_rollback: on_failure == "DO_NOTHING",
        on_failure,
        termination_protection,
        status: StackStatus::CreateInProgress,
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
            by_seed: cx.seeding,
        }),
        retain: Vec::new(),
        token,
        stale: None,
        caller_key: cx.caller.access_key_id.clone(),
        caller_principal: cx.caller.principal.clone(),
    };
    stack.stack_event(
        now,
        StackStatus::CreateInProgress,
        Some("User Initiated".into()),
    );
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

pub fn describe_stacks(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input.str("StackName")?;
    let now = cx.now;
    let stacks = cx
        .sandbox
        .read::<CfnState, _>(cx.account(), &cx.region, |st| match &name {
            Some(n) => stack_index(st, n)
                .map(|i| vec![views::stack(&st.stacks[i], now)])
                .ok_or_else(|| no_stack(n)),
            None => Ok(st
                .stacks
                .iter()
                .rev()
                .filter(|s| s.live())
                .map(|s| views::stack(s, now))
                .collect()),
        })?;
    Ok(Value::obj().with("Stacks", Value::List(stacks)))
}

pub fn list_stacks(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let filter = input.str_list("StackStatusFilter")?;
    let now = cx.now;
    let items = cx
        .sandbox
        .read::<CfnState, _>(cx.account(), &cx.region, |st| {
            st.stacks
                .iter()
                .rev()
                .filter(|s| {
                    let shown = s.shown_status(now);
                    filter.is_empty() || filter.iter().any(|f| f == shown.as_str())
                })
                .map(|s| views::stack_summary(s, now))
                .collect::<Vec<_>>()
        });
    Ok(Value::obj().with("StackSummaries", Value::List(items)))
}

pub fn update_termination_protection(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let enable = input
        .bool("EnableTerminationProtection")?
        .ok_or_else(|| missing("EnableTerminationProtection"))?;
    let name = required(input, "StackName")?;
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

/// Why `RetainResources` cannot be used on this stack now (`None`: it can).
fn check_retain(s: &Stack, retain: &[String]) -> Option<AwsError> {
    if retain.is_empty() {
        return None;
    }
    if s.status != StackStatus::DeleteFailed {
        return Some(validation(format!(
            "Invalid operation on stack [{}]. RetainResources can be specified only when the stack is in the DELETE_FAILED state",
            s.id
        )));
    }
    let unknown = retain
        .iter()
        .find(|l| !s.resources.iter().any(|r| &r.logical_id == *l))?;
    Some(validation(format!(
        "Resource {unknown} does not exist for stack {}",
        s.name
    )))
}

pub fn delete_stack(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = required(input, "StackName")?;
    let retain = input.str_list("RetainResources")?;
    let token = input.str("ClientRequestToken")?;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let delay = cx.lifecycle_delay(10.0, 30.0);
    let config = &cx.sandbox.config;
    let lag = config.scaled(config.realism.stack_status_lag);
    cx.sandbox.write::<CfnState, _>(&account, &region, |st| {
        // Deleting a stack that does not exist (or is gone) succeeds, as on AWS.
        let Some(i) = stack_index(st, &name) else {
            return Ok(());
        };
        let s = &mut st.stacks[i];
        if !s.live() || s.status == StackStatus::DeleteInProgress {
            return Ok(());
        }
        if s.termination_protection {
            return Err(validation(format!(
                "Stack [{}] cannot be deleted while TerminationProtection is enabled",
                s.name
            )));
        }
        if let Some(e) = check_retain(s, &retain) {
            return Err(e);
        }
        s.retain = retain.clone();
        s.token = token.clone();
        s.stale = lag.is_positive().then(|| Stale {
            status: s.status,
            until: now + lag,
        });
        s.stack_event(
            now,
            StackStatus::DeleteInProgress,
            Some("User Initiated".into()),
        );
        s.pending = Some(Pending {
            kind: OpKind::Delete,
            due: now + delay,
            by_seed: false,
        });
        Ok(())
    })?;
    Ok(Value::obj())
}
