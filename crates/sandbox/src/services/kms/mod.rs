//! KMS (awsJson1.1, `TrentService.*`): customer keys with AWS-generated or imported material,
//! aliases, envelope encryption with real AES-256-GCM bound to the encryption context,
//! RSA-OAEP key import with expiring material, deletion windows, tags, rotation and policies.
//!
//! Layout: `state` (what is persisted), `ops` (one function per operation), `views` (wire
//! shapes), `errors`, [`crypto`] (the cryptography), `lifecycle` (expiry on the sandbox
//! clock), `seed` (the workshop's keys).

pub mod crypto;
mod errors;
mod lifecycle;
mod ops;
mod seed;
pub(crate) mod shared;
mod state;
mod views;

#[cfg(test)]
mod tests;

use serde_json::Value as J;

use super::{camel_case_keys, About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub use lifecycle::expire_due;
pub use seed::seed_workshop;
pub use state::{Alias, ImportParams, Key, KeyManager, KeyOrigin, KeyState, KmsState};

pub struct Kms;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("kms", "kms.amazonaws.com", Protocol::AwsJson11)
    .read_only(&[
        "Describe",
        "Get",
        "List",
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
        "GenerateRandom",
        "ReEncrypt",
    ])
    // A read-only call by CloudTrail's reckoning that makes an RSA wrapping key pair: up to
    // seconds. (ImportKeyMaterial, which unwraps with it, changes state: it goes to the
    // blocking pool as every change does.)
    .heavy(&["GetParametersForImport"]);

impl Service for Kms {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        camel_case_keys(
            &input.json_view(),
            &[
                "Plaintext",
                "CiphertextBlob",
                "EncryptedKeyMaterial",
                "ImportToken",
            ],
            // An encryption context is a map of the caller's own keys: CloudTrail logs it
            // verbatim.
            &[
                "EncryptionContext",
                "SourceEncryptionContext",
                "DestinationEncryptionContext",
            ],
        )
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        use ops::{aliases, crypto_ops, import, keys, policy, tags};
        match op {
            "CreateKey" => keys::create_key(cx, input),
            "DescribeKey" => keys::describe_key(cx, input),
            "ListKeys" => keys::list_keys(cx, input),
            "EnableKey" => keys::enable_key(cx, input),
            "DisableKey" => keys::disable_key(cx, input),
            "ScheduleKeyDeletion" => keys::schedule_key_deletion(cx, input),
            "CancelKeyDeletion" => keys::cancel_key_deletion(cx, input),
            "CreateAlias" => aliases::create_alias(cx, input),
            "UpdateAlias" => aliases::update_alias(cx, input),
            "DeleteAlias" => aliases::delete_alias(cx, input),
            "ListAliases" => aliases::list_aliases(cx, input),
            "Encrypt" => crypto_ops::encrypt(cx, input),
            "Decrypt" => crypto_ops::decrypt(cx, input),
            "GenerateDataKey" => crypto_ops::generate_data_key(cx, input),
            "GenerateDataKeyWithoutPlaintext" => {
                crypto_ops::generate_data_key_without_plaintext(cx, input)
            }
            "GenerateRandom" => crypto_ops::generate_random(cx, input),
            "GetParametersForImport" => import::get_parameters_for_import(cx, input),
            "ImportKeyMaterial" => import::import_key_material(cx, input),
            "DeleteImportedKeyMaterial" => import::delete_imported_key_material(cx, input),
            "TagResource" => tags::tag_resource(cx, input),
            "UntagResource" => tags::untag_resource(cx, input),
            "ListResourceTags" => tags::list_resource_tags(cx, input),
            "EnableKeyRotation" => policy::enable_key_rotation(cx, input),
            "DisableKeyRotation" => policy::disable_key_rotation(cx, input),
            "GetKeyRotationStatus" => policy::get_key_rotation_status(cx, input),
            "GetKeyPolicy" => policy::get_key_policy(cx, input),
            "PutKeyPolicy" => policy::put_key_policy(cx, input),
            "ListKeyPolicies" => policy::list_key_policies(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}
