//! What other tools' test suites need of the sandbox: the account id they assume, and a
//! whole-state reset between their tests that only the admin token may ask for.

use super::*;

/// `sandbox serve` with `args`, expected to refuse to start; its stderr.
fn refused_to_serve(args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(["sandbox", "serve", "--port", "0"])
        .args(args)
        .output()
        .expect("run sandbox serve");
    assert!(!out.status.success(), "{args:?} started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_single_account_can_have_the_id_a_tool_assumes() {
    let sb = SandboxProc::start(&["--account-id", "123456789012"]);
    let ep = sb.endpoint.as_str();
    let me = run_json(aws(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(me["Account"], "123456789012", "{me}");
    let key = run_json(aws(ep).args([
        "kms",
        "describe-key",
        "--key-id",
        kms_workshop_names::IMPORTED_ALIAS,
    ]));
    assert!(
        key["KeyMetadata"]["Arn"]
            .as_str()
            .unwrap_or_default()
            .starts_with("arn:aws:kms:us-east-1:123456789012:key/"),
        "{key}"
    );
    let learners = crate::common::http::control_json(ep, "GET", "/_sandbox/learners");
    assert_eq!(
        learners["learners"][0]["account"], "123456789012",
        "{learners}"
    );

    for (args, says) in [
        (
            vec!["--account-id", "12345"],
            "--account-id '12345' must be 12 digits",
        ),
        (
            vec!["--account-id", "123456789012", "--learners", "2"],
            "--account-id is for a single learner",
        ),
        (
            vec!["--account-id", "111122223334"],
            "one of the sandbox's own accounts",
        ),
    ] {
        let err = refused_to_serve(&args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn a_state_keeps_the_account_it_was_made_with() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state = state.to_str().expect("path");
    drop(SandboxProc::start(&[
        "--state-dir",
        state,
        "--account-id",
        "000000000000",
    ]));
    let err = refused_to_serve(&["--state-dir", state, "--account-id", "123456789012"]);
    assert!(
        err.contains("this state's account is 000000000000, not --account-id 123456789012"),
        "{err}"
    );
    // Opened again without the flag, and reset: still that account.
    let sb = SandboxProc::start(&["--state-dir", state]);
    let ep = sb.endpoint.as_str();
    let reset = crate::common::http::control_json(ep, "POST", "/_sandbox/reset");
    assert_eq!(reset["learners"][0]["account"], "000000000000", "{reset}");
    let me = run_json(aws(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(me["Account"], "000000000000", "{me}");
}

#[test]
fn the_whole_state_resets_for_the_admin_only() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let keys = |ep: &str| {
        run_json(aws(ep).args(["kms", "list-keys"]))["Keys"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default()
    };
    let seeded = keys(ep);
    run_json(aws(ep).args(["kms", "create-key"]));
    run_json(aws(ep).args(["sns", "create-topic", "--name", "left-over"]));
    assert_eq!(keys(ep), seeded + 1);

    // Without the admin token: refused, and nothing changes.
    let (status, _) = crate::common::http::raw(ep, "POST", "/_sandbox/reset", &[], b"");
    assert!(status == 401 || status == 403, "{status}");
    assert_eq!(keys(ep), seeded + 1);

    let out = Command::new(bin())
        .args(["sandbox", "reset", "--all", "--endpoint", ep])
        .env("KMS_WORKSHOP_SANDBOX_TOKEN", token_of(ep).expect("token"))
        .output()
        .expect("sandbox reset --all");
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "learner 1's account {ACCOUNT} is back at its starting state"
        )),
        "{}",
        output_text(&out)
    );
    assert_eq!(keys(ep), seeded);
    let topics = run_json(aws(ep).args(["sns", "list-topics"]));
    assert!(!topics.to_string().contains("left-over"), "{topics}");
}
