//! STS and credentials

use super::*;

#[test]
fn get_caller_identity_for_the_learner_and_the_instance_role() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let learner = run_json(aws(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(learner["Account"], ACCOUNT);
    assert_eq!(
        learner["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/{LEARNER_USER}")
    );
    assert!(str_of(&learner["UserId"], "UserId").starts_with("AIDA"));

    let instance = run_json(aws_instance(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(instance["Account"], ACCOUNT);
    assert_eq!(
        instance["Arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/{INSTANCE_ID}")
    );
    let user_id = str_of(&instance["UserId"], "UserId");
    assert!(
        user_id.starts_with("AROA") && user_id.ends_with(&format!(":{INSTANCE_ID}")),
        "{user_id}"
    );

    // The STS calls are in the event history (STS is global: us-east-1).
    let sts = lookup(ep, "EventSource", "sts.amazonaws.com");
    assert_eq!(
        sts.iter()
            .filter(|e| e["EventName"] == "GetCallerIdentity")
            .count(),
        2
    );
}

#[test]
fn unknown_keys_and_wrong_secrets_are_refused() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    const UNKNOWN_KEY: &str = "AKIAUNKNOWNUNKNOWN00";
    const UNKNOWN_SECRET: &str = "some/secret/key/that/is/not/known/anywhere";
    const WRONG_SECRET: &str = "kmsworkshop/sandbox/learner/secret/key/999";
    let instance_secret = keys(ep, Who::Instance(1)).secret_access_key;
    // (access key, secret, session token, command, the error)
    type Refused<'a> = (&'a str, &'a str, Option<&'a str>, &'a [&'a str], &'a str);
    let refused: [Refused<'_>; 9] = [
        (
            UNKNOWN_KEY,
            UNKNOWN_SECRET,
            None,
            &["sts", "get-caller-identity"],
            "InvalidClientTokenId",
        ),
        (
            UNKNOWN_KEY,
            UNKNOWN_SECRET,
            None,
            &["kms", "list-keys"],
            "UnrecognizedClientException",
        ),
        (
            UNKNOWN_KEY,
            UNKNOWN_SECRET,
            None,
            &["cloudtrail", "lookup-events"],
            "UnrecognizedClientException",
        ),
        (
            LEARNER_ACCESS_KEY,
            WRONG_SECRET,
            None,
            &["sts", "get-caller-identity"],
            "SignatureDoesNotMatch",
        ),
        (
            LEARNER_ACCESS_KEY,
            WRONG_SECRET,
            None,
            &["kms", "list-keys"],
            "InvalidSignatureException",
        ),
        (
            LEARNER_ACCESS_KEY,
            WRONG_SECRET,
            None,
            &WORKSHOP_GDK,
            "InvalidSignatureException",
        ),
        // A role session's keys are useless without their session token.
        (
            INSTANCE_ACCESS_KEY,
            &instance_secret,
            None,
            &["sts", "get-caller-identity"],
            "InvalidClientTokenId",
        ),
        (
            INSTANCE_ACCESS_KEY,
            &instance_secret,
            None,
            &["kms", "list-keys"],
            "UnrecognizedClientException",
        ),
        (
            INSTANCE_ACCESS_KEY,
            &instance_secret,
            Some("not-the-token"),
            &["kms", "list-keys"],
            "UnrecognizedClientException",
        ),
    ];
    for (key, secret, token, args, code) in refused {
        expect_error(aws_with(ep, key, secret, token).args(args), code);
    }

    // Refused requests are not API calls: nothing reaches the event history.
    let all = run_json(aws(ep).args(["cloudtrail", "lookup-events"]));
    let names: Vec<&str> = all["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| str_of(&e["EventName"], "EventName"))
        .collect();
    assert!(names.iter().all(|n| *n == "LookupEvents"), "{names:?}");
    // And the right credentials still work.
    run_json(aws(ep).args(["kms", "list-keys"]));
}

#[test]
fn accept_any_credentials_lets_test_test_through() {
    let strict = SandboxProc::start(&[]);
    expect_error(
        aws_with(&strict.endpoint, "test", "test", None).args(["sts", "get-caller-identity"]),
        "InvalidClientTokenId",
    );

    let sb = SandboxProc::start(&["--accept-any-credentials"]);
    let ep = &sb.endpoint;
    let test = || aws_with(ep, "test", "test", None);
    let who = run_json(test().args(["sts", "get-caller-identity"]));
    assert_eq!(who["Account"], ACCOUNT);
    run_json(test().args(["kms", "list-keys"]));
    let dk = run_json(test().args(WORKSHOP_GDK));
    assert_eq!(b64d(&dk["Plaintext"]).len(), 32);
    // The seeded credentials keep working, even with a wrong secret.
    run_json(aws(ep).args(["kms", "list-keys"]));
    run_json(aws_with(ep, LEARNER_ACCESS_KEY, "wrong", None).args(["kms", "list-keys"]));
    // CloudTrail records the access key that was used.
    let by_key = lookup(ep, "AccessKeyId", "test");
    assert!(
        by_key.iter().any(|e| e["EventName"] == "GenerateDataKey"),
        "{by_key:?}"
    );
    // Never for a class, nor beyond loopback: anyone could act as anyone.
    for extra in [["--learners", "2"], ["--bind", "0.0.0.0"]] {
        let out = std::process::Command::new(bin())
            .args([
                "sandbox",
                "serve",
                "--port",
                "0",
                "--accept-any-credentials",
            ])
            .args(extra)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{extra:?}");
        assert!(
            stderr_of(&out).contains("--accept-any-credentials"),
            "{}",
            stderr_of(&out)
        );
    }
}
