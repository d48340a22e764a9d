//! Member shapes of answers as JSON: which members are present and their JSON types, the values
//! at a member path, and the normalisations that keep moto's known quirks (nulls, its fixed
//! account, re-serialised JSON text) from counting as differences.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::MOTO_ACCOUNT;

pub fn type_name(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "list",
        J::Object(_) => "structure",
    }
}

/// `member path → JSON type`: top-level members, the members of nested structures and maps
/// (`Attributes.DisplayName`) and of list elements (`Rules[].State`).
pub fn shape(v: &J) -> BTreeMap<String, &'static str> {
    shape_to_depth(v, 2)
}

/// [`shape`], descending `max_depth` levels below the top-level members.
pub fn shape_to_depth(v: &J, max_depth: usize) -> BTreeMap<String, &'static str> {
    fn walk(
        prefix: &str,
        v: &J,
        out: &mut BTreeMap<String, &'static str>,
        depth: usize,
        max: usize,
    ) {
        if let J::Object(m) = v {
            for (k, child) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone(), type_name(child));
                if depth < max {
                    match child {
                        J::Object(_) => walk(&path, child, out, depth + 1, max),
                        J::Array(items) => {
                            for it in items {
                                walk(&format!("{path}[]"), it, out, depth + 1, max);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out, 0, max_depth);
    out
}

/// The values at a path; `[]` after a member means "each element of that list"
/// (`Rules[].Name`), and a number indexes a list (`Entries.0.ErrorCode`).
pub fn values_at<'a>(v: &'a J, path: &str) -> Vec<&'a J> {
    let mut cur = vec![v];
    for seg in path.split('.') {
        let (name, each) = match seg.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        for c in cur {
            let child = match (c, name.parse::<usize>()) {
                (J::Array(a), Ok(i)) => a.get(i),
                _ => c.get(name),
            };
            match (child, each) {
                (Some(J::Array(items)), true) => next.extend(items.iter()),
                (Some(x), false) => next.push(x),
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// moto writes unset members as `null`; AWS leaves absent members out. Drop them.
pub fn without_nulls(v: &J) -> J {
    match v {
        J::Object(m) => J::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        J::Array(a) => J::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

pub fn has_null(v: &J) -> bool {
    match v {
        J::Null => true,
        J::Object(m) => m.values().any(has_null),
        J::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

/// moto's answers name its fixed account; the sandbox's the learner's. Values are compared
/// with moto's account replaced by the sandbox's.
pub fn with_sandbox_account(v: &J) -> J {
    match v {
        J::String(s) => J::String(s.replace(MOTO_ACCOUNT, crate::common::ACCOUNT)),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), with_sandbox_account(v)))
                .collect(),
        ),
        J::Array(a) => J::Array(a.iter().map(with_sandbox_account).collect()),
        other => other.clone(),
    }
}

/// A string member holding JSON (a policy, an event pattern) as parsed JSON, so that moto's
/// re-serialisation (spaces, key order) does not count as a difference. With
/// `percent_encoded`, text that is not JSON is tried again URL-decoded (IAM returns policy
/// documents URL-encoded, and the SDK hands them over as they are).
pub fn as_json_text(v: Option<&J>, percent_encoded: bool) -> Option<J> {
    let s = v.and_then(J::as_str)?;
    let plain = serde_json::from_str::<J>(s).ok();
    if percent_encoded {
        plain.or_else(|| serde_json::from_str::<J>(&percent_decode(s)).ok())
    } else {
        plain
    }
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
