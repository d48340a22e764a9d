//! Cryptographic operations: Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext),
//! GenerateRandom, with real AES-256-GCM bound to the encryption context (`kms::crypto`).

use time::OffsetDateTime;

use super::{key, permitted, read, resolve, touch};
use crate::protocol::{AwsError, Input, Value};
use crate::services::kms::crypto;
use crate::services::kms::errors::{invalid_ciphertext, invalid_state, not_usable, out_of_range};
use crate::services::kms::state::{Key, KeyOrigin};
use crate::services::Call;
use crate::util::unb64;

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

/// Encrypt under the key's current material (imported material is always version 0).
fn seal_with(
    k: &Key,
    now: OffsetDateTime,
    plaintext: &[u8],
    ctx: &[(String, String)],
) -> Result<Vec<u8>, AwsError> {
    if let Some(e) = not_usable(k, now) {
        return Err(e);
    }
    let material = k
        .material(now)
        .ok_or_else(|| invalid_state(&k.arn, "pending import"))?;
    let version = match k.origin {
        KeyOrigin::External => 0,
        KeyOrigin::AwsKms => k.materials.len().saturating_sub(1),
    };
    let version =
        u8::try_from(version).map_err(|_| AwsError::internal("too many key material versions"))?;
    crypto::seal(&k.id, version, &material, plaintext, ctx)
        .ok_or_else(|| AwsError::internal("encryption failed"))
}

pub fn encrypt(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        check_algorithm(input)?;
        let k = key(cx, st, "Encrypt", input)?;
        let plaintext = input
            .blob("Plaintext")?
            .ok_or_else(|| AwsError::missing("Plaintext"))?;
        if plaintext.is_empty() || plaintext.len() > 4096 {
            return Err(AwsError::validation(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096",
            ));
        }
        let blob = seal_with(k, cx.now, &plaintext, &context(input)?)?;
        Ok(Value::obj()
            .with("CiphertextBlob", Value::Blob(blob))
            .with("KeyId", k.arn.clone())
            .with("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
    })
}

pub fn generate_data_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    data_key(cx, input, "GenerateDataKey")
}

pub fn generate_data_key_without_plaintext(
    cx: &mut Call<'_>,
    input: &Input,
) -> Result<Value, AwsError> {
    data_key(cx, input, "GenerateDataKeyWithoutPlaintext")
}

/// A new data key sealed under the key; its plaintext too for `GenerateDataKey`.
fn data_key(cx: &mut Call<'_>, input: &Input, op: &str) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        let k = key(cx, st, op, input)?;
        let n = data_key_len(input)?;
        let plaintext = crypto::random_bytes(n);
        let blob = seal_with(k, cx.now, &plaintext, &context(input)?)?;
        let mut v = Value::obj().with("CiphertextBlob", Value::Blob(blob));
        if op == "GenerateDataKey" {
            v = v.with("Plaintext", Value::Blob(plaintext.to_vec()));
        }
        Ok(v.with("KeyId", k.arn.clone()))
    })
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
        (None, Some(n)) => Err(out_of_range("NumberOfBytes", n, 1, 1024)),
    }
}

pub fn decrypt(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        check_algorithm(input)?;
        let blob = input
            .blob("CiphertextBlob")?
            .ok_or_else(|| AwsError::missing("CiphertextBlob"))?;
        let bad = || invalid_ciphertext("");
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
        touch(cx, k);
        permitted(cx, k, "Decrypt")?;
        let now = cx.now;
        if let Some(e) = not_usable(k, now) {
            return Err(e);
        }
        let material = match k.origin {
            KeyOrigin::External => k.material(now),
            KeyOrigin::AwsKms => k.materials.get(usize::from(version)).and_then(|m| unb64(m)),
        }
        .ok_or_else(bad)?;
        let plaintext = crypto::open(&id, &material, &blob, &context(input)?).ok_or_else(bad)?;
        Ok(Value::obj()
            .with("KeyId", k.arn.clone())
            .with("Plaintext", Value::Blob(plaintext.to_vec()))
            .with("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
    })
}

pub fn generate_random(_cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    // Optional in the model, required by KMS; its range is the model's, checked before.
    let n = input
        .int("NumberOfBytes")?
        .ok_or_else(|| AwsError::validation("NumberOfBytes is required."))?;
    Ok(Value::obj().with(
        "Plaintext",
        Value::Blob(crypto::random_bytes(n as usize).to_vec()),
    ))
}
