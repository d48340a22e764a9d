//! Instance profiles and the (one) role each may hold.

use super::{add_new, keyed, list_by_path, read_logged, write, write_logged};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::errors::{already_exists, quota, role_not_found, roles_in_profile};
use crate::services::iam::paging::paginate;
use crate::services::iam::params::{name_param, parse_tags, path_param};
use crate::services::iam::state::{iam_arn, new_id, InstanceProfile};
use crate::services::iam::trail::{profile_resource, role_resource};
use crate::services::iam::views::profile_value;
use crate::services::Call;

pub(crate) fn create_instance_profile(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "InstanceProfileName", 128)?;
    let path = path_param(input)?;
    let tags = parse_tags(input)?;
    let arn = iam_arn(cx.account(), "instance-profile", &path, &name);
    cx.resources.push(profile_resource(&arn));
    let p = InstanceProfile {
        name: name.clone(),
        id: new_id("AIPA"),
        path,
        arn,
        created: cx.now,
        roles: Vec::new(),
        tags,
    };
    let exists = |have: &InstanceProfile| {
        already_exists(format!("Instance Profile {} already exists.", have.name))
    };
    write(cx, |st| {
        let v = Value::obj().with("InstanceProfile", profile_value(&p, st));
        let most = ("InstanceProfilesPerAccount", 1000);
        add_new(&mut st.instance_profiles, &name, p, exists, most)?;
        Ok(v)
    })
}

pub(crate) fn get_instance_profile(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "InstanceProfileName", 128)?;
    read_logged(cx, profile_resource, |st| {
        let p = st.instance_profile(&name)?;
        Ok((
            Value::obj().with("InstanceProfile", profile_value(p, st)),
            p.arn.clone(),
        ))
    })
}

pub(crate) fn delete_instance_profile(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "InstanceProfileName", 128)?;
    write_logged(cx, profile_resource, |st| {
        let p = st.instance_profile(&name)?;
        if !p.roles.is_empty() {
            return Err(roles_in_profile());
        }
        let arn = p.arn.clone();
        st.instance_profiles.remove(&name.to_lowercase());
        Ok(arn)
    })
}

pub(crate) fn list_instance_profiles(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    list_by_path(
        cx,
        input,
        "InstanceProfiles",
        |st| &st.instance_profiles,
        |st, p| profile_value(p, st),
    )
}

/// AddRoleToInstanceProfile (`add`) and RemoveRoleFromInstanceProfile.
fn add_or_remove_role(cx: &mut Call<'_>, input: &Input, add: bool) -> Result<Value, AwsError> {
    let profile = name_param(input, "InstanceProfileName", 128)?;
    let role = name_param(input, "RoleName", 64)?;
    let (profile_arn, role_arn) = write(cx, |st| {
        let role_arn = st.role(&role)?.arn.clone();
        let key = role.to_lowercase();
        let p = st.instance_profile_mut(&profile)?;
        if add {
            if !p.roles.is_empty() {
                return Err(quota("InstanceSessionsPerInstanceProfile", 1));
            }
            p.roles.push(key);
        } else {
            if !p.roles.contains(&key) {
                return Err(role_not_found(&role));
            }
            p.roles.retain(|r| r != &key);
        }
        Ok((p.arn.clone(), role_arn))
    })?;
    cx.resources.push(profile_resource(&profile_arn));
    cx.resources.push(role_resource(&role_arn));
    Ok(Value::Null)
}

pub(crate) fn add_role_to_instance_profile(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    add_or_remove_role(cx, input, true)
}

pub(crate) fn remove_role_from_instance_profile(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    add_or_remove_role(cx, input, false)
}

pub(crate) fn list_instance_profiles_for_role(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    let role = name_param(input, "RoleName", 64)?;
    let items = read_logged(cx, role_resource, |st| {
        let r = st.role(&role)?;
        let key = role.to_lowercase();
        let items = keyed(
            &st.instance_profiles,
            |p| p.roles.contains(&key),
            |p| profile_value(p, st),
        );
        Ok((items, r.arn.clone()))
    })?;
    Ok(paginate(input, items)?.into_value("InstanceProfiles"))
}
