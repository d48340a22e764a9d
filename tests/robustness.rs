//! The sandbox binary under stress: state survives a graceful restart and a `kill -9` in the
//! middle of a stream of writes; a damaged or foreign state directory is refused with a message
//! that names it (no panic, nothing deleted); malformed requests get AWS-shaped 4xx answers and
//! the server keeps serving.
//!
//! Everything stays on 127.0.0.1; every loop is bounded.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use base64::Engine;
use serde_json::Value;

use common::*;

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

fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            LEARNER_ACCESS_KEY,
            LEARNER_SECRET_KEY,
            None,
            None,
            "robustness-test",
        ))
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
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

// ---------------------------------------------------------------------------------------------
// Persistence

#[test]
fn restart_keeps_keys_aliases_events_and_clock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut sb = start_with_state(&state);
    let ep = sb.endpoint.clone();

    let key = run_json(aws(&ep).args(["kms", "create-key", "--description", "survives a restart"]));
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    run_json(aws(&ep).args([
        "kms",
        "create-alias",
        "--alias-name",
        "alias/Persisted",
        "--target-key-id",
        &key_id,
    ]));
    let dk = run_json(aws(&ep).args([
        "kms",
        "generate-data-key",
        "--key-id",
        "alias/Persisted",
        "--key-spec",
        "AES_256",
        "--encryption-context",
        "project=workshop",
    ]));
    let keys_before = run_json(aws(&ep).args(["kms", "list-keys"]))["Keys"]
        .as_array()
        .unwrap()
        .len();
    let gdk_before = run_json(aws(&ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
    ]));
    let gdk_id = gdk_before["Events"][0]["EventId"]
        .as_str()
        .unwrap()
        .to_string();
    let advanced = Command::new(bin())
        .args(["sandbox", "clock", "advance", "2d", "--endpoint", &ep])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    assert!(advanced.status.success());
    // An SDK client holding an idle keep-alive connection must not hold up the shutdown.
    let rt = runtime();
    let client = kms_client(&ep);
    rt.block_on(async { client.list_keys().send().await.expect("ListKeys") });
    stop_gracefully(&mut sb);
    drop(client);

    let sb = start_with_state(&state);
    let ep = sb.endpoint.clone();
    let md = run_json(aws(&ep).args(["kms", "describe-key", "--key-id", "alias/Persisted"]));
    assert_eq!(
        md["KeyMetadata"]["KeyId"],
        key_id.as_str(),
        "the alias still points at the key"
    );
    assert_eq!(md["KeyMetadata"]["KeyState"], "Enabled");
    assert_eq!(
        run_json(aws(&ep).args(["kms", "list-keys"]))["Keys"]
            .as_array()
            .unwrap()
            .len(),
        keys_before,
        "no key lost, and the seed was not applied a second time"
    );
    let aliases = run_json(aws(&ep).args(["kms", "list-aliases", "--key-id", &key_id]));
    assert_eq!(aliases["Aliases"][0]["AliasName"], "alias/Persisted");

    // The key material survived: the data key still decrypts.
    let blob = base64::engine::general_purpose::STANDARD
        .decode(dk["CiphertextBlob"].as_str().unwrap())
        .unwrap();
    let blob_path = dir.path().join("dk.enc");
    std::fs::write(&blob_path, blob).unwrap();
    let d = run_json(aws(&ep).args([
        "kms",
        "decrypt",
        "--ciphertext-blob",
        &format!("fileb://{}", blob_path.display()),
        "--encryption-context",
        "project=workshop",
    ]));
    assert_eq!(d["Plaintext"], dk["Plaintext"]);

    // The event history survived, with the same event ids.
    let gdk_after = run_json(aws(&ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
    ]));
    let after_ids: Vec<&str> = gdk_after["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert!(
        after_ids.contains(&gdk_id.as_str()),
        "{after_ids:?} should contain {gdk_id}"
    );
    for name in ["CreateKey", "CreateAlias"] {
        let attr = format!("AttributeKey=EventName,AttributeValue={name}");
        let found =
            run_json(aws(&ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &attr]));
        assert_eq!(
            found["Events"].as_array().unwrap().len(),
            1,
            "{name} event after restart"
        );
    }

    // The clock offset survived too.
    let shown = Command::new(bin())
        .args(["sandbox", "clock", "show", "--endpoint", &ep])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    let now = time::OffsetDateTime::parse(
        String::from_utf8_lossy(&shown.stdout).trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        now > time::OffsetDateTime::now_utc() + time::Duration::days(1),
        "sandbox clock {now} lost its 2-day advance"
    );
}

#[test]
fn kill_9_during_a_stream_of_writes_loses_nothing_acknowledged() {
    const WRITERS: usize = 2;
    const MIN_ACKED_BEFORE_KILL: usize = 60;
    const MAX_WRITES_PER_WRITER: usize = 5000;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let rt = runtime();
    let mut acked_keys: BTreeSet<String> = BTreeSet::new();
    let mut acked_aliases: BTreeMap<String, String> = BTreeMap::new();

    // Round 0 is killed mid-write; round 1 reopens that state and is killed again; round 2 is
    // stopped with SIGTERM while the writers are busy, which must end cleanly and keep
    // everything too.
    for round in 0..3 {
        let mut sb = start_with_state(&state);
        let ep = sb.endpoint.clone();
        let keys = Arc::new(Mutex::new(Vec::<String>::new()));
        let aliases = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let killed = Arc::new(AtomicBool::new(false));
        let early_errors = Arc::new(Mutex::new(Vec::<String>::new()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (ep, keys, aliases, killed, early_errors) = (
                    ep.clone(),
                    keys.clone(),
                    aliases.clone(),
                    killed.clone(),
                    early_errors.clone(),
                );
                std::thread::spawn(move || {
                    runtime().block_on(async move {
                        let client = kms_client(&ep);
                        for i in 0..MAX_WRITES_PER_WRITER {
                            let created = client
                                .create_key()
                                .description(format!("stream r{round} w{w} #{i}"))
                                .send()
                                .await;
                            let key_id = match created {
                                Ok(out) => out.key_metadata().unwrap().key_id().to_string(),
                                Err(e) => {
                                    if !killed.load(Ordering::SeqCst) {
                                        early_errors.lock().unwrap().push(format!("{e:?}"));
                                    }
                                    return;
                                }
                            };
                            keys.lock().unwrap().push(key_id.clone());
                            let alias = format!("alias/stream-r{round}-w{w}-{i}");
                            match client
                                .create_alias()
                                .alias_name(&alias)
                                .target_key_id(&key_id)
                                .send()
                                .await
                            {
                                Ok(_) => aliases.lock().unwrap().push((alias, key_id)),
                                Err(e) => {
                                    if !killed.load(Ordering::SeqCst) {
                                        early_errors.lock().unwrap().push(format!("{e:?}"));
                                    }
                                    return;
                                }
                            }
                        }
                    })
                })
            })
            .collect();

        let deadline = Instant::now() + Duration::from_secs(300);
        while keys.lock().unwrap().len() < MIN_ACKED_BEFORE_KILL {
            assert!(
                Instant::now() < deadline,
                "the writers did not get {MIN_ACKED_BEFORE_KILL} keys acknowledged"
            );
            assert!(
                early_errors.lock().unwrap().is_empty(),
                "writes failed before the kill: {:?}",
                early_errors.lock().unwrap()
            );
            assert!(
                !writers.iter().all(|w| w.is_finished()),
                "writers stopped early: {:?}",
                early_errors.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        killed.store(true, Ordering::SeqCst);
        if round < 2 {
            sb.kill9();
        } else {
            stop_gracefully(&mut sb);
        }
        for w in writers {
            w.join().expect("writer thread");
        }
        assert!(
            early_errors.lock().unwrap().is_empty(),
            "writes failed before the kill: {:?}",
            early_errors.lock().unwrap()
        );
        eprintln!(
            "round {round}: stopped after {} keys and {} aliases were acknowledged",
            keys.lock().unwrap().len(),
            aliases.lock().unwrap().len()
        );
        acked_keys.extend(keys.lock().unwrap().iter().cloned());
        acked_aliases.extend(aliases.lock().unwrap().iter().cloned());
    }

    // The state loads, and everything acknowledged is there.
    let sb = start_with_state(&state);
    let client = kms_client(&sb.endpoint);
    rt.block_on(async {
        let present = all_key_ids(&client).await;
        let missing: Vec<&String> = acked_keys.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged keys lost: {missing:?}",
            missing.len(),
            acked_keys.len()
        );
        let aliases = all_alias_names(&client).await;
        for (alias, target) in &acked_aliases {
            assert_eq!(
                aliases.get(alias),
                Some(target),
                "acknowledged alias {alias} lost or changed"
            );
        }
        // The recovered keys work: their material was persisted with them.
        let last = acked_keys.iter().next_back().unwrap();
        let enc = client
            .encrypt()
            .key_id(last)
            .plaintext(aws_sdk_kms::primitives::Blob::new(b"still here".to_vec()))
            .send()
            .await
            .expect("Encrypt with a recovered key");
        let dec = client
            .decrypt()
            .set_ciphertext_blob(enc.ciphertext_blob().cloned())
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(dec.plaintext().unwrap().as_ref(), b"still here");
        // And the sandbox takes new writes on the recovered state.
        client
            .create_key()
            .send()
            .await
            .expect("CreateKey after recovery");
    });
}

#[test]
fn a_state_directory_serves_one_sandbox_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut first = start_with_state(&state);
    let created =
        run_json(aws(&first.endpoint).args(["kms", "create-key", "--description", "first"]));
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let keys_before = run_json(aws(&first.endpoint).args(["kms", "list-keys"]));

    // A second sandbox on the same directory would append to the same log and each would
    // overwrite the other's writes: it must refuse to start.
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &[&state.display().to_string(), "in use"]);
    assert_eq!(
        snapshot_dir(&state),
        before,
        "the refused sandbox wrote nothing"
    );
    run_json(aws(&first.endpoint).args(["kms", "list-keys"]));

    // The lock dies with its process, even on kill -9.
    first.kill9();
    let second = start_with_state(&state);
    let keys = run_json(aws(&second.endpoint).args(["kms", "list-keys"]));
    assert_eq!(keys["Keys"], keys_before["Keys"]);
    assert!(keys["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["KeyId"] == key_id.as_str()));
}

// ---------------------------------------------------------------------------------------------
// Damaged or foreign state directories

/// A state directory with a few writes in its log, stopped gracefully.
fn used_state_dir(root: &Path) -> std::path::PathBuf {
    let state = root.join("state");
    let mut sb = start_with_state(&state);
    run_json(aws(&sb.endpoint).args(["kms", "create-key", "--description", "one"]));
    run_json(aws(&sb.endpoint).args(["kms", "create-key", "--description", "two"]));
    stop_gracefully(&mut sb);
    for f in ["sandbox.json", "state.json", "state.log", "events.log"] {
        assert!(
            state.join(f).is_file(),
            "{f} should exist in a used state directory"
        );
    }
    state
}

#[test]
fn garbage_in_state_json_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let state = used_state_dir(dir.path());
    std::fs::write(state.join("state.json"), b"this is not JSON {{{").unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["state.json"]);
    assert_eq!(
        snapshot_dir(&state),
        before,
        "a refused start must not change or delete anything"
    );
}

#[test]
fn damaged_log_lines_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let state = used_state_dir(dir.path());
    let log = state.join("state.log");
    let raw = std::fs::read(&log).unwrap();
    let lines = raw.iter().filter(|b| **b == b'\n').count();
    assert!(lines >= 2, "the log should hold the two CreateKey writes");
    // Flip a byte inside the first (complete) line: its checksum no longer matches.
    let mut damaged = raw.clone();
    damaged[20] ^= 0x20;
    std::fs::write(&log, &damaged).unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["state.log", "line 1"]);
    assert_eq!(snapshot_dir(&state), before);

    // The same for the CloudTrail history.
    std::fs::write(&log, &raw).unwrap();
    let events = state.join("events.log");
    let events_raw = std::fs::read(&events).unwrap();
    let mut ev = events_raw.clone();
    ev[12] ^= 0x20;
    std::fs::write(&events, &ev).unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["events.log"]);
    assert_eq!(snapshot_dir(&state), before);

    // Garbage in the marker file.
    std::fs::write(&events, &events_raw).unwrap();
    std::fs::write(state.join("sandbox.json"), b"\x00\x01 not a marker").unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["sandbox.json"]);
    assert_eq!(snapshot_dir(&state), before);
}

#[test]
fn foreign_directories_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("my-project");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"precious notes").unwrap();
    std::fs::create_dir(foreign.join("src")).unwrap();
    std::fs::write(foreign.join("src").join("main.rs"), b"fn main() {}").unwrap();
    let before = snapshot_dir(&foreign);
    let out = serve_expecting_refusal(&state_args(&foreign));
    assert_refused(
        &out,
        &[
            &foreign.display().to_string(),
            "not a kms-workshop sandbox state directory",
        ],
    );
    assert_eq!(
        snapshot_dir(&foreign),
        before,
        "nothing created, changed or deleted"
    );
    assert_eq!(
        std::fs::read(foreign.join("src").join("main.rs")).unwrap(),
        b"fn main() {}"
    );

    // A marker from another program is foreign too.
    let other = dir.path().join("other-tool");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(
        other.join("sandbox.json"),
        br#"{"format":"something-else","version":1}"#,
    )
    .unwrap();
    let before = snapshot_dir(&other);
    let out = serve_expecting_refusal(&state_args(&other));
    assert_refused(&out, &[&other.display().to_string()]);
    assert_eq!(snapshot_dir(&other), before);

    // A regular file where the directory should be.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = serve_expecting_refusal(&state_args(&file));
    assert_refused(&out, &[&file.display().to_string()]);
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

// ---------------------------------------------------------------------------------------------
// Malformed requests

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `__type` of an awsJson error.
    fn json_type(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()));
        v["__type"]
            .as_str()
            .unwrap_or_else(|| panic!("no __type: {}", self.text()))
            .to_string()
    }

    /// The `<Code>` of an awsQuery `<ErrorResponse>`.
    fn query_code(&self) -> String {
        let t = self.text();
        assert!(t.contains("<ErrorResponse"), "not an ErrorResponse: {t}");
        assert!(t.contains("<RequestId>"), "no RequestId: {t}");
        t.split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or_else(|| panic!("no <Code>: {t}"))
            .to_string()
    }

    /// The `__type` of an RPC v2 CBOR error.
    fn cbor_type(&self) -> String {
        let v: ciborium::value::Value = ciborium::de::from_reader(self.body.as_slice())
            .unwrap_or_else(|e| panic!("not CBOR ({e}): {:?}", self.body));
        let map = v
            .as_map()
            .unwrap_or_else(|| panic!("not a CBOR map: {v:?}"));
        map.iter()
            .find(|(k, _)| k.as_text() == Some("__type"))
            .and_then(|(_, v)| v.as_text())
            .unwrap_or_else(|| panic!("no __type: {v:?}"))
            .to_string()
    }

    fn assert_4xx(&self, what: &str) {
        eprintln!(
            "{what}: {} {} {}",
            self.status,
            self.content_type,
            self.text().chars().take(300).collect::<String>()
        );
        assert!(
            (400..500).contains(&self.status),
            "{what}: expected a 4xx, got {} {}",
            self.status,
            self.text()
        );
    }
}

/// Sign `headers` + `body` for `service` as the learner; returns the headers to send.
fn sign(
    endpoint: &str,
    service: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(
        LEARNER_ACCESS_KEY,
        LEARNER_SECRET_KEY,
        None,
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap();
    let host = endpoint.trim_start_matches("http://").to_string();
    let url = format!("{endpoint}{path}");
    let mut all: Vec<(String, String)> = vec![("host".into(), host)];
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let signable = SignableRequest::new(
        "POST",
        &url,
        all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params.into()).unwrap().into_parts();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    out
}

struct Client {
    endpoint: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Client {
    fn new(endpoint: &str) -> Client {
        Client {
            endpoint: endpoint.to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            rt: runtime(),
        }
    }

    /// POST with exactly these headers (besides Host and Content-Length).
    fn post(&self, path: &str, headers: &[(String, String)], body: Vec<u8>) -> Answer {
        self.rt.block_on(async {
            let mut req = self
                .http
                .post(format!("{}{path}", self.endpoint))
                .body(body);
            for (k, v) in headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let resp = req.send().await.expect("the sandbox answers");
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = resp.bytes().await.expect("answer body").to_vec();
            Answer {
                status,
                content_type,
                body,
            }
        })
    }

    fn signed(&self, service: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let hs = sign(&self.endpoint, service, path, headers, body);
        self.post(path, &hs, body.to_vec())
    }

    fn kms(&self, target: &str, body: &[u8]) -> Answer {
        self.signed(
            "kms",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", target),
            ],
            body,
        )
    }

    fn sts(&self, body: &[u8]) -> Answer {
        self.signed(
            "sts",
            "/",
            &[(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body,
        )
    }

    /// The server still answers well-formed requests.
    fn assert_serving(&self, after: &str) {
        let a = self.kms("TrentService.ListKeys", b"{}");
        assert_eq!(a.status, 200, "ListKeys after {after}: {}", a.text());
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert!(v["Keys"].as_array().is_some_and(|k| !k.is_empty()), "{v}");
        let a = self.sts(b"Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(
            a.status,
            200,
            "GetCallerIdentity after {after}: {}",
            a.text()
        );
        assert!(
            a.text().contains("<Account>111122223333</Account>"),
            "{}",
            a.text()
        );
    }
}

#[test]
fn malformed_kms_requests_get_json_errors_and_the_server_keeps_serving() {
    let sb = SandboxProc::start(&[]);
    let c = Client::new(&sb.endpoint);
    c.assert_serving("start");

    // Malformed JSON body.
    let a = c.kms(
        "TrentService.GenerateDataKey",
        br#"{"KeyId": "alias/ImportedCMK", "KeySpec": "#,
    );
    a.assert_4xx("malformed JSON");
    assert_eq!(a.json_type(), "SerializationException");
    assert!(
        a.content_type.starts_with("application/x-amz-json-1.1"),
        "{}",
        a.content_type
    );
    c.assert_serving("malformed JSON");

    // JSON that is not an object.
    let a = c.kms("TrentService.ListKeys", b"[1, 2, 3]");
    a.assert_4xx("JSON array body");
    assert_eq!(a.json_type(), "SerializationException");

    // A member of the wrong type.
    let a = c.kms(
        "TrentService.GenerateDataKey",
        br#"{"KeyId": 42, "KeySpec": "AES_256"}"#,
    );
    a.assert_4xx("number where a string belongs");
    assert!(!a.json_type().is_empty());
    c.assert_serving("wrong member type");

    // Wrong Content-Type.
    let a = c.signed(
        "kms",
        "/",
        &[
            ("content-type", "text/plain"),
            ("x-amz-target", "TrentService.ListKeys"),
        ],
        b"{}",
    );
    a.assert_4xx("wrong Content-Type");
    assert!(!a.json_type().is_empty());
    c.assert_serving("wrong Content-Type");

    // Missing X-Amz-Target.
    let a = c.signed(
        "kms",
        "/",
        &[("content-type", "application/x-amz-json-1.1")],
        b"{}",
    );
    a.assert_4xx("missing X-Amz-Target");
    assert!(!a.json_type().is_empty());
    c.assert_serving("missing X-Amz-Target");

    // Unknown operation.
    let a = c.kms("TrentService.FlyToTheMoon", b"{}");
    a.assert_4xx("unknown operation");
    assert_eq!(a.json_type(), "UnknownOperationException");
    c.assert_serving("unknown operation");

    // No Authorization header at all.
    let unsigned = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "TrentService.ListKeys".to_string(),
        ),
    ];
    let a = c.post("/", &unsigned, b"{}".to_vec());
    a.assert_4xx("missing Authorization");
    assert_eq!(a.json_type(), "MissingAuthenticationTokenException");
    c.assert_serving("missing Authorization");

    // An Authorization header that is not SigV4.
    let mut garbage_auth = unsigned.clone();
    garbage_auth.push(("authorization".into(), "Bearer abc.def.ghi".into()));
    let a = c.post("/", &garbage_auth, b"{}".to_vec());
    a.assert_4xx("non-SigV4 Authorization");
    assert!(!a.json_type().is_empty());
    c.assert_serving("non-SigV4 Authorization");

    // A body of 10 MB.
    let mut big = br#"{"KeyId": "alias/ImportedCMK", "Plaintext": ""#.to_vec();
    big.resize(10 * 1024 * 1024, b'A');
    big.extend_from_slice(br#""}"#);
    let a = c.kms("TrentService.Encrypt", &big);
    a.assert_4xx("10 MB body");
    assert!(!a.json_type().is_empty());
    c.assert_serving("10 MB body");

    // The body was signed, then changed.
    let hs = sign(
        &c.endpoint,
        "kms",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.ListKeys"),
        ],
        b"{}",
    );
    let a = c.post("/", &hs, br#"{"Limit": 1}"#.to_vec());
    a.assert_4xx("tampered body");
    assert_eq!(a.json_type(), "InvalidSignatureException");
    c.assert_serving("tampered body");
}

#[test]
fn malformed_query_and_cbor_requests_get_aws_shaped_errors() {
    let sb = SandboxProc::start(&[]);
    let c = Client::new(&sb.endpoint);
    c.assert_serving("start");

    // STS: unknown action.
    let a = c.sts(b"Action=FlyToTheMoon&Version=2011-06-15");
    a.assert_4xx("unknown STS action");
    assert_eq!(a.query_code(), "InvalidAction");
    assert!(a.content_type.contains("xml"), "{}", a.content_type);
    c.assert_serving("unknown STS action");

    // STS: no Action at all, and a body that is not a form.
    let a = c.sts(b"Version=2011-06-15");
    a.assert_4xx("missing Action");
    assert!(!a.query_code().is_empty());
    let a = c.sts(b"%%%\xff\xfe{not a form");
    a.assert_4xx("garbage form");
    assert!(!a.query_code().is_empty());
    c.assert_serving("garbage form");

    // STS: wrong Content-Type.
    let a = c.signed(
        "sts",
        "/",
        &[("content-type", "application/json")],
        br#"{"Action": "GetCallerIdentity"}"#,
    );
    a.assert_4xx("STS with a JSON body");
    assert!(!a.query_code().is_empty());
    c.assert_serving("STS with a JSON body");

    // STS: no Authorization header.
    let a = c.post(
        "/",
        &[(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
    );
    a.assert_4xx("unsigned STS");
    assert_eq!(a.query_code(), "MissingAuthenticationToken");
    c.assert_serving("unsigned STS");

    // STS: 10 MB form.
    let mut big = b"Action=GetCallerIdentity&Version=2011-06-15&Padding=".to_vec();
    big.resize(10 * 1024 * 1024, b'x');
    let a = c.sts(&big);
    a.assert_4xx("10 MB form");
    assert!(!a.query_code().is_empty());
    c.assert_serving("10 MB form");

    // RPC v2 CBOR (CloudWatch's protocol for the Rust SDK): garbage body.
    let path = "/service/GraniteServiceVersion20100801/operation/ListMetrics";
    let a = c.signed(
        "monitoring",
        path,
        &[
            ("content-type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("accept", "application/cbor"),
        ],
        b"\xff\xfe\xfd garbage, not CBOR \x1f\x00",
    );
    a.assert_4xx("garbage CBOR");
    assert!(!a.cbor_type().is_empty());
    c.assert_serving("garbage CBOR");

    // CloudTrail (awsJson1.1 too): malformed JSON and an unknown operation.
    let target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
    let a = c.signed(
        "cloudtrail",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ],
        b"{\"MaxResults\": ",
    );
    a.assert_4xx("malformed CloudTrail JSON");
    assert_eq!(a.json_type(), "SerializationException");
    let a = c.signed(
        "cloudtrail",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.Nope",
            ),
        ],
        b"{}",
    );
    a.assert_4xx("unknown CloudTrail operation");
    assert_eq!(a.json_type(), "UnknownOperationException");
    c.assert_serving("CloudTrail errors");
}
