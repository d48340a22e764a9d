//! A failed call changes nothing: every write operation of every service (S3's REST aside),
//! called with inputs drawn from its own model — the seeded resources' names and ids among
//! them, so calls get past the lookups, and values on both sides of each constraint — leaves
//! the state's digest exactly as it was whenever it answers an error.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value as J};

use crate::protocol::input::{FormStyle, Input};
use crate::protocol::Protocol;
use crate::services::{Call, Service, REGISTRY};
use crate::validate::join;
use crate::validate::model::{Model, Shape};

/// Calls per write operation.
const CASES: usize = 40;

/// Strings a member is likely to name in the seeded account, and some that name nothing.
fn pool() -> Vec<String> {
    use kms_workshop_names as n;
    let (a, r) = (n::sandbox::ACCOUNT, n::sandbox::REGION);
    vec![
        n::IMPORTED_ALIAS.into(),
        n::FIRST_ALIAS.into(),
        n::ROLE.into(),
        n::STACK.into(),
        n::TOPIC.into(),
        n::RULE.into(),
        n::ALARM.into(),
        n::TRAIL.into(),
        n::bucket(a),
        n::sandbox::INSTANCE_ID.into(),
        format!("arn:aws:sns:{r}:{a}:{}", n::TOPIC),
        format!("arn:aws:iam::{a}:role/{}", n::ROLE),
        format!("arn:aws:iam::{a}:policy/{}", n::CUSTOMER_POLICIES[0]),
        n::KMS_POWER_USER_POLICY.into(),
        format!("arn:aws:events:{r}:{a}:rule/{}", n::RULE),
        "learner@example.com".into(),
        "email".into(),
        "{}".into(),
        r#"{"source":["aws.kms"]}"#.into(),
        "alias/nothing-here".into(),
        "x".into(),
        String::new(),
        "k".repeat(300),
    ]
}

struct Gen<'a> {
    model: &'a Model,
    rng: StdRng,
    pool: Vec<String>,
}

impl Gen<'_> {
    fn value(&mut self, shape: &str, depth: usize) -> J {
        self.member("", shape, depth)
    }

    /// A value for member `name` (its name hints at what it names) of `shape`.
    fn member(&mut self, name: &str, shape: &str, depth: usize) -> J {
        let Some(s) = self.model.shape(shape) else {
            return J::Null;
        };
        match s.kind.as_str() {
            "structure" if depth < 5 => self.structure(s, depth),
            "list" if depth < 5 => {
                // Mostly a few items; sometimes exactly the most allowed, or one more.
                let most = s.max.map(|m| m as usize).unwrap_or(51).min(200);
                let n = match self.rng.gen_range(0..10) {
                    0 => most + 1,
                    1 => most,
                    k => k % 3,
                };
                let member = s
                    .member
                    .as_ref()
                    .map(|m| m.shape.clone())
                    .unwrap_or_default();
                J::Array((0..n).map(|_| self.value(&member, depth + 1)).collect())
            }
            "map" if depth < 5 => {
                let v = s
                    .value
                    .as_ref()
                    .map(|m| m.shape.clone())
                    .unwrap_or_default();
                let mut m = Map::new();
                for i in 0..self.rng.gen_range(0..3) {
                    m.insert(format!("k{i}"), self.value(&v, depth + 1));
                }
                J::Object(m)
            }
            "string" => self.string(s, name),
            "integer" | "long" => {
                let (lo, hi) = (
                    s.min.unwrap_or(-1.0) as i64,
                    s.max.unwrap_or(100_000.0) as i64,
                );
                json!(self.rng.gen_range(lo - 1..=hi.max(lo) + 1))
            }
            "float" | "double" => json!(self.rng.gen_range(-10.0..1e6)),
            "boolean" => json!(self.rng.gen_bool(0.5)),
            "timestamp" => json!(
                time::OffsetDateTime::now_utc().unix_timestamp() - self.rng.gen_range(0..86_400)
            ),
            "blob" => json!(crate::util::b64(&vec![7u8; self.rng.gen_range(0..64)])),
            _ => J::Null,
        }
    }

    fn structure(&mut self, s: &Shape, depth: usize) -> J {
        let mut out = Map::new();
        for (name, r) in &s.members {
            if s.required.contains(name) || self.rng.gen_bool(0.4) {
                let v = self.member(name, &r.shape, depth + 1);
                out.insert(name.clone(), v);
            }
        }
        J::Object(out)
    }

    fn string(&mut self, s: &Shape, name: &str) -> J {
        if let Some(values) = &s.values {
            if self.rng.gen_bool(0.9) {
                return json!(values[self.rng.gen_range(0..values.len())]);
            }
        }
        // Keys are mostly distinct (a list of 51 tags is 51 tags), and some values fresh.
        if name.ends_with("Key") || self.rng.gen_bool(0.1) {
            return json!(format!("v{}", self.rng.gen_range(0..1_000_000)));
        }
        // Mostly values the model allows, so that calls get past the front end.
        let model = self.model;
        let allowed = |p: &String| {
            let n = p.chars().count() as f64;
            s.min.is_none_or(|m| n >= m)
                && s.max.is_none_or(|m| n <= m)
                && s.pattern.as_ref().is_none_or(|pat| model.matches(pat, p))
        };
        let strict = self.rng.gen_bool(0.9);
        // Mostly what the member's name says it names, so calls reach the resources.
        let hinted: Vec<&String> = self
            .pool
            .iter()
            .filter(|p| !strict || allowed(p))
            .filter(|p| {
                if name.ends_with("Arn") || name.ends_with("ARN") {
                    p.starts_with("arn:")
                } else if name.ends_with("KeyId") {
                    p.starts_with("alias/") || p.len() == 36
                } else {
                    !p.starts_with("arn:")
                }
            })
            .collect();
        if !hinted.is_empty() && self.rng.gen_bool(0.8) {
            return json!(hinted[self.rng.gen_range(0..hinted.len())]);
        }
        let i = self.rng.gen_range(0..self.pool.len());
        json!(self.pool[i])
    }
}

/// `v` (of `shape`) as the form parameters a query client would send.
fn to_form(
    model: &Model,
    shape: &str,
    v: &J,
    prefix: &str,
    style: FormStyle,
    out: &mut BTreeMap<String, String>,
) {
    let Some(s) = model.shape(shape) else { return };
    match (s.kind.as_str(), v) {
        ("structure", J::Object(m)) => {
            for (name, r) in &s.members {
                if let Some(child) = m.get(name) {
                    let wire = model.wire_name(name, r, style);
                    to_form(model, &r.shape, child, &join(prefix, &wire), style, out);
                }
            }
        }
        ("list", J::Array(items)) => {
            let member = s
                .member
                .as_ref()
                .map(|m| m.shape.clone())
                .unwrap_or_default();
            let base = match style {
                FormStyle::Ec2 => prefix.to_string(),
                FormStyle::Query if s.flattened => prefix.to_string(),
                FormStyle::Query => join(prefix, "member"),
            };
            if items.is_empty() {
                out.insert(prefix.to_string(), String::new());
            }
            for (i, item) in items.iter().enumerate() {
                to_form(
                    model,
                    &member,
                    item,
                    &format!("{base}.{}", i + 1),
                    style,
                    out,
                );
            }
        }
        ("map", J::Object(m)) => {
            let value = s
                .value
                .as_ref()
                .map(|r| r.shape.clone())
                .unwrap_or_default();
            for (i, (k, item)) in m.iter().enumerate() {
                let entry = format!("{}.{}", join(prefix, "entry"), i + 1);
                out.insert(format!("{entry}.key"), k.clone());
                to_form(model, &value, item, &format!("{entry}.value"), style, out);
            }
        }
        (_, J::String(t)) => {
            out.insert(prefix.to_string(), t.clone());
        }
        (_, J::Null) => {}
        (_, other) => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The ARNs and ids an answer carries, added to `pool` (once each).
fn harvest(v: &J, pool: &mut Vec<String>) {
    match v {
        J::Object(m) => {
            for (k, v) in m {
                match v {
                    J::String(s)
                        if k.ends_with("Arn") || k.ends_with("ARN") || k.ends_with("Id") =>
                    {
                        if !pool.contains(s) && pool.len() < 400 {
                            pool.push(s.clone());
                        }
                    }
                    other => harvest(other, pool),
                }
            }
        }
        J::Array(items) => items.iter().for_each(|i| harvest(i, pool)),
        _ => {}
    }
}

fn input_for(svc: &dyn Service, model: &Model, shape: &str, v: &J) -> Input {
    match svc.about().protocol {
        Protocol::AwsQuery | Protocol::Ec2Query => {
            let style = if svc.about().protocol == Protocol::Ec2Query {
                FormStyle::Ec2
            } else {
                FormStyle::Query
            };
            let mut params = BTreeMap::new();
            to_form(model, shape, v, "", style, &mut params);
            Input::form(params, style)
        }
        _ => Input::Json(v.clone()),
    }
}

#[test]
fn a_failed_write_changes_nothing() {
    let sb = crate::Sandbox::open(crate::Config::default()).expect("sandbox");
    let cred = crate::identity::learner_credential(kms_workshop_names::sandbox::ACCOUNT, "seed");
    let caller = crate::identity::Caller::from(&cred);
    let mut broken = Vec::new();
    // Calls the services themselves refused (past the model's checks), and calls that
    // succeeded: without many of both, the property says nothing.
    let (mut refused, mut done) = (0usize, 0usize);
    for entry in REGISTRY {
        let svc = entry.service;
        let Some(model) = crate::validate::model(svc.signing_name()) else {
            continue;
        };
        let mut gen = Gen {
            model,
            rng: StdRng::seed_from_u64(0x5eed),
            pool: pool(),
        };
        // The service's write operations, called in a random order so that what one
        // creates, another changes or deletes.
        let writes: Vec<(&String, &String)> = model
            .operations
            .iter()
            .filter(|(op, _)| !svc.read_only(op) && svc.serves(&sb, &caller, op))
            .filter_map(|(op, shape)| shape.as_ref().map(|s| (op, s)))
            .collect();
        for _ in 0..CASES * writes.len() {
            let (op, shape) = writes[gen.rng.gen_range(0..writes.len())];
            let v = gen.value(shape, 0);
            let input = input_for(svc, model, shape, &v);
            // What time has made due happens first: it is not the call's doing.
            sb.tick();
            let before = sb.digest();
            let mut cx = Call::direct(&sb, &caller, svc.about().protocol);
            let checked = crate::validate::check(svc, op, &input);
            let past_model = checked.is_ok();
            let out = checked.and_then(|()| svc.call(&mut cx, op, &input));
            match out {
                // What a call made (a topic's ARN, a key's id) is what later calls name.
                Ok(answer) => {
                    done += 1;
                    harvest(&answer.to_json(), &mut gen.pool);
                }
                Err(e) => {
                    refused += usize::from(past_model);
                    if sb.digest() != before {
                        broken.push(format!("{}:{op} ({}) {v}", svc.signing_name(), e.code));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "failed calls that changed the state:\n{}",
        broken.join("\n")
    );
    assert!(
        refused >= 500 && done >= 200,
        "too few calls reached the services: {refused} refused by them, {done} succeeded"
    );
}
