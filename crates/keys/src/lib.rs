//! KMS for the kms-workshop runner: the workshop's keys and what the monitoring chapter does
//! with them.
//!
//! - [`inventory`]: every customer key with its aliases, origin, state, tags, deletion date and
//!   imported-material expiry, and lookups over it (by alias, tag, origin, state) to find the
//!   workshop's K1/K2/K3.
//! - [`datakey`]: `GenerateDataKey` (step 1 of the chapter) and `Decrypt` to verify the
//!   ciphertext under its encryption context; the plaintext is a [`PlaintextKey`] that zeroizes
//!   its bytes on drop and never shows them through `Debug` or `Display`.
//! - [`expiry`]: how long the imported key material of EXTERNAL keys has left.
//!
//! Every function takes an `aws_sdk_kms::Client`; it neither knows nor cares whether that client
//! talks to AWS or to the sandbox. Failures keep AWS's code and message ([`KeysError::Aws`]).

pub mod datakey;
pub mod error;
pub mod expiry;
pub mod inventory;
pub mod secret;

pub use datakey::{decrypt, generate_data_key, DataKey, DataKeySpec, Decrypted};
pub use error::KeysError;
pub use expiry::{expiry_report, material_expiry, ExpiryStatus, MaterialExpiry};
pub use inventory::{describe_key, find_keys, key_inventory, KeyFilter, KeySummary};
pub use secret::PlaintextKey;

pub(crate) fn to_time(dt: &aws_smithy_types::DateTime) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(dt.as_nanos()).ok()
}
