//! Parsing a template body: JSON when it looks like JSON, else YAML with CloudFormation's
//! short-form tags (`!Ref`, `!GetAtt`, `!Sub`, …) turned into their long `Fn::` forms.

use serde_json::{Map, Value as J};

use super::format_error;

/// Parse a template body: JSON when it looks like JSON, else YAML.
pub fn parse_body(body: &str) -> Result<J, String> {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str::<J>(body).map_err(|e| {
            format_error(format!(
                "JSON not well-formed. (line {}, column {})",
                e.line(),
                e.column()
            ))
        });
    }
    let y: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(body).map_err(|e| match e.location() {
            Some(l) => format_error(format!(
                "YAML not well-formed. (line {}, column {})",
                l.line(),
                l.column()
            )),
            None => format_error("YAML not well-formed."),
        })?;
    yaml_to_json(y, 0)
}

/// YAML to the JSON form of a template, expanding short-form tags (`!Ref X` → `{"Ref": X}`,
/// `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Sub …` → `{"Fn::Sub": …}`).
fn yaml_to_json(y: serde_yaml_ng::Value, depth: usize) -> Result<J, String> {
    use serde_yaml_ng::Value as Y;
    if depth > 64 {
        return Err(format_error("Template is nested too deeply."));
    }
    Ok(match y {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
                    .unwrap_or(J::Null)
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(items) => J::Array(
            items
                .into_iter()
                .map(|v| yaml_to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => {
                        return Err(format_error(
                            "YAML not well-formed. (mapping keys must be scalars)",
                        ))
                    }
                };
                out.insert(key, yaml_to_json(v, depth + 1)?);
            }
            J::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(t.value, depth + 1)?;
            let (key, value) = match name {
                "Ref" => ("Ref".to_string(), inner),
                "Condition" => ("Condition".to_string(), inner),
                "GetAtt" => {
                    let v = match inner {
                        J::String(s) => match s.split_once('.') {
                            Some((a, b)) => J::Array(vec![J::from(a), J::from(b)]),
                            None => J::Array(vec![J::from(s)]),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), v)
                }
                "Sub" | "Join" | "Select" | "Split" | "If" | "Equals" | "Not" | "And" | "Or"
                | "FindInMap" | "Base64" | "GetAZs" | "ImportValue" | "Cidr" | "Length"
                | "ToJsonString" => (format!("Fn::{name}"), inner),
                other => {
                    return Err(format_error(format!(
                        "YAML not well-formed. (unknown tag !{other})"
                    )))
                }
            };
            let mut m = Map::new();
            m.insert(key, value);
            J::Object(m)
        }
    })
}
