//! AWS's service models as the sandbox keeps them (`crates/sandbox/models/*.json`, written by
//! `scripts/models` from botocore): each operation's input shape and the shapes reachable from
//! it, with the constraints AWS's front end checks before a service sees a request. Parsed
//! once per service; every pattern compiled once.

use std::collections::{BTreeMap, HashMap};

use fancy_regex::Regex;
use indexmap::IndexMap;
use serde::Deserialize;

use crate::protocol::input::FormStyle;

/// One service's model.
#[derive(Debug, Deserialize)]
pub struct Model {
    /// The botocore version the file was taken from.
    pub botocore: String,
    /// Every operation the service has (served or not).
    pub all_operations: Vec<String>,
    /// The operations kept, with their input shape (`None`: no input).
    pub operations: BTreeMap<String, Option<String>>,
    /// Keyed by the model's own names, never by a request's (a request's members are looked
    /// up in the request), so hashed with hashbrown's fast hasher rather than SipHash, which
    /// resists keys chosen to collide at a cost every request paid in validation.
    pub shapes: HashMap<String, Shape, hashbrown::DefaultHashBuilder>,
    /// Each distinct pattern, compiled (`None`: not expressible in Rust's regex syntax, not
    /// checked).
    #[serde(skip)]
    pub patterns: HashMap<String, Option<Regex>>,
}

#[derive(Debug, Deserialize)]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: Vec<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    #[serde(rename = "enum")]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub flattened: bool,
    /// In the model's order, which is the order AWS reports them in.
    #[serde(default)]
    pub members: IndexMap<String, Ref>,
    pub member: Option<Ref>,
    pub key: Option<Ref>,
    pub value: Option<Ref>,
}

/// A member's shape and the names it has on the wire.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ref {
    pub shape: String,
    pub location_name: Option<String>,
    pub query_name: Option<String>,
    #[serde(default)]
    pub flattened: bool,
}

impl Model {
    /// Parse a model file and compile its patterns.
    pub fn parse(text: &str) -> Result<Model, serde_json::Error> {
        let mut m: Model = serde_json::from_str(text)?;
        let mut patterns = HashMap::new();
        for s in m.shapes.values() {
            if let Some(p) = &s.pattern {
                patterns.entry(p.clone()).or_insert_with(|| compile(p));
            }
        }
        m.patterns = patterns;
        Ok(m)
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// The name member `name` (referred to by `r`) goes by in a form of `style`: EC2's query
    /// name (or its location name, capitalized); a flattened awsQuery list's location name;
    /// else the member's name.
    pub fn wire_name(&self, name: &str, r: &Ref, style: FormStyle) -> String {
        match style {
            FormStyle::Ec2 => r
                .query_name
                .clone()
                .or_else(|| r.location_name.as_deref().map(capitalized))
                .unwrap_or_else(|| name.to_string()),
            FormStyle::Query => {
                let flat = r.flattened || self.shape(&r.shape).is_some_and(|s| s.flattened);
                match (&r.location_name, flat) {
                    (Some(l), true) => l.clone(),
                    _ => name.to_string(),
                }
            }
        }
    }

    /// Whether `value` matches `pattern` as AWS matches it (the whole value); a pattern that
    /// could not be compiled, or a match that would backtrack past the engine's bound,
    /// accepts.
    pub fn matches(&self, pattern: &str, value: &str) -> bool {
        match self.patterns.get(pattern) {
            Some(Some(re)) => re.is_match(value).unwrap_or(true),
            _ => true,
        }
    }
}

/// A Java pattern of the models as a regex matching whole values (fancy-regex: some models
/// use look-ahead, as Java allows; the rest runs on the `regex` crate's automata). One that
/// does not compile is left unchecked rather than wrongly refusing.
fn compile(pattern: &str) -> Option<Regex> {
    let anchored = format!("^(?:{pattern})$");
    match fancy_regex::RegexBuilder::new(&anchored)
        .delegate_size_limit(1 << 20)
        .build()
    {
        Ok(re) => Some(re),
        Err(e) => {
            tracing::debug!(pattern, error = %e, "model pattern not checked");
            None
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
