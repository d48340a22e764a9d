//! `kms-workshop run` end to end through the binary: the whole chapter against the built-in
//! sandbox without a prompt, resuming, `status`/`reset`, and bad input refused with exit 2
//! before anything is created.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use kms_workshop_sandbox::services::cloudtrail::TrailState;
use serde_json::Value;

/// The binary with a private data directory and no AWS configuration at all.
fn kw(data: &Path) -> Command {
    private_binary(data)
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn the_whole_chapter_runs_in_the_sandbox_and_resumes_as_done() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = kw(data.path())
        .args(common::words(
            "run --sandbox --non-interactive --email learner@example.com --output json",
        ))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}\n{}",
        stderr_of(&out),
        String::from_utf8_lossy(&out.stdout)
    );
    let steps = lines(&out);
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["step"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "generate-data-key",
            "find-in-cloudtrail",
            "sns-topic",
            "eventbridge-rule",
            "kms-alarm",
            "cleanup"
        ]
    );
    for s in &steps {
        assert_eq!(s["status"], "verified", "{s}");
        let crits = s["criteria"].as_array().expect("criteria");
        assert!(!crits.is_empty());
        assert!(crits.iter().all(|c| c["status"] == "passed"), "{s}");
    }
    // Step 1 recorded the request id, never the plaintext key.
    let progress_path = data.path().join("kms-workshop/progress.json");
    let text = std::fs::read_to_string(&progress_path).expect("progress file");
    let progress: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(progress["format"], 1);
    assert!(progress["steps"]["generate-data-key"]["facts"]["request_id"].is_string());
    assert!(!text.to_lowercase().contains("plaintext"), "{text}");
    // The inventory lists what the run created.
    let kinds: Vec<&str> = progress["inventory"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    for k in [
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::Events::Rule",
        "AWS::CloudWatch::Alarm",
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }

    // The sandbox's inbox holds the rule's notification and the alarm's email.
    {
        let sb = kms_workshop_sandbox::Sandbox::open(kms_workshop_sandbox::Config {
            state_dir: Some(data.path().join("kms-workshop/sandbox")),
            ..Default::default()
        })
        .expect("reopen the sandbox state");
        let mail: Vec<_> = sb
            .outbox(0)
            .into_iter()
            .filter(|m| m.recipient == "learner@example.com")
            .collect();
        let trigger = progress["steps"]["eventbridge-rule"]["facts"]["trigger_request_id"]
            .as_str()
            .expect("trigger request id");
        assert!(
            mail.iter()
                .any(|m| m.kind == "Notification" && m.body.contains(trigger)),
            "{mail:?}"
        );
        assert!(
            mail.iter().any(|m| m.subject.starts_with("ALARM:")),
            "{mail:?}"
        );
        // The sandbox has no trail of its own, so the run created KMSWorkshop-Trail and
        // recorded it; the clean-up step deleted it again.
        let trail = progress["inventory"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["kind"] == "AWS::CloudTrail::Trail")
            .unwrap_or_else(|| panic!("the created trail is recorded: {kinds:?}"));
        assert!(
            trail["arn"]
                .as_str()
                .is_some_and(|a| a.ends_with(":trail/KMSWorkshop-Trail")),
            "{trail}"
        );
        let accounts = sb.account_regions();
        assert!(!accounts.is_empty());
        for (account, region) in accounts {
            let left: Vec<String> = sb.read::<TrailState, _>(&account, &region, |st| {
                st.trails
                    .values()
                    .filter(|t| t.name == "KMSWorkshop-Trail")
                    .map(|t| t.arn.clone())
                    .collect()
            });
            assert!(left.is_empty(), "left after the run: {left:?}");
        }
    }

    // Again: everything is done.
    let again = kw(data.path())
        .args(common::words(
            "run --sandbox --non-interactive --email learner@example.com --output json",
        ))
        .output()
        .expect("run again");
    assert!(again.status.success(), "{}", stderr_of(&again));
    let steps = lines(&again);
    assert_eq!(steps.len(), 6);
    assert!(steps.iter().all(|s| s["status"] == "done"), "{steps:?}");

    // status shows it; reset of one step makes it run again (and asks unless --yes).
    let st = kw(data.path()).args(["status"]).output().expect("status");
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("verified") && text.contains("AWS::Events::Rule"),
        "{text}"
    );
    let r = kw(data.path())
        .args(["reset", "kms-alarm"])
        .output()
        .expect("reset");
    assert_eq!(r.status.code(), Some(2), "no terminal: needs --yes");
    let r = kw(data.path())
        .args(["reset", "no-such-step", "--yes"])
        .output()
        .expect("reset");
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr_of(&r).contains("generate-data-key"),
        "{}",
        stderr_of(&r)
    );
    let r = kw(data.path())
        .args(["reset", "kms-alarm", "--yes"])
        .output()
        .expect("reset");
    assert!(r.status.success(), "{}", stderr_of(&r));
    let st = kw(data.path())
        .args(["status", "--json"])
        .output()
        .expect("status");
    let p: Value = serde_json::from_slice(&st.stdout).expect("status JSON");
    assert!(p["steps"]["kms-alarm"].is_null());
    assert_eq!(p["current"], "kms-alarm");
}

#[test]
fn bad_input_is_refused_before_anything_is_created() {
    let data = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| kw(data.path()).arg("run").args(args).output().expect("run");
    let nothing_created = || {
        assert!(
            !data.path().join("kms-workshop").exists(),
            "nothing may be created: {:?}",
            std::fs::read_dir(data.path().join("kms-workshop")).map(|d| d.count())
        );
    };
    let cases: &[(&[&str], &str)] = &[
        (
            &common::words("--sandbox --non-interactive --email learner@example.com --display-name KMSWorkshop"),
            "--display-name",
        ),
        (
            &common::words("--sandbox --non-interactive --email not-an-address"),
            "--email",
        ),
        (
            &common::words("--sandbox --non-interactive --email a@example.com --region us-moon-1"),
            "--region",
        ),
        (
            &common::words("--sandbox --non-interactive --email a@example.com --alarm-threshold -5"),
            "--alarm-threshold",
        ),
        (&["--sandbox", "--non-interactive"], "--email"),
        (&["--sandbox"], "--non-interactive"),
        (
            &[
                "--sandbox",
                "--non-interactive",
                "--email",
                "a@example.com",
                "--endpoint",
                "not a url",
            ],
            "--endpoint",
        ),
    ];
    for (args, names) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(names),
            "{args:?}: {}",
            stderr_of(&out)
        );
        nothing_created();
    }

    // A missing alias: an account that is not at the start of the chapter.
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let learner = common::keys(&sb.endpoint, Who::Learner(1));
    let out = kw(data.path())
        .env("AWS_ACCESS_KEY_ID", &learner.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &learner.secret_access_key)
        .env("AWS_REGION", REGION)
        .args([
            "run",
            "--endpoint",
            &sb.endpoint,
            "--non-interactive",
            "--email",
            "a@example.com",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("alias/ImportedCMK does not exist"),
        "{}",
        stderr_of(&out)
    );
    nothing_created();

    // A damaged progress file is refused, and left as it was.
    let state = data.path().join("progress.json");
    std::fs::write(&state, b"{\"format\": 1, \"steps\": {").expect("write");
    let out = run(&[
        "--sandbox",
        "--non-interactive",
        "--email",
        "a@example.com",
        "--state",
        state.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("damaged"), "{}", stderr_of(&out));
    assert_eq!(
        std::fs::read(&state).expect("read"),
        b"{\"format\": 1, \"steps\": {"
    );
    let st = kw(data.path())
        .args(["status", "--state", state.to_str().expect("utf-8 path")])
        .output()
        .expect("status");
    assert_eq!(st.status.code(), Some(2));
}

/// `kms-workshop run --endpoint URL` as the README suggests, from a shell with no AWS settings:
/// with the sandbox's admin token at hand the run takes the sandbox's region and learner; without
/// it, it says that no credentials were found (none were refused) and what to run.
#[test]
fn a_served_sandbox_needs_no_aws_settings_and_a_missing_key_is_named() {
    let sb = SandboxProc::start(&[]);
    let data = tempfile::tempdir().expect("tempdir");
    let mut with_token = bare_command();
    with_token
        .env_remove("AWS_REGION")
        .env(
            "KMS_WORKSHOP_SANDBOX_TOKEN",
            token_of(&sb.endpoint).unwrap_or_default(),
        )
        .args([
            "run",
            "--endpoint",
            &sb.endpoint,
            "--non-interactive",
            "--keep",
        ])
        .args([
            "--email",
            "learner@example.com",
            "--output",
            "json",
            "--state",
        ])
        .arg(data.path().join("progress.json"));
    let out = with_token.output().expect("run");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut without = bare_command();
    without
        .env_remove("AWS_REGION")
        .env("AWS_REGION", REGION)
        .args(["run", "--endpoint", &sb.endpoint, "--non-interactive"])
        .args(["--email", "learner@example.com"]);
    let out = without.output().expect("run");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("no AWS credentials found"), "{text}");
    assert!(
        text.contains("kms-workshop sandbox env --endpoint"),
        "{text}"
    );
    assert!(
        !text.contains("refused") && !text.contains("IMDS"),
        "{text}"
    );
}

/// On the workshop's instance, as its role (how the workshop has learners work there), neither
/// the guided run nor the clean-up starts: the clean-up would terminate that very instance.
#[test]
fn as_the_workshop_instance_role_nothing_starts() {
    let sb = SandboxProc::start(&[]);
    let k = keys(&sb.endpoint, Who::Instance(1));
    let ep = sb.endpoint.as_str();
    let runs: [&[&str]; 2] = [
        &[
            "run",
            "--endpoint",
            ep,
            "--non-interactive",
            "--email",
            "learner@example.com",
        ],
        &["cleanup", "--endpoint", ep, "--yes"],
    ];
    for args in runs {
        let mut c = bare_command();
        c.env("AWS_ACCESS_KEY_ID", &k.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &k.secret_access_key)
            .env(
                "AWS_SESSION_TOKEN",
                k.session_token.as_deref().unwrap_or_default(),
            )
            .args(args);
        let out = c.output().expect("run");
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("workshop instance's role"), "{text}");
    }
    // Nothing was touched: the instance still runs.
    let v = run_json(aws(ep).args(["ec2", "describe-instances", "--instance-ids", INSTANCE_ID]));
    assert_eq!(
        v["Reservations"][0]["Instances"][0]["State"]["Name"], "running",
        "{v}"
    );
}

/// An SSO profile whose session expired (here: never logged in) is an error that says
/// `aws sso login`, never a silent switch to the offline sandbox.
#[test]
fn an_sso_profile_that_cannot_load_is_named_not_replaced_by_the_sandbox() {
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("config");
    std::fs::write(
        &config,
        "[default]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .expect("config");
    let out = kw(data.path())
        .env("AWS_CONFIG_FILE", &config)
        .args(["run", "--non-interactive", "--email", "learner@example.com"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("aws sso login"), "{text}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("sandbox"),
        "{text}"
    );
}

/// Key material that does not expire publishes no SecondsUntilKeyMaterialExpiration: step 5
/// says so at once instead of waiting for a metric that never comes.
#[test]
fn a_key_whose_material_does_not_expire_is_named_in_step_five() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    // alias/ImportedCMK moved to the workshop's other key (AWS_KMS origin: nothing expires).
    let first = run_json(aws(ep).args(["kms", "describe-key", "--key-id", "alias/FirstCMK"]));
    let first_id = first["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("key id")
        .to_string();
    run_json(aws(ep).args([
        "kms",
        "update-alias",
        "--alias-name",
        "alias/ImportedCMK",
        "--target-key-id",
        &first_id,
    ]));
    let data = tempfile::tempdir().expect("tempdir");
    let out = learner_command(ep)
        .args(["run", "--endpoint", ep, "--non-interactive", "--keep"])
        .args(["--email", "learner@example.com", "--state"])
        .arg(data.path().join("progress.json"))
        .output()
        .expect("run");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("step 'kms-alarm' did not verify"),
        "{stderr}"
    );
    assert!(stdout.contains("does not expire"), "{stdout}");
    assert!(
        !stdout.contains("waiting for the alarm"),
        "it waited for nothing:\n{stdout}"
    );
}
