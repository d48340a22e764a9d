//! Differential test: the same IAM requests, sent through the Rust SDK (aws-sdk-iam) to
//! `moto_server` and to the sandbox binary (`--seed empty`), must get answers of the same shape
//! (members present and their types, enum values, policy documents) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore model and the IAM API reference), that comparison is skipped with the reason next
//! to it, and the sandbox's answer is checked against AWS's documented answer instead. Every
//! answer of the sandbox is also checked against botocore's model (only members the model
//! defines, no nulls, and the `<OpResult>` element botocore needs whenever the operation has
//! an output shape). moto is started with its AWS-managed policies loaded, as every AWS account
//! has them. Needs `moto_server` and Python from the test virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod requests;

use crate::common;

use aws_sdk_iam::types::{EntityType, PolicyScopeType};
use common::differential::*;
use requests::*;
use serde_json::json;

/// AWS's CreateRole answer is the role without MaxSessionDuration and RoleLastUsed (GetRole
/// has them); moto adds both.
const MOTO_CREATE_ROLE_EXTRAS: &[&str] = &["Role.MaxSessionDuration", "Role.RoleLastUsed"];

/// moto 5.2 leaves PermissionsBoundaryUsageCount out of policies (AWS has answered it since
/// 2018) and always writes an empty `<Tags/>`, where the sandbox leaves an empty list out as
/// AWS's documented answers do.
const MOTO_POLICY_GAPS: &[&str] = &["Policy.PermissionsBoundaryUsageCount", "Policy.Tags"];

/// The same for AWS-managed policies, whose Description moto 5.2 also leaves out.
const MOTO_AWS_POLICY_GAPS: &[&str] = &[
    "Policy.PermissionsBoundaryUsageCount",
    "Policy.Tags",
    "Policy.Description",
];

/// Roles inside an instance profile: AWS's documented answer has Path, RoleName, RoleId, Arn,
/// CreateDate and AssumeRolePolicyDocument only; moto adds the GetRole members, and an empty
/// `<Tags/>` to the profile.
const MOTO_PROFILE_EXTRAS: &[&str] = &[
    "InstanceProfile.Tags",
    "InstanceProfile.Roles[].Description",
    "InstanceProfile.Roles[].MaxSessionDuration",
    "InstanceProfile.Roles[].RoleLastUsed",
    "InstanceProfile.Roles[].Tags",
];
const MOTO_PROFILES_EXTRAS: &[&str] = &[
    "InstanceProfiles[].Tags",
    "InstanceProfiles[].Roles[].Description",
    "InstanceProfiles[].Roles[].MaxSessionDuration",
    "InstanceProfiles[].Roles[].RoleLastUsed",
    "InstanceProfiles[].Roles[].Tags",
    // moto leaves IsTruncated out here; AWS always answers it.
    "IsTruncated",
];

const POLICY_VALUES: &[&str] = &[
    "Policy.PolicyName",
    "Policy.Path",
    "Policy.Arn",
    "Policy.DefaultVersionId",
    "Policy.AttachmentCount",
    "Policy.IsAttachable",
];

/// A customer-managed policy, compared with the members moto gets right.
fn policy_check(op: &str) -> Check<'_> {
    Check::new(op)
        .ignore(MOTO_POLICY_GAPS)
        .values(POLICY_VALUES)
}

async fn role_operations(sides: &mut [Side; 2], report: &mut Report) {
    let created = [
        (
            Role::Create("diff-role", TRUST, true),
            Check::new("iam:CreateRole")
                .ignore(MOTO_CREATE_ROLE_EXTRAS)
                .values(&[
                    "Role.RoleName",
                    "Role.Path",
                    "Role.Arn",
                    "Role.Description",
                    "Role.Tags",
                ])
                .json_values(&["Role.AssumeRolePolicyDocument"]),
        ),
        (
            Role::Create("diff-role", TRUST, false),
            Check::new("iam:CreateRole (duplicate)"),
        ),
        (
            Role::Create("diff-bad", "{not json", false),
            Check::new("iam:CreateRole (malformed trust policy)").moto_differs(
                "moto does not check trust policies",
                "MalformedPolicyDocument",
            ),
        ),
    ];
    run(sides, report, created).await;
    // moto created that role: remove it so that both sides list the same roles.
    let _ = sides[0]
        .iam
        .delete_role()
        .role_name("diff-bad")
        .send()
        .await;
    let rows = [
        (
            Role::Get("diff-role"),
            Check::new("iam:GetRole")
                .values(&[
                    "Role.RoleName",
                    "Role.Path",
                    "Role.Arn",
                    "Role.Description",
                    "Role.MaxSessionDuration",
                    "Role.Tags",
                ])
                .json_values(&["Role.AssumeRolePolicyDocument"]),
        ),
        (
            Role::Get("diff-missing"),
            Check::new("iam:GetRole (missing)"),
        ),
        (
            Role::List(None),
            Check::new("iam:ListRoles").values(&["Roles[].RoleName", "IsTruncated"]),
        ),
        (
            Role::List(Some("/nothing/")),
            Check::new("iam:ListRoles (PathPrefix)").values(&["IsTruncated"]),
        ),
        // Tags.
        (
            Role::Tag("diff-role", ("env", "dev")),
            Check::new("iam:TagRole"),
        ),
        (
            Role::ListTags("diff-role"),
            Check::new("iam:ListRoleTags").values(&["Tags", "IsTruncated"]),
        ),
        (
            Role::Untag("diff-role", "team"),
            Check::new("iam:UntagRole"),
        ),
        (
            Role::ListTags("diff-role"),
            Check::new("iam:ListRoleTags (after untag)").values(&["Tags"]),
        ),
        // Inline policies.
        (
            Role::PutPolicy("diff-role", "inline", doc(&["kms:Decrypt"])),
            Check::new("iam:PutRolePolicy"),
        ),
        (
            Role::GetPolicy("diff-role", "inline"),
            Check::new("iam:GetRolePolicy")
                .values(&["RoleName", "PolicyName"])
                .json_values(&["PolicyDocument"]),
        ),
        (
            Role::ListPolicies("diff-role"),
            Check::new("iam:ListRolePolicies").values(&["PolicyNames", "IsTruncated"]),
        ),
        (
            Role::Delete("diff-role"),
            Check::new("iam:DeleteRole (inline policy)"),
        ),
        (
            Role::DeletePolicy("diff-role", "inline"),
            Check::new("iam:DeleteRolePolicy"),
        ),
        (
            Role::GetPolicy("diff-role", "inline"),
            Check::new("iam:GetRolePolicy (missing)"),
        ),
        (
            Role::DeletePolicy("diff-role", "inline"),
            Check::new("iam:DeleteRolePolicy (missing)"),
        ),
    ];
    run(sides, report, rows).await;
}

/// Managed policies, and attaching them to a role.
async fn policy_operations(sides: &mut [Side; 2], report: &mut Report) {
    let policy = || Arn::Local("diff-policy");
    let rows = [
        (
            Policy::Create("diff-policy", doc(&["kms:Encrypt"])),
            policy_check("iam:CreatePolicy"),
        ),
        (
            Policy::Create("diff-policy", doc(&["kms:Encrypt"])),
            Check::new("iam:CreatePolicy (duplicate)"),
        ),
        (
            Policy::Create("diff-bad", "{not json".to_string()),
            Check::new("iam:CreatePolicy (malformed)"),
        ),
        (Policy::Get(policy(), None), policy_check("iam:GetPolicy")),
        (
            Policy::Get(Arn::Local("diff-missing"), None),
            Check::new("iam:GetPolicy (missing)"),
        ),
        (
            Policy::Get(aws(S3_FULL), Some("s3-default")),
            Check::new("iam:GetPolicy (AWS-managed)")
                .ignore(MOTO_AWS_POLICY_GAPS)
                .values(&[
                    "Policy.PolicyName",
                    "Policy.Path",
                    "Policy.Arn",
                    "Policy.IsAttachable",
                    "Policy.DefaultVersionId",
                ]),
        ),
    ];
    run(sides, report, rows).await;

    // Attachments.
    let rows = [
        (
            Role::Create("diff-holder", TRUST, false),
            Check::new("iam:CreateRole (holder)")
                .ignore(MOTO_CREATE_ROLE_EXTRAS)
                .values(&["Role.RoleName"]),
        ),
        (
            Role::Attach("diff-holder", policy()),
            Check::new("iam:AttachRolePolicy"),
        ),
        (
            Role::Attach("diff-holder", aws(S3_FULL)),
            Check::new("iam:AttachRolePolicy (AWS-managed)"),
        ),
        (
            Role::Attach("diff-holder", Arn::Local("diff-missing")),
            Check::new("iam:AttachRolePolicy (missing policy)"),
        ),
        (
            Role::Attach("diff-missing", aws(S3_FULL)),
            Check::new("iam:AttachRolePolicy (missing role)"),
        ),
        (
            Role::ListAttached("diff-holder"),
            Check::new("iam:ListAttachedRolePolicies").values(&[
                "AttachedPolicies[].PolicyName",
                "AttachedPolicies[].PolicyArn",
                "IsTruncated",
            ]),
        ),
    ];
    run(sides, report, rows).await;
    let rows = [
        (
            Policy::Get(policy(), None),
            policy_check("iam:GetPolicy (attached)"),
        ),
        (
            Policy::ListEntities(policy(), None),
            Check::new("iam:ListEntitiesForPolicy")
                .values(&["PolicyRoles[].RoleName", "IsTruncated"]),
        ),
        (
            Policy::ListEntities(policy(), Some(EntityType::User)),
            Check::new("iam:ListEntitiesForPolicy (EntityFilter=User)").values(&["IsTruncated"]),
        ),
        (
            Policy::List(PolicyScopeType::Local, false),
            Check::new("iam:ListPolicies (Local)")
                .ignore(&["Policies[].PermissionsBoundaryUsageCount"])
                .values(&[
                    "Policies[].PolicyName",
                    "Policies[].AttachmentCount",
                    "IsTruncated",
                ]),
        ),
        (
            Policy::List(PolicyScopeType::Aws, true),
            Check::new("iam:ListPolicies (AWS, OnlyAttached)")
                .ignore(&["Policies[].PermissionsBoundaryUsageCount"])
                .values(&["Policies[].PolicyName", "Policies[].Arn", "IsTruncated"]),
        ),
    ];
    run(sides, report, rows).await;
    run(
        sides,
        report,
        [(
            Role::Delete("diff-holder"),
            Check::new("iam:DeleteRole (attached policies)"),
        )],
    )
    .await;
}

/// Policy versions, AWS-managed policies, and deleting policies.
async fn policy_version_operations(sides: &mut [Side; 2], report: &mut Report) {
    let policy = || Arn::Local("diff-policy");
    let names: Vec<String> = (2..=5)
        .map(|i| format!("iam:CreatePolicyVersion (v{i})"))
        .collect();
    let versions = [false, true, false, false].into_iter().zip(&names);
    let rows = versions.map(|(set_default, what)| {
        (
            Policy::CreateVersion(
                policy(),
                doc(&["kms:Encrypt", "kms:Decrypt"]),
                Some(set_default),
            ),
            Check::new(what)
                .values(&["PolicyVersion.VersionId", "PolicyVersion.IsDefaultVersion"])
                // AWS returns the document from GetPolicyVersion only; moto echoes it here too.
                .ignore(&["PolicyVersion.Document"]),
        )
    });
    run(sides, report, rows).await;
    let rows = [
        (
            Policy::CreateVersion(policy(), doc(&["kms:Encrypt"]), None),
            Check::new("iam:CreatePolicyVersion (sixth)"),
        ),
        (
            Policy::ListVersions(policy()),
            Check::new("iam:ListPolicyVersions")
                // moto lists versions oldest first, with their documents and without
                // IsTruncated; AWS newest first, documents only from GetPolicyVersion,
                // IsTruncated always.
                .ignore(&["Versions[].Document", "IsTruncated"])
                .aws("IsTruncated", json!("false"))
                .aws("Versions.0.VersionId", json!("v5")),
        ),
        (
            Policy::GetVersion(policy(), Ref::Fixed("v1")),
            Check::new("iam:GetPolicyVersion")
                .values(&["PolicyVersion.VersionId", "PolicyVersion.IsDefaultVersion"])
                .json_values(&["PolicyVersion.Document"]),
        ),
        (
            Policy::GetVersion(policy(), Ref::Fixed("v9")),
            Check::new("iam:GetPolicyVersion (missing)"),
        ),
        (
            Policy::GetVersion(aws(S3_FULL), Ref::Kept("s3-default")),
            Check::new("iam:GetPolicyVersion (AWS-managed)")
                .values(&["PolicyVersion.VersionId"])
                .json_values(&["PolicyVersion.Document"]),
        ),
    ];
    run(sides, report, rows).await;
    aws_managed_policies(sides, report).await;

    let deleted = ["v1", "v2", "v3", "v4"].map(|v| (v, format!("iam:DeletePolicyVersion ({v})")));
    let rows = [
        (
            Policy::SetDefaultVersion(policy(), "v5"),
            Check::new("iam:SetDefaultPolicyVersion"),
        ),
        (
            Policy::DeleteVersion(policy(), "v5"),
            Check::new("iam:DeletePolicyVersion (default)"),
        ),
    ]
    .into_iter()
    .chain(
        deleted
            .iter()
            .map(|(v, what)| (Policy::DeleteVersion(policy(), v), Check::new(what))),
    );
    run(sides, report, rows).await;
    delete_conflicts(sides, report).await;
}

/// The other AWS-managed policies the workshop (and the sandbox) has: same default version,
/// same document as moto's copy of AWS's.
async fn aws_managed_policies(sides: &mut [Side; 2], report: &mut Report) {
    for name in [
        "AmazonEC2FullAccess",
        "AWSKeyManagementServicePowerUser",
        "AWSCloudTrail_ReadOnlyAccess",
        "AdministratorAccess",
        "AmazonSNSFullAccess",
        "AmazonSSMManagedInstanceCore",
        "IAMReadOnlyAccess",
    ] {
        let arn = || aws(&format!("arn:aws:iam::aws:policy/{name}"));
        let (get, version) = (
            format!("iam:GetPolicy ({name})"),
            format!("iam:GetPolicyVersion ({name})"),
        );
        let rows = [
            (
                Policy::Get(arn(), Some("default")),
                Check::new(&get).ignore(MOTO_AWS_POLICY_GAPS).values(&[
                    "Policy.PolicyName",
                    "Policy.Arn",
                    "Policy.Path",
                    "Policy.DefaultVersionId",
                ]),
            ),
            (
                Policy::GetVersion(arn(), Ref::Kept("default")),
                Check::new(&version)
                    .values(&["PolicyVersion.VersionId"])
                    .json_values(&["PolicyVersion.Document"]),
            ),
        ];
        run(sides, report, rows).await;
    }
    // The workshop's name for CloudTrail read-only access, which AWS has since replaced by
    // AWSCloudTrail_ReadOnlyAccess; accounts that attached it still see it.
    let rows = [(
        Policy::Get(
            aws("arn:aws:iam::aws:policy/AWSCloudTrailReadOnlyAccess"),
            None,
        ),
        Check::new("iam:GetPolicy (AWSCloudTrailReadOnlyAccess)").moto_differs(
            "moto's copy of AWS's list no longer has the deprecated policy",
            "ok",
        ),
    )];
    run(sides, report, rows).await;
}

/// Delete conflicts moto does not raise (each on a policy of its own, since moto deletes it),
/// then a detach and a delete for real.
async fn delete_conflicts(sides: &mut [Side; 2], report: &mut Report) {
    let rows = [(
        Policy::Delete(Arn::Local("diff-policy")),
        Check::new("iam:DeletePolicy (attached)").moto_differs(
            "moto deletes a policy that is still attached; AWS refuses",
            "DeleteConflict",
        ),
    )];
    run(sides, report, rows).await;
    for side in sides.iter_mut() {
        let arn = Arn::Local("diff-versions").on(side);
        side.iam
            .create_policy()
            .policy_name("diff-versions")
            .policy_document(doc(&["s3:GetObject"]))
            .send()
            .await
            .unwrap();
        side.iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc(&["s3:*"]))
            .send()
            .await
            .unwrap();
    }
    let rows = [
        (
            Policy::Delete(Arn::Local("diff-versions")),
            Check::new("iam:DeletePolicy (non-default versions)").moto_differs(
                "moto deletes a policy that still has other versions; AWS refuses",
                "DeleteConflict",
            ),
        ),
        (
            Policy::CreateVersion(aws(IAM_READ_ONLY), doc(&["iam:Get*"]), None),
            Check::new("iam:CreatePolicyVersion (AWS-managed)").moto_differs(
                "moto lets an account add versions to an AWS-managed policy; AWS refuses",
                "AccessDenied",
            ),
        ),
        (
            Policy::Delete(aws(IAM_READ_ONLY)),
            Check::new("iam:DeletePolicy (AWS-managed)").moto_differs(
                "moto lets an account delete an AWS-managed policy; AWS refuses",
                "AccessDenied",
            ),
        ),
    ];
    run(sides, report, rows).await;

    // Detach, then delete for real (on the sandbox; moto has deleted it already).
    let rows = [(
        Role::Detach("diff-holder", Arn::Local("diff-missing")),
        Check::new("iam:DetachRolePolicy (not attached)"),
    )];
    run(sides, report, rows).await;
    let rows = [
        (
            Policy::Create("diff-fresh", doc(&["kms:Encrypt"])),
            policy_check("iam:CreatePolicy (fresh)"),
        ),
        (
            Policy::Delete(Arn::Local("diff-fresh")),
            Check::new("iam:DeletePolicy"),
        ),
        (
            Policy::Get(Arn::Local("diff-fresh"), None),
            Check::new("iam:GetPolicy (deleted)"),
        ),
    ];
    run(sides, report, rows).await;
}

async fn instance_profile_operations(sides: &mut [Side; 2], report: &mut Report) {
    let rows = [
        (
            Profile::Create("diff-profile", Some("/diff/")),
            Check::new("iam:CreateInstanceProfile")
                .ignore(MOTO_PROFILE_EXTRAS)
                .values(&[
                    "InstanceProfile.InstanceProfileName",
                    "InstanceProfile.Path",
                    "InstanceProfile.Arn",
                ]),
        ),
        (
            Profile::Create("diff-profile", None),
            Check::new("iam:CreateInstanceProfile (duplicate)"),
        ),
        (
            Profile::AddRole("diff-profile", "diff-role"),
            Check::new("iam:AddRoleToInstanceProfile"),
        ),
        (
            Profile::AddRole("diff-profile", "diff-holder"),
            Check::new("iam:AddRoleToInstanceProfile (second role)"),
        ),
        (
            Profile::Get("diff-profile"),
            Check::new("iam:GetInstanceProfile")
                .ignore(MOTO_PROFILE_EXTRAS)
                .values(&[
                    "InstanceProfile.InstanceProfileName",
                    "InstanceProfile.Roles[].RoleName",
                    "InstanceProfile.Roles[].Path",
                ]),
        ),
        (
            Profile::Get("diff-missing"),
            Check::new("iam:GetInstanceProfile (missing)"),
        ),
        (
            Profile::List,
            Check::new("iam:ListInstanceProfiles")
                .ignore(MOTO_PROFILES_EXTRAS)
                .values(&["InstanceProfiles[].InstanceProfileName"])
                .aws("IsTruncated", json!("false")),
        ),
    ];
    run(sides, report, rows).await;
    let rows = [(
        Role::ListInstanceProfiles("diff-role"),
        Check::new("iam:ListInstanceProfilesForRole")
            .ignore(MOTO_PROFILES_EXTRAS)
            .values(&["InstanceProfiles[].InstanceProfileName"])
            .aws("IsTruncated", json!("false")),
    )];
    run(sides, report, rows).await;
    let rows = [(
        Profile::Delete("diff-profile"),
        Check::new("iam:DeleteInstanceProfile (with a role)"),
    )];
    run(sides, report, rows).await;
    let rows = [(
        Role::Delete("diff-role"),
        Check::new("iam:DeleteRole (in an instance profile)"),
    )];
    run(sides, report, rows).await;
    let rows = [
        (
            Profile::RemoveRole("diff-profile", "diff-role"),
            Check::new("iam:RemoveRoleFromInstanceProfile"),
        ),
        (
            Profile::Delete("diff-profile"),
            Check::new("iam:DeleteInstanceProfile"),
        ),
        (
            Profile::Get("diff-profile"),
            Check::new("iam:GetInstanceProfile (deleted)"),
        ),
    ];
    run(sides, report, rows).await;
    let rows = [
        (Role::Delete("diff-role"), Check::new("iam:DeleteRole")),
        (Role::Get("diff-role"), Check::new("iam:GetRole (deleted)")),
    ];
    run(sides, report, rows).await;
}

async fn user_operations(sides: &mut [Side; 2], report: &mut Report) {
    let user_values: &[&str] = &["User.UserName", "User.Path", "User.Arn", "User.Tags"];
    let rows = [
        (
            User::Create("diff-user", Some(("team", "a"))),
            Check::new("iam:CreateUser").values(user_values),
        ),
        (
            User::Create("diff-user", None),
            Check::new("iam:CreateUser (duplicate)"),
        ),
        (
            User::Get(Some("diff-user")),
            Check::new("iam:GetUser").values(user_values),
        ),
        (
            User::Get(Some("diff-missing")),
            Check::new("iam:GetUser (missing)"),
        ),
        // Who the caller is differs (moto does not know the learner's key), the shape must not.
        (User::Get(None), Check::new("iam:GetUser (the caller)")),
        (
            User::List,
            Check::new("iam:ListUsers").values(&["Users[].UserName", "IsTruncated"]),
        ),
        (
            User::CreateAccessKey("diff-user"),
            Check::new("iam:CreateAccessKey").values(&["AccessKey.UserName", "AccessKey.Status"]),
        ),
        (
            User::ListAccessKeys("diff-user"),
            Check::new("iam:ListAccessKeys")
                // moto leaves IsTruncated out here; AWS always answers it.
                .ignore(&["IsTruncated"])
                .values(&["AccessKeyMetadata[].UserName", "AccessKeyMetadata[].Status"])
                .aws("IsTruncated", json!("false")),
        ),
        (
            User::Attach("diff-user", aws(S3_FULL)),
            Check::new("iam:AttachUserPolicy"),
        ),
        (
            User::ListAttached("diff-user"),
            Check::new("iam:ListAttachedUserPolicies").values(&[
                "AttachedPolicies[].PolicyName",
                "AttachedPolicies[].PolicyArn",
            ]),
        ),
        (
            User::Delete("diff-user"),
            Check::new("iam:DeleteUser (attached policy)"),
        ),
        (
            User::Detach("diff-user", aws(S3_FULL)),
            Check::new("iam:DetachUserPolicy"),
        ),
        (
            User::Delete("diff-user"),
            Check::new("iam:DeleteUser (access key)").moto_differs(
                "moto deletes a user that still has access keys; AWS refuses",
                "DeleteConflict",
            ),
        ),
    ];
    run(sides, report, rows).await;
    // moto has already deleted the user and its keys: these go to the sandbox alone.
    let key = sides[1].id("key");
    let r = sides[1]
        .iam
        .delete_access_key()
        .user_name("diff-user")
        .access_key_id(&key)
        .send()
        .await;
    let s = sides[1].outcome(&r);
    report.compare(
        Check::new("iam:DeleteAccessKey")
            .moto_differs("moto has already deleted the user and its keys", "ok"),
        &Outcome::Err("not sent".into()),
        &s,
    );
    let r = sides[1]
        .iam
        .delete_user()
        .user_name("diff-user")
        .send()
        .await;
    let s = sides[1].outcome(&r);
    report.compare(
        Check::new("iam:DeleteUser").moto_differs("moto has already deleted the user", "ok"),
        &Outcome::Err("not sent".into()),
        &s,
    );
    let rows = [(
        User::Get(Some("diff-user")),
        Check::new("iam:GetUser (deleted)"),
    )];
    run(sides, report, rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_answers_match_moto() {
    // moto with the AWS-managed policies loaded (every AWS account has them; moto leaves them
    // out unless asked).
    let moto_proc = common::MotoProc::start_with_env(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let sides = &mut Side::pair(&moto_proc.endpoint, &sandbox_proc.endpoint, Dialect::Query).await;
    let report = &mut Report {
        percent_encoded_json: true,
        ..Report::new(botocore_outputs(&["iam"]))
    };

    role_operations(sides, report).await;
    policy_operations(sides, report).await;
    policy_version_operations(sides, report).await;
    instance_profile_operations(sides, report).await;
    user_operations(sides, report).await;

    report.finish(
        "differential: moto_server vs the sandbox, IAM (Rust SDK, same requests)",
        (56, 44),
    );
}
