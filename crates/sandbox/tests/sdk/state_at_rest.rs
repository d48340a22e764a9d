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
