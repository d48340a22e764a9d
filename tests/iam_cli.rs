//! IAM through the real `aws iam` CLI (the pinned awscli from `.venv`) against a sandbox started
//! by each test: the workshop's seeded roles, policies, instance profile and learner; every
//! operation the sandbox implements, with AWS's error codes (DeleteConflict while a policy such
//! as AWSKeyManagementServicePowerUser is attached, while a policy is attached or has versions,
//! LimitExceeded, MalformedPolicyDocument, …); access keys that sign requests until deleted;
//! and the CloudTrail records of IAM calls.
//!
//! Every test has its own sandbox, so they run in parallel and in any order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::{Command, Output};

use serde_json::{json, Value};

use common::*;

const ROLE: &str = "KMSWorkshop-InstanceInitRole";
const ROLE_ID: &str = "AROAWORKSHOPINSTANCE1";
const LEARNER_USER_ID: &str = "AIDAWORKSHOPLEARNER01";

fn aws_arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

fn local_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// The AWS error code from the CLI's "An error occurred (Code) when calling …" message.
fn error_code(out: &Output) -> String {
    let s = stderr_of(out);
    s.split("An error occurred (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no AWS error in stderr: {s}"))
        .to_string()
}

/// Run, expect the AWS error `code`; returns stderr.
fn expect_error(cmd: &mut Command, code: &str) -> String {
    let out = run_fail(cmd);
    assert_eq!(
        error_code(&out),
        code,
        "{cmd:?}\nstderr: {}",
        stderr_of(&out)
    );
    stderr_of(&out)
}

/// `aws iam <args>` as the learner.
fn iam(ep: &str, args: &[&str]) -> Command {
    let mut c = aws(ep);
    c.arg("iam").args(args);
    c
}

fn ok(ep: &str, args: &[&str]) -> Value {
    run_json(&mut iam(ep, args))
}

fn fails(ep: &str, args: &[&str], code: &str) -> String {
    expect_error(&mut iam(ep, args), code)
}

fn names(list: &Value, member: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|v| v[member].as_str().unwrap().to_string())
        .collect()
}

fn attached(ep: &str, role: &str) -> Vec<String> {
    names(
        &ok(ep, &["list-attached-role-policies", "--role-name", role])["AttachedPolicies"],
        "PolicyArn",
    )
}

fn policy_doc(actions: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string()
}

const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The `Action` list of a policy document as the CLI prints it (decoded to JSON).
fn actions(doc: &Value) -> Vec<String> {
    let st = &doc["Statement"];
    let st = if st.is_array() {
        st[0].clone()
    } else {
        st.clone()
    };
    match &st["Action"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        other => panic!("no actions in {other}"),
    }
}

fn default_document(ep: &str, arn: &str) -> Value {
    let p = ok(ep, &["get-policy", "--policy-arn", arn])["Policy"].clone();
    let v = p["DefaultVersionId"].as_str().unwrap().to_string();
    let pv = ok(
        ep,
        &[
            "get-policy-version",
            "--policy-arn",
            arn,
            "--version-id",
            &v,
        ],
    )["PolicyVersion"]
        .clone();
    assert_eq!(pv["IsDefaultVersion"], true);
    assert!(
        pv["Document"].is_object(),
        "botocore decodes the URL-encoded document: {pv}"
    );
    pv["Document"].clone()
}

// ---------------------------------------------------------------------------------------------
// The seed: IAM at the start of the monitoring chapter (DESIGN.md section 2).

#[test]
fn seeded_role_profile_and_policies() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;

    let role = ok(ep, &["get-role", "--role-name", ROLE])["Role"].clone();
    assert_eq!(role["RoleId"], ROLE_ID);
    assert_eq!(role["Arn"], format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"));
    assert_eq!(role["Path"], "/");
    assert_eq!(role["MaxSessionDuration"], 3600);
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        json!(["ec2.amazonaws.com"])
    );
    assert_eq!(role["RoleLastUsed"]["Region"], "us-east-1");

    assert_eq!(
        attached(ep, ROLE),
        // Listed by policy name.
        vec![
            aws_arn("AWSCloudTrailReadOnlyAccess"),
            aws_arn("AWSKeyManagementServicePowerUser"),
            aws_arn("AmazonEC2FullAccess"),
            aws_arn("AmazonS3FullAccess"),
            local_arn("KMS-Workshop-ImportMaterialPermissions"),
            local_arn("KMSWorkshop-AdditionalPermissions"),
            local_arn("KMSWorkshop-RotationDisableOps"),
        ]
    );
    assert!(
        ok(ep, &["list-role-policies", "--role-name", ROLE])["PolicyNames"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The instance profile holds the role.
    let profiles = ok(
        ep,
        &["list-instance-profiles-for-role", "--role-name", ROLE],
    )["InstanceProfiles"]
        .clone();
    assert_eq!(names(&profiles, "InstanceProfileName"), vec![ROLE]);
    let p = ok(
        ep,
        &["get-instance-profile", "--instance-profile-name", ROLE],
    )["InstanceProfile"]
        .clone();
    assert_eq!(
        p["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/{ROLE}")
    );
    assert!(p["InstanceProfileId"].as_str().unwrap().starts_with("AIPA"));
    assert_eq!(names(&p["Roles"], "RoleId"), vec![ROLE_ID]);

    // The customer policies with exactly the workshop's actions.
    let expect: [(&str, &[&str]); 3] = [
        (
            "KMS-Workshop-ImportMaterialPermissions",
            &["kms:ImportKeyMaterial"],
        ),
        (
            "KMSWorkshop-RotationDisableOps",
            &[
                "kms:DisableKey",
                "kms:EnableKey",
                "kms:ScheduleKeyDeletion",
                "kms:UpdateAlias",
                "kms:DeleteImportedKeyMaterial",
            ],
        ),
        (
            "KMSWorkshop-AdditionalPermissions",
            &[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:TagResource",
                "kms:UntagResource",
            ],
        ),
    ];
    for (name, acts) in expect {
        let p = ok(ep, &["get-policy", "--policy-arn", &local_arn(name)])["Policy"].clone();
        assert_eq!(p["PolicyName"], name);
        assert_eq!(p["AttachmentCount"], 1, "{name}");
        assert!(p["PolicyId"].as_str().unwrap().starts_with("ANPA"));
        assert_eq!(
            actions(&default_document(ep, &local_arn(name))),
            acts,
            "{name}"
        );
    }

    // The AWS-managed policies, attached once in this account; both CloudTrail names exist.
    for name in [
        "AmazonS3FullAccess",
        "AWSCloudTrailReadOnlyAccess",
        "AmazonEC2FullAccess",
        "AWSKeyManagementServicePowerUser",
        "AWSCloudTrail_ReadOnlyAccess",
    ] {
        let p = ok(ep, &["get-policy", "--policy-arn", &aws_arn(name)])["Policy"].clone();
        assert_eq!(p["Arn"], aws_arn(name));
        assert_eq!(
            p["AttachmentCount"],
            if name == "AWSCloudTrail_ReadOnlyAccess" {
                0
            } else {
                1
            },
            "{name}"
        );
        assert!(p["Description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(!actions(&default_document(ep, &aws_arn(name))).is_empty());
    }
    let kms_power = actions(&default_document(
        ep,
        &aws_arn("AWSKeyManagementServicePowerUser"),
    ));
    assert!(
        kms_power.contains(&"kms:CreateKey".to_string())
            && !kms_power.contains(&"kms:ScheduleKeyDeletion".to_string())
    );

    // Lookalikes that a clean-up must leave alone.
    let prod = ok(
        ep,
        &[
            "get-role",
            "--role-name",
            "KMSWorkshop-InstanceInitRole-prod",
        ],
    )["Role"]
        .clone();
    assert_ne!(prod["RoleId"], ROLE_ID);
    assert_eq!(
        attached(ep, "KMSWorkshop-InstanceInitRole-prod"),
        vec![local_arn("KMSWorkshop-AdditionalPermissions-prod")]
    );
    let versions = ok(
        ep,
        &[
            "list-policy-versions",
            "--policy-arn",
            &local_arn("KMSWorkshop-RotationDisableOps-prod"),
        ],
    );
    assert_eq!(names(&versions["Versions"], "VersionId"), vec!["v2", "v1"]);
    let local = ok(ep, &["list-policies", "--scope", "Local"])["Policies"].clone();
    let mut local_names = names(&local, "PolicyName");
    local_names.sort();
    assert_eq!(
        local_names,
        vec![
            "KMS-Workshop-ImportMaterialPermissions",
            "KMSWorkshop-AdditionalPermissions",
            "KMSWorkshop-AdditionalPermissions-prod",
            "KMSWorkshop-RotationDisableOps",
            "KMSWorkshop-RotationDisableOps-prod",
        ]
    );
    let roles = names(&ok(ep, &["list-roles"])["Roles"], "RoleName");
    assert_eq!(roles, vec![ROLE, "KMSWorkshop-InstanceInitRole-prod"]);
}

#[test]
fn seeded_learner_and_instance_identities() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let me = ok(ep, &["get-user"])["User"].clone();
    assert_eq!(me["UserName"], "workshop-learner");
    assert_eq!(me["UserId"], LEARNER_USER_ID);
    assert_eq!(
        me["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/workshop-learner")
    );
    assert_eq!(
        ok(ep, &["get-user", "--user-name", "workshop-learner"])["User"],
        me
    );
    assert_eq!(
        names(&ok(ep, &["list-users"])["Users"], "UserName"),
        vec!["workshop-learner"]
    );
    let keys = ok(ep, &["list-access-keys"])["AccessKeyMetadata"].clone();
    assert_eq!(names(&keys, "AccessKeyId"), vec![LEARNER_ACCESS_KEY]);
    assert_eq!(keys[0]["Status"], "Active");
    assert_eq!(keys[0]["UserName"], "workshop-learner");
    // STS and IAM agree on who the learner is.
    let who = run_json(aws(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(who["UserId"], LEARNER_USER_ID);
    assert_eq!(who["Arn"], me["Arn"]);

    // The instance's role session: its principal id is the seeded role's id; GetUser needs a
    // user name from role credentials, as on AWS.
    let instance = || {
        aws_with(
            ep,
            INSTANCE_ACCESS_KEY,
            INSTANCE_SECRET_KEY,
            Some(INSTANCE_SESSION_TOKEN),
        )
    };
    let who = run_json(instance().args(["sts", "get-caller-identity"]));
    assert_eq!(who["UserId"], format!("{ROLE_ID}:{INSTANCE_ID}"));
    let msg = expect_error(instance().args(["iam", "get-user"]), "ValidationError");
    assert!(
        msg.contains("Must specify userName when calling with non-User credentials"),
        "{msg}"
    );
    assert_eq!(
        run_json(instance().args(["iam", "get-role", "--role-name", ROLE]))["Role"]["RoleId"],
        ROLE_ID
    );
}

// ---------------------------------------------------------------------------------------------
// The workshop's clean-up, and why its order matters.

#[test]
fn deleting_the_workshop_role_needs_every_policy_detached_first() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let msg = fails(ep, &["delete-role", "--role-name", ROLE], "DeleteConflict");
    assert!(
        msg.contains("must remove roles from instance profile first"),
        "{msg}"
    );
    ok(
        ep,
        &[
            "remove-role-from-instance-profile",
            "--instance-profile-name",
            ROLE,
            "--role-name",
            ROLE,
        ],
    );
    fails(
        ep,
        &[
            "remove-role-from-instance-profile",
            "--instance-profile-name",
            ROLE,
            "--role-name",
            ROLE,
        ],
        "NoSuchEntity",
    );
    assert!(ok(
        ep,
        &["list-instance-profiles-for-role", "--role-name", ROLE]
    )["InstanceProfiles"]
        .as_array()
        .unwrap()
        .is_empty());

    // What the stack declares and what the learner attached, everything except
    // AWSKeyManagementServicePowerUser: the role still cannot go.
    for arn in attached(ep, ROLE) {
        if arn != aws_arn("AWSKeyManagementServicePowerUser") {
            ok(
                ep,
                &[
                    "detach-role-policy",
                    "--role-name",
                    ROLE,
                    "--policy-arn",
                    &arn,
                ],
            );
        }
    }
    assert_eq!(
        attached(ep, ROLE),
        vec![aws_arn("AWSKeyManagementServicePowerUser")]
    );
    let msg = fails(ep, &["delete-role", "--role-name", ROLE], "DeleteConflict");
    assert!(
        msg.contains("Cannot delete entity, must detach all policies first."),
        "{msg}"
    );
    fails(
        ep,
        &[
            "detach-role-policy",
            "--role-name",
            ROLE,
            "--policy-arn",
            &aws_arn("AmazonS3FullAccess"),
        ],
        "NoSuchEntity",
    );
    ok(
        ep,
        &[
            "detach-role-policy",
            "--role-name",
            ROLE,
            "--policy-arn",
            &aws_arn("AWSKeyManagementServicePowerUser"),
        ],
    );
    ok(ep, &["delete-role", "--role-name", ROLE]);
    let msg = fails(ep, &["get-role", "--role-name", ROLE], "NoSuchEntity");
    assert!(
        msg.contains(&format!("The role with name {ROLE} cannot be found.")),
        "{msg}"
    );
    ok(
        ep,
        &["delete-instance-profile", "--instance-profile-name", ROLE],
    );
    fails(
        ep,
        &["get-instance-profile", "--instance-profile-name", ROLE],
        "NoSuchEntity",
    );

    // The detached customer policies remain (the workshop never deletes them) and can go now.
    for name in [
        "KMS-Workshop-ImportMaterialPermissions",
        "KMSWorkshop-RotationDisableOps",
        "KMSWorkshop-AdditionalPermissions",
    ] {
        let p = ok(ep, &["get-policy", "--policy-arn", &local_arn(name)])["Policy"].clone();
        assert_eq!(p["AttachmentCount"], 0);
        ok(ep, &["delete-policy", "--policy-arn", &local_arn(name)]);
    }
    // The lookalikes are untouched.
    assert_eq!(
        attached(ep, "KMSWorkshop-InstanceInitRole-prod"),
        vec![local_arn("KMSWorkshop-AdditionalPermissions-prod")]
    );
    ok(
        ep,
        &[
            "get-policy",
            "--policy-arn",
            &local_arn("KMSWorkshop-RotationDisableOps-prod"),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Roles.

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
    fails(
        ep,
        &[
            "create-role",
            "--role-name",
            "APP-ROLE",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
        "EntityAlreadyExists",
    );
    fails(
        ep,
        &[
            "create-role",
            "--role-name",
            "bad name",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
        "ValidationError",
    );
    fails(
        ep,
        &[
            "create-role",
            "--role-name",
            "r2",
            "--assume-role-policy-document",
            "{not json",
        ],
        "MalformedPolicyDocument",
    );
    fails(
        ep,
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
    );
    fails(
        ep,
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
    );

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
        &[
            "tag-role",
            "--role-name",
            "app-role",
            "--tags",
            "Key=env,Value=prod",
            "Key=owner,Value=me",
        ],
    );
    let tags = ok(ep, &["list-role-tags", "--role-name", "app-role"]);
    assert_eq!(
        tags["Tags"],
        // Listed by key.
        json!([{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "me"}, {"Key": "team", "Value": "a"}])
    );
    ok(
        ep,
        &[
            "untag-role",
            "--role-name",
            "app-role",
            "--tag-keys",
            "team",
            "owner",
        ],
    );
    assert_eq!(
        ok(ep, &["list-role-tags", "--role-name", "app-role"])["Tags"],
        json!([{"Key": "env", "Value": "prod"}])
    );
    fails(
        ep,
        &["tag-role", "--role-name", "nope", "--tags", "Key=a,Value=b"],
        "NoSuchEntity",
    );
    fails(
        ep,
        &["list-role-tags", "--role-name", "nope"],
        "NoSuchEntity",
    );

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
        &[
            "get-role-policy",
            "--role-name",
            "app-role",
            "--policy-name",
            "inline-kms",
        ],
    );
    assert_eq!(got["RoleName"], "app-role");
    assert_eq!(got["PolicyName"], "inline-kms");
    assert_eq!(
        got["PolicyDocument"],
        serde_json::from_str::<Value>(&doc).unwrap()
    );
    fails(
        ep,
        &[
            "get-role-policy",
            "--role-name",
            "app-role",
            "--policy-name",
            "nope",
        ],
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
        &[
            "delete-role-policy",
            "--role-name",
            "app-role",
            "--policy-name",
            "inline-kms",
        ],
    );
    fails(
        ep,
        &[
            "delete-role-policy",
            "--role-name",
            "app-role",
            "--policy-name",
            "inline-kms",
        ],
        "NoSuchEntity",
    );
    ok(ep, &["delete-role", "--role-name", "app-role"]);
    fails(
        ep,
        &["delete-role", "--role-name", "app-role"],
        "NoSuchEntity",
    );
}

// ---------------------------------------------------------------------------------------------
// Managed policies.

#[test]
fn managed_policy_versions_attachments_and_delete_conflicts() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "r",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
    );
    let doc1 = policy_doc(&["kms:Encrypt"]);
    let p = ok(
        ep,
        &[
            "create-policy",
            "--policy-name",
            "KMSWorkshop-Test",
            "--policy-document",
            &doc1,
            "--description",
            "test policy",
        ],
    )["Policy"]
        .clone();
    let arn = local_arn("KMSWorkshop-Test");
    assert_eq!(p["Arn"], arn);
    assert!(p["PolicyId"].as_str().unwrap().starts_with("ANPA"));
    assert_eq!(p["DefaultVersionId"], "v1");
    assert_eq!(p["AttachmentCount"], 0);
    assert_eq!(p["IsAttachable"], true);
    let msg = fails(
        ep,
        &[
            "create-policy",
            "--policy-name",
            "KMSWorkshop-Test",
            "--policy-document",
            &doc1,
        ],
        "EntityAlreadyExists",
    );
    assert!(
        msg.contains(
            "A policy called KMSWorkshop-Test already exists. Duplicate names are not allowed."
        ),
        "{msg}"
    );
    fails(
        ep,
        &[
            "create-policy",
            "--policy-name",
            "bad",
            "--policy-document",
            "[]",
        ],
        "MalformedPolicyDocument",
    );
    let no_resource =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt"}]}"#;
    let msg = fails(
        ep,
        &[
            "create-policy",
            "--policy-name",
            "bad",
            "--policy-document",
            no_resource,
        ],
        "MalformedPolicyDocument",
    );
    assert!(
        msg.contains("Policy statement must contain resources."),
        "{msg}"
    );
    assert_eq!(
        ok(ep, &["get-policy", "--policy-arn", &arn])["Policy"]["Description"],
        "test policy"
    );

    // Attached: counted, listed, and not deletable.
    ok(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "r",
            "--policy-arn",
            &arn,
        ],
    );
    ok(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "r",
            "--policy-arn",
            &arn,
        ],
    );
    assert_eq!(attached(ep, "r"), vec![arn.clone()]);
    assert_eq!(
        ok(ep, &["get-policy", "--policy-arn", &arn])["Policy"]["AttachmentCount"],
        1
    );
    let entities = ok(ep, &["list-entities-for-policy", "--policy-arn", &arn]);
    assert_eq!(names(&entities["PolicyRoles"], "RoleName"), vec!["r"]);
    assert_eq!(entities["PolicyUsers"], json!([]));
    assert_eq!(entities["PolicyGroups"], json!([]));
    assert_eq!(
        ok(
            ep,
            &[
                "list-entities-for-policy",
                "--policy-arn",
                &arn,
                "--entity-filter",
                "User"
            ]
        )["PolicyRoles"],
        json!([])
    );
    let only = names(
        &ok(
            ep,
            &["list-policies", "--scope", "Local", "--only-attached"],
        )["Policies"],
        "PolicyName",
    );
    assert_eq!(only, vec!["KMSWorkshop-Test"]);
    let msg = fails(
        ep,
        &["delete-policy", "--policy-arn", &arn],
        "DeleteConflict",
    );
    assert!(
        msg.contains("Cannot delete a policy attached to entities."),
        "{msg}"
    );
    fails(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "nope",
            "--policy-arn",
            &arn,
        ],
        "NoSuchEntity",
    );
    let msg = fails(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "r",
            "--policy-arn",
            &local_arn("Nope"),
        ],
        "NoSuchEntity",
    );
    assert!(msg.contains("does not exist or is not attachable"), "{msg}");
    fails(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "r",
            "--policy-arn",
            "not-an-arn-at-all-xyz",
        ],
        "InvalidInput",
    );
    ok(
        ep,
        &[
            "detach-role-policy",
            "--role-name",
            "r",
            "--policy-arn",
            &arn,
        ],
    );
    assert!(ok(
        ep,
        &["list-policies", "--scope", "Local", "--only-attached"]
    )["Policies"]
        .as_array()
        .unwrap()
        .is_empty());

    // Versions: at most five; the default cannot be deleted; a policy with versions cannot be.
    for (i, set_default) in [(2, false), (3, true), (4, false), (5, false)] {
        let mut args = vec!["create-policy-version", "--policy-arn", &arn];
        let doc = policy_doc(&["kms:Encrypt", "kms:Decrypt"]);
        args.extend(["--policy-document", &doc]);
        if set_default {
            args.push("--set-as-default");
        }
        let v = ok(ep, &args)["PolicyVersion"].clone();
        assert_eq!(v["VersionId"], format!("v{i}"));
        assert_eq!(v["IsDefaultVersion"], set_default);
        assert!(
            v.get("Document").is_none(),
            "CreatePolicyVersion does not return the document"
        );
    }
    let msg = fails(
        ep,
        &[
            "create-policy-version",
            "--policy-arn",
            &arn,
            "--policy-document",
            &doc1,
        ],
        "LimitExceeded",
    );
    assert!(
        msg.contains("A managed policy can have up to 5 versions."),
        "{msg}"
    );
    let versions = ok(ep, &["list-policy-versions", "--policy-arn", &arn])["Versions"].clone();
    assert_eq!(
        names(&versions, "VersionId"),
        vec!["v5", "v4", "v3", "v2", "v1"]
    );
    let defaults: Vec<&Value> = versions
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["IsDefaultVersion"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["VersionId"], "v3");
    assert_eq!(
        ok(ep, &["get-policy", "--policy-arn", &arn])["Policy"]["DefaultVersionId"],
        "v3"
    );
    let v1 = ok(
        ep,
        &[
            "get-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "v1",
        ],
    )["PolicyVersion"]
        .clone();
    assert_eq!(
        v1["Document"],
        serde_json::from_str::<Value>(&doc1).unwrap()
    );
    assert_eq!(v1["IsDefaultVersion"], false);
    fails(
        ep,
        &[
            "get-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "v9",
        ],
        "NoSuchEntity",
    );
    fails(
        ep,
        &[
            "get-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "x1",
        ],
        "ValidationError",
    );
    let msg = fails(
        ep,
        &[
            "delete-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "v3",
        ],
        "DeleteConflict",
    );
    assert!(
        msg.contains("Cannot delete the default version of a policy."),
        "{msg}"
    );
    let msg = fails(
        ep,
        &["delete-policy", "--policy-arn", &arn],
        "DeleteConflict",
    );
    assert!(
        msg.contains("This policy has more than one version."),
        "{msg}"
    );
    ok(
        ep,
        &[
            "set-default-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "v5",
        ],
    );
    for v in ["v1", "v2", "v3", "v4"] {
        ok(
            ep,
            &[
                "delete-policy-version",
                "--policy-arn",
                &arn,
                "--version-id",
                v,
            ],
        );
    }
    fails(
        ep,
        &[
            "delete-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "v1",
        ],
        "NoSuchEntity",
    );
    // Version ids are never reused.
    let v = ok(
        ep,
        &[
            "create-policy-version",
            "--policy-arn",
            &arn,
            "--policy-document",
            &doc1,
        ],
    )["PolicyVersion"]
        .clone();
    assert_eq!(v["VersionId"], "v6");
    ok(
        ep,
        &[
            "delete-policy-version",
            "--policy-arn",
            &arn,
            "--version-id",
            "v6",
        ],
    );
    ok(ep, &["delete-policy", "--policy-arn", &arn]);
    let msg = fails(ep, &["get-policy", "--policy-arn", &arn], "NoSuchEntity");
    assert!(
        msg.contains(&format!("Policy {arn} was not found.")),
        "{msg}"
    );
    fails(ep, &["delete-policy", "--policy-arn", &arn], "NoSuchEntity");
    fails(
        ep,
        &["list-policy-versions", "--policy-arn", &arn],
        "NoSuchEntity",
    );
}

#[test]
fn list_policies_scopes_paths_and_pages() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    let doc = policy_doc(&["s3:GetObject"]);
    for (name, path) in [
        ("p-a", "/"),
        ("p-b", "/team/"),
        ("p-c", "/team/"),
        ("p-d", "/"),
    ] {
        ok(
            ep,
            &[
                "create-policy",
                "--policy-name",
                name,
                "--path",
                path,
                "--policy-document",
                &doc,
            ],
        );
    }
    fails(
        ep,
        &[
            "create-policy",
            "--policy-name",
            "p-e",
            "--path",
            "team",
            "--policy-document",
            &doc,
        ],
        "ValidationError",
    );
    assert_eq!(
        ok(
            ep,
            &[
                "get-policy",
                "--policy-arn",
                &format!("arn:aws:iam::{ACCOUNT}:policy/team/p-b")
            ]
        )["Policy"]["Path"],
        "/team/"
    );
    let local = names(
        &ok(ep, &["list-policies", "--scope", "Local"])["Policies"],
        "PolicyName",
    );
    assert_eq!(local, vec!["p-a", "p-b", "p-c", "p-d"]);
    let team = names(
        &ok(
            ep,
            &[
                "list-policies",
                "--scope",
                "Local",
                "--path-prefix",
                "/team/",
            ],
        )["Policies"],
        "PolicyName",
    );
    assert_eq!(team, vec!["p-b", "p-c"]);
    let paged = names(
        &ok(
            ep,
            &["list-policies", "--scope", "Local", "--page-size", "1"],
        )["Policies"],
        "PolicyName",
    );
    assert_eq!(paged, local);
    let first = ok(
        ep,
        &[
            "list-policies",
            "--scope",
            "Local",
            "--no-paginate",
            "--max-items",
            "3",
        ],
    );
    assert_eq!(first["IsTruncated"], true);
    let rest = ok(
        ep,
        &[
            "list-policies",
            "--scope",
            "Local",
            "--no-paginate",
            "--max-items",
            "3",
            "--marker",
            first["Marker"].as_str().unwrap(),
        ],
    );
    assert_eq!(names(&rest["Policies"], "PolicyName"), vec!["p-d"]);
    assert!(rest.get("Marker").is_none());

    let aws_scope = names(
        &ok(ep, &["list-policies", "--scope", "AWS"])["Policies"],
        "PolicyName",
    );
    for name in [
        "AmazonS3FullAccess",
        "AWSCloudTrailReadOnlyAccess",
        "AWSCloudTrail_ReadOnlyAccess",
        "AmazonEC2FullAccess",
        "AWSKeyManagementServicePowerUser",
    ] {
        assert!(
            aws_scope.contains(&name.to_string()),
            "{name} missing from {aws_scope:?}"
        );
    }
    assert!(!aws_scope.contains(&"p-a".to_string()));
    let all = names(&ok(ep, &["list-policies"])["Policies"], "PolicyName");
    assert_eq!(all.len(), aws_scope.len() + local.len());
    // Nothing is attached in an empty account.
    assert!(ok(ep, &["list-policies", "--only-attached"])["Policies"]
        .as_array()
        .unwrap()
        .is_empty());
    fails(ep, &["list-policies", "--scope", "Mine"], "ValidationError");
}

#[test]
fn aws_managed_policies_are_read_only() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let s3 = aws_arn("AmazonS3FullAccess");
    let versions = ok(ep, &["list-policy-versions", "--policy-arn", &s3])["Versions"].clone();
    assert_eq!(names(&versions, "VersionId"), vec!["v2", "v1"]);
    let v2 = ok(
        ep,
        &[
            "get-policy-version",
            "--policy-arn",
            &s3,
            "--version-id",
            "v2",
        ],
    )["PolicyVersion"]
        .clone();
    assert_eq!(actions(&v2["Document"]), vec!["s3:*", "s3-object-lambda:*"]);
    fails(ep, &["delete-policy", "--policy-arn", &s3], "AccessDenied");
    fails(
        ep,
        &[
            "create-policy-version",
            "--policy-arn",
            &s3,
            "--policy-document",
            &policy_doc(&["s3:*"]),
        ],
        "AccessDenied",
    );
    fails(
        ep,
        &[
            "delete-policy-version",
            "--policy-arn",
            &s3,
            "--version-id",
            "v1",
        ],
        "AccessDenied",
    );
    fails(
        ep,
        &[
            "set-default-policy-version",
            "--policy-arn",
            &s3,
            "--version-id",
            "v1",
        ],
        "AccessDenied",
    );
    fails(
        ep,
        &[
            "get-policy",
            "--policy-arn",
            &aws_arn("NoSuchManagedPolicy"),
        ],
        "NoSuchEntity",
    );
    fails(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            ROLE,
            "--policy-arn",
            &aws_arn("NoSuchManagedPolicy"),
        ],
        "NoSuchEntity",
    );
    let roles = ok(
        ep,
        &[
            "list-entities-for-policy",
            "--policy-arn",
            &aws_arn("AWSKeyManagementServicePowerUser"),
        ],
    );
    assert_eq!(
        roles["PolicyRoles"],
        json!([{"RoleName": ROLE, "RoleId": ROLE_ID}])
    );
    let admins = ok(
        ep,
        &[
            "list-entities-for-policy",
            "--policy-arn",
            &aws_arn("AdministratorAccess"),
        ],
    );
    assert_eq!(
        names(&admins["PolicyUsers"], "UserName"),
        vec!["workshop-learner"]
    );
    // A customer policy may share an AWS-managed policy's name.
    ok(
        ep,
        &[
            "create-policy",
            "--policy-name",
            "AmazonS3FullAccess",
            "--policy-document",
            &policy_doc(&["s3:GetObject"]),
        ],
    );
    let both: Vec<String> = names(&ok(ep, &["list-policies"])["Policies"], "Arn")
        .into_iter()
        .filter(|a| a.ends_with("/AmazonS3FullAccess"))
        .collect();
    assert_eq!(both.len(), 2, "{both:?}");
}

// ---------------------------------------------------------------------------------------------
// Instance profiles.

#[test]
fn instance_profile_lifecycle() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "r1",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
    );
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "r2",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
    );
    let p = ok(
        ep,
        &[
            "create-instance-profile",
            "--instance-profile-name",
            "prof",
            "--path",
            "/x/",
        ],
    )["InstanceProfile"]
        .clone();
    assert_eq!(
        p["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/x/prof")
    );
    assert_eq!(p["Roles"], json!([]));
    let msg = fails(
        ep,
        &["create-instance-profile", "--instance-profile-name", "prof"],
        "EntityAlreadyExists",
    );
    assert!(
        msg.contains("Instance Profile prof already exists."),
        "{msg}"
    );
    ok(
        ep,
        &[
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "prof",
            "--role-name",
            "r1",
        ],
    );
    let msg = fails(
        ep,
        &[
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "prof",
            "--role-name",
            "r2",
        ],
        "LimitExceeded",
    );
    assert!(
        msg.contains("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
        "{msg}"
    );
    fails(
        ep,
        &[
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "nope",
            "--role-name",
            "r2",
        ],
        "NoSuchEntity",
    );
    fails(
        ep,
        &[
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "prof",
            "--role-name",
            "nope",
        ],
        "NoSuchEntity",
    );
    let got = ok(
        ep,
        &["get-instance-profile", "--instance-profile-name", "prof"],
    )["InstanceProfile"]
        .clone();
    assert_eq!(names(&got["Roles"], "RoleName"), vec!["r1"]);
    ok(
        ep,
        &[
            "create-instance-profile",
            "--instance-profile-name",
            "other",
        ],
    );
    assert_eq!(
        names(
            &ok(ep, &["list-instance-profiles"])["InstanceProfiles"],
            "InstanceProfileName"
        ),
        vec!["other", "prof"]
    );
    assert_eq!(
        names(
            &ok(ep, &["list-instance-profiles", "--path-prefix", "/x/"])["InstanceProfiles"],
            "InstanceProfileName"
        ),
        vec!["prof"]
    );
    let for_role = ok(
        ep,
        &["list-instance-profiles-for-role", "--role-name", "r1"],
    )["InstanceProfiles"]
        .clone();
    assert_eq!(names(&for_role, "InstanceProfileName"), vec!["prof"]);
    assert_eq!(
        ok(
            ep,
            &["list-instance-profiles-for-role", "--role-name", "r2"]
        )["InstanceProfiles"],
        json!([])
    );
    fails(
        ep,
        &["list-instance-profiles-for-role", "--role-name", "nope"],
        "NoSuchEntity",
    );
    let msg = fails(
        ep,
        &["delete-instance-profile", "--instance-profile-name", "prof"],
        "DeleteConflict",
    );
    assert!(
        msg.contains("must remove roles from instance profile first"),
        "{msg}"
    );
    fails(ep, &["delete-role", "--role-name", "r1"], "DeleteConflict");
    ok(
        ep,
        &[
            "remove-role-from-instance-profile",
            "--instance-profile-name",
            "prof",
            "--role-name",
            "r1",
        ],
    );
    ok(
        ep,
        &["delete-instance-profile", "--instance-profile-name", "prof"],
    );
    let msg = fails(
        ep,
        &["get-instance-profile", "--instance-profile-name", "prof"],
        "NoSuchEntity",
    );
    assert!(
        msg.contains("Instance Profile prof cannot be found."),
        "{msg}"
    );
    fails(
        ep,
        &["delete-instance-profile", "--instance-profile-name", "prof"],
        "NoSuchEntity",
    );
    ok(ep, &["delete-role", "--role-name", "r1"]);
}

// ---------------------------------------------------------------------------------------------
// Users and access keys.

#[test]
fn users_and_access_keys_that_sign_until_deleted() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let u = ok(
        ep,
        &[
            "create-user",
            "--user-name",
            "alice",
            "--tags",
            "Key=team,Value=a",
        ],
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
        vec!["alice", "workshop-learner"]
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
    fails(ep, &["get-user", "--user-name", "alice"], "NoSuchEntity");
    fails(ep, &["delete-user", "--user-name", "alice"], "NoSuchEntity");
}

// ---------------------------------------------------------------------------------------------
// CloudTrail.

#[test]
fn iam_calls_are_recorded_in_cloudtrail() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "traced",
            "--assume-role-policy-document",
            EC2_TRUST,
            "--tags",
            "Key=a,Value=b",
        ],
    );
    ok(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "traced",
            "--policy-arn",
            &aws_arn("AmazonS3FullAccess"),
        ],
    );
    ok(ep, &["create-user", "--user-name", "carol"]);
    let key = ok(ep, &["create-access-key", "--user-name", "carol"])["AccessKey"].clone();
    let secret = key["SecretAccessKey"].as_str().unwrap().to_string();

    let lookup = |name: &str| {
        let attrs = json!([{"AttributeKey": "EventName", "AttributeValue": name}]).to_string();
        let v =
            run_json(aws(ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &attrs]));
        let events = v["Events"].as_array().cloned().unwrap_or_default();
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        events[0].clone()
    };
    let e = lookup("CreateRole");
    assert_eq!(e["EventSource"], "iam.amazonaws.com");
    assert_eq!(e["ReadOnly"], "false");
    assert_eq!(
        e["Resources"],
        json!([{"ResourceType": "AWS::IAM::Role", "ResourceName": format!("arn:aws:iam::{ACCOUNT}:role/traced")}])
    );
    let rec: Value = serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(rec["awsRegion"], "us-east-1");
    assert_eq!(rec["requestParameters"]["roleName"], "traced");
    assert_eq!(
        rec["requestParameters"]["tags"],
        json!([{"key": "a", "value": "b"}])
    );
    assert_eq!(rec["responseElements"]["role"]["roleName"], "traced");

    let e = lookup("AttachRolePolicy");
    let types: Vec<String> = names(&e["Resources"], "ResourceType");
    assert_eq!(types, vec!["AWS::IAM::Role", "AWS::IAM::Policy"]);

    let rec: Value = serde_json::from_str(
        lookup("CreateAccessKey")["CloudTrailEvent"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(rec["responseElements"]["accessKey"]["userName"], "carol");
    assert!(
        !rec.to_string().contains(&secret),
        "CloudTrail must never log the secret: {rec}"
    );

    ok(ep, &["get-role", "--role-name", "traced"]);
    let e = lookup("GetRole");
    assert_eq!(e["ReadOnly"], "true");
    let rec: Value = serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(rec["responseElements"], Value::Null);
}
