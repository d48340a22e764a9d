//! Managed policies.

use super::*;

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
        &common::words("create-policy --policy-name bad --policy-document []"),
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
        &common::words("attach-role-policy --role-name r --policy-arn not-an-arn-at-all-xyz"),
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
    let refused: [(&[&str], &str); 2] = [
        (
            &[
                "get-policy-version",
                "--policy-arn",
                &arn,
                "--version-id",
                "v9",
            ],
            "NoSuchEntity",
        ),
        (
            &[
                "get-policy-version",
                "--policy-arn",
                &arn,
                "--version-id",
                "x1",
            ],
            "ValidationError",
        ),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }
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
    let refused: [(&[&str], &str); 2] = [
        (&["delete-policy", "--policy-arn", &arn], "NoSuchEntity"),
        (
            &["list-policy-versions", "--policy-arn", &arn],
            "NoSuchEntity",
        ),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }
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
            &common::words("list-policies --scope Local --path-prefix /team/"),
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
        &common::words("list-policies --scope Local --no-paginate --max-items 3"),
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
    let refused: [(&[&str], &str); 6] = [
        (&["delete-policy", "--policy-arn", &s3], "AccessDenied"),
        (
            &[
                "create-policy-version",
                "--policy-arn",
                &s3,
                "--policy-document",
                &policy_doc(&["s3:*"]),
            ],
            "AccessDenied",
        ),
        (
            &[
                "delete-policy-version",
                "--policy-arn",
                &s3,
                "--version-id",
                "v1",
            ],
            "AccessDenied",
        ),
        (
            &[
                "set-default-policy-version",
                "--policy-arn",
                &s3,
                "--version-id",
                "v1",
            ],
            "AccessDenied",
        ),
        (
            &[
                "get-policy",
                "--policy-arn",
                &aws_arn("NoSuchManagedPolicy"),
            ],
            "NoSuchEntity",
        ),
        (
            &[
                "attach-role-policy",
                "--role-name",
                ROLE,
                "--policy-arn",
                &aws_arn("NoSuchManagedPolicy"),
            ],
            "NoSuchEntity",
        ),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }
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
        vec![LEARNER_USER]
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
