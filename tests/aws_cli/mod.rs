//! The real `aws` CLI (the pinned awscli from `.venv`, installed by `scripts/test`) against a
//! sandbox started by each test (`kms-workshop sandbox serve --port 0`): the workshop's own
//! commands, the key-import flow with `openssl`, key-deletion rules, CloudTrail event history
//! (all eight lookup attributes, paging, validation, the record's fields), STS identities and
//! credential errors, and the trail lifecycle.
//!
//! Every test has its own sandbox, so they run in parallel and in any order.
#![allow(clippy::unwrap_used)]

mod credentials;
mod data_key;
mod deletion;
mod event_history;
mod import;
mod trails;

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::*;
use kms_workshop_names::sandbox::LEARNER_USER;
use kms_workshop_names::{FIRST_ALIAS, IMPORTED_ALIAS, ROLE};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
fn b64d(v: &Value) -> Vec<u8> {
    B64.decode(
        v.as_str()
            .unwrap_or_else(|| panic!("expected a base64 string, got {v}")),
    )
    .expect("valid base64")
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {v}"))
}

/// `kms-workshop sandbox clock advance <by>` against the test's sandbox.
fn advance_clock(endpoint: &str, by: &str) {
    let out = Command::new(bin())
        .args(["sandbox", "clock", "advance", by, "--endpoint", endpoint])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run kms-workshop sandbox clock advance");
    assert!(
        out.status.success(),
        "clock advance failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The sandbox's current time (`kms-workshop sandbox clock show`).
fn sandbox_now(endpoint: &str) -> OffsetDateTime {
    let out = Command::new(bin())
        .args(["sandbox", "clock", "show", "--endpoint", endpoint])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run kms-workshop sandbox clock show");
    assert!(
        out.status.success(),
        "clock show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .unwrap_or_else(|e| panic!("clock show printed {s:?}: {e}"))
}

/// A timestamp as the CLI prints it: epoch seconds for the JSON protocols, ISO 8601 otherwise.
fn timestamp(v: &Value) -> OffsetDateTime {
    match v {
        Value::Number(n) => {
            let secs = n.as_f64().unwrap();
            OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).unwrap()
        }
        Value::String(s) => {
            OffsetDateTime::parse(s, &Rfc3339).unwrap_or_else(|e| panic!("timestamp {s:?}: {e}"))
        }
        other => panic!("expected a timestamp, got {other}"),
    }
}

fn iso(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap().format(&Rfc3339).unwrap()
}

fn describe_key(endpoint: &str, key: &str) -> Value {
    run_json(aws(endpoint).args(["kms", "describe-key", "--key-id", key]))["KeyMetadata"].clone()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn fileb(p: &Path) -> String {
    format!("fileb://{}", p.display())
}

fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (scripts/test installs it when it is missing)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Events of one `lookup-events` query, all pages (the CLI follows `NextToken`).
fn lookup(endpoint: &str, key: &str, value: &str) -> Vec<Value> {
    let attrs = json!([{ "AttributeKey": key, "AttributeValue": value }]).to_string();
    let v = run_json(aws(endpoint).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        &attrs,
    ]));
    v["Events"].as_array().cloned().unwrap_or_default()
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| str_of(&e["EventId"], "EventId").to_string())
        .collect()
}

fn record(event: &Value) -> Value {
    serde_json::from_str(str_of(&event["CloudTrailEvent"], "CloudTrailEvent"))
        .expect("CloudTrailEvent is JSON")
}
