//! KMS: importing key material, and its expiry on the sandbox clock.

use super::*;

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
    let refused = [
        (wrapped.clone(), days_from_now(-1), "ValidationException"),
        (wrapped.clone(), days_from_now(366), "ValidationException"),
        // Wrapped with the wrong OAEP hash: the sandbox cannot unwrap it.
        (
            wrap(&p.public_key, &material, false),
            days_from_now(30),
            "InvalidCiphertextException",
        ),
        // 16 bytes is not a SYMMETRIC_DEFAULT key.
        (
            wrap(&p.public_key, &material[..16], true),
            days_from_now(30),
            "IncorrectKeyMaterialException",
        ),
    ];
    refused!(refused, |wrapped, valid_to| import(
        &p.token, wrapped, valid_to
    )
    .await);
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
    let dk = workshop_gdk(&kms).send().await.unwrap();
    env.sb.advance_clock(time::Duration::days(21)).unwrap();
    // The state follows the clock at once; the tick deletes the material.
    let md = kms
        .describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    env.sb.tick();
    let md = kms
        .describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    assert!(md.valid_to().is_none());
    assert!(md.expiration_model().is_none());
    assert_eq!(
        code!(workshop_gdk(&kms).send().await),
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
        .key_id(FIRST_ALIAS)
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
