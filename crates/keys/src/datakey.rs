//! `GenerateDataKey` and `Decrypt`: step 1 of the monitoring chapter, and the check that the
//! ciphertext really is bound to its encryption context.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;

use crate::{KeysError, PlaintextKey};

/// The data key length, as `--key-spec` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataKeySpec {
    #[default]
    Aes256,
    Aes128,
}

impl DataKeySpec {
    pub fn as_str(self) -> &'static str {
        match self {
            DataKeySpec::Aes256 => "AES_256",
            DataKeySpec::Aes128 => "AES_128",
        }
    }

    fn sdk(self) -> aws_sdk_kms::types::DataKeySpec {
        match self {
            DataKeySpec::Aes256 => aws_sdk_kms::types::DataKeySpec::Aes256,
            DataKeySpec::Aes128 => aws_sdk_kms::types::DataKeySpec::Aes128,
        }
    }
}

impl fmt::Display for DataKeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataKeySpec {
    type Err = KeysError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "AES_256" => Ok(DataKeySpec::Aes256),
            "AES_128" => Ok(DataKeySpec::Aes128),
            other => Err(KeysError::InvalidInput {
                field: "KeySpec",
                reason: format!("'{other}' is not a data key spec: expected AES_256 or AES_128"),
            }),
        }
    }
}

/// What `GenerateDataKey` returned.
#[derive(Debug, Clone)]
pub struct DataKey {
    /// The ARN of the key KMS resolved the given id or alias to.
    pub key_arn: String,
    /// The key id (the last part of the ARN).
    pub key_id: String,
    /// The data key encrypted under the KMS key and bound to the encryption context.
    pub ciphertext: Vec<u8>,
    /// The plaintext data key; never printed.
    pub plaintext: PlaintextKey,
    /// AWS's request id: CloudTrail's `requestID` of this call.
    pub request_id: Option<String>,
    pub spec: DataKeySpec,
    pub encryption_context: BTreeMap<String, String>,
}

/// What `Decrypt` returned.
#[derive(Debug, Clone)]
pub struct Decrypted {
    /// The ARN of the key that decrypted the ciphertext.
    pub key_arn: String,
    pub plaintext: PlaintextKey,
    pub request_id: Option<String>,
}

fn key_id_of(arn: &str) -> String {
    arn.rsplit_once(":key/")
        .map(|(_, id)| id.to_string())
        .unwrap_or_else(|| arn.to_string())
}

fn context(ctx: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    if ctx.is_empty() {
        None
    } else {
        Some(ctx.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

/// Generate a data key under `key_id` (key id, ARN, alias name or alias ARN), bound to
/// `encryption_context` (empty: none), as
/// `aws kms generate-data-key --key-id … --key-spec … --encryption-context k=v` does.
pub async fn generate_data_key(
    client: &Client,
    key_id: &str,
    spec: DataKeySpec,
    encryption_context: &BTreeMap<String, String>,
) -> Result<DataKey, KeysError> {
    if key_id.trim().is_empty() {
        return Err(KeysError::InvalidInput {
            field: "KeyId",
            reason: "empty: give a key id, key ARN, alias name or alias ARN".into(),
        });
    }
    let mut out = client
        .generate_data_key()
        .key_id(key_id)
        .key_spec(spec.sdk())
        .set_encryption_context(context(encryption_context))
        .send()
        .await
        .map_err(|e| KeysError::sdk("GenerateDataKey", e))?;
    let request_id = out.request_id().map(str::to_string);
    let plaintext = out
        .plaintext
        .take()
        .map(|b| PlaintextKey::new(b.into_inner()))
        .ok_or(KeysError::IncompleteAnswer {
            operation: "GenerateDataKey",
            member: "Plaintext",
        })?;
    let ciphertext =
        out.ciphertext_blob
            .take()
            .map(Blob::into_inner)
            .ok_or(KeysError::IncompleteAnswer {
                operation: "GenerateDataKey",
                member: "CiphertextBlob",
            })?;
    let key_arn = out
        .key_id()
        .map(str::to_string)
        .ok_or(KeysError::IncompleteAnswer {
            operation: "GenerateDataKey",
            member: "KeyId",
        })?;
    tracing::debug!(key = %key_arn, request_id = ?request_id, "data key generated");
    Ok(DataKey {
        key_id: key_id_of(&key_arn),
        key_arn,
        ciphertext,
        plaintext,
        request_id,
        spec,
        encryption_context: encryption_context.clone(),
    })
}

/// Decrypt `ciphertext` with `encryption_context`. With `key_id`, KMS also checks the
/// ciphertext was made by that key. A different context gives
/// [`KeysError::InvalidCiphertext`] (`InvalidCiphertextException`).
pub async fn decrypt(
    client: &Client,
    ciphertext: &[u8],
    encryption_context: &BTreeMap<String, String>,
    key_id: Option<&str>,
) -> Result<Decrypted, KeysError> {
    if ciphertext.is_empty() {
        return Err(KeysError::InvalidInput {
            field: "CiphertextBlob",
            reason: "empty".into(),
        });
    }
    let mut out = client
        .decrypt()
        .ciphertext_blob(Blob::new(ciphertext))
        .set_encryption_context(context(encryption_context))
        .set_key_id(key_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| KeysError::sdk("Decrypt", e))?;
    let request_id = out.request_id().map(str::to_string);
    let plaintext = out
        .plaintext
        .take()
        .map(|b| PlaintextKey::new(b.into_inner()))
        .ok_or(KeysError::IncompleteAnswer {
            operation: "Decrypt",
            member: "Plaintext",
        })?;
    Ok(Decrypted {
        key_arn: out.key_id().unwrap_or_default().to_string(),
        plaintext,
        request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_name_the_choices() {
        assert_eq!(
            "AES_256".parse::<DataKeySpec>().ok(),
            Some(DataKeySpec::Aes256)
        );
        let err = "AES_512"
            .parse::<DataKeySpec>()
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("AES_256") && e.contains("KeySpec")));
        assert_eq!(
            key_id_of("arn:aws:kms:us-east-1:111122223333:key/abcd"),
            "abcd"
        );
    }
}
