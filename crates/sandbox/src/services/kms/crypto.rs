//! KMS cryptography, done for real: AES-256-GCM ciphertext blobs whose authenticated data binds
//! the key and the encryption context, and RSA-OAEP unwrapping of imported key material.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Oaep, RsaPrivateKey};
use sha2::{Digest, Sha256};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use zeroize::Zeroizing;

/// Ciphertext blobs start with this, then the key id, so `Decrypt` can find the key.
const MAGIC: &[u8; 4] = b"KWS\x01";
const KEY_ID_LEN: usize = 36;
const NONCE_LEN: usize = 12;

/// Canonical bytes of an encryption context: sorted pairs, length-prefixed, so that
/// `{a:b}` and `{a:"b"}` written in any order give the same binding and nothing can be confused.
fn context_aad(key_id: &str, context: &[(String, String)]) -> Vec<u8> {
    let mut pairs: Vec<&(String, String)> = context.iter().collect();
    pairs.sort();
    let mut aad = Vec::new();
    aad.extend_from_slice(key_id.as_bytes());
    for (k, v) in pairs {
        for part in [k, v] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
    }
    aad
}

/// Encrypt `plaintext` under `material` (a 256-bit key) for key `key_id`.
pub fn seal(
    key_id: &str,
    version: u8,
    material: &[u8],
    plaintext: &[u8],
    context: &[(String, String)],
) -> Option<Vec<u8>> {
    if key_id.len() != KEY_ID_LEN {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(material).ok()?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let aad = context_aad(key_id, context);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .ok()?;
    let mut out = Vec::with_capacity(4 + KEY_ID_LEN + 1 + NONCE_LEN + ct.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(key_id.as_bytes());
    out.push(version);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Some(out)
}

/// The key id and material version a blob was made with, if it is one of ours.
pub fn blob_key(blob: &[u8]) -> Option<(String, u8)> {
    if blob.len() < 4 + KEY_ID_LEN + 1 + NONCE_LEN + 16 || &blob[..4] != MAGIC {
        return None;
    }
    let id = std::str::from_utf8(&blob[4..4 + KEY_ID_LEN])
        .ok()?
        .to_string();
    Some((id, blob[4 + KEY_ID_LEN]))
}

pub fn open(
    key_id: &str,
    material: &[u8],
    blob: &[u8],
    context: &[(String, String)],
) -> Option<Zeroizing<Vec<u8>>> {
    let start = 4 + KEY_ID_LEN + 1;
    let nonce = blob.get(start..start + NONCE_LEN)?;
    let ct = blob.get(start + NONCE_LEN..)?;
    let cipher = Aes256Gcm::new_from_slice(material).ok()?;
    let aad = context_aad(key_id, context);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
        .ok()
        .map(Zeroizing::new)
}

pub fn random_bytes(n: usize) -> Zeroizing<Vec<u8>> {
    let mut b = Zeroizing::new(vec![0u8; n]);
    rand::thread_rng().fill_bytes(&mut b);
    b
}

/// A SHA-256 fingerprint of key material: imported material must be re-imported identically.
pub fn fingerprint(material: &[u8]) -> String {
    hex::encode(Sha256::digest(material))
}

/// A wrapping key pair: (PKCS#8 DER private key, X.509 SubjectPublicKeyInfo DER).
pub type WrappingKey = (Zeroizing<Vec<u8>>, Vec<u8>);

/// The size of the key pair [`make_wrapping_key_ahead`] makes: the workshop's (RSA_2048).
const AHEAD_BITS: usize = 2048;

/// One RSA-2048 wrapping key pair being made ahead of the call that will want it. A new
/// workshop account's seed imports the workshop's key material through the sandbox's own
/// `GetParametersForImport`, and that call's fresh key pair (a prime search of a tenth of a
/// second or more) was most of a sandbox's start-up, begun only after the seed's other work.
/// The next RSA-2048 request takes it: still a new key pair, handed to one call only, just made
/// earlier. One at most and never refilled, so nothing is spent on spares nobody takes.
struct Ahead(Mutex<Option<JoinHandle<Result<WrappingKey, String>>>>);

impl Ahead {
    const fn new() -> Self {
        Ahead(Mutex::new(None))
    }

    /// Start making one on a thread of its own, unless one is being made and not yet taken.
    fn start(&self) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = std::thread::Builder::new()
                .name("wrapping-key".into())
                .spawn(|| new_wrapping_key(AHEAD_BITS))
                .ok();
        }
    }

    /// The one made ahead, waiting for it to be finished; `None` when none was started since
    /// the last was taken (or its making failed: the caller makes one itself).
    fn take(&self) -> Option<WrappingKey> {
        let handle = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        handle.join().ok()?.ok()
    }
}

static AHEAD: Ahead = Ahead::new();

/// Start making an RSA-2048 wrapping key pair ahead; [`wrapping_key`] hands it to the next
/// call that wants one.
pub fn make_wrapping_key_ahead() {
    AHEAD.start();
}

/// A new RSA wrapping key pair of `bits` for one `GetParametersForImport`: the one made ahead
/// when there is one of that size, else one made now.
pub fn wrapping_key(bits: usize) -> Result<WrappingKey, String> {
    if bits == AHEAD_BITS {
        if let Some(key) = AHEAD.take() {
            return Ok(key);
        }
    }
    new_wrapping_key(bits)
}

fn new_wrapping_key(bits: usize) -> Result<WrappingKey, String> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits).map_err(|e| e.to_string())?;
    let private = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| e.to_string())?;
    Ok((
        Zeroizing::new(private.as_bytes().to_vec()),
        public.as_bytes().to_vec(),
    ))
}

/// Unwrap imported key material with the wrapping key's private half.
pub fn unwrap(private_der: &[u8], algorithm: &str, wrapped: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let key = RsaPrivateKey::from_pkcs8_der(private_der).ok()?;
    let out = match algorithm {
        "RSAES_OAEP_SHA_1" => key.decrypt(Oaep::new::<sha1::Sha1>(), wrapped),
        "RSAES_OAEP_SHA_256" => key.decrypt(Oaep::new::<sha2::Sha256>(), wrapped),
        _ => return None,
    };
    out.ok().map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePublicKey;

    const ID: &str = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

    #[test]
    fn seal_open_binds_context_and_key() {
        let m = random_bytes(32);
        let ctx = vec![("project".to_string(), "workshop".to_string())];
        let blob = seal(ID, 0, &m, b"secret", &ctx).unwrap();
        assert_eq!(blob_key(&blob), Some((ID.to_string(), 0)));
        assert_eq!(open(ID, &m, &blob, &ctx).unwrap().as_slice(), b"secret");
        assert!(open(ID, &m, &blob, &[]).is_none());
        assert!(open(ID, &random_bytes(32), &blob, &ctx).is_none());
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(ID, &m, &tampered, &ctx).is_none());
        assert!(blob_key(b"short").is_none());
    }

    #[test]
    fn rsa_oaep_unwrap() {
        let (private, public) = wrapping_key(2048).unwrap();
        let public = rsa::RsaPublicKey::from_public_key_der(&public).unwrap();
        let material = [7u8; 32];
        let wrapped = public
            .encrypt(
                &mut rand::thread_rng(),
                Oaep::new::<sha2::Sha256>(),
                &material,
            )
            .unwrap();
        assert_eq!(
            unwrap(&private, "RSAES_OAEP_SHA_256", &wrapped)
                .unwrap()
                .as_slice(),
            &material
        );
        assert!(unwrap(&private, "RSAES_OAEP_SHA_1", &wrapped).is_none());
    }

    /// A key pair made ahead goes to one call only; the next start makes another.
    #[test]
    fn a_wrapping_key_made_ahead_is_handed_out_once() {
        let ahead = Ahead::new();
        assert!(ahead.take().is_none());
        ahead.start();
        ahead.start();
        let (private, public) = ahead.take().expect("the key pair made ahead");
        assert!(ahead.take().is_none());
        let public_key = rsa::RsaPublicKey::from_public_key_der(&public).unwrap();
        let wrapped = public_key
            .encrypt(
                &mut rand::thread_rng(),
                Oaep::new::<sha2::Sha256>(),
                &[9u8; 32],
            )
            .unwrap();
        assert!(unwrap(&private, "RSAES_OAEP_SHA_256", &wrapped).is_some());
        ahead.start();
        let (_, again) = ahead.take().expect("a second key pair made ahead");
        assert_ne!(public, again);
    }
}
