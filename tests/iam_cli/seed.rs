//! The seed: IAM at the start of the monitoring chapter (DESIGN.md section 2).

use super::*;

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
            local_arn(IMPORT_POLICY),
            local_arn(ADDITIONAL_POLICY),
            local_arn(ROTATION_POLICY),
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
        (IMPORT_POLICY, &["kms:ImportKeyMaterial"]),
        (
            ROTATION_POLICY,
            &common::words("kms:DisableKey kms:EnableKey kms:ScheduleKeyDeletion kms:UpdateAlias kms:DeleteImportedKeyMaterial"),
        ),
        (
            ADDITIONAL_POLICY,
            &common::words("kms:Encrypt kms:Decrypt kms:GenerateDataKey kms:GenerateDataKeyWithoutPlaintext kms:TagResource kms:UntagResource"),
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
        &common::words("get-role --role-name KMSWorkshop-InstanceInitRole-prod"),
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
            IMPORT_POLICY,
            ADDITIONAL_POLICY,
            "KMSWorkshop-AdditionalPermissions-prod",
            ROTATION_POLICY,
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
    assert_eq!(me["UserName"], LEARNER_USER);
    assert_eq!(me["UserId"], LEARNER_USER_ID);
    assert_eq!(
        me["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/{LEARNER_USER}")
    );
    assert_eq!(
        ok(ep, &["get-user", "--user-name", LEARNER_USER])["User"],
        me
    );
    assert_eq!(
        names(&ok(ep, &["list-users"])["Users"], "UserName"),
        vec![LEARNER_USER]
    );
    let keys = ok(ep, &["list-access-keys"])["AccessKeyMetadata"].clone();
    assert_eq!(names(&keys, "AccessKeyId"), vec![LEARNER_ACCESS_KEY]);
    assert_eq!(keys[0]["Status"], "Active");
    assert_eq!(keys[0]["UserName"], LEARNER_USER);
    // STS and IAM agree on who the learner is.
    let who = run_json(aws(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(who["UserId"], LEARNER_USER_ID);
    assert_eq!(who["Arn"], me["Arn"]);

    // The instance's role session: its principal id is the seeded role's id; GetUser needs a
    // user name from role credentials, as on AWS.
    let instance = || aws_instance(ep);
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
