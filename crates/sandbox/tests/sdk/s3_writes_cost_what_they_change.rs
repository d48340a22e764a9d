//! An S3 write costs what it changes: object bytes are kept apart from the state (one blob per
//! content), so a small upload next to a large object adds a small record to the state's log,
//! not another copy of every object in the region; the bytes survive restarts, states written
//! before keep their objects, and bytes nothing names any more are let go.

use crate::common;

use kms_workshop_sandbox::store::Store;
use kms_workshop_sandbox::{seed, Config, Sandbox};

fn in_dir(dir: &std::path::Path) -> Config {
    Config {
        state_dir: Some(dir.to_path_buf()),
        ..Config::default()
    }
}

async fn s3_of(ep: &str) -> aws_sdk_s3::Client {
    let cfg = common::learner_config(ep).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    )
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get");
    out.body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

fn log_len(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("state.log"))
        .map(|m| m.len())
        .unwrap_or(0)
}

#[tokio::test]
async fn small_writes_beside_a_large_object_add_little_and_bytes_survive_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    let sb = Sandbox::open(in_dir(dir.path())).expect("sandbox");
    let running = common::serve(&sb).await;
    let s3 = s3_of(&running.endpoint()).await;
    s3.create_bucket()
        .bucket("big")
        .send()
        .await
        .expect("bucket");
    let large: Vec<u8> = (0..2 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket("big")
        .key("large.bin")
        .body(large.clone().into())
        .send()
        .await
        .expect("put large");
    let before = log_len(dir.path());
    for i in 0..10 {
        s3.put_object()
            .bucket("big")
            .key(format!("small-{i}.txt"))
            .body(b"a few bytes".to_vec().into())
            .send()
            .await
            .expect("put small");
    }
    let grown = log_len(dir.path()).saturating_sub(before);
    eprintln!("ten small writes beside a 2 MiB object grew the log by {grown} bytes");
    // Each write used to log the region's whole S3 state: the large object, base64, ten times.
    assert!(
        grown < 200 * 1024,
        "ten small writes grew the log by {grown} bytes"
    );
    running.shutdown().await;
    drop(sb);

    let sb = Sandbox::open(in_dir(dir.path())).expect("reopened");
    let running = common::serve(&sb).await;
    let s3 = s3_of(&running.endpoint()).await;
    assert_eq!(read(&s3, "big", "large.bin").await, large);
    s3.delete_object()
        .bucket("big")
        .key("large.bin")
        .send()
        .await
        .expect("delete");
    running.shutdown().await;
    drop(sb);
    // Reopened, the bytes nothing names are gone from the disk.
    drop(Sandbox::open(in_dir(dir.path())).expect("reopened"));
    let blobs: u64 = std::fs::read_dir(dir.path().join("blobs"))
        .expect("blobs")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    assert!(
        blobs < 1024 * 1024,
        "{blobs} bytes of blobs after the delete"
    );
}

#[tokio::test]
async fn objects_of_a_state_from_before_blobs_are_kept() {
    let dir = tempfile::tempdir().expect("dir");
    drop(Sandbox::open(in_dir(dir.path())).expect("sandbox"));
    // What an older build stored: the bytes inline, base64, in the region's S3 state.
    let (store, loaded) = Store::open(dir.path()).expect("store");
    let world = loaded.world.expect("a world");
    let bucket = kms_workshop_names::bucket(seed::ACCOUNT);
    let mut s3 = world["accounts"][seed::ACCOUNT]["regions"][seed::REGION]["s3"].clone();
    let version =
        &mut s3["buckets"][&bucket]["objects"][kms_workshop_sandbox::services::s3::SAMPLE_FILE][0];
    version["data"] = serde_json::json!(kms_workshop_sandbox::util::b64(b"legacy bytes"));
    // An older build kept neither the bytes apart nor the uploader's checksum.
    version.as_object_mut().expect("object").remove("blob");
    version.as_object_mut().expect("object").remove("checksum");
    store
        .put(
            &["accounts", seed::ACCOUNT, "regions", seed::REGION, "s3"],
            s3,
        )
        .expect("put");
    drop(store);
    let sb = Sandbox::open(in_dir(dir.path())).expect("reopened");
    let running = common::serve(&sb).await;
    let s3 = s3_of(&running.endpoint()).await;
    assert_eq!(
        read(
            &s3,
            &bucket,
            kms_workshop_sandbox::services::s3::SAMPLE_FILE
        )
        .await,
        b"legacy bytes"
    );
}
