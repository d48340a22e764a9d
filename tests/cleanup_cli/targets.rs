//! Which account a clean-up acts on and how it is confirmed: bad flags, every learner account
//! through assumed roles, the in-process sandbox, the guided run's inventory, AWS-like endpoints,
//! no credentials.

use super::*;

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

/// S3 answers a request for a bucket of another region `301 PermanentRedirect`, which the SDK
/// does not follow: the clean-up, started in another region than the workshop's bucket, must
/// reach it through a client of the bucket's own region.
#[test]
fn a_bucket_in_another_region_than_the_first_is_still_removed() {
    let sb = SandboxProc::start(&["--s3-region-redirect"]);
    let ep = sb.endpoint.as_str();
    let bucket = format!("kmsworkshop-{ACCOUNT}");
    // The redirect is real: the bucket cannot be reached from eu-west-1.
    let wrong = aws(ep)
        .args([
            "s3api",
            "head-bucket",
            "--bucket",
            &bucket,
            "--region",
            "eu-west-1",
        ])
        .output()
        .expect("aws");
    assert!(!wrong.status.success(), "{}", output_text(&wrong));
    let out = run(&mut cleanup_command(
        ep,
        &["--region", "eu-west-1", "--region", "us-east-1", "--yes"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let gone = aws(ep)
        .args(["s3api", "head-bucket", "--bucket", &bucket])
        .output()
        .expect("aws");
    assert!(
        !gone.status.success(),
        "the bucket is left: {}",
        output_text(&out)
    );
}
