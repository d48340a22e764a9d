//! The sandbox binary under stress: state survives a graceful restart and a `kill -9` in the
//! middle of a stream of writes; a damaged or foreign state directory is refused with a message
//! that names it (no panic, nothing deleted); malformed requests get AWS-shaped 4xx answers and
//! the server keeps serving.
//!
//! Everything stays on 127.0.0.1; every loop is bounded.
#![allow(clippy::unwrap_used)]

mod damaged_state;
mod malformed;
mod persistence;

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use common::sigv4::sign;
use common::*;
use kms_workshop_names::IMPORTED_ALIAS;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A state dir whose CloudTrail history starts empty, so event counts are the test's own.
fn state_args(dir: &Path) -> Vec<String> {
    vec![
        "--state-dir".into(),
        dir.display().to_string(),
        "--empty-history".into(),
    ]
}

fn start_with_state(dir: &Path) -> SandboxProc {
    let args = state_args(dir);
    SandboxProc::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Stop with SIGTERM and check the process ended cleanly.
fn stop_gracefully(sb: &mut SandboxProc) {
    let t = Instant::now();
    sb.stop();
    eprintln!("sandbox stopped in {:?}", t.elapsed());
    let status = sb.child.try_wait().unwrap().expect("sandbox stopped");
    assert!(
        status.success(),
        "graceful stop should exit 0, got {status}"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A KMS client for the learner, with a generous operation timeout: a write may wait for the
/// state to be flushed while the machine is busy.
async fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let sdk = crate::common::learner_sdk(endpoint).await;
    let conf = aws_sdk_kms::config::Builder::from(&sdk)
        .timeout_config(
            aws_sdk_kms::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build();
    aws_sdk_kms::Client::from_conf(conf)
}

async fn all_key_ids(client: &aws_sdk_kms::Client) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut marker: Option<String> = None;
    for _ in 0..1000 {
        let page = client
            .list_keys()
            .limit(1000)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListKeys");
        out.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string)),
        );
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_string()),
            _ => return out,
        }
    }
    panic!("ListKeys paging does not end");
}

async fn all_alias_names(client: &aws_sdk_kms::Client) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut marker: Option<String> = None;
    for _ in 0..1000 {
        let page = client
            .list_aliases()
            .limit(1000)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListAliases");
        for a in page.aliases() {
            out.insert(
                a.alias_name().unwrap_or_default().to_string(),
                a.target_key_id().unwrap_or_default().to_string(),
            );
        }
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_string()),
            _ => return out,
        }
    }
    panic!("ListAliases paging does not end");
}

/// Every file under `dir` with its bytes, to show that a refused start changed nothing.
fn snapshot_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_file() {
            out.insert(name, std::fs::read(entry.path()).unwrap());
        } else {
            out.insert(format!("{name}/"), Vec::new());
        }
    }
    out
}

/// `sandbox serve` that is expected to refuse to start: returns its output once it exits (it is
/// killed, and the test fails, if it is still serving after a minute).
fn serve_expecting_refusal(extra: &[String]) -> Output {
    let mut child = Command::new(bin())
        .args(["sandbox", "serve", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kms-workshop sandbox serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "sandbox serve {extra:?} kept running instead of refusing\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_refused(out: &Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "sandbox serve should fail; stderr: {stderr}"
    );
    assert_ne!(
        out.status.code(),
        Some(101),
        "exit code 101 is a Rust panic: {stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a state-directory problem exits with 2: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "must not panic: {stderr}");
    assert!(stderr.contains("error"), "says it is an error: {stderr}");
    for n in names {
        assert!(stderr.contains(n), "the message should name {n}: {stderr}");
    }
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening on"),
        "must not start listening: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
