//! `AWS::IAM::Role` (with managed and inline policies) and `AWS::IAM::InstanceProfile`;
//! deleting detaches and removes what the stack attached, and fails as on AWS when something
//! attached by hand is left.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{
    deleted, document, failed, items, member, prop_str, required, tag_params, text, tolerate,
    Deleted, Env, Failed,
};
use crate::services::cloudformation::template::{as_str_value, Made};

const NO_SUCH_ENTITY: &[&str] = &["NoSuchEntity"];

pub(super) fn create_role(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    required(logical_id, props, &["AssumeRolePolicyDocument"])?;
    let name =
        prop_str(props, "RoleName").unwrap_or_else(|| env.generated_name(logical_id, 64, false));
    let mut p = vec![
        ("RoleName".to_string(), name.clone()),
        (
            "AssumeRolePolicyDocument".to_string(),
            document(props.get("AssumeRolePolicyDocument").unwrap_or(&J::Null)),
        ),
    ];
    for m in [
        "Path",
        "Description",
        "MaxSessionDuration",
        "PermissionsBoundary",
    ] {
        if let Some(v) = prop_str(props, m) {
            p.push((m.to_string(), v));
        }
    }
    let tags = env.tags(logical_id, props.get("Tags").unwrap_or(&J::Null));
    p.extend(tag_params("Tags.member", &tags));
    let out = env.query("iam", "CreateRole", p).map_err(failed(None))?;
    let role = member(&out, "Role");
    let arn = text(role.and_then(|r| member(r, "Arn"))).unwrap_or_default();
    let id = text(role.and_then(|r| member(r, "RoleId"))).unwrap_or_default();
    let keep = Some(name.clone());
    if let Some(J::Array(arns)) = props.get("ManagedPolicyArns") {
        for a in arns {
            let arn = as_str_value(a).unwrap_or_default();
            env.query(
                "iam",
                "AttachRolePolicy",
                vec![("RoleName".into(), name.clone()), ("PolicyArn".into(), arn)],
            )
            .map_err(failed(keep.clone()))?;
        }
    }
    if let Some(J::Array(policies)) = props.get("Policies") {
        for pol in policies {
            let pname = prop_str(pol, "PolicyName").unwrap_or_default();
            let doc = document(pol.get("PolicyDocument").unwrap_or(&J::Null));
            env.query(
                "iam",
                "PutRolePolicy",
                vec![
                    ("RoleName".into(), name.clone()),
                    ("PolicyName".into(), pname),
                    ("PolicyDocument".into(), doc),
                ],
            )
            .map_err(failed(keep.clone()))?;
        }
    }
    Ok(Made {
        physical_id: name,
        attrs: BTreeMap::from([("Arn".into(), arn), ("RoleId".into(), id)]),
    })
}

pub(super) fn create_profile(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    required(logical_id, props, &["Roles"])?;
    let name = prop_str(props, "InstanceProfileName")
        .unwrap_or_else(|| env.generated_name(logical_id, 128, false));
    let mut p = vec![("InstanceProfileName".to_string(), name.clone())];
    if let Some(path) = prop_str(props, "Path") {
        p.push(("Path".into(), path));
    }
    let tags = env.tags(logical_id, &J::Null);
    p.extend(tag_params("Tags.member", &tags));
    let out = env
        .query("iam", "CreateInstanceProfile", p)
        .map_err(failed(None))?;
    let arn =
        text(member(&out, "InstanceProfile").and_then(|p| member(p, "Arn"))).unwrap_or_default();
    if let Some(J::Array(roles)) = props.get("Roles") {
        for r in roles {
            env.query(
                "iam",
                "AddRoleToInstanceProfile",
                vec![
                    ("InstanceProfileName".into(), name.clone()),
                    ("RoleName".into(), as_str_value(r).unwrap_or_default()),
                ],
            )
            .map_err(failed(Some(name.clone())))?;
        }
    }
    Ok(Made {
        physical_id: name,
        attrs: BTreeMap::from([("Arn".into(), arn)]),
    })
}

pub(super) fn delete_role(env: &Env<'_>, name: &str, props: &J) -> Result<Deleted, String> {
    let role = || ("RoleName".to_string(), name.to_string());
    if let Some(J::Array(arns)) = props.get("ManagedPolicyArns") {
        for a in arns {
            let arn = ("PolicyArn".into(), as_str_value(a).unwrap_or_default());
            let out = env.query("iam", "DetachRolePolicy", vec![role(), arn]);
            tolerate(out, NO_SUCH_ENTITY)?;
        }
    }
    if let Some(J::Array(policies)) = props.get("Policies") {
        for p in policies {
            let policy = (
                "PolicyName".into(),
                prop_str(p, "PolicyName").unwrap_or_default(),
            );
            let out = env.query("iam", "DeleteRolePolicy", vec![role(), policy]);
            tolerate(out, NO_SUCH_ENTITY)?;
        }
    }
    deleted(env.query("iam", "DeleteRole", vec![role()]), NO_SUCH_ENTITY)
}

pub(super) fn delete_profile(env: &Env<'_>, physical_id: &str) -> Result<Deleted, String> {
    let name = ("InstanceProfileName".to_string(), physical_id.to_string());
    let out = match env.query("iam", "GetInstanceProfile", vec![name.clone()]) {
        Ok(v) => v,
        Err(e) if e.gone(NO_SUCH_ENTITY) => return Ok(Deleted::Done),
        Err(e) => return Err(e.reason()),
    };
    let roles: Vec<String> =
        items(member(&out, "InstanceProfile").and_then(|p| member(p, "Roles")))
            .iter()
            .filter_map(|r| text(member(r, "RoleName")))
            .collect();
    for r in roles {
        let role = vec![name.clone(), ("RoleName".into(), r)];
        let out = env.query("iam", "RemoveRoleFromInstanceProfile", role);
        tolerate(out, NO_SUCH_ENTITY)?;
    }
    deleted(
        env.query("iam", "DeleteInstanceProfile", vec![name]),
        NO_SUCH_ENTITY,
    )
}
