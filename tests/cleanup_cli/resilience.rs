//! Injected throttling and 5xx are ridden out; runs killed with SIGKILL resume from the
//! journal without repeating what they finished.

use super::*;

#[test]
fn throttling_and_server_errors_are_ridden_out() {
    let sb = SandboxProc::start(&[]);
    let added = add_monitoring(&sb.endpoint);
    let keys = workshop_keys(&sb.endpoint);
    admin(
        &sb.endpoint,
        "POST",
        "/_sandbox/faults?throttle=0.2&error5xx=0.1",
    );
    let out = run(&mut cleanup_command(
        &sb.endpoint,
        &["--yes", "--time-scale", "50"],
    ));
    admin(&sb.endpoint, "DELETE", "/_sandbox/faults");
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_workshop_gone(&sb.endpoint, &added, &keys);
    assert_lookalikes_untouched(&sb.endpoint, &added);
}

#[test]
fn killed_runs_resume_from_the_journal_without_repeating_work() {
    // Realistic lifecycles, ten times faster: terminating the instance takes seconds, which
    // leaves room to kill the clean-up while it waits.
    let sb = SandboxProc::start(&["--latency", "realistic", "--time-scale", "10"]);
    let added = add_monitoring(&sb.endpoint);
    let keys = workshop_keys(&sb.endpoint);
    let dir = tempfile::tempdir().expect("tempdir");
    let journal_dir = dir.path().to_str().expect("utf-8 path").to_string();
    let journal = dir.path().join(format!("cleanup-{ACCOUNT}.jsonl"));
    let mut kills = 0;
    for at in [1usize, 6, 12] {
        let child = cleanup_command(
            &sb.endpoint,
            &["--yes", "--journal", &journal_dir, "--time-scale", "10"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cleanup");
        if kill_after_done(child, &journal, at, &[0, 1]) {
            kills += 1;
        }
    }
    assert!(kills >= 1, "no run was interrupted");
    eprintln!("interrupted {kills} run(s) with SIGKILL");
    let out = run(&mut cleanup_command(
        &sb.endpoint,
        &["--yes", "--journal", &journal_dir, "--time-scale", "10"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_workshop_gone(&sb.endpoint, &added, &keys);
    assert_lookalikes_untouched(&sb.endpoint, &added);

    // The journal: within a run, no action was done twice.
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in done_records(&journal) {
        let k = (
            r["run"].as_str().unwrap_or_default().to_string(),
            r["action"].as_str().unwrap_or_default().to_string(),
        );
        *seen.entry(k).or_default() += 1;
    }
    assert!(!seen.is_empty());
    for ((run, action), n) in &seen {
        assert_eq!(*n, 1, "{action} done {n} times in run {run}");
    }
    // CloudTrail: each policy detached once, each key scheduled once.
    let mut detached: BTreeMap<String, usize> = BTreeMap::new();
    for e in successful_events(&sb.endpoint, "DetachRolePolicy") {
        let arn = e["requestParameters"]["policyArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *detached.entry(arn).or_default() += 1;
    }
    // The clean-up detaches what the template does not declare; the stack detaches the rest.
    for arn in [
        "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser".to_string(),
        format!("arn:aws:iam::{ACCOUNT}:policy/KMS-Workshop-ImportMaterialPermissions"),
        format!("arn:aws:iam::{ACCOUNT}:policy/KMSWorkshop-RotationDisableOps"),
        format!("arn:aws:iam::{ACCOUNT}:policy/KMSWorkshop-AdditionalPermissions"),
    ] {
        assert_eq!(detached.get(&arn), Some(&1), "{arn}: {detached:?}");
    }
    for (arn, n) in &detached {
        assert_eq!(*n, 1, "{arn} detached {n} times");
    }
    let scheduled = successful_events(&sb.endpoint, "ScheduleKeyDeletion");
    assert_eq!(scheduled.len(), 2, "{scheduled:?}");
}

/// The workshop's trail logging into `bucket` (made first when `create`), as the learner set
/// it up.
fn trail_logging_into(ep: &str, bucket: &str, create: bool) {
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*")}]})
    .to_string();
    let make = vec!["s3api", "create-bucket", "--bucket", bucket];
    let rest = [
        vec![
            "s3api",
            "put-bucket-policy",
            "--bucket",
            bucket,
            "--policy",
            &policy,
        ],
        vec![
            "cloudtrail",
            "create-trail",
            "--name",
            kms_workshop_names::TRAIL,
            "--s3-bucket-name",
            bucket,
        ],
        vec![
            "cloudtrail",
            "start-logging",
            "--name",
            kms_workshop_names::TRAIL,
        ],
    ];
    for args in create.then_some(make).into_iter().chain(rest) {
        let out = aws(ep).args(&args).output().expect("aws");
        assert!(out.status.success(), "{args:?}: {}", output_text(&out));
    }
}

/// CloudTrail's last log file lands after the clean-up emptied the trail's bucket (on AWS it
/// comes minutes after the trail stopped): DeleteBucket answers BucketNotEmpty, and the
/// clean-up empties the bucket again instead of failing.
#[test]
fn the_trails_last_log_file_is_emptied_again() {
    let sb = SandboxProc::start(&["--trail-last-log-file"]);
    let ep = sb.endpoint.as_str();
    let bucket = kms_workshop_names::trail_bucket(ACCOUNT, REGION);
    trail_logging_into(ep, &bucket, true);
    let out = run(&mut cleanup_command(ep, &["--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("emptied again"),
        "{}",
        output_text(&out)
    );
    let gone = aws(ep)
        .args(["s3api", "head-bucket", "--bucket", &bucket])
        .output()
        .expect("aws");
    assert!(!gone.status.success(), "the bucket is left");
}

/// The stack's deletion fails once (the trail's last log file lands in the stack's bucket,
/// where the learner pointed the trail), and after the second DeleteStack CloudFormation
/// still reads DELETE_FAILED for some seconds: that reading is the first attempt's, and the
/// clean-up waits for the second attempt's outcome instead of giving up on it.
#[test]
fn a_stacks_earlier_delete_failed_is_not_the_new_attempts_outcome() {
    let sb = SandboxProc::start(&["--trail-last-log-file", "--stack-status-lag", "5s"]);
    let ep = sb.endpoint.as_str();
    trail_logging_into(ep, &kms_workshop_names::bucket(ACCOUNT), false);
    let out = run(&mut cleanup_command(ep, &["--yes"]));
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("DELETE_FAILED"),
        "the first attempt failed: {text}"
    );
    let stacks = aws(ep)
        .args(["cloudformation", "describe-stacks", "--stack-name"])
        .arg(kms_workshop_names::STACK)
        .output()
        .expect("aws");
    let shown = String::from_utf8_lossy(&stacks.stdout);
    assert!(
        !stacks.status.success() || shown.contains("DELETE_COMPLETE"),
        "the stack is left: {shown}"
    );
}
