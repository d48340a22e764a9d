//! Managed policies attached to roles and users: the same three operations for either owner.

use super::{read_logged, write, Owner};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::errors::{not_attachable, policy_not_found, quota};
use crate::services::iam::paging::paginate;
use crate::services::iam::params::{name_param, policy_arn_param, policy_path_param};
use crate::services::iam::trail::policy_resource;
use crate::services::Call;

/// ListAttachedRolePolicies, ListAttachedUserPolicies.
pub(crate) fn list(cx: &mut Call<'_>, input: &Input, owner: Owner) -> Result<Value, AwsError> {
    let (member, max) = owner.member();
    let name = name_param(input, member, max)?;
    let prefix = policy_path_param(input, "PathPrefix")?.unwrap_or_else(|| "/".into());
    let account = cx.account().to_string();
    let items = read_logged(
        cx,
        |a| owner.resource(a),
        |st| {
            let (attached, arn) = owner.attached(st, &name)?;
            let items: Vec<(String, Value)> = attached
                .iter()
                .filter(|a| {
                    st.policy(&account, a)
                        .is_none_or(|(p, _)| p.path.starts_with(&prefix))
                })
                // By policy name (then ARN: a customer policy may share an AWS name).
                .map(|a| {
                    let name = st.policy_name_of(&account, a);
                    (
                        format!("{name}\u{1}{a}"),
                        Value::obj()
                            .with("PolicyName", name)
                            .with("PolicyArn", a.as_str()),
                    )
                })
                .collect();
            Ok((items, arn.to_string()))
        },
    )?;
    Ok(paginate(input, items)?.into_value("AttachedPolicies"))
}

/// AttachRolePolicy, AttachUserPolicy.
pub(crate) fn attach(cx: &mut Call<'_>, input: &Input, owner: Owner) -> Result<Value, AwsError> {
    let (member, max) = owner.member();
    let name = name_param(input, member, max)?;
    let policy_arn = policy_arn_param(input, "PolicyArn")?;
    cx.resources.push(policy_resource(&policy_arn));
    let account = cx.account().to_string();
    let owner_arn = write(cx, |st| {
        owner.attached(st, &name)?;
        if st.policy(&account, &policy_arn).is_none() {
            return Err(not_attachable(&policy_arn));
        }
        let (attached, owner_arn) = owner.attached_mut(st, &name)?;
        if !attached.contains(&policy_arn) {
            if attached.len() >= 10 {
                return Err(quota(owner.quota(), 10));
            }
            attached.push(policy_arn.clone());
        }
        Ok(owner_arn)
    })?;
    cx.resources.insert(0, owner.resource(&owner_arn));
    Ok(Value::Null)
}

/// DetachRolePolicy, DetachUserPolicy.
pub(crate) fn detach(cx: &mut Call<'_>, input: &Input, owner: Owner) -> Result<Value, AwsError> {
    let (member, max) = owner.member();
    let name = name_param(input, member, max)?;
    let policy_arn = policy_arn_param(input, "PolicyArn")?;
    cx.resources.push(policy_resource(&policy_arn));
    let owner_arn = write(cx, |st| {
        let (attached, owner_arn) = owner.attached_mut(st, &name)?;
        let before = attached.len();
        attached.retain(|a| a != &policy_arn);
        if attached.len() == before {
            return Err(policy_not_found(&policy_arn));
        }
        Ok(owner_arn)
    })?;
    cx.resources.insert(0, owner.resource(&owner_arn));
    Ok(Value::Null)
}
