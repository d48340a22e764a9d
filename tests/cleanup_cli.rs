//! End-to-end tests of `kms-workshop cleanup` against `kms-workshop sandbox serve`: a dry run
//! changes nothing, a real run removes every workshop resource and no lookalike, a second run
//! has nothing to do, injected throttling and 5xx are ridden out, and runs killed with SIGKILL
//! resume from the journal without repeating what they finished.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run kms-workshop cleanup")
}

fn aws_json(endpoint: &str, args: &[&str]) -> Value {
    run_json(aws(endpoint).args(args))
}

/// A raw request to the sandbox's admin API (no SDK involved).
fn admin(endpoint: &str, method: &str, path: &str) -> String {
    let (status, body) = common::http::control(endpoint, method, path);
    assert_eq!(status, 200, "{method} {path}: {body}");
    body
}

/// What the monitoring chapter adds (steps 3–5): the topic with a confirmed subscription, the
/// rule with the topic as target, an alarm on ImportedCMK's expiry metric; plus a key of
/// another project that must survive.
struct Added {
    topic: String,
    rule: String,
    alarm: String,
    other_key: String,
}

fn add_monitoring(endpoint: &str) -> Added {
    let topic = aws_json(endpoint, &["sns", "create-topic", "--name", "snsworkshop"])["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_string();
    aws_json(
        endpoint,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "learner@example.com",
        ],
    );
    let confirm = Command::new(bin())
        .args(["sandbox", "confirm", "--endpoint", endpoint])
        .output()
        .expect("confirm");
    assert!(confirm.status.success(), "{}", output_text(&confirm));
    let rule = "KMSWorkshop-GenerateDataKey".to_string();
    aws_json(
        endpoint,
        &[
            "events",
            "put-rule",
            "--name",
            &rule,
            "--state",
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
            "--event-pattern",
            r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["GenerateDataKey"]}}"#,
        ],
    );
    aws_json(
        endpoint,
        &[
            "events",
            "put-targets",
            "--rule",
            &rule,
            "--targets",
            &format!("Id=sns,Arn={topic}"),
        ],
    );
    let k3 = aws_json(
        endpoint,
        &["kms", "describe-key", "--key-id", "alias/ImportedCMK"],
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    // The workshop's alarm is the workshop's by its exact name (the guided run's).
    let alarm = kms_workshop_names::ALARM.to_string();
    aws_json(
        endpoint,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            &alarm,
            "--namespace",
            "AWS/KMS",
            "--metric-name",
            "SecondsUntilKeyMaterialExpiration",
            "--dimensions",
            &format!("Name=KeyId,Value={k3}"),
            "--statistic",
            "Minimum",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "864000",
            "--comparison-operator",
            "LessThanOrEqualToThreshold",
            "--alarm-actions",
            &topic,
        ],
    );
    let other_key = aws_json(
        endpoint,
        &[
            "kms",
            "create-key",
            "--description",
            "billing exports",
            "--tags",
            "TagKey=project,TagValue=billing",
        ],
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    Added {
        topic,
        rule,
        alarm,
        other_key,
    }
}

/// Everything every service holds, as the aws CLI lists it.
fn snapshot(endpoint: &str) -> BTreeMap<String, Value> {
    let mut s = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        s.insert(k.to_string(), v);
    };
    let keys = aws_json(endpoint, &["kms", "list-keys"]);
    for k in keys["Keys"].as_array().cloned().unwrap_or_default() {
        let id = k["KeyId"].as_str().unwrap_or_default().to_string();
        put(
            &format!("kms key {id}"),
            aws_json(endpoint, &["kms", "describe-key", "--key-id", &id]),
        );
    }
    put("kms aliases", aws_json(endpoint, &["kms", "list-aliases"]));
    let roles = aws_json(endpoint, &["iam", "list-roles"]);
    for r in roles["Roles"].as_array().cloned().unwrap_or_default() {
        let name = r["RoleName"].as_str().unwrap_or_default().to_string();
        put(
            &format!("iam role {name} policies"),
            aws_json(
                endpoint,
                &["iam", "list-attached-role-policies", "--role-name", &name],
            ),
        );
    }
    put("iam roles", roles);
    put(
        "iam policies",
        aws_json(endpoint, &["iam", "list-policies", "--scope", "Local"]),
    );
    put(
        "iam instance profiles",
        aws_json(endpoint, &["iam", "list-instance-profiles"]),
    );
    put(
        "ec2 instances",
        aws_json(endpoint, &["ec2", "describe-instances"]),
    );
    put(
        "ec2 volumes",
        aws_json(endpoint, &["ec2", "describe-volumes"]),
    );
    put(
        "ec2 associations",
        aws_json(
            endpoint,
            &["ec2", "describe-iam-instance-profile-associations"],
        ),
    );
    let buckets = aws_json(endpoint, &["s3api", "list-buckets"]);
    for b in buckets["Buckets"].as_array().cloned().unwrap_or_default() {
        let name = b["Name"].as_str().unwrap_or_default().to_string();
        put(
            &format!("s3 {name} objects"),
            aws_json(
                endpoint,
                &["s3api", "list-object-versions", "--bucket", &name],
            ),
        );
    }
    put("s3 buckets", buckets);
    put("sns topics", aws_json(endpoint, &["sns", "list-topics"]));
    put(
        "sns subscriptions",
        aws_json(endpoint, &["sns", "list-subscriptions"]),
    );
    let rules = aws_json(endpoint, &["events", "list-rules"]);
    for r in rules["Rules"].as_array().cloned().unwrap_or_default() {
        let name = r["Name"].as_str().unwrap_or_default().to_string();
        put(
            &format!("events rule {name} targets"),
            aws_json(
                endpoint,
                &["events", "list-targets-by-rule", "--rule", &name],
            ),
        );
    }
    put("events rules", rules);
    // An alarm's state moves with the sandbox clock on its own (evaluation), not by anything a
    // clean-up does: compare the alarms' configuration only.
    let mut alarms = aws_json(endpoint, &["cloudwatch", "describe-alarms"]);
    if let Some(list) = alarms["MetricAlarms"].as_array_mut() {
        for a in list.iter_mut().filter_map(Value::as_object_mut) {
            a.retain(|k, _| !k.starts_with("State"));
        }
    }
    put("cloudwatch alarms", alarms);
    put(
        "cloudformation stacks",
        aws_json(endpoint, &["cloudformation", "describe-stacks"]),
    );
    s
}

fn key_state(endpoint: &str, key: &str) -> String {
    aws_json(endpoint, &["kms", "describe-key", "--key-id", key])["KeyMetadata"]["KeyState"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn fails_with(cmd: &mut Command, code: &str) {
    let out = run_fail(cmd);
    let err = stderr_of(&out);
    assert!(err.contains(code), "expected {code}: {err}");
}

/// The workshop's key ids behind the two aliases.
fn workshop_keys(endpoint: &str) -> (String, String) {
    let id = |alias: &str| {
        aws_json(endpoint, &["kms", "describe-key", "--key-id", alias])["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("KeyId")
            .to_string()
    };
    (id("alias/FirstCMK"), id("alias/ImportedCMK"))
}

fn assert_lookalikes_untouched(endpoint: &str, added: &Added) {
    aws_json(
        endpoint,
        &common::words("iam get-role --role-name KMSWorkshop-InstanceInitRole-prod"),
    );
    let attached = aws_json(
        endpoint,
        &common::words(
            "iam list-attached-role-policies --role-name KMSWorkshop-InstanceInitRole-prod",
        ),
    );
    assert_eq!(
        attached["AttachedPolicies"].as_array().map(Vec::len),
        Some(1),
        "{attached}"
    );
    for p in [
        "KMSWorkshop-AdditionalPermissions-prod",
        "KMSWorkshop-RotationDisableOps-prod",
    ] {
        aws_json(
            endpoint,
            &[
                "iam",
                "get-policy",
                "--policy-arn",
                &format!("arn:aws:iam::{ACCOUNT}:policy/{p}"),
            ],
        );
    }
    let objects = aws_json(
        endpoint,
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            &format!("kmsworkshop-archive-{ACCOUNT}"),
        ],
    );
    assert_eq!(
        objects["Contents"].as_array().map(Vec::len),
        Some(1),
        "{objects}"
    );
    let batch = aws_json(
        endpoint,
        &common::words("ec2 describe-instances --filters Name=tag:Name,Values=billing-batch"),
    );
    assert_eq!(
        batch["Reservations"][0]["Instances"][0]["State"]["Name"], "running",
        "{batch}"
    );
    let topics = aws_json(endpoint, &["sns", "list-topics"]).to_string();
    assert!(topics.contains(":snsworkshop-billing"), "{topics}");
    let subs = aws_json(endpoint, &["sns", "list-subscriptions"]).to_string();
    assert!(subs.contains("billing-alerts@example.com"), "{subs}");
    assert_eq!(key_state(endpoint, &added.other_key), "Enabled");
    assert_eq!(key_state(endpoint, "alias/aws/ebs"), "Enabled");
}

fn assert_workshop_gone(endpoint: &str, added: &Added, keys: &(String, String)) {
    assert_eq!(key_state(endpoint, &keys.0), "PendingDeletion");
    assert_eq!(key_state(endpoint, &keys.1), "PendingDeletion");
    let aliases = aws_json(endpoint, &["kms", "list-aliases"]).to_string();
    assert!(!aliases.contains("alias/FirstCMK") && !aliases.contains("alias/ImportedCMK"));
    fails_with(
        aws(endpoint).args(common::words(
            "iam get-role --role-name KMSWorkshop-InstanceInitRole",
        )),
        "NoSuchEntity",
    );
    fails_with(
        aws(endpoint).args(common::words(
            "iam get-instance-profile --instance-profile-name KMSWorkshop-InstanceInitRole",
        )),
        "NoSuchEntity",
    );
    for p in [
        "KMS-Workshop-ImportMaterialPermissions",
        "KMSWorkshop-RotationDisableOps",
        "KMSWorkshop-AdditionalPermissions",
    ] {
        fails_with(
            aws(endpoint).args([
                "iam",
                "get-policy",
                "--policy-arn",
                &format!("arn:aws:iam::{ACCOUNT}:policy/{p}"),
            ]),
            "NoSuchEntity",
        );
    }
    let inst = aws_json(
        endpoint,
        &["ec2", "describe-instances", "--instance-ids", INSTANCE_ID],
    );
    assert_eq!(
        inst["Reservations"][0]["Instances"][0]["State"]["Name"], "terminated",
        "{inst}"
    );
    let vols = aws_json(
        endpoint,
        &common::words("ec2 describe-volumes --filters Name=tag:Name,Values=WorkshopEBS"),
    );
    assert_eq!(vols["Volumes"].as_array().map(Vec::len), Some(0), "{vols}");
    fails_with(
        aws(endpoint).args([
            "s3api",
            "head-bucket",
            "--bucket",
            &format!("kmsworkshop-{ACCOUNT}"),
        ]),
        "404",
    );
    let topics = aws_json(endpoint, &["sns", "list-topics"]).to_string();
    assert!(
        !topics.contains(&format!("\"{}\"", added.topic)),
        "{topics}"
    );
    let subs = aws_json(endpoint, &["sns", "list-subscriptions"]).to_string();
    assert!(!subs.contains("learner@example.com"), "{subs}");
    fails_with(
        aws(endpoint).args(["events", "describe-rule", "--name", &added.rule]),
        "ResourceNotFoundException",
    );
    let alarms = aws_json(
        endpoint,
        &[
            "cloudwatch",
            "describe-alarms",
            "--alarm-names",
            &added.alarm,
        ],
    );
    assert_eq!(
        alarms["MetricAlarms"].as_array().map(Vec::len),
        Some(0),
        "{alarms}"
    );
    let stacks = aws(endpoint)
        .args(common::words(
            "cloudformation describe-stacks --stack-name KMSWorkshop-Stack",
        ))
        .output()
        .expect("describe-stacks");
    if stacks.status.success() {
        let v: Value = serde_json::from_slice(&stacks.stdout).expect("JSON");
        assert_eq!(v["Stacks"][0]["StackStatus"], "DELETE_COMPLETE", "{v}");
    } else {
        assert!(
            stderr_of(&stacks).contains("does not exist"),
            "{}",
            stderr_of(&stacks)
        );
    }
}

#[test]
fn dry_run_changes_nothing_and_plans_no_lookalike() {
    let sb = SandboxProc::start(&[]);
    add_monitoring(&sb.endpoint);
    let before = snapshot(&sb.endpoint);
    let out = run(&mut cleanup_command(&sb.endpoint, &["--dry-run"]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("clean-up plan for account 111122223333"),
        "{stdout}"
    );
    assert!(
        stdout.contains("delete stack KMSWorkshop-Stack"),
        "{stdout}"
    );
    assert!(
        stdout.contains("already scheduled for deletion"),
        "{stdout}"
    );
    let json = run(&mut cleanup_command(
        &sb.endpoint,
        &["--dry-run", "--output", "json"],
    ));
    assert_eq!(json.status.code(), Some(0), "{}", output_text(&json));
    let v: Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    let plan = v["plan"].to_string();
    for lookalike in ["-prod", "archive", "billing", "alias/aws/"] {
        assert!(!plan.contains(lookalike), "{lookalike} in plan: {plan}");
    }
    let ops: Vec<&str> = v["plan"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["action"]["op"].as_str())
        .collect();
    for op in [
        "ScheduleKeyDeletion",
        "DeleteAlias",
        "DetachRolePolicy",
        "DisassociateInstanceProfile",
        "TerminateInstance",
        "DeleteVolume",
        "EmptyBucket",
        "DeleteStack",
        "RemoveTargets",
        "DeleteRule",
        "Unsubscribe",
        "DeleteTopic",
        "DeleteAlarms",
        "DeletePolicy",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    let after = snapshot(&sb.endpoint);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, v) in &before {
        assert_eq!(Some(v), after.get(k), "{k} changed by a dry run");
    }
}

#[test]
fn cleanup_removes_the_workshop_and_nothing_else_then_has_nothing_to_do() {
    let sb = SandboxProc::start(&[]);
    let added = add_monitoring(&sb.endpoint);
    let keys = workshop_keys(&sb.endpoint);
    let out = run(&mut cleanup_command(&sb.endpoint, &["--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("nothing left"), "{stdout}");
    assert_workshop_gone(&sb.endpoint, &added, &keys);
    assert_lookalikes_untouched(&sb.endpoint, &added);

    let again = run(&mut cleanup_command(
        &sb.endpoint,
        &["--yes", "--output", "json"],
    ));
    assert_eq!(again.status.code(), Some(0), "{}", output_text(&again));
    let v: Value = serde_json::from_slice(&again.stdout).expect("JSON report");
    assert_eq!(
        v["report"]["actions"].as_array().map(Vec::len),
        Some(0),
        "{v}"
    );
    assert_eq!(v["clean"], true);
    assert_lookalikes_untouched(&sb.endpoint, &added);
}

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

fn done_records(journal: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(journal) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["type"] == "done")
        .collect()
}

/// Successful calls of `event_name` the learner made (the clean-up's identity here), from the
/// sandbox's CloudTrail event history; the seed's own history is someone else's.
fn successful_events(endpoint: &str, event_name: &str) -> Vec<Value> {
    let v = aws_json(
        endpoint,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            &format!("AttributeKey=EventName,AttributeValue={event_name}"),
        ],
    );
    v["Events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| serde_json::from_str::<Value>(e["CloudTrailEvent"].as_str()?).ok())
        .filter(|r| r.get("errorCode").is_none())
        .filter(|r| r["userIdentity"]["accessKeyId"] == LEARNER_ACCESS_KEY)
        .collect()
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
        let mut child = cleanup_command(
            &sb.endpoint,
            &["--yes", "--journal", &journal_dir, "--time-scale", "10"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cleanup");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().expect("poll cleanup") {
                assert!(status.success() || status.code() == Some(1), "{status}");
                break;
            }
            if done_records(&journal).len() >= at {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                kills += 1;
                break;
            }
            assert!(Instant::now() < deadline, "cleanup made no progress");
            std::thread::sleep(Duration::from_millis(5));
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

#[test]
fn bad_flags_and_a_wrong_account_are_usage_errors() {
    let sb = SandboxProc::start(&[]);
    let out = run(&mut cleanup_command(&sb.endpoint, &["--key-window", "40"]));
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("--key-window"),
        "{}",
        output_text(&out)
    );
    let out = run(&mut cleanup_command(&sb.endpoint, &["--output", "yaml"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        output_text(&out).contains("text, json"),
        "{}",
        output_text(&out)
    );
    let out = run(&mut cleanup_command(
        &sb.endpoint,
        &["--yes", "--account-id", "999999999999"],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("does not match"),
        "{}",
        output_text(&out)
    );
    // Nothing was touched.
    aws_json(
        &sb.endpoint,
        &common::words("iam get-role --role-name KMSWorkshop-InstanceInitRole"),
    );
    // Unknown credentials: exit 3.
    let out = run(cleanup_command(&sb.endpoint, &["--dry-run"])
        .env("AWS_ACCESS_KEY_ID", "AKIANOBODY0000000000"));
    assert_eq!(out.status.code(), Some(3), "{}", output_text(&out));
}

/// Learner `k`'s account in a classroom sandbox (`sandbox serve --learners N`).
fn learner_account(k: u32) -> String {
    kms_workshop_names::sandbox::learner(k).account
}

#[test]
fn instructors_clean_every_learner_account_through_assumed_roles() {
    let sb = SandboxProc::start(&["--learners", "3"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("accounts.toml");
    let mut toml = String::from("regions = [\"us-east-1\"]\n");
    for k in 1..=3 {
        let account = learner_account(k);
        toml.push_str(&format!(
            "\n[[account]]\nid = \"{account}\"\nrole_arn = \"arn:aws:iam::{account}:role/OrganizationAccountAccessRole\"\n"
        ));
    }
    std::fs::write(&file, &toml).expect("write accounts file");
    let keys = common::keys(&sb.endpoint, Who::Instructor);
    let instructor = |args: &[&str]| {
        let mut c = cleanup_command(&sb.endpoint, args);
        c.env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key);
        c
    };
    let path = file.to_str().expect("utf-8 path");
    let out = run(&mut instructor(&[
        "--accounts",
        path,
        "--yes",
        "--output",
        "json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["accounts"].as_array().map(Vec::len), Some(3));
    for k in 1..=3 {
        let account = learner_account(k);
        let aws_k = || aws_as(&sb.endpoint, Who::Learner(k));
        let out = run_fail(aws_k().args(common::words(
            "iam get-role --role-name KMSWorkshop-InstanceInitRole",
        )));
        assert!(
            stderr_of(&out).contains("NoSuchEntity"),
            "{account}: {}",
            stderr_of(&out)
        );
        run_json(aws_k().args(common::words(
            "iam get-role --role-name KMSWorkshop-InstanceInitRole-prod",
        )));
        let buckets = run_json(aws_k().args(["s3api", "list-buckets"])).to_string();
        assert!(
            buckets.contains(&format!("kmsworkshop-archive-{account}")),
            "{buckets}"
        );
        assert!(
            !buckets.contains(&format!("\"kmsworkshop-{account}\"")),
            "{buckets}"
        );
    }

    // A role that is not in the account it is listed under is refused before anything runs.
    std::fs::write(
        &file,
        format!(
            "[[account]]\nid = \"{}\"\nrole_arn = \"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole\"\n",
            learner_account(2)
        ),
    )
    .expect("write accounts file");
    let out = run(&mut instructor(&["--accounts", path, "--yes"]));
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("is not a role in account"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn an_in_process_sandbox_is_cleaned_and_keeps_its_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8 path");
    let local = |args: &[&str]| {
        let mut c = Command::new(bin());
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .args(["cleanup", "--sandbox", "--sandbox-state", state])
            .args(args);
        c
    };
    let out = run(&mut local(&["--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("delete stack KMSWorkshop-Stack"));
    let again = run(&mut local(&["--yes", "--output", "json"]));
    assert_eq!(again.status.code(), Some(0), "{}", output_text(&again));
    let v: Value = serde_json::from_slice(&again.stdout).expect("JSON report");
    assert_eq!(
        v["report"]["actions"].as_array().map(Vec::len),
        Some(0),
        "{v}"
    );
}

#[test]
fn what_the_inventory_records_is_removed_and_what_it_does_not_is_not() {
    let sb = SandboxProc::start(&[]);
    let recorded = aws_json(
        &sb.endpoint,
        &["sns", "create-topic", "--name", "kmsworkshop-alerts"],
    )["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_string();
    let unrecorded = aws_json(
        &sb.endpoint,
        &["sns", "create-topic", "--name", "kmsworkshop-other"],
    )["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    // The guided run's progress file, with the inventory inside it, its items sealed with the
    // key in the user's data directory, as a run seals what it records.
    let progress = dir.path().join("progress.json");
    let data = dir.path().join("data");
    let key = kms_workshop_cleanup::SealKey::load_or_create(
        &data.join("kms-workshop").join("inventory.key"),
    )
    .expect("key");
    let mut item = kms_workshop_cleanup::InventoryItem {
        arn: recorded.clone(),
        kind: kms_workshop_cleanup::ResourceKind::SnsTopic,
        region: REGION.into(),
        account: ACCOUNT.into(),
        step: Some("IV.3".into()),
        seal: None,
    };
    item.seal = Some(key.seal(&item));
    let doc = serde_json::json!({
        "format": 1,
        "steps": {},
        "inventory": {"items": [
            item,
            // Another account's item is never acted on here.
            {"arn": "arn:aws:sns:us-east-1:999999999999:kmsworkshop-other", "kind": "AWS::SNS::Topic", "region": REGION, "account": "999999999999"}
        ]}
    });
    std::fs::write(&progress, doc.to_string()).expect("write progress");
    let path = progress.to_str().expect("utf-8 path");
    let out = run(
        cleanup_command(&sb.endpoint, &["--yes", "--inventory", path]).env("XDG_DATA_HOME", &data),
    );
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let topics = aws_json(&sb.endpoint, &["sns", "list-topics"]).to_string();
    assert!(!topics.contains(&format!("\"{recorded}\"")), "{topics}");
    assert!(topics.contains(&format!("\"{unrecorded}\"")), "{topics}");

    // A file that is not an inventory is a usage error that names it.
    std::fs::write(&progress, b"[1, 2]").expect("write");
    let out = run(&mut cleanup_command(
        &sb.endpoint,
        &["--dry-run", "--inventory", path],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("progress.json"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn without_endpoint_or_sandbox_flags_the_account_must_be_confirmed() {
    // AWS_ENDPOINT_URL (as `sandbox env` exports it) is not --endpoint: the run is treated as
    // one against AWS, which needs the account confirmed.
    let sb = SandboxProc::start(&[]);
    let as_aws = |args: &[&str]| {
        let mut c = learner_command(&sb.endpoint);
        c.env("AWS_ENDPOINT_URL", &sb.endpoint)
            .arg("cleanup")
            .args(args)
            .stdin(Stdio::null());
        c
    };
    let out = run(&mut as_aws(&["--yes"]));
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("--account-id 111122223333"),
        "{}",
        output_text(&out)
    );
    let out = run(&mut as_aws(&[]));
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("no terminal to confirm on"),
        "{}",
        output_text(&out)
    );
    aws_json(
        &sb.endpoint,
        &common::words("iam get-role --role-name KMSWorkshop-InstanceInitRole"),
    );
    let out = run(&mut as_aws(&["--yes", "--account-id", ACCOUNT]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("AWS account 111122223333"),
        "{}",
        output_text(&out)
    );
    fails_with(
        aws(&sb.endpoint).args(common::words(
            "iam get-role --role-name KMSWorkshop-InstanceInitRole",
        )),
        "NoSuchEntity",
    );
}

/// Without credentials or a region, the SDK's provider chain probes the instance metadata
/// service; off EC2 every probe fails and would log a warning of its own. The person sees one
/// error that says what to do, not a screen of the chain's internals.
#[test]
fn no_credentials_or_region_gives_one_clear_error_without_the_chains_warnings() {
    let home = tempfile::tempdir().expect("tempdir");
    // Instance metadata at a closed port on this host: the probes fail as they do off EC2.
    let imds = format!("http://127.0.0.1:{}", free_port());
    let out = Command::new(bin())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .args(["cleanup", "--dry-run"])
        .output()
        .expect("run kms-workshop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(stderr.contains("--region"), "{stderr}");
    assert!(
        !stderr.contains("WARN") && !stderr.contains("IMDS"),
        "the credential chain's probes leaked into the output:\n{stderr}"
    );
}
