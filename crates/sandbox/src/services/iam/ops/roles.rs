//! Roles (their trust policy, session length and permissions boundary) and their inline
//! policies.

use super::{
    add_new, change_role, ensure_no_policies, list_by_path, read_logged, write, write_logged,
};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::document::{document_param, policy_size, DocKind};
use crate::services::iam::errors::{
    already_exists, limit, not_attachable, quota, role_policy_not_found, roles_in_profile,
};
use crate::services::iam::paging::paginate;
use crate::services::iam::params::{
    check_arn, description_param, int_in, name_param, parse_tags, path_param,
};
use crate::services::iam::state::{new_id, Role};
use crate::services::iam::trail::role_resource;
use crate::services::iam::views::{role_value, url_encode, RoleView};
use crate::services::Call;

pub(crate) fn get_role(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    read_logged(cx, role_resource, |st| {
        st.role(&name).map(|r| {
            (
                Value::obj().with("Role", role_value(r, RoleView::Get)),
                r.arn.clone(),
            )
        })
    })
}

pub(crate) fn create_role(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let path = path_param(input)?;
    let trust = document_param(input, "AssumeRolePolicyDocument", DocKind::Trust)?;
    if policy_size(&trust) > 2048 {
        return Err(quota("ACLSizePerRole", 2048));
    }
    let description = description_param(input)?;
    let max_session = int_in(input, "MaxSessionDuration", 3600, 43200)?.unwrap_or(3600);
    let boundary = input.str("PermissionsBoundary")?;
    if let Some(b) = &boundary {
        check_arn(b)?;
    }
    let tags = parse_tags(input)?;
    let account = cx.account().to_string();
    let mut role = Role::new(&account, &path, &name, new_id("AROA"), cx.now, trust);
    role.description = description;
    role.max_session_duration = max_session;
    role.permissions_boundary = boundary;
    role.tags = tags;
    cx.resources.push(role_resource(&role.arn));
    let v = Value::obj().with("Role", role_value(&role, RoleView::Create));
    write(cx, |st| {
        if let Some(b) = &role.permissions_boundary {
            if st.policy(&account, b).is_none() {
                return Err(not_attachable(b));
            }
        }
        let exists =
            |r: &Role| already_exists(format!("Role with name {} already exists.", r.name));
        add_new(
            &mut st.roles,
            &name,
            role,
            exists,
            ("RolesPerAccount", 1000),
        )
    })?;
    Ok(v)
}

pub(crate) fn delete_role(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    write_logged(cx, role_resource, |st| {
        let key = name.to_lowercase();
        let r = st.role(&name)?;
        if st
            .instance_profiles
            .values()
            .any(|p| p.roles.contains(&key))
        {
            return Err(roles_in_profile());
        }
        ensure_no_policies(&r.attached, &r.inline)?;
        let arn = r.arn.clone();
        st.roles.remove(&key);
        Ok(arn)
    })
}

pub(crate) fn list_roles(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    list_by_path(
        cx,
        input,
        "Roles",
        |st| &st.roles,
        |_, r| role_value(r, RoleView::List),
    )
}

pub(crate) fn list_role_policies(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let items = read_logged(cx, role_resource, |st| {
        let r = st.role(&name)?;
        let items: Vec<(String, Value)> = r
            .inline
            .keys()
            .map(|k| (k.clone(), Value::Str(k.clone())))
            .collect();
        Ok((items, r.arn.clone()))
    })?;
    Ok(paginate(input, items)?.into_value("PolicyNames"))
}

pub(crate) fn put_role_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let policy_name = name_param(input, "PolicyName", 128)?;
    let doc = document_param(input, "PolicyDocument", DocKind::Identity)?;
    change_role(cx, &name, |r| {
        let others: usize = r
            .inline
            .iter()
            .filter(|(k, _)| **k != policy_name)
            .map(|(_, d)| policy_size(d))
            .sum();
        if others + policy_size(&doc) > 10240 {
            return Err(limit(format!(
                "Maximum policy size of 10240 bytes exceeded for role {}",
                r.name
            )));
        }
        r.inline.insert(policy_name, doc);
        Ok(())
    })
}

pub(crate) fn get_role_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let policy_name = name_param(input, "PolicyName", 128)?;
    read_logged(cx, role_resource, |st| {
        let r = st.role(&name)?;
        let doc = r
            .inline
            .get(&policy_name)
            .ok_or_else(|| role_policy_not_found(&policy_name))?;
        let v = Value::obj()
            .with("RoleName", r.name.as_str())
            .with("PolicyName", policy_name.as_str())
            .with("PolicyDocument", url_encode(doc));
        Ok((v, r.arn.clone()))
    })
}

pub(crate) fn delete_role_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let policy_name = name_param(input, "PolicyName", 128)?;
    change_role(cx, &name, |r| match r.inline.remove(&policy_name) {
        Some(_) => Ok(()),
        None => Err(role_policy_not_found(&policy_name)),
    })
}
