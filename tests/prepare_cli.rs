//! End-to-end tests of `kms-workshop prepare` against `kms-workshop sandbox serve --seed
//! empty`: an empty account is prepared, the whole guided run then verifies, and the clean-up
//! leaves nothing, while the account's lookalikes are untouched throughout; a second prepare
//! changes nothing; a prepare killed with SIGKILL resumes from its journal and makes each part
//! once; what exists and is wrong stops it with nothing changed; `--fresh` resets an account.

use crate::cleanup_cli::{kill_after_done, successful_events};
use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value;

/// `kms-workshop prepare --endpoint ENDPOINT …` as the learner, with its data (seal key,
/// inventory) under `data`.
fn prepare(endpoint: &str, data: &Path, args: &[&str]) -> Command {
    let mut c = learner_command(endpoint);
    c.env("XDG_DATA_HOME", data)
        .args(["prepare", "--endpoint", endpoint, "--time-scale", "20"])
        .args(args);
    c
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", output_text(out));
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// The steps of a report with `outcome`.
fn with_outcome(report: &Value, outcome: &str) -> Vec<String> {
    report["report"]["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| a["outcome"] == outcome)
        .filter_map(|a| a["action"].as_str().map(str::to_string))
        .collect()
}

/// Someone else's resources in the account, named and tagged like the workshop's: a key with
/// the workshop's tag key, a role and a policy that extend the workshop's names, a bucket with
/// the workshop's prefix. Their ids, to check later.
fn add_lookalikes(endpoint: &str) -> String {
    let key = run_json(aws(endpoint).args([
        "kms",
        "create-key",
        "--description",
        "KMS Workshop CMK (billing copy)",
        "--tags",
        "TagKey=project,TagValue=billing",
    ]))["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    run_json(aws(endpoint).args([
        "iam",
        "create-role",
        "--role-name",
        "KMSWorkshop-InstanceInitRole-prod",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    ]));
    run_json(aws(endpoint).args([
        "iam",
        "create-policy",
        "--policy-name",
        "KMSWorkshop-AdditionalPermissions-prod",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#,
    ]));
    let out = aws(endpoint)
        .args(["s3", "mb", &format!("s3://kmsworkshop-archive-{ACCOUNT}")])
        .output()
        .expect("s3 mb");
    assert!(out.status.success(), "{}", output_text(&out));
    key
}

fn assert_lookalikes_there(endpoint: &str, key: &str) {
    let meta = run_json(aws(endpoint).args(["kms", "describe-key", "--key-id", key]));
    assert_eq!(meta["KeyMetadata"]["KeyState"], "Enabled", "{meta}");
    run_json(aws(endpoint).args(common::words(
        "iam get-role --role-name KMSWorkshop-InstanceInitRole-prod",
    )));
    run_json(aws(endpoint).args([
        "iam",
        "get-policy",
        "--policy-arn",
        &format!("arn:aws:iam::{ACCOUNT}:policy/KMSWorkshop-AdditionalPermissions-prod"),
    ]));
    let buckets = run_json(aws(endpoint).args(["s3api", "list-buckets"])).to_string();
    assert!(buckets.contains("kmsworkshop-archive-"), "{buckets}");
}

#[test]
fn an_empty_account_is_prepared_the_chapter_runs_and_the_cleanup_leaves_nothing() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let data = tempfile::tempdir().expect("tempdir");
    let lookalike_key = add_lookalikes(&sb.endpoint);

    let dry = prepare(&sb.endpoint, data.path(), &["--dry-run"])
        .output()
        .expect("dry run");
    assert_eq!(dry.status.code(), Some(0), "{}", output_text(&dry));
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains("set-up plan for account 111122223333 (16 actions)"),
        "{text}"
    );
    let stacks = run_json(aws(&sb.endpoint).args(["cloudformation", "list-stacks"]));
    assert_eq!(
        stacks["StackSummaries"],
        Value::Array(vec![]),
        "a dry run made nothing"
    );

    let first = json_of(
        &prepare(&sb.endpoint, data.path(), &["--output", "json"])
            .output()
            .expect("prepare"),
    );
    assert_eq!(first["ready"], true, "{first}");
    assert_eq!(with_outcome(&first, "changed").len(), 16, "{first}");
    let inventory: Value = serde_json::from_slice(
        &std::fs::read(
            data.path()
                .join(format!("kms-workshop/prepared-{ACCOUNT}.json")),
        )
        .expect("the inventory prepare wrote"),
    )
    .expect("JSON");
    let kinds = inventory["items"].to_string();
    for kind in [
        "AWS::CloudFormation::Stack",
        "AWS::KMS::Key",
        "AWS::EC2::Instance",
        "AWS::EC2::Volume",
    ] {
        assert!(kinds.contains(kind), "{kind} not in {kinds}");
    }
    assert!(inventory["items"][0]["seal"].is_string(), "{inventory}");

    let second = json_of(
        &prepare(&sb.endpoint, data.path(), &["--output", "json"])
            .output()
            .expect("prepare again"),
    );
    assert_eq!(second["ready"], true);
    assert_eq!(second["plan"]["nodes"], Value::Array(vec![]), "{second}");
    assert!(with_outcome(&second, "changed").is_empty(), "{second}");

    let state = data.path().join("progress.json");
    let mut guided = learner_command(&sb.endpoint);
    guided
        .env("XDG_DATA_HOME", data.path())
        .args(["run", "--endpoint", &sb.endpoint, "--non-interactive"])
        .args([
            "--email",
            "learner@example.com",
            "--output",
            "json",
            "--state",
        ])
        .arg(&state);
    let out = guided.output().expect("guided run");
    assert!(out.status.success(), "{}", output_text(&out));

    let mut cleanup = learner_command(&sb.endpoint);
    cleanup.env("XDG_DATA_HOME", data.path()).args([
        "cleanup",
        "--endpoint",
        &sb.endpoint,
        "--yes",
    ]);
    let out = cleanup.output().expect("cleanup");
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nothing left"), "{text}");
    assert_lookalikes_there(&sb.endpoint, &lookalike_key);
}

#[test]
fn a_prepare_killed_mid_run_resumes_from_its_journal_and_makes_each_part_once() {
    // Realistic lifecycles, twenty times faster: the stack and the instance take seconds,
    // which leaves room to kill the set-up while it waits.
    let sb = SandboxProc::start(&[
        "--seed",
        "empty",
        "--latency",
        "realistic",
        "--time-scale",
        "20",
    ]);
    let data = tempfile::tempdir().expect("tempdir");
    let journal_dir = data.path().join("journal");
    let journal = journal_dir.join(format!("prepare-{ACCOUNT}.jsonl"));
    let journal_arg = journal_dir.to_str().expect("utf-8").to_string();
    let mut kills = 0;
    for at in [1usize, 5, 10] {
        let child = prepare(&sb.endpoint, data.path(), &["--journal", &journal_arg])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prepare");
        if kill_after_done(child, &journal, at, &[0]) {
            kills += 1;
        }
    }
    assert!(kills >= 1, "no run was interrupted");
    let last = prepare(&sb.endpoint, data.path(), &["--journal", &journal_arg])
        .output()
        .expect("prepare");
    assert_eq!(last.status.code(), Some(0), "{}", output_text(&last));
    let text = String::from_utf8_lossy(&last.stdout);
    assert!(text.contains("ready: the account holds"), "{text}");
    // Each part made once: CloudTrail saw one successful call of each kind per part.
    for (event, n) in [
        ("CreateStack", 1),
        ("CreatePolicy", 3),
        ("CreateKey", 3),
        ("CreateAlias", 2),
        ("ImportKeyMaterial", 1),
        ("ScheduleKeyDeletion", 1),
        ("RunInstances", 1),
        ("CreateVolume", 1),
        ("AttachVolume", 1),
    ] {
        let got = successful_events(&sb.endpoint, event);
        assert_eq!(
            got.len(),
            n,
            "{event} succeeded {} times, not {n}",
            got.len()
        );
    }
}

#[test]
fn what_exists_and_is_wrong_stops_prepare_and_nothing_is_changed() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let data = tempfile::tempdir().expect("tempdir");
    let key = run_json(aws(&sb.endpoint).args(["kms", "create-key"]))["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    run_json(aws(&sb.endpoint).args([
        "kms",
        "create-alias",
        "--alias-name",
        "alias/ImportedCMK",
        "--target-key-id",
        &key,
    ]));
    let out = prepare(&sb.endpoint, data.path(), &[])
        .output()
        .expect("prepare");
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("alias/ImportedCMK")
            && err.contains("origin is AWS_KMS")
            && err.contains("nothing was changed"),
        "{err}"
    );
    let stacks = run_json(aws(&sb.endpoint).args(["cloudformation", "list-stacks"]));
    assert_eq!(stacks["StackSummaries"], Value::Array(vec![]));
    let policies = run_json(aws(&sb.endpoint).args(["iam", "list-policies", "--scope", "Local"]));
    assert_eq!(policies["Policies"], Value::Array(vec![]), "{policies}");
    let keys = run_json(aws(&sb.endpoint).args(["kms", "list-keys"]));
    assert_eq!(keys["Keys"].as_array().map(Vec::len), Some(1), "{keys}");
}

#[test]
fn fresh_resets_an_account_the_chapter_was_done_in() {
    // The workshop seed, then what the chapter adds: --fresh takes it all down and sets the
    // starting state up again.
    let sb = SandboxProc::start(&[]);
    let data = tempfile::tempdir().expect("tempdir");
    let topic = create_topic(&sb.endpoint, "snsworkshop", &[]);
    let before =
        run_json(aws(&sb.endpoint).args(["kms", "describe-key", "--key-id", "alias/ImportedCMK"]))
            ["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("KeyId")
            .to_string();
    let out = prepare(&sb.endpoint, data.path(), &["--fresh"])
        .output()
        .expect("prepare --fresh");
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("nothing left") && text.contains("ready: the account holds"),
        "{text}"
    );
    let after =
        run_json(aws(&sb.endpoint).args(["kms", "describe-key", "--key-id", "alias/ImportedCMK"]));
    assert_ne!(after["KeyMetadata"]["KeyId"], before.as_str(), "a new key");
    assert_eq!(after["KeyMetadata"]["KeyState"], "Enabled");
    let topics = run_json(aws(&sb.endpoint).args(["sns", "list-topics"]));
    let arns: Vec<&str> = topics["Topics"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["TopicArn"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !arns.contains(&topic.as_str()),
        "the chapter's topic is gone: {arns:?}"
    );
    assert!(!arns.is_empty(), "the seed's lookalike topic stays");
    // The seed's lookalikes are someone else's: still there.
    run_json(aws(&sb.endpoint).args(common::words(
        "iam get-role --role-name KMSWorkshop-InstanceInitRole-prod",
    )));
}

#[test]
fn a_bucket_of_the_stacks_name_owned_by_another_account_stops_prepare() {
    let sb = SandboxProc::start(&["--seed", "empty", "--learners", "2"]);
    let data = tempfile::tempdir().expect("tempdir");
    // Learner 2 takes the name learner 1's stack would give its bucket (S3 names are global).
    let out = aws_as(&sb.endpoint, Who::Learner(2))
        .args(["s3", "mb", &format!("s3://kmsworkshop-{ACCOUNT}")])
        .output()
        .expect("s3 mb");
    assert!(out.status.success(), "{}", output_text(&out));
    let out = prepare(&sb.endpoint, data.path(), &[])
        .output()
        .expect("prepare");
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("bucket kmsworkshop-{ACCOUNT}"))
            && err.contains("does not own")
            && err.contains("nothing was changed"),
        "{err}"
    );
    let stacks = run_json(aws(&sb.endpoint).args(["cloudformation", "list-stacks"]));
    assert_eq!(stacks["StackSummaries"], Value::Array(vec![]));
}

#[test]
fn the_guided_run_on_an_empty_account_names_the_prepare_command_that_fixes_it() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let data = tempfile::tempdir().expect("tempdir");
    let guided = || {
        let mut c = learner_command(&sb.endpoint);
        c.env("XDG_DATA_HOME", data.path())
            .args(["run", "--endpoint", &sb.endpoint, "--non-interactive"])
            .args(["--email", "learner@example.com", "--keep"]);
        c
    };
    let out = guided().output().expect("guided run");
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let err = stderr_of(&out);
    let shown = err
        .split("make that starting state with: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no prepare command in: {err}"))
        .to_string();
    assert!(
        shown.starts_with("kms-workshop prepare ") && shown.contains(&sb.endpoint),
        "{shown}"
    );
    // The learner runs the command exactly as shown, then the chapter.
    let words: Vec<&str> = shown.split_whitespace().skip(1).collect();
    let mut prepare = learner_command(&sb.endpoint);
    prepare.env("XDG_DATA_HOME", data.path()).args(&words);
    let out = prepare.output().expect("prepare as shown");
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let out = guided().output().expect("guided run");
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn an_endpoint_that_does_not_prove_it_is_a_sandbox_is_confirmed_with_the_cost_shown() {
    use rexpect::process::wait::WaitStatus;
    use rexpect::session::spawn_command;

    let sb = SandboxProc::start(&["--seed", "empty"]);
    let data = tempfile::tempdir().expect("tempdir");
    // The learner's keys without the sandbox's admin token: nothing proves this is not AWS.
    let unproven = |args: &[&str]| {
        let mut c = prepare(&sb.endpoint, data.path(), args);
        c.env_remove("KMS_WORKSHOP_SANDBOX_TOKEN");
        c
    };
    let no_stacks = || {
        let stacks = run_json(aws(&sb.endpoint).args(["cloudformation", "list-stacks"]));
        assert_eq!(
            stacks["StackSummaries"],
            Value::Array(vec![]),
            "nothing was made"
        );
    };
    // No terminal: refused, after saying what a day of the starting state costs.
    let out = unproven(&[])
        .stdin(Stdio::null())
        .output()
        .expect("prepare");
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("costs about $")
            && err.contains("a day per account")
            && err.contains("no terminal to confirm on"),
        "{err}"
    );
    // --yes alone is not enough: the account id must be given too.
    let out = unproven(&["--yes"])
        .stdin(Stdio::null())
        .output()
        .expect("prepare");
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        stderr_of(&out).contains("--account-id"),
        "{}",
        output_text(&out)
    );
    no_stacks();
    // At a terminal: a wrong account id changes nothing.
    let mut p = spawn_command(unproven(&[]), Some(120_000)).expect("spawn under a pty");
    let mut seen = p.exp_string("Type the account id").expect("the prompt");
    p.send_line("000000000000").expect("answer");
    seen += &p.exp_eof().expect("exits");
    let status = p.process.wait().expect("wait");
    assert!(
        matches!(status, WaitStatus::Exited(_, 2)),
        "{status:?}\n{seen}"
    );
    assert!(seen.contains("does not match"), "{seen}");
    no_stacks();
    // The right one sets the account up.
    let mut p = spawn_command(unproven(&[]), Some(120_000)).expect("spawn under a pty");
    p.exp_string("Type the account id").expect("the prompt");
    p.send_line(ACCOUNT).expect("answer");
    let seen = p.exp_eof().expect("exits");
    let status = p.process.wait().expect("wait");
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "{status:?}\n{seen}"
    );
    assert!(seen.contains("ready: the account holds"), "{seen}");
}
