//! IAM (awsQuery, global): roles (trust policy, tags, inline and attached managed policies),
//! customer-managed policies with up to five versions, the AWS-managed policies the workshop
//! uses (read-only, present in every account), instance profiles, users, and access keys that
//! really sign requests. Shapes follow botocore's model; codes and messages are AWS's.
//!
//! IAM is global: an account's state lives under its `us-east-1` region. Names of roles,
//! policies, instance profiles and users are unique regardless of case, as in AWS. Policy
//! documents are kept as submitted and returned URL-encoded (RFC 3986), as AWS returns them;
//! botocore decodes them, the Rust SDK hands the encoded string to the caller.
//!
//! Layout: `state` (what is persisted), `ops` (one function per operation, by resource),
//! `params` and `document` (input checks), `views` (answers), `paging`, `errors`, `trail`
//! (what CloudTrail logs), `managed` (the AWS-managed catalogue), `seed` (the workshop's).

mod document;
mod errors;
mod managed;
mod ops;
mod paging;
mod params;
mod seed;
mod state;
mod trail;
mod views;

#[cfg(test)]
mod tests;

use serde_json::Value as J;

use self::ops::{access_keys, attached, policies, profiles, roles, tags, users, versions, Owner};
use super::{camel_case_keys, About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub use self::managed::aws_managed_policies;
pub use self::seed::{seed_classroom_role, seed_instance_role, seed_workshop};
pub use self::state::{
    AccessKey, IamState, InstanceProfile, KeyStatus, ManagedPolicy, PolicyVersion, Role, User,
    HOME_REGION,
};
pub use self::views::url_encode;

/// Role `name` of `account` (case-insensitive, as IAM names are), for STS to assume: the only
/// way another service reads IAM's state.
pub(crate) fn role(sb: &crate::Sandbox, account: &str, name: &str) -> Option<Role> {
    sb.read::<IamState, _>(account, HOME_REGION, |st| {
        st.roles.get(&name.to_lowercase()).cloned()
    })
}

pub struct Iam;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("iam", "iam.amazonaws.com", Protocol::AwsQuery)
    .xmlns("https://iam.amazonaws.com/doc/2010-05-08/")
    .global();

impl Service for Iam {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        match &*input.json_view() {
            J::Object(m) => camel_case_keys(&trail::unflatten(m), &[], &[]),
            other => camel_case_keys(other, &[], &[]),
        }
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        // IAM spells the generic validation error its own way.
        dispatch(cx, op, input).map_err(|e| {
            if e.code == "ValidationException" {
                e.with_code("ValidationError")
            } else {
                e
            }
        })
    }
}

fn dispatch(cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
    match op {
        "GetRole" => roles::get_role(cx, input),
        "CreateRole" => roles::create_role(cx, input),
        "DeleteRole" => roles::delete_role(cx, input),
        "ListRoles" => roles::list_roles(cx, input),
        "ListRolePolicies" => roles::list_role_policies(cx, input),
        "PutRolePolicy" => roles::put_role_policy(cx, input),
        "GetRolePolicy" => roles::get_role_policy(cx, input),
        "DeleteRolePolicy" => roles::delete_role_policy(cx, input),
        "ListAttachedRolePolicies" => attached::list(cx, input, Owner::Role),
        "ListAttachedUserPolicies" => attached::list(cx, input, Owner::User),
        "AttachRolePolicy" => attached::attach(cx, input, Owner::Role),
        "AttachUserPolicy" => attached::attach(cx, input, Owner::User),
        "DetachRolePolicy" => attached::detach(cx, input, Owner::Role),
        "DetachUserPolicy" => attached::detach(cx, input, Owner::User),
        "TagRole" => tags::tag_role(cx, input),
        "UntagRole" => tags::untag_role(cx, input),
        "ListRoleTags" => tags::list_role_tags(cx, input),
        "CreatePolicy" => policies::create_policy(cx, input),
        "GetPolicy" => policies::get_policy(cx, input),
        "DeletePolicy" => policies::delete_policy(cx, input),
        "ListPolicies" => policies::list_policies(cx, input),
        "ListEntitiesForPolicy" => policies::list_entities_for_policy(cx, input),
        "GetPolicyVersion" => versions::get_policy_version(cx, input),
        "ListPolicyVersions" => versions::list_policy_versions(cx, input),
        "CreatePolicyVersion" => versions::create_policy_version(cx, input),
        "DeletePolicyVersion" => versions::delete_policy_version(cx, input),
        "SetDefaultPolicyVersion" => versions::set_default_policy_version(cx, input),
        "CreateInstanceProfile" => profiles::create_instance_profile(cx, input),
        "GetInstanceProfile" => profiles::get_instance_profile(cx, input),
        "DeleteInstanceProfile" => profiles::delete_instance_profile(cx, input),
        "ListInstanceProfiles" => profiles::list_instance_profiles(cx, input),
        "AddRoleToInstanceProfile" => profiles::add_role_to_instance_profile(cx, input),
        "RemoveRoleFromInstanceProfile" => profiles::remove_role_from_instance_profile(cx, input),
        "ListInstanceProfilesForRole" => profiles::list_instance_profiles_for_role(cx, input),
        "GetUser" => users::get_user(cx, input),
        "CreateUser" => users::create_user(cx, input),
        "DeleteUser" => users::delete_user(cx, input),
        "ListUsers" => users::list_users(cx, input),
        "CreateAccessKey" => access_keys::create_access_key(cx, input),
        "ListAccessKeys" => access_keys::list_access_keys(cx, input),
        "DeleteAccessKey" => access_keys::delete_access_key(cx, input),
        _ => Err(cx.unknown(op)),
    }
}
