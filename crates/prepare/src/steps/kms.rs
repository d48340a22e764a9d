//! The keys: each made with its role's tag (so a run interrupted between CreateKey and
//! CreateAlias finds its key again instead of making a second one), then named or scheduled
//! for deletion; and the imported key's material, made here and wrapped for KMS.
//!
//! The material is 32 bytes from the operating system's CSPRNG, wrapped with the `rsa` crate
//! under the RSA_2048 public key GetParametersForImport hands out (RSAES_OAEP_SHA_256), and
//! zeroised once imported: it is never printed, logged or written.

use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{AlgorithmSpec, ExpirationModelType, OriginType, Tag, WrappingKeySpec};
use rand::RngCore;
use rsa::pkcs8::DecodePublicKey;
use zeroize::Zeroizing;

use kms_workshop_cleanup::aws::Regional;
use kms_workshop_cleanup::exec::ActionOutcome;
use kms_workshop_cleanup::{names, AwsFailure, Executor};
use kms_workshop_names::starting::{KeyRole, KEY_ROLE_TAG, PENDING_WINDOW_DAYS};

use super::{kept, made, stuck};
use crate::survey::keys::{alias_targets, tagged, RUN_TAG};

fn tag(k: &str, v: &str) -> Result<Tag, AwsFailure> {
    Tag::builder()
        .tag_key(k)
        .tag_value(v)
        .build()
        .map_err(|e| stuck("CreateKey", "InvalidTag", e.to_string()))
}

/// The ARN of the key `alias` names.
pub(super) async fn key_arn(
    ex: &Executor,
    rc: &Regional,
    alias: &str,
) -> Result<String, AwsFailure> {
    let out = ex
        .pace()
        .send("DescribeKey", || rc.kms.describe_key().key_id(alias).send())
        .await?;
    out.key_metadata()
        .and_then(|m| m.arn())
        .map(str::to_string)
        .ok_or_else(|| stuck("DescribeKey", "NoKey", format!("{alias} names no key")))
}

/// A key of `role` this run made before (an interrupted attempt, or a CreateKey whose answer
/// was lost): usable and not named yet.
async fn made_by_run(
    kms: &aws_sdk_kms::Client,
    ex: &Executor,
    role: KeyRole,
    run: &str,
) -> Result<Option<String>, AwsFailure> {
    let state = |m: &aws_sdk_kms::types::KeyMetadata| {
        m.key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    };
    Ok(tagged(kms, ex.pace(), role)
        .await?
        .into_iter()
        .find(|(m, r)| {
            r.as_deref() == Some(run)
                && (!state(m).starts_with("Pending") || state(m) == "PendingImport")
        })
        .map(|(m, _)| m.key_id().to_string()))
}

/// Only a refused request is sure to have made nothing: CreateKey is tried again on throttling
/// alone (a lost answer or a 5xx may hide a key that was made: [`made_by_run`] looks for it).
fn throttled(e: &AwsFailure) -> bool {
    e.class == kms_workshop_cleanup::ErrorClass::Throttling
}

/// CreateKey for `role`, tagged with the workshop's tag, the role and the run.
async fn new_key(
    kms: &aws_sdk_kms::Client,
    ex: &Executor,
    role: KeyRole,
    run: &str,
) -> Result<String, AwsFailure> {
    let spec = role.spec();
    let origin = if spec.external {
        OriginType::External
    } else {
        OriginType::AwsKms
    };
    let tags = vec![
        tag(names::TAG_KEY, names::TAG_VALUE)?,
        tag(KEY_ROLE_TAG, role.as_str())?,
        tag(RUN_TAG, run)?,
    ];
    let retry = kms_workshop_cleanup::pace::Retry {
        max_attempts: 8,
        retry_if: throttled,
    };
    let created = ex
        .pace()
        .call_with("CreateKey", retry, || async {
            kms.create_key()
                .description(spec.description)
                .origin(origin.clone())
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("CreateKey", e))
        })
        .await;
    match created {
        Ok(out) => out
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .ok_or_else(|| stuck("CreateKey", "NoKey", "CreateKey answered no key")),
        Err(e) => match made_by_run(kms, ex, role, run).await {
            Ok(Some(id)) => Ok(id),
            _ => Err(e),
        },
    }
}

/// Make the key of `role` (or find the one an earlier attempt of run `run` made), then alias
/// it, or schedule its deletion.
pub(super) async fn create_key(
    ex: &Executor,
    rc: &Regional,
    role: &str,
    run: &str,
) -> ActionOutcome {
    let role = KeyRole::parse(role)
        .ok_or_else(|| stuck("CreateKey", "UnknownKeyRole", format!("no key role {role}")))?;
    let spec = role.spec();
    let (kms, pace) = (&rc.kms, ex.pace());
    let aliases = alias_targets(kms, pace).await?;
    if let Some(alias) = spec.alias {
        if aliases.iter().any(|(n, _)| n == alias) {
            return kept(format!("{alias} exists"));
        }
    }
    if role == KeyRole::Pending {
        let pending = tagged(kms, pace, role).await?;
        if pending
            .iter()
            .any(|(m, _)| m.key_state().map(|s| s.as_str()) == Some("PendingDeletion"))
        {
            return kept("a key pending deletion exists");
        }
    }
    let key_id = match made_by_run(kms, ex, role, run).await? {
        Some(id) => id,
        None => new_key(kms, ex, role, run).await?,
    };
    match spec.alias {
        Some(alias) => {
            pace.send("CreateAlias", || {
                kms.create_alias()
                    .alias_name(alias)
                    .target_key_id(&key_id)
                    .send()
            })
            .await?;
            // Named now: the alias finds it, the run's tag has done its work.
            pace.send("UntagResource", || {
                kms.untag_resource()
                    .key_id(&key_id)
                    .tag_keys(RUN_TAG)
                    .send()
            })
            .await?;
            made(format!("{key_id} as {alias}"))
        }
        None => {
            // The run's tag stays (a key pending deletion takes no tag changes, and until the
            // deletion is scheduled the tag is what finds the key again).
            pace.send("ScheduleKeyDeletion", || {
                kms.schedule_key_deletion()
                    .key_id(&key_id)
                    .pending_window_in_days(PENDING_WINDOW_DAYS)
                    .send()
            })
            .await?;
            made(format!("{key_id} pending deletion"))
        }
    }
}

/// Import fresh material into `alias/ImportedCMK`'s key, valid for `days` from the key's
/// creation on the service's clock (a sandbox's clock may run ahead of this machine's).
pub(super) async fn import_material(ex: &Executor, rc: &Regional, days: u32) -> ActionOutcome {
    let (kms, pace) = (&rc.kms, ex.pace());
    let meta = pace
        .send("DescribeKey", || {
            kms.describe_key().key_id(names::IMPORTED_ALIAS).send()
        })
        .await?
        .key_metadata
        .ok_or_else(|| stuck("DescribeKey", "NoKey", "alias/ImportedCMK names no key"))?;
    let state = meta.key_state().map(|s| s.as_str()).unwrap_or_default();
    if state == "Enabled" {
        return kept("the key has its material");
    }
    if state != "PendingImport" {
        return Err(stuck(
            "ImportKeyMaterial",
            "KMSInvalidStateException",
            format!("{} is {state}, not PendingImport", meta.key_id()),
        ));
    }
    let key_id = meta.key_id().to_string();
    let params = pace
        .send("GetParametersForImport", || {
            kms.get_parameters_for_import()
                .key_id(&key_id)
                .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
                .wrapping_key_spec(WrappingKeySpec::Rsa2048)
                .send()
        })
        .await?;
    let public = params.public_key().map(|b| b.as_ref()).unwrap_or_default();
    let token = params
        .import_token()
        .cloned()
        .unwrap_or_else(|| Blob::new(Vec::new()));
    let wrapped =
        wrap(public).map_err(|e| stuck("GetParametersForImport", "InvalidPublicKey", e))?;
    let created = meta.creation_date().map(|d| d.secs()).unwrap_or_default();
    let now = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .max(created);
    let valid_to = DateTime::from_secs(now + i64::from(days) * 86_400);
    pace.send("ImportKeyMaterial", || {
        kms.import_key_material()
            .key_id(&key_id)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(wrapped.clone()))
            .expiration_model(ExpirationModelType::KeyMaterialExpires)
            .valid_to(valid_to)
            .send()
    })
    .await?;
    made(format!("expires in {days} days"))
}

/// 32 fresh bytes of key material wrapped under `public_der` (an RSA public key as
/// SubjectPublicKeyInfo DER) with RSAES-OAEP-SHA-256.
fn wrap(public_der: &[u8]) -> Result<Vec<u8>, String> {
    let key = rsa::RsaPublicKey::from_public_key_der(public_der).map_err(|e| e.to_string())?;
    let mut material = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(material.as_mut());
    key.encrypt(
        &mut rand::rngs::OsRng,
        rsa::Oaep::new::<sha2::Sha256>(),
        material.as_ref(),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::EncodePublicKey;

    #[test]
    fn material_is_wrapped_with_oaep_sha256_under_the_public_key() {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("key");
        let der = private
            .to_public_key()
            .to_public_key_der()
            .expect("der")
            .into_vec();
        let wrapped = wrap(&der).expect("wrapped");
        assert_eq!(wrapped.len(), 256);
        let plain = private
            .decrypt(rsa::Oaep::new::<sha2::Sha256>(), &wrapped)
            .expect("unwraps with OAEP SHA-256");
        assert_eq!(plain.len(), 32);
        assert!(wrap(b"not a key").is_err());
    }
}
