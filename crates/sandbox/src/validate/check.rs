//! Walk an input (as JSON) against its model shape and list every constraint it breaks, in
//! the order AWS's front end reports them: a structure's missing required members, then each
//! member in the model's order, depth first. Paths are spelled as AWS spells them
//! (`tags.1.member.tagKey`: lower-camel member names, list items from 1 with `.member`).
//! A value of the wrong JSON type is left to the service (it answers the protocol's
//! serialization error).

use serde_json::Value as J;

use super::join;
use super::model::{Model, Ref, Shape};
use crate::protocol::error::lower_first;
use crate::protocol::input::FormStyle;

/// What AWS prints as the offending value.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// `Value null at …`: a required member is missing.
    Null,
    /// `Value at …`: the member is sensitive (a plaintext, a secret), never echoed.
    Hidden,
    Text(String),
}

/// One broken constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// AWS's path to the member (`tags.1.member.tagKey`).
    pub path: String,
    /// The member as the request spelled it (`MetricData.member.1.MetricName`, EC2's
    /// `InstanceId`): the query services' own messages name it so.
    pub wire: String,
    pub value: Shown,
    /// AWS's wording of the constraint (`Member must not be null`, …).
    pub constraint: String,
}

/// Every violation of `input` against the structure `shape`; top-level members named in
/// `skip` are checked by the service itself. `style` is the form the request came in, if it
/// was one (it decides the wire names).
pub fn violations(
    model: &Model,
    shape: &str,
    input: &J,
    skip: &[&str],
    style: Option<FormStyle>,
) -> Vec<Violation> {
    let mut w = Walker {
        model,
        style,
        out: Vec::new(),
    };
    w.structure(shape, input, &At::Top, skip);
    w.out
}

struct Walker<'a> {
    model: &'a Model,
    style: Option<FormStyle>,
    out: Vec<Violation>,
}

/// Where a value is, as the steps that lead to it. Its path and its name in the request are
/// spelled only when a violation there is reported ([`Walker::spell`]): a valid input, as
/// nearly every one is, spells none.
#[derive(Clone, Copy)]
enum At<'a> {
    Top,
    /// A member of the structure at `parent`.
    Member {
        parent: &'a At<'a>,
        name: &'a str,
        r: &'a Ref,
    },
    /// The item at `index` (from 0) of the list at `parent`.
    Item {
        parent: &'a At<'a>,
        index: usize,
    },
}

/// A number as AWS prints a bound (`128`, not `128.0`).
fn bound(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A value as AWS's (Java) front end prints it.
fn shown(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Array(items) => {
            let parts: Vec<String> = items.iter().map(shown).collect();
            format!("[{}]", parts.join(", "))
        }
        J::Object(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", shown(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// The decoded length of a base64 blob, without decoding it.
fn blob_len(b64: &str) -> usize {
    let t = b64.trim_end_matches('=');
    t.len() * 3 / 4
}

impl Walker<'_> {
    fn push(&mut self, at: &At<'_>, value: Shown, constraint: String) {
        let (path, wire) = self.spell(at);
        self.out.push(Violation {
            path,
            wire,
            value,
            constraint,
        });
    }

    /// AWS's path to `at`, and its name in the request.
    fn spell(&self, at: &At<'_>) -> (String, String) {
        match at {
            At::Top => (String::new(), String::new()),
            At::Member { parent, name, r } => {
                let (path, wire) = self.spell(parent);
                (
                    join(&path, &lower_first(name)),
                    join(&wire, &self.wire_name(name, r)),
                )
            }
            At::Item { parent, index } => {
                let (path, wire) = self.spell(parent);
                let n = index + 1;
                let wire = match self.style {
                    Some(FormStyle::Query) => format!("{wire}.member.{n}"),
                    _ => format!("{wire}.{n}"),
                };
                (format!("{path}.{n}.member"), wire)
            }
        }
    }

    /// A member's name in the request (the model's name for JSON requests).
    fn wire_name(&self, name: &str, r: &Ref) -> String {
        match self.style {
            Some(style) => self.model.wire_name(name, r, style),
            None => name.to_string(),
        }
    }

    fn structure(&mut self, shape: &str, v: &J, at: &At<'_>, skip: &[&str]) {
        let (Some(s), J::Object(m)) = (self.model.shape(shape), v) else {
            return;
        };
        let present = |name: &str| m.get(name).is_some_and(|v| !v.is_null());
        for (name, r) in &s.members {
            if s.required.contains(name) && !present(name) && !skip.contains(&name.as_str()) {
                let at = At::Member {
                    parent: at,
                    name,
                    r,
                };
                self.push(&at, Shown::Null, "Member must not be null".into());
            }
        }
        for (name, r) in &s.members {
            if skip.contains(&name.as_str()) {
                continue;
            }
            if let Some(child) = m.get(name).filter(|v| !v.is_null()) {
                let at = At::Member {
                    parent: at,
                    name,
                    r,
                };
                self.member(&r.shape, child, &at);
            }
        }
    }

    fn member(&mut self, shape: &str, v: &J, at: &At<'_>) {
        let Some(s) = self.model.shape(shape) else {
            return;
        };
        match (s.kind.as_str(), v) {
            ("structure", _) => self.structure(shape, v, at, &[]),
            ("list", J::Array(items)) => {
                self.length(s, items.len(), at, || Shown::Text(shown(v)));
                if let Some(member) = &s.member {
                    for (index, item) in items.iter().enumerate() {
                        let at = At::Item { parent: at, index };
                        self.member(&member.shape, item, &at);
                    }
                }
            }
            ("map", J::Object(m)) => {
                self.length(s, m.len(), at, || Shown::Text(shown(v)));
                self.map_entries(s, m, at);
            }
            ("string", J::String(text)) => self.string(s, text, at),
            ("blob", J::String(b64)) => {
                let n = blob_len(b64);
                self.length(s, n, at, || match s.sensitive {
                    true => Shown::Hidden,
                    false => Shown::Text(format!("java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]")),
                });
            }
            ("integer" | "long" | "float" | "double", J::Number(n)) => {
                if let Some(x) = n.as_f64() {
                    self.range(s, x, at, &n.to_string());
                }
            }
            _ => {}
        }
    }

    /// A map's keys and values against their shapes. AWS reports a map once for its keys and
    /// once for its values, at the map's path, with every constraint broken in one bracket
    /// (and the map printed once, however many entries break them).
    fn map_entries(&mut self, s: &Shape, m: &serde_json::Map<String, J>, at: &At<'_>) {
        let (Some(key), Some(value)) = (&s.key, &s.value) else {
            return;
        };
        let mut keys: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for (k, v) in m {
            let found = self.inner(|w| w.member(&key.shape, &J::String(k.clone()), at));
            collect(&mut keys, found);
            if !v.is_null() {
                let found = self.inner(|w| w.member(&value.shape, v, at));
                collect(&mut values, found);
            }
        }
        for (which, found) in [("Map keys", keys), ("Map value", values)] {
            if !found.is_empty() {
                let c = format!("{which} must satisfy constraint: [{}]", found.join(", "));
                self.push(at, Shown::Text(shown(&J::Object(m.clone()))), c);
            }
        }
    }

    /// The violations `check` finds on its own.
    fn inner(&self, check: impl FnOnce(&mut Walker<'_>)) -> Vec<Violation> {
        let mut w = Walker {
            model: self.model,
            style: self.style,
            out: Vec::new(),
        };
        check(&mut w);
        w.out
    }

    fn string(&mut self, s: &Shape, text: &str, at: &At<'_>) {
        let value = || {
            if s.sensitive {
                Shown::Hidden
            } else {
                Shown::Text(text.to_string())
            }
        };
        // Java's length: UTF-16 units (a character outside the basic plane counts 2).
        self.length(s, text.encode_utf16().count(), at, value);
        if let Some(p) = &s.pattern {
            if !self.model.matches(p, text) {
                self.push(
                    at,
                    value(),
                    format!("Member must satisfy regular expression pattern: {p}"),
                );
            }
        }
        if let Some(values) = &s.values {
            if !values.iter().any(|v| v == text) {
                self.push(
                    at,
                    value(),
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    ),
                );
            }
        }
    }

    fn length(&mut self, s: &Shape, n: usize, at: &At<'_>, value: impl Fn() -> Shown) {
        self.bounds(s, n as f64, "length", at, value);
    }

    fn range(&mut self, s: &Shape, x: f64, at: &At<'_>, text: &str) {
        self.bounds(s, x, "value", at, || Shown::Text(text.to_string()));
    }

    /// `x` (a `what`: length or value) against the shape's min and max.
    fn bounds(&mut self, s: &Shape, x: f64, what: &str, at: &At<'_>, value: impl Fn() -> Shown) {
        if let Some(min) = s.min.filter(|m| x < *m) {
            let c = format!(
                "Member must have {what} greater than or equal to {}",
                bound(min)
            );
            self.push(at, value(), c);
        }
        if let Some(max) = s.max.filter(|m| x > *m) {
            let c = format!(
                "Member must have {what} less than or equal to {}",
                bound(max)
            );
            self.push(at, value(), c);
        }
    }
}

/// Add the constraints `found` breaks to `into`, each once.
fn collect(into: &mut Vec<String>, found: Vec<Violation>) {
    for f in found {
        if !into.contains(&f.constraint) {
            into.push(f.constraint);
        }
    }
}
