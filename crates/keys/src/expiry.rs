//! How long the imported key material of EXTERNAL keys has left (the workshop's K3), which is
//! what the CloudWatch metric `SecondsUntilKeyMaterialExpiration` and its alarm watch.

use aws_sdk_kms::Client;
use time::{Duration, OffsetDateTime};

use crate::inventory::{describe_key, key_inventory, KeySummary};
use crate::KeysError;

/// Where an EXTERNAL key's material stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryStatus {
    /// Material imported with `KEY_MATERIAL_EXPIRES`; `ValidTo` is still ahead.
    Expiring,
    /// `ValidTo` has passed (KMS deletes the material; the key goes to `PendingImport`).
    Expired,
    /// Material imported with `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    DoesNotExpire,
    /// No material (state `PendingImport`, or the material was deleted).
    NoMaterial,
    /// The key is not EXTERNAL: its material is made by KMS and never expires.
    NotImported,
}

/// The expiry of one key's imported material.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialExpiry {
    pub key_id: String,
    pub arn: String,
    pub aliases: Vec<String>,
    pub origin: String,
    pub state: String,
    pub expiration_model: Option<String>,
    pub valid_to: Option<OffsetDateTime>,
    /// `valid_to - now`, when there is a `valid_to` (negative once passed).
    pub time_left: Option<Duration>,
    pub status: ExpiryStatus,
}

impl MaterialExpiry {
    /// Judge `key` at `now` (pass the clock of the service the key lives in: the sandbox's
    /// clock can be advanced).
    pub fn of(key: &KeySummary, now: OffsetDateTime) -> Self {
        let time_left = key.valid_to.map(|v| v - now);
        let status = if key.origin != "EXTERNAL" {
            ExpiryStatus::NotImported
        } else if key.state == "PendingImport" {
            ExpiryStatus::NoMaterial
        } else {
            match (key.expiration_model.as_deref(), time_left) {
                (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), _) => ExpiryStatus::DoesNotExpire,
                (_, Some(left)) if left <= Duration::ZERO => ExpiryStatus::Expired,
                (_, Some(_)) => ExpiryStatus::Expiring,
                (_, None) => ExpiryStatus::NoMaterial,
            }
        };
        MaterialExpiry {
            key_id: key.key_id.clone(),
            arn: key.arn.clone(),
            aliases: key.aliases.clone(),
            origin: key.origin.clone(),
            state: key.state.clone(),
            expiration_model: key.expiration_model.clone(),
            valid_to: key.valid_to,
            time_left,
            status,
        }
    }

    /// Whether fewer than `within` remain (the KMS guide alarms at 10 days).
    pub fn expires_within(&self, within: Duration) -> bool {
        self.status == ExpiryStatus::Expiring && self.time_left.is_some_and(|l| l <= within)
    }
}

/// The material expiry of one key (id, ARN or alias) at `now`.
pub async fn material_expiry(
    client: &Client,
    key: &str,
    now: OffsetDateTime,
) -> Result<MaterialExpiry, KeysError> {
    let summary = describe_key(client, key).await?;
    Ok(MaterialExpiry::of(&summary, now))
}

/// The material expiry of every customer key with origin EXTERNAL, soonest first.
pub async fn expiry_report(
    client: &Client,
    now: OffsetDateTime,
) -> Result<Vec<MaterialExpiry>, KeysError> {
    let mut out: Vec<MaterialExpiry> = key_inventory(client)
        .await?
        .iter()
        .filter(|k| k.origin == "EXTERNAL")
        .map(|k| MaterialExpiry::of(k, now))
        .collect();
    out.sort_by_key(|e| (e.valid_to.is_none(), e.valid_to));
    Ok(out)
}
