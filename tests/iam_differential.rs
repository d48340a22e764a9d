//! Differential test: the same IAM requests, sent through the Rust SDK (aws-sdk-iam) to
//! `moto_server` and to the sandbox binary (`--seed empty`), must get answers of the same shape
//! (members present and their types, enum values, policy documents) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore model and the IAM API reference), that comparison is skipped with the reason next
//! to it, and the sandbox's answer is checked against AWS's documented answer instead. Every
//! answer of the sandbox is also checked against botocore's model (only members the model
//! defines, no nulls, and the `<OpResult>` element botocore needs whenever the operation has
//! an output shape). moto is started with its AWS-managed policies loaded, as every AWS account
//! has them. Needs `moto_server` and Python from the test virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{EntityType, PolicyScopeType, Tag};
use serde_json::{json, Value as J};

/// Keeps the raw body of the last response, so answers are compared as they came off the
/// wire rather than as the SDK's structs (which hide which members were present).
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Option<Vec<u8>>>>);

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
        *self.0.lock().unwrap() = body;
        Ok(())
    }
}

/// What one side answered.
#[derive(Debug, Clone)]
enum Outcome {
    /// The body as JSON (an awsQuery answer: its `…Result` element as JSON), and for awsQuery
    /// whether the `…Result` element was there at all.
    Ok(J, Option<bool>),
    Err(String),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Ok(..) => "ok".to_string(),
            Outcome::Err(code) => code.clone(),
        }
    }
}

struct Side {
    name: &'static str,
    iam: aws_sdk_iam::Client,
    capture: Capture,
    /// ARNs and ids this side handed out, by role.
    ids: BTreeMap<&'static str, String>,
}

impl Side {
    async fn new(name: &'static str, endpoint: &str) -> Side {
        let sdk: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(common::REGION))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                common::LEARNER_ACCESS_KEY,
                common::LEARNER_SECRET_KEY,
                None,
                None,
                "differential",
            ))
            .retry_config(RetryConfig::disabled())
            .load()
            .await;
        let capture = Capture::default();
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        Side {
            name,
            iam,
            capture,
            ids: BTreeMap::new(),
        }
    }

    fn id(&self, role: &str) -> String {
        self.ids
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{}: nothing recorded as '{role}'", self.name))
    }

    /// Turn an SDK result into an outcome: the raw body as JSON, or the error code.
    fn outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        r: &Result<T, SdkError<E, HttpResponse>>,
    ) -> Outcome {
        match r {
            Ok(_) => {
                let body = self.capture.0.lock().unwrap().take().unwrap_or_default();
                let (j, result_element) = parse_body(&body);
                Outcome::Ok(j, result_element)
            }
            Err(e) => Outcome::Err(match (e.code(), e.raw_response()) {
                (Some(code), _) => code.to_string(),
                (None, Some(raw)) => {
                    format!("HTTP {} without an error code", raw.status().as_u16())
                }
                (None, None) => format!("no answer ({e:?})"),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies as JSON

/// An XML element: name, child elements, text.
#[derive(Debug, Default)]
struct Node {
    name: String,
    children: Vec<Node>,
    text: String,
}

fn unescape(s: &str) -> String {
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
fn parse_xml(text: &str) -> Option<Node> {
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
fn node_json(n: &Node) -> J {
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
/// element was present.
fn parse_body(body: &[u8]) -> (J, Option<bool>) {
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

fn type_name(v: &J) -> &'static str {
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
fn shape(v: &J) -> BTreeMap<String, &'static str> {
    fn walk(prefix: &str, v: &J, out: &mut BTreeMap<String, &'static str>, depth: usize) {
        if let J::Object(m) = v {
            for (k, child) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone(), type_name(child));
                if depth < 2 {
                    match child {
                        J::Object(_) => walk(&path, child, out, depth + 1),
                        J::Array(items) => {
                            for it in items {
                                walk(&format!("{path}[]"), it, out, depth + 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out, 0);
    out
}

/// The values at a path; `[]` after a member means "each element of that list"
/// (`Rules[].Name`), and a number indexes a list (`Entries.0.ErrorCode`).
fn values_at<'a>(v: &'a J, path: &str) -> Vec<&'a J> {
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
fn without_nulls(v: &J) -> J {
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

fn has_null(v: &J) -> bool {
    match v {
        J::Null => true,
        J::Object(m) => m.values().any(has_null),
        J::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

/// moto's answers name its fixed account; the sandbox's the learner's. Values are compared
/// with moto's account replaced by the sandbox's.
fn with_sandbox_account(v: &J) -> J {
    match v {
        J::String(s) => J::String(s.replace(MOTO_ACCOUNT, common::ACCOUNT)),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), with_sandbox_account(v)))
                .collect(),
        ),
        J::Array(a) => J::Array(a.iter().map(with_sandbox_account).collect()),
        other => other.clone(),
    }
}

const MOTO_ACCOUNT: &str = "123456789012";

/// A string member holding JSON (a policy, an event pattern) as parsed JSON, so that moto's
/// re-serialisation (spaces, key order) does not count as a difference.
fn as_json_text(v: Option<&J>) -> Option<J> {
    let s = v.and_then(J::as_str)?;
    // IAM returns policy documents URL-encoded (the SDK hands them over as they are).
    serde_json::from_str::<J>(s)
        .ok()
        .or_else(|| serde_json::from_str::<J>(&percent_decode(s)).ok())
}

fn percent_decode(s: &str) -> String {
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
fn botocore_outputs() -> BTreeMap<String, (bool, BTreeSet<String>)> {
    let python = common::venv_tool("python", "KMS_WORKSHOP_PYTHON");
    let script = r#"
import glob, gzip, json, os, botocore
root = os.path.join(os.path.dirname(botocore.__file__), "data")
out = {}
for svc in ("iam",):
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
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script])
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
struct Check<'a> {
    /// `iam:Op …`: the operation's name in the service model, then a note.
    op: &'a str,
    /// Member paths not compared, because moto is known to differ from AWS there.
    ignore: &'a [&'a str],
    /// Member paths whose values (enums, fixed strings, names) must be equal.
    values: &'a [&'a str],
    /// Member paths holding JSON text, compared as parsed JSON.
    json_values: &'a [&'a str],
    /// Values of the sandbox's answer checked against AWS's documented answer (mostly where
    /// moto answers differently): (path, AWS's value; every value at the path must equal it).
    aws_values: Vec<(&'a str, J)>,
    /// moto is known to answer this differently from AWS (why): the sandbox's answer is
    /// checked against `expect` (an error code, or "ok") instead of against moto's.
    moto_differs: Option<(&'a str, &'a str)>,
}

impl<'a> Check<'a> {
    fn new(op: &'a str) -> Self {
        Check {
            op,
            ignore: &[],
            values: &[],
            json_values: &[],
            aws_values: Vec::new(),
            moto_differs: None,
        }
    }
    fn ignore(mut self, paths: &'a [&'a str]) -> Self {
        self.ignore = paths;
        self
    }
    fn values(mut self, paths: &'a [&'a str]) -> Self {
        self.values = paths;
        self
    }
    fn json_values(mut self, paths: &'a [&'a str]) -> Self {
        self.json_values = paths;
        self
    }
    fn aws(mut self, path: &'a str, value: J) -> Self {
        self.aws_values.push((path, value));
        self
    }
    fn moto_differs(mut self, why: &'a str, sandbox_expect: &'a str) -> Self {
        self.moto_differs = Some((why, sandbox_expect));
        self
    }
    /// (`iam`, operation name in the botocore model)
    fn api(&self) -> (&'a str, &'a str) {
        let first = self.op.split([' ', '(']).next().unwrap_or(self.op);
        first.split_once(':').unwrap_or(("?", first))
    }
}

#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String)>,
    failures: Vec<String>,
    model: BTreeMap<String, (bool, BTreeSet<String>)>,
    aws_only: usize,
}

impl Report {
    /// The sandbox's answer uses only members botocore's model defines, never `null`, and an
    /// awsQuery answer has its `<OpResult>` exactly when the operation has an output shape.
    fn check_model(&mut self, c: &Check<'_>, sandbox: &J, result_element: Option<bool>) {
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
    fn check_aws_values(&mut self, c: &Check<'_>, sandbox: &J) -> usize {
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

    fn compare(&mut self, c: Check<'_>, moto: &Outcome, sandbox: &Outcome) {
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
                        as_json_text(values_at(&a, p).first().copied()),
                        as_json_text(values_at(b, p).first().copied()),
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
}

/// Run the same request on both sides: `$call` is an expression over `side` (a `&mut Side`).
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
fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn doc(actions: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string()
}

fn local_arn(side: &Side, name: &str) -> String {
    let account = if side.name == "moto" {
        MOTO_ACCOUNT
    } else {
        common::ACCOUNT
    };
    format!("arn:aws:iam::{account}:policy/{name}")
}

const S3_FULL: &str = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
const IAM_READ_ONLY: &str = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";

/// AWS's CreateRole answer is the role without MaxSessionDuration and RoleLastUsed (GetRole
/// has them); moto adds both.
const MOTO_CREATE_ROLE_EXTRAS: &[&str] = &["Role.MaxSessionDuration", "Role.RoleLastUsed"];

/// moto 5.2 leaves PermissionsBoundaryUsageCount out of policies (AWS has answered it since
/// 2018) and always writes an empty `<Tags/>`, where the sandbox leaves an empty list out as
/// AWS's documented answers do.
const MOTO_POLICY_GAPS: &[&str] = &["Policy.PermissionsBoundaryUsageCount", "Policy.Tags"];

/// Roles inside an instance profile: AWS's documented answer has Path, RoleName, RoleId, Arn,
/// CreateDate and AssumeRolePolicyDocument only; moto adds the GetRole members, and an empty
/// `<Tags/>` to the profile.
const MOTO_PROFILE_EXTRAS: &[&str] = &[
    "InstanceProfile.Tags",
    "InstanceProfile.Roles[].Description",
    "InstanceProfile.Roles[].MaxSessionDuration",
    "InstanceProfile.Roles[].RoleLastUsed",
    "InstanceProfile.Roles[].Tags",
];
const MOTO_PROFILES_EXTRAS: &[&str] = &[
    "InstanceProfiles[].Tags",
    "InstanceProfiles[].Roles[].Description",
    "InstanceProfiles[].Roles[].MaxSessionDuration",
    "InstanceProfiles[].Roles[].RoleLastUsed",
    "InstanceProfiles[].Roles[].Tags",
    // moto leaves IsTruncated out here; AWS always answers it.
    "IsTruncated",
];

/// `moto_server` with the AWS-managed policies loaded (every AWS account has them; moto leaves
/// them out unless asked).
fn start_moto() -> common::MotoProc {
    let port = common::free_port();
    let child = Command::new(common::moto_bin())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    common::MotoProc { child, endpoint }
}

async fn role_operations(sides: &mut [Side; 2], report: &mut Report) {
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-role")
            .path("/diff/")
            .description("differential")
            .assume_role_policy_document(TRUST)
            .tags(tag("team", "a"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateRole")
            .ignore(MOTO_CREATE_ROLE_EXTRAS)
            .values(&[
                "Role.RoleName",
                "Role.Path",
                "Role.Arn",
                "Role.Description",
                "Role.Tags",
            ])
            .json_values(&["Role.AssumeRolePolicyDocument"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-role")
            .assume_role_policy_document(TRUST)
            .send()
            .await
    });
    report.compare(Check::new("iam:CreateRole (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-bad")
            .assume_role_policy_document("{not json")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateRole (malformed trust policy)").moto_differs(
            "moto does not check trust policies",
            "MalformedPolicyDocument",
        ),
        &m,
        &s,
    );
    // moto created that role: remove it so that both sides list the same roles.
    let _ = sides[0]
        .iam
        .delete_role()
        .role_name("diff-bad")
        .send()
        .await;
    let (m, s) = both!(sides, |side| side
        .iam
        .get_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:GetRole")
            .values(&[
                "Role.RoleName",
                "Role.Path",
                "Role.Arn",
                "Role.Description",
                "Role.MaxSessionDuration",
                "Role.Tags",
            ])
            .json_values(&["Role.AssumeRolePolicyDocument"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_role()
        .role_name("diff-missing")
        .send()
        .await);
    report.compare(Check::new("iam:GetRole (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| side.iam.list_roles().send().await);
    report.compare(
        Check::new("iam:ListRoles").values(&["Roles[].RoleName", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_roles()
        .path_prefix("/nothing/")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRoles (PathPrefix)").values(&["IsTruncated"]),
        &m,
        &s,
    );

    // Tags.
    let (m, s) = both!(sides, |side| side
        .iam
        .tag_role()
        .role_name("diff-role")
        .tags(tag("env", "dev"))
        .send()
        .await);
    report.compare(Check::new("iam:TagRole"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_role_tags()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRoleTags").values(&["Tags", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .untag_role()
        .role_name("diff-role")
        .tag_keys("team")
        .send()
        .await);
    report.compare(Check::new("iam:UntagRole"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_role_tags()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRoleTags (after untag)").values(&["Tags"]),
        &m,
        &s,
    );

    // Inline policies.
    let inline = doc(&["kms:Decrypt"]);
    let (m, s) = both!(sides, |side| {
        side.iam
            .put_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .policy_document(&inline)
            .send()
            .await
    });
    report.compare(Check::new("iam:PutRolePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetRolePolicy")
            .values(&["RoleName", "PolicyName"])
            .json_values(&["PolicyDocument"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_role_policies()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRolePolicies").values(&["PolicyNames", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteRole (inline policy)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(Check::new("iam:DeleteRolePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(Check::new("iam:GetRolePolicy (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(Check::new("iam:DeleteRolePolicy (missing)"), &m, &s);
}

async fn policy_operations(sides: &mut [Side; 2], report: &mut Report) {
    let policy_values: &[&str] = &[
        "Policy.PolicyName",
        "Policy.Path",
        "Policy.Arn",
        "Policy.DefaultVersionId",
        "Policy.AttachmentCount",
        "Policy.IsAttachable",
    ];
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-policy")
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreatePolicy")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-policy")
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(Check::new("iam:CreatePolicy (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-bad")
            .policy_document("{not json")
            .send()
            .await
    });
    report.compare(Check::new("iam:CreatePolicy (malformed)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-policy"))
        .send()
        .await);
    report.compare(
        Check::new("iam:GetPolicy")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-missing"))
        .send()
        .await);
    report.compare(Check::new("iam:GetPolicy (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        let r = side.iam.get_policy().policy_arn(S3_FULL).send().await;
        if let Ok(o) = &r {
            side.ids.insert(
                "s3-default",
                o.policy()
                    .unwrap()
                    .default_version_id()
                    .unwrap()
                    .to_string(),
            );
        }
        r
    });
    report.compare(
        Check::new("iam:GetPolicy (AWS-managed)")
            // moto 5.2 also leaves out the Description of AWS-managed policies.
            .ignore(&[
                "Policy.PermissionsBoundaryUsageCount",
                "Policy.Tags",
                "Policy.Description",
            ])
            .values(&[
                "Policy.PolicyName",
                "Policy.Path",
                "Policy.Arn",
                "Policy.IsAttachable",
                "Policy.DefaultVersionId",
            ]),
        &m,
        &s,
    );

    // Attachments.
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-holder")
            .assume_role_policy_document(TRUST)
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateRole (holder)")
            .ignore(MOTO_CREATE_ROLE_EXTRAS)
            .values(&["Role.RoleName"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-holder")
            .policy_arn(local_arn(side, "diff-policy"))
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-holder")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy (AWS-managed)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-holder")
            .policy_arn(local_arn(side, "diff-missing"))
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy (missing policy)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-missing")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy (missing role)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_attached_role_policies()
        .role_name("diff-holder")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListAttachedRolePolicies").values(&[
            "AttachedPolicies[].PolicyName",
            "AttachedPolicies[].PolicyArn",
            "IsTruncated",
        ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-policy"))
        .send()
        .await);
    report.compare(
        Check::new("iam:GetPolicy (attached)")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .list_entities_for_policy()
            .policy_arn(local_arn(side, "diff-policy"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:ListEntitiesForPolicy").values(&["PolicyRoles[].RoleName", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .list_entities_for_policy()
            .policy_arn(local_arn(side, "diff-policy"))
            .entity_filter(EntityType::User)
            .send()
            .await
    });
    report.compare(
        Check::new("iam:ListEntitiesForPolicy (EntityFilter=User)").values(&["IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await);
    report.compare(
        Check::new("iam:ListPolicies (Local)")
            .ignore(&["Policies[].PermissionsBoundaryUsageCount"])
            .values(&[
                "Policies[].PolicyName",
                "Policies[].AttachmentCount",
                "IsTruncated",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .list_policies()
            .scope(PolicyScopeType::Aws)
            .only_attached(true)
            .send()
            .await
    });
    report.compare(
        Check::new("iam:ListPolicies (AWS, OnlyAttached)")
            .ignore(&["Policies[].PermissionsBoundaryUsageCount"])
            .values(&["Policies[].PolicyName", "Policies[].Arn", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-holder")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteRole (attached policies)"), &m, &s);

    // Versions.
    for (i, set_default) in [(2, false), (3, true), (4, false), (5, false)] {
        let (m, s) = both!(sides, |side| {
            side.iam
                .create_policy_version()
                .policy_arn(local_arn(side, "diff-policy"))
                .policy_document(doc(&["kms:Encrypt", "kms:Decrypt"]))
                .set_as_default(set_default)
                .send()
                .await
        });
        let what = format!("iam:CreatePolicyVersion (v{i})");
        report.compare(
            Check::new(&what)
                .values(&["PolicyVersion.VersionId", "PolicyVersion.IsDefaultVersion"])
                // AWS returns the document from GetPolicyVersion only; moto echoes it here too.
                .ignore(&["PolicyVersion.Document"]),
            &m,
            &s,
        );
    }
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(Check::new("iam:CreatePolicyVersion (sixth)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_policy_versions()
        .policy_arn(local_arn(side, "diff-policy"))
        .send()
        .await);
    report.compare(
        Check::new("iam:ListPolicyVersions")
            // moto lists versions oldest first, with their documents and without IsTruncated;
            // AWS newest first, documents only from GetPolicyVersion, IsTruncated always.
            .ignore(&["Versions[].Document", "IsTruncated"])
            .aws("IsTruncated", json!("false"))
            .aws("Versions.0.VersionId", json!("v5")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v1")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetPolicyVersion")
            .values(&["PolicyVersion.VersionId", "PolicyVersion.IsDefaultVersion"])
            .json_values(&["PolicyVersion.Document"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v9")
            .send()
            .await
    });
    report.compare(Check::new("iam:GetPolicyVersion (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy_version()
            .policy_arn(S3_FULL)
            .version_id(side.id("s3-default"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetPolicyVersion (AWS-managed)")
            .values(&["PolicyVersion.VersionId"])
            .json_values(&["PolicyVersion.Document"]),
        &m,
        &s,
    );
    // The other AWS-managed policies the workshop (and the sandbox) has: same default version,
    // same document as moto's copy of AWS's.
    for name in [
        "AmazonEC2FullAccess",
        "AWSKeyManagementServicePowerUser",
        "AWSCloudTrail_ReadOnlyAccess",
        "AdministratorAccess",
        "AmazonSNSFullAccess",
        "AmazonSSMManagedInstanceCore",
        "IAMReadOnlyAccess",
    ] {
        let arn = format!("arn:aws:iam::aws:policy/{name}");
        let (m, s) = both!(sides, |side| {
            let r = side.iam.get_policy().policy_arn(&arn).send().await;
            if let Ok(o) = &r {
                side.ids.insert(
                    "default",
                    o.policy()
                        .unwrap()
                        .default_version_id()
                        .unwrap()
                        .to_string(),
                );
            }
            r
        });
        let what = format!("iam:GetPolicy ({name})");
        report.compare(
            Check::new(&what)
                .ignore(&[
                    "Policy.PermissionsBoundaryUsageCount",
                    "Policy.Tags",
                    "Policy.Description",
                ])
                .values(&[
                    "Policy.PolicyName",
                    "Policy.Arn",
                    "Policy.Path",
                    "Policy.DefaultVersionId",
                ]),
            &m,
            &s,
        );
        let (m, s) = both!(sides, |side| {
            side.iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(side.id("default"))
                .send()
                .await
        });
        let what = format!("iam:GetPolicyVersion ({name})");
        report.compare(
            Check::new(&what)
                .values(&["PolicyVersion.VersionId"])
                .json_values(&["PolicyVersion.Document"]),
            &m,
            &s,
        );
    }
    // The workshop's name for CloudTrail read-only access, which AWS has since replaced by
    // AWSCloudTrail_ReadOnlyAccess; accounts that attached it still see it.
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy()
            .policy_arn("arn:aws:iam::aws:policy/AWSCloudTrailReadOnlyAccess")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetPolicy (AWSCloudTrailReadOnlyAccess)").moto_differs(
            "moto's copy of AWS's list no longer has the deprecated policy",
            "ok",
        ),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| {
        side.iam
            .set_default_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v5")
            .send()
            .await
    });
    report.compare(Check::new("iam:SetDefaultPolicyVersion"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v5")
            .send()
            .await
    });
    report.compare(Check::new("iam:DeletePolicyVersion (default)"), &m, &s);
    for v in ["v1", "v2", "v3", "v4"] {
        let (m, s) = both!(sides, |side| {
            side.iam
                .delete_policy_version()
                .policy_arn(local_arn(side, "diff-policy"))
                .version_id(v)
                .send()
                .await
        });
        report.compare(
            Check::new(&format!("iam:DeletePolicyVersion ({v})")),
            &m,
            &s,
        );
    }

    // Delete conflicts moto does not raise: each on a policy of its own, since moto deletes it.
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_policy()
            .policy_arn(local_arn(side, "diff-policy"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:DeletePolicy (attached)").moto_differs(
            "moto deletes a policy that is still attached; AWS refuses",
            "DeleteConflict",
        ),
        &m,
        &s,
    );
    for side in sides.iter_mut() {
        let arn = local_arn(side, "diff-versions");
        side.iam
            .create_policy()
            .policy_name("diff-versions")
            .policy_document(doc(&["s3:GetObject"]))
            .send()
            .await
            .unwrap();
        side.iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc(&["s3:*"]))
            .send()
            .await
            .unwrap();
    }
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_policy()
        .policy_arn(local_arn(side, "diff-versions"))
        .send()
        .await);
    report.compare(
        Check::new("iam:DeletePolicy (non-default versions)").moto_differs(
            "moto deletes a policy that still has other versions; AWS refuses",
            "DeleteConflict",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy_version()
            .policy_arn(IAM_READ_ONLY)
            .policy_document(doc(&["iam:Get*"]))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreatePolicyVersion (AWS-managed)").moto_differs(
            "moto lets an account add versions to an AWS-managed policy; AWS refuses",
            "AccessDenied",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_policy()
        .policy_arn(IAM_READ_ONLY)
        .send()
        .await);
    report.compare(
        Check::new("iam:DeletePolicy (AWS-managed)").moto_differs(
            "moto lets an account delete an AWS-managed policy; AWS refuses",
            "AccessDenied",
        ),
        &m,
        &s,
    );

    // Detach, then delete for real (on the sandbox; moto has deleted it already).
    let (m, s) = both!(sides, |side| {
        side.iam
            .detach_role_policy()
            .role_name("diff-holder")
            .policy_arn(local_arn(side, "diff-missing"))
            .send()
            .await
    });
    report.compare(Check::new("iam:DetachRolePolicy (not attached)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-fresh")
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreatePolicy (fresh)")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_policy()
        .policy_arn(local_arn(side, "diff-fresh"))
        .send()
        .await);
    report.compare(Check::new("iam:DeletePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-fresh"))
        .send()
        .await);
    report.compare(Check::new("iam:GetPolicy (deleted)"), &m, &s);
}

async fn instance_profile_operations(sides: &mut [Side; 2], report: &mut Report) {
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_instance_profile()
            .instance_profile_name("diff-profile")
            .path("/diff/")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateInstanceProfile")
            .ignore(MOTO_PROFILE_EXTRAS)
            .values(&[
                "InstanceProfile.InstanceProfileName",
                "InstanceProfile.Path",
                "InstanceProfile.Arn",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .create_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(Check::new("iam:CreateInstanceProfile (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .add_role_to_instance_profile()
            .instance_profile_name("diff-profile")
            .role_name("diff-role")
            .send()
            .await
    });
    report.compare(Check::new("iam:AddRoleToInstanceProfile"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .add_role_to_instance_profile()
            .instance_profile_name("diff-profile")
            .role_name("diff-holder")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:AddRoleToInstanceProfile (second role)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(
        Check::new("iam:GetInstanceProfile")
            .ignore(MOTO_PROFILE_EXTRAS)
            .values(&[
                "InstanceProfile.InstanceProfileName",
                "InstanceProfile.Roles[].RoleName",
                "InstanceProfile.Roles[].Path",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_instance_profile()
        .instance_profile_name("diff-missing")
        .send()
        .await);
    report.compare(Check::new("iam:GetInstanceProfile (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| side.iam.list_instance_profiles().send().await);
    report.compare(
        Check::new("iam:ListInstanceProfiles")
            .ignore(MOTO_PROFILES_EXTRAS)
            .values(&["InstanceProfiles[].InstanceProfileName"])
            .aws("IsTruncated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_instance_profiles_for_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListInstanceProfilesForRole")
            .ignore(MOTO_PROFILES_EXTRAS)
            .values(&["InstanceProfiles[].InstanceProfileName"])
            .aws("IsTruncated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(
        Check::new("iam:DeleteInstanceProfile (with a role)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:DeleteRole (in an instance profile)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .remove_role_from_instance_profile()
            .instance_profile_name("diff-profile")
            .role_name("diff-role")
            .send()
            .await
    });
    report.compare(Check::new("iam:RemoveRoleFromInstanceProfile"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteInstanceProfile"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(Check::new("iam:GetInstanceProfile (deleted)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteRole"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(Check::new("iam:GetRole (deleted)"), &m, &s);
}

async fn user_operations(sides: &mut [Side; 2], report: &mut Report) {
    let (m, s) = both!(sides, |side| side
        .iam
        .create_user()
        .user_name("diff-user")
        .tags(tag("team", "a"))
        .send()
        .await);
    report.compare(
        Check::new("iam:CreateUser").values(&[
            "User.UserName",
            "User.Path",
            "User.Arn",
            "User.Tags",
        ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .create_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(Check::new("iam:CreateUser (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:GetUser").values(&["User.UserName", "User.Path", "User.Arn", "User.Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_user()
        .user_name("diff-missing")
        .send()
        .await);
    report.compare(Check::new("iam:GetUser (missing)"), &m, &s);
    // Who the caller is differs (moto does not know the learner's key), the shape must not.
    let (m, s) = both!(sides, |side| side.iam.get_user().send().await);
    report.compare(Check::new("iam:GetUser (the caller)"), &m, &s);
    let (m, s) = both!(sides, |side| side.iam.list_users().send().await);
    report.compare(
        Check::new("iam:ListUsers").values(&["Users[].UserName", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        let r = side
            .iam
            .create_access_key()
            .user_name("diff-user")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("key", o.access_key().unwrap().access_key_id().to_string());
        }
        r
    });
    report.compare(
        Check::new("iam:CreateAccessKey").values(&["AccessKey.UserName", "AccessKey.Status"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_access_keys()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListAccessKeys")
            // moto leaves IsTruncated out here; AWS always answers it.
            .ignore(&["IsTruncated"])
            .values(&["AccessKeyMetadata[].UserName", "AccessKeyMetadata[].Status"])
            .aws("IsTruncated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_user_policy()
            .user_name("diff-user")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachUserPolicy"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_attached_user_policies()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListAttachedUserPolicies").values(&[
            "AttachedPolicies[].PolicyName",
            "AttachedPolicies[].PolicyArn",
        ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteUser (attached policy)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .detach_user_policy()
            .user_name("diff-user")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:DetachUserPolicy"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:DeleteUser (access key)").moto_differs(
            "moto deletes a user that still has access keys; AWS refuses",
            "DeleteConflict",
        ),
        &m,
        &s,
    );
    let key = sides[1].id("key");
    let r = sides[1]
        .iam
        .delete_access_key()
        .user_name("diff-user")
        .access_key_id(&key)
        .send()
        .await;
    let s = sides[1].outcome(&r);
    report.compare(
        Check::new("iam:DeleteAccessKey")
            .moto_differs("moto has already deleted the user and its keys", "ok"),
        &Outcome::Err("not sent".into()),
        &s,
    );
    let r = sides[1]
        .iam
        .delete_user()
        .user_name("diff-user")
        .send()
        .await;
    let s = sides[1].outcome(&r);
    report.compare(
        Check::new("iam:DeleteUser").moto_differs("moto has already deleted the user", "ok"),
        &Outcome::Err("not sent".into()),
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(Check::new("iam:GetUser (deleted)"), &m, &s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_answers_match_moto() {
    let moto_proc = start_moto();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new("moto", &moto_proc.endpoint).await,
        Side::new("sandbox", &sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_outputs(),
        ..Report::default()
    };

    role_operations(&mut sides, &mut report).await;
    policy_operations(&mut sides, &mut report).await;
    instance_profile_operations(&mut sides, &mut report).await;
    user_operations(&mut sides, &mut report).await;

    println!("\ndifferential: moto_server vs the sandbox, IAM (Rust SDK, same requests)");
    println!("{:<56} {:<44} compared", "operation", "outcome");
    for (op, outcome, detail) in &report.rows {
        println!("{op:<56} {outcome:<44} {detail}");
    }
    println!(
        "{} operations: {} compared with moto, {} checked against AWS's documented answer only; {} differences",
        report.rows.len(),
        report.rows.len() - report.aws_only,
        report.aws_only,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "moto and the sandbox (or AWS) differ:\n  {}",
        report.failures.join("\n  ")
    );
}
