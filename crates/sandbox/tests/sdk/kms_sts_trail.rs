//! The Rust AWS SDK (aws-sdk-kms, aws-sdk-cloudtrail, aws-sdk-sts) against an in-process
//! sandbox: every KMS, STS and CloudTrail operation the workshop uses, its errors, the import
//! flow with real RSA-OAEP wrapping, the sandbox clock, and CloudTrail event history.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{
    AlgorithmSpec, DataKeySpec, ExpirationModelType, KeyManagerType, KeyState, OriginType, Tag,
    WrappingKeySpec,
};
use common::code;
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};
use serde_json::Value as J;

struct Env {
    sb: Arc<Sandbox>,
    running: Running,
    learner: SdkConfig,
    instance: SdkConfig,
}

impl Env {
    fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.learner)
    }
    fn trail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.learner)
    }
}

fn config() -> Config {
    Config {
        state_dir: None,
        seed: Seed::Workshop,
        cloudtrail_delay: time::Duration::ZERO,
        accept_any_credentials: false,
        lookup_rate_limit: false,
        ..Config::default()
    }
}

async fn sdk_config(
    endpoint: &str,
    access_key: &str,
    secret: &str,
    token: Option<&str>,
) -> SdkConfig {
    common::sdk_config(
        endpoint,
        seed::REGION,
        access_key,
        secret,
        token,
        "sdk-test",
    )
    .await
}

async fn start_with(cfg: Config) -> Env {
    let (sb, running) = common::start_sandbox(cfg).await;
    let endpoint = running.endpoint();
    let learner = sdk_config(
        &endpoint,
        seed::LEARNER_ACCESS_KEY,
        seed::LEARNER_SECRET_KEY,
        None,
    )
    .await;
    let instance = sdk_config(
        &endpoint,
        seed::INSTANCE_ACCESS_KEY,
        seed::INSTANCE_SECRET_KEY,
        Some(seed::INSTANCE_SESSION_TOKEN),
    )
    .await;
    Env {
        sb,
        running,
        learner,
        instance,
    }
}

async fn start() -> Env {
    start_with(config()).await
}

/// The seeded keys, by the state they are in and their origin.
struct Seeded {
    k1: String,
    k2: String,
    k3: String,
    ebs: String,
}

async fn seeded(kms: &aws_sdk_kms::Client) -> Seeded {
    let alias_target = |name: &'static str| async move {
        kms.describe_key()
            .key_id(name)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .key_id
    };
    let k2 = alias_target("alias/FirstCMK").await;
    let k3 = alias_target("alias/ImportedCMK").await;
    let ebs = alias_target("alias/aws/ebs").await;
    let mut k1 = None;
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        let md = kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        if md.key_state() == Some(&KeyState::PendingDeletion) {
            k1 = Some(id.to_string());
        }
    }
    Seeded {
        k1: k1.expect("a seeded key pending deletion"),
        k2,
        k3,
        ebs,
    }
}

fn key_arn(id: &str) -> String {
    format!("arn:aws:kms:{}:{}:key/{id}", seed::REGION, seed::ACCOUNT)
}

fn secs_from_now(t: &DateTime) -> i64 {
    t.secs() - time::OffsetDateTime::now_utc().unix_timestamp()
}

fn days_from_now(days: i64) -> DateTime {
    DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp() + days * 86_400)
}

fn sdk_time(t: time::OffsetDateTime) -> DateTime {
    DateTime::from_nanos(t.unix_timestamp_nanos()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// KMS
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_keys_look_like_the_workshop() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let k3 = kms
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(k3.key_id(), s.k3);
    assert_eq!(k3.arn(), Some(key_arn(&s.k3).as_str()));
    assert_eq!(k3.origin(), Some(&OriginType::External));
    assert_eq!(k3.key_state(), Some(&KeyState::Enabled));
    assert_eq!(k3.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(
        k3.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialExpires)
    );
    let valid = secs_from_now(k3.valid_to().unwrap());
    assert!(
        (19 * 86_400..=20 * 86_400 + 60).contains(&valid),
        "K3 material expires in ~20 days, not {valid} s"
    );
    assert_eq!(k3.aws_account_id(), Some(seed::ACCOUNT));
    assert!(k3.enabled());

    let k1 = kms
        .describe_key()
        .key_id(&s.k1)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(k1.origin(), Some(&OriginType::AwsKms));
    assert!(!k1.enabled());
    assert!(k1.deletion_date().is_some());
    assert_eq!(k1.pending_deletion_window_in_days(), Some(7));

    let k2 = kms
        .describe_key()
        .key_id(key_arn(&s.k2))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(k2.key_state(), Some(&KeyState::Enabled));
    assert!(k2.valid_to().is_none());
    // An alias ARN works where aliases are accepted.
    let by_alias_arn = format!(
        "arn:aws:kms:{}:{}:alias/FirstCMK",
        seed::REGION,
        seed::ACCOUNT
    );
    let k2b = kms
        .describe_key()
        .key_id(by_alias_arn)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(k2b.key_id(), s.k2);

    let ebs = kms
        .describe_key()
        .key_id(&s.ebs)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(ebs.key_manager(), Some(&KeyManagerType::Aws));

    assert_eq!(
        code!(kms.describe_key().key_id("alias/Nope").send().await),
        "NotFoundException"
    );
    assert_eq!(
        code!(
            kms.describe_key()
                .key_id("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
                .send()
                .await
        ),
        "NotFoundException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_bound_to_encryption_context() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let dk = kms
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(dk.key_id(), Some(key_arn(&s.k3).as_str()));
    let plaintext = dk.plaintext().unwrap().as_ref().to_vec();
    assert_eq!(plaintext.len(), 32);
    let blob = dk.ciphertext_blob().unwrap().clone();

    let dec = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext().unwrap().as_ref(), plaintext.as_slice());
    assert_eq!(dec.key_id(), Some(key_arn(&s.k3).as_str()));

    // The context is part of the authenticated data: without it, or with another, nothing.
    assert_eq!(
        code!(kms.decrypt().ciphertext_blob(blob.clone()).send().await),
        "InvalidCiphertextException"
    );
    assert_eq!(
        code!(
            kms.decrypt()
                .ciphertext_blob(blob.clone())
                .encryption_context("project", "other")
                .send()
                .await
        ),
        "InvalidCiphertextException"
    );
    assert_eq!(
        code!(
            kms.decrypt()
                .ciphertext_blob(blob.clone())
                .encryption_context("project", "workshop")
                .encryption_context("extra", "x")
                .send()
                .await
        ),
        "InvalidCiphertextException"
    );
    // Naming the right key is fine; naming another one is IncorrectKeyException.
    let named = kms
        .decrypt()
        .key_id("alias/ImportedCMK")
        .ciphertext_blob(blob.clone())
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(named.plaintext().unwrap().as_ref(), plaintext.as_slice());
    assert_eq!(
        code!(
            kms.decrypt()
                .key_id("alias/FirstCMK")
                .ciphertext_blob(blob.clone())
                .encryption_context("project", "workshop")
                .send()
                .await
        ),
        "IncorrectKeyException"
    );
    let mut tampered = blob.as_ref().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x40;
    assert_eq!(
        code!(
            kms.decrypt()
                .ciphertext_blob(Blob::new(tampered))
                .encryption_context("project", "workshop")
                .send()
                .await
        ),
        "InvalidCiphertextException"
    );
    assert_eq!(
        code!(
            kms.decrypt()
                .ciphertext_blob(Blob::new(b"not a kms ciphertext".to_vec()))
                .send()
                .await
        ),
        "InvalidCiphertextException"
    );

    // Without plaintext: the same envelope, decryptable later.
    let wp = kms
        .generate_data_key_without_plaintext()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes128)
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert!(wp.ciphertext_blob().is_some());
    let dec = kms
        .decrypt()
        .ciphertext_blob(wp.ciphertext_blob().unwrap().clone())
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext().unwrap().as_ref().len(), 16);

    // The workshop instance's role can do the same.
    let as_instance = aws_sdk_kms::Client::new(&env.instance);
    let dk2 = as_instance
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(dk2.plaintext().unwrap().as_ref().len(), 32);
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_length_is_number_of_bytes_xor_key_spec() {
    let env = start().await;
    let kms = env.kms();
    let gdk = || kms.generate_data_key().key_id("alias/FirstCMK");
    let n = gdk().number_of_bytes(64).send().await.unwrap();
    assert_eq!(n.plaintext().unwrap().as_ref().len(), 64);
    let one = gdk().number_of_bytes(1).send().await.unwrap();
    assert_eq!(one.plaintext().unwrap().as_ref().len(), 1);
    let max = gdk().number_of_bytes(1024).send().await.unwrap();
    assert_eq!(max.plaintext().unwrap().as_ref().len(), 1024);
    let a128 = gdk().key_spec(DataKeySpec::Aes128).send().await.unwrap();
    assert_eq!(a128.plaintext().unwrap().as_ref().len(), 16);
    assert_eq!(
        code!(
            gdk()
                .number_of_bytes(32)
                .key_spec(DataKeySpec::Aes256)
                .send()
                .await
        ),
        "ValidationException"
    );
    assert_eq!(code!(gdk().send().await), "ValidationException");
    assert_eq!(
        code!(gdk().number_of_bytes(0).send().await),
        "ValidationException"
    );
    assert_eq!(
        code!(gdk().number_of_bytes(1025).send().await),
        "ValidationException"
    );
    assert_eq!(
        code!(gdk().key_spec(DataKeySpec::from("AES_512")).send().await),
        "ValidationException"
    );
    let wp = || {
        kms.generate_data_key_without_plaintext()
            .key_id("alias/FirstCMK")
    };
    assert_eq!(code!(wp().send().await), "ValidationException");
    assert_eq!(
        code!(
            wp().number_of_bytes(16)
                .key_spec(DataKeySpec::Aes128)
                .send()
                .await
        ),
        "ValidationException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_decrypt_and_key_states() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let enc = kms
        .encrypt()
        .key_id("alias/FirstCMK")
        .plaintext(Blob::new(b"SampleFile-KMS contents".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(enc.key_id(), Some(key_arn(&s.k2).as_str()));
    assert_eq!(
        enc.encryption_algorithm().map(|a| a.as_str()),
        Some("SYMMETRIC_DEFAULT")
    );
    let blob = enc.ciphertext_blob().unwrap().clone();
    assert!(
        !blob.as_ref().windows(7).any(|w| w == b"Sample"),
        "ciphertext must not contain the plaintext"
    );
    let dec = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        dec.plaintext().unwrap().as_ref(),
        b"SampleFile-KMS contents"
    );
    assert_eq!(dec.key_id(), Some(key_arn(&s.k2).as_str()));
    let dec = kms
        .decrypt()
        .key_id(key_arn(&s.k2))
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        dec.plaintext().unwrap().as_ref(),
        b"SampleFile-KMS contents"
    );

    // Plaintext limits: 1..=4096 bytes.
    assert!(kms
        .encrypt()
        .key_id(&s.k2)
        .plaintext(Blob::new(vec![7u8; 4096]))
        .send()
        .await
        .is_ok());
    assert_eq!(
        code!(
            kms.encrypt()
                .key_id(&s.k2)
                .plaintext(Blob::new(vec![7u8; 4097]))
                .send()
                .await
        ),
        "ValidationException"
    );

    // K1 is pending deletion: no cryptography.
    assert_eq!(
        code!(
            kms.encrypt()
                .key_id(&s.k1)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    // Disabled keys refuse both directions; enabling them again restores both.
    kms.disable_key().key_id(&s.k2).send().await.unwrap();
    let md = kms
        .describe_key()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Disabled));
    assert!(!md.enabled());
    assert_eq!(
        code!(
            kms.encrypt()
                .key_id(&s.k2)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        "DisabledException"
    );
    assert_eq!(
        code!(kms.decrypt().ciphertext_blob(blob.clone()).send().await),
        "DisabledException"
    );
    kms.enable_key().key_id(&s.k2).send().await.unwrap();
    assert!(kms.decrypt().ciphertext_blob(blob).send().await.is_ok());
    // Key-management operations take key ids or ARNs, not aliases.
    assert_eq!(
        code!(kms.disable_key().key_id("alias/FirstCMK").send().await),
        "NotFoundException"
    );
    assert_eq!(
        code!(kms.enable_key().key_id(&s.k1).send().await),
        "KMSInvalidStateException"
    );
    env.running.shutdown().await;
}

fn wrap(public_der: &[u8], material: &[u8], sha256: bool) -> Vec<u8> {
    use rsa::pkcs8::DecodePublicKey;
    let public = rsa::RsaPublicKey::from_public_key_der(public_der).unwrap();
    let padding = if sha256 {
        rsa::Oaep::new::<sha2::Sha256>()
    } else {
        rsa::Oaep::new::<sha1::Sha1>()
    };
    public
        .encrypt(&mut rand::thread_rng(), padding, material)
        .unwrap()
}

struct ImportParams {
    token: Blob,
    public_key: Vec<u8>,
}

async fn import_params(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    algorithm: AlgorithmSpec,
) -> ImportParams {
    let p = kms
        .get_parameters_for_import()
        .key_id(key_id)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .wrapping_algorithm(algorithm)
        .send()
        .await
        .unwrap();
    assert_eq!(p.key_id(), Some(key_arn(key_id).as_str()));
    let valid = secs_from_now(p.parameters_valid_to().unwrap());
    assert!(
        (23 * 3600..=24 * 3600 + 60).contains(&valid),
        "import parameters are valid for 24 h, not {valid} s"
    );
    ImportParams {
        token: p.import_token().unwrap().clone(),
        public_key: p.public_key().unwrap().as_ref().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_key_material_flow() {
    use rand::RngCore;
    let env = start().await;
    let kms = env.kms();
    let created = kms
        .create_key()
        .origin(OriginType::External)
        .description("imported by the SDK test")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let id = created.key_id().to_string();
    assert_eq!(created.key_state(), Some(&KeyState::PendingImport));
    assert_eq!(created.origin(), Some(&OriginType::External));
    assert!(!created.enabled());
    assert_eq!(
        code!(
            kms.encrypt()
                .key_id(&id)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );

    let mut material = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut material);
    let p = import_params(&kms, &id, AlgorithmSpec::RsaesOaepSha256).await;

    // ValidTo must be in the future and at most 365 days ahead.
    let import = |token: &Blob, wrapped: Vec<u8>, valid_to: DateTime| {
        kms.import_key_material()
            .key_id(&id)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialExpires)
            .valid_to(valid_to)
            .send()
    };
    let wrapped = wrap(&p.public_key, &material, true);
    assert_eq!(
        code!(import(&p.token, wrapped.clone(), days_from_now(-1)).await),
        "ValidationException"
    );
    assert_eq!(
        code!(import(&p.token, wrapped.clone(), days_from_now(366)).await),
        "ValidationException"
    );
    // Wrapped with the wrong OAEP hash: the sandbox cannot unwrap it.
    assert_eq!(
        code!(
            import(
                &p.token,
                wrap(&p.public_key, &material, false),
                days_from_now(30)
            )
            .await
        ),
        "InvalidCiphertextException"
    );
    // 16 bytes is not a SYMMETRIC_DEFAULT key.
    assert_eq!(
        code!(
            import(
                &p.token,
                wrap(&p.public_key, &material[..16], true),
                days_from_now(30)
            )
            .await
        ),
        "IncorrectKeyMaterialException"
    );
    // A token for another key is refused.
    let other = kms
        .create_key()
        .origin(OriginType::External)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let other_p = import_params(&kms, other.key_id(), AlgorithmSpec::RsaesOaepSha256).await;
    assert_eq!(
        code!(
            import(
                &other_p.token,
                wrap(&other_p.public_key, &material, true),
                days_from_now(30)
            )
            .await
        ),
        "InvalidImportTokenException"
    );

    import(&p.token, wrapped, days_from_now(30)).await.unwrap();
    let md = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        md.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialExpires)
    );
    let valid = secs_from_now(md.valid_to().unwrap());
    assert!(
        (30 * 86_400 - 120..=30 * 86_400 + 60).contains(&valid),
        "ValidTo ~30 days ahead, not {valid} s"
    );

    // Use it.
    let ct = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"imported".to_vec()))
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let dec = kms
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext().unwrap().as_ref(), b"imported");
    let dk = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(dk.plaintext().unwrap().as_ref().len(), 32);

    // Different material can never be imported into this key.
    let p2 = import_params(&kms, &id, AlgorithmSpec::RsaesOaepSha1).await;
    assert_eq!(
        code!(
            import(
                &p2.token,
                wrap(&p2.public_key, &[9u8; 32], false),
                days_from_now(30)
            )
            .await
        ),
        "IncorrectKeyMaterialException"
    );

    // Delete the material: PendingImport, no cryptography, old ciphertexts unreadable.
    let del = kms
        .delete_imported_key_material()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(del.key_id(), Some(key_arn(&id).as_str()));
    let md = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    assert!(md.valid_to().is_none());
    assert_eq!(
        code!(
            kms.decrypt()
                .ciphertext_blob(ct.clone())
                .encryption_context("project", "workshop")
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );

    // The same material again (SHA-1 OAEP this time, without expiry) brings the key back, and
    // ciphertexts from before decrypt again.
    kms.import_key_material()
        .key_id(&id)
        .import_token(p2.token.clone())
        .encrypted_key_material(Blob::new(wrap(&p2.public_key, &material, false)))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap();
    let md = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        md.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    let dec = kms
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext().unwrap().as_ref(), b"imported");

    // Import operations are for EXTERNAL keys only.
    let aws_kms = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    assert_eq!(aws_kms.origin(), Some(&OriginType::AwsKms));
    assert_eq!(aws_kms.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        code!(
            kms.get_parameters_for_import()
                .key_id(aws_kms.key_id())
                .wrapping_key_spec(WrappingKeySpec::Rsa2048)
                .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
                .send()
                .await
        ),
        "UnsupportedOperationException"
    );
    assert_eq!(
        code!(
            kms.delete_imported_key_material()
                .key_id(aws_kms.key_id())
                .send()
                .await
        ),
        "UnsupportedOperationException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_material_expires_when_the_clock_passes_valid_to() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let dk = kms
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    env.sb.advance_clock(time::Duration::days(21)).unwrap();
    // The state follows the clock at once; the tick deletes the material.
    let md = kms
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    env.sb.tick();
    let md = kms
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    assert!(md.valid_to().is_none());
    assert!(md.expiration_model().is_none());
    assert_eq!(
        code!(
            kms.generate_data_key()
                .key_id("alias/ImportedCMK")
                .key_spec(DataKeySpec::Aes256)
                .encryption_context("project", "workshop")
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code!(
            kms.decrypt()
                .ciphertext_blob(dk.ciphertext_blob().unwrap().clone())
                .encryption_context("project", "workshop")
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    // The other keys are unaffected; K1's 7-day waiting period is over, so it is gone.
    assert!(kms
        .encrypt()
        .key_id("alias/FirstCMK")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .is_ok());
    assert_eq!(
        code!(kms.describe_key().key_id(&s.k1).send().await),
        "NotFoundException"
    );
    let ids: Vec<String> = kms
        .list_keys()
        .send()
        .await
        .unwrap()
        .keys()
        .iter()
        .map(|k| k.key_id().unwrap().to_string())
        .collect();
    assert!(!ids.contains(&s.k1));
    assert!(ids.contains(&s.k3));
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_and_cancel_key_deletion() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    // K1 is already pending deletion.
    assert_eq!(
        code!(
            kms.schedule_key_deletion()
                .key_id(&s.k1)
                .pending_window_in_days(7)
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    // The window is 7–30 days.
    for bad in [0, 6, 31, 365] {
        assert_eq!(
            code!(
                kms.schedule_key_deletion()
                    .key_id(&s.k2)
                    .pending_window_in_days(bad)
                    .send()
                    .await
            ),
            "ValidationException",
            "window {bad}"
        );
    }
    // Aliases are refused.
    assert_eq!(
        code!(
            kms.schedule_key_deletion()
                .key_id("alias/FirstCMK")
                .pending_window_in_days(7)
                .send()
                .await
        ),
        "NotFoundException"
    );
    let sched = kms
        .schedule_key_deletion()
        .key_id(&s.k2)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(sched.key_id(), Some(key_arn(&s.k2).as_str()));
    assert_eq!(sched.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(sched.pending_window_in_days(), Some(7));
    let in_secs = secs_from_now(sched.deletion_date().unwrap());
    assert!(
        (7 * 86_400 - 60..=7 * 86_400 + 60).contains(&in_secs),
        "deletion in 7 days, not {in_secs} s"
    );
    let md = kms
        .describe_key()
        .key_id("alias/FirstCMK")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(md.pending_deletion_window_in_days(), Some(7));
    assert_eq!(
        code!(
            kms.encrypt()
                .key_id("alias/FirstCMK")
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code!(kms.schedule_key_deletion().key_id(&s.k2).send().await),
        "KMSInvalidStateException"
    );

    let cancel = kms
        .cancel_key_deletion()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.key_id(), Some(key_arn(&s.k2).as_str()));
    // A key whose deletion was cancelled is Disabled.
    let md = kms
        .describe_key()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Disabled));
    assert!(md.deletion_date().is_none());
    assert!(md.pending_deletion_window_in_days().is_none());
    kms.enable_key().key_id(&s.k2).send().await.unwrap();
    assert_eq!(
        code!(kms.cancel_key_deletion().key_id(&s.k2).send().await),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code!(
            kms.cancel_key_deletion()
                .key_id("alias/FirstCMK")
                .send()
                .await
        ),
        "NotFoundException"
    );

    // Default window: 30 days. The seeded K1 can be cancelled too.
    let d = kms
        .schedule_key_deletion()
        .key_id(&s.k3)
        .send()
        .await
        .unwrap();
    assert_eq!(d.pending_window_in_days(), Some(30));
    kms.cancel_key_deletion()
        .key_id(&s.k1)
        .send()
        .await
        .unwrap();
    // AWS managed keys cannot be scheduled for deletion.
    assert!(kms
        .schedule_key_deletion()
        .key_id(&s.ebs)
        .pending_window_in_days(7)
        .send()
        .await
        .is_err());
    // Passing the deletion date deletes the key and its aliases.
    env.sb.advance_clock(time::Duration::days(31)).unwrap();
    env.sb.tick();
    assert_eq!(
        code!(kms.describe_key().key_id(&s.k3).send().await),
        "NotFoundException"
    );
    assert_eq!(
        code!(kms.describe_key().key_id("alias/ImportedCMK").send().await),
        "NotFoundException"
    );
    let names: Vec<String> = kms
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name().map(str::to_string))
        .collect();
    assert!(!names.contains(&"alias/ImportedCMK".to_string()));
    assert!(names.contains(&"alias/FirstCMK".to_string()));
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let all = kms.list_aliases().send().await.unwrap();
    let names: Vec<&str> = all
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    for n in ["alias/FirstCMK", "alias/ImportedCMK", "alias/aws/ebs"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let first = all
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some("alias/FirstCMK"))
        .unwrap();
    assert_eq!(first.target_key_id(), Some(s.k2.as_str()));
    assert_eq!(
        first.alias_arn(),
        Some(
            format!(
                "arn:aws:kms:{}:{}:alias/FirstCMK",
                seed::REGION,
                seed::ACCOUNT
            )
            .as_str()
        )
    );
    assert!(first.creation_date().is_some());

    kms.create_alias()
        .alias_name("alias/SdkTest")
        .target_key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(
            kms.create_alias()
                .alias_name("alias/SdkTest")
                .target_key_id(&s.k3)
                .send()
                .await
        ),
        "AlreadyExistsException"
    );
    assert_eq!(
        code!(
            kms.create_alias()
                .alias_name("alias/aws/mine")
                .target_key_id(&s.k2)
                .send()
                .await
        ),
        "InvalidAliasNameException"
    );
    assert_eq!(
        code!(
            kms.create_alias()
                .alias_name("NoPrefix")
                .target_key_id(&s.k2)
                .send()
                .await
        ),
        "InvalidAliasNameException"
    );
    assert_eq!(
        code!(
            kms.create_alias()
                .alias_name("alias/bad name")
                .target_key_id(&s.k2)
                .send()
                .await
        ),
        "InvalidAliasNameException"
    );
    // An alias cannot point at another alias, nor at a key pending deletion.
    assert_eq!(
        code!(
            kms.create_alias()
                .alias_name("alias/Chained")
                .target_key_id("alias/FirstCMK")
                .send()
                .await
        ),
        "NotFoundException"
    );
    assert_eq!(
        code!(
            kms.create_alias()
                .alias_name("alias/ToK1")
                .target_key_id(&s.k1)
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );
    let for_k2 = kms.list_aliases().key_id(&s.k2).send().await.unwrap();
    let mut names: Vec<&str> = for_k2
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alias/FirstCMK", "alias/SdkTest"]);

    kms.update_alias()
        .alias_name("alias/SdkTest")
        .target_key_id(&s.k3)
        .send()
        .await
        .unwrap();
    let md = kms
        .describe_key()
        .key_id("alias/SdkTest")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_id(), s.k3);
    assert_eq!(
        code!(
            kms.update_alias()
                .alias_name("alias/Missing")
                .target_key_id(&s.k3)
                .send()
                .await
        ),
        "NotFoundException"
    );
    kms.delete_alias()
        .alias_name("alias/SdkTest")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(kms.delete_alias().alias_name("alias/SdkTest").send().await),
        "NotFoundException"
    );
    assert_eq!(
        code!(kms.describe_key().key_id("alias/SdkTest").send().await),
        "NotFoundException"
    );

    // Paging.
    for i in 0..5 {
        kms.create_alias()
            .alias_name(format!("alias/page-{i}"))
            .target_key_id(&s.k2)
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.aliases().len() <= 2);
        seen.extend(
            page.aliases()
                .iter()
                .filter_map(|a| a.alias_name().map(str::to_string)),
        );
        if !page.truncated() {
            assert!(page.next_marker().is_none());
            break;
        }
        marker = page.next_marker().map(str::to_string);
        assert!(marker.is_some());
    }
    assert_eq!(seen.len(), 9);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 9);
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    let t = kms.list_resource_tags().key_id(&s.k3).send().await.unwrap();
    assert_eq!(t.tags().len(), 1);
    assert_eq!(t.tags()[0].tag_key(), "project");
    assert_eq!(t.tags()[0].tag_value(), "kmsworkshop");
    assert!(!t.truncated());

    kms.tag_resource()
        .key_id(&s.k2)
        .tags(tag("team", "a"))
        .tags(tag("env", "lab"))
        .send()
        .await
        .unwrap();
    kms.tag_resource()
        .key_id(key_arn(&s.k2))
        .tags(tag("team", "b"))
        .send()
        .await
        .unwrap();
    let t = kms.list_resource_tags().key_id(&s.k2).send().await.unwrap();
    let mut got: Vec<(String, String)> = t
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("env".to_string(), "lab".to_string()),
            ("team".to_string(), "b".to_string())
        ]
    );
    kms.untag_resource()
        .key_id(&s.k2)
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let t = kms.list_resource_tags().key_id(&s.k2).send().await.unwrap();
    assert_eq!(t.tags().len(), 1);
    assert_eq!(t.tags()[0].tag_key(), "env");

    assert_eq!(
        code!(
            kms.tag_resource()
                .key_id(&s.k2)
                .tags(tag("aws:x", "y"))
                .send()
                .await
        ),
        "TagException"
    );
    assert_eq!(
        code!(
            kms.tag_resource()
                .key_id("alias/FirstCMK")
                .tags(tag("a", "b"))
                .send()
                .await
        ),
        "NotFoundException"
    );
    assert_eq!(
        code!(
            kms.tag_resource()
                .key_id(&s.k1)
                .tags(tag("a", "b"))
                .send()
                .await
        ),
        "KMSInvalidStateException"
    );

    // Tags given at creation.
    let k = kms
        .create_key()
        .tags(tag("project", "sdk"))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let t = kms
        .list_resource_tags()
        .key_id(k.key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(t.tags().len(), 1);
    assert_eq!(t.tags()[0].tag_value(), "sdk");
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let st = kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert!(!st.key_rotation_enabled());
    kms.enable_key_rotation()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    let st = kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(365));
    assert!(st.next_rotation_date().is_some());
    kms.enable_key_rotation()
        .key_id(&s.k2)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let st = kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert_eq!(st.rotation_period_in_days(), Some(90));
    assert_eq!(
        code!(
            kms.enable_key_rotation()
                .key_id(&s.k2)
                .rotation_period_in_days(89)
                .send()
                .await
        ),
        "ValidationException"
    );
    kms.disable_key_rotation()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap();
    assert!(!kms
        .get_key_rotation_status()
        .key_id(&s.k2)
        .send()
        .await
        .unwrap()
        .key_rotation_enabled());

    // Keys with imported material cannot rotate automatically.
    assert_eq!(
        code!(kms.enable_key_rotation().key_id(&s.k3).send().await),
        "UnsupportedOperationException"
    );
    assert!(!kms
        .get_key_rotation_status()
        .key_id(&s.k3)
        .send()
        .await
        .unwrap()
        .key_rotation_enabled());
    assert_eq!(
        code!(kms.enable_key_rotation().key_id(&s.k1).send().await),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code!(
            kms.enable_key_rotation()
                .key_id("alias/FirstCMK")
                .send()
                .await
        ),
        "NotFoundException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let names = kms.list_key_policies().key_id(&s.k2).send().await.unwrap();
    assert_eq!(names.policy_names(), ["default"]);
    assert!(!names.truncated());
    let p = kms
        .get_key_policy()
        .key_id(&s.k2)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    let doc: J = serde_json::from_str(p.policy().unwrap()).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{}:root", seed::ACCOUNT)
    );
    assert_eq!(doc["Statement"][0]["Action"], "kms:*");
    // PolicyName is optional in current KMS.
    let p2 = kms.get_key_policy().key_id(&s.k2).send().await.unwrap();
    assert_eq!(p2.policy(), p.policy());
    assert_eq!(
        code!(
            kms.get_key_policy()
                .key_id(&s.k2)
                .policy_name("other")
                .send()
                .await
        ),
        "NotFoundException"
    );

    let new_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", seed::ACCOUNT)}, "Action": "kms:*", "Resource": "*"}]
    })
    .to_string();
    kms.put_key_policy()
        .key_id(&s.k2)
        .policy_name("default")
        .policy(&new_policy)
        .send()
        .await
        .unwrap();
    let p3 = kms
        .get_key_policy()
        .key_id(&s.k2)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(p3.policy(), Some(new_policy.as_str()));
    assert_eq!(
        code!(
            kms.put_key_policy()
                .key_id(&s.k2)
                .policy_name("default")
                .policy("{not json")
                .send()
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_paging() {
    let env = start().await;
    let kms = env.kms();
    for _ in 0..5 {
        kms.create_key().send().await.unwrap();
    }
    let all = kms.list_keys().limit(1000).send().await.unwrap();
    assert!(!all.truncated());
    assert!(all.next_marker().is_none());
    let all: Vec<String> = all
        .keys()
        .iter()
        .map(|k| k.key_id().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), 10, "5 seeded keys + 5 new ones");
    for k in kms.list_keys().send().await.unwrap().keys() {
        assert_eq!(k.key_arn(), Some(key_arn(k.key_id().unwrap()).as_str()));
    }

    let mut paged = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let page = kms
            .list_keys()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.keys().len() <= 2);
        paged.extend(page.keys().iter().map(|k| k.key_id().unwrap().to_string()));
        if !page.truncated() {
            break;
        }
        marker = Some(
            page.next_marker()
                .expect("a truncated page has a marker")
                .to_string(),
        );
    }
    assert_eq!(pages, 5);
    assert_eq!(
        paged, all,
        "paging returns every key once, in the same order"
    );

    // The SDK paginator agrees.
    let via_paginator: Vec<String> = kms
        .list_keys()
        .limit(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|k| k.unwrap().key_id().unwrap().to_string())
        .collect();
    assert_eq!(via_paginator, all);

    assert_eq!(
        code!(kms.list_keys().limit(0).send().await),
        "ValidationException"
    );
    assert_eq!(
        code!(kms.list_keys().limit(1001).send().await),
        "ValidationException"
    );
    assert_eq!(
        code!(kms.list_keys().marker("not-a-marker").send().await),
        "InvalidMarkerException"
    );
    env.running.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// STS
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_identity_of_both_identities() {
    let env = start().await;
    let me = aws_sdk_sts::Client::new(&env.learner)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some(seed::ACCOUNT));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/{}", seed::ACCOUNT, seed::LEARNER_USER).as_str())
    );
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    let inst = aws_sdk_sts::Client::new(&env.instance)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(inst.account(), Some(seed::ACCOUNT));
    assert_eq!(
        inst.arn(),
        Some(
            format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                seed::ACCOUNT,
                seed::INSTANCE_ROLE,
                seed::INSTANCE_ID
            )
            .as_str()
        )
    );
    let uid = inst.user_id().unwrap();
    assert!(
        uid.starts_with("AROA") && uid.ends_with(&format!(":{}", seed::INSTANCE_ID)),
        "{uid}"
    );

    // Bad credentials.
    let endpoint = env.running.endpoint();
    let wrong_secret = sdk_config(&endpoint, seed::LEARNER_ACCESS_KEY, "wrong", None).await;
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&wrong_secret)
                .get_caller_identity()
                .send()
                .await
        ),
        "SignatureDoesNotMatch"
    );
    let unknown = sdk_config(&endpoint, "AKIAUNKNOWNUNKNOWN00", "x", None).await;
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&unknown)
                .get_caller_identity()
                .send()
                .await
        ),
        "InvalidClientTokenId"
    );
    let no_token = sdk_config(
        &endpoint,
        seed::INSTANCE_ACCESS_KEY,
        seed::INSTANCE_SECRET_KEY,
        None,
    )
    .await;
    assert_eq!(
        code!(
            aws_sdk_sts::Client::new(&no_token)
                .get_caller_identity()
                .send()
                .await
        ),
        "InvalidClientTokenId"
    );
    // The JSON services answer in their own protocol.
    let unknown_kms = aws_sdk_kms::Client::new(&unknown);
    assert_eq!(
        code!(unknown_kms.list_keys().send().await),
        "UnrecognizedClientException"
    );
    let wrong_kms = aws_sdk_kms::Client::new(&wrong_secret);
    assert_eq!(
        code!(wrong_kms.list_keys().send().await),
        "InvalidSignatureException"
    );
    env.running.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// CloudTrail
// ---------------------------------------------------------------------------------------------

fn attr(key: LookupAttributeKey, value: &str) -> LookupAttribute {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .unwrap()
}

/// Every event of a lookup, following NextToken; asserts newest first and no duplicates.
async fn lookup_all(
    trail: &aws_sdk_cloudtrail::Client,
    attribute: Option<LookupAttribute>,
    page_size: i32,
) -> Vec<aws_sdk_cloudtrail::types::Event> {
    let mut out: Vec<aws_sdk_cloudtrail::types::Event> = Vec::new();
    let mut token = None;
    loop {
        let page = trail
            .lookup_events()
            .set_lookup_attributes(attribute.clone().map(|a| vec![a]))
            .max_results(page_size)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.events().len() <= page_size as usize);
        out.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let ids: HashSet<&str> = out.iter().map(|e| e.event_id().unwrap()).collect();
    assert_eq!(ids.len(), out.len(), "no event twice");
    for w in out.windows(2) {
        assert!(
            w[0].event_time().unwrap() >= w[1].event_time().unwrap(),
            "newest first"
        );
    }
    // Only this test's calls: the workshop seed's history (the earlier sections' calls) is
    // at least three hours old.
    let recent = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let recent = aws_sdk_cloudtrail::primitives::DateTime::from(recent);
    out.retain(|e| e.event_time().is_some_and(|t| *t > recent));
    out
}

async fn lookup(
    trail: &aws_sdk_cloudtrail::Client,
    a: LookupAttribute,
) -> Vec<aws_sdk_cloudtrail::types::Event> {
    lookup_all(trail, Some(a), 50).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_by_each_attribute() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let trail = env.trail();
    // The workshop's calls: the instance generates a data key, the learner encrypts and
    // creates an alias (a write).
    let as_instance = aws_sdk_kms::Client::new(&env.instance);
    as_instance
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    kms.encrypt()
        .key_id("alias/FirstCMK")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/Lookup")
        .target_key_id(&s.k2)
        .send()
        .await
        .unwrap();
    aws_sdk_sts::Client::new(&env.learner)
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    let gdk = lookup(
        &trail,
        attr(LookupAttributeKey::EventName, "GenerateDataKey"),
    )
    .await;
    assert_eq!(gdk.len(), 1);
    let ev = &gdk[0];
    assert_eq!(ev.event_name(), Some("GenerateDataKey"));
    assert_eq!(ev.username(), Some(seed::INSTANCE_ID));
    assert_eq!(ev.access_key_id(), Some(seed::INSTANCE_ACCESS_KEY));
    assert_eq!(ev.event_source(), Some("kms.amazonaws.com"));
    assert_eq!(ev.read_only(), Some("true"));
    let event_id = ev.event_id().unwrap().to_string();

    let by_user = lookup(
        &trail,
        attr(LookupAttributeKey::Username, seed::INSTANCE_ID),
    )
    .await;
    assert_eq!(by_user.len(), 1, "the instance made one call");
    assert_eq!(by_user[0].event_id(), Some(event_id.as_str()));
    let learner = lookup(
        &trail,
        attr(LookupAttributeKey::Username, seed::LEARNER_USER),
    )
    .await;
    assert!(learner.len() >= 4);
    assert!(learner
        .iter()
        .all(|e| e.username() == Some(seed::LEARNER_USER)));

    let by_id = lookup(&trail, attr(LookupAttributeKey::EventId, &event_id)).await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].event_name(), Some("GenerateDataKey"));

    let writes = lookup(&trail, attr(LookupAttributeKey::ReadOnly, "false")).await;
    assert!(writes.iter().all(|e| e.read_only() == Some("false")));
    assert!(writes.iter().any(|e| e.event_name() == Some("CreateAlias")));
    assert!(!writes.iter().any(|e| e.event_name() == Some("Encrypt")));
    let reads = lookup(&trail, attr(LookupAttributeKey::ReadOnly, "true")).await;
    assert!(reads.iter().all(|e| e.read_only() == Some("true")));
    assert!(reads.iter().any(|e| e.event_name() == Some("Encrypt")));
    assert!(reads
        .iter()
        .any(|e| e.event_name() == Some("GenerateDataKey")));

    let keys = lookup(
        &trail,
        attr(LookupAttributeKey::ResourceType, "AWS::KMS::Key"),
    )
    .await;
    assert!(keys.iter().all(|e| e
        .resources()
        .iter()
        .any(|r| r.resource_type() == Some("AWS::KMS::Key"))));
    assert!(keys.iter().any(|e| e.event_id() == Some(event_id.as_str())));
    assert!(!keys
        .iter()
        .any(|e| e.event_name() == Some("GetCallerIdentity")));

    let k3_arn = key_arn(&s.k3);
    let k3 = lookup(&trail, attr(LookupAttributeKey::ResourceName, &k3_arn)).await;
    assert!(k3.iter().any(|e| e.event_id() == Some(event_id.as_str())));
    assert!(k3.iter().all(|e| e
        .resources()
        .iter()
        .any(|r| r.resource_name() == Some(k3_arn.as_str()))));
    assert!(
        !k3.iter().any(|e| e.event_name() == Some("Encrypt")),
        "the Encrypt call used K2"
    );

    let kms_events = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "kms.amazonaws.com"),
    )
    .await;
    assert!(kms_events
        .iter()
        .all(|e| e.event_source() == Some("kms.amazonaws.com")));
    assert!(kms_events.len() >= 3);
    let sts_events = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "sts.amazonaws.com"),
    )
    .await;
    assert_eq!(sts_events.len(), 1);
    assert_eq!(sts_events[0].event_name(), Some("GetCallerIdentity"));
    // LookupEvents itself is recorded too.
    let ct_events = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "cloudtrail.amazonaws.com"),
    )
    .await;
    assert!(ct_events
        .iter()
        .all(|e| e.event_name() == Some("LookupEvents")));
    assert!(!ct_events.is_empty());

    let by_key = lookup(
        &trail,
        attr(LookupAttributeKey::AccessKeyId, seed::INSTANCE_ACCESS_KEY),
    )
    .await;
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0].event_id(), Some(event_id.as_str()));

    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "NoSuchEvent"))
            .await
            .is_empty()
    );

    // Errors.
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
                .lookup_attributes(attr(LookupAttributeKey::Username, seed::LEARNER_USER))
                .send()
                .await
        ),
        "InvalidLookupAttributesException"
    );
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .lookup_attributes(attr(LookupAttributeKey::from("Region"), "x"))
                .send()
                .await
        ),
        "InvalidLookupAttributesException"
    );
    assert_eq!(
        code!(trail.lookup_events().max_results(51).send().await),
        "InvalidMaxResultsException"
    );
    assert_eq!(
        code!(trail.lookup_events().max_results(0).send().await),
        "InvalidMaxResultsException"
    );
    let now = env.sb.clock.now();
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .start_time(sdk_time(now))
                .end_time(sdk_time(now - time::Duration::hours(1)))
                .send()
                .await
        ),
        "InvalidTimeRangeException"
    );
    assert_eq!(
        code!(trail.lookup_events().next_token("garbage").send().await),
        "InvalidNextTokenException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_record_fields() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let trail = env.trail();
    let as_instance = aws_sdk_kms::Client::new(&env.instance);
    as_instance
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .encryption_context("Department", "IT")
        .send()
        .await
        .unwrap();
    let ev = lookup(
        &trail,
        attr(LookupAttributeKey::EventName, "GenerateDataKey"),
    )
    .await
    .remove(0);
    let k3_arn = key_arn(&s.k3);
    assert_eq!(ev.resources().len(), 1);
    assert_eq!(ev.resources()[0].resource_type(), Some("AWS::KMS::Key"));
    assert_eq!(ev.resources()[0].resource_name(), Some(k3_arn.as_str()));
    let t = ev.event_time().unwrap();
    assert!(secs_from_now(t).abs() < 600);

    let r: J = serde_json::from_str(ev.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(r["eventVersion"], "1.11");
    let ui = &r["userIdentity"];
    assert_eq!(ui["type"], "AssumedRole");
    assert_eq!(
        ui["arn"],
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            seed::ACCOUNT,
            seed::INSTANCE_ROLE,
            seed::INSTANCE_ID
        )
    );
    assert_eq!(ui["accountId"], seed::ACCOUNT);
    assert_eq!(ui["accessKeyId"], seed::INSTANCE_ACCESS_KEY);
    assert!(ui["principalId"]
        .as_str()
        .unwrap()
        .ends_with(seed::INSTANCE_ID));
    assert_eq!(ui["sessionContext"]["sessionIssuer"]["type"], "Role");
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["userName"],
        seed::INSTANCE_ROLE
    );
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["arn"],
        format!(
            "arn:aws:iam::{}:role/{}",
            seed::ACCOUNT,
            seed::INSTANCE_ROLE
        )
    );
    assert!(ui["sessionContext"]["attributes"]["creationDate"].is_string());
    let event_time = r["eventTime"].as_str().unwrap();
    assert!(
        event_time.ends_with('Z') && event_time.len() == 20,
        "{event_time}"
    );
    assert_eq!(r["eventSource"], "kms.amazonaws.com");
    assert_eq!(r["eventName"], "GenerateDataKey");
    assert_eq!(r["awsRegion"], seed::REGION);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(
        r["userAgent"].as_str().unwrap().contains("aws-sdk-rust"),
        "{}",
        r["userAgent"]
    );
    let rp = &r["requestParameters"];
    assert_eq!(
        rp["keyId"], "alias/ImportedCMK",
        "the key id as the caller passed it"
    );
    assert_eq!(rp["keySpec"], "AES_256");
    // Encryption-context keys are logged as given (not camel-cased like member names).
    assert_eq!(
        rp["encryptionContext"],
        serde_json::json!({"project": "workshop", "Department": "IT"})
    );
    assert!(r["responseElements"].is_null());
    assert!(r["requestID"].is_string());
    assert_eq!(r["eventID"], ev.event_id().unwrap());
    assert_eq!(r["readOnly"], true);
    assert_eq!(
        r["resources"],
        serde_json::json!([{"accountId": seed::ACCOUNT, "type": "AWS::KMS::Key", "ARN": k3_arn}])
    );
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["recipientAccountId"], seed::ACCOUNT);
    assert_eq!(r["eventCategory"], "Management");
    let text = ev.cloud_trail_event().unwrap();
    assert!(
        !text.contains("plaintext") && !text.contains("ciphertextBlob"),
        "no key material logged: {text}"
    );

    // The learner's record, and a failed call's error code.
    let blob = kms
        .encrypt()
        .key_id("alias/FirstCMK")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let _ = kms
        .decrypt()
        .ciphertext_blob(blob.ciphertext_blob.unwrap())
        .encryption_context("a", "b")
        .send()
        .await;
    let dec = lookup(&trail, attr(LookupAttributeKey::EventName, "Decrypt"))
        .await
        .remove(0);
    let r: J = serde_json::from_str(dec.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(r["userIdentity"]["type"], "IAMUser");
    assert_eq!(r["userIdentity"]["userName"], seed::LEARNER_USER);
    assert_eq!(
        r["userIdentity"]["arn"],
        format!("arn:aws:iam::{}:user/{}", seed::ACCOUNT, seed::LEARNER_USER)
    );
    assert_eq!(r["errorCode"], "InvalidCiphertextException");
    assert_eq!(dec.username(), Some(seed::LEARNER_USER));

    // A write logs its response elements.
    kms.schedule_key_deletion()
        .key_id(&s.k2)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let sched = lookup(
        &trail,
        attr(LookupAttributeKey::EventName, "ScheduleKeyDeletion"),
    )
    .await
    .remove(0);
    let r: J = serde_json::from_str(sched.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(r["readOnly"], false);
    assert_eq!(r["requestParameters"]["pendingWindowInDays"], 7);
    assert_eq!(r["responseElements"]["keyState"], "PendingDeletion");
    assert_eq!(sched.read_only(), Some("false"));
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_paging_and_time_range() {
    let env = start().await;
    let kms = env.kms();
    let trail = env.trail();
    let encrypt = || {
        kms.encrypt()
            .key_id("alias/FirstCMK")
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
    };
    for _ in 0..5 {
        encrypt().await.unwrap();
    }
    // CloudTrail times events to the second: step into a new second before taking a bound, and
    // take bounds as whole seconds.
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(1100));
    let whole_second = |t: time::OffsetDateTime| t.replace_nanosecond(0).unwrap();
    pause().await;
    let t0 = whole_second(env.sb.clock.now());
    for _ in 0..23 {
        encrypt().await.unwrap();
    }
    let t1 = whole_second(env.sb.clock.now());
    pause().await;
    for _ in 0..4 {
        encrypt().await.unwrap();
    }

    let one_page = lookup_all(
        &trail,
        Some(attr(LookupAttributeKey::EventName, "Encrypt")),
        50,
    )
    .await;
    assert_eq!(one_page.len(), 32);
    for size in [1, 7, 16, 32] {
        let paged = lookup_all(
            &trail,
            Some(attr(LookupAttributeKey::EventName, "Encrypt")),
            size,
        )
        .await;
        let a: Vec<_> = paged.iter().map(|e| e.event_id().unwrap()).collect();
        let b: Vec<_> = one_page.iter().map(|e| e.event_id().unwrap()).collect();
        assert_eq!(a, b, "page size {size}");
    }
    // Without an attribute, everything (including the LookupEvents calls themselves).
    let everything = lookup_all(&trail, None, 50).await;
    assert!(everything.len() > 50);
    assert!(
        everything
            .iter()
            .filter(|e| e.event_name() == Some("Encrypt"))
            .count()
            == 32
    );

    // The SDK's paginator walks the same pages (from t0: the seed's history holds an older
    // Encrypt by the instance).
    let via_paginator: Vec<String> = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(aws_sdk_cloudtrail::primitives::DateTime::from_secs(
            t0.unix_timestamp() - 3600,
        ))
        .max_results(10)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|p| {
            p.unwrap()
                .events()
                .iter()
                .map(|e| e.event_id().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(via_paginator.len(), 32);

    // A token belongs to its query.
    let first = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .max_results(5)
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .lookup_attributes(attr(LookupAttributeKey::Username, seed::LEARNER_USER))
                .max_results(5)
                .next_token(&token)
                .send()
                .await
        ),
        "InvalidNextTokenException"
    );

    // Time range: both ends inclusive.
    let ranged = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(sdk_time(t0))
        .end_time(sdk_time(t1))
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.events().len(), 23);
    let middle = &ranged.events()[10];
    let at = *middle.event_time().unwrap();
    let exact = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(at)
        .end_time(at)
        .send()
        .await
        .unwrap();
    assert!(
        exact
            .events()
            .iter()
            .any(|e| e.event_id() == middle.event_id()),
        "StartTime = EndTime = an event's time includes that event"
    );
    let until_t0 = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(sdk_time(t0 - time::Duration::hours(1)))
        .end_time(sdk_time(t0 - time::Duration::milliseconds(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(until_t0.events().len(), 5);
    let since_t1 = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(sdk_time(t1 + time::Duration::milliseconds(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(since_t1.events().len(), 4);
    // Paging within a time range.
    let mut token = None;
    let mut n = 0;
    loop {
        let p = trail
            .lookup_events()
            .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
            .start_time(sdk_time(t0))
            .end_time(sdk_time(t1))
            .max_results(4)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        n += p.events().len();
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(n, 23);
    // Events older than 90 days are out of reach.
    env.sb.advance_clock(time::Duration::days(91)).unwrap();
    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt"))
            .await
            .is_empty()
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_is_rate_limited_to_two_per_second() {
    let env = start_with(Config {
        lookup_rate_limit: true,
        ..config()
    })
    .await;
    let trail = env.trail();
    // Three requests sent back to back: the third exceeds 2 per second. (If the machine is so
    // slow that the three took a second or more, the window moved on; try again.)
    let mut throttled = None;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let a = trail.lookup_events().max_results(1).send().await;
        let b = trail.lookup_events().max_results(1).send().await;
        let c = trail.lookup_events().max_results(1).send().await;
        if started.elapsed() < std::time::Duration::from_millis(900) {
            throttled = Some((a.is_ok(), b.is_ok(), c));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let (a_ok, b_ok, c) = throttled.expect("three requests within a second");
    assert!(a_ok && b_ok, "the first two are admitted");
    assert_eq!(code!(c), "ThrottlingException");
    // Other services are not limited.
    for _ in 0..5 {
        env.kms().list_keys().send().await.unwrap();
    }
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_delivery_delay_follows_the_sandbox_clock() {
    let env = start_with(Config {
        cloudtrail_delay: time::Duration::minutes(5),
        ..config()
    })
    .await;
    let kms = env.kms();
    let trail = env.trail();
    kms.encrypt()
        .key_id("alias/FirstCMK")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt"))
            .await
            .is_empty()
    );
    env.sb.advance_clock(time::Duration::minutes(4)).unwrap();
    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt"))
            .await
            .is_empty()
    );
    env.sb.advance_clock(time::Duration::minutes(2)).unwrap();
    let found = lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt")).await;
    assert_eq!(found.len(), 1);
    // The event keeps the time of the call, not of its delivery.
    let age = -secs_from_now(found[0].event_time().unwrap());
    assert!(
        age < 120,
        "event time is when the call was made ({age} s ago in real time)"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trails_lifecycle() {
    let env = start().await;
    let trail = env.trail();
    let bucket = format!("kmsworkshop-{}", seed::ACCOUNT);
    let created = trail
        .create_trail()
        .name("workshop-trail")
        .s3_bucket_name(&bucket)
        .send()
        .await
        .unwrap();
    let arn = format!(
        "arn:aws:cloudtrail:{}:{}:trail/workshop-trail",
        seed::REGION,
        seed::ACCOUNT
    );
    assert_eq!(created.name(), Some("workshop-trail"));
    assert_eq!(created.trail_arn(), Some(arn.as_str()));
    assert_eq!(created.s3_bucket_name(), Some(bucket.as_str()));
    assert_eq!(
        code!(
            trail
                .create_trail()
                .name("workshop-trail")
                .s3_bucket_name(&bucket)
                .send()
                .await
        ),
        "TrailAlreadyExistsException"
    );
    assert_eq!(
        code!(
            trail
                .create_trail()
                .name("-bad")
                .s3_bucket_name(&bucket)
                .send()
                .await
        ),
        "InvalidTrailNameException"
    );

    let st = trail
        .get_trail_status()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(st.is_logging(), Some(false));
    trail
        .start_logging()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    let st = trail.get_trail_status().name(&arn).send().await.unwrap();
    assert_eq!(st.is_logging(), Some(true));
    assert!(st.start_logging_time().is_some());

    let all = trail.describe_trails().send().await.unwrap();
    assert_eq!(all.trail_list().len(), 1);
    let t = &all.trail_list()[0];
    assert_eq!(t.name(), Some("workshop-trail"));
    assert_eq!(t.trail_arn(), Some(arn.as_str()));
    assert_eq!(t.home_region(), Some(seed::REGION));
    assert_eq!(t.s3_bucket_name(), Some(bucket.as_str()));
    let named = trail
        .describe_trails()
        .trail_name_list("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(named.trail_list().len(), 1);
    let none = trail
        .describe_trails()
        .trail_name_list("other")
        .send()
        .await
        .unwrap();
    assert!(none.trail_list().is_empty());
    let got = trail
        .get_trail()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(got.trail().unwrap().trail_arn(), Some(arn.as_str()));

    trail
        .stop_logging()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    let st = trail
        .get_trail_status()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(st.is_logging(), Some(false));
    assert!(st.stop_logging_time().is_some());

    trail.delete_trail().name(&arn).send().await.unwrap();
    assert_eq!(
        code!(trail.get_trail_status().name("workshop-trail").send().await),
        "TrailNotFoundException"
    );
    assert_eq!(
        code!(trail.delete_trail().name("workshop-trail").send().await),
        "TrailNotFoundException"
    );
    assert_eq!(
        code!(trail.start_logging().name("workshop-trail").send().await),
        "TrailNotFoundException"
    );
    assert_eq!(
        code!(trail.stop_logging().name("missing-trail").send().await),
        "TrailNotFoundException"
    );
    assert!(trail
        .describe_trails()
        .send()
        .await
        .unwrap()
        .trail_list()
        .is_empty());
    // The trail calls are in the event history.
    let ct = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "cloudtrail.amazonaws.com"),
    )
    .await;
    for op in ["CreateTrail", "StartLogging", "StopLogging", "DeleteTrail"] {
        assert!(
            ct.iter().any(|e| e.event_name() == Some(op)),
            "{op} recorded"
        );
    }
    let ct = lookup(
        &trail,
        attr(LookupAttributeKey::ResourceType, "AWS::CloudTrail::Trail"),
    )
    .await;
    assert!(ct.iter().any(|e| e.event_name() == Some("StartLogging")));
    env.running.shutdown().await;
}
