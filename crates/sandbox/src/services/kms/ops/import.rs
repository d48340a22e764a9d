//! Imported key material: wrapping keys and import tokens (GetParametersForImport), importing
//! (RSA-OAEP unwrapping, with or without an expiry) and deleting the material.

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::{customer_key, key, read, write};
use crate::protocol::{AwsError, Input, Value};
use crate::services::kms::crypto;
use crate::services::kms::errors::{
    incorrect_material, invalid_ciphertext, not_external, pending_deletion,
};
use crate::services::kms::state::{ImportParams, Key, KeyOrigin};
use crate::services::Call;
use crate::util::{b64, iso8601, unb64};

/// The key may take material: external, not pending deletion.
fn check_importable(k: &Key) -> Result<(), AwsError> {
    if k.origin != KeyOrigin::External {
        return Err(not_external(k));
    }
    if k.deletion_date.is_some() {
        return Err(pending_deletion(&k.arn));
    }
    Ok(())
}

fn wrapping_bits(input: &Input) -> Result<(String, usize), AwsError> {
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
    Ok((algorithm, bits))
}

pub fn get_parameters_for_import(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (algorithm, bits) = wrapping_bits(input)?;
    // Check the key before spending time on an RSA key pair.
    let (key_id, arn) = read(cx, |cx, st| {
        let k = key(cx, st, "GetParametersForImport", input)?;
        check_importable(k)?;
        Ok((k.id.clone(), k.arn.clone()))
    })?;
    let (private, public) = crypto::wrapping_key(bits, cx.seeding).map_err(AwsError::internal)?;
    let mut token = b"KWSIMPORT".to_vec();
    token.extend_from_slice(&crypto::random_bytes(48));
    let now = cx.now;
    let valid_to = now + Duration::hours(24);
    write(cx, |_, st| {
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

/// `ExpirationModel` and `ValidTo` of an import, checked against each other and `now`.
fn expiry(
    input: &Input,
    now: OffsetDateTime,
) -> Result<(String, Option<OffsetDateTime>), AwsError> {
    let model = input
        .str("ExpirationModel")?
        .unwrap_or_else(|| "KEY_MATERIAL_EXPIRES".into());
    let valid_to = input.time("ValidTo")?;
    match (model.as_str(), valid_to) {
        ("KEY_MATERIAL_EXPIRES", None) => {
            return Err(AwsError::validation("ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES."))
        }
        ("KEY_MATERIAL_EXPIRES", Some(v)) if v <= now => {
            return Err(AwsError::validation(format!("ValidTo ({}) must be in the future.", iso8601(v))))
        }
        ("KEY_MATERIAL_EXPIRES", Some(v)) if v > now + Duration::days(365) => {
            return Err(AwsError::validation(format!(
                "ValidTo ({}) must be at most 365 days after the request ({}).",
                iso8601(v),
                iso8601(now)
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
    Ok((model, valid_to))
}

/// The 256-bit material `wrapped` holds, unwrapped with the token's wrapping key.
fn unwrap_material(
    params: Option<ImportParams>,
    k: &Key,
    wrapped: &[u8],
    now: OffsetDateTime,
) -> Result<Zeroizing<Vec<u8>>, AwsError> {
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
    let material = crypto::unwrap(&private, &params.algorithm, wrapped).ok_or_else(|| {
        invalid_ciphertext(format!(
            "The key material could not be unwrapped with the {} wrapping key.",
            params.algorithm
        ))
    })?;
    if material.len() != 32 {
        return Err(incorrect_material(format!(
            "SYMMETRIC_DEFAULT keys need 256-bit (32-byte) key material; got {} bytes.",
            material.len()
        )));
    }
    Ok(material)
}

pub fn import_key_material(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let now = cx.now;
        let token = input
            .blob("ImportToken")?
            .ok_or_else(|| AwsError::missing("ImportToken"))?;
        let wrapped = input
            .blob("EncryptedKeyMaterial")?
            .ok_or_else(|| AwsError::missing("EncryptedKeyMaterial"))?;
        let (model, valid_to) = expiry(input, now)?;
        let params = st.imports.get(&b64(&token)).cloned();
        let k = customer_key(cx, st, "ImportKeyMaterial", input)?;
        check_importable(k)?;
        let material = unwrap_material(params, k, &wrapped, now)?;
        let fp = crypto::fingerprint(&material);
        if k.imported_fingerprint
            .as_ref()
            .is_some_and(|prev| prev != &fp)
        {
            return Err(incorrect_material(
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
    })
}

pub fn delete_imported_key_material(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let now = cx.now;
        let k = customer_key(cx, st, "DeleteImportedKeyMaterial", input)?;
        check_importable(k)?;
        if !k.materials.is_empty() {
            k.material_deleted_at = Some(now);
        }
        k.materials.clear();
        k.valid_to = None;
        k.expiration_model = None;
        Ok(Value::obj()
            .with("KeyId", k.arn.clone())
            .with("KeyMaterialId", k.imported_fingerprint.clone()))
    })
}
