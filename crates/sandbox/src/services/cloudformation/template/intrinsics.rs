//! The intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`,
//! `Fn::Split`, `Fn::If`, `Fn::Base64`, `Fn::GetAZs`, `Fn::FindInMap`) and pseudo parameters,
//! resolved over a [`Scope`] once the resources they name exist.

use serde_json::{Map, Value as J};

use super::{as_str_value, fn_error, Scope};

/// The arguments of `name`: a list of exactly `n` values, else `why`.
fn args<'j>(inner: &'j J, n: usize, name: &str, why: &str) -> Result<&'j [J], String> {
    match inner {
        J::Array(a) if a.len() == n => Ok(a),
        _ => Err(fn_error(name, why)),
    }
}

impl Scope<'_> {
    fn pseudo(&self, name: &str) -> Option<J> {
        Some(J::from(match name {
            "AWS::AccountId" => self.account.to_string(),
            "AWS::Region" => self.region.to_string(),
            "AWS::StackName" => self.stack_name.to_string(),
            "AWS::StackId" => self.stack_id.to_string(),
            "AWS::Partition" => "aws".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            "AWS::NotificationARNs" => return Some(J::Array(Vec::new())),
            _ => return None,
        }))
    }

    fn reference(&self, name: &str) -> Result<Option<J>, String> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(v) = self.pseudo(name) {
            return Ok(Some(v));
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        match self.made.get(name) {
            Some(m) => Ok(Some(J::from(m.physical_id.clone()))),
            None => Err(format!(
                "Template error: reference {name} does not resolve to a value (the resource is not created)"
            )),
        }
    }

    fn attribute(&self, res: &str, attr: &str) -> Result<J, String> {
        let m = self.made.get(res).ok_or_else(|| {
            format!("Template error: instance of Fn::GetAtt references undefined resource {res}")
        })?;
        m.attrs.get(attr).map(|v| J::from(v.clone())).ok_or_else(|| {
            format!("Template error: resource {res} does not support attribute type {attr} in Fn::GetAtt")
        })
    }

    /// `v` resolved to a scalar, as a string.
    fn resolve_str(&self, v: &J, depth: usize) -> Result<Option<String>, String> {
        Ok(self.resolve(v, depth + 1)?.and_then(|x| as_str_value(&x)))
    }

    /// Resolve every intrinsic function in `v`; `None` is `AWS::NoValue` (the member goes).
    pub fn resolve(&self, v: &J, depth: usize) -> Result<Option<J>, String> {
        if depth > 128 {
            return Err("Template error: the template is nested too deeply".into());
        }
        match v {
            J::Object(m) if m.len() == 1 => match m.iter().next() {
                Some((k, inner)) => self.function(k, inner, depth),
                None => Ok(Some(v.clone())),
            },
            J::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    if let Some(x) = self.resolve(x, depth + 1)? {
                        out.insert(k.clone(), x);
                    }
                }
                Ok(Some(J::Object(out)))
            }
            J::Array(a) => {
                let mut out = Vec::new();
                for x in a {
                    if let Some(x) = self.resolve(x, depth + 1)? {
                        out.push(x);
                    }
                }
                Ok(Some(J::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    /// A one-member object: an intrinsic function, or an ordinary member to resolve within.
    fn function(&self, k: &str, inner: &J, depth: usize) -> Result<Option<J>, String> {
        match k {
            "Ref" => {
                let name = inner
                    .as_str()
                    .ok_or_else(|| fn_error("Ref", "must be a string"))?;
                self.reference(name)
            }
            "Fn::GetAtt" => self.get_att(inner, depth).map(Some),
            "Fn::Join" => self.join(inner, depth).map(Some),
            "Fn::Sub" => self.sub(inner, depth).map(Some),
            "Fn::Select" => self.select(inner, depth).map(Some),
            "Fn::Split" => self.split(inner, depth).map(Some),
            "Fn::If" => {
                let a = args(inner, 3, "Fn::If", "requires a list of 3 values")?;
                let name = a[0]
                    .as_str()
                    .ok_or_else(|| fn_error("Fn::If", "requires a condition name"))?;
                let branch = if self.condition(name, depth)? {
                    &a[1]
                } else {
                    &a[2]
                };
                self.resolve(branch, depth + 1)
            }
            "Fn::Base64" => {
                let s = self
                    .resolve_str(inner, depth)?
                    .ok_or_else(|| fn_error("Fn::Base64", "requires a string"))?;
                Ok(Some(J::from(crate::util::b64(s.as_bytes()))))
            }
            "Fn::GetAZs" => {
                let region = match self.resolve_str(inner, depth)? {
                    Some(r) if !r.is_empty() => r,
                    _ => self.region.to_string(),
                };
                let zones = ["a", "b", "c"].iter();
                Ok(Some(J::Array(
                    zones.map(|z| J::from(format!("{region}{z}"))).collect(),
                )))
            }
            "Fn::FindInMap" => self.find_in_map(inner, depth).map(Some),
            "Fn::ImportValue" => Err(
                "Template error: no export named in Fn::ImportValue exists (the sandbox has no exports)".into(),
            ),
            _ => {
                let mut out = Map::new();
                if let Some(x) = self.resolve(inner, depth + 1)? {
                    out.insert(k.to_string(), x);
                }
                Ok(Some(J::Object(out)))
            }
        }
    }

    fn get_att(&self, inner: &J, depth: usize) -> Result<J, String> {
        let (res, attr) = match inner {
            J::Array(a) if a.len() == 2 => (
                a[0].as_str().map(str::to_string),
                self.resolve_str(&a[1], depth)?,
            ),
            _ => (None, None),
        };
        match (res, attr) {
            (Some(r), Some(a)) => self.attribute(&r, &a),
            _ => Err(fn_error("Fn::GetAtt", "requires two non-empty parameters")),
        }
    }

    fn join(&self, inner: &J, depth: usize) -> Result<J, String> {
        let a = args(inner, 2, "Fn::Join", "requires two parameters")?;
        let delim = a[0]
            .as_str()
            .ok_or_else(|| fn_error("Fn::Join", "requires a string delimiter"))?;
        let items = match self.resolve(&a[1], depth + 1)? {
            Some(J::Array(items)) => items,
            _ => return Err(fn_error("Fn::Join", "requires a list of values to join")),
        };
        let mut parts = Vec::new();
        for i in &items {
            parts.push(
                as_str_value(i)
                    .ok_or_else(|| fn_error("Fn::Join", "requires a list of strings to join"))?,
            );
        }
        Ok(J::from(parts.join(delim)))
    }

    fn select(&self, inner: &J, depth: usize) -> Result<J, String> {
        let a = args(inner, 2, "Fn::Select", "requires a list of 2 values")?;
        let idx = self
            .resolve_str(&a[0], depth)?
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| fn_error("Fn::Select", "requires a numeric index"))?;
        match self.resolve(&a[1], depth + 1)? {
            Some(J::Array(items)) => items.get(idx).cloned().ok_or_else(|| {
                format!("Template error: Fn::Select cannot select nonexistent value at index {idx}")
            }),
            _ => Err(fn_error("Fn::Select", "requires a list to select from")),
        }
    }

    fn split(&self, inner: &J, depth: usize) -> Result<J, String> {
        let a = args(inner, 2, "Fn::Split", "requires two parameters")?;
        let delim = a[0]
            .as_str()
            .ok_or_else(|| fn_error("Fn::Split", "requires a string delimiter"))?;
        let s = self
            .resolve_str(&a[1], depth)?
            .ok_or_else(|| fn_error("Fn::Split", "requires a string to split"))?;
        Ok(J::Array(s.split(delim).map(J::from).collect()))
    }

    fn find_in_map(&self, inner: &J, depth: usize) -> Result<J, String> {
        let a = args(inner, 3, "Fn::FindInMap", "requires 3 parameters")?;
        let mut keys = Vec::new();
        for x in a {
            keys.push(
                self.resolve_str(x, depth)?
                    .ok_or_else(|| fn_error("Fn::FindInMap", "requires string keys"))?,
            );
        }
        self.template
            .mappings
            .get(&keys[0])
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "Template error: Unable to get mapping for {}::{}::{}",
                    keys[0], keys[1], keys[2]
                )
            })
    }

    /// `Fn::Sub`'s text and variables.
    fn sub_parts(inner: &J) -> Result<(String, Map<String, J>), String> {
        match inner {
            J::String(s) => Ok((s.clone(), Map::new())),
            J::Array(a) if a.len() == 2 => {
                let t = a[0].as_str().ok_or_else(|| {
                    fn_error("Fn::Sub", "requires a string as its first parameter")
                })?;
                match &a[1] {
                    J::Object(m) => Ok((t.to_string(), m.clone())),
                    _ => Err(fn_error(
                        "Fn::Sub",
                        "requires a map of variables as its second parameter",
                    )),
                }
            }
            _ => Err(fn_error(
                "Fn::Sub",
                "requires a string or a list of a string and a map",
            )),
        }
    }

    /// The value of one `${…}` of `Fn::Sub`: a variable, a resource attribute or a reference.
    fn sub_var(&self, var: &str, vars: &Map<String, J>, depth: usize) -> Result<String, String> {
        if let Some(v) = vars.get(var) {
            return Ok(self.resolve_str(v, depth)?.unwrap_or_default());
        }
        if let Some((res, attr)) = var.split_once('.').filter(|_| !var.starts_with("AWS::")) {
            let v = self.attribute(res, attr)?;
            return Ok(as_str_value(&v).unwrap_or_default());
        }
        Ok(match self.reference(var)?.unwrap_or(J::from("")) {
            J::Array(a) => a
                .iter()
                .filter_map(as_str_value)
                .collect::<Vec<_>>()
                .join(","),
            other => as_str_value(&other).unwrap_or_default(),
        })
    }

    fn sub(&self, inner: &J, depth: usize) -> Result<J, String> {
        let (text, vars) = Self::sub_parts(inner)?;
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let var = after[..end].trim();
            if let Some(lit) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else {
                out.push_str(&self.sub_var(var, &vars, depth)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(J::from(out))
    }
}
