//! Conditions: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition`, evaluated over
//! a [`Scope`].

use serde_json::Value as J;

use super::{as_str_value, fn_error, Scope};

impl Scope<'_> {
    /// Evaluate a condition by name.
    pub fn condition(&self, name: &str, depth: usize) -> Result<bool, String> {
        let c = self.template.conditions.get(name).ok_or_else(|| {
            format!("Template error: unresolved condition dependency {name} in Fn::If")
        })?;
        self.truth(c, depth + 1)
    }

    fn truth(&self, v: &J, depth: usize) -> Result<bool, String> {
        if depth > 64 {
            return Err("Template error: conditions are nested too deeply".into());
        }
        let J::Object(m) = v else {
            return match v {
                J::Bool(b) => Ok(*b),
                J::String(s) => Ok(s.eq_ignore_ascii_case("true")),
                _ => Err("Template error: a condition must be a condition function".into()),
            };
        };
        let Some((k, inner)) = m.iter().next() else {
            return Err("Template error: a condition must be a condition function".into());
        };
        let list = |inner: &J| match inner {
            J::Array(a) => Ok(a.clone()),
            _ => Err(fn_error(k, "requires a list")),
        };
        match k.as_str() {
            "Condition" => self.condition(inner.as_str().unwrap_or(""), depth),
            "Fn::Equals" => {
                let a = list(inner)?;
                if a.len() != 2 {
                    return Err(fn_error("Fn::Equals", "requires a list of 2 values"));
                }
                let x = self.resolve(&a[0], depth + 1)?.unwrap_or(J::Null);
                let y = self.resolve(&a[1], depth + 1)?.unwrap_or(J::Null);
                Ok(as_str_value(&x) == as_str_value(&y) && x.is_array() == y.is_array())
            }
            "Fn::Not" => {
                let a = list(inner)?;
                let first = a
                    .first()
                    .ok_or_else(|| fn_error("Fn::Not", "requires a list of 1 condition"))?;
                Ok(!self.truth(first, depth + 1)?)
            }
            "Fn::And" => {
                for c in list(inner)? {
                    if !self.truth(&c, depth + 1)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for c in list(inner)? {
                    if self.truth(&c, depth + 1)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            other => Err(format!(
                "Template error: {other} is not a condition function"
            )),
        }
    }
}
