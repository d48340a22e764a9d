//! KMS state of one account and region as it is persisted: keys, aliases and outstanding
//! import parameters. A key's origin and manager are enums written as KMS's own strings; its
//! state is derived from the facts it summarises and never stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::crypto;
use crate::util::{b64, unb64};

/// KMS state of one account and region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KmsState {
    pub keys: BTreeMap<String, Key>,
    /// By alias name (`alias/…`).
    pub aliases: BTreeMap<String, Alias>,
    /// Outstanding import parameters, by import token (base64).
    pub imports: BTreeMap<String, ImportParams>,
}

/// Where a key's material comes from (the sandbox has no custom key stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOrigin {
    /// KMS generates the material.
    #[serde(rename = "AWS_KMS")]
    AwsKms,
    /// The customer imports it.
    #[serde(rename = "EXTERNAL")]
    External,
}

impl KeyOrigin {
    /// KMS's spelling, on the wire and in state.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::AwsKms => "AWS_KMS",
            KeyOrigin::External => "EXTERNAL",
        }
    }
}

/// Who manages a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyManager {
    #[serde(rename = "CUSTOMER")]
    Customer,
    /// AWS managed keys (`alias/aws/…`): usable, not manageable.
    #[serde(rename = "AWS")]
    Aws,
}

impl KeyManager {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyManager::Customer => "CUSTOMER",
            KeyManager::Aws => "AWS",
        }
    }
}

/// A key's state as `DescribeKey` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingImport => "PendingImport",
        }
    }
}

// Other services compare with KMS's strings (`k.origin == "EXTERNAL"`); these keep that working.
impl PartialEq<&str> for KeyOrigin {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<&str> for KeyManager {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<&str> for KeyState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Key {
    pub id: String,
    pub arn: String,
    pub account: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(default)]
    pub description: String,
    pub origin: KeyOrigin,
    pub manager: KeyManager,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deletion_date: Option<OffsetDateTime>,
    pub pending_window_days: Option<i64>,
    /// Key material versions, base64; the last one encrypts. Empty for an EXTERNAL key
    /// without material.
    #[serde(default)]
    pub materials: Vec<String>,
    /// Fingerprint of the material ever imported: re-imports must match it.
    pub imported_fingerprint: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub valid_to: Option<OffsetDateTime>,
    pub expiration_model: Option<String>,
    /// When the current imported material was imported (CloudWatch's `SecondsUntilKeyMaterialExpiration` starts then).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub material_imported_at: Option<OffsetDateTime>,
    /// When imported material was last deleted with DeleteImportedKeyMaterial (the metric stops then).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub material_deleted_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub rotation_period_days: Option<i64>,
    #[serde(default)]
    pub policy: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub arn: String,
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportParams {
    pub key_id: String,
    pub algorithm: String,
    /// PKCS#8 DER of the wrapping key's private half, base64.
    pub private_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub valid_to: OffsetDateTime,
}

/// A key's ARN.
pub fn key_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}

/// An alias's ARN (`name` is `alias/…`).
pub fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
}

/// The policy a key gets when its creator gives none.
pub fn default_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

impl Key {
    /// A new enabled key with a fresh id: with generated material when KMS is its origin,
    /// without any (`PendingImport`) when it is external.
    pub fn new(
        region: &str,
        account: &str,
        origin: KeyOrigin,
        manager: KeyManager,
        description: String,
        created: OffsetDateTime,
        policy: String,
    ) -> Key {
        let id = crate::util::uuid();
        let materials = match origin {
            KeyOrigin::AwsKms => vec![b64(&crypto::random_bytes(32))],
            KeyOrigin::External => Vec::new(),
        };
        Key {
            arn: key_arn(region, account, &id),
            id,
            account: account.to_string(),
            created,
            description,
            origin,
            manager,
            disabled: false,
            deletion_date: None,
            pending_window_days: None,
            materials,
            imported_fingerprint: None,
            valid_to: None,
            expiration_model: None,
            material_imported_at: None,
            material_deleted_at: None,
            tags: BTreeMap::new(),
            rotation_period_days: None,
            policy,
        }
    }

    /// The key state, derived so it can never disagree with the facts it summarises.
    pub fn state(&self, now: OffsetDateTime) -> KeyState {
        if self.deletion_date.is_some() {
            KeyState::PendingDeletion
        } else if self.origin == KeyOrigin::External && self.material(now).is_none() {
            KeyState::PendingImport
        } else if self.disabled {
            KeyState::Disabled
        } else {
            KeyState::Enabled
        }
    }

    /// The current material, unless imported material has expired.
    pub fn material(&self, now: OffsetDateTime) -> Option<Vec<u8>> {
        if self.valid_to.is_some_and(|v| v <= now) {
            return None;
        }
        self.materials.last().and_then(|m| unb64(m))
    }

    /// Whether imported material has reached its `ValidTo` and is still held.
    pub(super) fn material_expired(&self, now: OffsetDateTime) -> bool {
        self.valid_to.is_some_and(|v| v <= now) && !self.materials.is_empty()
    }

    /// Whether the waiting period of a scheduled deletion is over.
    pub(super) fn deletion_due(&self, now: OffsetDateTime) -> bool {
        self.deletion_date.is_some_and(|d| d <= now)
    }
}
