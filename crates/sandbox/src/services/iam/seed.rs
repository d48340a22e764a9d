//! What IAM contributes to the workshop seed (DESIGN.md section 2) around what the seed's plan
//! makes: the learner's user and access key, production lookalikes no clean-up may touch, the
//! stack role's documented id, and classroom mode's instructor role.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::state::{
    iam_arn, new_id, AccessKey, IamState, KeyStatus, ManagedPolicy, PolicyVersion, Role, User,
    HOME_REGION,
};
use crate::protocol::AwsError;
use crate::Sandbox;
use kms_workshop_names::sandbox::{
    CLASSROOM_ROLE, INSTANCE_ROLE, LEARNER_ACCESS_KEY, LEARNER_USER,
};

/// Trust policy of the workshop stack's role, as CloudFormation creates it.
pub(super) const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#;

fn aws_policy_arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

/// A document as the console's visual editor writes it.
fn customer_policy_doc(actions: &[&str]) -> String {
    kms_workshop_names::starting::policy_document(actions)
}

/// A customer-managed policy whose versions (one per document) came an hour apart.
fn policy(account: &str, name: &str, created: OffsetDateTime, docs: &[String]) -> ManagedPolicy {
    let versions: Vec<PolicyVersion> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| PolicyVersion {
            id: format!("v{}", i + 1),
            document: d.clone(),
            created: created + Duration::hours(i as i64),
        })
        .collect();
    let arn = iam_arn(account, "policy", "/", name);
    ManagedPolicy::new(name, new_id("ANPA"), arn, created, versions)
}

/// Production policies whose names start like the workshop's; the first is attached to the
/// production role.
fn lookalike_policies(account: &str, created: OffsetDateTime) -> [ManagedPolicy; 2] {
    let prod_policy = policy(
        account,
        "KMSWorkshop-AdditionalPermissions-prod",
        created,
        &[customer_policy_doc(&[
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ])],
    );
    let prod_rotation = policy(
        account,
        "KMSWorkshop-RotationDisableOps-prod",
        created,
        &[
            customer_policy_doc(&["kms:DisableKey", "kms:EnableKey"]),
            customer_policy_doc(&["kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion"]),
        ],
    );
    [prod_policy, prod_rotation]
}

/// The production role that looks like the workshop stack's.
fn lookalike_role(account: &str, policy_arn: &str, created: OffsetDateTime) -> Role {
    let name = format!("{INSTANCE_ROLE}-prod");
    let mut role = Role::new(
        account,
        "/",
        &name,
        new_id("AROA"),
        created,
        EC2_TRUST.to_string(),
    );
    role.description = Some("Production application instances".into());
    role.tags = vec![("environment".into(), "prod".into())];
    role.attached = vec![policy_arn.to_string()];
    role
}

/// The learner's IAM user (an administrator) and its access key.
fn learner(account: &str, created: OffsetDateTime) -> (User, AccessKey) {
    let name = LEARNER_USER.to_string();
    let id = crate::identity::LEARNER_USER_ID.to_string();
    let mut user = User::new(account, "/", &name, id, created);
    user.attached = vec![aws_policy_arn("AdministratorAccess")];
    let key = AccessKey {
        id: LEARNER_ACCESS_KEY.to_string(),
        user: name.to_lowercase(),
        status: KeyStatus::Active,
        created,
    };
    (user, key)
}

/// What IAM holds around the prepared state (the seed's plan makes the stack's role, the
/// learner's policies and their attachments: `crate::seed::plan`): the learner's user and
/// access key, and production lookalikes that no clean-up may touch.
pub fn seed_workshop(sb: &Sandbox, account: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let day = Duration::days(1);
    let lookalikes = lookalike_policies(account, now - day * 40);
    let prod_role = lookalike_role(account, &lookalikes[0].arn, now - day * 40);
    let (learner, learner_key) = learner(account, now - day * 10);
    sb.write::<IamState, _>(account, HOME_REGION, |st| {
        for p in lookalikes {
            st.policies.insert(p.name.to_lowercase(), p);
        }
        st.roles.insert(prod_role.name.to_lowercase(), prod_role);
        st.users.insert(learner.name.to_lowercase(), learner);
        st.access_keys.insert(learner_key.id.clone(), learner_key);
        Ok(())
    })
}

/// After the seed's plan: the stack's role gets the id the instance's role-session credential
/// (`seed::instance_credential`) names, and was last used by the instance minutes ago.
pub fn seed_instance_role(sb: &Sandbox, account: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    sb.write::<IamState, _>(account, HOME_REGION, |st| {
        let role = st
            .roles
            .get_mut(&INSTANCE_ROLE.to_lowercase())
            .ok_or_else(|| AwsError::internal("the seed's plan made no workshop role"))?;
        role.id = crate::identity::INSTANCE_ROLE_ID.to_string();
        role.last_used = Some(now - Duration::minutes(20));
        role.last_used_region = Some(HOME_REGION.to_string());
        Ok(())
    })
}

/// Classroom mode: the role an instructor in `instructor_account` assumes to administer (and
/// clean up) a learner's account, with the trust policy AWS Organizations gives it.
pub fn seed_classroom_role(
    sb: &Sandbox,
    account: &str,
    instructor_account: &str,
) -> Result<(), AwsError> {
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{instructor_account}:root")},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string();
    let mut role = Role::new(
        account,
        "/",
        CLASSROOM_ROLE,
        new_id("AROA"),
        sb.clock.now() - Duration::days(30),
        trust,
    );
    role.description = Some("Administrator access for the classroom's instructor".into());
    role.attached = vec![aws_policy_arn("AdministratorAccess")];
    sb.write::<IamState, _>(account, HOME_REGION, |st| {
        st.roles.insert(CLASSROOM_ROLE.to_lowercase(), role);
        Ok(())
    })
}
