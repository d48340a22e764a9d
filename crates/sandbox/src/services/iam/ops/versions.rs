//! The versions of managed policies: up to five per customer policy, one of them the default;
//! AWS-managed policies' versions can be read but not changed.

use super::{read, write};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::document::managed_document_param;
use crate::services::iam::errors::{
    aws_managed_denied, delete_conflict, limit, policy_not_found, version_not_found,
};
use crate::services::iam::paging::{ordinal, paginate};
use crate::services::iam::params::{policy_arn_param, version_param};
use crate::services::iam::state::{IamState, ManagedPolicy, PolicyVersion};
use crate::services::iam::trail::policy_resource;
use crate::services::iam::views::version_value;
use crate::services::Call;

pub(crate) fn get_policy_version(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = policy_arn_param(input, "PolicyArn")?;
    let version = version_param(input)?;
    cx.resources.push(policy_resource(&arn));
    let account = cx.account();
    read(cx, |st| {
        let (p, _) = st
            .policy(account, &arn)
            .ok_or_else(|| version_not_found(&arn, &version))?;
        let ver = p
            .versions
            .iter()
            .find(|v| v.id == version)
            .ok_or_else(|| version_not_found(&arn, &version))?;
        Ok(Value::obj().with("PolicyVersion", version_value(p, ver, true)))
    })
}

pub(crate) fn list_policy_versions(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = policy_arn_param(input, "PolicyArn")?;
    cx.resources.push(policy_resource(&arn));
    let account = cx.account();
    let items: Vec<(String, Value)> = read(cx, |st| {
        let (p, _) = st
            .policy(account, &arn)
            .ok_or_else(|| policy_not_found(&arn))?;
        // Newest first.
        Ok(p.versions
            .iter()
            .rev()
            .enumerate()
            .map(|(i, v)| (ordinal(i), version_value(p, v, false)))
            .collect())
    })?;
    Ok(paginate(input, items)?.into_value("Versions"))
}

/// The customer-managed policy `arn` names, to change with `action` (AWS-managed ones are
/// refused as AWS refuses them).
fn customer_policy_mut<'a>(
    st: &'a mut IamState,
    account: &str,
    caller_arn: &str,
    action: &str,
    arn: &str,
) -> Result<&'a mut ManagedPolicy, AwsError> {
    let (p, aws) = st
        .policy(account, arn)
        .ok_or_else(|| policy_not_found(arn))?;
    if aws {
        return Err(aws_managed_denied(caller_arn, action, arn));
    }
    let key = p.name.to_lowercase();
    st.policies
        .get_mut(&key)
        .ok_or_else(|| policy_not_found(arn))
}

pub(crate) fn create_policy_version(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = policy_arn_param(input, "PolicyArn")?;
    let doc = managed_document_param(input)?;
    let set_default = input.bool("SetAsDefault")?.unwrap_or(false);
    cx.resources.push(policy_resource(&arn));
    let caller_arn = cx.caller.arn();
    let account = cx.account().to_string();
    let now = cx.now;
    write(cx, |st| {
        let p = customer_policy_mut(st, &account, &caller_arn, "CreatePolicyVersion", &arn)?;
        if p.versions.len() >= 5 {
            return Err(limit(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
            ));
        }
        let ver = PolicyVersion {
            id: format!("v{}", p.next_version),
            document: doc,
            created: now,
        };
        p.next_version = p.next_version.saturating_add(1);
        p.updated = now;
        if set_default {
            p.default_version = ver.id.clone();
        }
        let v = Value::obj().with("PolicyVersion", version_value(p, &ver, false));
        p.versions.push(ver);
        Ok(v)
    })
}

/// DeletePolicyVersion and SetDefaultPolicyVersion: find the version, then `change` it.
fn change_version(
    cx: &mut Call<'_>,
    input: &Input,
    action: &str,
    change: impl FnOnce(&mut ManagedPolicy, &str) -> Result<(), AwsError>,
) -> Result<Value, AwsError> {
    let arn = policy_arn_param(input, "PolicyArn")?;
    let version = version_param(input)?;
    cx.resources.push(policy_resource(&arn));
    let caller_arn = cx.caller.arn();
    let account = cx.account().to_string();
    write(cx, |st| {
        let p = customer_policy_mut(st, &account, &caller_arn, action, &arn)?;
        if !p.versions.iter().any(|v| v.id == version) {
            return Err(version_not_found(&arn, &version));
        }
        change(p, &version)?;
        Ok(Value::Null)
    })
}

pub(crate) fn delete_policy_version(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    change_version(cx, input, "DeletePolicyVersion", |p, version| {
        if p.default_version == version {
            return Err(delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        p.versions.retain(|v| v.id != version);
        Ok(())
    })
}

pub(crate) fn set_default_policy_version(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    change_version(cx, input, "SetDefaultPolicyVersion", |p, version| {
        p.default_version = version.to_string();
        Ok(())
    })
}
