//! KMS: the seeded keys, data keys, encryption and key states.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_keys_look_like_the_workshop() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let k3 = kms
        .describe_key()
        .key_id(IMPORTED_ALIAS)
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
        "arn:aws:kms:{}:{}:{FIRST_ALIAS}",
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

    let refused = [
        ("alias/Nope", "NotFoundException"),
        ("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "NotFoundException"),
    ];
    refused!(refused, |key_id| kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await);
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_bound_to_encryption_context() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let dk = workshop_gdk(&kms).send().await.unwrap();
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
        .key_id(IMPORTED_ALIAS)
        .ciphertext_blob(blob.clone())
        .encryption_context("project", "workshop")
        .send()
        .await
        .unwrap();
    assert_eq!(named.plaintext().unwrap().as_ref(), plaintext.as_slice());
    assert_eq!(
        code!(
            kms.decrypt()
                .key_id(FIRST_ALIAS)
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
        .key_id(IMPORTED_ALIAS)
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
    let dk2 = workshop_gdk(&as_instance).send().await.unwrap();
    assert_eq!(dk2.plaintext().unwrap().as_ref().len(), 32);
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_length_is_number_of_bytes_xor_key_spec() {
    let env = start().await;
    let kms = env.kms();
    let gdk = || kms.generate_data_key().key_id(FIRST_ALIAS);
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
    let refused = [(0, "ValidationException"), (1025, "ValidationException")];
    refused!(refused, |number_of_bytes| gdk()
        .number_of_bytes(number_of_bytes)
        .send()
        .await);
    assert_eq!(
        code!(gdk().key_spec(DataKeySpec::from("AES_512")).send().await),
        "ValidationException"
    );
    let wp = || {
        kms.generate_data_key_without_plaintext()
            .key_id(FIRST_ALIAS)
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
        .key_id(FIRST_ALIAS)
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
    let refused = [
        (&s.k2, Blob::new(vec![7u8; 4097]), "ValidationException"),
        // K1 is pending deletion: no cryptography.
        (&s.k1, Blob::new(b"x".to_vec()), "KMSInvalidStateException"),
    ];
    refused!(refused, |key_id, plaintext| kms
        .encrypt()
        .key_id(key_id)
        .plaintext(plaintext.clone())
        .send()
        .await);
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
        code!(kms.disable_key().key_id(FIRST_ALIAS).send().await),
        "NotFoundException"
    );
    assert_eq!(
        code!(kms.enable_key().key_id(&s.k1).send().await),
        "KMSInvalidStateException"
    );
    env.running.shutdown().await;
}
