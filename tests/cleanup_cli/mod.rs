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

mod resilience;
mod targets;
mod workshop;

/// The `done` records of a journal file.
pub(crate) fn done_records(journal: &Path) -> Vec<Value> {
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
pub(crate) fn successful_events(endpoint: &str, event_name: &str) -> Vec<Value> {
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

/// Wait for `child` (a run journalling into `journal`) to finish (its status must be one of
/// `ok`), or kill it with SIGKILL once the journal has `at` finished actions; whether it was
/// killed.
pub(crate) fn kill_after_done(
    mut child: std::process::Child,
    journal: &Path,
    at: usize,
    ok: &[i32],
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("poll the run") {
            assert!(status.code().is_some_and(|c| ok.contains(&c)), "{status}");
            return false;
        }
        if done_records(journal).len() >= at {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            return true;
        }
        assert!(Instant::now() < deadline, "the run made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
}
