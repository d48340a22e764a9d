//! CloudFormation templates: parsing (`parse`: JSON, or YAML with the short-form tags such as
//! `!Ref` and `!GetAtt`, turned into their long `Fn::` forms), the checks CloudFormation makes
//! before it accepts a stack, with its messages, and the resource dependency order (`check`),
//! conditions (`conditions`), and the intrinsic functions that resolve properties once the
//! resources they name exist (`intrinsics`), all read through a [`Scope`].

mod check;
mod conditions;
mod intrinsics;
mod parse;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as J};

pub use check::check;
pub use parse::parse_body;

/// The resource types the sandbox can provision.
pub const SUPPORTED_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::IAM::InstanceProfile",
    "AWS::SNS::Topic",
    "AWS::Events::Rule",
    "AWS::EC2::Instance",
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

/// A scalar as text (how templates' numbers and booleans become strings).
pub(super) fn as_str_value(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
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
