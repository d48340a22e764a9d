//! The IAM requests the differential test sends, as data: one enum a resource family (roles,
//! managed policies, instance profiles, users), each variant one operation with what it names.

use aws_sdk_iam::types::{EntityType, PolicyScopeType, Tag};
use serde_json::json;

use crate::common::differential::{both, Outcome, Ref, Request, Side};

pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub const S3_FULL: &str = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
pub const IAM_READ_ONLY: &str = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";

/// A policy document allowing `actions` on everything.
pub fn doc(actions: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string()
}

pub fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

/// A managed policy's ARN: one of the side's own account (by name: moto's account differs
/// from the sandbox's), or an AWS-managed one.
#[derive(Debug, Clone)]
pub enum Arn {
    Local(&'static str),
    Aws(String),
}

/// [`Arn::Aws`] of a fixed ARN.
pub fn aws(arn: &str) -> Arn {
    Arn::Aws(arn.to_string())
}

impl Arn {
    pub fn on(&self, side: &Side) -> String {
        match self {
            Arn::Local(name) => format!("arn:aws:iam::{}:policy/{name}", side.account()),
            Arn::Aws(arn) => arn.clone(),
        }
    }
}

/// `$op` with its one name as `$member` (`$name`, a `&&str` bound by a match arm), sent to
/// both `$sides`.
macro_rules! by_name {
    ($sides:ident, $op:ident, $member:ident, $name:expr) => {
        both!($sides, |side| side.iam.$op().$member(*$name).send().await)
    };
}

/// `$op` of the managed policy `$arn` (an [`Arn`]), sent to both `$sides`.
macro_rules! by_arn {
    ($sides:ident, $op:ident, $arn:expr) => {
        both!($sides, |side| side
            .iam
            .$op()
            .policy_arn($arn.on(side))
            .send()
            .await)
    };
}

/// Requests about roles and what is attached to them.
pub enum Role {
    /// CreateRole with this trust policy; `details`: with path `/diff/`, a description and a
    /// `team` tag.
    Create(&'static str, &'static str, bool),
    Get(&'static str),
    Delete(&'static str),
    /// ListRoles, with this path prefix.
    List(Option<&'static str>),
    Tag(&'static str, (&'static str, &'static str)),
    Untag(&'static str, &'static str),
    ListTags(&'static str),
    /// PutRolePolicy: role, inline policy name, document.
    PutPolicy(&'static str, &'static str, String),
    GetPolicy(&'static str, &'static str),
    DeletePolicy(&'static str, &'static str),
    ListPolicies(&'static str),
    Attach(&'static str, Arn),
    Detach(&'static str, Arn),
    ListAttached(&'static str),
    ListInstanceProfiles(&'static str),
}

impl Request for Role {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            Role::Create(name, trust, details) => both!(sides, |side| {
                let mut call = side
                    .iam
                    .create_role()
                    .role_name(*name)
                    .assume_role_policy_document(*trust);
                if *details {
                    call = call
                        .path("/diff/")
                        .description("differential")
                        .tags(tag("team", "a"));
                }
                call.send().await
            }),
            Role::Get(name) => by_name!(sides, get_role, role_name, name),
            Role::Delete(name) => by_name!(sides, delete_role, role_name, name),
            Role::List(prefix) => both!(sides, |side| side
                .iam
                .list_roles()
                .set_path_prefix(prefix.map(str::to_string))
                .send()
                .await),
            Role::Tag(name, (k, v)) => both!(sides, |side| side
                .iam
                .tag_role()
                .role_name(*name)
                .tags(tag(k, v))
                .send()
                .await),
            Role::Untag(name, key) => both!(sides, |side| side
                .iam
                .untag_role()
                .role_name(*name)
                .tag_keys(*key)
                .send()
                .await),
            Role::ListTags(name) => by_name!(sides, list_role_tags, role_name, name),
            Role::PutPolicy(name, policy, document) => both!(sides, |side| side
                .iam
                .put_role_policy()
                .role_name(*name)
                .policy_name(*policy)
                .policy_document(document)
                .send()
                .await),
            Role::GetPolicy(name, policy) => both!(sides, |side| side
                .iam
                .get_role_policy()
                .role_name(*name)
                .policy_name(*policy)
                .send()
                .await),
            Role::DeletePolicy(name, policy) => both!(sides, |side| side
                .iam
                .delete_role_policy()
                .role_name(*name)
                .policy_name(*policy)
                .send()
                .await),
            Role::ListPolicies(name) => by_name!(sides, list_role_policies, role_name, name),
            Role::Attach(name, arn) => both!(sides, |side| side
                .iam
                .attach_role_policy()
                .role_name(*name)
                .policy_arn(arn.on(side))
                .send()
                .await),
            Role::Detach(name, arn) => both!(sides, |side| side
                .iam
                .detach_role_policy()
                .role_name(*name)
                .policy_arn(arn.on(side))
                .send()
                .await),
            Role::ListAttached(name) => {
                by_name!(sides, list_attached_role_policies, role_name, name)
            }
            Role::ListInstanceProfiles(name) => {
                by_name!(sides, list_instance_profiles_for_role, role_name, name)
            }
        }
    }
}

/// Requests about managed policies and their versions.
pub enum Policy {
    Create(&'static str, String),
    /// GetPolicy; keeps the default version id under the role given.
    Get(Arn, Option<&'static str>),
    Delete(Arn),
    /// ListPolicies in this scope, only attached ones when `true`.
    List(PolicyScopeType, bool),
    ListEntities(Arn, Option<EntityType>),
    /// CreatePolicyVersion with this document, as the default when asked.
    CreateVersion(Arn, String, Option<bool>),
    ListVersions(Arn),
    GetVersion(Arn, Ref),
    DeleteVersion(Arn, &'static str),
    SetDefaultVersion(Arn, &'static str),
}

impl Request for Policy {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            Policy::Create(name, document) => both!(sides, |side| side
                .iam
                .create_policy()
                .policy_name(*name)
                .policy_document(document)
                .send()
                .await),
            Policy::Get(arn, keep) => both!(sides, |side| {
                let r = side.iam.get_policy().policy_arn(arn.on(side)).send().await;
                if let (Ok(o), Some(role)) = (&r, *keep) {
                    side.keep(role, o.policy().unwrap().default_version_id());
                }
                r
            }),
            Policy::Delete(arn) => by_arn!(sides, delete_policy, arn),
            Policy::List(scope, only_attached) => both!(sides, |side| side
                .iam
                .list_policies()
                .scope(scope.clone())
                .set_only_attached(only_attached.then_some(true))
                .send()
                .await),
            Policy::ListEntities(arn, filter) => both!(sides, |side| side
                .iam
                .list_entities_for_policy()
                .policy_arn(arn.on(side))
                .set_entity_filter(filter.clone())
                .send()
                .await),
            Policy::CreateVersion(arn, document, default) => both!(sides, |side| side
                .iam
                .create_policy_version()
                .policy_arn(arn.on(side))
                .policy_document(document)
                .set_set_as_default(*default)
                .send()
                .await),
            Policy::ListVersions(arn) => by_arn!(sides, list_policy_versions, arn),
            Policy::GetVersion(arn, version) => both!(sides, |side| side
                .iam
                .get_policy_version()
                .policy_arn(arn.on(side))
                .version_id(version.on(side))
                .send()
                .await),
            Policy::DeleteVersion(arn, version) => both!(sides, |side| side
                .iam
                .delete_policy_version()
                .policy_arn(arn.on(side))
                .version_id(*version)
                .send()
                .await),
            Policy::SetDefaultVersion(arn, version) => both!(sides, |side| side
                .iam
                .set_default_policy_version()
                .policy_arn(arn.on(side))
                .version_id(*version)
                .send()
                .await),
        }
    }
}

/// Requests about instance profiles.
pub enum Profile {
    /// CreateInstanceProfile, with this path.
    Create(&'static str, Option<&'static str>),
    Get(&'static str),
    Delete(&'static str),
    List,
    AddRole(&'static str, &'static str),
    RemoveRole(&'static str, &'static str),
}

impl Request for Profile {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            Profile::Create(name, path) => both!(sides, |side| side
                .iam
                .create_instance_profile()
                .instance_profile_name(*name)
                .set_path(path.map(str::to_string))
                .send()
                .await),
            Profile::Get(name) => {
                by_name!(sides, get_instance_profile, instance_profile_name, name)
            }
            Profile::Delete(name) => {
                by_name!(sides, delete_instance_profile, instance_profile_name, name)
            }
            Profile::List => both!(sides, |side| side.iam.list_instance_profiles().send().await),
            Profile::AddRole(name, role) => both!(sides, |side| side
                .iam
                .add_role_to_instance_profile()
                .instance_profile_name(*name)
                .role_name(*role)
                .send()
                .await),
            Profile::RemoveRole(name, role) => both!(sides, |side| side
                .iam
                .remove_role_from_instance_profile()
                .instance_profile_name(*name)
                .role_name(*role)
                .send()
                .await),
        }
    }
}

/// Requests about users, their keys and policies.
pub enum User {
    /// CreateUser, with this tag.
    Create(&'static str, Option<(&'static str, &'static str)>),
    /// GetUser of this user, or of the caller.
    Get(Option<&'static str>),
    List,
    Delete(&'static str),
    /// CreateAccessKey; keeps the key's id as `key`.
    CreateAccessKey(&'static str),
    ListAccessKeys(&'static str),
    Attach(&'static str, Arn),
    Detach(&'static str, Arn),
    ListAttached(&'static str),
}

impl Request for User {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            User::Create(name, t) => both!(sides, |side| side
                .iam
                .create_user()
                .user_name(*name)
                .set_tags(t.map(|(k, v)| vec![tag(k, v)]))
                .send()
                .await),
            User::Get(name) => both!(sides, |side| side
                .iam
                .get_user()
                .set_user_name(name.map(str::to_string))
                .send()
                .await),
            User::List => both!(sides, |side| side.iam.list_users().send().await),
            User::Delete(name) => by_name!(sides, delete_user, user_name, name),
            User::CreateAccessKey(name) => both!(sides, |side| {
                let r = side.iam.create_access_key().user_name(*name).send().await;
                let key = r.as_ref().ok().and_then(|o| o.access_key());
                side.keep("key", key.map(|k| k.access_key_id()));
                r
            }),
            User::ListAccessKeys(name) => by_name!(sides, list_access_keys, user_name, name),
            User::Attach(name, arn) => both!(sides, |side| side
                .iam
                .attach_user_policy()
                .user_name(*name)
                .policy_arn(arn.on(side))
                .send()
                .await),
            User::Detach(name, arn) => both!(sides, |side| side
                .iam
                .detach_user_policy()
                .user_name(*name)
                .policy_arn(arn.on(side))
                .send()
                .await),
            User::ListAttached(name) => {
                by_name!(sides, list_attached_user_policies, user_name, name)
            }
        }
    }
}
