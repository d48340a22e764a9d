//! A protocol-neutral response value. It keeps what JSON alone loses (timestamps, blobs, and
//! whether an object is a structure or a map), so each protocol can encode it faithfully:
//! epoch seconds in JSON, ISO-8601 in XML, CBOR tag 1 in CBOR; base64 or byte strings; `<member>`
//! or `<item>` for lists and `<entry>` for maps in XML.

use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Blob(Vec<u8>),
    Time(OffsetDateTime),
    /// A list; in XML each item is wrapped in the protocol's item element.
    List(Vec<Value>),
    /// A list whose XML items are named explicitly (e.g. S3's `<Bucket>`).
    NamedList(&'static str, Vec<Value>),
    /// A list whose XML items repeat the parent element's name (XML "flattened" lists).
    FlatList(Vec<Value>),
    /// A structure: named members in order.
    Struct(Vec<(String, Value)>),
    /// A map from string keys: XML `<entry><key/><value/></entry>`.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// An empty structure to build on with [`Value::with`].
    pub fn obj() -> Self {
        Value::Struct(Vec::new())
    }

    /// Add a member to a structure; `Null` members are left out, as AWS leaves out unset ones.
    pub fn with(mut self, name: &str, v: impl Into<Value>) -> Self {
        let v = v.into();
        if let Value::Struct(ref mut fields) = self {
            if !matches!(v, Value::Null) {
                fields.push((name.to_string(), v));
            }
        }
        self
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn str_map<'a>(it: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        Value::Map(
            it.into_iter()
                .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
                .collect(),
        )
    }

    /// The JSON form (as the JSON protocols put it on the wire): epoch-second timestamps,
    /// base64 blobs.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Blob(b) => J::String(crate::util::b64(b)),
            Value::Time(t) => {
                let secs = t.unix_timestamp_nanos() as f64 / 1e9;
                // Millisecond precision, like AWS.
                let secs = (secs * 1000.0).round() / 1000.0;
                serde_json::Number::from_f64(secs)
                    .map(J::Number)
                    .unwrap_or(J::Null)
            }
            Value::List(items) | Value::NamedList(_, items) | Value::FlatList(items) => {
                J::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Struct(fields) | Value::Map(fields) => J::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<OffsetDateTime> for Value {
    fn from(t: OffsetDateTime) -> Self {
        Value::Time(t)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}
