//! The checks CloudFormation makes before it accepts a template (with its messages): the
//! top-level sections, parameters, resources and their types, references that must resolve,
//! and the dependency order of the resources.

use std::collections::BTreeSet;

use serde_json::{Map, Value as J};

use super::parse::parse_body;
use super::{as_str_value, format_error, ParamDecl, ResourceDecl, Template, SUPPORTED_TYPES};

const TOP_LEVEL: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Rules",
];

const PSEUDO: &[&str] = &[
    "AWS::AccountId",
    "AWS::Region",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::NoValue",
    "AWS::NotificationARNs",
];

/// References a value makes: `Ref` targets, `Fn::GetAtt` resources, `Fn::Sub` variables.
#[derive(Default)]
struct Refs {
    refs: BTreeSet<String>,
    getatts: BTreeSet<String>,
}

fn collect_refs(v: &J, out: &mut Refs, depth: usize) {
    if depth > 128 {
        return;
    }
    match v {
        J::Object(m) if m.len() == 1 => {
            let (k, inner) = m
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or(("", v));
            match k {
                "Ref" => {
                    if let J::String(s) = inner {
                        out.refs.insert(s.clone());
                    }
                }
                "Fn::GetAtt" => {
                    let target = match inner {
                        J::Array(a) => a.first().and_then(as_str_value),
                        J::String(s) => Some(s.split('.').next().unwrap_or("").to_string()),
                        _ => None,
                    };
                    if let Some(t) = target {
                        out.getatts.insert(t);
                    }
                    if let J::Array(a) = inner {
                        for x in a.iter().skip(1) {
                            collect_refs(x, out, depth + 1);
                        }
                    }
                }
                "Fn::Sub" => {
                    let (text, vars) = match inner {
                        J::String(s) => (Some(s.as_str()), None),
                        J::Array(a) => (a.first().and_then(J::as_str), a.get(1)),
                        _ => (None, None),
                    };
                    let local: BTreeSet<String> = match vars {
                        Some(J::Object(m)) => m.keys().cloned().collect(),
                        _ => BTreeSet::new(),
                    };
                    if let Some(t) = text {
                        for var in sub_vars(t) {
                            let head = var.split('.').next().unwrap_or("").to_string();
                            if local.contains(&var) || local.contains(&head) {
                                continue;
                            }
                            if var.contains('.') && !var.starts_with("AWS::") {
                                out.getatts.insert(head);
                            } else {
                                out.refs.insert(var);
                            }
                        }
                    }
                    if let Some(v) = vars {
                        collect_refs(v, out, depth + 1);
                    }
                }
                _ => collect_refs(inner, out, depth + 1),
            }
        }
        J::Object(m) => m.values().for_each(|v| collect_refs(v, out, depth + 1)),
        J::Array(a) => a.iter().for_each(|v| collect_refs(v, out, depth + 1)),
        _ => {}
    }
}

/// The `${…}` variables of a `Fn::Sub` string (`${!Literal}` is no variable).
fn sub_vars(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        if !var.starts_with('!') {
            out.push(var.trim().to_string());
        }
        rest = &after[end + 1..];
    }
    out
}

/// Parse and check a template as CloudFormation does before creating anything.
pub fn check(body: &str) -> Result<Template, String> {
    let doc = parse_body(body)?;
    let J::Object(top) = doc else {
        return Err(format_error("unsupported structure."));
    };
    let unknown: Vec<&str> = top
        .keys()
        .map(String::as_str)
        .filter(|k| !TOP_LEVEL.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(format_error(format!(
            "Invalid template property or properties [{}]",
            unknown.join(", ")
        )));
    }
    if let Some(v) = top.get("AWSTemplateFormatVersion") {
        let s = as_str_value(v).unwrap_or_default();
        if s != "2010-09-09" {
            return Err(format_error(format!("Unsupported template version {s}")));
        }
    }
    let description = match top.get("Description") {
        None => None,
        Some(J::String(s)) => Some(s.clone()),
        Some(_) => return Err(format_error("Every Description member must be a string.")),
    };
    let parameters = parameters(&top)?;
    let mappings = section(&top, "Mappings")?;
    let conditions = section(&top, "Conditions")?;
    let outputs = section(&top, "Outputs")?;
    let decls = resources(&top, &conditions)?;
    let decls = dependencies(decls, &parameters, &outputs)?;
    Ok(Template {
        description,
        parameters,
        mappings,
        conditions,
        resources: order(decls)?,
        outputs,
    })
}

/// An optional top-level section that must be an object.
fn section(top: &Map<String, J>, name: &str) -> Result<Map<String, J>, String> {
    match top.get(name) {
        Some(J::Object(m)) => Ok(m.clone()),
        Some(_) => Err(format_error(format!("{name} member must be an object."))),
        None => Ok(Map::new()),
    }
}

/// The `Parameters` section.
fn parameters(top: &Map<String, J>) -> Result<Vec<ParamDecl>, String> {
    let mut parameters = Vec::new();
    let Some(p) = top.get("Parameters") else {
        return Ok(parameters);
    };
    let J::Object(p) = p else {
        return Err(format_error("Parameters member must be an object."));
    };
    for (key, decl) in p {
        let J::Object(d) = decl else {
            return Err(format_error(format!(
                "Invalid parameter {key}: must be an object"
            )));
        };
        let Some(kind) = d.get("Type").and_then(as_str_value) else {
            return Err(format_error(format!(
                "[/Parameters/{key}] Every Parameters object must contain a Type member."
            )));
        };
        let allowed = match d.get("AllowedValues") {
            Some(J::Array(a)) => a.iter().filter_map(as_str_value).collect(),
            _ => Vec::new(),
        };
        let no_echo = match d.get("NoEcho") {
            Some(J::Bool(b)) => *b,
            Some(J::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        parameters.push(ParamDecl {
            key: key.clone(),
            kind,
            default: d.get("Default").and_then(|v| match v {
                J::Array(a) => Some(
                    a.iter()
                        .filter_map(as_str_value)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                other => as_str_value(other),
            }),
            allowed,
            no_echo,
            description: d.get("Description").and_then(as_str_value),
        });
    }
    Ok(parameters)
}

/// The `Resources` section, in template order, with their `DependsOn`; every type must be
/// one the sandbox provisions.
fn resources(
    top: &Map<String, J>,
    conditions: &Map<String, J>,
) -> Result<Vec<ResourceDecl>, String> {
    let resources = match top.get("Resources") {
        Some(J::Object(m)) if !m.is_empty() => m,
        _ => {
            return Err(format_error(
                "At least one Resources member must be defined.",
            ))
        }
    };
    let mut decls = Vec::new();
    let mut unrecognized = Vec::new();
    for (id, r) in resources {
        let decl = resource(id, r, conditions)?;
        if !SUPPORTED_TYPES.contains(&decl.resource_type.as_str()) {
            unrecognized.push(decl.resource_type.clone());
        }
        decls.push(decl);
    }
    if !unrecognized.is_empty() {
        return Err(format_error(format!(
            "Unrecognized resource types: [{}]",
            unrecognized.join(", ")
        )));
    }
    Ok(decls)
}

/// One resource declaration.
fn resource(id: &str, r: &J, conditions: &Map<String, J>) -> Result<ResourceDecl, String> {
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) || id.len() > 255 {
        return Err(format_error(format!(
            "Resource name {id} is non alphanumeric."
        )));
    }
    let no_type = || {
        format_error(format!(
            "[/Resources/{id}] Every Resources object must contain a Type member."
        ))
    };
    let J::Object(r) = r else {
        return Err(no_type());
    };
    let kind = r.get("Type").and_then(J::as_str).ok_or_else(no_type)?;
    let properties = r
        .get("Properties")
        .cloned()
        .unwrap_or(J::Object(Map::new()));
    if !properties.is_object() {
        return Err(format_error(format!(
            "[/Resources/{id}/Properties] Every Properties member must be an object."
        )));
    }
    let condition = match r.get("Condition") {
        None => None,
        Some(J::String(c)) => {
            if !conditions.contains_key(c) {
                return Err(format_error(format!(
                    "Unresolved dependencies [{c}]. Cannot reference resources in the Conditions block of the template"
                )));
            }
            Some(c.clone())
        }
        Some(_) => return Err(format_error("Condition must be a string.")),
    };
    let bad_depends_on = || format_error("DependsOn must be a string or list of strings.");
    let depends_on = match r.get("DependsOn") {
        None => BTreeSet::new(),
        Some(J::String(s)) => BTreeSet::from([s.clone()]),
        Some(J::Array(a)) => a
            .iter()
            .map(|d| d.as_str().map(str::to_string).ok_or_else(bad_depends_on))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad_depends_on()),
    };
    Ok(ResourceDecl {
        logical_id: id.to_string(),
        resource_type: kind.to_string(),
        properties,
        condition,
        depends_on,
    })
}

fn undefined_getatt(g: &str) -> String {
    format!("Template error: instance of Fn::GetAtt references undefined resource {g}")
}

/// Every resource depends on what it references too; references (in resources and outputs)
/// must name a resource, a parameter or a pseudo parameter.
fn dependencies(
    mut decls: Vec<ResourceDecl>,
    parameters: &[ParamDecl],
    outputs: &Map<String, J>,
) -> Result<Vec<ResourceDecl>, String> {
    let names: BTreeSet<String> = decls.iter().map(|d| d.logical_id.clone()).collect();
    let names: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let params: BTreeSet<&str> = parameters.iter().map(|p| p.key.as_str()).collect();
    let known = |r: &str| names.contains(r) || params.contains(r) || PSEUDO.contains(&r);
    let mut unresolved: Vec<String> = Vec::new();
    let note = |r: &String, unresolved: &mut Vec<String>| {
        if !known(r) && !unresolved.contains(r) {
            unresolved.push(r.clone());
        }
    };
    for d in &mut decls {
        for x in &d.depends_on {
            if !names.contains(x.as_str()) && !unresolved.contains(x) {
                unresolved.push(x.clone());
            }
        }
        let mut refs = Refs::default();
        collect_refs(&d.properties, &mut refs, 0);
        for g in &refs.getatts {
            if !names.contains(g.as_str()) {
                return Err(undefined_getatt(g));
            }
            d.depends_on.insert(g.clone());
        }
        for r in &refs.refs {
            if names.contains(r.as_str()) {
                d.depends_on.insert(r.clone());
            }
            note(r, &mut unresolved);
        }
    }
    for o in outputs.values() {
        let mut refs = Refs::default();
        collect_refs(o, &mut refs, 0);
        if let Some(g) = refs.getatts.iter().find(|g| !names.contains(g.as_str())) {
            return Err(undefined_getatt(g));
        }
        for r in &refs.refs {
            note(r, &mut unresolved);
        }
    }
    if !unresolved.is_empty() {
        return Err(format_error(format!(
            "Unresolved resource dependencies [{}] in the Resources block of the template",
            unresolved.join(", ")
        )));
    }
    Ok(decls)
}

/// Dependency order (template order among independent resources); a cycle is refused.
fn order(decls: Vec<ResourceDecl>) -> Result<Vec<ResourceDecl>, String> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left = decls;
    let mut out = Vec::new();
    while !left.is_empty() {
        let pos = left
            .iter()
            .position(|d| d.depends_on.iter().all(|x| done.contains(x)));
        match pos {
            Some(i) => {
                let d = left.remove(i);
                done.insert(d.logical_id.clone());
                out.push(d);
            }
            None => {
                let names: Vec<String> = left.iter().map(|d| d.logical_id.clone()).collect();
                return Err(format!(
                    "Circular dependency between resources: [{}]",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(out)
}
