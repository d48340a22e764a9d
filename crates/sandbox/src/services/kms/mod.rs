//! KMS (awsJson1.1, `TrentService.*`): customer keys with AWS-generated or imported material,
//! aliases, envelope encryption with real AES-256-GCM bound to the encryption context,
//! RSA-OAEP key import with expiring material, deletion windows, tags, rotation and policies.

pub mod crypto;

use std::collections::BTreeMap;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};
use time::{Duration, OffsetDateTime};

use super::{camel_case_keys, Call, Service, TrailResource};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::util::{b64, unb64};
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct Kms;

/// KMS state of one account and region.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KmsState {
    #[serde(default)]
    pub keys: BTreeMap<String, Key>,
    /// By alias name (`alias/…`).
    #[serde(default)]
    pub aliases: BTreeMap<String, Alias>,
    /// Outstanding import parameters, by import token (base64).
    #[serde(default)]
    pub imports: BTreeMap<String, ImportParams>,
}

impl RegionalState for KmsState {
    const NAME: &'static str = "kms";
    fn of(region: &Region) -> &Self {
        &region.kms
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.kms
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
    /// `AWS_KMS` or `EXTERNAL`.
    pub origin: String,
    /// `CUSTOMER` or `AWS`.
    pub manager: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deletion_date: Option<OffsetDateTime>,
    #[serde(default)]
    pub pending_window_days: Option<i64>,
    /// Key material versions, base64; the last one encrypts. Empty for an EXTERNAL key
    /// without material.
    #[serde(default)]
    pub materials: Vec<String>,
    /// Fingerprint of the material ever imported: re-imports must match it.
    #[serde(default)]
    pub imported_fingerprint: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub valid_to: Option<OffsetDateTime>,
    #[serde(default)]
    pub expiration_model: Option<String>,
    /// When the current imported material was imported (CloudWatch's `SecondsUntilKeyMaterialExpiration` starts then).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub material_imported_at: Option<OffsetDateTime>,
    /// When imported material was last deleted with DeleteImportedKeyMaterial (the metric stops then).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub material_deleted_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
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

impl Key {
    /// The key state, derived so it can never disagree with the facts it summarises.
    pub fn state(&self, now: OffsetDateTime) -> &'static str {
        if self.deletion_date.is_some() {
            "PendingDeletion"
        } else if self.origin == "EXTERNAL" && self.material(now).is_none() {
            "PendingImport"
        } else if self.disabled {
            "Disabled"
        } else {
            "Enabled"
        }
    }

    /// The current material, unless imported material has expired.
    pub fn material(&self, now: OffsetDateTime) -> Option<Vec<u8>> {
        if self.valid_to.is_some_and(|v| v <= now) {
            return None;
        }
        self.materials.last().and_then(|m| unb64(m))
    }

    fn metadata(&self, now: OffsetDateTime) -> Value {
        let state = self.state(now);
        let mut v = Value::obj()
            .with("AWSAccountId", self.account.clone())
            .with("KeyId", self.id.clone())
            .with("Arn", self.arn.clone())
            .with("CreationDate", self.created)
            .with("Enabled", state == "Enabled")
            .with("Description", self.description.clone())
            .with("KeyUsage", "ENCRYPT_DECRYPT")
            .with("KeyState", state)
            .with("DeletionDate", self.deletion_date)
            .with("PendingDeletionWindowInDays", self.pending_window_days);
        if self.origin == "EXTERNAL" && self.material(now).is_some() {
            v = v
                .with("ValidTo", self.valid_to)
                .with("ExpirationModel", self.expiration_model.clone());
        }
        v.with("Origin", self.origin.clone())
            .with("KeyManager", self.manager.clone())
            .with("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT")
            .with("KeySpec", "SYMMETRIC_DEFAULT")
            .with(
                "EncryptionAlgorithms",
                Value::List(vec!["SYMMETRIC_DEFAULT".into()]),
            )
            .with("MultiRegion", false)
            .with("CurrentKeyMaterialId", self.imported_fingerprint.clone())
    }

    fn not_usable(&self, now: OffsetDateTime) -> Option<AwsError> {
        match self.state(now) {
            "Enabled" => None,
            "Disabled" => Some(AwsError::new(
                400,
                "DisabledException",
                format!("{} is disabled.", self.arn),
            )),
            "PendingDeletion" => Some(invalid_state(&self.arn, "pending deletion")),
            _ => Some(invalid_state(&self.arn, "pending import")),
        }
    }
}

fn invalid_state(arn: &str, what: &str) -> AwsError {
    AwsError::new(400, "KMSInvalidStateException", format!("{arn} is {what}."))
}

fn not_found_key(arn: &str) -> AwsError {
    AwsError::new(
        400,
        "NotFoundException",
        format!("Key '{arn}' does not exist"),
    )
}

fn unsupported(message: String) -> AwsError {
    AwsError::new(400, "UnsupportedOperationException", message)
}

fn key_arn(cx: &Call<'_>, id: &str) -> String {
    format!("arn:aws:kms:{}:{}:key/{id}", cx.region, cx.account())
}

fn alias_arn(cx: &Call<'_>, name: &str) -> String {
    format!("arn:aws:kms:{}:{}:{name}", cx.region, cx.account())
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
fn resolve(cx: &Call<'_>, st: &KmsState, raw: &str, allow_alias: bool) -> Result<String, AwsError> {
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
                AwsError::new(
                    400,
                    "NotFoundException",
                    format!("Alias {raw} is not found."),
                )
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
        let alias = st.aliases.get(&resource).ok_or_else(|| {
            AwsError::new(
                400,
                "NotFoundException",
                format!("Alias {} is not found.", alias_arn(cx, &resource)),
            )
        })?;
        return Ok(alias.target.clone());
    }
    let id = resource
        .strip_prefix("key/")
        .filter(|_| arn_form)
        .unwrap_or(&resource);
    if st.keys.contains_key(id) {
        Ok(id.to_string())
    } else {
        Err(not_found_key(&key_arn(cx, id)))
    }
}

/// Find the key a request names, recording it as the call's CloudTrail resource.
fn key<'s>(
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
        .ok_or_else(|| not_found_key(&key_arn(cx, &id)))?;
    cx.resources.push(TrailResource {
        arn: key.arn.clone(),
        resource_type: "AWS::KMS::Key".into(),
    });
    Ok(key)
}

fn key_mut<'s>(
    cx: &mut Call<'_>,
    st: &'s mut KmsState,
    op: &str,
    input: &Input,
) -> Result<&'s mut Key, AwsError> {
    let id = key(cx, st, op, input)?.id.clone();
    st.keys
        .get_mut(&id)
        .ok_or_else(|| AwsError::internal("key vanished"))
}

fn context(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    input.str_map("EncryptionContext")
}

fn check_algorithm(input: &Input) -> Result<(), AwsError> {
    match input.str("EncryptionAlgorithm")?.as_deref() {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(other) => Err(AwsError::bad_value(
            "EncryptionAlgorithm",
            other,
            "Member must satisfy enum value set: [SYMMETRIC_DEFAULT] for a symmetric key",
        )),
    }
}

fn default_policy(account: &str) -> String {
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

fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::List(
        tags.iter()
            .map(|(k, v)| {
                Value::obj()
                    .with("TagKey", k.clone())
                    .with("TagValue", v.clone())
            })
            .collect(),
    )
}

fn parse_tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    for t in input.list("Tags")? {
        let k = t.req_str("TagKey")?;
        let v = t.str("TagValue")?.unwrap_or_default();
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(AwsError::new(
                400,
                "TagException",
                format!("Tag key must be 1-128 and value 0-256 characters: '{k}'"),
            ));
        }
        if k.starts_with("aws:") {
            return Err(AwsError::new(
                400,
                "TagException",
                "Tags beginning with aws: are reserved",
            ));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Page a list with KMS's `Limit` (1–1000, default 100) and `Marker`.
fn page<T: Clone>(input: &Input, items: &[T]) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = input.int("Limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AwsError::bad_value(
            "Limit",
            &limit.to_string(),
            "Member must have value between 1 and 1000",
        ));
    }
    let start = match input.str("Marker")? {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| AwsError::new(400, "InvalidMarkerException", "Invalid marker"))?,
    };
    let end = (start + limit as usize).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

fn with_page(v: Value, next: Option<String>) -> Value {
    let truncated = next.is_some();
    v.with("NextMarker", next).with("Truncated", truncated)
}

impl Service for Kms {
    fn signing_name(&self) -> &'static str {
        "kms"
    }
    fn event_source(&self) -> &'static str {
        "kms.amazonaws.com"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsJson11
    }
    fn read_only(&self, op: &str) -> bool {
        [
            "Describe",
            "Get",
            "List",
            "Encrypt",
            "Decrypt",
            "GenerateDataKey",
            "GenerateRandom",
            "ReEncrypt",
        ]
        .iter()
        .any(|p| op.starts_with(p))
    }
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        let raw = input.to_json();
        let mut out = camel_case_keys(
            &raw,
            &[
                "Plaintext",
                "CiphertextBlob",
                "EncryptedKeyMaterial",
                "ImportToken",
            ],
        );
        // An encryption context is a map of the caller's own keys: CloudTrail logs it verbatim.
        for (member, logged) in [
            ("EncryptionContext", "encryptionContext"),
            ("SourceEncryptionContext", "sourceEncryptionContext"),
            (
                "DestinationEncryptionContext",
                "destinationEncryptionContext",
            ),
        ] {
            if let (Some(v), J::Object(m)) = (raw.get(member), &mut out) {
                m.insert(logged.to_string(), v.clone());
            }
        }
        out
    }

    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let sb = cx.sandbox;
        let account = cx.account().to_string();
        let region = cx.region.clone();
        match op {
            "GetParametersForImport" => get_parameters_for_import(cx, input),
            "CreateKey"
            | "CreateAlias"
            | "UpdateAlias"
            | "DeleteAlias"
            | "EnableKey"
            | "DisableKey"
            | "ScheduleKeyDeletion"
            | "CancelKeyDeletion"
            | "ImportKeyMaterial"
            | "DeleteImportedKeyMaterial"
            | "TagResource"
            | "UntagResource"
            | "EnableKeyRotation"
            | "DisableKeyRotation"
            | "PutKeyPolicy" => {
                sb.write::<KmsState, _>(&account, &region, |st| write_op(cx, st, op, input))
            }
            "DescribeKey"
            | "ListKeys"
            | "ListAliases"
            | "Encrypt"
            | "Decrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateRandom"
            | "ListResourceTags"
            | "GetKeyRotationStatus"
            | "GetKeyPolicy"
            | "ListKeyPolicies" => {
                sb.read::<KmsState, _>(&account, &region, |st| read_op(cx, st, op, input))
            }
            _ => Err(cx.unknown(op)),
        }
    }
}

fn read_op(cx: &mut Call<'_>, st: &KmsState, op: &str, input: &Input) -> Result<Value, AwsError> {
    let now = cx.now;
    match op {
        "DescribeKey" => {
            let k = key(cx, st, op, input)?;
            Ok(Value::obj().with("KeyMetadata", k.metadata(now)))
        }
        "ListKeys" => {
            let mut keys: Vec<&Key> = st.keys.values().collect();
            keys.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
            let (items, next) = page(input, &keys)?;
            let list = items
                .iter()
                .map(|k| {
                    Value::obj()
                        .with("KeyId", k.id.clone())
                        .with("KeyArn", k.arn.clone())
                })
                .collect();
            Ok(with_page(
                Value::obj().with("Keys", Value::List(list)),
                next,
            ))
        }
        "ListAliases" => {
            let filter = match input.str("KeyId")? {
                Some(raw) => Some(resolve(cx, st, &raw, false)?),
                None => None,
            };
            let aliases: Vec<&Alias> = st
                .aliases
                .values()
                .filter(|a| filter.as_ref().is_none_or(|f| &a.target == f))
                .collect();
            let (items, next) = page(input, &aliases)?;
            let list = items
                .iter()
                .map(|a| {
                    Value::obj()
                        .with("AliasName", a.name.clone())
                        .with("AliasArn", a.arn.clone())
                        .with("TargetKeyId", a.target.clone())
                        .with("CreationDate", a.created)
                        .with("LastUpdatedDate", a.updated)
                })
                .collect();
            Ok(with_page(
                Value::obj().with("Aliases", Value::List(list)),
                next,
            ))
        }
        "Encrypt" => {
            check_algorithm(input)?;
            let k = key(cx, st, op, input)?;
            let plaintext = input
                .blob("Plaintext")?
                .ok_or_else(|| AwsError::missing("Plaintext"))?;
            if plaintext.is_empty() || plaintext.len() > 4096 {
                return Err(AwsError::validation(
                    "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096",
                ));
            }
            let blob = seal_with(k, now, &plaintext, &context(input)?)?;
            Ok(Value::obj()
                .with("CiphertextBlob", Value::Blob(blob))
                .with("KeyId", k.arn.clone())
                .with("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            let k = key(cx, st, op, input)?;
            let n = data_key_len(input)?;
            let plaintext = crypto::random_bytes(n);
            let blob = seal_with(k, now, &plaintext, &context(input)?)?;
            let mut v = Value::obj().with("CiphertextBlob", Value::Blob(blob));
            if op == "GenerateDataKey" {
                v = v.with("Plaintext", Value::Blob(plaintext.to_vec()));
            }
            Ok(v.with("KeyId", k.arn.clone()))
        }
        "Decrypt" => {
            check_algorithm(input)?;
            let blob = input
                .blob("CiphertextBlob")?
                .ok_or_else(|| AwsError::missing("CiphertextBlob"))?;
            let bad = || AwsError::new(400, "InvalidCiphertextException", "");
            let (id, version) = crypto::blob_key(&blob).ok_or_else(bad)?;
            if let Some(raw) = input.str("KeyId")? {
                let named = resolve(cx, st, &raw, true)?;
                if named != id {
                    return Err(AwsError::new(
                        400,
                        "IncorrectKeyException",
                        "The key ID in the request does not identify a CMK that can perform this operation.",
                    ));
                }
            }
            let k = st.keys.get(&id).ok_or_else(bad)?;
            cx.resources.push(TrailResource {
                arn: k.arn.clone(),
                resource_type: "AWS::KMS::Key".into(),
            });
            if let Some(e) = k.not_usable(now) {
                return Err(e);
            }
            let material = if k.origin == "EXTERNAL" {
                k.material(now)
            } else {
                k.materials.get(usize::from(version)).and_then(|m| unb64(m))
            }
            .ok_or_else(bad)?;
            let plaintext =
                crypto::open(&id, &material, &blob, &context(input)?).ok_or_else(bad)?;
            Ok(Value::obj()
                .with("KeyId", k.arn.clone())
                .with("Plaintext", Value::Blob(plaintext.to_vec()))
                .with("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
        }
        "GenerateRandom" => {
            let n = input.int("NumberOfBytes")?.unwrap_or(32);
            if !(1..=1024).contains(&n) {
                return Err(AwsError::bad_value(
                    "NumberOfBytes",
                    &n.to_string(),
                    "Member must have value between 1 and 1024",
                ));
            }
            Ok(Value::obj().with(
                "Plaintext",
                Value::Blob(crypto::random_bytes(n as usize).to_vec()),
            ))
        }
        "ListResourceTags" => {
            let k = key(cx, st, op, input)?;
            Ok(Value::obj()
                .with("Tags", tags_value(&k.tags))
                .with("Truncated", false))
        }
        "GetKeyRotationStatus" => {
            let k = key(cx, st, op, input)?;
            let enabled = k.rotation_period_days.is_some();
            let mut v = Value::obj()
                .with("KeyRotationEnabled", enabled)
                .with("KeyId", k.arn.clone());
            if let Some(days) = k.rotation_period_days {
                v = v
                    .with("RotationPeriodInDays", days)
                    .with("NextRotationDate", now + Duration::days(days));
            }
            Ok(v)
        }
        "GetKeyPolicy" => {
            let k = key(cx, st, op, input)?;
            let name = input.str("PolicyName")?.unwrap_or_else(|| "default".into());
            if name != "default" {
                return Err(AwsError::new(
                    400,
                    "NotFoundException",
                    format!("Policy {name} does not exist on key {}", k.arn),
                ));
            }
            Ok(Value::obj()
                .with("Policy", k.policy.clone())
                .with("PolicyName", "default"))
        }
        "ListKeyPolicies" => {
            key(cx, st, op, input)?;
            Ok(Value::obj()
                .with("PolicyNames", Value::List(vec!["default".into()]))
                .with("Truncated", false))
        }
        _ => Err(cx.unknown(op)),
    }
}

fn data_key_len(input: &Input) -> Result<usize, AwsError> {
    match (input.str("KeySpec")?, input.int("NumberOfBytes")?) {
        (Some(_), Some(_)) => Err(AwsError::validation(
            "Please specify either number of bytes or key spec, not both.",
        )),
        (None, None) => Err(AwsError::validation(
            "Please specify either number of bytes or key spec.",
        )),
        (Some(spec), None) => match spec.as_str() {
            "AES_256" => Ok(32),
            "AES_128" => Ok(16),
            other => Err(AwsError::bad_value(
                "KeySpec",
                other,
                "Member must satisfy enum value set: [AES_256, AES_128]",
            )),
        },
        (None, Some(n)) if (1..=1024).contains(&n) => Ok(n as usize),
        (None, Some(n)) => Err(AwsError::bad_value(
            "NumberOfBytes",
            &n.to_string(),
            "Member must have value between 1 and 1024",
        )),
    }
}

fn seal_with(
    k: &Key,
    now: OffsetDateTime,
    plaintext: &[u8],
    ctx: &[(String, String)],
) -> Result<Vec<u8>, AwsError> {
    if let Some(e) = k.not_usable(now) {
        return Err(e);
    }
    let material = k
        .material(now)
        .ok_or_else(|| invalid_state(&k.arn, "pending import"))?;
    let version = if k.origin == "EXTERNAL" {
        0
    } else {
        k.materials.len().saturating_sub(1)
    };
    let version =
        u8::try_from(version).map_err(|_| AwsError::internal("too many key material versions"))?;
    crypto::seal(&k.id, version, &material, plaintext, ctx)
        .ok_or_else(|| AwsError::internal("encryption failed"))
}

fn check_alias_name(name: &str) -> Result<(), AwsError> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
    if !name.starts_with("alias/") || name.len() <= 6 || name.len() > 256 || !valid_chars {
        return Err(AwsError::new(
            400,
            "InvalidAliasNameException",
            format!("Alias name '{name}' must begin with 'alias/' followed by 1-250 letters, digits, '/', '_' or '-'."),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(AwsError::new(
            400,
            "InvalidAliasNameException",
            "Alias names beginning with 'alias/aws/' are reserved for AWS managed keys.",
        ));
    }
    Ok(())
}

fn customer_key<'s>(
    cx: &mut Call<'_>,
    st: &'s mut KmsState,
    op: &str,
    input: &Input,
) -> Result<&'s mut Key, AwsError> {
    let k = key_mut(cx, st, op, input)?;
    if k.manager == "AWS" {
        return Err(AwsError::new(
            400,
            "AccessDeniedException",
            format!("{op} is not allowed on AWS managed key {}.", k.arn),
        ));
    }
    Ok(k)
}

fn write_op(
    cx: &mut Call<'_>,
    st: &mut KmsState,
    op: &str,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    match op {
        "CreateKey" => {
            let origin = input.str("Origin")?.unwrap_or_else(|| "AWS_KMS".into());
            match origin.as_str() {
                "AWS_KMS" | "EXTERNAL" => {}
                "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE" => {
                    return Err(unsupported(format!("Origin {origin} needs a custom key store, which the sandbox does not have.")))
                }
                other => {
                    return Err(AwsError::bad_value("Origin", other, "Member must satisfy enum value set: [AWS_CLOUDHSM, EXTERNAL, EXTERNAL_KEY_STORE, AWS_KMS]"))
                }
            }
            for member in ["KeySpec", "CustomerMasterKeySpec"] {
                if let Some(spec) = input.str(member)? {
                    if spec != "SYMMETRIC_DEFAULT" {
                        return Err(unsupported(format!(
                            "{member} {spec}: the sandbox supports SYMMETRIC_DEFAULT keys only."
                        )));
                    }
                }
            }
            if let Some(usage) = input.str("KeyUsage")? {
                if usage != "ENCRYPT_DECRYPT" {
                    return Err(AwsError::bad_value("KeyUsage", &usage, "Member must satisfy enum value set: [ENCRYPT_DECRYPT] for SYMMETRIC_DEFAULT keys"));
                }
            }
            if input.bool("MultiRegion")? == Some(true) {
                return Err(unsupported(
                    "Multi-Region keys are not supported by the sandbox.".into(),
                ));
            }
            let description = input.str("Description")?.unwrap_or_default();
            if description.len() > 8192 {
                return Err(AwsError::validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"));
            }
            let policy = match input.str("Policy")? {
                Some(p) => {
                    serde_json::from_str::<J>(&p).map_err(|_| {
                        AwsError::new(
                            400,
                            "MalformedPolicyDocumentException",
                            "The new key policy is not valid JSON.",
                        )
                    })?;
                    p
                }
                None => default_policy(cx.account()),
            };
            let tags = parse_tags(input)?;
            let id = crate::util::uuid();
            let materials = if origin == "AWS_KMS" {
                vec![b64(&crypto::random_bytes(32))]
            } else {
                Vec::new()
            };
            let key = Key {
                arn: key_arn(cx, &id),
                id: id.clone(),
                account: cx.account().to_string(),
                created: now,
                description,
                origin,
                manager: "CUSTOMER".into(),
                disabled: false,
                deletion_date: None,
                pending_window_days: None,
                materials,
                imported_fingerprint: None,
                valid_to: None,
                expiration_model: None,
                material_imported_at: None,
                material_deleted_at: None,
                tags: tags.into_iter().collect(),
                rotation_period_days: None,
                policy,
            };
            cx.resources.push(TrailResource {
                arn: key.arn.clone(),
                resource_type: "AWS::KMS::Key".into(),
            });
            let md = key.metadata(now);
            st.keys.insert(id, key);
            Ok(Value::obj().with("KeyMetadata", md))
        }
        "CreateAlias" | "UpdateAlias" => {
            let name = input.req_str("AliasName")?;
            check_alias_name(&name)?;
            let target_raw = input.req_str("TargetKeyId")?;
            let target = resolve(cx, st, &target_raw, false)?;
            let k = &st.keys[&target];
            cx.resources.push(TrailResource {
                arn: k.arn.clone(),
                resource_type: "AWS::KMS::Key".into(),
            });
            if k.deletion_date.is_some() {
                return Err(invalid_state(&k.arn, "pending deletion"));
            }
            let arn = alias_arn(cx, &name);
            match (op, st.aliases.get_mut(&name)) {
                ("CreateAlias", Some(_)) => Err(AwsError::new(
                    400,
                    "AlreadyExistsException",
                    format!("An alias with the name {arn} already exists"),
                )),
                ("CreateAlias", None) => {
                    st.aliases.insert(
                        name.clone(),
                        Alias {
                            name,
                            arn,
                            target,
                            created: now,
                            updated: now,
                        },
                    );
                    Ok(Value::Null)
                }
                (_, Some(a)) => {
                    a.target = target;
                    a.updated = now;
                    Ok(Value::Null)
                }
                (_, None) => Err(AwsError::new(
                    400,
                    "NotFoundException",
                    format!("Alias {arn} is not found."),
                )),
            }
        }
        "DeleteAlias" => {
            let name = input.req_str("AliasName")?;
            match st.aliases.remove(&name) {
                Some(a) => {
                    if let Some(k) = st.keys.get(&a.target) {
                        cx.resources.push(TrailResource {
                            arn: k.arn.clone(),
                            resource_type: "AWS::KMS::Key".into(),
                        });
                    }
                    Ok(Value::Null)
                }
                None => Err(AwsError::new(
                    400,
                    "NotFoundException",
                    format!("Alias {} is not found.", alias_arn(cx, &name)),
                )),
            }
        }
        "EnableKey" | "DisableKey" => {
            let k = customer_key(cx, st, op, input)?;
            if k.deletion_date.is_some() {
                return Err(invalid_state(&k.arn, "pending deletion"));
            }
            k.disabled = op == "DisableKey";
            Ok(Value::Null)
        }
        "ScheduleKeyDeletion" => {
            let days = input.int("PendingWindowInDays")?.unwrap_or(30);
            if !(7..=30).contains(&days) {
                return Err(AwsError::bad_value(
                    "PendingWindowInDays",
                    &days.to_string(),
                    "Member must have value between 7 and 30",
                ));
            }
            let k = customer_key(cx, st, op, input)?;
            if k.deletion_date.is_some() {
                return Err(invalid_state(&k.arn, "pending deletion"));
            }
            let when = now + Duration::days(days);
            k.deletion_date = Some(when);
            k.pending_window_days = Some(days);
            Ok(Value::obj()
                .with("KeyId", k.arn.clone())
                .with("DeletionDate", when)
                .with("KeyState", "PendingDeletion")
                .with("PendingWindowInDays", days))
        }
        "CancelKeyDeletion" => {
            let k = customer_key(cx, st, op, input)?;
            if k.deletion_date.is_none() {
                return Err(AwsError::new(
                    400,
                    "KMSInvalidStateException",
                    format!("{} is not pending deletion.", k.arn),
                ));
            }
            k.deletion_date = None;
            k.pending_window_days = None;
            // AWS leaves a key whose deletion was cancelled disabled.
            k.disabled = true;
            Ok(Value::obj().with("KeyId", k.arn.clone()))
        }
        "ImportKeyMaterial" => import_key_material(cx, st, input),
        "DeleteImportedKeyMaterial" => {
            let k = customer_key(cx, st, op, input)?;
            if k.origin != "EXTERNAL" {
                return Err(unsupported(format!(
                    "{} origin is {} which is not valid for this operation.",
                    k.arn, k.origin
                )));
            }
            if k.deletion_date.is_some() {
                return Err(invalid_state(&k.arn, "pending deletion"));
            }
            if !k.materials.is_empty() {
                k.material_deleted_at = Some(cx.now);
            }
            k.materials.clear();
            k.valid_to = None;
            k.expiration_model = None;
            Ok(Value::obj()
                .with("KeyId", k.arn.clone())
                .with("KeyMaterialId", k.imported_fingerprint.clone()))
        }
        "TagResource" => {
            let tags = parse_tags(input)?;
            let k = customer_key(cx, st, op, input)?;
            if k.deletion_date.is_some() {
                return Err(invalid_state(&k.arn, "pending deletion"));
            }
            k.tags.extend(tags);
            if k.tags.len() > 50 {
                return Err(AwsError::new(
                    400,
                    "LimitExceededException",
                    "A key can have at most 50 tags.",
                ));
            }
            Ok(Value::Null)
        }
        "UntagResource" => {
            let keys = input.str_list("TagKeys")?;
            let k = customer_key(cx, st, op, input)?;
            for t in keys {
                k.tags.remove(&t);
            }
            Ok(Value::Null)
        }
        "EnableKeyRotation" | "DisableKeyRotation" => {
            let period = input.int("RotationPeriodInDays")?;
            if let Some(p) = period {
                if !(90..=2560).contains(&p) {
                    return Err(AwsError::bad_value(
                        "RotationPeriodInDays",
                        &p.to_string(),
                        "Member must have value between 90 and 2560",
                    ));
                }
            }
            let k = customer_key(cx, st, op, input)?;
            if k.origin == "EXTERNAL" {
                return Err(unsupported(format!(
                    "{} origin is EXTERNAL which is not valid for this operation.",
                    k.arn
                )));
            }
            if let Some(e) = k.not_usable(now) {
                return Err(e);
            }
            k.rotation_period_days = (op == "EnableKeyRotation").then(|| period.unwrap_or(365));
            Ok(Value::Null)
        }
        "PutKeyPolicy" => {
            let policy = input.req_str("Policy")?;
            serde_json::from_str::<J>(&policy).map_err(|_| {
                AwsError::new(
                    400,
                    "MalformedPolicyDocumentException",
                    "The new key policy is not valid JSON.",
                )
            })?;
            let k = customer_key(cx, st, op, input)?;
            k.policy = policy;
            Ok(Value::Null)
        }
        _ => Err(cx.unknown(op)),
    }
}

fn get_parameters_for_import(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let algorithm = input.req_str("WrappingAlgorithm")?;
    if !matches!(
        algorithm.as_str(),
        "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256"
    ) {
        return Err(AwsError::bad_value(
            "WrappingAlgorithm",
            &algorithm,
            "Member must satisfy enum value set: [RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256]",
        ));
    }
    let spec = input.req_str("WrappingKeySpec")?;
    let bits = match spec.as_str() {
        "RSA_2048" => 2048,
        "RSA_3072" => 3072,
        "RSA_4096" => 4096,
        other => {
            return Err(AwsError::bad_value(
                "WrappingKeySpec",
                other,
                "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096]",
            ))
        }
    };
    let (account, region) = (cx.account().to_string(), cx.region.clone());
    // Check the key before spending time on an RSA key pair.
    let arn =
        cx.sandbox
            .read::<KmsState, _>(&account, &region, |st| -> Result<String, AwsError> {
                let k = key(cx, st, "GetParametersForImport", input)?;
                if k.origin != "EXTERNAL" {
                    return Err(unsupported(format!(
                        "{} origin is {} which is not valid for this operation.",
                        k.arn, k.origin
                    )));
                }
                if k.deletion_date.is_some() {
                    return Err(invalid_state(&k.arn, "pending deletion"));
                }
                Ok(k.arn.clone())
            })?;
    let (private, public) = crypto::wrapping_key(bits).map_err(AwsError::internal)?;
    let mut token = b"KWSIMPORT".to_vec();
    token.extend_from_slice(&crypto::random_bytes(48));
    let valid_to = cx.now + Duration::hours(24);
    let key_id = arn.rsplit('/').next().unwrap_or_default().to_string();
    let now = cx.now;
    cx.sandbox.write::<KmsState, _>(&account, &region, |st| {
        st.imports
            .retain(|_, p| p.valid_to > now && st.keys.contains_key(&p.key_id));
        st.imports.insert(
            b64(&token),
            ImportParams {
                key_id,
                algorithm,
                private_key: b64(&private),
                valid_to,
            },
        );
        Ok(())
    })?;
    Ok(Value::obj()
        .with("KeyId", arn)
        .with("ImportToken", Value::Blob(token))
        .with("PublicKey", Value::Blob(public))
        .with("ParametersValidTo", valid_to))
}

fn import_key_material(
    cx: &mut Call<'_>,
    st: &mut KmsState,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let token = input
        .blob("ImportToken")?
        .ok_or_else(|| AwsError::missing("ImportToken"))?;
    let wrapped = input
        .blob("EncryptedKeyMaterial")?
        .ok_or_else(|| AwsError::missing("EncryptedKeyMaterial"))?;
    let model = input
        .str("ExpirationModel")?
        .unwrap_or_else(|| "KEY_MATERIAL_EXPIRES".into());
    let valid_to = input.time("ValidTo")?;
    match (model.as_str(), valid_to) {
        ("KEY_MATERIAL_EXPIRES", None) => {
            return Err(AwsError::validation("ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES."))
        }
        ("KEY_MATERIAL_EXPIRES", Some(v)) if v <= now => {
            return Err(AwsError::validation(format!("ValidTo ({}) must be in the future.", crate::util::iso8601(v))))
        }
        ("KEY_MATERIAL_EXPIRES", Some(v)) if v > now + Duration::days(365) => {
            return Err(AwsError::validation(format!(
                "ValidTo ({}) must be at most 365 days after the request ({}).",
                crate::util::iso8601(v),
                crate::util::iso8601(now)
            )))
        }
        ("KEY_MATERIAL_EXPIRES", Some(_)) => {}
        ("KEY_MATERIAL_DOES_NOT_EXPIRE", None) => {}
        ("KEY_MATERIAL_DOES_NOT_EXPIRE", Some(_)) => {
            return Err(AwsError::validation("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE."))
        }
        (other, _) => {
            return Err(AwsError::bad_value(
                "ExpirationModel",
                other,
                "Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]",
            ))
        }
    }
    let params = st.imports.get(&b64(&token)).cloned();
    let k = customer_key(cx, st, "ImportKeyMaterial", input)?;
    if k.origin != "EXTERNAL" {
        return Err(unsupported(format!(
            "{} origin is {} which is not valid for this operation.",
            k.arn, k.origin
        )));
    }
    if k.deletion_date.is_some() {
        return Err(invalid_state(&k.arn, "pending deletion"));
    }
    let params = params.filter(|p| p.key_id == k.id).ok_or_else(|| {
        AwsError::new(
            400,
            "InvalidImportTokenException",
            "The import token is not valid for this key.",
        )
    })?;
    if params.valid_to <= now {
        return Err(AwsError::new(
            400,
            "ExpiredImportTokenException",
            "The import token has expired; call GetParametersForImport again.",
        ));
    }
    let private = unb64(&params.private_key)
        .ok_or_else(|| AwsError::internal("stored wrapping key is damaged"))?;
    let material = crypto::unwrap(&private, &params.algorithm, &wrapped).ok_or_else(|| {
        AwsError::new(
            400,
            "InvalidCiphertextException",
            format!(
                "The key material could not be unwrapped with the {} wrapping key.",
                params.algorithm
            ),
        )
    })?;
    if material.len() != 32 {
        return Err(AwsError::new(
            400,
            "IncorrectKeyMaterialException",
            format!(
                "SYMMETRIC_DEFAULT keys need 256-bit (32-byte) key material; got {} bytes.",
                material.len()
            ),
        ));
    }
    let fp = crypto::fingerprint(&material);
    if k.imported_fingerprint
        .as_ref()
        .is_some_and(|prev| prev != &fp)
    {
        return Err(AwsError::new(
            400,
            "IncorrectKeyMaterialException",
            "The key material does not match the key material previously imported into this key.",
        ));
    }
    k.materials = vec![b64(&material)];
    k.imported_fingerprint = Some(fp.clone());
    k.valid_to = valid_to;
    k.expiration_model = Some(model);
    k.material_imported_at = Some(now);
    Ok(Value::obj()
        .with("KeyId", k.arn.clone())
        .with("KeyMaterialId", fp))
}

/// Apply the passing of sandbox time: expired imported material is deleted (the key goes to
/// `PendingImport`), keys whose deletion date passed are deleted with their aliases.
pub fn expire_due(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        let due = sb.read::<KmsState, _>(&account, &region, |st| {
            st.keys.values().any(|k| {
                (k.valid_to.is_some_and(|v| v <= now) && !k.materials.is_empty())
                    || k.deletion_date.is_some_and(|d| d <= now)
            })
        });
        if !due {
            continue;
        }
        let result = sb.write::<KmsState, _>(&account, &region, |st| {
            for k in st.keys.values_mut() {
                if k.valid_to.is_some_and(|v| v <= now) && !k.materials.is_empty() {
                    tracing::info!(key = %k.arn, "imported key material expired");
                    k.materials.clear();
                    k.valid_to = None;
                    k.expiration_model = None;
                }
            }
            let gone: Vec<String> = st
                .keys
                .values()
                .filter(|k| k.deletion_date.is_some_and(|d| d <= now))
                .map(|k| k.id.clone())
                .collect();
            for id in &gone {
                tracing::info!(key = %id, "key deleted at the end of its waiting period");
                st.keys.remove(id);
            }
            st.aliases.retain(|_, a| !gone.contains(&a.target));
            Ok(())
        });
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot apply KMS expiry");
        }
    }
}

/// The workshop's keys at the start of the monitoring chapter (DESIGN.md section 2).
pub fn seed_workshop(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    let new_key = |origin: &str, manager: &str, description: &str, created: OffsetDateTime| {
        let id = crate::util::uuid();
        Key {
            arn: format!("arn:aws:kms:{region}:{account}:key/{id}"),
            id,
            account: account.to_string(),
            created,
            description: description.to_string(),
            origin: origin.to_string(),
            manager: manager.to_string(),
            disabled: false,
            deletion_date: None,
            pending_window_days: None,
            materials: if origin == "AWS_KMS" {
                vec![b64(&crypto::random_bytes(32))]
            } else {
                Vec::new()
            },
            imported_fingerprint: None,
            valid_to: None,
            expiration_model: None,
            material_imported_at: None,
            material_deleted_at: None,
            tags: BTreeMap::new(),
            rotation_period_days: None,
            policy: default_policy(account),
        }
    };
    let alias = |name: &str, target: &str, at: OffsetDateTime| Alias {
        name: name.to_string(),
        arn: format!("arn:aws:kms:{region}:{account}:{name}"),
        target: target.to_string(),
        created: at,
        updated: at,
    };
    let day = Duration::days(1);
    let mut k1 = new_key(
        "AWS_KMS",
        "CUSTOMER",
        "KMS Workshop first CMK",
        now - day * 3,
    );
    k1.deletion_date = Some(now + day * 6);
    k1.pending_window_days = Some(7);
    let k2 = new_key("AWS_KMS", "CUSTOMER", "KMS Workshop CMK", now - day * 3);
    let mut k3 = new_key(
        "EXTERNAL",
        "CUSTOMER",
        "KMS Workshop CMK with imported key material",
        now - day * 2,
    );
    let material = crypto::random_bytes(32);
    k3.materials = vec![b64(&material)];
    k3.imported_fingerprint = Some(crypto::fingerprint(&material));
    k3.valid_to = Some(now + day * 20);
    k3.material_imported_at = Some(now - day * 2);
    k3.expiration_model = Some("KEY_MATERIAL_EXPIRES".into());
    k3.tags.insert("project".into(), "kmsworkshop".into());
    let ebs = new_key(
        "AWS_KMS",
        "AWS",
        "Default key that protects my EBS volumes when no other key is defined",
        now - day * 30,
    );
    // A lookalike: another project's key in the same account, which no clean-up may touch.
    let mut payments = new_key(
        "AWS_KMS",
        "CUSTOMER",
        "Payments service data key",
        now - day * 60,
    );
    payments.tags.insert("project".into(), "payments".into());
    sb.write::<KmsState, _>(account, region, |st| {
        st.aliases.insert(
            "alias/payments-data".into(),
            alias("alias/payments-data", &payments.id, now - day * 60),
        );
        st.keys.insert(payments.id.clone(), payments);
        st.aliases.insert(
            "alias/FirstCMK".into(),
            alias("alias/FirstCMK", &k2.id, now - day * 3),
        );
        st.aliases.insert(
            "alias/ImportedCMK".into(),
            alias("alias/ImportedCMK", &k3.id, now - day * 2),
        );
        st.aliases.insert(
            "alias/aws/ebs".into(),
            alias("alias/aws/ebs", &ebs.id, now - day * 30),
        );
        for k in [k1, k2, k3, ebs] {
            st.keys.insert(k.id.clone(), k);
        }
        Ok(())
    })
}
