//! KMS's operations, one function each, grouped by what they act on; and what they share:
//! reading and changing the state, finding the key a request names, paging.

pub mod aliases;
pub mod crypto_ops;
pub mod import;
pub mod keys;
pub mod policy;
pub mod tags;

use super::errors::{alias_not_found, invalid_marker, not_found_key, out_of_range};
use super::state::{alias_arn, key_arn, Key, KeyManager, KmsState};
use crate::common::paging::by_offset;
use crate::common::policy::{evaluate, may_deny, Caller, Decision, Request};
use crate::protocol::{AwsError, Input};
use crate::services::{Call, TrailResource};

/// Run `f` on this account and region's KMS state.
pub(super) fn read<R>(
    cx: &mut Call<'_>,
    f: impl FnOnce(&mut Call<'_>, &KmsState) -> Result<R, AwsError>,
) -> Result<R, AwsError> {
    let sb = cx.sandbox;
    let (account, region) = (cx.account().to_string(), cx.region.clone());
    sb.read::<KmsState, _>(&account, &region, |st| f(cx, st))
}

/// Run `f` on this account and region's KMS state and persist it.
pub(super) fn write<R>(
    cx: &mut Call<'_>,
    f: impl FnOnce(&mut Call<'_>, &mut KmsState) -> Result<R, AwsError>,
) -> Result<R, AwsError> {
    let sb = cx.sandbox;
    let (account, region) = (cx.account().to_string(), cx.region.clone());
    sb.write::<KmsState, _>(&account, &region, |st| f(cx, st))
}

/// Whether an operation accepts an alias name or alias ARN as its key id (AWS refuses aliases
/// for the key-management operations).
fn accepts_alias(op: &str) -> bool {
    matches!(
        op,
        "DescribeKey"
            | "Encrypt"
            | "Decrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "ReEncrypt"
    )
}

/// Resolve a `KeyId` (id, key ARN, alias name, alias ARN) to a key id.
pub(super) fn resolve(
    cx: &Call<'_>,
    st: &KmsState,
    raw: &str,
    allow_alias: bool,
) -> Result<String, AwsError> {
    let invalid = || AwsError::new(400, "NotFoundException", format!("Invalid keyId '{raw}'"));
    let (resource, arn_form) = if let Some(rest) = raw.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() != 5 || parts[1] != "kms" {
            return Err(AwsError::new(
                400,
                "InvalidArnException",
                format!("Invalid arn {raw}"),
            ));
        }
        if parts[2] != cx.region || parts[3] != cx.account() {
            return Err(if parts[4].starts_with("alias/") {
                alias_not_found(raw)
            } else {
                not_found_key(raw)
            });
        }
        (parts[4].to_string(), true)
    } else {
        (raw.to_string(), false)
    };
    if resource.starts_with("alias/") {
        if !allow_alias {
            return Err(invalid());
        }
        let alias = st
            .aliases
            .get(&resource)
            .ok_or_else(|| alias_not_found(&alias_arn(&cx.region, cx.account(), &resource)))?;
        return Ok(alias.target.clone());
    }
    let id = resource
        .strip_prefix("key/")
        .filter(|_| arn_form)
        .unwrap_or(&resource);
    if st.keys.contains_key(id) {
        Ok(id.to_string())
    } else {
        Err(not_found_key(&key_arn(&cx.region, cx.account(), id)))
    }
}

/// Record `k` as the call's CloudTrail resource.
pub(super) fn touch(cx: &mut Call<'_>, k: &Key) {
    cx.resources.push(TrailResource {
        arn: k.arn.clone(),
        resource_type: "AWS::KMS::Key".into(),
    });
}

/// Find the key a request's `KeyId` names, recording it as the call's CloudTrail resource.
pub(super) fn key<'s>(
    cx: &mut Call<'_>,
    st: &'s KmsState,
    op: &str,
    input: &Input,
) -> Result<&'s Key, AwsError> {
    let raw = input.req_str("KeyId")?;
    let id = resolve(cx, st, &raw, accepts_alias(op))?;
    let key = st
        .keys
        .get(&id)
        .ok_or_else(|| not_found_key(&key_arn(&cx.region, cx.account(), &id)))?;
    touch(cx, key);
    permitted(cx, key, op)?;
    Ok(key)
}

/// How key policy `policy` answers the caller, named `arn`, asking for `action` on
/// `resource`.
pub(super) fn policy_decision(
    cx: &Call<'_>,
    policy: &str,
    action: &str,
    resource: Option<&str>,
    arn: &str,
) -> Decision {
    let request = Request {
        caller: Caller::Identity {
            account: cx.account(),
            arn,
        },
        action,
        resource,
        context: &[],
    };
    evaluate(policy, &request)
}

/// Refuse `op` on `k` when the key policy explicitly denies it to the caller. (Without IAM
/// policies to weigh, a policy that merely does not allow the caller is not enforced: the
/// sandbox's callers are the account's own, whom the default key policy lets IAM decide.)
pub(super) fn permitted(cx: &Call<'_>, k: &Key, op: &str) -> Result<(), AwsError> {
    // Most key policies deny nothing (the default allows the account): the caller's ARN and
    // the action are spelled out only for one that could.
    if !may_deny(&k.policy) {
        return Ok(());
    }
    let arn = cx.caller.arn();
    let action = ["kms:", op].concat();
    if policy_decision(cx, &k.policy, &action, Some(&k.arn), &arn) == Decision::ExplicitDeny {
        return Err(AwsError::new(
            400,
            "AccessDeniedException",
            format!(
                "User: {arn} is not authorized to perform: {action} on resource: {} with an explicit deny in a resource-based policy",
                k.arn
            ),
        ));
    }
    Ok(())
}

/// The customer managed key a request names, to change it (AWS managed keys refuse `op`).
pub(super) fn customer_key<'s>(
    cx: &mut Call<'_>,
    st: &'s mut KmsState,
    op: &str,
    input: &Input,
) -> Result<&'s mut Key, AwsError> {
    let id = key(cx, st, op, input)?.id.clone();
    let k = st
        .keys
        .get_mut(&id)
        .ok_or_else(|| AwsError::internal("key vanished"))?;
    if k.manager == KeyManager::Aws {
        return Err(AwsError::new(
            400,
            "AccessDeniedException",
            format!("{op} is not allowed on AWS managed key {}.", k.arn),
        ));
    }
    Ok(k)
}

/// Page a list with KMS's `Limit` (1–1000, default 100) and `Marker`.
pub(super) fn page<T: Clone>(
    input: &Input,
    items: &[T],
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = input.int("Limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(out_of_range("Limit", limit, 1, 1000));
    }
    let marker = input.str("Marker")?;
    by_offset(items, marker.as_deref(), limit as usize, invalid_marker)
}
