//! Templates: GetTemplate (a stack's) and ValidateTemplate (any).

use std::collections::BTreeSet;

use super::{find_stack, template_body};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudformation::errors::validation;
use crate::services::cloudformation::template;
use crate::services::Call;

pub fn get_template(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    match input.str("TemplateStage")?.as_deref() {
        None | Some("Original") | Some("Processed") => {}
        Some(other) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'templateStage' failed to satisfy constraint: Member must satisfy enum value set: [Original, Processed]"
            )))
        }
    }
    let s = find_stack(cx, input, false)?;
    Ok(Value::obj()
        .with("TemplateBody", s.template_body.as_str())
        .with(
            "StagesAvailable",
            Value::List(vec!["Original".into(), "Processed".into()]),
        ))
}

pub fn validate_template(_cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
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
        let kinds: BTreeSet<&str> = t
            .resources
            .iter()
            .filter(|r| r.resource_type.starts_with("AWS::IAM::"))
            .map(|r| r.resource_type.as_str())
            .collect();
        let kinds: Vec<&str> = kinds.into_iter().collect();
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
