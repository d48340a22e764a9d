//! Answers as JSON, so that both sides' answers compare as member trees whatever the protocol:
//! JSON bodies as they are, awsQuery answers as their `…Result` element, ec2Query answers as
//! the members of `<OpResponse>`. XML is read with [`kms_workshop_testkit::xml`].

use kms_workshop_testkit::xml::{self, Node};
use serde_json::{json, Value as J};

/// How a side's answers read as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// JSON protocols and awsQuery (KMS, STS, SNS, EventBridge, IAM, CloudFormation).
    Query,
    /// ec2Query (EC2).
    Ec2,
}

impl Dialect {
    /// The body as JSON, and for awsQuery whether the answer had its `…Result` element.
    pub fn parse(self, body: &[u8]) -> (J, Option<bool>) {
        match self {
            Dialect::Query => parse_body(body),
            Dialect::Ec2 => (parse_ec2_body(body), None),
        }
    }
}

/// An awsQuery element as JSON: text when it has no children, a list for `<member>` items, an
/// object for `<entry><key/><value/></entry>` maps, an object by element name otherwise.
pub fn node_json(n: &Node) -> J {
    if n.children.is_empty() {
        return J::String(n.text.clone());
    }
    if n.children.iter().all(|c| c.name == "member") {
        return J::Array(n.children.iter().map(node_json).collect());
    }
    if n.children.iter().all(|c| c.name == "entry") {
        let mut m = serde_json::Map::new();
        for e in &n.children {
            let key = e.child("key").map(|k| k.text.clone()).unwrap_or_default();
            let value = e.child("value").map(node_json).unwrap_or(J::Null);
            m.insert(key, value);
        }
        return J::Object(m);
    }
    J::Object(
        n.children
            .iter()
            .map(|c| (c.name.clone(), node_json(c)))
            .collect(),
    )
}

/// JSON bodies as they are; an awsQuery answer as its `…Result` element, plus whether that
/// element was present.
pub fn parse_body(body: &[u8]) -> (J, Option<bool>) {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return (json!({}), None);
    }
    if let Ok(j) = serde_json::from_str::<J>(trimmed) {
        return (j, None);
    }
    let Some(root) = xml::parse(trimmed) else {
        return (json!({ "unparsable body": trimmed }), None);
    };
    match root.children.iter().find(|c| c.name.ends_with("Result")) {
        Some(result) if result.children.is_empty() => (json!({}), Some(true)),
        Some(result) => (node_json(result), Some(true)),
        None => (json!({}), Some(false)),
    }
}

/// An ec2Query element as JSON: text when it has no children, a list for `<item>` children, an
/// object by element name otherwise. Empty elements (`<tagSet/>`, `<reason/>`) are left out:
/// AWS and moto write them or not for empty lists and strings alike, and clients read both the
/// same.
pub fn ec2_node_json(n: &Node) -> J {
    if n.children.is_empty() {
        return J::String(n.text.trim().to_string());
    }
    if n.children.iter().all(|c| c.name == "item") {
        return J::Array(n.children.iter().map(ec2_node_json).collect());
    }
    J::Object(
        n.children
            .iter()
            .filter(|c| !(c.children.is_empty() && c.text.trim().is_empty()))
            .map(|c| (c.name.clone(), ec2_node_json(c)))
            .collect(),
    )
}

/// An ec2Query answer's members (the children of `<OpResponse>` but `requestId`).
pub fn parse_ec2_body(body: &[u8]) -> J {
    let text = String::from_utf8_lossy(body);
    let Some(root) = xml::parse(text.trim()) else {
        return json!({ "unparsable body": text.trim() });
    };
    let mut m = match ec2_node_json(&root) {
        J::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    m.remove("requestId");
    J::Object(m)
}
