//! Differential test: the same EC2 requests (instances, instance profile associations, instance
//! attributes, volumes, tags), sent through the Rust SDK to `moto_server` and to the sandbox
//! binary (`--seed empty`), must get answers of the same shape (members present and their
//! types, enum values) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore model and the EC2 API reference), that member or comparison is skipped with the
//! reason next to it, and the sandbox's answer is checked against AWS's documented answer
//! instead. Every answer of the sandbox is also checked against botocore's model: each member
//! path (by the model's `locationName`s, nested through structures and `<item>` lists) must be
//! one the model defines. Needs `moto_server` and Python from the test virtualenv
//! (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, Filter, IamInstanceProfileSpecification,
    InstanceAttributeName, InstanceType, ResourceType, Tag, TagSpecification, VolumeType,
};
use common::differential::{self, both, shape_to_depth as shape, Capture, Node};
use serde_json::{json, Value as J};

const AMI: &str = "ami-0c02fb55956c7d316";
const PROFILE: &str = "DifferentialProfile";
const OTHER_PROFILE: &str = "DifferentialOther";

/// What one side answered.
#[derive(Debug, Clone)]
enum Outcome {
    /// The answer's members as JSON.
    Ok(J),
    Err(String),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Ok(_) => "ok".to_string(),
            Outcome::Err(code) => code.clone(),
        }
    }
}

struct Side {
    name: &'static str,
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    capture: Capture,
    /// Ids this side handed out, by role.
    ids: BTreeMap<&'static str, String>,
}

impl Side {
    async fn new(name: &'static str, endpoint: &str) -> Side {
        let sdk = differential::sdk_config(endpoint, "ec2-differential").await;
        let capture = Capture::default();
        let ec2 = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        let iam = aws_sdk_iam::Client::new(&sdk);
        Side {
            name,
            ec2,
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
        match differential::raw_outcome(&self.capture, r) {
            Ok(body) => Outcome::Ok(parse_body(&body)),
            Err(code) => Outcome::Err(code),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies as JSON

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A small XML reader, enough for ec2Query answers (elements, text, entities; attributes are
/// ignored). Returns the root element.
fn parse_xml(text: &str) -> Option<Node> {
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        if let Some(top) = stack.last_mut() {
            top.text.push_str(&unescape(&rest[..open]));
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
        let name = tag
            .trim_end_matches('/')
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

/// An element as JSON: text when it has no children, a list for `<item>` children, an object
/// by element name otherwise. Empty elements (`<tagSet/>`, `<reason/>`) are left out: AWS and
/// moto write them or not for empty lists and strings alike, and clients read both the same.
fn node_json(n: &Node) -> J {
    if n.children.is_empty() {
        return J::String(n.text.trim().to_string());
    }
    if n.children.iter().all(|c| c.name == "item") {
        return J::Array(n.children.iter().map(node_json).collect());
    }
    J::Object(
        n.children
            .iter()
            .filter(|c| !(c.children.is_empty() && c.text.trim().is_empty()))
            .map(|c| (c.name.clone(), node_json(c)))
            .collect(),
    )
}

/// The answer's members (the children of `<OpResponse>` but `requestId`).
fn parse_body(body: &[u8]) -> J {
    let text = String::from_utf8_lossy(body);
    let Some(root) = parse_xml(text.trim()) else {
        return json!({ "unparsable body": text.trim() });
    };
    let mut m = match node_json(&root) {
        J::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    m.remove("requestId");
    J::Object(m)
}

// ---------------------------------------------------------------------------------------------
// Shapes

/// The values at a path; `[]` after a member means "each element of that list".
fn values_at<'a>(v: &'a J, path: &str) -> Vec<&'a J> {
    let mut cur = vec![v];
    for seg in path.split('.') {
        let (name, each) = match seg.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        for c in cur {
            match (c.get(name), each) {
                (Some(J::Array(items)), true) => next.extend(items.iter()),
                (Some(x), false) => next.push(x),
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// Every member path each EC2 operation's output may have, by `locationName` (as the ec2Query
/// protocol writes them), from botocore's model read with the virtualenv's Python.
fn botocore_paths() -> BTreeMap<String, BTreeSet<String>> {
    let python = common::venv_tool("python", "KMS_WORKSHOP_PYTHON");
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
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .output()
        .expect("run the virtualenv's python");
    assert!(
        out.status.success(),
        "reading botocore's model failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).expect("model paths as JSON");
    raw.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// One compared operation.
struct Check<'a> {
    /// The operation's name in the service model, then a note.
    op: &'a str,
    /// Member paths not compared, because moto is known to differ from AWS there.
    ignore: Vec<&'a str>,
    /// Member paths whose values (enums, fixed strings) must be equal.
    values: &'a [&'a str],
    /// Values of the sandbox's answer checked against AWS's documented answer.
    aws_values: Vec<(&'a str, J)>,
    /// moto is known to answer this differently from AWS (why): the sandbox's answer is
    /// checked against `expect` (an error code, or "ok") instead of against moto's.
    moto_differs: Option<(&'a str, &'a str)>,
}

impl<'a> Check<'a> {
    fn new(op: &'a str) -> Self {
        Check {
            op,
            ignore: Vec::new(),
            values: &[],
            aws_values: Vec::new(),
            moto_differs: None,
        }
    }
    fn ignore(mut self, paths: &[&'a str]) -> Self {
        self.ignore.extend_from_slice(paths);
        self
    }
    fn values(mut self, paths: &'a [&'a str]) -> Self {
        self.values = paths;
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
    fn api(&self) -> &'a str {
        self.op.split([' ', '(']).next().unwrap_or(self.op)
    }
}

#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String)>,
    failures: Vec<String>,
    model: BTreeMap<String, BTreeSet<String>>,
    aws_only: usize,
}

impl Report {
    /// The sandbox's answer uses only member paths botocore's model defines (and `return`,
    /// which EC2 sends for operations without an output shape).
    fn check_model(&mut self, c: &Check<'_>, sandbox: &J) {
        let op = c.api();
        let Some(allowed) = self.model.get(op) else {
            self.failures
                .push(format!("{}: no operation {op} in botocore's model", c.op));
            return;
        };
        let unknown: Vec<String> = shape(sandbox, 8)
            .into_keys()
            .filter(|p| !allowed.contains(p) && p != "return")
            .collect();
        if !unknown.is_empty() {
            self.failures.push(format!(
                "{}: members not in botocore's model: {unknown:?}",
                c.op
            ));
        }
    }

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
        if let Outcome::Ok(b) = sandbox {
            self.check_model(&c, b);
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
            (Outcome::Ok(a), Outcome::Ok(b)) => {
                let ignored = |p: &String| {
                    c.ignore.iter().any(|i| {
                        p == i
                            || p.starts_with(&format!("{i}."))
                            || p.starts_with(&format!("{i}[]"))
                    })
                };
                let sa: BTreeMap<_, _> = shape(a, 4)
                    .into_iter()
                    .filter(|(p, _)| !ignored(p))
                    .collect();
                let sb: BTreeMap<_, _> = shape(b, 4)
                    .into_iter()
                    .filter(|(p, _)| !ignored(p))
                    .collect();
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
                    let (x, y) = (values_at(a, p), values_at(b, p));
                    if x != y {
                        self.failures.push(format!(
                            "{}: {p} is {x:?} from moto but {y:?} from the sandbox",
                            c.op
                        ));
                    }
                }
                let mut detail = format!("{} members, {} values", keys.len(), c.values.len());
                if aws_checked > 0 {
                    detail.push_str(&format!(
                        "; {aws_checked} values against AWS (moto differs)"
                    ));
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

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

/// Instance members moto 5.2 writes that the sandbox does not model.
const MOTO_INSTANCE_EXTRAS: &[&str] = &[
    // The sandbox models no network interfaces (AWS lists the primary ENI here).
    "networkInterfaceSet",
    // Hardware details AWS reports for some instance types only; moto writes them always.
    "sriovNetSupport",
    "kernelId",
];

/// Instance members the sandbox writes as AWS does and moto 5.2 leaves out.
const AWS_INSTANCE_EXTRAS: &[&str] = &[
    // AWS lists an instance's security groups (the default VPC's `default` group here).
    "groupSet",
    "platformDetails",
    "usageOperation",
    "usageOperationUpdateTime",
    "maintenanceOptions",
    "currentInstanceBootMode",
    "enclaveOptions",
    "cpuOptions",
    "enaSupport",
    // AWS answers `configured: false`; moto writes the element empty.
    "hibernationOptions",
];

/// moto keeps a `stateReason` on running instances; AWS shows one after a stop or termination
/// (compared there).
const MOTO_RUNNING_STATE_REASON: &[&str] = &["reservationSet[].instancesSet[].stateReason"];

fn prefixed(prefix: &str, members: &[&str]) -> Vec<String> {
    members.iter().map(|m| format!("{prefix}{m}")).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new("moto", &moto_proc.endpoint).await,
        Side::new("sandbox", &sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_paths(),
        ..Report::default()
    };

    // moto checks that instance profiles exist in its IAM; the sandbox's EC2 does not look
    // them up, but its IAM takes the same requests.
    for side in sides.iter_mut() {
        for name in [PROFILE, OTHER_PROFILE] {
            let _ = side
                .iam
                .create_instance_profile()
                .instance_profile_name(name)
                .send()
                .await;
        }
    }

    let run_gaps: Vec<String> = [
        prefixed("instancesSet[].", MOTO_INSTANCE_EXTRAS),
        prefixed("instancesSet[].", AWS_INSTANCE_EXTRAS),
    ]
    .concat();
    let describe_gaps: Vec<String> = [
        prefixed("reservationSet[].instancesSet[].", MOTO_INSTANCE_EXTRAS),
        prefixed("reservationSet[].instancesSet[].", AWS_INSTANCE_EXTRAS),
    ]
    .concat();
    let (run_gaps, describe_gaps) = (refs(&run_gaps), refs(&describe_gaps));
    let instance_enums: &[&str] = &[
        "reservationSet[].instancesSet[].instanceState.name",
        "reservationSet[].instancesSet[].instanceState.code",
        "reservationSet[].instancesSet[].instanceType",
        "reservationSet[].instancesSet[].imageId",
        "reservationSet[].instancesSet[].keyName",
        "reservationSet[].instancesSet[].tagSet",
    ];

    // RunInstances: two instances with a key pair, tags, and an instance profile.
    let (m, s) = both!(sides, |side| {
        let r = side
            .ec2
            .run_instances()
            .image_id(AMI)
            .instance_type(InstanceType::T2Micro)
            .min_count(2)
            .max_count(2)
            .key_name("differential")
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(PROFILE)
                    .build(),
            )
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(tag("Name", "differential"))
                    .build(),
            )
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("a", o.instances()[0].instance_id().unwrap().to_string());
            side.ids
                .insert("b", o.instances()[1].instance_id().unwrap().to_string());
        }
        r
    });
    report.compare(
        Check::new("RunInstances")
            .ignore(&run_gaps)
            .ignore(&["instancesSet[].stateReason"])
            .values(&[
                "instancesSet[].instanceState.name",
                "instancesSet[].instanceType",
                "instancesSet[].tagSet",
            ]),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instances()
        .instance_ids(side.id("a"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeInstances (InstanceIds)")
            .ignore(&describe_gaps)
            .ignore(MOTO_RUNNING_STATE_REASON)
            .values(instance_enums),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instances()
        .filters(filter("tag:Name", "differential"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeInstances (tag filter)")
            .ignore(&describe_gaps)
            .ignore(MOTO_RUNNING_STATE_REASON)
            .values(instance_enums),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .describe_instances()
            .filters(filter("instance-state-name", "stopped"))
            .send()
            .await
    });
    report.compare(Check::new("DescribeInstances (no match)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instances()
        .instance_ids("i-0123456789abcdef0")
        .send()
        .await);
    report.compare(Check::new("DescribeInstances (missing id)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instances()
        .instance_ids("not-an-id")
        .send()
        .await);
    report.compare(
        Check::new("DescribeInstances (malformed id)").moto_differs(
            "moto does not check the id format",
            "InvalidInstanceID.Malformed",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instances()
        .max_results(5)
        .send()
        .await);
    report.compare(
        Check::new("DescribeInstances (MaxResults)")
            .ignore(&describe_gaps)
            .ignore(MOTO_RUNNING_STATE_REASON)
            .values(instance_enums),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instance_status()
        .instance_ids(side.id("a"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeInstanceStatus")
            // moto's status details are `reachability: passed` too, but it leaves out the
            // availability zone id and the attached-EBS status that AWS added in 2024.
            .ignore(&[
                "instanceStatusSet[].availabilityZoneId",
                "instanceStatusSet[].attachedEbsStatus",
            ])
            .values(&[
                "instanceStatusSet[].instanceState.name",
                "instanceStatusSet[].instanceStatus.status",
            ]),
        &m,
        &s,
    );

    // Instance profile associations.
    let (m, s) = both!(sides, |side| {
        let r = side
            .ec2
            .describe_iam_instance_profile_associations()
            .filters(filter("instance-id", &side.id("a")))
            .send()
            .await;
        if let Ok(o) = &r {
            if let Some(a) = o.iam_instance_profile_associations().first() {
                side.ids
                    .insert("assoc", a.association_id().unwrap().to_string());
            }
        }
        r
    });
    report.compare(
        Check::new("DescribeIamInstanceProfileAssociations")
            // moto 5.2 leaves out each association's `timestamp`; AWS sends it.
            .ignore(&["iamInstanceProfileAssociationSet[].timestamp"])
            .values(&["iamInstanceProfileAssociationSet[].state"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .associate_iam_instance_profile()
            .instance_id(side.id("a"))
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(PROFILE)
                    .build(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("AssociateIamInstanceProfile (already associated)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        let r = side
            .ec2
            .replace_iam_instance_profile_association()
            .association_id(side.id("assoc"))
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(OTHER_PROFILE)
                    .build(),
            )
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids.insert(
                "assoc2",
                o.iam_instance_profile_association()
                    .unwrap()
                    .association_id()
                    .unwrap()
                    .to_string(),
            );
        }
        r
    });
    report.compare(
        Check::new("ReplaceIamInstanceProfileAssociation")
            // AWS answers `associating` (the new association takes a moment); moto `associated`.
            .ignore(&[
                "iamInstanceProfileAssociation.state",
                "iamInstanceProfileAssociation.timestamp",
            ])
            .aws("iamInstanceProfileAssociation.state", json!("associating")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .disassociate_iam_instance_profile()
            .association_id(side.id("assoc2"))
            .send()
            .await
    });
    report.compare(
        Check::new("DisassociateIamInstanceProfile")
            // AWS answers `disassociating`; moto `disassociated`.
            .ignore(&[
                "iamInstanceProfileAssociation.state",
                "iamInstanceProfileAssociation.timestamp",
            ])
            .aws(
                "iamInstanceProfileAssociation.state",
                json!("disassociating"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .disassociate_iam_instance_profile()
            .association_id("iip-assoc-0123456789abcdef0")
            .send()
            .await
    });
    report.compare(
        Check::new("DisassociateIamInstanceProfile (unknown)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .associate_iam_instance_profile()
            .instance_id(side.id("b"))
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(OTHER_PROFILE)
                    .build(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("AssociateIamInstanceProfile (second instance)").moto_differs(
            "moto associates RunInstances' profile with the first instance only; AWS with each one",
            "IncorrectState",
        ),
        &m,
        &s,
    );

    // Instance attributes and termination protection.
    let (m, s) = both!(sides, |side| {
        side.ec2
            .modify_instance_attribute()
            .instance_id(side.id("a"))
            .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
    });
    report.compare(
        Check::new("ModifyInstanceAttribute (disableApiTermination)").ignore(&["return"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .describe_instance_attribute()
            .instance_id(side.id("a"))
            .attribute(InstanceAttributeName::DisableApiTermination)
            .send()
            .await
    });
    report.compare(
        Check::new("DescribeInstanceAttribute (disableApiTermination)")
            .values(&["disableApiTermination.value"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .ec2
        .terminate_instances()
        .instance_ids(side.id("a"))
        .send()
        .await);
    report.compare(Check::new("TerminateInstances (protected)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.ec2
            .modify_instance_attribute()
            .instance_id(side.id("a"))
            .disable_api_termination(AttributeBooleanValue::builder().value(false).build())
            .send()
            .await
    });
    report.compare(
        Check::new("ModifyInstanceAttribute (unprotect)").ignore(&["return"]),
        &m,
        &s,
    );

    // Stop, change the type, start.
    let state_values: &[&str] = &[
        "instancesSet[].currentState.name",
        "instancesSet[].previousState.name",
        "instancesSet[].currentState.code",
    ];
    let (m, s) = both!(sides, |side| side
        .ec2
        .stop_instances()
        .instance_ids(side.id("b"))
        .send()
        .await);
    report.compare(Check::new("StopInstances").values(state_values), &m, &s);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_instances()
        .instance_ids(side.id("b"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeInstances (stopped)")
            .ignore(&describe_gaps)
            .values(instance_enums),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .modify_instance_attribute()
            .instance_id(side.id("b"))
            .instance_type(AttributeValue::builder().value("t3.micro").build())
            .send()
            .await
    });
    report.compare(
        Check::new("ModifyInstanceAttribute (instanceType)").ignore(&["return"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .describe_instance_attribute()
            .instance_id(side.id("b"))
            .attribute(InstanceAttributeName::InstanceType)
            .send()
            .await
    });
    report.compare(
        Check::new("DescribeInstanceAttribute (instanceType)").values(&["instanceType.value"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .ec2
        .start_instances()
        .instance_ids(side.id("b"))
        .send()
        .await);
    report.compare(Check::new("StartInstances").values(state_values), &m, &s);

    // Volumes.
    let volume_gaps: &[&str] = &[
        // moto writes `sseType`, `fastRestored`, `volumeInitializationRate`; not modelled.
        "sseType",
        "fastRestored",
        "volumeInitializationRate",
        "availabilityZoneId",
        "sourceVolumeId",
        "operator",
    ];
    let (m, s) = both!(sides, |side| {
        let r = side
            .ec2
            .create_volume()
            .availability_zone(format!("{}a", common::REGION))
            .size(10)
            .volume_type(VolumeType::Gp2)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Volume)
                    .tags(tag("Name", "differential"))
                    .build(),
            )
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids.insert("vol", o.volume_id().unwrap().to_string());
        }
        r
    });
    report.compare(
        Check::new("CreateVolume")
            .ignore(volume_gaps)
            // moto leaves out `multiAttachEnabled` and gp2's baseline `iops`; AWS sends both.
            .ignore(&["multiAttachEnabled", "iops"])
            .values(&["size", "volumeType", "encrypted", "tagSet"])
            // AWS answers `creating` (the volume is available a moment later); moto `available`.
            .aws("status", json!("creating")),
        &m,
        &s,
    );
    let volume_set_gaps = prefixed("volumeSet[].", volume_gaps);
    let volume_set_gaps = refs(&volume_set_gaps);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_volumes()
        .volume_ids(side.id("vol"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeVolumes (VolumeIds)")
            .ignore(&volume_set_gaps)
            .ignore(&["volumeSet[].multiAttachEnabled", "volumeSet[].iops"])
            .values(&[
                "volumeSet[].status",
                "volumeSet[].size",
                "volumeSet[].volumeType",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .attach_volume()
            .volume_id(side.id("vol"))
            .instance_id(side.id("a"))
            .device("/dev/sdf")
            .send()
            .await
    });
    report.compare(
        Check::new("AttachVolume")
            // moto adds `deleteOnTermination` to the answer; AWS's AttachVolume answer has none.
            .ignore(&[
                "deleteOnTermination",
                "associatedResource",
                "instanceOwningService",
                "ebsCardIndex",
            ])
            .values(&["status", "device"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .describe_volumes()
            .filters(filter("attachment.instance-id", &side.id("a")))
            .filters(filter("tag:Name", "differential"))
            .send()
            .await
    });
    report.compare(
        Check::new("DescribeVolumes (attachment filter)")
            .ignore(&volume_set_gaps)
            .ignore(&["volumeSet[].multiAttachEnabled", "volumeSet[].iops"])
            // AWS lists `deleteOnTermination` with each attachment; moto 5.2 leaves it out.
            .ignore(&["volumeSet[].attachmentSet[].deleteOnTermination"])
            .values(&[
                "volumeSet[].status",
                "volumeSet[].attachmentSet[].status",
                "volumeSet[].attachmentSet[].device",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .ec2
        .delete_volume()
        .volume_id(side.id("vol"))
        .send()
        .await);
    report.compare(Check::new("DeleteVolume (attached)"), &m, &s);
    // moto 5.2 needs the instance id (it answers 500 without it; AWS does not need it).
    let (m, s) = both!(sides, |side| {
        side.ec2
            .detach_volume()
            .volume_id(side.id("vol"))
            .instance_id(side.id("a"))
            .send()
            .await
    });
    report.compare(
        Check::new("DetachVolume")
            .ignore(&[
                "deleteOnTermination",
                "associatedResource",
                "instanceOwningService",
                "ebsCardIndex",
            ])
            .values(&["status", "device"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .ec2
        .delete_volume()
        .volume_id(side.id("vol"))
        .send()
        .await);
    report.compare(Check::new("DeleteVolume").ignore(&["return"]), &m, &s);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_volumes()
        .volume_ids(side.id("vol"))
        .send()
        .await);
    report.compare(Check::new("DescribeVolumes (deleted)"), &m, &s);

    // Tags.
    let (m, s) = both!(sides, |side| {
        side.ec2
            .create_tags()
            .resources(side.id("a"))
            .tags(tag("project", "kmsworkshop"))
            .tags(tag("stage", "iv"))
            .send()
            .await
    });
    report.compare(Check::new("CreateTags").ignore(&["return"]), &m, &s);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_tags()
        .filters(filter("resource-id", &side.id("a")))
        .send()
        .await);
    let tag_values: &[&str] = &["tagSet[].key", "tagSet[].value", "tagSet[].resourceType"];
    report.compare(
        Check::new("DescribeTags (resource-id)").values(tag_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .delete_tags()
            .resources(side.id("a"))
            .tags(Tag::builder().key("stage").build())
            .send()
            .await
    });
    report.compare(Check::new("DeleteTags").ignore(&["return"]), &m, &s);
    let (m, s) = both!(sides, |side| side
        .ec2
        .describe_tags()
        .filters(filter("key", "project"))
        .send()
        .await);
    report.compare(Check::new("DescribeTags (key)").values(tag_values), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.ec2
            .create_tags()
            .resources("i-0123456789abcdef0")
            .tags(tag("a", "b"))
            .send()
            .await
    });
    report.compare(
        Check::new("CreateTags (missing instance)").moto_differs(
            "moto tags ids that do not exist; AWS refuses",
            "InvalidInstanceID.NotFound",
        ),
        &m,
        &s,
    );

    // Terminate both.
    let (m, s) = both!(sides, |side| side
        .ec2
        .terminate_instances()
        .instance_ids(side.id("a"))
        .instance_ids(side.id("b"))
        .send()
        .await);
    report.compare(
        Check::new("TerminateInstances").values(state_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.ec2
            .describe_instances()
            .filters(filter("instance-state-name", "terminated"))
            .send()
            .await
    });
    report.compare(
        Check::new("DescribeInstances (terminated)")
            .ignore(&describe_gaps)
            // Terminated instances keep no network placement on AWS; moto keeps it.
            .ignore(&[
                "reservationSet[].instancesSet[].subnetId",
                "reservationSet[].instancesSet[].vpcId",
                "reservationSet[].instancesSet[].privateIpAddress",
                "reservationSet[].instancesSet[].privateDnsName",
                "reservationSet[].instancesSet[].sourceDestCheck",
                "reservationSet[].instancesSet[].groupSet",
            ])
            .values(&["reservationSet[].instancesSet[].instanceState.name"]),
        &m,
        &s,
    );

    differential::print_summary(
        "differential: moto_server vs the sandbox, EC2 (Rust SDK, same requests)",
        (52, 48),
        &report.rows,
        report.aws_only,
        report.failures.len(),
    );
    assert!(
        report.failures.is_empty(),
        "moto and the sandbox (or AWS) differ:\n  {}",
        report.failures.join("\n  ")
    );
}
