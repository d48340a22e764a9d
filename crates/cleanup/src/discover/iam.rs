//! IAM: the workshop's role and instance profile by their exact names (noting which the stack
//! owns), and its customer managed policies unless something not the workshop's uses them.

use serde::{Deserialize, Serialize};

use super::{stack_physical, Found, Skipped};
use crate::aws::Clients;
use crate::{names, AwsFailure, Pace};

/// The workshop's role and what hangs on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleFound {
    pub name: String,
    pub arn: String,
    pub attached: Vec<String>,
    pub inline: Vec<String>,
    pub profiles: Vec<String>,
    /// The stack deletes it (only what the template does not declare is removed by hand).
    pub stack_owned: bool,
}

/// The workshop's instance profile and the roles in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileFound {
    pub name: String,
    pub arn: String,
    pub roles: Vec<String>,
    pub stack_owned: bool,
}

/// A customer managed policy of the workshop's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyFound {
    pub name: String,
    pub arn: String,
    pub non_default_versions: Vec<String>,
    pub attached_roles: Vec<String>,
}

/// The workshop's IAM resources, into `found` (after the regions: the stack says which of
/// them it owns).
pub(super) async fn discover(
    clients: &Clients,
    pace: &Pace,
    found: &mut Found,
) -> Result<(), AwsFailure> {
    let iam = &clients.iam;
    let stack_roles = stack_physical(found, "AWS::IAM::Role");
    let stack_profiles = stack_physical(found, "AWS::IAM::InstanceProfile");
    found.role = role(iam, pace, &stack_roles).await?;
    found.profile = profile(iam, pace, &stack_profiles).await?;
    for name in names::CUSTOMER_POLICIES {
        let arn = format!("arn:aws:iam::{}:policy/{name}", clients.account);
        policy(iam, pace, name, arn, found).await?;
    }
    Ok(())
}

/// The role named [`names::ROLE`], with its policies and profiles.
async fn role(
    iam: &aws_sdk_iam::Client,
    pace: &Pace,
    stack_roles: &[String],
) -> Result<Option<RoleFound>, AwsFailure> {
    let got = pace
        .send("GetRole", || iam.get_role().role_name(names::ROLE).send())
        .await;
    let arn = match got {
        Ok(r) => r.role().map(|r| r.arn().to_string()).unwrap_or_default(),
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let attached = attached_policy_arns(iam, pace, names::ROLE).await?;
    let inline = inline_policy_names(iam, pace, names::ROLE).await?;
    let profiles = pages!(
        pace,
        "ListInstanceProfilesForRole",
        iam.list_instance_profiles_for_role().role_name(names::ROLE),
        marker
    )
    .await?
    .iter()
    .flat_map(|p| p.instance_profiles())
    .map(|p| p.instance_profile_name().to_string())
    .collect();
    Ok(Some(RoleFound {
        name: names::ROLE.to_string(),
        arn,
        attached,
        inline,
        profiles,
        stack_owned: stack_roles.iter().any(|r| r == names::ROLE),
    }))
}

/// The ARNs of the managed policies attached to `role`.
pub async fn attached_policy_arns(
    iam: &aws_sdk_iam::Client,
    pace: &Pace,
    role: &str,
) -> Result<Vec<String>, AwsFailure> {
    let pages = pages!(
        pace,
        "ListAttachedRolePolicies",
        iam.list_attached_role_policies().role_name(role),
        marker
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.attached_policies())
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

/// The names of `role`'s inline policies.
pub(crate) async fn inline_policy_names(
    iam: &aws_sdk_iam::Client,
    pace: &Pace,
    role: &str,
) -> Result<Vec<String>, AwsFailure> {
    let pages = pages!(
        pace,
        "ListRolePolicies",
        iam.list_role_policies().role_name(role),
        marker
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.policy_names().iter().cloned())
        .collect())
}

/// The instance profile named [`names::PROFILE`].
async fn profile(
    iam: &aws_sdk_iam::Client,
    pace: &Pace,
    stack_profiles: &[String],
) -> Result<Option<ProfileFound>, AwsFailure> {
    let got = pace
        .send("GetInstanceProfile", || {
            iam.get_instance_profile()
                .instance_profile_name(names::PROFILE)
                .send()
        })
        .await;
    match got {
        Ok(p) => Ok(p.instance_profile().map(|p| ProfileFound {
            name: p.instance_profile_name().to_string(),
            arn: p.arn().to_string(),
            roles: p
                .roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .collect(),
            stack_owned: stack_profiles.iter().any(|n| n == names::PROFILE),
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The customer managed policy `name` at `arn`: into `found.policies` when only the
/// workshop's role uses it, into `found.skipped` when anything else does.
async fn policy(
    iam: &aws_sdk_iam::Client,
    pace: &Pace,
    name: &str,
    arn: String,
    found: &mut Found,
) -> Result<(), AwsFailure> {
    match pace
        .send("GetPolicy", || iam.get_policy().policy_arn(&arn).send())
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    }
    let non_default_versions = pages!(
        pace,
        "ListPolicyVersions",
        iam.list_policy_versions().policy_arn(&arn),
        marker
    )
    .await?
    .iter()
    .flat_map(|p| p.versions())
    .filter(|v| !v.is_default_version())
    .filter_map(|v| v.version_id().map(str::to_string))
    .collect();
    let entities = pages!(
        pace,
        "ListEntitiesForPolicy",
        iam.list_entities_for_policy().policy_arn(&arn),
        marker
    )
    .await?;
    let roles: Vec<String> = entities
        .iter()
        .flat_map(|p| p.policy_roles())
        .filter_map(|r| r.role_name().map(str::to_string))
        .collect();
    let others: Vec<String> = roles
        .iter()
        .filter(|r| r.as_str() != names::ROLE)
        .map(|r| format!("role {r}"))
        .chain(
            entities
                .iter()
                .flat_map(|p| p.policy_users())
                .filter_map(|u| u.user_name().map(|u| format!("user {u}"))),
        )
        .chain(
            entities
                .iter()
                .flat_map(|p| p.policy_groups())
                .filter_map(|g| g.group_name().map(|g| format!("group {g}"))),
        )
        .collect();
    if !others.is_empty() {
        found.skipped.push(Skipped {
            what: format!("iam policy {arn}"),
            why: format!(
                "also attached to {}, which is not the workshop's: left in place",
                others.join(", ")
            ),
        });
        return Ok(());
    }
    found.policies.push(PolicyFound {
        name: name.to_string(),
        arn,
        non_default_versions,
        attached_roles: roles,
    });
    Ok(())
}
