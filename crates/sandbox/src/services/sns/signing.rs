//! The signature of SNS messages (SignatureVersion 1, RSA-SHA1) with the sandbox's own key,
//! whose public half is served at the messages' `SigningCertURL`.

use std::sync::OnceLock;

use serde_json::{Map, Value as J};

/// The sandbox's SNS signing key (generated once per process: signing is for realism, the
/// public half is served at the `SigningCertURL`).
fn signing_key() -> Option<&'static rsa::RsaPrivateKey> {
    static KEY: OnceLock<Option<rsa::RsaPrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).ok())
        .as_ref()
}

/// The signer over [`signing_key`], built once (building it copies the key).
fn signer() -> Option<&'static rsa::pkcs1v15::SigningKey<sha1::Sha1>> {
    static SIGNER: OnceLock<Option<rsa::pkcs1v15::SigningKey<sha1::Sha1>>> = OnceLock::new();
    SIGNER
        .get_or_init(|| signing_key().map(|k| rsa::pkcs1v15::SigningKey::new(k.clone())))
        .as_ref()
}

/// Make the signing key on a thread of its own, so the first message signed (often from a
/// request's own task) does not wait the tenth of a second an RSA key pair takes.
pub fn prepare() {
    std::thread::spawn(|| {
        let _ = signer();
    });
}

/// The PEM of the public key notifications are signed with.
pub fn signing_public_pem() -> Option<String> {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    signing_key()?
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .ok()
}

/// SignatureVersion 1: RSA-SHA1 over AWS's canonical "Key\nValue\n" string.
pub(crate) fn sign(doc: &Map<String, J>) -> String {
    let keys: &[&str] = if doc.get("Type").and_then(J::as_str) == Some("Notification") {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut canonical = String::new();
    for k in keys {
        if let Some(J::String(v)) = doc.get(*k) {
            canonical.push_str(k);
            canonical.push('\n');
            canonical.push_str(v);
            canonical.push('\n');
        }
    }
    use rsa::signature::{SignatureEncoding, Signer};
    match signer() {
        Some(signer) => crate::util::b64(&signer.sign(canonical.as_bytes()).to_bytes()),
        None => String::new(),
    }
}
