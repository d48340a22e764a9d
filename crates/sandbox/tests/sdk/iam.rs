//! The Rust AWS SDK (aws-sdk-iam) against an in-process sandbox: the workshop's seeded IAM
//! state, roles, managed and inline policies with versions, instance profiles, users, access
//! keys that sign requests, and the typed errors the SDK maps AWS's codes to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{PolicyScopeType, Tag};
use common::code;
use kms_workshop_names::{CUSTOMER_POLICIES, IMPORTED_ALIAS, ROLE, ROTATION_POLICY};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};
use serde_json::{json, Value as J};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

struct Env {
    _sb: Arc<Sandbox>,
    running: Running,
    learner: SdkConfig,
}

impl Env {
    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.learner)
    }
}

async fn start(seed: Seed) -> Env {
    let cfg = Config {
        seed,
        ..Config::default()
    };
    let (sb, running) = common::start_sandbox(cfg).await;
    let learner = common::learner_config(&running.endpoint()).await;
    Env {
        _sb: sb,
        running,
        learner,
    }
}

/// IAM returns policy documents URL-encoded; the Rust SDK hands them over as they are.
fn decode(doc: &str) -> J {
    let text = percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn local_arn(name: &str) -> String {
    format!("arn:aws:iam::{}:policy/{name}", seed::ACCOUNT)
}

fn aws_arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

fn doc(actions: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_workshop_iam() {
    let env = start(Seed::Workshop).await;
    let iam = env.iam();

    let role = iam
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.role_id(), "AROAWORKSHOPINSTANCE1");
    assert_eq!(role.path(), "/");
    let trust = decode(role.assume_role_policy_document().unwrap());
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        json!(["ec2.amazonaws.com"])
    );
    assert!(role
        .role_last_used()
        .is_some_and(|u| u.region() == Some("us-east-1")));

    let attached: Vec<String> = iam
        .list_attached_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .map(|p| p.policy_name().unwrap().to_string())
        .collect();
    assert_eq!(
        attached,
        // Listed by policy name.
        [
            "AWSCloudTrailReadOnlyAccess",
            "AWSKeyManagementServicePowerUser",
            "AmazonEC2FullAccess",
            "AmazonS3FullAccess",
            CUSTOMER_POLICIES[0],
            CUSTOMER_POLICIES[2],
            ROTATION_POLICY,
        ]
    );

    let profile = iam
        .get_instance_profile()
        .instance_profile_name(ROLE)
        .send()
        .await
        .unwrap()
        .instance_profile
        .unwrap();
    assert_eq!(profile.roles().len(), 1);
    assert_eq!(profile.roles()[0].role_name(), ROLE);

    // The RotationDisableOps policy carries exactly the workshop's actions.
    let arn = local_arn(ROTATION_POLICY);
    let p = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(p.attachment_count(), Some(1));
    let v = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(p.default_version_id().unwrap())
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap();
    assert!(v.is_default_version());
    let d = decode(v.document().unwrap());
    assert_eq!(
        d["Statement"][0]["Action"],
        json!([
            "kms:DisableKey",
            "kms:EnableKey",
            "kms:ScheduleKeyDeletion",
            "kms:UpdateAlias",
            "kms:DeleteImportedKeyMaterial"
        ])
    );

    // The learner.
    let me = iam.get_user().send().await.unwrap().user.unwrap();
    assert_eq!(me.user_name(), seed::LEARNER_USER);
    assert_eq!(me.user_id(), "AIDAWORKSHOPLEARNER01");
    let keys = iam.list_access_keys().send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
    assert_eq!(
        keys.access_key_metadata()[0].access_key_id(),
        Some(seed::LEARNER_ACCESS_KEY)
    );
    assert!(!keys.is_truncated());

    // The role cannot be deleted while anything holds it, AWSKeyManagementServicePowerUser
    // (which the stack does not declare) included.
    let e = iam
        .delete_role()
        .role_name(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_delete_conflict_exception(), "{e:?}");
    iam.remove_role_from_instance_profile()
        .instance_profile_name(ROLE)
        .role_name(ROLE)
        .send()
        .await
        .unwrap();
    for name in attached
        .iter()
        .filter(|n| *n != "AWSKeyManagementServicePowerUser")
    {
        let arn = if name.starts_with("KMS") {
            local_arn(name)
        } else {
            aws_arn(name)
        };
        iam.detach_role_policy()
            .role_name(ROLE)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .delete_role()
        .role_name(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_delete_conflict_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Cannot delete entity, must detach all policies first.")
    );
    iam.detach_role_policy()
        .role_name(ROLE)
        .policy_arn(aws_arn("AWSKeyManagementServicePowerUser"))
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name(ROLE).send().await.unwrap();
    let e = iam
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_policies_and_versions() {
    let env = start(Seed::Empty).await;
    let iam = env.iam();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();

    let role = iam
        .create_role()
        .role_name("sdk-role")
        .assume_role_policy_document(TRUST)
        .description("made by the SDK")
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert!(role.role_id().starts_with("AROA"));
    assert_eq!(
        decode(role.assume_role_policy_document().unwrap()),
        serde_json::from_str::<J>(TRUST).unwrap()
    );
    let e = iam
        .create_role()
        .role_name("sdk-role")
        .assume_role_policy_document(TRUST)
        .send()
        .await;
    assert!(e
        .unwrap_err()
        .into_service_error()
        .is_entity_already_exists_exception());
    assert_eq!(
        code!(
            iam.create_role()
                .role_name("x")
                .assume_role_policy_document("nope")
                .send()
                .await
        ),
        "MalformedPolicyDocument"
    );
    let roles = iam.list_roles().send().await.unwrap();
    assert_eq!(roles.roles().len(), 1);
    assert!(!roles.is_truncated());

    iam.tag_role()
        .role_name("sdk-role")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_role_tags()
        .role_name("sdk-role")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
        ["env", "team"]
    );
    iam.untag_role()
        .role_name("sdk-role")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert_eq!(
        iam.list_role_tags()
            .role_name("sdk-role")
            .send()
            .await
            .unwrap()
            .tags()
            .len(),
        1
    );

    // Inline policy.
    let inline = doc(&["kms:Decrypt"]);
    iam.put_role_policy()
        .role_name("sdk-role")
        .policy_name("inline")
        .policy_document(&inline)
        .send()
        .await
        .unwrap();
    assert_eq!(
        iam.list_role_policies()
            .role_name("sdk-role")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["inline"]
    );
    let got = iam
        .get_role_policy()
        .role_name("sdk-role")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(
        decode(got.policy_document()),
        serde_json::from_str::<J>(&inline).unwrap()
    );
    assert_eq!(
        code!(iam.delete_role().role_name("sdk-role").send().await),
        "DeleteConflict"
    );
    iam.delete_role_policy()
        .role_name("sdk-role")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(
            iam.get_role_policy()
                .role_name("sdk-role")
                .policy_name("inline")
                .send()
                .await
        ),
        "NoSuchEntity"
    );

    // Managed policy: attach, versions, conflicts.
    let p = iam
        .create_policy()
        .policy_name("sdk-policy")
        .policy_document(doc(&["kms:Encrypt"]))
        .send()
        .await
        .unwrap();
    let p = p.policy.unwrap();
    let arn = p.arn().unwrap().to_string();
    assert!(p.policy_id().unwrap().starts_with("ANPA"));
    assert_eq!(p.default_version_id(), Some("v1"));
    iam.attach_role_policy()
        .role_name("sdk-role")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_roles().len(), 1);
    assert_eq!(entities.policy_roles()[0].role_name(), Some("sdk-role"));
    let e = iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_delete_conflict_exception(), "{e:?}");
    let e = iam
        .delete_role()
        .role_name("sdk-role")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_delete_conflict_exception(), "{e:?}");
    iam.detach_role_policy()
        .role_name("sdk-role")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(
            iam.detach_role_policy()
                .role_name("sdk-role")
                .policy_arn(&arn)
                .send()
                .await
        ),
        "NoSuchEntity"
    );

    for i in 2..=5 {
        let v = iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc(&["kms:Encrypt", "kms:Decrypt"]))
            .set_as_default(i == 4)
            .send()
            .await
            .unwrap()
            .policy_version
            .unwrap();
        assert_eq!(v.version_id(), Some(format!("v{i}").as_str()));
    }
    let e = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc(&["kms:Encrypt"]))
        .send()
        .await;
    assert!(e
        .unwrap_err()
        .into_service_error()
        .is_limit_exceeded_exception());
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(ids, ["v5", "v4", "v3", "v2", "v1"]);
    assert_eq!(
        code!(
            iam.delete_policy_version()
                .policy_arn(&arn)
                .version_id("v4")
                .send()
                .await
        ),
        "DeleteConflict"
    );
    assert_eq!(
        code!(iam.delete_policy().policy_arn(&arn).send().await),
        "DeleteConflict"
    );
    for v in ["v1", "v2", "v3", "v5"] {
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id(v)
            .send()
            .await
            .unwrap();
    }
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let e = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");

    // AWS-managed policies: listed, read-only.
    let aws = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = aws
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert!(
        names.contains(&"AWSKeyManagementServicePowerUser")
            && names.contains(&"AWSCloudTrail_ReadOnlyAccess"),
        "{names:?}"
    );
    assert_eq!(
        code!(
            iam.delete_policy()
                .policy_arn(aws_arn("AmazonS3FullAccess"))
                .send()
                .await
        ),
        "AccessDenied"
    );

    // Paging: MaxItems and Marker.
    for i in 0..3 {
        iam.create_policy()
            .policy_name(format!("page-{i}"))
            .policy_document(doc(&["s3:GetObject"]))
            .send()
            .await
            .unwrap();
    }
    let first = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    assert_eq!(first.policies().len(), 2);
    let second = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .max_items(2)
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!second.is_truncated());
    assert_eq!(
        second
            .policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .collect::<Vec<_>>(),
        ["page-2"]
    );

    // Instance profile.
    let ip = iam
        .create_instance_profile()
        .instance_profile_name("sdk-profile")
        .send()
        .await
        .unwrap();
    assert!(ip
        .instance_profile
        .unwrap()
        .instance_profile_id()
        .starts_with("AIPA"));
    iam.add_role_to_instance_profile()
        .instance_profile_name("sdk-profile")
        .role_name("sdk-role")
        .send()
        .await
        .unwrap();
    let e = iam
        .add_role_to_instance_profile()
        .instance_profile_name("sdk-profile")
        .role_name("sdk-role")
        .send()
        .await;
    assert!(e
        .unwrap_err()
        .into_service_error()
        .is_limit_exceeded_exception());
    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name("sdk-role")
        .send()
        .await
        .unwrap();
    assert_eq!(for_role.instance_profiles().len(), 1);
    assert_eq!(
        iam.list_instance_profiles()
            .send()
            .await
            .unwrap()
            .instance_profiles()
            .len(),
        1
    );
    assert_eq!(
        code!(
            iam.delete_instance_profile()
                .instance_profile_name("sdk-profile")
                .send()
                .await
        ),
        "DeleteConflict"
    );
    iam.remove_role_from_instance_profile()
        .instance_profile_name("sdk-profile")
        .role_name("sdk-role")
        .send()
        .await
        .unwrap();
    iam.delete_instance_profile()
        .instance_profile_name("sdk-profile")
        .send()
        .await
        .unwrap();
    iam.delete_role()
        .role_name("sdk-role")
        .send()
        .await
        .unwrap();
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_access_keys_sign_until_deleted() {
    let env = start(Seed::Workshop).await;
    let iam = env.iam();
    let user = iam
        .create_user()
        .user_name("sdk-user")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    assert!(user.user_id().starts_with("AIDA"));
    assert_eq!(iam.list_users().send().await.unwrap().users().len(), 2);
    let key = iam
        .create_access_key()
        .user_name("sdk-user")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    assert!(key.access_key_id().starts_with("AKIA"));

    let cfg = common::credentials_config(
        &env.running.endpoint(),
        key.access_key_id(),
        key.secret_access_key(),
        None,
    )
    .await;
    let who = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.arn(), Some(user.arn()));
    let as_user = aws_sdk_iam::Client::new(&cfg);
    assert_eq!(
        as_user
            .get_user()
            .send()
            .await
            .unwrap()
            .user
            .unwrap()
            .user_name(),
        "sdk-user"
    );
    // The new identity works for KMS too (it is the same account).
    aws_sdk_kms::Client::new(&cfg)
        .describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .unwrap();

    assert_eq!(
        code!(iam.delete_user().user_name("sdk-user").send().await),
        "DeleteConflict"
    );
    iam.delete_access_key()
        .user_name("sdk-user")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&cfg)
                .get_caller_identity()
                .send()
                .await
        ),
        "InvalidClientTokenId"
    );
    assert!(iam
        .list_access_keys()
        .user_name("sdk-user")
        .send()
        .await
        .unwrap()
        .access_key_metadata()
        .is_empty());
    iam.delete_user()
        .user_name("sdk-user")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(iam.get_user().user_name("sdk-user").send().await),
        "NoSuchEntity"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_sessions_are_not_users() {
    let env = start(Seed::Workshop).await;
    let cfg = common::instance_config(&env.running.endpoint()).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    assert_eq!(code!(iam.get_user().send().await), "ValidationError");
    assert_eq!(
        code!(iam.create_access_key().send().await),
        "ValidationError"
    );
    let role = iam
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let who = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.user_id(),
        Some(format!("{}:{}", role.role_id(), seed::INSTANCE_ID).as_str())
    );
    env.running.shutdown().await;
}
