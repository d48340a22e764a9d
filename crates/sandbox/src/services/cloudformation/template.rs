//! CloudFormation templates: parsing (JSON, or YAML with the short-form tags such as `!Ref` and
//! `!GetAtt`, turned into their long `Fn::` forms), the checks CloudFormation makes before it
//! accepts a stack (with its messages), the resource dependency order, conditions, and the
//! intrinsic functions that resolve properties once the resources they name exist.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as J};

/// The resource types the sandbox can provision.
pub const SUPPORTED_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::IAM::InstanceProfile",
    "AWS::SNS::Topic",
    "AWS::Events::Rule",
    "AWS::EC2::Instance",
];

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

fn format_error(msg: impl std::fmt::Display) -> String {
    format!("Template format error: {msg}")
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub key: String,
    pub kind: String,
    pub default: Option<String>,
    pub allowed: Vec<String>,
    pub no_echo: bool,
    pub description: Option<String>,
}

/// One declared resource.
#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub logical_id: String,
    pub resource_type: String,
    pub properties: J,
    pub condition: Option<String>,
    /// Resources this one needs first (references and `DependsOn`).
    pub depends_on: BTreeSet<String>,
}

/// A parsed and checked template.
#[derive(Debug, Clone)]
pub struct Template {
    pub description: Option<String>,
    pub parameters: Vec<ParamDecl>,
    pub mappings: Map<String, J>,
    pub conditions: Map<String, J>,
    /// In an order that creates every resource after those it depends on.
    pub resources: Vec<ResourceDecl>,
    pub outputs: Map<String, J>,
}

/// Parse a template body: JSON when it looks like JSON, else YAML.
pub fn parse_body(body: &str) -> Result<J, String> {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str::<J>(body).map_err(|e| {
            format_error(format!(
                "JSON not well-formed. (line {}, column {})",
                e.line(),
                e.column()
            ))
        });
    }
    let y: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(body).map_err(|e| match e.location() {
            Some(l) => format_error(format!(
                "YAML not well-formed. (line {}, column {})",
                l.line(),
                l.column()
            )),
            None => format_error("YAML not well-formed."),
        })?;
    yaml_to_json(y, 0)
}

/// YAML to the JSON form of a template, expanding short-form tags (`!Ref X` → `{"Ref": X}`,
/// `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Sub …` → `{"Fn::Sub": …}`).
fn yaml_to_json(y: serde_yaml_ng::Value, depth: usize) -> Result<J, String> {
    use serde_yaml_ng::Value as Y;
    if depth > 64 {
        return Err(format_error("Template is nested too deeply."));
    }
    Ok(match y {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
                    .unwrap_or(J::Null)
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(items) => J::Array(
            items
                .into_iter()
                .map(|v| yaml_to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => {
                        return Err(format_error(
                            "YAML not well-formed. (mapping keys must be scalars)",
                        ))
                    }
                };
                out.insert(key, yaml_to_json(v, depth + 1)?);
            }
            J::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(t.value, depth + 1)?;
            let (key, value) = match name {
                "Ref" => ("Ref".to_string(), inner),
                "Condition" => ("Condition".to_string(), inner),
                "GetAtt" => {
                    let v = match inner {
                        J::String(s) => match s.split_once('.') {
                            Some((a, b)) => J::Array(vec![J::from(a), J::from(b)]),
                            None => J::Array(vec![J::from(s)]),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), v)
                }
                "Sub" | "Join" | "Select" | "Split" | "If" | "Equals" | "Not" | "And" | "Or"
                | "FindInMap" | "Base64" | "GetAZs" | "ImportValue" | "Cidr" | "Length"
                | "ToJsonString" => (format!("Fn::{name}"), inner),
                other => {
                    return Err(format_error(format!(
                        "YAML not well-formed. (unknown tag !{other})"
                    )))
                }
            };
            let mut m = Map::new();
            m.insert(key, value);
            J::Object(m)
        }
    })
}

fn as_str_value(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

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
    let mut parameters = Vec::new();
    if let Some(p) = top.get("Parameters") {
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
    }
    let mappings = match top.get("Mappings") {
        Some(J::Object(m)) => m.clone(),
        Some(_) => return Err(format_error("Mappings member must be an object.")),
        None => Map::new(),
    };
    let conditions = match top.get("Conditions") {
        Some(J::Object(m)) => m.clone(),
        Some(_) => return Err(format_error("Conditions member must be an object.")),
        None => Map::new(),
    };
    let outputs = match top.get("Outputs") {
        Some(J::Object(m)) => m.clone(),
        Some(_) => return Err(format_error("Outputs member must be an object.")),
        None => Map::new(),
    };
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
        if !id.chars().all(|c| c.is_ascii_alphanumeric()) || id.len() > 255 {
            return Err(format_error(format!(
                "Resource name {id} is non alphanumeric."
            )));
        }
        let J::Object(r) = r else {
            return Err(format_error(format!(
                "[/Resources/{id}] Every Resources object must contain a Type member."
            )));
        };
        let Some(kind) = r.get("Type").and_then(J::as_str) else {
            return Err(format_error(format!(
                "[/Resources/{id}] Every Resources object must contain a Type member."
            )));
        };
        if !SUPPORTED_TYPES.contains(&kind) {
            unrecognized.push(kind.to_string());
        }
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
        let mut depends_on = BTreeSet::new();
        match r.get("DependsOn") {
            None => {}
            Some(J::String(s)) => {
                depends_on.insert(s.clone());
            }
            Some(J::Array(a)) => {
                for d in a {
                    match d {
                        J::String(s) => {
                            depends_on.insert(s.clone());
                        }
                        _ => {
                            return Err(format_error(
                                "DependsOn must be a string or list of strings.",
                            ))
                        }
                    }
                }
            }
            Some(_) => {
                return Err(format_error(
                    "DependsOn must be a string or list of strings.",
                ))
            }
        }
        decls.push((
            id.clone(),
            kind.to_string(),
            properties,
            condition,
            depends_on,
        ));
    }
    if !unrecognized.is_empty() {
        return Err(format_error(format!(
            "Unrecognized resource types: [{}]",
            unrecognized.join(", ")
        )));
    }
    let names: BTreeSet<String> = decls.iter().map(|d| d.0.clone()).collect();
    let names: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let params: BTreeSet<&str> = parameters.iter().map(|p| p.key.as_str()).collect();
    let mut unresolved: Vec<String> = Vec::new();
    let mut out_decls = Vec::new();
    for (id, kind, properties, condition, mut depends_on) in decls {
        for d in &depends_on {
            if !names.contains(d.as_str()) && !unresolved.contains(d) {
                unresolved.push(d.clone());
            }
        }
        let mut refs = Refs::default();
        collect_refs(&properties, &mut refs, 0);
        for g in &refs.getatts {
            if !names.contains(g.as_str()) {
                return Err(format!(
                    "Template error: instance of Fn::GetAtt references undefined resource {g}"
                ));
            }
            depends_on.insert(g.clone());
        }
        for r in &refs.refs {
            if names.contains(r.as_str()) {
                depends_on.insert(r.clone());
            } else if !params.contains(r.as_str())
                && !PSEUDO.contains(&r.as_str())
                && !unresolved.contains(r)
            {
                unresolved.push(r.clone());
            }
        }
        out_decls.push(ResourceDecl {
            logical_id: id,
            resource_type: kind,
            properties,
            condition,
            depends_on,
        });
    }
    // References in Outputs must resolve too.
    for (key, o) in &outputs {
        let mut refs = Refs::default();
        collect_refs(o, &mut refs, 0);
        for g in &refs.getatts {
            if !names.contains(g.as_str()) {
                return Err(format!(
                    "Template error: instance of Fn::GetAtt references undefined resource {g}"
                ));
            }
        }
        for r in &refs.refs {
            if !names.contains(r.as_str())
                && !params.contains(r.as_str())
                && !PSEUDO.contains(&r.as_str())
                && !unresolved.contains(r)
            {
                let _ = key;
                unresolved.push(r.clone());
            }
        }
    }
    if !unresolved.is_empty() {
        return Err(format_error(format!(
            "Unresolved resource dependencies [{}] in the Resources block of the template",
            unresolved.join(", ")
        )));
    }
    let ordered = order(out_decls)?;
    Ok(Template {
        description,
        parameters,
        mappings,
        conditions,
        resources: ordered,
        outputs,
    })
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

/// What a template is checked for before a stack is created: capabilities.
pub fn required_capability(t: &Template) -> Option<&'static str> {
    let mut need = None;
    for r in &t.resources {
        let named = match r.resource_type.as_str() {
            "AWS::IAM::Role" => r.properties.get("RoleName").is_some(),
            "AWS::IAM::InstanceProfile" => r.properties.get("InstanceProfileName").is_some(),
            _ => continue,
        };
        if named {
            return Some("CAPABILITY_NAMED_IAM");
        }
        need = Some("CAPABILITY_IAM");
    }
    need
}

/// A resource that exists: what `Ref` and `Fn::GetAtt` give for it.
#[derive(Debug, Clone, Default)]
pub struct Made {
    pub physical_id: String,
    pub attrs: BTreeMap<String, String>,
}

/// Everything intrinsic functions read.
pub struct Scope<'a> {
    pub template: &'a Template,
    /// Parameter values: strings, or lists for list types.
    pub params: &'a BTreeMap<String, J>,
    pub account: &'a str,
    pub region: &'a str,
    pub stack_name: &'a str,
    pub stack_id: &'a str,
    pub made: &'a BTreeMap<String, Made>,
}

fn fn_error(name: &str, why: &str) -> String {
    format!("Template error: every {name} object {why}")
}

impl Scope<'_> {
    fn pseudo(&self, name: &str) -> Option<J> {
        Some(J::from(match name {
            "AWS::AccountId" => self.account.to_string(),
            "AWS::Region" => self.region.to_string(),
            "AWS::StackName" => self.stack_name.to_string(),
            "AWS::StackId" => self.stack_id.to_string(),
            "AWS::Partition" => "aws".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            "AWS::NotificationARNs" => return Some(J::Array(Vec::new())),
            _ => return None,
        }))
    }

    fn reference(&self, name: &str) -> Result<Option<J>, String> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(v) = self.pseudo(name) {
            return Ok(Some(v));
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        match self.made.get(name) {
            Some(m) => Ok(Some(J::from(m.physical_id.clone()))),
            None => Err(format!(
                "Template error: reference {name} does not resolve to a value (the resource is not created)"
            )),
        }
    }

    fn attribute(&self, res: &str, attr: &str) -> Result<J, String> {
        let m = self.made.get(res).ok_or_else(|| {
            format!("Template error: instance of Fn::GetAtt references undefined resource {res}")
        })?;
        m.attrs.get(attr).map(|v| J::from(v.clone())).ok_or_else(|| {
            format!("Template error: resource {res} does not support attribute type {attr} in Fn::GetAtt")
        })
    }

    /// Evaluate a condition by name.
    pub fn condition(&self, name: &str, depth: usize) -> Result<bool, String> {
        let c = self.template.conditions.get(name).ok_or_else(|| {
            format!("Template error: unresolved condition dependency {name} in Fn::If")
        })?;
        self.truth(c, depth + 1)
    }

    fn truth(&self, v: &J, depth: usize) -> Result<bool, String> {
        if depth > 64 {
            return Err("Template error: conditions are nested too deeply".into());
        }
        let J::Object(m) = v else {
            return match v {
                J::Bool(b) => Ok(*b),
                J::String(s) => Ok(s.eq_ignore_ascii_case("true")),
                _ => Err("Template error: a condition must be a condition function".into()),
            };
        };
        let Some((k, inner)) = m.iter().next() else {
            return Err("Template error: a condition must be a condition function".into());
        };
        let list = |inner: &J| match inner {
            J::Array(a) => Ok(a.clone()),
            _ => Err(fn_error(k, "requires a list")),
        };
        match k.as_str() {
            "Condition" => self.condition(inner.as_str().unwrap_or(""), depth),
            "Fn::Equals" => {
                let a = list(inner)?;
                if a.len() != 2 {
                    return Err(fn_error("Fn::Equals", "requires a list of 2 values"));
                }
                let x = self.resolve(&a[0], depth + 1)?.unwrap_or(J::Null);
                let y = self.resolve(&a[1], depth + 1)?.unwrap_or(J::Null);
                Ok(as_str_value(&x) == as_str_value(&y) && x.is_array() == y.is_array())
            }
            "Fn::Not" => {
                let a = list(inner)?;
                let first = a
                    .first()
                    .ok_or_else(|| fn_error("Fn::Not", "requires a list of 1 condition"))?;
                Ok(!self.truth(first, depth + 1)?)
            }
            "Fn::And" => {
                for c in list(inner)? {
                    if !self.truth(&c, depth + 1)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for c in list(inner)? {
                    if self.truth(&c, depth + 1)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            other => Err(format!(
                "Template error: {other} is not a condition function"
            )),
        }
    }

    /// Resolve every intrinsic function in `v`; `None` is `AWS::NoValue` (the member goes).
    pub fn resolve(&self, v: &J, depth: usize) -> Result<Option<J>, String> {
        if depth > 128 {
            return Err("Template error: the template is nested too deeply".into());
        }
        match v {
            J::Object(m) if m.len() == 1 => {
                let Some((k, inner)) = m.iter().next() else {
                    return Ok(Some(v.clone()));
                };
                match k.as_str() {
                    "Ref" => {
                        let name = inner
                            .as_str()
                            .ok_or_else(|| fn_error("Ref", "must be a string"))?;
                        self.reference(name)
                    }
                    "Fn::GetAtt" => {
                        let (res, attr) = match inner {
                            J::Array(a) if a.len() == 2 => {
                                let attr = self.resolve(&a[1], depth + 1)?.and_then(|x| as_str_value(&x));
                                (a[0].as_str().map(str::to_string), attr)
                            }
                            _ => (None, None),
                        };
                        match (res, attr) {
                            (Some(r), Some(a)) => self.attribute(&r, &a).map(Some),
                            _ => Err(fn_error("Fn::GetAtt", "requires two non-empty parameters")),
                        }
                    }
                    "Fn::Join" => {
                        let J::Array(a) = inner else {
                            return Err(fn_error("Fn::Join", "requires two parameters"));
                        };
                        if a.len() != 2 {
                            return Err(fn_error("Fn::Join", "requires two parameters"));
                        }
                        let delim = a[0]
                            .as_str()
                            .ok_or_else(|| fn_error("Fn::Join", "requires a string delimiter"))?;
                        let items = match self.resolve(&a[1], depth + 1)? {
                            Some(J::Array(items)) => items,
                            _ => return Err(fn_error("Fn::Join", "requires a list of values to join")),
                        };
                        let mut parts = Vec::new();
                        for i in &items {
                            parts.push(as_str_value(i).ok_or_else(|| {
                                fn_error("Fn::Join", "requires a list of strings to join")
                            })?);
                        }
                        Ok(Some(J::from(parts.join(delim))))
                    }
                    "Fn::Sub" => self.sub(inner, depth).map(Some),
                    "Fn::Select" => {
                        let J::Array(a) = inner else {
                            return Err(fn_error("Fn::Select", "requires a list of 2 values"));
                        };
                        if a.len() != 2 {
                            return Err(fn_error("Fn::Select", "requires a list of 2 values"));
                        }
                        let idx = self
                            .resolve(&a[0], depth + 1)?
                            .and_then(|x| as_str_value(&x))
                            .and_then(|s| s.parse::<usize>().ok())
                            .ok_or_else(|| fn_error("Fn::Select", "requires a numeric index"))?;
                        match self.resolve(&a[1], depth + 1)? {
                            Some(J::Array(items)) => items
                                .get(idx)
                                .cloned()
                                .map(Some)
                                .ok_or_else(|| "Template error: Fn::Select cannot select nonexistent value at index ".to_string() + &idx.to_string()),
                            _ => Err(fn_error("Fn::Select", "requires a list to select from")),
                        }
                    }
                    "Fn::Split" => {
                        let J::Array(a) = inner else {
                            return Err(fn_error("Fn::Split", "requires two parameters"));
                        };
                        if a.len() != 2 {
                            return Err(fn_error("Fn::Split", "requires two parameters"));
                        }
                        let delim = a[0].as_str().ok_or_else(|| fn_error("Fn::Split", "requires a string delimiter"))?;
                        let s = self
                            .resolve(&a[1], depth + 1)?
                            .and_then(|x| as_str_value(&x))
                            .ok_or_else(|| fn_error("Fn::Split", "requires a string to split"))?;
                        Ok(Some(J::Array(s.split(delim).map(J::from).collect())))
                    }
                    "Fn::If" => {
                        let J::Array(a) = inner else {
                            return Err(fn_error("Fn::If", "requires a list of 3 values"));
                        };
                        if a.len() != 3 {
                            return Err(fn_error("Fn::If", "requires a list of 3 values"));
                        }
                        let name = a[0].as_str().ok_or_else(|| fn_error("Fn::If", "requires a condition name"))?;
                        let branch = if self.condition(name, depth)? { &a[1] } else { &a[2] };
                        self.resolve(branch, depth + 1)
                    }
                    "Fn::Base64" => {
                        let s = self
                            .resolve(inner, depth + 1)?
                            .and_then(|x| as_str_value(&x))
                            .ok_or_else(|| fn_error("Fn::Base64", "requires a string"))?;
                        Ok(Some(J::from(crate::util::b64(s.as_bytes()))))
                    }
                    "Fn::GetAZs" => {
                        let region = match self.resolve(inner, depth + 1)?.and_then(|x| as_str_value(&x)) {
                            Some(r) if !r.is_empty() => r,
                            _ => self.region.to_string(),
                        };
                        Ok(Some(J::Array(
                            ["a", "b", "c"].iter().map(|z| J::from(format!("{region}{z}"))).collect(),
                        )))
                    }
                    "Fn::FindInMap" => {
                        let J::Array(a) = inner else {
                            return Err(fn_error("Fn::FindInMap", "requires 3 parameters"));
                        };
                        if a.len() != 3 {
                            return Err(fn_error("Fn::FindInMap", "requires 3 parameters"));
                        }
                        let mut keys = Vec::new();
                        for x in a {
                            keys.push(
                                self.resolve(x, depth + 1)?
                                    .and_then(|x| as_str_value(&x))
                                    .ok_or_else(|| fn_error("Fn::FindInMap", "requires string keys"))?,
                            );
                        }
                        self.template
                            .mappings
                            .get(&keys[0])
                            .and_then(|m| m.get(&keys[1]))
                            .and_then(|m| m.get(&keys[2]))
                            .cloned()
                            .map(Some)
                            .ok_or_else(|| {
                                format!(
                                    "Template error: Unable to get mapping for {}::{}::{}",
                                    keys[0], keys[1], keys[2]
                                )
                            })
                    }
                    "Fn::ImportValue" => Err(
                        "Template error: no export named in Fn::ImportValue exists (the sandbox has no exports)".into(),
                    ),
                    _ => {
                        let mut out = Map::new();
                        if let Some(x) = self.resolve(inner, depth + 1)? {
                            out.insert(k.clone(), x);
                        }
                        Ok(Some(J::Object(out)))
                    }
                }
            }
            J::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    if let Some(x) = self.resolve(x, depth + 1)? {
                        out.insert(k.clone(), x);
                    }
                }
                Ok(Some(J::Object(out)))
            }
            J::Array(a) => {
                let mut out = Vec::new();
                for x in a {
                    if let Some(x) = self.resolve(x, depth + 1)? {
                        out.push(x);
                    }
                }
                Ok(Some(J::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn sub(&self, inner: &J, depth: usize) -> Result<J, String> {
        let (text, vars) = match inner {
            J::String(s) => (s.clone(), Map::new()),
            J::Array(a) if a.len() == 2 => {
                let t = a[0].as_str().ok_or_else(|| {
                    fn_error("Fn::Sub", "requires a string as its first parameter")
                })?;
                let vars = match &a[1] {
                    J::Object(m) => m.clone(),
                    _ => {
                        return Err(fn_error(
                            "Fn::Sub",
                            "requires a map of variables as its second parameter",
                        ))
                    }
                };
                (t.to_string(), vars)
            }
            _ => {
                return Err(fn_error(
                    "Fn::Sub",
                    "requires a string or a list of a string and a map",
                ))
            }
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let var = after[..end].trim();
            if let Some(lit) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else if let Some(v) = vars.get(var) {
                let v = self
                    .resolve(v, depth + 1)?
                    .and_then(|x| as_str_value(&x))
                    .unwrap_or_default();
                out.push_str(&v);
            } else if let Some((res, attr)) =
                var.split_once('.').filter(|_| !var.starts_with("AWS::"))
            {
                let v = self.attribute(res, attr)?;
                out.push_str(&as_str_value(&v).unwrap_or_default());
            } else {
                let v = self.reference(var)?.unwrap_or(J::from(""));
                let s = match v {
                    J::Array(a) => a
                        .iter()
                        .filter_map(as_str_value)
                        .collect::<Vec<_>>()
                        .join(","),
                    other => as_str_value(&other).unwrap_or_default(),
                };
                out.push_str(&s);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(J::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "data-${AWS::AccountId}-${Env}"
  Role:
    Type: AWS::IAM::Role
    DependsOn: Bucket
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !If [IsProd, production, !Ref "AWS::NoValue"]
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref Role]
Outputs:
  Arn:
    Value: !GetAtt Role.Arn
"#;

    #[test]
    fn yaml_short_forms_and_order() {
        let t = check(YAML).unwrap();
        let ids: Vec<&str> = t.resources.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, vec!["Bucket", "Role", "Profile"]);
        assert!(t.resources[2].depends_on.contains("Role"));
        assert_eq!(required_capability(&t), Some("CAPABILITY_IAM"));
        let params = BTreeMap::from([("Env".to_string(), J::from("dev"))]);
        let made = BTreeMap::from([(
            "Role".to_string(),
            Made {
                physical_id: "r1".into(),
                attrs: BTreeMap::from([("Arn".into(), "arn:r1".into())]),
            },
        )]);
        let scope = Scope {
            template: &t,
            params: &params,
            account: "111122223333",
            region: "us-east-1",
            stack_name: "s",
            stack_id: "id",
            made: &made,
        };
        let b = scope
            .resolve(&t.resources[0].properties, 0)
            .unwrap()
            .unwrap();
        assert_eq!(b["BucketName"], "data-111122223333-dev");
        let r = scope
            .resolve(&t.resources[1].properties, 0)
            .unwrap()
            .unwrap();
        assert!(r.get("Description").is_none());
        let p = scope
            .resolve(&t.resources[2].properties, 0)
            .unwrap()
            .unwrap();
        assert_eq!(p["Roles"][0], "r1");
        let o = scope
            .resolve(&t.outputs["Arn"]["Value"], 0)
            .unwrap()
            .unwrap();
        assert_eq!(o, "arn:r1");
    }

    #[test]
    fn errors_carry_cloudformation_messages() {
        let e = check(r#"{"Resources": {"A": {"Type": "AWS::Foo::Bar"}}}"#).unwrap_err();
        assert_eq!(
            e,
            "Template format error: Unrecognized resource types: [AWS::Foo::Bar]"
        );
        let e = check(r#"{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "X"}}}}}"#).unwrap_err();
        assert_eq!(e, "Template format error: Unresolved resource dependencies [X] in the Resources block of the template");
        let e = check("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt Nope.Arn\n").unwrap_err();
        assert_eq!(
            e,
            "Template error: instance of Fn::GetAtt references undefined resource Nope"
        );
        let e = check(r#"{"Resources": {"My-Topic": {"Type": "AWS::SNS::Topic"}}}"#).unwrap_err();
        assert_eq!(
            e,
            "Template format error: Resource name My-Topic is non alphanumeric."
        );
        // Deep nesting is refused, not a stack overflow.
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(check(&format!("Resources: {deep}")).is_err());
        assert!(check(&format!("{{\"Resources\": {deep}}}")).is_err());
        let e = check(r#"{"Resources": {}}"#).unwrap_err();
        assert_eq!(
            e,
            "Template format error: At least one Resources member must be defined."
        );
        let e = check("{not json").unwrap_err();
        assert!(
            e.starts_with("Template format error: JSON not well-formed."),
            "{e}"
        );
        let e = check("Resources: [unclosed").unwrap_err();
        assert!(
            e.starts_with("Template format error: YAML not well-formed."),
            "{e}"
        );
        let e = check(r#"{"Resources": {"A": {"Type": "AWS::SNS::Topic", "DependsOn": "B"}, "B": {"Type": "AWS::SNS::Topic", "DependsOn": "A"}}}"#).unwrap_err();
        assert!(
            e.starts_with("Circular dependency between resources"),
            "{e}"
        );
    }

    #[test]
    fn sub_forms() {
        let t = check(r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#).unwrap();
        let params = BTreeMap::new();
        let made = BTreeMap::new();
        let scope = Scope {
            template: &t,
            params: &params,
            account: "1",
            region: "r",
            stack_name: "s",
            stack_id: "id",
            made: &made,
        };
        let v = serde_json::json!({"Fn::Sub": ["${A}-${!Lit}-${AWS::Region}", {"A": "x"}]});
        assert_eq!(scope.resolve(&v, 0).unwrap().unwrap(), "x-${Lit}-r");
        let v = serde_json::json!({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]});
        assert_eq!(scope.resolve(&v, 0).unwrap().unwrap(), "b");
    }
}
