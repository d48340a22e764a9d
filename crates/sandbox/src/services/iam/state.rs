//! IAM's state in one account (roles, customer-managed policies, instance profiles, users,
//! access keys) as it is persisted, and the lookups every operation shares.
//!
//! Maps are keyed by lower-cased name because IAM names are unique regardless of case.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::{profile_not_found, role_not_found, user_not_found};
use super::managed::aws_managed_policies;
use crate::protocol::AwsError;

/// Where IAM's (global) state is kept in every account.
pub const HOME_REGION: &str = "us-east-1";

/// IAM state of one account (kept under the account's `us-east-1` entry: IAM is global).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IamState {
    /// By lower-cased role name.
    pub roles: BTreeMap<String, Role>,
    /// Customer-managed policies, by lower-cased policy name.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// By lower-cased instance profile name.
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
    /// By lower-cased user name.
    pub users: BTreeMap<String, User>,
    /// By access key id.
    pub access_keys: BTreeMap<String, AccessKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The trust policy as submitted.
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// ARNs of the attached managed policies, in attachment order.
    #[serde(default)]
    pub attached: Vec<String>,
    /// Inline policies: name → document as submitted.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used: Option<OffsetDateTime>,
    pub last_used_region: Option<String>,
}

impl Role {
    /// A role as CreateRole makes it when only the required members are given: no
    /// description, boundary, tags or policies, sessions of up to an hour, never used.
    pub fn new(
        account: &str,
        path: &str,
        name: &str,
        id: String,
        created: OffsetDateTime,
        trust: String,
    ) -> Role {
        Role {
            name: name.to_string(),
            id,
            path: path.to_string(),
            arn: iam_arn(account, "role", path, name),
            created,
            assume_role_policy: trust,
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: Vec::new(),
            attached: Vec::new(),
            inline: BTreeMap::new(),
            last_used: None,
            last_used_region: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub default_version: String,
    /// The number the next version gets (ids are never reused).
    pub next_version: u32,
    pub versions: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// A policy at path `/` whose newest version (the last of `versions`) is the default and
    /// its last update; no description or tags.
    pub fn new(
        name: &str,
        id: String,
        arn: String,
        created: OffsetDateTime,
        versions: Vec<PolicyVersion>,
    ) -> ManagedPolicy {
        ManagedPolicy {
            name: name.to_string(),
            id,
            path: "/".into(),
            arn,
            created,
            updated: versions.last().map_or(created, |v| v.created),
            description: None,
            tags: Vec::new(),
            default_version: versions
                .last()
                .map_or_else(|| "v1".into(), |v| v.id.clone()),
            next_version: u32::try_from(versions.len())
                .unwrap_or(u32::MAX)
                .saturating_add(1),
            versions,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Lower-cased names of the roles in it (AWS allows one).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub attached: Vec<String>,
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
}

impl User {
    /// A user without tags or policies.
    pub fn new(account: &str, path: &str, name: &str, id: String, created: OffsetDateTime) -> User {
        User {
            name: name.to_string(),
            id,
            path: path.to_string(),
            arn: iam_arn(account, "user", path, name),
            created,
            tags: Vec::new(),
            attached: Vec::new(),
            inline: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    /// Lower-cased name of the owning user.
    pub user: String,
    pub status: KeyStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}

/// Whether an access key may sign; serialized (and answered) as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    #[serde(rename = "Active")]
    Active,
    #[serde(rename = "Inactive")]
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// `arn:aws:iam::<account>:<kind><path><name>`.
pub(super) fn iam_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// A new unique id: IAM's four-letter kind prefix (`AROA`, `AIDA`, …) and 17 characters.
pub(super) fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        crate::util::random_id(crate::util::UPPER_ALNUM, 17)
    )
}

/// An entity by name, which IAM matches regardless of case.
fn by_name<'a, T>(
    map: &'a BTreeMap<String, T>,
    name: &str,
    missing: fn(&str) -> AwsError,
) -> Result<&'a T, AwsError> {
    map.get(&name.to_lowercase()).ok_or_else(|| missing(name))
}

/// [`by_name`], to change.
fn by_name_mut<'a, T>(
    map: &'a mut BTreeMap<String, T>,
    name: &str,
    missing: fn(&str) -> AwsError,
) -> Result<&'a mut T, AwsError> {
    map.get_mut(&name.to_lowercase())
        .ok_or_else(|| missing(name))
}

impl IamState {
    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        by_name(&self.roles, name, role_not_found)
    }

    pub(super) fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        by_name_mut(&mut self.roles, name, role_not_found)
    }

    pub fn user(&self, name: &str) -> Result<&User, AwsError> {
        by_name(&self.users, name, user_not_found)
    }

    pub(super) fn user_mut(&mut self, name: &str) -> Result<&mut User, AwsError> {
        by_name_mut(&mut self.users, name, user_not_found)
    }

    pub fn instance_profile(&self, name: &str) -> Result<&InstanceProfile, AwsError> {
        by_name(&self.instance_profiles, name, profile_not_found)
    }

    pub(super) fn instance_profile_mut(
        &mut self,
        name: &str,
    ) -> Result<&mut InstanceProfile, AwsError> {
        by_name_mut(&mut self.instance_profiles, name, profile_not_found)
    }

    /// A managed policy by ARN (customer-managed in `account`, or AWS-managed), and whether it
    /// is AWS-managed.
    pub fn policy(&self, account: &str, arn: &str) -> Option<(&ManagedPolicy, bool)> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, _, _, owner, resource] = parts.as_slice() else {
            return None;
        };
        if !resource.starts_with("policy/") {
            return None;
        }
        if *owner == "aws" {
            return aws_managed_policies()
                .iter()
                .find(|p| p.arn == arn)
                .map(|p| (p, true));
        }
        if *owner != account {
            return None;
        }
        let name = resource.rsplit('/').next().unwrap_or_default();
        self.policies
            .get(&name.to_lowercase())
            .filter(|p| p.arn == arn)
            .map(|p| (p, false))
    }

    /// How many roles and users have the policy attached.
    pub fn attachment_count(&self, arn: &str) -> usize {
        self.roles
            .values()
            .filter(|r| r.attached.iter().any(|a| a == arn))
            .count()
            + self
                .users
                .values()
                .filter(|u| u.attached.iter().any(|a| a == arn))
                .count()
    }

    /// How many roles have the policy as their permissions boundary.
    pub(super) fn boundary_count(&self, arn: &str) -> usize {
        self.roles
            .values()
            .filter(|r| r.permissions_boundary.as_deref() == Some(arn))
            .count()
    }

    /// The policy's name, or the last part of its ARN when no such policy is known (a listing
    /// of attachments still answers).
    pub(super) fn policy_name_of(&self, account: &str, arn: &str) -> String {
        self.policy(account, arn)
            .map(|(p, _)| p.name.clone())
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string())
    }
}
