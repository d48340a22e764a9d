//! The pattern's JSON as the compiler sees it.
//!
//! EventBridge reads a pattern as a stream of JSON tokens, so an object that repeats a key is seen
//! twice (the later occurrence wins for matching, but both are validated, and nested objects under
//! the repeated key both contribute fields). `serde_json::Value` keeps only the last occurrence, so
//! [`Pattern::parse`](crate::Pattern::parse) reads the text into this order- and
//! duplicate-preserving tree instead.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Deepest nesting accepted from a programmatically built `serde_json::Value` (text parsed by
/// `serde_json` is already limited to 128 levels).
pub(crate) const MAX_DEPTH: usize = 128;

/// A JSON value whose objects keep every member, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    Null,
    Bool(bool),
    /// The value as a double and its JSON text (for messages that quote it).
    Number(f64, String),
    String(String),
    Array(Vec<Raw>),
    Object(Vec<(String, Raw)>),
}

impl Raw {
    /// Converts a `serde_json::Value`; `None` when it nests deeper than [`MAX_DEPTH`].
    pub(crate) fn from_value(value: &Value) -> Option<Raw> {
        Self::from_value_at(value, 0)
    }

    fn from_value_at(value: &Value, depth: usize) -> Option<Raw> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match value {
            Value::Null => Raw::Null,
            Value::Bool(b) => Raw::Bool(*b),
            Value::Number(n) => Raw::Number(n.as_f64().unwrap_or(f64::NAN), n.to_string()),
            Value::String(s) => Raw::String(s.clone()),
            Value::Array(items) => Raw::Array(
                items
                    .iter()
                    .map(|item| Self::from_value_at(item, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Object(map) => Raw::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), Self::from_value_at(v, depth + 1)?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
        })
    }

    /// The token text Jackson's `getText()` would give for the first token of this value.
    pub(crate) fn token_text(&self) -> String {
        match self {
            Raw::Null => "null".to_owned(),
            Raw::Bool(b) => b.to_string(),
            Raw::Number(_, text) => text.clone(),
            Raw::String(s) => s.clone(),
            Raw::Array(_) => "[".to_owned(),
            Raw::Object(_) => "{".to_owned(),
        }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(v as f64, v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(v as f64, v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        let text = serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string());
        Ok(Raw::Number(v, text))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Raw>()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut members = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Raw>()? {
            members.push((key, value));
        }
        Ok(Raw::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let raw: Raw = serde_json::from_str(r#"{"a": [1], "b": 2, "a": {"c": [3]}}"#).unwrap();
        let Raw::Object(members) = raw else {
            panic!("not an object")
        };
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
    }

    #[test]
    fn refuses_values_nested_too_deep() {
        let mut value = Value::Null;
        for _ in 0..=MAX_DEPTH {
            value = Value::Array(vec![value]);
        }
        assert!(Raw::from_value(&value).is_none());
        let Value::Array(mut inner) = value else {
            unreachable!()
        };
        assert!(Raw::from_value(&inner.remove(0)).is_some());
    }
}
