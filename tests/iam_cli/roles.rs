//! Roles.

use super::*;

#[test]
fn role_lifecycle_inline_policies_and_tags() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    let created = ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "app-role",
            "--path",
            "/apps/",
            "--description",
            "An application role",
            "--max-session-duration",
            "7200",
            "--assume-role-policy-document",
            EC2_TRUST,
            "--tags",
            "Key=team,Value=a",
            "Key=env,Value=test",
        ],
    )["Role"]
        .clone();
    let id = created["RoleId"].as_str().unwrap();
    assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
    assert_eq!(
        created["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/apps/app-role")
    );
    assert_eq!(
        created["AssumeRolePolicyDocument"],
        serde_json::from_str::<Value>(EC2_TRUST).unwrap()
    );
    assert_eq!(created["Description"], "An application role");
    assert_eq!(
        created["Tags"],
        json!([{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "test"}])
    );

    let msg = fails(
        ep,
        &[
            "create-role",
            "--role-name",
            "app-role",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
        "EntityAlreadyExists",
    );
    assert!(
        msg.contains("Role with name app-role already exists."),
        "{msg}"
    );
    let refused: [(&[&str], &str); 5] = [
        (
            &[
                "create-role",
                "--role-name",
                "APP-ROLE",
                "--assume-role-policy-document",
                EC2_TRUST,
            ],
            "EntityAlreadyExists",
        ),
        (
            &[
                "create-role",
                "--role-name",
                "bad name",
                "--assume-role-policy-document",
                EC2_TRUST,
            ],
            "ValidationError",
        ),
        (
            &[
                "create-role",
                "--role-name",
                "r2",
                "--assume-role-policy-document",
                "{not json",
            ],
            "MalformedPolicyDocument",
        ),
        (
            &[
                "create-role",
                "--role-name",
                "r2",
                "--path",
                "apps",
                "--assume-role-policy-document",
                EC2_TRUST,
            ],
            "ValidationError",
        ),
        (
            &[
                "create-role",
                "--role-name",
                "r2",
                "--max-session-duration",
                "50000",
                "--assume-role-policy-document",
                EC2_TRUST,
            ],
            "ValidationError",
        ),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }

    let got = ok(ep, &["get-role", "--role-name", "app-role"])["Role"].clone();
    assert_eq!(got["MaxSessionDuration"], 7200);
    assert_eq!(got["RoleLastUsed"], json!({}));
    assert_eq!(got["RoleId"], id);
    fails(ep, &["get-role", "--role-name", "nope"], "NoSuchEntity");

    // Listing, by path and page by page.
    for i in 0..3 {
        ok(
            ep,
            &[
                "create-role",
                "--role-name",
                &format!("other-{i}"),
                "--assume-role-policy-document",
                EC2_TRUST,
            ],
        );
    }
    let apps = ok(ep, &["list-roles", "--path-prefix", "/apps/"])["Roles"].clone();
    assert_eq!(names(&apps, "RoleName"), vec!["app-role"]);
    assert!(
        apps[0].get("Tags").is_none(),
        "ListRoles does not return tags"
    );
    let all = names(
        &ok(ep, &["list-roles", "--page-size", "1"])["Roles"],
        "RoleName",
    );
    assert_eq!(all, vec!["app-role", "other-0", "other-1", "other-2"]);
    let first = ok(ep, &["list-roles", "--no-paginate", "--max-items", "2"]);
    assert_eq!(first["IsTruncated"], true);
    let marker = first["Marker"].as_str().unwrap();
    let second = ok(
        ep,
        &[
            "list-roles",
            "--no-paginate",
            "--max-items",
            "2",
            "--marker",
            marker,
        ],
    );
    assert_eq!(
        names(&second["Roles"], "RoleName"),
        vec!["other-1", "other-2"]
    );
    assert_eq!(second["IsTruncated"], false);
    fails(
        ep,
        &["list-roles", "--no-paginate", "--max-items", "1001"],
        "ValidationError",
    );

    // Tags.
    ok(
        ep,
        &common::words(
            "tag-role --role-name app-role --tags Key=env,Value=prod Key=owner,Value=me",
        ),
    );
    let tags = ok(ep, &["list-role-tags", "--role-name", "app-role"]);
    assert_eq!(
        tags["Tags"],
        // Listed by key.
        json!([{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "me"}, {"Key": "team", "Value": "a"}])
    );
    ok(
        ep,
        &common::words("untag-role --role-name app-role --tag-keys team owner"),
    );
    assert_eq!(
        ok(ep, &["list-role-tags", "--role-name", "app-role"])["Tags"],
        json!([{"Key": "env", "Value": "prod"}])
    );
    let refused: [(&[&str], &str); 2] = [
        (
            &["tag-role", "--role-name", "nope", "--tags", "Key=a,Value=b"],
            "NoSuchEntity",
        ),
        (&["list-role-tags", "--role-name", "nope"], "NoSuchEntity"),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }

    // Inline policies.
    let doc = policy_doc(&["kms:Encrypt", "kms:Decrypt"]);
    ok(
        ep,
        &[
            "put-role-policy",
            "--role-name",
            "app-role",
            "--policy-name",
            "inline-kms",
            "--policy-document",
            &doc,
        ],
    );
    assert_eq!(
        ok(ep, &["list-role-policies", "--role-name", "app-role"])["PolicyNames"],
        json!(["inline-kms"])
    );
    let got = ok(
        ep,
        &common::words("get-role-policy --role-name app-role --policy-name inline-kms"),
    );
    assert_eq!(got["RoleName"], "app-role");
    assert_eq!(got["PolicyName"], "inline-kms");
    assert_eq!(
        got["PolicyDocument"],
        serde_json::from_str::<Value>(&doc).unwrap()
    );
    fails(
        ep,
        &common::words("get-role-policy --role-name app-role --policy-name nope"),
        "NoSuchEntity",
    );
    let msg = fails(
        ep,
        &[
            "put-role-policy",
            "--role-name",
            "app-role",
            "--policy-name",
            "bad",
            "--policy-document",
            EC2_TRUST,
        ],
        "MalformedPolicyDocument",
    );
    assert!(
        msg.contains("principal") || msg.contains("resources"),
        "{msg}"
    );
    fails(
        ep,
        &[
            "put-role-policy",
            "--role-name",
            "nope",
            "--policy-name",
            "p",
            "--policy-document",
            &doc,
        ],
        "NoSuchEntity",
    );
    let msg = fails(
        ep,
        &["delete-role", "--role-name", "app-role"],
        "DeleteConflict",
    );
    assert!(
        msg.contains("Cannot delete entity, must delete policies first."),
        "{msg}"
    );
    ok(
        ep,
        &common::words("delete-role-policy --role-name app-role --policy-name inline-kms"),
    );
    fails(
        ep,
        &common::words("delete-role-policy --role-name app-role --policy-name inline-kms"),
        "NoSuchEntity",
    );
    ok(ep, &["delete-role", "--role-name", "app-role"]);
    fails(
        ep,
        &["delete-role", "--role-name", "app-role"],
        "NoSuchEntity",
    );
}

/// IAM is eventually consistent: with `--iam-propagation`, STS refuses a role just created (as
/// AWS answers AccessDenied for some seconds) and assumes it once the time has passed.
#[test]
fn a_role_just_created_cannot_be_assumed_until_it_propagates() {
    let sb = SandboxProc::start(&["--iam-propagation", "3s"]);
    let ep = &sb.endpoint;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]})
    .to_string();
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "fresh",
            "--assume-role-policy-document",
            &trust,
        ],
    );
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/fresh");
    let assume = || {
        let mut c = aws(ep);
        c.args([
            "sts",
            "assume-role",
            "--role-arn",
            &arn,
            "--role-session-name",
            "s1",
        ]);
        c
    };
    let msg = expect_error(&mut assume(), "AccessDenied");
    assert!(msg.contains("sts:AssumeRole"), "{msg}");
    std::thread::sleep(std::time::Duration::from_secs(4));
    let v = run_json(&mut assume());
    assert!(v["Credentials"]["AccessKeyId"].is_string(), "{v}");
}
