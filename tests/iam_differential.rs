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

use crate::common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{EntityType, PolicyScopeType, Tag};
use common::differential::{self, *};
use serde_json::json;

struct Side {
    name: &'static str,
    iam: aws_sdk_iam::Client,
    capture: Capture,
    /// ARNs and ids this side handed out, by role.
    ids: BTreeMap<&'static str, String>,
}

impl Side {
    async fn new(name: &'static str, endpoint: &str) -> Side {
        let sdk = differential::sdk_config(endpoint, "differential").await;
        let capture = Capture::default();
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        Side {
            name,
            iam,
            capture,
            ids: BTreeMap::new(),
        }
    }

    fn id(&self, role: &str) -> String {
        self.ids
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{}: nothing recorded as '{role}'", self.name))
    }

    /// Turn an SDK result into an outcome: the raw body as JSON, or the error code.
    fn outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        r: &Result<T, SdkError<E, HttpResponse>>,
    ) -> Outcome {
        differential::query_outcome(&self.capture, r)
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn doc(actions: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string()
}

fn local_arn(side: &Side, name: &str) -> String {
    let account = if side.name == "moto" {
        MOTO_ACCOUNT
    } else {
        common::ACCOUNT
    };
    format!("arn:aws:iam::{account}:policy/{name}")
}

const S3_FULL: &str = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
const IAM_READ_ONLY: &str = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";

/// AWS's CreateRole answer is the role without MaxSessionDuration and RoleLastUsed (GetRole
/// has them); moto adds both.
const MOTO_CREATE_ROLE_EXTRAS: &[&str] = &["Role.MaxSessionDuration", "Role.RoleLastUsed"];

/// moto 5.2 leaves PermissionsBoundaryUsageCount out of policies (AWS has answered it since
/// 2018) and always writes an empty `<Tags/>`, where the sandbox leaves an empty list out as
/// AWS's documented answers do.
const MOTO_POLICY_GAPS: &[&str] = &["Policy.PermissionsBoundaryUsageCount", "Policy.Tags"];

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

/// `moto_server` with the AWS-managed policies loaded (every AWS account has them; moto leaves
/// them out unless asked).
fn start_moto() -> common::MotoProc {
    let port = common::free_port();
    let child = Command::new(common::moto_bin())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    common::MotoProc { child, endpoint }
}

async fn role_operations(sides: &mut [Side; 2], report: &mut Report) {
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-role")
            .path("/diff/")
            .description("differential")
            .assume_role_policy_document(TRUST)
            .tags(tag("team", "a"))
            .send()
            .await
    });
    report.compare(
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
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-role")
            .assume_role_policy_document(TRUST)
            .send()
            .await
    });
    report.compare(Check::new("iam:CreateRole (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-bad")
            .assume_role_policy_document("{not json")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateRole (malformed trust policy)").moto_differs(
            "moto does not check trust policies",
            "MalformedPolicyDocument",
        ),
        &m,
        &s,
    );
    // moto created that role: remove it so that both sides list the same roles.
    let _ = sides[0]
        .iam
        .delete_role()
        .role_name("diff-bad")
        .send()
        .await;
    let (m, s) = both!(sides, |side| side
        .iam
        .get_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
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
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_role()
        .role_name("diff-missing")
        .send()
        .await);
    report.compare(Check::new("iam:GetRole (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| side.iam.list_roles().send().await);
    report.compare(
        Check::new("iam:ListRoles").values(&["Roles[].RoleName", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_roles()
        .path_prefix("/nothing/")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRoles (PathPrefix)").values(&["IsTruncated"]),
        &m,
        &s,
    );

    // Tags.
    let (m, s) = both!(sides, |side| side
        .iam
        .tag_role()
        .role_name("diff-role")
        .tags(tag("env", "dev"))
        .send()
        .await);
    report.compare(Check::new("iam:TagRole"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_role_tags()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRoleTags").values(&["Tags", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .untag_role()
        .role_name("diff-role")
        .tag_keys("team")
        .send()
        .await);
    report.compare(Check::new("iam:UntagRole"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_role_tags()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRoleTags (after untag)").values(&["Tags"]),
        &m,
        &s,
    );

    // Inline policies.
    let inline = doc(&["kms:Decrypt"]);
    let (m, s) = both!(sides, |side| {
        side.iam
            .put_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .policy_document(&inline)
            .send()
            .await
    });
    report.compare(Check::new("iam:PutRolePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetRolePolicy")
            .values(&["RoleName", "PolicyName"])
            .json_values(&["PolicyDocument"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_role_policies()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListRolePolicies").values(&["PolicyNames", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteRole (inline policy)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(Check::new("iam:DeleteRolePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(Check::new("iam:GetRolePolicy (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_role_policy()
            .role_name("diff-role")
            .policy_name("inline")
            .send()
            .await
    });
    report.compare(Check::new("iam:DeleteRolePolicy (missing)"), &m, &s);
}

async fn policy_operations(sides: &mut [Side; 2], report: &mut Report) {
    let policy_values: &[&str] = &[
        "Policy.PolicyName",
        "Policy.Path",
        "Policy.Arn",
        "Policy.DefaultVersionId",
        "Policy.AttachmentCount",
        "Policy.IsAttachable",
    ];
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-policy")
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreatePolicy")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-policy")
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(Check::new("iam:CreatePolicy (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-bad")
            .policy_document("{not json")
            .send()
            .await
    });
    report.compare(Check::new("iam:CreatePolicy (malformed)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-policy"))
        .send()
        .await);
    report.compare(
        Check::new("iam:GetPolicy")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-missing"))
        .send()
        .await);
    report.compare(Check::new("iam:GetPolicy (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        let r = side.iam.get_policy().policy_arn(S3_FULL).send().await;
        if let Ok(o) = &r {
            side.ids.insert(
                "s3-default",
                o.policy()
                    .unwrap()
                    .default_version_id()
                    .unwrap()
                    .to_string(),
            );
        }
        r
    });
    report.compare(
        Check::new("iam:GetPolicy (AWS-managed)")
            // moto 5.2 also leaves out the Description of AWS-managed policies.
            .ignore(&[
                "Policy.PermissionsBoundaryUsageCount",
                "Policy.Tags",
                "Policy.Description",
            ])
            .values(&[
                "Policy.PolicyName",
                "Policy.Path",
                "Policy.Arn",
                "Policy.IsAttachable",
                "Policy.DefaultVersionId",
            ]),
        &m,
        &s,
    );

    // Attachments.
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_role()
            .role_name("diff-holder")
            .assume_role_policy_document(TRUST)
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateRole (holder)")
            .ignore(MOTO_CREATE_ROLE_EXTRAS)
            .values(&["Role.RoleName"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-holder")
            .policy_arn(local_arn(side, "diff-policy"))
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-holder")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy (AWS-managed)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-holder")
            .policy_arn(local_arn(side, "diff-missing"))
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy (missing policy)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_role_policy()
            .role_name("diff-missing")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachRolePolicy (missing role)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_attached_role_policies()
        .role_name("diff-holder")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListAttachedRolePolicies").values(&[
            "AttachedPolicies[].PolicyName",
            "AttachedPolicies[].PolicyArn",
            "IsTruncated",
        ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-policy"))
        .send()
        .await);
    report.compare(
        Check::new("iam:GetPolicy (attached)")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .list_entities_for_policy()
            .policy_arn(local_arn(side, "diff-policy"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:ListEntitiesForPolicy").values(&["PolicyRoles[].RoleName", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .list_entities_for_policy()
            .policy_arn(local_arn(side, "diff-policy"))
            .entity_filter(EntityType::User)
            .send()
            .await
    });
    report.compare(
        Check::new("iam:ListEntitiesForPolicy (EntityFilter=User)").values(&["IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await);
    report.compare(
        Check::new("iam:ListPolicies (Local)")
            .ignore(&["Policies[].PermissionsBoundaryUsageCount"])
            .values(&[
                "Policies[].PolicyName",
                "Policies[].AttachmentCount",
                "IsTruncated",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .list_policies()
            .scope(PolicyScopeType::Aws)
            .only_attached(true)
            .send()
            .await
    });
    report.compare(
        Check::new("iam:ListPolicies (AWS, OnlyAttached)")
            .ignore(&["Policies[].PermissionsBoundaryUsageCount"])
            .values(&["Policies[].PolicyName", "Policies[].Arn", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-holder")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteRole (attached policies)"), &m, &s);

    // Versions.
    for (i, set_default) in [(2, false), (3, true), (4, false), (5, false)] {
        let (m, s) = both!(sides, |side| {
            side.iam
                .create_policy_version()
                .policy_arn(local_arn(side, "diff-policy"))
                .policy_document(doc(&["kms:Encrypt", "kms:Decrypt"]))
                .set_as_default(set_default)
                .send()
                .await
        });
        let what = format!("iam:CreatePolicyVersion (v{i})");
        report.compare(
            Check::new(&what)
                .values(&["PolicyVersion.VersionId", "PolicyVersion.IsDefaultVersion"])
                // AWS returns the document from GetPolicyVersion only; moto echoes it here too.
                .ignore(&["PolicyVersion.Document"]),
            &m,
            &s,
        );
    }
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(Check::new("iam:CreatePolicyVersion (sixth)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_policy_versions()
        .policy_arn(local_arn(side, "diff-policy"))
        .send()
        .await);
    report.compare(
        Check::new("iam:ListPolicyVersions")
            // moto lists versions oldest first, with their documents and without IsTruncated;
            // AWS newest first, documents only from GetPolicyVersion, IsTruncated always.
            .ignore(&["Versions[].Document", "IsTruncated"])
            .aws("IsTruncated", json!("false"))
            .aws("Versions.0.VersionId", json!("v5")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v1")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetPolicyVersion")
            .values(&["PolicyVersion.VersionId", "PolicyVersion.IsDefaultVersion"])
            .json_values(&["PolicyVersion.Document"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v9")
            .send()
            .await
    });
    report.compare(Check::new("iam:GetPolicyVersion (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy_version()
            .policy_arn(S3_FULL)
            .version_id(side.id("s3-default"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetPolicyVersion (AWS-managed)")
            .values(&["PolicyVersion.VersionId"])
            .json_values(&["PolicyVersion.Document"]),
        &m,
        &s,
    );
    // The other AWS-managed policies the workshop (and the sandbox) has: same default version,
    // same document as moto's copy of AWS's.
    for name in [
        "AmazonEC2FullAccess",
        "AWSKeyManagementServicePowerUser",
        "AWSCloudTrail_ReadOnlyAccess",
        "AdministratorAccess",
        "AmazonSNSFullAccess",
        "AmazonSSMManagedInstanceCore",
        "IAMReadOnlyAccess",
    ] {
        let arn = format!("arn:aws:iam::aws:policy/{name}");
        let (m, s) = both!(sides, |side| {
            let r = side.iam.get_policy().policy_arn(&arn).send().await;
            if let Ok(o) = &r {
                side.ids.insert(
                    "default",
                    o.policy()
                        .unwrap()
                        .default_version_id()
                        .unwrap()
                        .to_string(),
                );
            }
            r
        });
        let what = format!("iam:GetPolicy ({name})");
        report.compare(
            Check::new(&what)
                .ignore(&[
                    "Policy.PermissionsBoundaryUsageCount",
                    "Policy.Tags",
                    "Policy.Description",
                ])
                .values(&[
                    "Policy.PolicyName",
                    "Policy.Arn",
                    "Policy.Path",
                    "Policy.DefaultVersionId",
                ]),
            &m,
            &s,
        );
        let (m, s) = both!(sides, |side| {
            side.iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(side.id("default"))
                .send()
                .await
        });
        let what = format!("iam:GetPolicyVersion ({name})");
        report.compare(
            Check::new(&what)
                .values(&["PolicyVersion.VersionId"])
                .json_values(&["PolicyVersion.Document"]),
            &m,
            &s,
        );
    }
    // The workshop's name for CloudTrail read-only access, which AWS has since replaced by
    // AWSCloudTrail_ReadOnlyAccess; accounts that attached it still see it.
    let (m, s) = both!(sides, |side| {
        side.iam
            .get_policy()
            .policy_arn("arn:aws:iam::aws:policy/AWSCloudTrailReadOnlyAccess")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:GetPolicy (AWSCloudTrailReadOnlyAccess)").moto_differs(
            "moto's copy of AWS's list no longer has the deprecated policy",
            "ok",
        ),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| {
        side.iam
            .set_default_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v5")
            .send()
            .await
    });
    report.compare(Check::new("iam:SetDefaultPolicyVersion"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_policy_version()
            .policy_arn(local_arn(side, "diff-policy"))
            .version_id("v5")
            .send()
            .await
    });
    report.compare(Check::new("iam:DeletePolicyVersion (default)"), &m, &s);
    for v in ["v1", "v2", "v3", "v4"] {
        let (m, s) = both!(sides, |side| {
            side.iam
                .delete_policy_version()
                .policy_arn(local_arn(side, "diff-policy"))
                .version_id(v)
                .send()
                .await
        });
        report.compare(
            Check::new(&format!("iam:DeletePolicyVersion ({v})")),
            &m,
            &s,
        );
    }

    // Delete conflicts moto does not raise: each on a policy of its own, since moto deletes it.
    let (m, s) = both!(sides, |side| {
        side.iam
            .delete_policy()
            .policy_arn(local_arn(side, "diff-policy"))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:DeletePolicy (attached)").moto_differs(
            "moto deletes a policy that is still attached; AWS refuses",
            "DeleteConflict",
        ),
        &m,
        &s,
    );
    for side in sides.iter_mut() {
        let arn = local_arn(side, "diff-versions");
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
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_policy()
        .policy_arn(local_arn(side, "diff-versions"))
        .send()
        .await);
    report.compare(
        Check::new("iam:DeletePolicy (non-default versions)").moto_differs(
            "moto deletes a policy that still has other versions; AWS refuses",
            "DeleteConflict",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy_version()
            .policy_arn(IAM_READ_ONLY)
            .policy_document(doc(&["iam:Get*"]))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreatePolicyVersion (AWS-managed)").moto_differs(
            "moto lets an account add versions to an AWS-managed policy; AWS refuses",
            "AccessDenied",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_policy()
        .policy_arn(IAM_READ_ONLY)
        .send()
        .await);
    report.compare(
        Check::new("iam:DeletePolicy (AWS-managed)").moto_differs(
            "moto lets an account delete an AWS-managed policy; AWS refuses",
            "AccessDenied",
        ),
        &m,
        &s,
    );

    // Detach, then delete for real (on the sandbox; moto has deleted it already).
    let (m, s) = both!(sides, |side| {
        side.iam
            .detach_role_policy()
            .role_name("diff-holder")
            .policy_arn(local_arn(side, "diff-missing"))
            .send()
            .await
    });
    report.compare(Check::new("iam:DetachRolePolicy (not attached)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_policy()
            .policy_name("diff-fresh")
            .policy_document(doc(&["kms:Encrypt"]))
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreatePolicy (fresh)")
            .ignore(MOTO_POLICY_GAPS)
            .values(policy_values),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_policy()
        .policy_arn(local_arn(side, "diff-fresh"))
        .send()
        .await);
    report.compare(Check::new("iam:DeletePolicy"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_policy()
        .policy_arn(local_arn(side, "diff-fresh"))
        .send()
        .await);
    report.compare(Check::new("iam:GetPolicy (deleted)"), &m, &s);
}

async fn instance_profile_operations(sides: &mut [Side; 2], report: &mut Report) {
    let (m, s) = both!(sides, |side| {
        side.iam
            .create_instance_profile()
            .instance_profile_name("diff-profile")
            .path("/diff/")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:CreateInstanceProfile")
            .ignore(MOTO_PROFILE_EXTRAS)
            .values(&[
                "InstanceProfile.InstanceProfileName",
                "InstanceProfile.Path",
                "InstanceProfile.Arn",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .create_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(Check::new("iam:CreateInstanceProfile (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .add_role_to_instance_profile()
            .instance_profile_name("diff-profile")
            .role_name("diff-role")
            .send()
            .await
    });
    report.compare(Check::new("iam:AddRoleToInstanceProfile"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .add_role_to_instance_profile()
            .instance_profile_name("diff-profile")
            .role_name("diff-holder")
            .send()
            .await
    });
    report.compare(
        Check::new("iam:AddRoleToInstanceProfile (second role)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(
        Check::new("iam:GetInstanceProfile")
            .ignore(MOTO_PROFILE_EXTRAS)
            .values(&[
                "InstanceProfile.InstanceProfileName",
                "InstanceProfile.Roles[].RoleName",
                "InstanceProfile.Roles[].Path",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_instance_profile()
        .instance_profile_name("diff-missing")
        .send()
        .await);
    report.compare(Check::new("iam:GetInstanceProfile (missing)"), &m, &s);
    let (m, s) = both!(sides, |side| side.iam.list_instance_profiles().send().await);
    report.compare(
        Check::new("iam:ListInstanceProfiles")
            .ignore(MOTO_PROFILES_EXTRAS)
            .values(&["InstanceProfiles[].InstanceProfileName"])
            .aws("IsTruncated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_instance_profiles_for_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListInstanceProfilesForRole")
            .ignore(MOTO_PROFILES_EXTRAS)
            .values(&["InstanceProfiles[].InstanceProfileName"])
            .aws("IsTruncated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(
        Check::new("iam:DeleteInstanceProfile (with a role)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(
        Check::new("iam:DeleteRole (in an instance profile)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .remove_role_from_instance_profile()
            .instance_profile_name("diff-profile")
            .role_name("diff-role")
            .send()
            .await
    });
    report.compare(Check::new("iam:RemoveRoleFromInstanceProfile"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteInstanceProfile"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_instance_profile()
        .instance_profile_name("diff-profile")
        .send()
        .await);
    report.compare(Check::new("iam:GetInstanceProfile (deleted)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteRole"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_role()
        .role_name("diff-role")
        .send()
        .await);
    report.compare(Check::new("iam:GetRole (deleted)"), &m, &s);
}

async fn user_operations(sides: &mut [Side; 2], report: &mut Report) {
    let (m, s) = both!(sides, |side| side
        .iam
        .create_user()
        .user_name("diff-user")
        .tags(tag("team", "a"))
        .send()
        .await);
    report.compare(
        Check::new("iam:CreateUser").values(&[
            "User.UserName",
            "User.Path",
            "User.Arn",
            "User.Tags",
        ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .create_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(Check::new("iam:CreateUser (duplicate)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .get_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:GetUser").values(&["User.UserName", "User.Path", "User.Arn", "User.Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .get_user()
        .user_name("diff-missing")
        .send()
        .await);
    report.compare(Check::new("iam:GetUser (missing)"), &m, &s);
    // Who the caller is differs (moto does not know the learner's key), the shape must not.
    let (m, s) = both!(sides, |side| side.iam.get_user().send().await);
    report.compare(Check::new("iam:GetUser (the caller)"), &m, &s);
    let (m, s) = both!(sides, |side| side.iam.list_users().send().await);
    report.compare(
        Check::new("iam:ListUsers").values(&["Users[].UserName", "IsTruncated"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        let r = side
            .iam
            .create_access_key()
            .user_name("diff-user")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("key", o.access_key().unwrap().access_key_id().to_string());
        }
        r
    });
    report.compare(
        Check::new("iam:CreateAccessKey").values(&["AccessKey.UserName", "AccessKey.Status"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .list_access_keys()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListAccessKeys")
            // moto leaves IsTruncated out here; AWS always answers it.
            .ignore(&["IsTruncated"])
            .values(&["AccessKeyMetadata[].UserName", "AccessKeyMetadata[].Status"])
            .aws("IsTruncated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.iam
            .attach_user_policy()
            .user_name("diff-user")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:AttachUserPolicy"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .list_attached_user_policies()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:ListAttachedUserPolicies").values(&[
            "AttachedPolicies[].PolicyName",
            "AttachedPolicies[].PolicyArn",
        ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(Check::new("iam:DeleteUser (attached policy)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.iam
            .detach_user_policy()
            .user_name("diff-user")
            .policy_arn(S3_FULL)
            .send()
            .await
    });
    report.compare(Check::new("iam:DetachUserPolicy"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .iam
        .delete_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(
        Check::new("iam:DeleteUser (access key)").moto_differs(
            "moto deletes a user that still has access keys; AWS refuses",
            "DeleteConflict",
        ),
        &m,
        &s,
    );
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
    let (m, s) = both!(sides, |side| side
        .iam
        .get_user()
        .user_name("diff-user")
        .send()
        .await);
    report.compare(Check::new("iam:GetUser (deleted)"), &m, &s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_answers_match_moto() {
    let moto_proc = start_moto();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new("moto", &moto_proc.endpoint).await,
        Side::new("sandbox", &sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_outputs(&["iam"]),
        percent_encoded_json: true,
        ..Report::default()
    };

    role_operations(&mut sides, &mut report).await;
    policy_operations(&mut sides, &mut report).await;
    instance_profile_operations(&mut sides, &mut report).await;
    user_operations(&mut sides, &mut report).await;

    differential::print_summary(
        "differential: moto_server vs the sandbox, IAM (Rust SDK, same requests)",
        (56, 44),
        &report.rows,
        report.aws_only,
        report.failures.len(),
    );
    assert!(
        report.failures.is_empty(),
        "moto and the sandbox (or AWS) differ:\n  {}",
        report.failures.join("\n  ")
    );
}
