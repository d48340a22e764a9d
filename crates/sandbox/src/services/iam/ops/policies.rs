//! Managed policies: customer-managed ones to create and delete, AWS-managed ones to read, and
//! the roles and users they are attached to.

use super::{add_new, read, write};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::document::managed_document_param;
use crate::services::iam::errors::{
    already_exists, aws_managed_denied, delete_conflict, policy_not_found,
};
use crate::services::iam::managed::aws_managed_policies;
use crate::services::iam::paging::paginate;
use crate::services::iam::params::{
    description_param, enum_param, name_param, parse_tags, path_prefix, policy_arn_param,
    policy_path_param, usage_filter,
};
use crate::services::iam::state::{iam_arn, new_id, IamState, ManagedPolicy, PolicyVersion};
use crate::services::iam::trail::policy_resource;
use crate::services::iam::views::{policy_value, PolicyView};
use crate::services::Call;

pub(crate) fn create_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "PolicyName", 128)?;
    let path = policy_path_param(input, "Path")?.unwrap_or_else(|| "/".into());
    let doc = managed_document_param(input)?;
    let description = description_param(input)?;
    let tags = parse_tags(input)?;
    let arn = iam_arn(cx.account(), "policy", &path, &name);
    cx.resources.push(policy_resource(&arn));
    let now = cx.now;
    let first = PolicyVersion {
        id: "v1".into(),
        document: doc,
        created: now,
    };
    let mut p = ManagedPolicy::new(&name, new_id("ANPA"), arn, now, vec![first]);
    p.path = path;
    p.description = description;
    p.tags = tags;
    let exists = |_: &ManagedPolicy| {
        already_exists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        ))
    };
    write(cx, |st| {
        let v = Value::obj().with("Policy", policy_value(&p, st, PolicyView::Full));
        add_new(
            &mut st.policies,
            &name,
            p,
            exists,
            ("PoliciesPerAccount", 1500),
        )?;
        Ok(v)
    })
}

pub(crate) fn get_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = policy_arn_param(input, "PolicyArn")?;
    cx.resources.push(policy_resource(&arn));
    let account = cx.account();
    read(cx, |st| {
        let (p, _) = st
            .policy(account, &arn)
            .ok_or_else(|| policy_not_found(&arn))?;
        Ok(Value::obj().with("Policy", policy_value(p, st, PolicyView::Full)))
    })
}

pub(crate) fn delete_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = policy_arn_param(input, "PolicyArn")?;
    cx.resources.push(policy_resource(&arn));
    let caller_arn = cx.caller.arn();
    let account = cx.account().to_string();
    write(cx, |st| {
        let (p, aws) = st
            .policy(&account, &arn)
            .ok_or_else(|| policy_not_found(&arn))?;
        if aws {
            return Err(aws_managed_denied(&caller_arn, "DeletePolicy", &arn));
        }
        if st.attachment_count(&arn) > 0 || st.boundary_count(&arn) > 0 {
            return Err(delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        if p.versions.len() > 1 {
            return Err(delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        let key = p.name.to_lowercase();
        st.policies.remove(&key);
        Ok(Value::Null)
    })
}

/// Whether a policy is in use as `usage` asks (`None`: either way).
fn in_use(st: &IamState, arn: &str, usage: Option<&str>) -> bool {
    match usage {
        Some("PermissionsBoundary") => st.boundary_count(arn) > 0,
        Some(_) => st.attachment_count(arn) > 0,
        None => st.attachment_count(arn) > 0 || st.boundary_count(arn) > 0,
    }
}

pub(crate) fn list_policies(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let scope =
        enum_param(input, "Scope", &["All", "AWS", "Local"])?.unwrap_or_else(|| "All".into());
    let only_attached = input.bool("OnlyAttached")?.unwrap_or(false);
    let prefix = policy_path_param(input, "PathPrefix")?.unwrap_or_else(|| "/".into());
    let usage = usage_filter(input)?;
    let items: Vec<(String, Value)> = read(cx, |st| {
        let local = st.policies.values().filter(|_| scope != "AWS");
        let aws = aws_managed_policies().iter().filter(|_| scope != "Local");
        local
            .chain(aws)
            .filter(|p| p.path.starts_with(&prefix))
            .filter(|p| !only_attached || in_use(st, &p.arn, usage.as_deref()))
            .map(|p| {
                // A customer policy may share an AWS-managed policy's name.
                let owner = if p.arn.starts_with("arn:aws:iam::aws:") {
                    "a"
                } else {
                    "l"
                };
                (
                    format!("{}\u{1}{owner}", p.name.to_lowercase()),
                    policy_value(p, st, PolicyView::List),
                )
            })
            .collect()
    });
    Ok(paginate(input, items)?.into_value("Policies"))
}

/// What ListEntitiesForPolicy lists, and how.
struct EntityQuery {
    arn: String,
    /// `EntityFilter`: only roles (`Role`) or users (`User`); groups and policies have none.
    filter: Option<String>,
    prefix: String,
    usage: Option<String>,
}

impl EntityQuery {
    fn from_input(input: &Input) -> Result<EntityQuery, AwsError> {
        let arn = policy_arn_param(input, "PolicyArn")?;
        let filter = enum_param(
            input,
            "EntityFilter",
            &[
                "User",
                "Role",
                "Group",
                "LocalManagedPolicy",
                "AWSManagedPolicy",
            ],
        )?;
        let prefix = match input.str("PathPrefix")? {
            Some(_) => path_prefix(input)?,
            None => "/".into(),
        };
        let usage = usage_filter(input)?;
        Ok(EntityQuery {
            arn,
            filter,
            prefix,
            usage,
        })
    }

    fn wants(&self, attached: bool, boundary: bool) -> bool {
        match self.usage.as_deref() {
            Some("PermissionsPolicy") => attached,
            Some(_) => boundary,
            None => attached || boundary,
        }
    }

    fn lists(&self, kind: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| f == kind)
    }

    /// The roles and users it finds: (sort key, (is a role, entry)).
    fn entities(&self, st: &IamState) -> Vec<(String, (bool, Value))> {
        let mut out = Vec::new();
        if self.lists("Role") {
            for (k, r) in &st.roles {
                let attached = r.attached.contains(&self.arn);
                let boundary = r.permissions_boundary.as_deref() == Some(self.arn.as_str());
                if self.wants(attached, boundary) && r.path.starts_with(&self.prefix) {
                    let v = Value::obj()
                        .with("RoleName", r.name.as_str())
                        .with("RoleId", r.id.as_str());
                    out.push((format!("r{k}"), (true, v)));
                }
            }
        }
        if self.lists("User") {
            for (k, u) in &st.users {
                if self.wants(u.attached.contains(&self.arn), false)
                    && u.path.starts_with(&self.prefix)
                {
                    let v = Value::obj()
                        .with("UserName", u.name.as_str())
                        .with("UserId", u.id.as_str());
                    out.push((format!("u{k}"), (false, v)));
                }
            }
        }
        out
    }
}

pub(crate) fn list_entities_for_policy(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    let q = EntityQuery::from_input(input)?;
    cx.resources.push(policy_resource(&q.arn));
    let account = cx.account();
    let items = read(cx, |st| {
        st.policy(account, &q.arn)
            .ok_or_else(|| policy_not_found(&q.arn))?;
        Ok(q.entities(st))
    })?;
    let page = paginate(input, items)?;
    let (mut roles, mut users) = (Vec::new(), Vec::new());
    for (is_role, v) in page.items {
        if is_role {
            roles.push(v);
        } else {
            users.push(v);
        }
    }
    Ok(Value::obj()
        .with("PolicyGroups", Value::List(Vec::new()))
        .with("PolicyUsers", Value::List(users))
        .with("PolicyRoles", Value::List(roles))
        .with("IsTruncated", page.marker.is_some())
        .with("Marker", page.marker))
}
