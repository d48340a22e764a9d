//! The guided run's seal on what it records. An inventory is a file anyone can edit; an item
//! in it makes a resource the workshop's only if the run that created the resource sealed it:
//! an HMAC-SHA256 of the item's kind, ARN, account and region under a key that lives in the
//! user's data directory (32 random bytes, readable by the owner only; never a key found
//! beside an inventory file, which whoever wrote the file could have written too). A hand-written item has no
//! valid seal, so it counts for nothing: the resource is then the workshop's only if its name,
//! tags or stack make it so, as for any other resource.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::inventory::InventoryItem;
use crate::CleanupError;

/// The key items are sealed with.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

impl SealKey {
    /// A new random key (tests, and the first run on a machine).
    pub fn generate() -> SealKey {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        SealKey(k)
    }

    /// The key at `path`, created (0600) when there is none.
    pub fn load_or_create(path: &Path) -> Result<SealKey, CleanupError> {
        match SealKey::load(path)? {
            Some(k) => Ok(k),
            None => {
                let key = SealKey::generate();
                let err = |e: std::io::Error| CleanupError::Inventory {
                    path: path.to_path_buf(),
                    message: format!("cannot create the inventory key: {e}"),
                };
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(err)?;
                }
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(err)?;
                f.write_all(hex::encode(key.0).as_bytes()).map_err(err)?;
                f.sync_all().map_err(err)?;
                Ok(key)
            }
        }
    }

    /// The key at `path`; `None` when there is no file (nothing was ever sealed here).
    pub fn load(path: &Path) -> Result<Option<SealKey>, CleanupError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CleanupError::Inventory {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
            }
        };
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
        let bytes = bytes.ok_or_else(|| CleanupError::Inventory {
            path: path.to_path_buf(),
            message: "not an inventory key (64 hexadecimal digits); move it aside and the next \
                      guided run makes a new one"
                .into(),
        })?;
        let mut k = [0u8; 32];
        k.copy_from_slice(&bytes);
        Ok(Some(SealKey(k)))
    }

    fn mac(&self, item: &InventoryItem) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in [
            item.kind.as_str(),
            item.arn.as_str(),
            item.account.as_str(),
            item.region.as_str(),
        ] {
            // Length-prefixed, so no two items share a message.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The seal of `item`.
    pub fn seal(&self, item: &InventoryItem) -> String {
        hex::encode(self.mac(item).finalize().into_bytes())
    }

    /// Whether `item` carries this key's seal (compared in constant time).
    pub fn verifies(&self, item: &InventoryItem) -> bool {
        let Some(seal) = item.seal.as_deref().and_then(|s| hex::decode(s).ok()) else {
            return false;
        };
        self.mac(item).verify_slice(&seal).is_ok()
    }
}
