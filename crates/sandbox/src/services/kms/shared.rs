//! What other services may know of KMS keys, and the one thing they may do to them: the only
//! way another service reaches KMS's state. EC2 and S3 resolve the keys they encrypt with (and
//! EC2 has its AWS-managed key made on first use), CloudWatch reads imported key material for
//! `SecondsUntilKeyMaterialExpiration`, and the seeds find the workshop's keys.

use serde_json::Value as J;
use time::OffsetDateTime;

use super::state::{Alias, Key, KeyManager, KeyOrigin, KeyState, KmsState};
use crate::protocol::AwsError;
use crate::Sandbox;

/// A key's id and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRef {
    pub id: String,
    pub arn: String,
}

impl KeyRef {
    fn of(k: &Key) -> Self {
        KeyRef {
            id: k.id.clone(),
            arn: k.arn.clone(),
        }
    }
}

/// The key a caller names in any of the forms other services accept (key id, key ARN, alias
/// name, alias ARN, all of `account` and `region`); with `usable_at`, only a key that is
/// enabled then. `None`: no such key (or not usable).
pub(crate) fn resolve(
    sb: &Sandbox,
    account: &str,
    region: &str,
    key: &str,
    usable_at: Option<OffsetDateTime>,
) -> Option<KeyRef> {
    let key = key.trim();
    let local = key
        .strip_prefix(&format!("arn:aws:kms:{region}:{account}:"))
        .unwrap_or(key);
    sb.read::<KmsState, _>(account, region, |st| {
        let id = if local.starts_with("alias/") {
            st.aliases.get(local).map(|a| a.target.clone())?
        } else {
            local.strip_prefix("key/").unwrap_or(local).to_string()
        };
        st.keys
            .get(&id)
            .filter(|k| usable_at.is_none_or(|now| k.state(now) == KeyState::Enabled))
            .map(KeyRef::of)
    })
}

/// The customer key that is pending deletion (the workshop's first key, K1), if any.
pub(crate) fn customer_key_pending_deletion(
    sb: &Sandbox,
    account: &str,
    region: &str,
) -> Option<KeyRef> {
    sb.read::<KmsState, _>(account, region, |st| {
        st.keys
            .values()
            .find(|k| k.deletion_date.is_some() && k.manager == KeyManager::Customer)
            .map(KeyRef::of)
    })
}

/// The AWS-managed key behind `alias` (`alias/aws/ebs`, …), created with `description` and
/// `policy` on first use, as AWS does.
pub(crate) fn aws_managed_key(
    sb: &Sandbox,
    account: &str,
    region: &str,
    alias: &str,
    (description, policy): (&str, J),
    now: OffsetDateTime,
) -> Result<String, AwsError> {
    if let Some(k) = resolve(sb, account, region, alias, Some(now)) {
        return Ok(k.arn);
    }
    let id = crate::util::uuid();
    let arn = format!("arn:aws:kms:{region}:{account}:key/{id}");
    let created = crate::util::iso8601(now);
    let key: Key = serde_json::from_value(serde_json::json!({
        "id": id, "arn": arn, "account": account, "created": created,
        "description": description, "origin": "AWS_KMS", "manager": "AWS",
        "materials": [crate::util::b64(&super::crypto::random_bytes(32))],
        "policy": policy.to_string(),
    }))
    .map_err(|e| AwsError::internal(format!("cannot create the key for {alias}: {e}")))?;
    let alias: Alias = serde_json::from_value(serde_json::json!({
        "name": alias, "arn": format!("arn:aws:kms:{region}:{account}:{alias}"),
        "target": id, "created": created, "updated": created,
    }))
    .map_err(|e| AwsError::internal(format!("cannot create the alias {alias}: {e}")))?;
    sb.write::<KmsState, _>(account, region, |st| {
        st.keys.insert(key.id.clone(), key);
        st.aliases.insert(alias.name.clone(), alias);
        Ok(())
    })?;
    Ok(arn)
}

/// What CloudWatch needs to know about a key with imported (EXTERNAL) material.
#[derive(Debug, Clone)]
pub(crate) struct ImportedKey {
    pub id: String,
    pub created: OffsetDateTime,
    pub has_material: bool,
    pub valid_to: Option<OffsetDateTime>,
    pub imported_at: Option<OffsetDateTime>,
    pub deleted_at: Option<OffsetDateTime>,
}

/// Every key of `account` and `region` whose material is imported.
pub(crate) fn imported_keys(sb: &Sandbox, account: &str, region: &str) -> Vec<ImportedKey> {
    sb.read::<KmsState, _>(account, region, |st| {
        st.keys
            .values()
            .filter(|k| k.origin == KeyOrigin::External)
            .map(|k| ImportedKey {
                id: k.id.clone(),
                created: k.created,
                has_material: !k.materials.is_empty(),
                valid_to: k.valid_to,
                imported_at: k.material_imported_at,
                deleted_at: k.material_deleted_at,
            })
            .collect()
    })
}
