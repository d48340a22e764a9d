//! Differential test: the same SNS and EventBridge management requests, sent through the Rust
//! SDK to `moto_server` and to the sandbox binary (`--seed empty`), must get answers of the same
//! shape (members present and their types, map keys, enum values) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore models and the SNS / EventBridge API references), that comparison is skipped with
//! the reason next to it, and the sandbox's answer is checked against AWS's documented answer
//! instead. Every answer of the sandbox is also checked against botocore's model (only members
//! the model defines, no nulls, and for awsQuery the `<OpResult>` element that botocore needs
//! whenever the operation has an output shape). Needs `moto_server` and Python from the test
//! virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, RuleState, Tag as EbTag, Target};
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_sns::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::Tag as SnsTag;
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
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
    capture: Capture,
    /// ARNs and ids this side handed out, by role.
    ids: BTreeMap<&'static str, String>,
}

impl Side {
    async fn new(name: &'static str, endpoint: &str) -> Side {
        let sdk: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(common::REGION))
            .credentials_provider(aws_sdk_sns::config::Credentials::new(
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
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        let events = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        Side {
            name,
            sns,
            events,
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
    v.and_then(J::as_str)
        .and_then(|s| serde_json::from_str::<J>(s).ok())
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
for svc in ("sns", "events"):
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
    /// `sns:Op …` or `events:Op …`: the operation's name in the service model, then a note.
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
    /// (`sns` or `events`, operation name in the botocore model)
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

    /// A check of the two answers that is not a shape (e.g. idempotency), for both sides.
    fn expect(&mut self, what: &str, side: &str, ok: bool, detail: String) {
        if !ok {
            self.failures.push(format!("{what}: {side}: {detail}"));
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

fn sns_tag(k: &str, v: &str) -> SnsTag {
    SnsTag::builder().key(k).value(v).build().unwrap()
}

fn eb_tag(k: &str, v: &str) -> EbTag {
    EbTag::builder().key(k).value(v).build().unwrap()
}

/// A topic policy that also lets EventBridge publish (the workshop's statement).
fn topic_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["SNS:GetTopicAttributes", "SNS:Publish", "SNS:Subscribe"], "Resource": topic_arn,
             "Condition": {"StringEquals": {"AWS:SourceOwner": account}}},
            {"Sid": "AllowEventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": "sns:Publish", "Resource": topic_arn}
        ]
    })
    .to_string()
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

const KMS_PATTERN: &str = r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["GenerateDataKey","Decrypt"]}}"#;

fn kms_event(event_name: &str) -> String {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms", "account": "111122223333", "time": "2026-11-28T17:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"eventSource": "kms.amazonaws.com", "eventName": event_name}
    })
    .to_string()
}

async fn sns_operations(sides: &mut [Side; 2], report: &mut Report) {
    // CreateTopic with a DisplayName; the same request again returns the same topic.
    let (m, s) = both!(sides, |side| {
        let r = side
            .sns
            .create_topic()
            .name("differential")
            .attributes("DisplayName", "Differential")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("topic", o.topic_arn().unwrap_or_default().to_string());
        }
        r
    });
    report.compare(Check::new("sns:CreateTopic"), &m, &s);
    let (m, s) = both!(sides, |side| {
        let r = side
            .sns
            .create_topic()
            .name("differential")
            .attributes("DisplayName", "Differential")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("topic again", o.topic_arn().unwrap_or_default().to_string());
        }
        r
    });
    report.compare(
        Check::new("sns:CreateTopic (again, same attributes)"),
        &m,
        &s,
    );
    for side in sides.iter() {
        let (a, b) = (side.id("topic"), side.id("topic again"));
        report.expect(
            "sns:CreateTopic (again)",
            side.name,
            a == b,
            format!("a second topic {b} (first {a})"),
        );
    }

    let (m, s) = both!(sides, |side| side.sns.list_topics().send().await);
    report.compare(Check::new("sns:ListTopics"), &m, &s);

    // Attributes: the same keys on both sides, except that moto 5.2 lists an empty
    // DeliveryPolicy, which AWS leaves out until a delivery policy is set.
    const TOPIC_ATTR_GAPS: &[&str] = &["Attributes.DeliveryPolicy"];
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:GetTopicAttributes")
            .ignore(TOPIC_ATTR_GAPS)
            .values(&[
                "Attributes.DisplayName",
                "Attributes.SubscriptionsConfirmed",
                "Attributes.SubscriptionsPending",
                "Attributes.SubscriptionsDeleted",
            ])
            .json_values(&["Attributes.Policy"]),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| {
        side.sns
            .set_topic_attributes()
            .topic_arn(side.id("topic"))
            .attribute_name("DisplayName")
            .attribute_value("KMS alerts")
            .send()
            .await
    });
    report.compare(Check::new("sns:SetTopicAttributes (DisplayName)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        let arn = side.id("topic");
        side.sns
            .set_topic_attributes()
            .topic_arn(&arn)
            .attribute_name("Policy")
            .attribute_value(topic_policy(&arn, &account_of(&arn)))
            .send()
            .await
    });
    report.compare(Check::new("sns:SetTopicAttributes (Policy)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:GetTopicAttributes (after set)")
            .ignore(TOPIC_ATTR_GAPS)
            .values(&["Attributes.DisplayName"])
            .aws("Attributes.DisplayName", json!("KMS alerts")),
        &m,
        &s,
    );
    // The policy as set, modulo the account in its ARNs (moto's is 123456789012).
    for (side, out) in sides.iter().zip([&m, &s]) {
        let arn = side.id("topic");
        let want = serde_json::from_str::<J>(&topic_policy(&arn, &account_of(&arn))).unwrap();
        let got = match out {
            Outcome::Ok(j, _) => as_json_text(values_at(j, "Attributes.Policy").first().copied()),
            Outcome::Err(_) => None,
        };
        report.expect(
            "sns:GetTopicAttributes (Policy)",
            side.name,
            got.as_ref() == Some(&want),
            format!("Policy is {got:?}"),
        );
    }

    // Subscriptions. moto 5.2 confirms email subscriptions at once; on AWS they stay
    // PendingConfirmation until the link in the email is followed, Subscribe answers
    // "pending confirmation" unless ReturnSubscriptionArn is set, and the listings show
    // "PendingConfirmation" in place of the ARN.
    let (m, s) = both!(sides, |side| {
        side.sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("email")
            .endpoint("learner@example.com")
            .send()
            .await
    });
    report.compare(
        Check::new("sns:Subscribe (email)").aws("SubscriptionArn", json!("pending confirmation")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        let r = side
            .sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("email")
            .endpoint("security@example.com")
            .return_subscription_arn(true)
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids.insert(
                "subscription",
                o.subscription_arn().unwrap_or_default().to_string(),
            );
        }
        r
    });
    report.compare(
        Check::new("sns:Subscribe (email, ReturnSubscriptionArn)"),
        &m,
        &s,
    );
    for side in sides.iter() {
        let (topic, sub) = (side.id("topic"), side.id("subscription"));
        report.expect(
            "sns:Subscribe (ReturnSubscriptionArn)",
            side.name,
            sub.strip_prefix(&format!("{topic}:"))
                .is_some_and(|id| id.len() == 36),
            format!("{sub} is not <topic ARN>:<uuid>"),
        );
    }

    let (m, s) = both!(sides, |side| side.sns.list_subscriptions().send().await);
    report.compare(
        Check::new("sns:ListSubscriptions")
            .values(&["Subscriptions[].Protocol"])
            .aws(
                "Subscriptions[].SubscriptionArn",
                json!("PendingConfirmation"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListSubscriptionsByTopic")
            .values(&["Subscriptions[].Protocol"])
            .aws(
                "Subscriptions[].SubscriptionArn",
                json!("PendingConfirmation"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.sns
            .get_subscription_attributes()
            .subscription_arn(side.id("subscription"))
            .send()
            .await
    });
    report.compare(
        Check::new("sns:GetSubscriptionAttributes (pending)")
            .values(&[
                "Attributes.Protocol",
                "Attributes.Endpoint",
                "Attributes.RawMessageDelivery",
            ])
            .aws("Attributes.PendingConfirmation", json!("true"))
            .aws("Attributes.ConfirmationWasAuthenticated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:GetTopicAttributes (two pending)")
            .ignore(TOPIC_ATTR_GAPS)
            .aws("Attributes.SubscriptionsPending", json!("2"))
            .aws("Attributes.SubscriptionsConfirmed", json!("0")),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| {
        side.sns
            .publish()
            .topic_arn(side.id("topic"))
            .subject("Differential")
            .message("hello from the test")
            .send()
            .await
    });
    report.compare(Check::new("sns:Publish"), &m, &s);

    // Tags.
    let (m, s) = both!(sides, |side| {
        side.sns
            .tag_resource()
            .resource_arn(side.id("topic"))
            .tags(sns_tag("project", "kmsworkshop"))
            .tags(sns_tag("team", "a"))
            .send()
            .await
    });
    report.compare(Check::new("sns:TagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .list_tags_for_resource()
        .resource_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListTagsForResource").values(&["Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.sns
            .untag_resource()
            .resource_arn(side.id("topic"))
            .tag_keys("team")
            .send()
            .await
    });
    report.compare(Check::new("sns:UntagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .list_tags_for_resource()
        .resource_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListTagsForResource (after untag)").values(&["Tags"]),
        &m,
        &s,
    );

    // Errors.
    let (m, s) = both!(sides, |side| {
        side.sns
            .get_topic_attributes()
            .topic_arn(format!("{}-missing", side.id("topic")))
            .send()
            .await
    });
    report.compare(Check::new("sns:GetTopicAttributes (missing topic)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("carrier-pigeon")
            .endpoint("learner@example.com")
            .send()
            .await
    });
    report.compare(
        Check::new("sns:Subscribe (invalid protocol)").moto_differs(
            "moto 5.2 accepts any protocol string; AWS refuses it",
            "InvalidParameter",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("email")
            .endpoint("not an email")
            .send()
            .await
    });
    report.compare(
        Check::new("sns:Subscribe (invalid email)").moto_differs(
            "moto 5.2 does not validate email endpoints; AWS refuses them",
            "InvalidParameter",
        ),
        &m,
        &s,
    );

    // Unsubscribe and delete.
    let (m, s) = both!(sides, |side| side
        .sns
        .unsubscribe()
        .subscription_arn(side.id("subscription"))
        .send()
        .await);
    report.compare(Check::new("sns:Unsubscribe"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListSubscriptionsByTopic (after unsubscribe)")
            // moto also kept the subscriptions with an invalid protocol and email it accepted.
            .aws("Subscriptions[].Endpoint", json!("learner@example.com"))
            .aws(
                "Subscriptions[].SubscriptionArn",
                json!("PendingConfirmation"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .sns
        .delete_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(Check::new("sns:DeleteTopic"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .delete_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(Check::new("sns:DeleteTopic (already deleted)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(Check::new("sns:GetTopicAttributes (deleted topic)"), &m, &s);
    let (m, s) = both!(sides, |side| side.sns.list_topics().send().await);
    report.compare(Check::new("sns:ListTopics (after delete)"), &m, &s);
}

async fn eventbridge_operations(sides: &mut [Side; 2], report: &mut Report) {
    // A topic to point targets at.
    for side in sides.iter_mut() {
        let arn = side
            .sns
            .create_topic()
            .name("differential-target")
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
        side.ids.insert("target topic", arn);
    }

    // Rules: one ENABLED, one receiving read-only management events as well.
    let (m, s) = both!(sides, |side| {
        let r = side
            .events
            .put_rule()
            .name("differential-kms")
            .event_pattern(KMS_PATTERN)
            .state(RuleState::Enabled)
            .description("KMS data key use")
            .tags(eb_tag("project", "kmsworkshop"))
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("rule", o.rule_arn().unwrap_or_default().to_string());
        }
        r
    });
    report.compare(Check::new("events:PutRule"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.events
            .put_rule()
            .name("differential-management")
            .event_pattern(r#"{"source":["aws.kms"]}"#)
            .state(RuleState::EnabledWithAllCloudtrailManagementEvents)
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutRule (ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)"),
        &m,
        &s,
    );

    const RULE_VALUES: &[&str] = &["Name", "State", "Description", "EventBusName", "CreatedBy"];
    // moto 5.2 lists each rule with CreatedBy, which botocore's `Rule` shape (ListRules) lacks.
    const MOTO_RULE_GAPS: &[&str] = &["Rules[].CreatedBy"];
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule")
            .values(RULE_VALUES)
            .json_values(&["EventPattern"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-management")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule (all management events)")
            .values(RULE_VALUES)
            .json_values(&["EventPattern"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rules()
        .name_prefix("differential-")
        .send()
        .await);
    report.compare(
        Check::new("events:ListRules (NamePrefix)")
            .ignore(MOTO_RULE_GAPS)
            .values(&["Rules[].Name", "Rules[].State", "Rules[].EventBusName"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rules()
        .name_prefix("nothing-")
        .send()
        .await);
    report.compare(
        Check::new("events:ListRules (NamePrefix, no match)").values(&["Rules"]),
        &m,
        &s,
    );

    // Disable and enable.
    let (m, s) = both!(sides, |side| side
        .events
        .disable_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DisableRule"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule (disabled)")
            .values(RULE_VALUES)
            .aws("State", json!("DISABLED")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .enable_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:EnableRule"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule (enabled)")
            .values(RULE_VALUES)
            .aws("State", json!("ENABLED")),
        &m,
        &s,
    );

    // Targets.
    let (m, s) = both!(sides, |side| {
        side.events
            .put_targets()
            .rule("differential-kms")
            .targets(
                Target::builder()
                    .id("kms-alerts")
                    .arn(side.id("target topic"))
                    .build()
                    .unwrap(),
            )
            .targets(
                Target::builder()
                    .id("fixed-input")
                    .arn(side.id("target topic"))
                    .input(r#"{"alert":"kms"}"#)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutTargets").values(&["FailedEntryCount", "FailedEntries"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_targets_by_rule()
        .rule("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:ListTargetsByRule").values(&["Targets[].Id", "Targets[].Input"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rule_names_by_target()
        .target_arn(side.id("target topic"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListRuleNamesByTarget").values(&["RuleNames"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .delete_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DeleteRule (with targets)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_targets_by_rule()
        .rule("differential-missing")
        .send()
        .await);
    report.compare(
        Check::new("events:ListTargetsByRule (missing rule)"),
        &m,
        &s,
    );

    // Patterns and events. moto 5.2 does not implement TestEventPattern (it answers 200 with an
    // empty body), so the sandbox is checked against AWS's answers only.
    let (m, s) = both!(sides, |side| {
        side.events
            .test_event_pattern()
            .event_pattern(KMS_PATTERN)
            .event(kms_event("GenerateDataKey"))
            .send()
            .await
    });
    report.compare(
        Check::new("events:TestEventPattern (match)")
            .moto_differs("not implemented by moto 5.2 (empty answer)", "ok")
            .aws("Result", json!(true)),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .test_event_pattern()
            .event_pattern(KMS_PATTERN)
            .event(kms_event("Encrypt"))
            .send()
            .await
    });
    report.compare(
        Check::new("events:TestEventPattern (no match)")
            .moto_differs("not implemented by moto 5.2 (empty answer)", "ok")
            .aws("Result", json!(false)),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .test_event_pattern()
            .event_pattern(r#"{"source":"aws.kms"}"#)
            .event(kms_event("Encrypt"))
            .send()
            .await
    });
    report.compare(
        Check::new("events:TestEventPattern (invalid pattern)").moto_differs(
            "not implemented by moto 5.2 (empty answer)",
            "InvalidEventPatternException",
        ),
        &m,
        &s,
    );

    // PutEvents with a custom source matches no rule (moto 5.2 fails with HTTP 500 when an event
    // reaches a rule with an SNS target, which it cannot deliver to).
    let (m, s) = both!(sides, |side| {
        side.events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source("workshop.differential")
                    .detail_type("Differential")
                    .detail(r#"{"step":1}"#)
                    .build(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutEvents").values(&["FailedEntryCount"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source("aws.kms")
                    .detail_type("Differential")
                    .detail("{}")
                    .build(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutEvents (aws.* source)")
            .moto_differs(
                "moto 5.2 accepts any source; AWS refuses aws.* sources entry by entry",
                "ok",
            )
            .aws("FailedEntryCount", json!(1))
            .aws(
                "Entries[].ErrorCode",
                json!("NotAuthorizedForSourceException"),
            ),
        &m,
        &s,
    );

    // Tags.
    let (m, s) = both!(sides, |side| side
        .events
        .list_tags_for_resource()
        .resource_arn(side.id("rule"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListTagsForResource (tags from PutRule)").values(&["Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .tag_resource()
            .resource_arn(side.id("rule"))
            .tags(eb_tag("team", "a"))
            .send()
            .await
    });
    report.compare(Check::new("events:TagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_tags_for_resource()
        .resource_arn(side.id("rule"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListTagsForResource").values(&["Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .untag_resource()
            .resource_arn(side.id("rule"))
            .tag_keys("project")
            .send()
            .await
    });
    report.compare(Check::new("events:UntagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_tags_for_resource()
        .resource_arn(side.id("rule"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListTagsForResource (after untag)").values(&["Tags"]),
        &m,
        &s,
    );

    // Errors.
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-missing")
        .send()
        .await);
    report.compare(Check::new("events:DescribeRule (missing rule)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .enable_rule()
        .name("differential-missing")
        .send()
        .await);
    report.compare(Check::new("events:EnableRule (missing rule)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.events
            .put_rule()
            .name("differential-bad")
            .event_pattern(r#"{"source":"aws.kms"}"#)
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutRule (pattern leaf not an array)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .put_rule()
        .name("differential-bad")
        .event_pattern("not json")
        .send()
        .await);
    report.compare(Check::new("events:PutRule (pattern not JSON)"), &m, &s);

    // Remove the targets, then the rules.
    let (m, s) = both!(sides, |side| {
        side.events
            .remove_targets()
            .rule("differential-kms")
            .ids("kms-alerts")
            .ids("fixed-input")
            .send()
            .await
    });
    report.compare(
        Check::new("events:RemoveTargets").values(&["FailedEntryCount", "FailedEntries"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_targets_by_rule()
        .rule("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:ListTargetsByRule (after remove)").values(&["Targets"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rule_names_by_target()
        .target_arn(side.id("target topic"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListRuleNamesByTarget (after remove)").values(&["RuleNames"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .delete_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DeleteRule"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .delete_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DeleteRule (already deleted)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DescribeRule (deleted rule)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_rules()
        .name_prefix("differential-")
        .send()
        .await);
    report.compare(
        Check::new("events:ListRules (after delete)")
            .ignore(MOTO_RULE_GAPS)
            .values(&["Rules[].Name"]),
        &m,
        &s,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_and_eventbridge_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new("moto", &moto_proc.endpoint).await,
        Side::new("sandbox", &sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_outputs(),
        ..Report::default()
    };

    sns_operations(&mut sides, &mut report).await;
    eventbridge_operations(&mut sides, &mut report).await;

    println!(
        "\ndifferential: moto_server vs the sandbox, SNS and EventBridge (Rust SDK, same requests)"
    );
    println!("{:<64} {:<44} compared", "operation", "outcome");
    for (op, outcome, detail) in &report.rows {
        println!("{op:<64} {outcome:<44} {detail}");
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
