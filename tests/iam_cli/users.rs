//! Users and access keys.

use super::*;

#[test]
fn users_and_access_keys_that_sign_until_deleted() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let u = ok(
        ep,
        &common::words("create-user --user-name alice --tags Key=team,Value=a"),
    )["User"]
        .clone();
    assert!(u["UserId"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(u["Arn"], format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    fails(
        ep,
        &["create-user", "--user-name", "Alice"],
        "EntityAlreadyExists",
    );
    assert_eq!(
        ok(ep, &["get-user", "--user-name", "alice"])["User"]["Tags"],
        json!([{"Key": "team", "Value": "a"}])
    );
    assert_eq!(
        names(&ok(ep, &["list-users"])["Users"], "UserName"),
        vec!["alice", LEARNER_USER]
    );
    fails(ep, &["get-user", "--user-name", "bob"], "NoSuchEntity");

    let key = ok(ep, &["create-access-key", "--user-name", "alice"])["AccessKey"].clone();
    let id = key["AccessKeyId"].as_str().unwrap().to_string();
    let secret = key["SecretAccessKey"].as_str().unwrap().to_string();
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);
    assert_eq!(key["Status"], "Active");
    assert_eq!(key["UserName"], "alice");

    // The new key signs requests as alice, for every service.
    let alice = || aws_with(ep, &id, &secret, None);
    let who = run_json(alice().args(["sts", "get-caller-identity"]));
    assert_eq!(who["Arn"], format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(who["UserId"], u["UserId"]);
    assert_eq!(
        run_json(alice().args(["iam", "get-user"]))["User"]["UserName"],
        "alice"
    );
    let own = run_json(alice().args(["iam", "list-access-keys"]))["AccessKeyMetadata"].clone();
    assert_eq!(names(&own, "AccessKeyId"), vec![id.clone()]);
    // A wrong secret is still refused.
    expect_error(
        aws_with(ep, &id, "wrong-secret-wrong-secret-wrong-secret-00", None)
            .args(["sts", "get-caller-identity"]),
        "SignatureDoesNotMatch",
    );

    // Two keys per user at most.
    let key2 = run_json(alice().args(["iam", "create-access-key"]))["AccessKey"].clone();
    let id2 = key2["AccessKeyId"].as_str().unwrap().to_string();
    let msg = fails(
        ep,
        &["create-access-key", "--user-name", "alice"],
        "LimitExceeded",
    );
    assert!(
        msg.contains("Cannot exceed quota for AccessKeysPerUser: 2"),
        "{msg}"
    );
    let mut listed = names(
        &ok(ep, &["list-access-keys", "--user-name", "alice"])["AccessKeyMetadata"],
        "AccessKeyId",
    );
    listed.sort();
    let mut want = vec![id.clone(), id2.clone()];
    want.sort();
    assert_eq!(listed, want);
    fails(
        ep,
        &["list-access-keys", "--user-name", "bob"],
        "NoSuchEntity",
    );

    let msg = fails(
        ep,
        &["delete-user", "--user-name", "alice"],
        "DeleteConflict",
    );
    assert!(msg.contains("must delete access keys first"), "{msg}");
    // A key is deleted for its own user only.
    fails(
        ep,
        &["delete-access-key", "--access-key-id", &id],
        "NoSuchEntity",
    );
    ok(
        ep,
        &[
            "delete-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            &id,
        ],
    );
    let msg = expect_error(
        alice().args(["sts", "get-caller-identity"]),
        "InvalidClientTokenId",
    );
    assert!(
        msg.contains("The security token included in the request is invalid"),
        "{msg}"
    );
    fails(
        ep,
        &[
            "delete-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            &id,
        ],
        "NoSuchEntity",
    );
    ok(
        ep,
        &[
            "delete-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            &id2,
        ],
    );

    // Managed policies on users.
    ok(
        ep,
        &[
            "attach-user-policy",
            "--user-name",
            "alice",
            "--policy-arn",
            &aws_arn("IAMReadOnlyAccess"),
        ],
    );
    let on_alice = ok(ep, &["list-attached-user-policies", "--user-name", "alice"])
        ["AttachedPolicies"]
        .clone();
    assert_eq!(names(&on_alice, "PolicyName"), vec!["IAMReadOnlyAccess"]);
    let msg = fails(
        ep,
        &["delete-user", "--user-name", "alice"],
        "DeleteConflict",
    );
    assert!(msg.contains("must detach all policies first"), "{msg}");
    ok(
        ep,
        &[
            "detach-user-policy",
            "--user-name",
            "alice",
            "--policy-arn",
            &aws_arn("IAMReadOnlyAccess"),
        ],
    );
    ok(ep, &["delete-user", "--user-name", "alice"]);
    let refused: [(&[&str], &str); 2] = [
        (&["get-user", "--user-name", "alice"], "NoSuchEntity"),
        (&["delete-user", "--user-name", "alice"], "NoSuchEntity"),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }
}
