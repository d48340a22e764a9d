//! The comparison of two answers: [`Check`] says what one operation's comparison leaves out and
//! what it compares by value, [`Report`] compares moto's answer with the sandbox's, checks the
//! sandbox's against botocore's model ([`Model`]) and AWS's documented values, and prints the
//! table of compared operations.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as J;

use super::shape::*;
use super::Outcome;

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

/// Run a Python `script` in the virtualenv (whose botocore holds AWS's service models, the
/// authority on shapes: DESIGN.md section 4) and read what it prints as JSON.
fn botocore<T: serde::de::DeserializeOwned>(script: &str) -> T {
    let python = crate::common::venv_tool("python", "KMS_WORKSHOP_PYTHON");
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .output()
        .expect("run the virtualenv's python");
    assert!(
        out.status.success(),
        "reading botocore's models failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("botocore's model as JSON")
}

/// The part of botocore's models a [`Report`] checks the sandbox's answers against.
pub enum Model {
    /// `svc:Op` → (has an output shape, members), and `svc:Op:Member` / `svc:Op:Member[]` →
    /// the members of a nested structure / list element ([`botocore_outputs`]).
    Members(BTreeMap<String, (bool, BTreeSet<String>)>),
    /// `Op` → every member path its output may have, by `locationName` as the ec2Query
    /// protocol writes them ([`botocore_ec2_paths`]).
    Paths(BTreeMap<String, BTreeSet<String>>),
}

impl Default for Model {
    fn default() -> Self {
        Model::Members(BTreeMap::new())
    }
}

/// Operation outputs of `services` in botocore's service models ([`Model::Members`]).
pub fn botocore_outputs(services: &[&str]) -> Model {
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
    let raw: BTreeMap<String, (bool, Vec<String>)> = botocore(&script);
    Model::Members(
        raw.into_iter()
            .map(|(k, (has, m))| (k, (has, m.into_iter().collect())))
            .collect(),
    )
}

/// Every member path each EC2 operation's output may have ([`Model::Paths`]).
pub fn botocore_ec2_paths() -> Model {
    let script = r#"
import glob, gzip, json, os, botocore
root = os.path.join(os.path.dirname(botocore.__file__), "data")
path = sorted(glob.glob(os.path.join(root, "ec2", "*", "service-2.json*")))[-1]
model = json.load(gzip.open(path) if path.endswith(".gz") else open(path))
shapes = model["shapes"]
def walk(name, prefix, depth, out):
    sh = shapes[name]
    if sh["type"] == "structure" and depth < 6:
        for m, spec in sh["members"].items():
            p = (prefix + "." if prefix else "") + spec.get("locationName", m)
            out.add(p)
            walk(spec["shape"], p, depth + 1, out)
    elif sh["type"] == "list" and depth < 6:
        walk(sh["member"]["shape"], prefix + "[]", depth, out)
out = {}
for name, op in model["operations"].items():
    paths = set()
    if "output" in op:
        walk(op["output"]["shape"], "", 0, paths)
    out[name] = sorted(paths)
print(json.dumps(out))
"#;
    let raw: BTreeMap<String, Vec<String>> = botocore(script);
    Model::Paths(
        raw.into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// One compared operation.
pub struct Check<'a> {
    /// `svc:Op …` (e.g. `sns:Publish …`; EC2's without `svc:`): the operation's name in the
    /// service model, then a note.
    pub op: &'a str,
    /// Member paths not compared, because moto is known to differ from AWS there.
    pub ignore: Vec<&'a str>,
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
            ignore: Vec::new(),
            values: &[],
            json_values: &[],
            aws_values: Vec::new(),
            moto_differs: None,
        }
    }
    /// Leave these paths out too (each call adds to the ones before).
    pub fn ignore(mut self, paths: &[&'a str]) -> Self {
        self.ignore.extend_from_slice(paths);
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
    /// (service, operation name in the botocore model); the service is `?` when `op` names
    /// none (EC2's checks).
    pub fn api(&self) -> (&'a str, &'a str) {
        let first = self.op.split([' ', '(']).next().unwrap_or(self.op);
        first.split_once(':').unwrap_or(("?", first))
    }
    fn ignored(&self, path: &str) -> bool {
        self.ignore.iter().any(|i| {
            path == *i || path.starts_with(&format!("{i}.")) || path.starts_with(&format!("{i}[]"))
        })
    }
}

/// The compared operations, the differences found, and what the sandbox is checked against.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<(String, String, String)>,
    pub failures: Vec<String>,
    pub model: Model,
    pub aws_only: usize,
    /// JSON text members may come URL-encoded (IAM's policy documents): see [`as_json_text`].
    pub percent_encoded_json: bool,
}

impl Report {
    pub fn new(model: Model) -> Report {
        Report {
            model,
            ..Report::default()
        }
    }

    /// How deep below the top-level members answers are compared: EC2's answers nest their
    /// instances two levels deeper (`reservationSet[].instancesSet[]…`).
    fn depth(&self) -> usize {
        match self.model {
            Model::Members(_) => 2,
            Model::Paths(_) => 4,
        }
    }

    /// The sandbox's answer uses only members botocore's model defines and never `null`.
    pub fn check_model(&mut self, c: &Check<'_>, sandbox: &J, result_element: Option<bool>) {
        if has_null(sandbox) {
            self.failures.push(format!(
                "{}: the sandbox answered with a null member: {sandbox}",
                c.op
            ));
        }
        let unknown = match &self.model {
            Model::Members(model) => {
                unknown_members(model, c, sandbox, result_element, &mut self.failures)
            }
            Model::Paths(model) => unknown_paths(model, c, sandbox, &mut self.failures),
        };
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
                let mut detail = self.compare_answers(&c, a, b);
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

    /// Two successful answers: the same member paths of the same types (but `ignore`d ones),
    /// equal `values` and `json_values`. Returns the row's detail.
    fn compare_answers(&mut self, c: &Check<'_>, moto: &J, b: &J) -> String {
        let a = with_sandbox_account(&without_nulls(moto));
        let depth = self.depth();
        let shape_of = |v: &J| -> BTreeMap<String, &'static str> {
            shape_to_depth(v, depth)
                .into_iter()
                .filter(|(p, _)| !c.ignored(p))
                .collect()
        };
        let (sa, sb) = (shape_of(&a), shape_of(b));
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
        format!(
            "{} members, {} values",
            keys.len(),
            c.values.len() + c.json_values.len()
        )
    }

    /// A check of the two answers that is not a shape (e.g. idempotency), for both sides.
    pub fn expect(&mut self, what: &str, side: &str, ok: bool, detail: String) {
        if !ok {
            self.failures.push(format!("{what}: {side}: {detail}"));
        }
    }

    /// Print the table (`title`, column `widths` as [`print_summary`]'s) and fail the test
    /// when anything differed.
    pub fn finish(&self, title: &str, widths: (usize, usize)) {
        print_summary(
            title,
            widths,
            &self.rows,
            self.aws_only,
            self.failures.len(),
        );
        assert!(
            self.failures.is_empty(),
            "moto and the sandbox (or AWS) differ:\n  {}",
            self.failures.join("\n  ")
        );
    }
}

/// [`Model::Members`]: the sandbox's top-level members and those one level down (structures
/// and list elements; maps such as Attributes are free-form) that the model does not define.
/// An awsQuery answer must have its `<OpResult>` exactly when the operation has an output
/// shape (botocore, the aws CLI, needs it).
fn unknown_members(
    model: &BTreeMap<String, (bool, BTreeSet<String>)>,
    c: &Check<'_>,
    sandbox: &J,
    result_element: Option<bool>,
    failures: &mut Vec<String>,
) -> Vec<String> {
    let (svc, op) = c.api();
    let Some((has_output, allowed)) = model.get(&format!("{svc}:{op}")) else {
        failures.push(format!(
            "{}: no operation {svc}:{op} in botocore's model",
            c.op
        ));
        return Vec::new();
    };
    if result_element == Some(false) && *has_output {
        failures.push(format!(
            "{}: the sandbox's answer has no <{op}Result> element; botocore (the aws CLI) needs it for an operation with an output shape",
            c.op
        ));
    }
    let members = sandbox.as_object().into_iter().flatten();
    let mut unknown: Vec<String> = members
        .clone()
        .map(|(k, _)| k.clone())
        .filter(|k| !allowed.contains(k))
        .collect();
    for (member, child) in members {
        let (key, items): (String, Vec<&J>) = match child {
            J::Array(a) => (format!("{svc}:{op}:{member}[]"), a.iter().collect()),
            other => (format!("{svc}:{op}:{member}"), vec![other]),
        };
        let Some((_, nested)) = model.get(&key) else {
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
    unknown
}

/// [`Model::Paths`]: the sandbox's member paths the model does not define (but `return`, which
/// EC2 sends for operations without an output shape).
fn unknown_paths(
    model: &BTreeMap<String, BTreeSet<String>>,
    c: &Check<'_>,
    sandbox: &J,
    failures: &mut Vec<String>,
) -> Vec<String> {
    let (_, op) = c.api();
    let Some(allowed) = model.get(op) else {
        failures.push(format!("{}: no operation {op} in botocore's model", c.op));
        return Vec::new();
    };
    shape_to_depth(sandbox, 8)
        .into_keys()
        .filter(|p| !allowed.contains(p) && p != "return")
        .collect()
}
