//! A protocol-neutral view of a request's input. JSON and CBOR bodies are held as JSON (CBOR
//! byte strings become base64, tag-1 timestamps become epoch seconds, as in AWS JSON); query and
//! EC2 forms keep their flat `A.member.1.B` parameters and are navigated by path, so services ask
//! for members by name without caring which protocol carried them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as J;
use time::OffsetDateTime;

use super::AwsError;

/// How lists and maps are spelled in a form body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormStyle {
    /// `Name.member.1`, `Name.entry.1.key` (awsQuery).
    Query,
    /// `Name.1` (ec2Query).
    Ec2,
}

#[derive(Debug, Clone)]
pub enum Input {
    Json(J),
    Form {
        params: Arc<BTreeMap<String, String>>,
        path: String,
        style: FormStyle,
    },
}

fn serialization(msg: String) -> AwsError {
    AwsError::new(400, "SerializationException", msg)
}

impl Input {
    pub fn empty() -> Self {
        Input::Json(J::Object(Default::default()))
    }

    pub fn form(params: BTreeMap<String, String>, style: FormStyle) -> Self {
        Input::Form {
            params: Arc::new(params),
            path: String::new(),
            style,
        }
    }

    fn join(path: &str, name: &str) -> String {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    }

    fn json_member(&self, name: &str) -> Option<&J> {
        match self {
            Input::Json(J::Object(m)) => m.get(name).filter(|v| !v.is_null()),
            _ => None,
        }
    }

    fn form_has_prefix(params: &BTreeMap<String, String>, key: &str) -> bool {
        if params.contains_key(key) {
            return true;
        }
        let dotted = format!("{key}.");
        params
            .range(dotted.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&dotted))
    }

    /// Whether the member is present at all.
    pub fn has(&self, name: &str) -> bool {
        match self {
            Input::Json(_) => self.json_member(name).is_some(),
            Input::Form { params, path, .. } => {
                Self::form_has_prefix(params, &Self::join(path, name))
            }
        }
    }

    /// This input as a scalar string (list items in form bodies).
    pub fn as_str(&self) -> Option<String> {
        match self {
            Input::Json(J::String(s)) => Some(s.clone()),
            Input::Json(J::Number(n)) => Some(n.to_string()),
            Input::Json(J::Bool(b)) => Some(b.to_string()),
            Input::Json(_) => None,
            Input::Form { params, path, .. } => params.get(path).cloned(),
        }
    }

    /// A string member; wrong types are a serialization error, as in AWS's JSON services.
    pub fn str(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(None),
                Some(J::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(serialization(format!(
                    "Expected a string for member {name}"
                ))),
            },
            Input::Form { params, path, .. } => Ok(params.get(&Self::join(path, name)).cloned()),
        }
    }

    pub fn req_str(&self, name: &str) -> Result<String, AwsError> {
        self.str(name)?.ok_or_else(|| AwsError::missing(name))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(None),
                Some(J::Number(n)) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                    .map(Some)
                    .ok_or_else(|| serialization(format!("Expected an integer for member {name}"))),
                Some(_) => Err(serialization(format!(
                    "Expected an integer for member {name}"
                ))),
            },
            Input::Form { .. } => match self.str(name)? {
                None => Ok(None),
                Some(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| AwsError::bad_value(name, &s, "Member must be an integer")),
            },
        }
    }

    pub fn float(&self, name: &str) -> Result<Option<f64>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(None),
                Some(J::Number(n)) => Ok(n.as_f64()),
                // AWS's JSON protocols send non-finite doubles as these strings.
                Some(J::String(s)) if s == "NaN" => Ok(Some(f64::NAN)),
                Some(J::String(s)) if s == "Infinity" => Ok(Some(f64::INFINITY)),
                Some(J::String(s)) if s == "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
                Some(_) => Err(serialization(format!(
                    "Expected a number for member {name}"
                ))),
            },
            Input::Form { .. } => match self.str(name)? {
                None => Ok(None),
                Some(s) => s
                    .trim()
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| AwsError::bad_value(name, &s, "Member must be a number")),
            },
        }
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(None),
                Some(J::Bool(b)) => Ok(Some(*b)),
                Some(_) => Err(serialization(format!(
                    "Expected a boolean for member {name}"
                ))),
            },
            Input::Form { .. } => match self.str(name)?.as_deref() {
                None => Ok(None),
                Some("true") | Some("True") => Ok(Some(true)),
                Some("false") | Some("False") => Ok(Some(false)),
                Some(other) => Err(AwsError::bad_value(
                    name,
                    other,
                    "Member must be true or false",
                )),
            },
        }
    }

    /// A blob member: base64 on every text protocol.
    pub fn blob(&self, name: &str) -> Result<Option<Vec<u8>>, AwsError> {
        match self.str(name)? {
            None => Ok(None),
            Some(s) => crate::util::unb64(&s)
                .map(Some)
                .ok_or_else(|| serialization(format!("Member {name} is not valid base64"))),
        }
    }

    /// A timestamp member: epoch seconds in JSON, ISO-8601 (or epoch seconds) in forms.
    pub fn time(&self, name: &str) -> Result<Option<OffsetDateTime>, AwsError> {
        let bad = || serialization(format!("Member {name} is not a valid timestamp"));
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(None),
                Some(J::Number(n)) => {
                    let secs = n.as_f64().ok_or_else(bad)?;
                    crate::util::from_epoch_secs(secs).map(Some).ok_or_else(bad)
                }
                Some(J::String(s)) => crate::util::parse_time(s).map(Some).ok_or_else(bad),
                Some(_) => Err(bad()),
            },
            Input::Form { .. } => match self.str(name)? {
                None => Ok(None),
                Some(s) => crate::util::parse_time(&s).map(Some).ok_or_else(bad),
            },
        }
    }

    /// A nested structure member.
    pub fn child(&self, name: &str) -> Option<Input> {
        match self {
            Input::Json(_) => self.json_member(name).map(|v| Input::Json(v.clone())),
            Input::Form {
                params,
                path,
                style,
            } => {
                let p = Self::join(path, name);
                Self::form_has_prefix(params, &p).then(|| Input::Form {
                    params: params.clone(),
                    path: p,
                    style: *style,
                })
            }
        }
    }

    /// A list member's items (structures or scalars; read scalars with [`Input::as_str`]).
    pub fn list(&self, name: &str) -> Result<Vec<Input>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(Vec::new()),
                Some(J::Array(items)) => Ok(items.iter().cloned().map(Input::Json).collect()),
                Some(_) => Err(serialization(format!("Expected a list for member {name}"))),
            },
            Input::Form {
                params,
                path,
                style,
            } => {
                let base = match style {
                    FormStyle::Query => format!("{}.member", Self::join(path, name)),
                    FormStyle::Ec2 => Self::join(path, name),
                };
                let mut out = Vec::new();
                for i in 1.. {
                    let p = format!("{base}.{i}");
                    if !Self::form_has_prefix(params, &p) {
                        break;
                    }
                    out.push(Input::Form {
                        params: params.clone(),
                        path: p,
                        style: *style,
                    });
                }
                Ok(out)
            }
        }
    }

    pub fn str_list(&self, name: &str) -> Result<Vec<String>, AwsError> {
        self.list(name)?
            .into_iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(|| serialization(format!("Expected strings in list {name}")))
            })
            .collect()
    }

    /// A map of string to string (`Name.entry.N.key/value` in query forms).
    pub fn str_map(&self, name: &str) -> Result<Vec<(String, String)>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(Vec::new()),
                Some(J::Object(m)) => m
                    .iter()
                    .map(|(k, v)| match v {
                        J::String(s) => Ok((k.clone(), s.clone())),
                        _ => Err(serialization(format!(
                            "Expected string values in map {name}"
                        ))),
                    })
                    .collect(),
                Some(_) => Err(serialization(format!("Expected a map for member {name}"))),
            },
            Input::Form { params, path, .. } => {
                let base = format!("{}.entry", Self::join(path, name));
                let mut out = Vec::new();
                for i in 1.. {
                    let k = params.get(&format!("{base}.{i}.key"));
                    let v = params.get(&format!("{base}.{i}.value"));
                    match (k, v) {
                        (Some(k), v) => out.push((k.clone(), v.cloned().unwrap_or_default())),
                        (None, _) => break,
                    }
                }
                Ok(out)
            }
        }
    }

    /// A map whose values are structures, with the key and value member names the model gives
    /// them (e.g. SNS `MessageAttributes.entry.N.Name` / `.Value.DataType`).
    pub fn entries(
        &self,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<(String, Input)>, AwsError> {
        match self {
            Input::Json(_) => match self.json_member(name) {
                None => Ok(Vec::new()),
                Some(J::Object(m)) => Ok(m
                    .iter()
                    .map(|(k, v)| (k.clone(), Input::Json(v.clone())))
                    .collect()),
                Some(_) => Err(serialization(format!("Expected a map for member {name}"))),
            },
            Input::Form {
                params,
                path,
                style,
            } => {
                let base = format!("{}.entry", Self::join(path, name));
                let mut out = Vec::new();
                for i in 1.. {
                    let Some(k) = params.get(&format!("{base}.{i}.{key}")) else {
                        break;
                    };
                    let p = format!("{base}.{i}.{value}");
                    out.push((
                        k.clone(),
                        Input::Form {
                            params: params.clone(),
                            path: p,
                            style: *style,
                        },
                    ));
                }
                Ok(out)
            }
        }
    }

    /// The JSON view of the whole input (what CloudTrail logs as request parameters):
    /// a JSON input itself, borrowed; a form's parameters, made into one.
    pub fn json_view(&self) -> std::borrow::Cow<'_, J> {
        match self {
            Input::Json(v) => std::borrow::Cow::Borrowed(v),
            Input::Form { params, path, .. } => {
                let mut obj = serde_json::Map::new();
                let prefix = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}.")
                };
                for (k, v) in params.iter() {
                    if let Some(rest) = k.strip_prefix(&prefix) {
                        if rest == "Action" || rest == "Version" {
                            continue;
                        }
                        obj.insert(rest.to_string(), J::String(v.clone()));
                    }
                }
                std::borrow::Cow::Owned(J::Object(obj))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)], style: FormStyle) -> Input {
        Input::form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            style,
        )
    }

    #[test]
    fn query_lists_maps_and_children() {
        let i = form(
            &[
                ("Tags.member.1.Key", "a"),
                ("Tags.member.1.Value", "1"),
                ("Tags.member.2.Key", "b"),
                ("Attributes.entry.1.key", "DisplayName"),
                ("Attributes.entry.1.value", "ws"),
                ("Names.member.1", "x"),
                ("Names.member.2", "y"),
            ],
            FormStyle::Query,
        );
        let tags = i.list("Tags").unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].str("Key").unwrap().as_deref(), Some("a"));
        assert_eq!(tags[1].str("Value").unwrap(), None);
        assert_eq!(
            i.str_map("Attributes").unwrap(),
            vec![("DisplayName".into(), "ws".into())]
        );
        assert_eq!(i.str_list("Names").unwrap(), vec!["x", "y"]);
        assert!(i.has("Tags") && !i.has("Tag"));
    }

    #[test]
    fn ec2_lists() {
        let i = form(
            &[
                ("InstanceId.1", "i-1"),
                ("InstanceId.2", "i-2"),
                ("Filter.1.Value.1", "v"),
            ],
            FormStyle::Ec2,
        );
        assert_eq!(i.str_list("InstanceId").unwrap(), vec!["i-1", "i-2"]);
        let f = i.list("Filter").unwrap();
        assert_eq!(f[0].str_list("Value").unwrap(), vec!["v"]);
    }

    #[test]
    fn json_type_errors_are_serialization_errors() {
        let i = Input::Json(serde_json::json!({"KeyId": 5, "N": "x", "L": {}}));
        assert_eq!(i.str("KeyId").unwrap_err().code, "SerializationException");
        assert_eq!(i.int("N").unwrap_err().code, "SerializationException");
        assert_eq!(i.list("L").unwrap_err().code, "SerializationException");
        assert_eq!(
            i.req_str("Missing").unwrap_err().code,
            "ValidationException"
        );
    }
}
