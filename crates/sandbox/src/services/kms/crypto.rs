//! KMS cryptography, done for real: AES-256-GCM ciphertext blobs whose authenticated data binds
//! the key and the encryption context, RSA wrapping key pairs and RSA-OAEP unwrapping of
//! imported key material. Holds one piece of process-wide state: the wrapping key pair a
//! workshop seed has started making ahead, on a thread of its own ([`make_wrapping_key_ahead`]).

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

/// The size of the key pair [`make_wrapping_key_ahead`] makes: the workshop's, as the seed's
/// plan asks for it (`WrappingKeySpec::Rsa2048` in `crates/prepare/src/steps/kms.rs`).
const AHEAD_BITS: usize = 2048;

/// One RSA-2048 wrapping key pair being made ahead for a seed. A new workshop account's seed
/// imports the workshop's key material through the sandbox's own `GetParametersForImport`,
/// and that call's fresh key pair (a prime search of a tenth of a second or more) was most of
/// a sandbox's start-up, begun only after the seed's other work. Only a seed's call takes it
/// (a learner's pair is always made for their call, so its timing says nothing of other
/// accounts); each pair goes to one call. At most one waits: each workshop seed starts one
/// when none does, and one a failed seed left waits for the next seed's import.
struct Ahead(Mutex<Option<JoinHandle<Result<WrappingKey, String>>>>);

impl Ahead {
    const fn new() -> Self {
        Ahead(Mutex::new(None))
    }

    /// Start making one on a thread of its own, unless one is being made and not yet taken;
    /// whether this call started it.
    fn start(&self) -> bool {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return false;
        }
        *slot = std::thread::Builder::new()
            .name("wrapping-key".into())
            .spawn(|| new_wrapping_key(AHEAD_BITS))
            .ok();
        slot.is_some()
    }

    /// The one made ahead, waiting for it to be finished; `None` when none was started since
    /// the last was taken, or its making failed (the caller makes one itself).
    fn take(&self) -> Option<WrappingKey> {
        let handle = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        match handle.join() {
            Ok(Ok(key)) => Some(key),
            Ok(Err(why)) => {
                tracing::warn!("the wrapping key pair made ahead failed: {why}");
                None
            }
            Err(_) => {
                tracing::warn!("the thread making a wrapping key pair ahead panicked");
                None
            }
        }
    }

    /// The pair for one `GetParametersForImport` of `bits`: for a seed's RSA-2048 request the
    /// one made ahead, if any; else `make(bits)`.
    fn key_for(
        &self,
        bits: usize,
        seeding: bool,
        make: impl FnOnce(usize) -> Result<WrappingKey, String>,
    ) -> Result<WrappingKey, String> {
        if seeding && bits == AHEAD_BITS {
            if let Some(key) = self.take() {
                return Ok(key);
            }
        }
        make(bits)
    }
}

static AHEAD: Ahead = Ahead::new();

/// Start making an RSA-2048 wrapping key pair for a seed's import ([`wrapping_key`] hands it
/// to the next seed's call that wants one).
pub fn make_wrapping_key_ahead() {
    AHEAD.start();
}

/// A new RSA wrapping key pair of `bits` for one `GetParametersForImport`; for a seed's call
/// (`seeding`) the one made ahead when there is one of that size.
pub fn wrapping_key(bits: usize, seeding: bool) -> Result<WrappingKey, String> {
    AHEAD.key_for(bits, seeding, new_wrapping_key)
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
        let (private, public) = new_wrapping_key(2048).unwrap();
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

    /// What `make` returns in the tests below: a pair no RSA key could be, telling "made now"
    /// from "made ahead".
    fn made_now(bits: usize) -> Result<WrappingKey, String> {
        Ok((
            Zeroizing::new(Vec::new()),
            format!("made now: {bits}").into_bytes(),
        ))
    }

    /// A key pair made ahead goes to one seed's RSA-2048 call only: not to a learner's call,
    /// not to another size, not twice; the next start makes another.
    #[test]
    fn a_wrapping_key_made_ahead_goes_to_one_seed_call_of_its_size() {
        let ahead = Ahead::new();
        assert!(ahead.take().is_none());
        assert!(ahead.start());
        assert!(!ahead.start(), "one at most is made ahead");
        let now = |r: Result<WrappingKey, String>| String::from_utf8(r.unwrap().1).unwrap();
        assert_eq!(now(ahead.key_for(2048, false, made_now)), "made now: 2048");
        assert_eq!(now(ahead.key_for(3072, true, made_now)), "made now: 3072");
        assert_eq!(now(ahead.key_for(4096, true, made_now)), "made now: 4096");
        let (private, public) = ahead.key_for(2048, true, made_now).unwrap();
        let public_key = rsa::RsaPublicKey::from_public_key_der(&public).unwrap();
        assert_eq!(
            rsa::traits::PublicKeyParts::size(&public_key) * 8,
            AHEAD_BITS
        );
        let wrapped = public_key
            .encrypt(
                &mut rand::thread_rng(),
                Oaep::new::<sha2::Sha256>(),
                &[9u8; 32],
            )
            .unwrap();
        assert!(unwrap(&private, "RSAES_OAEP_SHA_256", &wrapped).is_some());
        assert_eq!(now(ahead.key_for(2048, true, made_now)), "made now: 2048");
        assert!(ahead.start());
        let (_, again) = ahead.key_for(2048, true, made_now).unwrap();
        assert!(rsa::RsaPublicKey::from_public_key_der(&again).is_ok());
        assert_ne!(public, again);
    }
}
