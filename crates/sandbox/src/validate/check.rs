//! Walk an input (as JSON) against its model shape and list every constraint it breaks, in
//! the order AWS's front end reports them: a structure's missing required members, then each
//! member in the model's order, depth first. Paths are spelled as AWS spells them
//! (`tags.1.member.tagKey`: lower-camel member names, list items from 1 with `.member`).
//! A value of the wrong JSON type is left to the service (it answers the protocol's
//! serialization error).

use serde_json::Value as J;

use super::model::{Model, Shape};

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
    /// The member's wire name (EC2's messages name it so).
    pub member: String,
    pub value: Shown,
    /// AWS's wording of the constraint (`Member must not be null`, …).
    pub constraint: String,
}

/// Every violation of `input` against the structure `shape`; top-level members named in
/// `skip` are checked by the service itself.
pub fn violations(model: &Model, shape: &str, input: &J, skip: &[&str]) -> Vec<Violation> {
    let mut w = Walker {
        model,
        out: Vec::new(),
    };
    w.structure(shape, input, "", skip);
    w.out
}

struct Walker<'a> {
    model: &'a Model,
    out: Vec<Violation>,
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
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
    fn push(&mut self, path: &str, member: &str, value: Shown, constraint: String) {
        self.out.push(Violation {
            path: path.to_string(),
            member: member.to_string(),
            value,
            constraint,
        });
    }

    fn structure(&mut self, shape: &str, v: &J, path: &str, skip: &[&str]) {
        let (Some(s), J::Object(m)) = (self.model.shape(shape), v) else {
            return;
        };
        let present = |name: &str| m.get(name).is_some_and(|v| !v.is_null());
        for name in &s.required {
            if !present(name) && !skip.contains(&name.as_str()) {
                let p = join(path, &lower_first(name));
                self.push(&p, name, Shown::Null, "Member must not be null".into());
            }
        }
        for (name, r) in &s.members {
            if skip.contains(&name.as_str()) {
                continue;
            }
            if let Some(child) = m.get(name).filter(|v| !v.is_null()) {
                self.member(&r.shape, child, &join(path, &lower_first(name)), name);
            }
        }
    }

    fn member(&mut self, shape: &str, v: &J, path: &str, name: &str) {
        let Some(s) = self.model.shape(shape) else {
            return;
        };
        match (s.kind.as_str(), v) {
            ("structure", _) => self.structure(shape, v, path, &[]),
            ("list", J::Array(items)) => {
                self.length(s, items.len(), path, name, || Shown::Text(shown(v)));
                if let Some(member) = &s.member {
                    for (i, item) in items.iter().enumerate() {
                        let p = format!("{path}.{}.member", i + 1);
                        self.member(&member.shape, item, &p, name);
                    }
                }
            }
            ("map", J::Object(m)) => {
                self.length(s, m.len(), path, name, || Shown::Text(shown(v)));
                self.map_entries(s, m, path, name);
            }
            ("string", J::String(text)) => self.string(s, text, path, name),
            ("blob", J::String(b64)) => {
                let n = blob_len(b64);
                self.length(s, n, path, name, || match s.sensitive {
                    true => Shown::Hidden,
                    false => Shown::Text(format!("java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]")),
                });
            }
            ("integer" | "long" | "float" | "double", J::Number(n)) => {
                if let Some(x) = n.as_f64() {
                    self.range(s, x, path, name, &n.to_string());
                }
            }
            _ => {}
        }
    }

    /// A map's keys and values against their shapes: AWS reports them at the map's path.
    fn map_entries(&mut self, s: &Shape, m: &serde_json::Map<String, J>, path: &str, name: &str) {
        let (Some(key), Some(value)) = (&s.key, &s.value) else {
            return;
        };
        let whole = || Shown::Text(shown(&J::Object(m.clone())));
        for (k, v) in m {
            let keys = self.inner(|w| w.member(&key.shape, &J::String(k.clone()), path, name));
            let values = match v {
                J::Null => Vec::new(),
                v => self.inner(|w| w.member(&value.shape, v, path, name)),
            };
            for (which, found) in [("Map keys", keys), ("Map value", values)] {
                for f in found {
                    let c = format!("{which} must satisfy constraint: [{}]", f.constraint);
                    self.push(path, name, whole(), c);
                }
            }
        }
    }

    /// The violations `check` finds on its own.
    fn inner(&self, check: impl FnOnce(&mut Walker<'_>)) -> Vec<Violation> {
        let mut w = Walker {
            model: self.model,
            out: Vec::new(),
        };
        check(&mut w);
        w.out
    }

    fn string(&mut self, s: &Shape, text: &str, path: &str, name: &str) {
        let value = || {
            if s.sensitive {
                Shown::Hidden
            } else {
                Shown::Text(text.to_string())
            }
        };
        self.length(s, text.chars().count(), path, name, value);
        if let Some(p) = &s.pattern {
            if !self.model.matches(p, text) {
                self.push(
                    path,
                    name,
                    value(),
                    format!("Member must satisfy regular expression pattern: {p}"),
                );
            }
        }
        if let Some(values) = &s.values {
            if !values.iter().any(|v| v == text) {
                self.push(
                    path,
                    name,
                    value(),
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    ),
                );
            }
        }
    }

    fn length(&mut self, s: &Shape, n: usize, path: &str, name: &str, value: impl Fn() -> Shown) {
        let n = n as f64;
        if let Some(min) = s.min.filter(|m| n < *m) {
            let c = format!(
                "Member must have length greater than or equal to {}",
                bound(min)
            );
            self.push(path, name, value(), c);
        }
        if let Some(max) = s.max.filter(|m| n > *m) {
            let c = format!(
                "Member must have length less than or equal to {}",
                bound(max)
            );
            self.push(path, name, value(), c);
        }
    }

    fn range(&mut self, s: &Shape, x: f64, path: &str, name: &str, text: &str) {
        let value = || Shown::Text(text.to_string());
        if let Some(min) = s.min.filter(|m| x < *m) {
            let c = format!(
                "Member must have value greater than or equal to {}",
                bound(min)
            );
            self.push(path, name, value(), c);
        }
        if let Some(max) = s.max.filter(|m| x > *m) {
            let c = format!(
                "Member must have value less than or equal to {}",
                bound(max)
            );
            self.push(path, name, value(), c);
        }
    }
}
