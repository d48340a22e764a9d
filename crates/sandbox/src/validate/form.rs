//! A form-encoded input (awsQuery's `Tags.member.1.Key`, EC2's `InstanceId.1`) read into the
//! JSON tree its model describes, so that one walker checks every protocol's input. Only
//! what the form holds is read: absent members stay absent, and a number that does not parse
//! stays a string (its type is the service's to refuse).

use std::collections::BTreeMap;

use serde_json::{Map, Value as J};

use super::join;
use super::model::{Model, Shape};
use crate::protocol::input::FormStyle;

/// The input `params` holds for `shape`.
pub fn to_json(
    model: &Model,
    shape: &str,
    params: &BTreeMap<String, String>,
    style: FormStyle,
) -> J {
    let reader = Reader {
        model,
        params,
        style,
    };
    reader.structure(shape, "").unwrap_or(J::Object(Map::new()))
}

struct Reader<'a> {
    model: &'a Model,
    params: &'a BTreeMap<String, String>,
    style: FormStyle,
}

impl Reader<'_> {
    /// Whether the form holds `p` or anything under it.
    fn present(&self, p: &str) -> bool {
        if self.params.contains_key(p) {
            return true;
        }
        let dotted = format!("{p}.");
        self.params
            .range(dotted.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&dotted))
    }

    fn value(&self, shape: &str, p: &str) -> Option<J> {
        let s = self.model.shape(shape)?;
        match s.kind.as_str() {
            "structure" => self.structure(shape, p),
            "list" => self.list(s, p),
            "map" => self.map(s, p),
            kind => {
                let raw = self.params.get(p)?;
                Some(scalar(kind, raw))
            }
        }
    }

    fn structure(&self, shape: &str, p: &str) -> Option<J> {
        let s = self.model.shape(shape)?;
        if !p.is_empty() && !self.present(p) {
            return None;
        }
        let mut out = Map::new();
        for (name, r) in &s.members {
            let wire = self.model.wire_name(name, r, self.style);
            if let Some(v) = self.value(&r.shape, &join(p, &wire)) {
                out.insert(name.clone(), v);
            }
        }
        Some(J::Object(out))
    }

    fn list(&self, s: &Shape, p: &str) -> Option<J> {
        let member = s.member.as_ref()?;
        if !self.present(p) {
            return None;
        }
        let base = match self.style {
            FormStyle::Ec2 => p.to_string(),
            FormStyle::Query if s.flattened => p.to_string(),
            FormStyle::Query => join(p, member.location_name.as_deref().unwrap_or("member")),
        };
        let items = (1..)
            .map(|i| format!("{base}.{i}"))
            .take_while(|ip| self.present(ip))
            .filter_map(|ip| self.value(&member.shape, &ip))
            .collect();
        Some(J::Array(items))
    }

    fn map(&self, s: &Shape, p: &str) -> Option<J> {
        let (key, value) = (s.key.as_ref()?, s.value.as_ref()?);
        if !self.present(p) {
            return None;
        }
        let base = if s.flattened {
            p.to_string()
        } else {
            join(p, "entry")
        };
        let (k, v) = (
            key.location_name.as_deref().unwrap_or("key"),
            value.location_name.as_deref().unwrap_or("value"),
        );
        let mut out = Map::new();
        for i in 1.. {
            let entry = format!("{base}.{i}");
            let Some(name) = self.params.get(&join(&entry, k)) else {
                break;
            };
            let item = self
                .value(&value.shape, &join(&entry, v))
                .unwrap_or(J::Null);
            out.insert(name.clone(), item);
        }
        Some(J::Object(out))
    }
}

/// A form value as the JSON its type would be (numbers that parse become numbers).
fn scalar(kind: &str, raw: &str) -> J {
    let parsed = match kind {
        "integer" | "long" => raw.trim().parse::<i64>().ok().map(J::from),
        "float" | "double" => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number),
        _ => None,
    };
    parsed.unwrap_or_else(|| J::String(raw.to_string()))
}
