//! The keys crate against the sandbox's workshop account through the real SDK.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use kms_workshop_testkit as common;

use std::collections::BTreeMap;

use kms_workshop_keys::{
    decrypt, describe_key, expiry_report, find_keys, generate_data_key, key_inventory,
    material_expiry, DataKeySpec, ExpiryStatus, KeyFilter, KeysError,
};
use kms_workshop_names::{FIRST_ALIAS, IMPORTED_ALIAS};

fn ctx(k: &str, v: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(k.to_string(), v.to_string())])
}

#[tokio::test]
async fn data_key_round_trip_and_wrong_context() {
    let env = common::workshop().await;
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let context = ctx("project", "workshop");
    let dk = generate_data_key(&kms, IMPORTED_ALIAS, DataKeySpec::Aes256, &context)
        .await
        .expect("GenerateDataKey");
    let k3 = describe_key(&kms, IMPORTED_ALIAS).await.expect("K3");
    assert_eq!(dk.key_arn, k3.arn, "the ARN the alias resolved to");
    assert_eq!(dk.key_id, k3.key_id);
    assert_eq!(dk.plaintext.len(), 32);
    assert!(!dk.ciphertext.is_empty());
    assert!(dk.request_id.as_deref().is_some_and(|r| !r.is_empty()));

    // Nothing of the key shows through Debug, of the key or of the whole answer.
    let shown = format!("{:?} {}", dk, dk.plaintext);
    let hex: String = dk
        .plaintext
        .expose()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!shown.contains(&hex));
    assert!(!shown.contains(&format!("{:?}", dk.plaintext.expose())));
    assert!(shown.contains("redacted"));

    let back = decrypt(&kms, &dk.ciphertext, &context, Some(IMPORTED_ALIAS))
        .await
        .expect("Decrypt with the same context");
    assert!(back.plaintext.same_as(&dk.plaintext));
    assert_eq!(back.key_arn, k3.arn);

    let err = decrypt(&kms, &dk.ciphertext, &ctx("project", "other"), None)
        .await
        .expect_err("another context must not decrypt");
    match &err {
        KeysError::InvalidCiphertext(f) => {
            assert_eq!(f.code, "InvalidCiphertextException");
            assert!(f.request_id.is_some());
        }
        other => panic!("expected InvalidCiphertext, got {other:?}"),
    }
    assert!(!err.is_infrastructure());
    let err = decrypt(&kms, &dk.ciphertext, &BTreeMap::new(), None)
        .await
        .expect_err("no context must not decrypt");
    assert_eq!(err.code(), Some("InvalidCiphertextException"));
}

#[tokio::test]
async fn generate_on_missing_alias_is_not_found() {
    let env = common::workshop().await;
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let err = generate_data_key(
        &kms,
        "alias/NoSuchKey",
        DataKeySpec::Aes128,
        &BTreeMap::new(),
    )
    .await
    .expect_err("missing alias");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some("NotFoundException"));
    let err = generate_data_key(&kms, " ", DataKeySpec::Aes128, &BTreeMap::new())
        .await
        .expect_err("empty id is refused before calling");
    assert!(matches!(
        err,
        KeysError::InvalidInput { field: "KeyId", .. }
    ));
}

#[tokio::test]
async fn inventory_finds_the_three_workshop_keys() {
    let env = common::workshop().await;
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let inv = key_inventory(&kms).await.expect("inventory");
    // Customer keys only: the AWS-managed aws/ebs key is left out.
    assert!(inv.iter().all(|k| k.manager == "CUSTOMER"), "{inv:#?}");
    assert!(!inv.iter().any(|k| k.has_alias("alias/aws/ebs")));
    assert!(inv.len() >= 3, "{inv:#?}");

    let k1 = KeyFilter::state("PendingDeletion").select(&inv);
    assert_eq!(k1.len(), 1);
    assert!(k1[0].deletion_date.is_some());
    assert!(k1[0].aliases.is_empty());
    assert_eq!(k1[0].origin, "AWS_KMS");

    let k2 = KeyFilter::alias("FirstCMK").select(&inv);
    assert_eq!(k2.len(), 1);
    assert_eq!(k2[0].state, "Enabled");
    assert_eq!(k2[0].origin, "AWS_KMS");
    assert_eq!(k2[0].valid_to, None);

    // Every workshop key carries the workshop's tag; the role tag tells them apart.
    assert_eq!(
        KeyFilter::tag("project", "kmsworkshop").select(&inv).len(),
        3
    );
    let k3 = KeyFilter::tag("kmsworkshop-key", "imported").select(&inv);
    assert_eq!(k3.len(), 1);
    assert_eq!(k3[0].aliases, vec![IMPORTED_ALIAS.to_string()]);
    assert_eq!(k3[0].origin, "EXTERNAL");
    assert_eq!(
        k3[0].expiration_model.as_deref(),
        Some("KEY_MATERIAL_EXPIRES")
    );
    assert!(k3[0].valid_to.is_some());
    assert!(k3[0].arn.ends_with(&k3[0].key_id));
    assert_eq!(KeyFilter::origin("EXTERNAL").select(&inv), k3);

    let found = find_keys(
        &kms,
        &KeyFilter {
            origin: Some("AWS_KMS".into()),
            state: Some("Enabled".into()),
            ..Default::default()
        },
    )
    .await
    .expect("find");
    assert!(found.iter().any(|k| k.key_id == k2[0].key_id), "{found:#?}");
    assert!(!found
        .iter()
        .any(|k| k.key_id == k1[0].key_id || k.key_id == k3[0].key_id));
    assert!(found
        .iter()
        .all(|k| k.origin == "AWS_KMS" && k.state == "Enabled"));
}

#[tokio::test]
async fn imported_material_expiry_of_k3() {
    let env = common::workshop().await;
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let now = env.sb.clock.now();
    let k3 = material_expiry(&kms, IMPORTED_ALIAS, now)
        .await
        .expect("expiry");
    assert_eq!(k3.status, ExpiryStatus::Expiring);
    let left = k3.time_left.expect("time left");
    assert!(
        left > time::Duration::days(19) && left <= time::Duration::days(20),
        "{left}"
    );
    assert!(!k3.expires_within(time::Duration::days(10)));
    // Judged 11 days on, the same material is inside the alarm's 10 days.
    let later = material_expiry(&kms, IMPORTED_ALIAS, now + time::Duration::days(11))
        .await
        .expect("expiry");
    assert!(later.expires_within(time::Duration::days(10)));
    let k2 = material_expiry(&kms, FIRST_ALIAS, now).await.expect("k2");
    assert_eq!(k2.status, ExpiryStatus::NotImported);

    let report = expiry_report(&kms, now).await.expect("report");
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].key_id, k3.key_id);
}
