//! Persistence and secrets at rest: the state directory holds key material, every credential
//! and all S3 data, so it is the owner's alone (0700, its files 0600); and a call that fails
//! changes nothing, in memory or on disk.

use std::os::unix::fs::PermissionsExt;

use crate::common;

use aws_sdk_sns::types::Tag;
use common::{learner_config, serve};
use kms_workshop_sandbox::{Config, Sandbox};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn the_state_directory_and_its_files_are_the_owners_alone() {
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("state");
    let sb = Sandbox::open(Config {
        state_dir: Some(dir.clone()),
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let cfg = learner_config(&format!("http://{}", running.addr)).await;
    aws_sdk_kms::Client::new(&cfg)
        .create_key()
        .send()
        .await
        .expect("a write");
    assert_eq!(mode(&dir), 0o700, "the directory");
    let mut dirs = vec![dir.clone()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                dirs.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
    running.shutdown().await;
}

#[tokio::test]
async fn a_call_that_fails_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || Config {
        state_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let sb = Sandbox::open(config()).expect("sandbox");
    let running = serve(&sb).await;
    let cfg = learner_config(&format!("http://{}", running.addr)).await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let arn = sns
        .create_topic()
        .name("tagged")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_string();
    let tag = |k: String| Tag::builder().key(k).value("v").build().expect("tag");
    let mut fifty = sns.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        fifty = fifty.tags(tag(format!("k{i}")));
    }
    fifty.send().await.expect("fifty tags");
    let err = sns
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("one-too-many".into()))
        .send()
        .await
        .expect_err("the 51st tag");
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("TagLimitExceeded")
    );
    let count = |sns: aws_sdk_sns::Client| {
        let arn = arn.clone();
        async move {
            sns.list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .expect("list tags")
                .tags()
                .len()
        }
    };
    assert_eq!(count(sns.clone()).await, 50, "in memory");
    running.shutdown().await;
    drop(sb);
    let sb = Sandbox::open(config()).expect("reopen");
    let running = serve(&sb).await;
    let cfg = learner_config(&format!("http://{}", running.addr)).await;
    assert_eq!(count(aws_sdk_sns::Client::new(&cfg)).await, 50, "on disk");
    running.shutdown().await;
}

/// The marker of `dir` with its version set to `version`, as the build of that version wrote it.
fn mark(dir: &std::path::Path, version: u64) -> String {
    let path = dir.join("sandbox.json");
    let mut marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("marker")).expect("marker JSON");
    marker["version"] = version.into();
    let text = marker.to_string();
    std::fs::write(&path, &text).expect("marker written");
    text
}

/// A state directory of an older version that this build opens and then refuses (its state
/// does not fit, or it belongs to another account than asked) is left as the older build
/// wrote it: its marker still names that version, so that build still opens it. Only what
/// this build writes makes it this version's.
#[test]
fn an_older_state_refused_after_it_was_read_keeps_its_version() {
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("state");
    let config = || Config {
        state_dir: Some(dir.clone()),
        ..Config::default()
    };
    drop(Sandbox::open(config()).expect("a new state"));

    // Another account than the state's. Version 1 kept its history as JSON lines in
    // `events.log` (here an empty one), which this build migrates once it accepts the state.
    let older = mark(&dir, 1);
    let legacy = dir.join("events.log");
    std::fs::write(&legacy, b"").expect("a version-1 history");
    let refused = Sandbox::open(Config {
        account_id: Some("123456789012".into()),
        ..config()
    });
    assert!(refused.is_err(), "another account is refused");
    let marker = std::fs::read_to_string(dir.join("sandbox.json")).expect("marker");
    assert_eq!(marker, older, "refused for its account");
    assert!(legacy.exists(), "its history is as it was");

    // A state this build cannot read as its own.
    let state = dir.join("state.json");
    let good = std::fs::read(&state).expect("snapshot");
    let mut snapshot: serde_json::Value = serde_json::from_slice(&good).expect("snapshot JSON");
    let world = snapshot["world"].clone();
    snapshot["world"]["accounts"] = 5.into();
    std::fs::write(&state, snapshot.to_string()).expect("snapshot written");
    std::fs::write(dir.join("state.log"), b"").expect("log emptied");
    let refused = Sandbox::open(config());
    assert!(refused.is_err(), "a state that does not fit is refused");
    let marker = std::fs::read_to_string(dir.join("sandbox.json")).expect("marker");
    assert_eq!(marker, older, "refused for its state");
    assert!(legacy.exists(), "its history is as it was");

    // Readable again, it opens, and becomes this version's as its history is migrated.
    snapshot["world"] = world;
    std::fs::write(&state, snapshot.to_string()).expect("snapshot written");
    drop(Sandbox::open(config()).expect("the older state opens"));
    assert!(!legacy.exists(), "its history is migrated");
    let marker: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sandbox.json")).expect("marker"))
            .expect("marker JSON");
    assert_eq!(
        marker["version"],
        kms_workshop_sandbox::store::VERSION,
        "{marker}"
    );
}

/// A read-only call's record is written by the server itself after the answer: with nobody
/// reading the history and no call after it, the history file still grows to hold it (the
/// server's one-second tick writes whatever waits), so a process stopped later, however it
/// stops, keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_calls_record_reaches_the_disk_unasked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sb, running) = common::start_sandbox(Config {
        state_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    })
    .await;
    let cfg = learner_config(&format!("http://{}", running.addr)).await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms.create_key().send().await.expect("a key");
    let key_id = key.key_metadata().expect("its metadata").key_id();
    // CreateKey changes state: its record was written before its answer.
    let file = dir.path().join("events.bin");
    let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
    let before = size();
    assert!(before > 0, "the history file holds CreateKey's record");
    kms.generate_data_key()
        .key_id(key_id)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .send()
        .await
        .expect("a data key");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while size() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "GenerateDataKey's record never reached {}",
            file.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    running.shutdown().await;
}
