//! Machinery shared by the moto differential tests (`differential`, `differential_sns_events`,
//! `ec2_differential`, `iam_differential`, `s3_differential`): the raw-response capture
//! interceptor, the SDK configuration for moto and the sandbox, awsQuery bodies as JSON,
//! member shapes, botocore's models, the comparison report and its summary.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_kms::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use serde_json::{json, Value as J};

/// Keeps the raw body of the last response, so answers are compared as they came off the
/// wire rather than as the SDK's structs (which hide which members were present).
#[derive(Debug, Clone, Default)]
pub struct Capture(pub Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "capture-response-body"
    }
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = context.response().body().bytes().map(<[u8]>::to_vec);
        *self.0.lock().expect("capture lock") = body;
        Ok(())
    }
}

impl Capture {
    /// The body of the last response (empty when none was kept), clearing it.
    pub fn take_body(&self) -> Vec<u8> {
        self.0
            .lock()
            .expect("capture lock")
            .take()
            .unwrap_or_default()
    }
}

/// The SDK configuration for one side (moto or the sandbox): the learner's keys, the workshop
/// region, no retries; `session` names the credentials' provider.
pub async fn sdk_config(endpoint: &str, session: &'static str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(super::REGION))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            super::LEARNER_ACCESS_KEY,
            super::LEARNER_SECRET_KEY,
            None,
            None,
            session,
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// An SDK result as the raw body kept by `capture` (`Ok`), or the error code (`Err`).
pub fn raw_outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    capture: &Capture,
    r: &Result<T, SdkError<E, HttpResponse>>,
) -> Result<Vec<u8>, String> {
    match r {
        Ok(_) => Ok(capture.take_body()),
        Err(e) => Err(match (e.code(), e.raw_response()) {
            (Some(code), _) => code.to_string(),
            (None, Some(raw)) => {
                format!("HTTP {} without an error code", raw.status().as_u16())
            }
            (None, None) => format!("no answer ({e:?})"),
        }),
    }
}

/// Print the table of compared operations and the count line. `widths` are those of the
/// operation and outcome columns; `aws_only` is how many were checked against AWS only.
pub fn print_summary(
    title: &str,
    widths: (usize, usize),
    rows: &[(String, String, String)],
    aws_only: usize,
    differences: usize,
) {
    let (w_op, w_outcome) = widths;
    println!("\n{title}");
    println!("{:<w_op$} {:<w_outcome$} compared", "operation", "outcome");
    for (op, outcome, detail) in rows {
        println!("{op:<w_op$} {outcome:<w_outcome$} {detail}");
    }
    println!(
        "{} operations: {} compared with moto, {} checked against AWS's documented answer only; {} differences",
        rows.len(),
        rows.len() - aws_only,
        aws_only,
        differences
    );
}

/// What one side answered.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The body as JSON (an awsQuery answer: its `…Result` element as JSON), and for awsQuery
    /// whether the `…Result` element was there at all.
    Ok(J, Option<bool>),
    Err(String),
}

impl Outcome {
    pub fn label(&self) -> String {
        match self {
            Outcome::Ok(..) => "ok".to_string(),
            Outcome::Err(code) => code.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies as JSON

/// An XML element: name, child elements, text.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub children: Vec<Node>,
    pub text: String,
}

pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(end) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A small XML reader, enough for awsQuery answers (elements, text, entities; attributes are
/// ignored). Returns the root element.
pub fn parse_xml(text: &str) -> Option<Node> {
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let text_part = &rest[..open];
        if let Some(top) = stack.last_mut() {
            top.text.push_str(&unescape(text_part));
        }
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let tag = &after[..close];
        rest = &after[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let node = stack.pop()?;
            if node.name != name.trim() {
                return None;
            }
            stack.last_mut()?.children.push(node);
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let node = Node {
            name,
            ..Node::default()
        };
        if self_closing {
            stack.last_mut()?.children.push(node);
        } else {
            stack.push(node);
        }
    }
    let mut doc = stack.pop()?;
    if !stack.is_empty() {
        return None;
    }
    doc.children.pop()
}

/// An element as JSON: text when it has no children, a list for `<member>` items, an object for
/// `<entry><key/><value/></entry>` maps, an object by element name otherwise.
pub fn node_json(n: &Node) -> J {
    if n.children.is_empty() {
        return J::String(n.text.clone());
    }
    if n.children.iter().all(|c| c.name == "member") {
        return J::Array(n.children.iter().map(node_json).collect());
    }
    if n.children.iter().all(|c| c.name == "entry") {
        let mut m = serde_json::Map::new();
        for e in &n.children {
            let key = e
                .children
                .iter()
                .find(|c| c.name == "key")
                .map(|k| k.text.clone())
                .unwrap_or_default();
            let value = e
                .children
                .iter()
                .find(|c| c.name == "value")
                .map(node_json)
                .unwrap_or(J::Null);
            m.insert(key, value);
        }
        return J::Object(m);
    }
    J::Object(
        n.children
            .iter()
            .map(|c| (c.name.clone(), node_json(c)))
            .collect(),
    )
}

/// JSON bodies as they are; an awsQuery answer as its `…Result` element, plus whether that
/// An awsQuery SDK result as an [`Outcome`]: the raw XML body as JSON (and whether it had its
/// `<OpResult>` element), or the error code.
pub fn query_outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    capture: &Capture,
    r: &Result<T, SdkError<E, HttpResponse>>,
) -> Outcome {
    match raw_outcome(capture, r) {
        Ok(body) => {
            let (j, result_element) = parse_body(&body);
            Outcome::Ok(j, result_element)
        }
        Err(code) => Outcome::Err(code),
    }
}

/// element was present.
pub fn parse_body(body: &[u8]) -> (J, Option<bool>) {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return (json!({}), None);
    }
    if let Ok(j) = serde_json::from_str::<J>(trimmed) {
        return (j, None);
    }
    let Some(root) = parse_xml(trimmed) else {
        return (json!({ "unparsable body": trimmed }), None);
    };
    match root.children.iter().find(|c| c.name.ends_with("Result")) {
        Some(result) if result.children.is_empty() => (json!({}), Some(true)),
        Some(result) => (node_json(result), Some(true)),
        None => (json!({}), Some(false)),
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes

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
        J::String(s) => J::String(s.replace(MOTO_ACCOUNT, super::ACCOUNT)),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), with_sandbox_account(v)))
                .collect(),
        ),
        J::Array(a) => J::Array(a.iter().map(with_sandbox_account).collect()),
        other => other.clone(),
    }
}

pub const MOTO_ACCOUNT: &str = "123456789012";

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

/// Operation outputs in botocore's service models, the authority on shapes (DESIGN.md
/// section 4), read with the virtualenv's Python: `svc:Op` → (has an output shape, members),
/// and `svc:Op:Member` / `svc:Op:Member[]` → the members of a nested structure / list element.
pub fn botocore_outputs(services: &[&str]) -> BTreeMap<String, (bool, BTreeSet<String>)> {
    let python = super::venv_tool("python", "KMS_WORKSHOP_PYTHON");
    let services: String = services.iter().map(|s| format!("\"{s}\", ")).collect();
    let script = r#"
import glob, gzip, json, os, botocore
root = os.path.join(os.path.dirname(botocore.__file__), "data")
out = {}
for svc in (SERVICES):
    path = sorted(glob.glob(os.path.join(root, svc, "*", "service-2.json*")))[-1]
    model = json.load(gzip.open(path) if path.endswith(".gz") else open(path))
    shapes = model["shapes"]
    for name, op in model["operations"].items():
        output = shapes[op["output"]["shape"]] if "output" in op else {}
        out[svc + ":" + name] = ["output" in op, list(output.get("members", {}))]
        # Members of nested structures and of list elements: `svc:Op:Member` / `svc:Op:Member[]`.
        for member, ref in output.get("members", {}).items():
            shape = shapes[ref["shape"]]
            suffix = ""
            if shape["type"] == "list":
                shape, suffix = shapes[shape["member"]["shape"]], "[]"
            if shape["type"] == "structure":
                out[svc + ":" + name + ":" + member + suffix] = [True, list(shape.get("members", {}))]
print(json.dumps(out))
"#
    .replace("SERVICES", &services);
    let out = std::process::Command::new(python)
        .args(["-c", &script])
        .output()
        .expect("run the virtualenv's python");
    assert!(
        out.status.success(),
        "reading botocore's models failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw: BTreeMap<String, (bool, Vec<String>)> =
        serde_json::from_slice(&out.stdout).expect("model outputs as JSON");
    raw.into_iter()
        .map(|(k, (has, m))| (k, (has, m.into_iter().collect())))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// One compared operation.
pub struct Check<'a> {
    /// `svc:Op …` (e.g. `sns:Publish …`): the operation's name in the service model, then a note.
    pub op: &'a str,
    /// Member paths not compared, because moto is known to differ from AWS there.
    pub ignore: &'a [&'a str],
    /// Member paths whose values (enums, fixed strings, names) must be equal.
    pub values: &'a [&'a str],
    /// Member paths holding JSON text, compared as parsed JSON.
    pub json_values: &'a [&'a str],
    /// Values of the sandbox's answer checked against AWS's documented answer (mostly where
    /// moto answers differently): (path, AWS's value; every value at the path must equal it).
    pub aws_values: Vec<(&'a str, J)>,
    /// moto is known to answer this differently from AWS (why): the sandbox's answer is
    /// checked against `expect` (an error code, or "ok") instead of against moto's.
    pub moto_differs: Option<(&'a str, &'a str)>,
}

impl<'a> Check<'a> {
    pub fn new(op: &'a str) -> Self {
        Check {
            op,
            ignore: &[],
            values: &[],
            json_values: &[],
            aws_values: Vec::new(),
            moto_differs: None,
        }
    }
    pub fn ignore(mut self, paths: &'a [&'a str]) -> Self {
        self.ignore = paths;
        self
    }
    pub fn values(mut self, paths: &'a [&'a str]) -> Self {
        self.values = paths;
        self
    }
    pub fn json_values(mut self, paths: &'a [&'a str]) -> Self {
        self.json_values = paths;
        self
    }
    pub fn aws(mut self, path: &'a str, value: J) -> Self {
        self.aws_values.push((path, value));
        self
    }
    pub fn moto_differs(mut self, why: &'a str, sandbox_expect: &'a str) -> Self {
        self.moto_differs = Some((why, sandbox_expect));
        self
    }
    /// (service, operation name in the botocore model)
    pub fn api(&self) -> (&'a str, &'a str) {
        let first = self.op.split([' ', '(']).next().unwrap_or(self.op);
        first.split_once(':').unwrap_or(("?", first))
    }
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<(String, String, String)>,
    pub failures: Vec<String>,
    pub model: BTreeMap<String, (bool, BTreeSet<String>)>,
    pub aws_only: usize,
    /// JSON text members may come URL-encoded (IAM's policy documents): see [`as_json_text`].
    pub percent_encoded_json: bool,
}

impl Report {
    /// The sandbox's answer uses only members botocore's model defines, never `null`, and an
    /// awsQuery answer has its `<OpResult>` exactly when the operation has an output shape.
    pub fn check_model(&mut self, c: &Check<'_>, sandbox: &J, result_element: Option<bool>) {
        let (svc, op) = c.api();
        if has_null(sandbox) {
            self.failures.push(format!(
                "{}: the sandbox answered with a null member: {sandbox}",
                c.op
            ));
        }
        let Some((has_output, allowed)) = self.model.get(&format!("{svc}:{op}")) else {
            self.failures.push(format!(
                "{}: no operation {svc}:{op} in botocore's model",
                c.op
            ));
            return;
        };
        if result_element == Some(false) && *has_output {
            self.failures.push(format!(
                "{}: the sandbox's answer has no <{op}Result> element; botocore (the aws CLI) needs it for an operation with an output shape",
                c.op
            ));
        }
        let mut unknown: Vec<String> = sandbox
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .filter(|k| !allowed.contains(k))
            .collect();
        // One level down: structures and list elements (maps such as Attributes are free-form).
        for (member, child) in sandbox.as_object().into_iter().flatten() {
            let (key, items): (String, Vec<&J>) = match child {
                J::Array(a) => (format!("{svc}:{op}:{member}[]"), a.iter().collect()),
                other => (format!("{svc}:{op}:{member}"), vec![other]),
            };
            let Some((_, nested)) = self.model.get(&key) else {
                continue;
            };
            for item in items {
                let extra = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                    .filter(|k| !nested.contains(*k));
                unknown.extend(extra.map(|k| format!("{member}.{k}")));
            }
        }
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            self.failures.push(format!(
                "{}: members not in botocore's model: {unknown:?}",
                c.op
            ));
        }
    }

    /// The sandbox's values that moto gets wrong, against AWS's. Returns how many were checked.
    pub fn check_aws_values(&mut self, c: &Check<'_>, sandbox: &J) -> usize {
        for (path, want) in &c.aws_values {
            let got = values_at(sandbox, path);
            if got.is_empty() || got.iter().any(|g| *g != want) {
                self.failures.push(format!(
                    "{}: {path} is {got:?} from the sandbox; AWS answers {want}",
                    c.op
                ));
            }
        }
        c.aws_values.len()
    }

    pub fn compare(&mut self, c: Check<'_>, moto: &Outcome, sandbox: &Outcome) {
        let mut aws_checked = 0;
        if let Outcome::Ok(b, result_element) = sandbox {
            self.check_model(&c, b, *result_element);
            aws_checked = self.check_aws_values(&c, b);
        }
        if let Some((why, expect)) = c.moto_differs {
            let got = sandbox.label();
            if got != expect {
                self.failures.push(format!(
                    "{}: the sandbox answered {got}, AWS answers {expect}",
                    c.op
                ));
            }
            self.aws_only += 1;
            self.rows.push((
                c.op.to_string(),
                format!("sandbox {got}; moto {}", moto.label()),
                format!("AWS only: {why}"),
            ));
            return;
        }
        match (moto, sandbox) {
            (Outcome::Err(a), Outcome::Err(b)) => {
                if a != b {
                    self.failures
                        .push(format!("{}: moto answered {a}, the sandbox {b}", c.op));
                }
                self.rows.push((
                    c.op.to_string(),
                    format!("error {b}"),
                    "error code".to_string(),
                ));
            }
            (Outcome::Ok(a, _), Outcome::Ok(b, _)) => {
                let a = with_sandbox_account(&without_nulls(a));
                let ignored = |p: &String| {
                    c.ignore.iter().any(|i| {
                        p == i
                            || p.starts_with(&format!("{i}."))
                            || p.starts_with(&format!("{i}[]"))
                    })
                };
                let sa: BTreeMap<_, _> =
                    shape(&a).into_iter().filter(|(p, _)| !ignored(p)).collect();
                let sb: BTreeMap<_, _> =
                    shape(b).into_iter().filter(|(p, _)| !ignored(p)).collect();
                let keys: BTreeSet<&String> = sa.keys().chain(sb.keys()).collect();
                for k in &keys {
                    match (sa.get(*k), sb.get(*k)) {
                        (Some(x), Some(y)) if x != y => self.failures.push(format!(
                            "{}: {k} is a {x} from moto but a {y} from the sandbox",
                            c.op
                        )),
                        (Some(_), None) => self
                            .failures
                            .push(format!("{}: {k} only in moto's answer", c.op)),
                        (None, Some(_)) => self
                            .failures
                            .push(format!("{}: {k} only in the sandbox's answer", c.op)),
                        _ => {}
                    }
                }
                for p in c.values {
                    let (x, y) = (values_at(&a, p), values_at(b, p));
                    if x != y {
                        self.failures.push(format!(
                            "{}: {p} is {x:?} from moto but {y:?} from the sandbox",
                            c.op
                        ));
                    }
                }
                for p in c.json_values {
                    let (x, y) = (
                        as_json_text(values_at(&a, p).first().copied(), self.percent_encoded_json),
                        as_json_text(values_at(b, p).first().copied(), self.percent_encoded_json),
                    );
                    if x.is_none() || x != y {
                        self.failures.push(format!(
                            "{}: {p} (JSON) is {x:?} from moto but {y:?} from the sandbox",
                            c.op
                        ));
                    }
                }
                let mut detail = format!(
                    "{} members, {} values",
                    keys.len(),
                    c.values.len() + c.json_values.len()
                );
                if aws_checked > 0 {
                    detail.push_str(&format!("; {aws_checked} checked against AWS"));
                }
                self.rows.push((c.op.to_string(), "ok".to_string(), detail));
            }
            (a, b) => {
                self.failures
                    .push(format!("{}: moto answered {a:?}, the sandbox {b:?}", c.op));
                self.rows
                    .push((c.op.to_string(), "MISMATCH".to_string(), String::new()));
            }
        }
    }

    /// A check of the two answers that is not a shape (e.g. idempotency), for both sides.
    pub fn expect(&mut self, what: &str, side: &str, ok: bool, detail: String) {
        if !ok {
            self.failures.push(format!("{what}: {side}: {detail}"));
        }
    }
}

/// Run the same request on both sides: `$call` is an expression over `side` (a `&mut Side`).
#[allow(unused_macros)]
macro_rules! both {
    ($sides:expr, |$side:ident| $call:expr) => {{
        let mut outs = Vec::new();
        for $side in $sides.iter_mut() {
            let r = $call;
            outs.push($side.outcome(&r));
        }
        let sandbox = outs.pop().unwrap();
        let moto = outs.pop().unwrap();
        (moto, sandbox)
    }};
}
#[allow(unused_imports)]
pub(crate) use both;
