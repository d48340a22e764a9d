//! IAM's wire shapes: state → the protocol [`Value`] each operation answers, member for member
//! as botocore's model has them (which members each operation leaves out included).

use crate::common::tags;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::state::{
    AccessKey, IamState, InstanceProfile, ManagedPolicy, PolicyVersion, Role, User,
};
use crate::protocol::Value;

/// RFC 3986: everything but the unreserved characters is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document as IAM returns it: URL-encoded.
pub fn url_encode(doc: &str) -> String {
    utf8_percent_encode(doc, RFC3986).to_string()
}

pub(super) fn tag_value(key: &str, value: &str) -> Value {
    Value::obj().with("Key", key).with("Value", value)
}

pub(super) fn tags_value(tags: &[(String, String)]) -> Value {
    tags::list(tags.iter().map(|(k, v)| (k, v)), "Key", "Value")
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleView {
    /// GetRole: everything, with RoleLastUsed.
    Get,
    /// CreateRole.
    Create,
    /// ListRoles: no PermissionsBoundary, RoleLastUsed or Tags.
    List,
    /// Inside an instance profile.
    InProfile,
}

pub(super) fn role_value(r: &Role, view: RoleView) -> Value {
    let mut v = Value::obj()
        .with("Path", r.path.as_str())
        .with("RoleName", r.name.as_str())
        .with("RoleId", r.id.as_str())
        .with("Arn", r.arn.as_str())
        .with("CreateDate", r.created)
        .with(
            "AssumeRolePolicyDocument",
            url_encode(&r.assume_role_policy),
        );
    if view != RoleView::InProfile {
        v = v.with("Description", r.description.clone());
    }
    if matches!(view, RoleView::Get | RoleView::List) {
        v = v.with("MaxSessionDuration", r.max_session_duration);
    }
    if matches!(view, RoleView::Get | RoleView::Create) {
        if let Some(b) = &r.permissions_boundary {
            v = v.with(
                "PermissionsBoundary",
                Value::obj()
                    .with("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
                    .with("PermissionsBoundaryArn", b.as_str()),
            );
        }
        if !r.tags.is_empty() {
            v = v.with("Tags", tags_value(&r.tags));
        }
    }
    if view == RoleView::Get {
        let mut used = Value::obj();
        if let Some(t) = r.last_used {
            used = used
                .with("LastUsedDate", t)
                .with("Region", r.last_used_region.clone());
        }
        v = v.with("RoleLastUsed", used);
    }
    v
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PolicyView {
    Full,
    /// ListPolicies: no Description or Tags.
    List,
}

pub(super) fn policy_value(p: &ManagedPolicy, st: &IamState, view: PolicyView) -> Value {
    let mut v = Value::obj()
        .with("PolicyName", p.name.as_str())
        .with("PolicyId", p.id.as_str())
        .with("Arn", p.arn.as_str())
        .with("Path", p.path.as_str())
        .with("DefaultVersionId", p.default_version.as_str())
        .with("AttachmentCount", st.attachment_count(&p.arn) as i64)
        .with(
            "PermissionsBoundaryUsageCount",
            st.boundary_count(&p.arn) as i64,
        )
        .with("IsAttachable", true);
    if view == PolicyView::Full {
        v = v.with("Description", p.description.clone());
    }
    v = v
        .with("CreateDate", p.created)
        .with("UpdateDate", p.updated);
    if view == PolicyView::Full && !p.tags.is_empty() {
        v = v.with("Tags", tags_value(&p.tags));
    }
    v
}

pub(super) fn version_value(p: &ManagedPolicy, ver: &PolicyVersion, with_document: bool) -> Value {
    let mut v = Value::obj();
    if with_document {
        v = v.with("Document", url_encode(&ver.document));
    }
    v.with("VersionId", ver.id.as_str())
        .with("IsDefaultVersion", ver.id == p.default_version)
        .with("CreateDate", ver.created)
}

pub(super) fn profile_value(p: &InstanceProfile, st: &IamState) -> Value {
    let roles: Vec<Value> = p
        .roles
        .iter()
        .filter_map(|k| st.roles.get(k))
        .map(|r| role_value(r, RoleView::InProfile))
        .collect();
    let mut v = Value::obj()
        .with("Path", p.path.as_str())
        .with("InstanceProfileName", p.name.as_str())
        .with("InstanceProfileId", p.id.as_str())
        .with("Arn", p.arn.as_str())
        .with("CreateDate", p.created)
        .with("Roles", Value::List(roles));
    if !p.tags.is_empty() {
        v = v.with("Tags", tags_value(&p.tags));
    }
    v
}

pub(super) fn user_value(u: &User, with_tags: bool) -> Value {
    let mut v = Value::obj()
        .with("Path", u.path.as_str())
        .with("UserName", u.name.as_str())
        .with("UserId", u.id.as_str())
        .with("Arn", u.arn.as_str())
        .with("CreateDate", u.created);
    if with_tags && !u.tags.is_empty() {
        v = v.with("Tags", tags_value(&u.tags));
    }
    v
}

/// An entry of ListAccessKeys, under the user name as the caller is shown it.
pub(super) fn key_metadata(k: &AccessKey, user_name: &str) -> Value {
    Value::obj()
        .with("UserName", user_name)
        .with("AccessKeyId", k.id.as_str())
        .with("Status", k.status.as_str())
        .with("CreateDate", k.created)
}
