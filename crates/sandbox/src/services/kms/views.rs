//! KMS's wire shapes: keys, aliases and tags as KMS answers them.

use time::OffsetDateTime;

use super::state::{Alias, Key, KeyOrigin, KeyState};
use crate::protocol::Value;

/// `KeyMetadata`.
pub fn metadata(k: &Key, now: OffsetDateTime) -> Value {
    let state = k.state(now);
    let mut v = Value::obj()
        .with("AWSAccountId", k.account.clone())
        .with("KeyId", k.id.clone())
        .with("Arn", k.arn.clone())
        .with("CreationDate", k.created)
        .with("Enabled", state == KeyState::Enabled)
        .with("Description", k.description.clone())
        .with("KeyUsage", "ENCRYPT_DECRYPT")
        .with("KeyState", state.as_str())
        .with("DeletionDate", k.deletion_date)
        .with("PendingDeletionWindowInDays", k.pending_window_days);
    if k.origin == KeyOrigin::External && k.material(now).is_some() {
        v = v
            .with("ValidTo", k.valid_to)
            .with("ExpirationModel", k.expiration_model.clone());
    }
    v.with("Origin", k.origin.as_str())
        .with("KeyManager", k.manager.as_str())
        .with("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT")
        .with("KeySpec", "SYMMETRIC_DEFAULT")
        .with(
            "EncryptionAlgorithms",
            Value::List(vec!["SYMMETRIC_DEFAULT".into()]),
        )
        .with("MultiRegion", false)
        .with("CurrentKeyMaterialId", current_material_id(k))
}

/// The id of the key material in use: for imported material its fingerprint (the same
/// material re-imported keeps its id); for material KMS made, an id per material version.
/// Derived from nothing secret.
fn current_material_id(k: &Key) -> Option<String> {
    use sha2::Digest;
    match k.origin {
        KeyOrigin::External => k.imported_fingerprint.clone(),
        _ if k.materials.is_empty() => None,
        _ => {
            let version = format!("{}:{}", k.id, k.materials.len());
            Some(hex::encode(sha2::Sha256::digest(version.as_bytes())))
        }
    }
}

/// An entry of `ListKeys`.
pub fn key_entry(k: &Key) -> Value {
    Value::obj()
        .with("KeyId", k.id.clone())
        .with("KeyArn", k.arn.clone())
}

/// An entry of `ListAliases`.
pub fn alias_entry(a: &Alias) -> Value {
    Value::obj()
        .with("AliasName", a.name.clone())
        .with("AliasArn", a.arn.clone())
        .with("TargetKeyId", a.target.clone())
        .with("CreationDate", a.created)
        .with("LastUpdatedDate", a.updated)
}

/// An entry of `ListAliases` for an alias AWS reserves whose key does not exist yet.
pub fn predefined_alias(name: &str, arn: &str) -> Value {
    Value::obj().with("AliasName", name).with("AliasArn", arn)
}

/// A list answer's `NextMarker` and `Truncated`.
pub fn with_page(v: Value, next: Option<String>) -> Value {
    let truncated = next.is_some();
    v.with("NextMarker", next).with("Truncated", truncated)
}
