//! Stack parameters: the values a stack gets (given, else the template's default, checked
//! against its declaration), and those values as intrinsic functions read them.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::errors::validation;
use super::state::StackParam;
use super::template::Template;
use crate::protocol::{AwsError, Input};

/// The parameter values a stack gets: given, else default; checked against the template.
pub fn resolve(t: &Template, input: &Input) -> Result<Vec<StackParam>, AwsError> {
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

/// Parameter values as `Ref` gives them: strings, or lists for list types.
pub fn values(t: &Template, params: &[StackParam]) -> BTreeMap<String, J> {
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
