//! Differential test: the same KMS and STS requests, sent through the Rust SDK to `moto_server`
//! and to the sandbox binary (`--seed empty`), must get answers of the same shape (members
//! present and their JSON types, KeyMetadata members, enum values) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore models and the KMS API reference), that member or operation is left out, with the
//! reason next to it. Needs `moto_server` from the test virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{AlgorithmSpec, DataKeySpec, OriginType, Tag, WrappingKeySpec};
use common::differential::{self, both, has_null, shape, without_nulls, Capture};
use serde_json::Value as J;

/// What one side answered.
#[derive(Debug, Clone)]
enum Outcome {
    Ok(J),
    Err(String),
}

struct Side {
    name: &'static str,
    kms: aws_sdk_kms::Client,
    sts: aws_sdk_sts::Client,
    capture: Capture,
    /// Key ids this side created, by role.
    keys: BTreeMap<&'static str, String>,
    ciphertext: Option<Blob>,
}

impl Side {
    async fn new(name: &'static str, endpoint: &str) -> Side {
        let sdk = differential::sdk_config(endpoint, "differential").await;
        let capture = Capture::default();
        let kms = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        Side {
            name,
            kms,
            sts,
            capture,
            keys: BTreeMap::new(),
            ciphertext: None,
        }
    }

    fn key(&self, role: &str) -> String {
        self.keys
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{}: no key '{role}'", self.name))
    }

    /// Turn an SDK result into an outcome: the raw JSON (or STS XML as JSON) body, or the code.
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

/// JSON bodies as they are; an awsQuery XML answer as `{member: text}` of its `…Result`.
fn parse_body(body: &[u8]) -> J {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return J::Object(Default::default());
    }
    if let Ok(j) = serde_json::from_str::<J>(trimmed) {
        return j;
    }
    let mut out = serde_json::Map::new();
    if let Some(start) = trimmed.find("Result>") {
        let inner = &trimmed[start + "Result>".len()..];
        let inner = &inner[..inner.find("Result>").unwrap_or(inner.len())];
        let mut rest = inner;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('>') else { break };
            let name = &after[..close];
            if name.starts_with('/') || name.is_empty() {
                rest = &after[close + 1..];
                continue;
            }
            let value_start = &after[close + 1..];
            let end_tag = format!("</{name}>");
            let Some(end) = value_start.find(&end_tag) else {
                break;
            };
            out.insert(name.to_string(), J::String(value_start[..end].to_string()));
            rest = &value_start[end + end_tag.len()..];
        }
    }
    J::Object(out)
}

fn value_at<'a>(v: &'a J, path: &str) -> Option<&'a J> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// One compared operation.
struct Check<'a> {
    /// The operation (first word: its name in the service model; `sts:` for STS).
    op: &'a str,
    /// Member paths not compared, because moto is known to differ from AWS there.
    ignore: &'a [&'a str],
    /// Member paths whose values (enums, fixed strings) must be equal.
    values: &'a [&'a str],
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
    fn moto_differs(mut self, why: &'a str, sandbox_expect: &'a str) -> Self {
        self.moto_differs = Some((why, sandbox_expect));
        self
    }
    /// (`kms` or `sts`, operation name in the botocore model)
    fn api(&self) -> (&'a str, &'a str) {
        let first = self.op.split([' ', '(']).next().unwrap_or(self.op);
        match first.strip_prefix("sts:") {
            Some(op) => ("sts", op),
            None => ("kms", first),
        }
    }
}

/// Output members of each operation (and of `KeyMetadata`) in botocore's service models, the
/// authority on shapes (DESIGN.md section 4), read with the virtualenv's Python.
fn botocore_members() -> BTreeMap<String, BTreeSet<String>> {
    let python = common::venv_tool("python", "KMS_WORKSHOP_PYTHON");
    let script = r#"
import glob, gzip, json, os, botocore
root = os.path.join(os.path.dirname(botocore.__file__), "data")
out = {}
for svc in ("kms", "sts"):
    path = sorted(glob.glob(os.path.join(root, svc, "*", "service-2.json*")))[-1]
    model = json.load(gzip.open(path) if path.endswith(".gz") else open(path))
    shapes = model["shapes"]
    for name, op in model["operations"].items():
        members = []
        if "output" in op:
            shape = shapes[op["output"]["shape"]]
            members = list(shape.get("members", {}))
        out[svc + ":" + name] = members
    if svc == "kms":
        out["kms:KeyMetadata"] = list(shapes["KeyMetadata"]["members"])
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
    serde_json::from_slice(&out.stdout).expect("model members as JSON")
}

#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String)>,
    failures: Vec<String>,
    model: BTreeMap<String, BTreeSet<String>>,
}

impl Report {
    /// The sandbox's answer uses only members botocore's model defines, and never `null`.
    fn check_model(&mut self, c: &Check<'_>, sandbox: &J) {
        let (svc, op) = c.api();
        if has_null(sandbox) {
            self.failures.push(format!(
                "{}: the sandbox answered with a null member: {sandbox}",
                c.op
            ));
        }
        let Some(allowed) = self.model.get(&format!("{svc}:{op}")) else {
            self.failures.push(format!(
                "{}: no operation {svc}:{op} in botocore's model",
                c.op
            ));
            return;
        };
        let mut unknown: Vec<String> = sandbox
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .filter(|k| !allowed.contains(k))
            .collect();
        if let (Some(md), Some(km)) = (
            sandbox.get("KeyMetadata").and_then(J::as_object),
            self.model.get("kms:KeyMetadata"),
        ) {
            unknown.extend(
                md.keys()
                    .filter(|k| !km.contains(*k))
                    .map(|k| format!("KeyMetadata.{k}")),
            );
        }
        if !unknown.is_empty() {
            self.failures.push(format!(
                "{}: members not in botocore's model: {unknown:?}",
                c.op
            ));
        }
    }

    fn compare(&mut self, c: Check<'_>, moto: &Outcome, sandbox: &Outcome) {
        if let Outcome::Ok(b) = sandbox {
            self.check_model(&c, b);
        }
        if let Some((why, expect)) = c.moto_differs {
            let got = match sandbox {
                Outcome::Ok(_) => "ok".to_string(),
                Outcome::Err(code) => code.clone(),
            };
            if got != expect {
                self.failures.push(format!(
                    "{}: the sandbox answered {got}, AWS answers {expect}",
                    c.op
                ));
            }
            let moto_got = match moto {
                Outcome::Ok(_) => "ok".to_string(),
                Outcome::Err(code) => code.clone(),
            };
            self.rows.push((
                c.op.to_string(),
                format!("sandbox {got}; moto {moto_got}"),
                format!("not compared: {why}"),
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
                let a = without_nulls(a);
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
                    let (x, y) = (value_at(&a, p), value_at(b, p));
                    if x != y {
                        self.failures.push(format!(
                            "{}: {p} is {x:?} from moto but {y:?} from the sandbox",
                            c.op
                        ));
                    }
                }
                let detail = format!("{} members, {} values", keys.len(), c.values.len());
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

const KEY_METADATA_ENUMS: &[&str] = &[
    "KeyMetadata.KeyState",
    "KeyMetadata.Origin",
    "KeyMetadata.KeyManager",
    "KeyMetadata.KeySpec",
    "KeyMetadata.CustomerMasterKeySpec",
    "KeyMetadata.EncryptionAlgorithms",
    "KeyMetadata.Enabled",
    "KeyMetadata.Description",
];

/// KeyMetadata members moto 5.2 gets wrong, compared with the KMS API reference:
/// - `KeyUsage`, `MultiRegion`: moto leaves them null unless the request sets them; AWS always
///   returns them (`ENCRYPT_DECRYPT`, `false` for these keys).
/// - `SigningAlgorithms`: for the same reason (no KeyUsage) moto lists signing algorithms for
///   a symmetric key; AWS returns them for SIGN_VERIFY keys only.
/// - `PendingDeletionWindowInDays`: AWS returns it while a key is pending deletion; moto never.
/// - `CurrentKeyMaterialId` (2025) is newer than moto 5.2.
const MOTO_KEY_METADATA_GAPS: &[&str] = &[
    "KeyMetadata.KeyUsage",
    "KeyMetadata.MultiRegion",
    "KeyMetadata.SigningAlgorithms",
    "KeyMetadata.PendingDeletionWindowInDays",
    "KeyMetadata.CurrentKeyMaterialId",
];

/// For a key created with `Origin=EXTERNAL`, AWS answers `KeyState=PendingImport`,
/// `Enabled=false` until material is imported; moto 5.2 answers `Enabled`/`true`.
const EXTERNAL_KEY_METADATA: &[&str] = &[
    "KeyMetadata.KeyUsage",
    "KeyMetadata.MultiRegion",
    "KeyMetadata.SigningAlgorithms",
    "KeyMetadata.CurrentKeyMaterialId",
    "KeyMetadata.KeyState",
    "KeyMetadata.Enabled",
];
const EXTERNAL_KEY_ENUMS: &[&str] = &[
    "KeyMetadata.Origin",
    "KeyMetadata.KeyManager",
    "KeyMetadata.KeySpec",
    "KeyMetadata.EncryptionAlgorithms",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_and_sts_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new("moto", &moto_proc.endpoint).await,
        Side::new("sandbox", &sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_members(),
        ..Report::default()
    };
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();

    // STS: who am I (the identity differs, the shape must not).
    let (m, s) = both!(sides, |side| side.sts.get_caller_identity().send().await);
    report.compare(Check::new("sts:GetCallerIdentity"), &m, &s);

    // CreateKey, AWS_KMS and EXTERNAL.
    let (m, s) = both!(sides, |side| {
        let r = side
            .kms
            .create_key()
            .description("differential")
            .send()
            .await;
        if let Ok(o) = &r {
            side.keys
                .insert("main", o.key_metadata().unwrap().key_id().to_string());
        }
        r
    });
    report.compare(
        Check::new("CreateKey")
            .ignore(MOTO_KEY_METADATA_GAPS)
            .values(KEY_METADATA_ENUMS),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        let r = side
            .kms
            .create_key()
            .origin(OriginType::External)
            .description("differential")
            .send()
            .await;
        if let Ok(o) = &r {
            side.keys
                .insert("external", o.key_metadata().unwrap().key_id().to_string());
        }
        r
    });
    report.compare(
        Check::new("CreateKey (Origin=EXTERNAL)")
            .ignore(EXTERNAL_KEY_METADATA)
            .values(EXTERNAL_KEY_ENUMS),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeKey")
            .ignore(MOTO_KEY_METADATA_GAPS)
            .values(KEY_METADATA_ENUMS),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id(side.key("external"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeKey (EXTERNAL)")
            .ignore(EXTERNAL_KEY_METADATA)
            .values(EXTERNAL_KEY_ENUMS),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
        .send()
        .await);
    report.compare(Check::new("DescribeKey (missing key)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id("alias/does-not-exist")
        .send()
        .await);
    report.compare(Check::new("DescribeKey (missing alias)"), &m, &s);

    let (m, s) = both!(sides, |side| side.kms.list_keys().send().await);
    report.compare(Check::new("ListKeys").values(&["Truncated"]), &m, &s);

    // Aliases. moto 5.2 leaves out each alias's CreationDate and LastUpdatedDate (AWS has
    // returned them since 2020; moto's code says "TODO"), and lists AWS-managed aliases that
    // an empty account does not have yet.
    let (m, s) = both!(sides, |side| {
        side.kms
            .create_alias()
            .alias_name("alias/differential")
            .target_key_id(side.key("main"))
            .send()
            .await
    });
    report.compare(Check::new("CreateAlias"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.kms
            .create_alias()
            .alias_name("alias/differential")
            .target_key_id(side.key("main"))
            .send()
            .await
    });
    report.compare(Check::new("CreateAlias (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .list_aliases()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("ListAliases (KeyId)")
            .ignore(&["Aliases[].CreationDate", "Aliases[].LastUpdatedDate"])
            .values(&["Truncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side.kms.list_aliases().send().await);
    report.compare(
        Check::new("ListAliases")
            .ignore(&["Aliases[].CreationDate", "Aliases[].LastUpdatedDate"])
            .values(&["Truncated"]),
        &m,
        &s,
    );

    // Encrypt / Decrypt with an encryption context. AWS answers EncryptionAlgorithm
    // (SYMMETRIC_DEFAULT) to both; moto 5.2 leaves it out.
    let (m, s) = both!(sides, |side| {
        let r = side
            .kms
            .encrypt()
            .key_id("alias/differential")
            .plaintext(Blob::new(b"differential".to_vec()))
            .encryption_context("project", "workshop")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ciphertext = o.ciphertext_blob().cloned();
        }
        r
    });
    report.compare(
        Check::new("Encrypt").ignore(&["EncryptionAlgorithm"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.kms
            .decrypt()
            .ciphertext_blob(side.ciphertext.clone().unwrap())
            .encryption_context("project", "workshop")
            .send()
            .await
    });
    report.compare(
        Check::new("Decrypt").ignore(&["EncryptionAlgorithm"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.kms
            .decrypt()
            .ciphertext_blob(side.ciphertext.clone().unwrap())
            .encryption_context("project", "other")
            .send()
            .await
    });
    report.compare(Check::new("Decrypt (other context)"), &m, &s);

    // Data keys.
    let (m, s) = both!(sides, |side| {
        side.kms
            .generate_data_key()
            .key_id(side.key("main"))
            .key_spec(DataKeySpec::Aes256)
            .encryption_context("project", "workshop")
            .send()
            .await
    });
    report.compare(Check::new("GenerateDataKey"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .generate_data_key()
        .key_id(side.key("main"))
        .number_of_bytes(64)
        .send()
        .await);
    report.compare(Check::new("GenerateDataKey (NumberOfBytes)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.kms
            .generate_data_key_without_plaintext()
            .key_id(side.key("main"))
            .key_spec(DataKeySpec::Aes128)
            .send()
            .await
    });
    report.compare(Check::new("GenerateDataKeyWithoutPlaintext"), &m, &s);

    // Enable / disable.
    let (m, s) = both!(sides, |side| side
        .kms
        .disable_key()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(Check::new("DisableKey"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeKey (disabled)")
            .ignore(MOTO_KEY_METADATA_GAPS)
            .values(KEY_METADATA_ENUMS),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .enable_key()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(Check::new("EnableKey"), &m, &s);

    // Tags.
    let (m, s) = both!(sides, |side| {
        side.kms
            .tag_resource()
            .key_id(side.key("main"))
            .tags(tag("project", "kmsworkshop"))
            .tags(tag("team", "a"))
            .send()
            .await
    });
    report.compare(Check::new("TagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .list_resource_tags()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("ListResourceTags").values(&["Tags", "Truncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .untag_resource()
        .key_id(side.key("main"))
        .tag_keys("team")
        .send()
        .await);
    report.compare(Check::new("UntagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .list_resource_tags()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("ListResourceTags (after untag)").values(&["Tags", "Truncated"]),
        &m,
        &s,
    );

    // Policy and rotation. AWS answers GetKeyPolicy with PolicyName, and GetKeyRotationStatus
    // with KeyId, RotationPeriodInDays and NextRotationDate (2024); moto 5.2 has neither.
    let (m, s) = both!(sides, |side| side
        .kms
        .get_key_policy()
        .key_id(side.key("main"))
        .policy_name("default")
        .send()
        .await);
    report.compare(Check::new("GetKeyPolicy").ignore(&["PolicyName"]), &m, &s);
    let rotation_gaps: &[&str] = &["KeyId", "RotationPeriodInDays", "NextRotationDate"];
    let (m, s) = both!(sides, |side| side
        .kms
        .get_key_rotation_status()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("GetKeyRotationStatus")
            .ignore(rotation_gaps)
            .values(&["KeyRotationEnabled"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .enable_key_rotation()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(Check::new("EnableKeyRotation"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .get_key_rotation_status()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("GetKeyRotationStatus (enabled)")
            .ignore(rotation_gaps)
            .values(&["KeyRotationEnabled"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .enable_key_rotation()
        .key_id(side.key("external"))
        .send()
        .await);
    report.compare(
        Check::new("EnableKeyRotation (EXTERNAL)").moto_differs(
            "moto enables rotation of keys with imported material; AWS refuses",
            "UnsupportedOperationException",
        ),
        &m,
        &s,
    );

    // Import parameters for the EXTERNAL key: moto 5.2 does not implement the operation (it
    // answers 500), so only the sandbox's answer is checked (against the botocore model).
    let (m, s) = both!(sides, |side| {
        side.kms
            .get_parameters_for_import()
            .key_id(side.key("external"))
            .wrapping_key_spec(WrappingKeySpec::Rsa2048)
            .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
            .send()
            .await
    });
    report.compare(
        Check::new("GetParametersForImport").moto_differs("not implemented by moto 5.2", "ok"),
        &m,
        &s,
    );

    // Deletion window. AWS answers ScheduleKeyDeletion with KeyState and PendingWindowInDays
    // too; moto 5.2 with KeyId and DeletionDate only, and it accepts any window (AWS: 7–30).
    let (m, s) = both!(sides, |side| {
        side.kms
            .schedule_key_deletion()
            .key_id(side.key("main"))
            .pending_window_in_days(7)
            .send()
            .await
    });
    report.compare(
        Check::new("ScheduleKeyDeletion").ignore(&["KeyState", "PendingWindowInDays"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeKey (pending deletion)")
            .ignore(MOTO_KEY_METADATA_GAPS)
            .values(KEY_METADATA_ENUMS),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.kms
            .schedule_key_deletion()
            .key_id(side.key("main"))
            .pending_window_in_days(7)
            .send()
            .await
    });
    report.compare(
        Check::new("ScheduleKeyDeletion (again)").moto_differs(
            "moto reschedules a key already pending deletion; AWS refuses",
            "KMSInvalidStateException",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .kms
        .cancel_key_deletion()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(Check::new("CancelKeyDeletion"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .kms
        .describe_key()
        .key_id(side.key("main"))
        .send()
        .await);
    report.compare(
        Check::new("DescribeKey (deletion cancelled)")
            .ignore(MOTO_KEY_METADATA_GAPS)
            .values(KEY_METADATA_ENUMS),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.kms
            .schedule_key_deletion()
            .key_id(side.key("main"))
            .pending_window_in_days(3)
            .send()
            .await
    });
    report.compare(
        Check::new("ScheduleKeyDeletion (window 3)").moto_differs(
            "moto accepts any window; AWS requires 7-30 days",
            "ValidationException",
        ),
        &m,
        &s,
    );

    let skipped = report
        .rows
        .iter()
        .filter(|r| r.2.starts_with("not compared"))
        .count();
    differential::print_summary(
        "differential: moto_server vs the sandbox (Rust SDK, same requests)",
        (36, 48),
        &report.rows,
        skipped,
        report.failures.len(),
    );
    assert!(
        report.failures.is_empty(),
        "moto and the sandbox differ:\n  {}",
        report.failures.join("\n  ")
    );
}
