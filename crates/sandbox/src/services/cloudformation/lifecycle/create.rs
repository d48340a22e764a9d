//! Creating a stack: its resources in dependency order (conditions applied, properties
//! resolved), its outputs; on a failure, rollback (or nothing, with `DO_NOTHING`).

use std::collections::BTreeMap;

use serde_json::Value as J;
use time::OffsetDateTime;

use crate::services::cloudformation::params;
use crate::services::cloudformation::provision::{self, Env};
use crate::services::cloudformation::state::{
    OpKind, Pending, ResourceStatus, Stack, StackResource, StackStatus,
};
use crate::services::cloudformation::template::{self, Made, ResourceDecl, Scope, Template};

/// Everything but the resources made so far that a [`Scope`] reads.
struct Frame<'a> {
    template: &'a Template,
    params: BTreeMap<String, J>,
    account: &'a str,
    region: &'a str,
    stack_name: String,
    stack_id: String,
}

impl Frame<'_> {
    fn scope<'s>(&'s self, made: &'s BTreeMap<String, Made>) -> Scope<'s> {
        Scope {
            template: self.template,
            params: &self.params,
            account: self.account,
            region: self.region,
            stack_name: &self.stack_name,
            stack_id: &self.stack_id,
            made,
        }
    }
}

/// Create the stack: complete, or failed and rolling back (or failed, with `DO_NOTHING`).
pub(super) fn run(env: &Env<'_>, s: &mut Stack) {
    let now = env.now;
    let t = match template::check(&s.template_body) {
        Ok(t) => t,
        Err(e) => {
            s.stack_event(now, StackStatus::CreateFailed, Some(e));
            return;
        }
    };
    let frame = Frame {
        template: &t,
        params: params::values(&t, &s.parameters),
        account: &env.caller.account,
        region: &env.region,
        stack_name: s.name.clone(),
        stack_id: s.id.clone(),
    };
    let mut made: BTreeMap<String, Made> = BTreeMap::new();
    match create_resources(env, s, &frame, &mut made) {
        Err(e) => s.stack_event(now, StackStatus::CreateFailed, Some(e)),
        Ok(Some(failed)) => after_failure(s, now, &failed),
        Ok(None) => {
            s.outputs = outputs(&frame.scope(&made), &t);
            s.stack_event(now, StackStatus::CreateComplete, None);
        }
    }
}

/// Create the template's resources in order: the logical id of the one that failed, if one
/// did (a condition that cannot be evaluated fails the stack itself).
fn create_resources(
    env: &Env<'_>,
    s: &mut Stack,
    frame: &Frame<'_>,
    made: &mut BTreeMap<String, Made>,
) -> Result<Option<String>, String> {
    for decl in &frame.template.resources {
        let scope = frame.scope(made);
        if let Some(c) = &decl.condition {
            if !scope.condition(c, 0)? {
                continue;
            }
        }
        let resolved = scope.resolve(&decl.properties, 0);
        match create_one(env, s, decl, resolved) {
            Some(m) => {
                made.insert(decl.logical_id.clone(), m);
            }
            None => return Ok(Some(decl.logical_id.clone())),
        }
    }
    Ok(None)
}

/// Create one resource from its resolved properties, with its events (`None`: it failed).
fn create_one(
    env: &Env<'_>,
    s: &mut Stack,
    decl: &ResourceDecl,
    resolved: Result<Option<J>, String>,
) -> Option<Made> {
    let now = env.now;
    s.resources.push(StackResource {
        logical_id: decl.logical_id.clone(),
        resource_type: decl.resource_type.clone(),
        physical_id: None,
        status: ResourceStatus::CreateInProgress,
        reason: None,
        updated: now,
        properties: resolved.as_ref().ok().cloned().flatten().unwrap_or(J::Null),
        attrs: BTreeMap::new(),
    });
    let i = s.resources.len() - 1;
    s.resource_event(i, now, ResourceStatus::CreateInProgress, None);
    let props = match resolved {
        Ok(p) => p.unwrap_or(J::Object(Default::default())),
        Err(e) => {
            s.resource_event(i, now, ResourceStatus::CreateFailed, Some(e));
            return None;
        }
    };
    match provision::create(env, &decl.logical_id, &decl.resource_type, &props) {
        Ok(m) => {
            s.resources[i].physical_id = Some(m.physical_id.clone());
            s.resources[i].attrs = m.attrs.clone();
            s.resource_event(
                i,
                now,
                ResourceStatus::CreateInProgress,
                Some("Resource creation Initiated".into()),
            );
            s.resource_event(i, now, ResourceStatus::CreateComplete, None);
            Some(m)
        }
        Err(f) => {
            s.resources[i].physical_id = f.physical_id.clone();
            s.resource_event(i, now, ResourceStatus::CreateFailed, Some(f.reason));
            None
        }
    }
}

/// The template's outputs whose condition holds and whose value resolves, as text.
fn outputs(scope: &Scope<'_>, t: &Template) -> Vec<(String, String, Option<String>)> {
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
    outputs
}

/// A resource failed to create: stop there (`DO_NOTHING`) or roll back now.
fn after_failure(s: &mut Stack, now: OffsetDateTime, failed: &str) {
    if s.on_failure == "DO_NOTHING" {
        s.stack_event(
            now,
            StackStatus::CreateFailed,
            Some(format!(
                "The following resource(s) failed to create: [{failed}]. "
            )),
        );
        return;
    }
    s.stack_event(
        now,
        StackStatus::RollbackInProgress,
        Some(format!(
            "The following resource(s) failed to create: [{failed}]. Rollback requested by user."
        )),
    );
    s.pending = Some(Pending {
        kind: OpKind::Rollback,
        due: now,
        by_seed: false,
    });
}
