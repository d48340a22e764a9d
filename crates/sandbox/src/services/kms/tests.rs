//! Unit tests of KMS: the persisted form of keys, the derived key state, and what CloudTrail
//! logs of a call's input.

use time::{Duration, OffsetDateTime};

use super::state::{default_policy, Key, KeyManager, KeyOrigin, KeyState};

fn key(origin: KeyOrigin) -> Key {
    Key::new(
        "us-east-1",
        "111122223333",
        origin,
        KeyManager::Customer,
        "test".into(),
        OffsetDateTime::UNIX_EPOCH,
        default_policy("111122223333"),
    )
}

#[test]
fn origin_and_manager_keep_their_persisted_strings() {
    let k = key(KeyOrigin::External);
    let v = serde_json::to_value(&k).unwrap();
    assert_eq!(v["origin"], "EXTERNAL");
    assert_eq!(v["manager"], "CUSTOMER");
    let mut old = v.clone();
    old["origin"] = "AWS_KMS".into();
    old["manager"] = "AWS".into();
    let back: Key = serde_json::from_value(old).unwrap();
    assert_eq!(back.origin, KeyOrigin::AwsKms);
    assert_eq!(back.manager, KeyManager::Aws);
    for o in [KeyOrigin::AwsKms, KeyOrigin::External] {
        assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
    }
    for m in [KeyManager::Customer, KeyManager::Aws] {
        assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
    }
    let mut bad = v;
    bad["origin"] = "AWS_CLOUDHSM".into();
    assert!(serde_json::from_value::<Key>(bad).is_err());
}

#[test]
fn key_state_follows_the_facts() {
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
    let mut k = key(KeyOrigin::AwsKms);
    assert_eq!(k.state(now), KeyState::Enabled);
    assert!(k.state(now) == "Enabled");
    k.disabled = true;
    assert_eq!(k.state(now), KeyState::Disabled);
    k.deletion_date = Some(now);
    assert_eq!(k.state(now).as_str(), "PendingDeletion");
    let mut ext = key(KeyOrigin::External);
    assert!(ext.origin == "EXTERNAL");
    assert_eq!(ext.state(now), KeyState::PendingImport);
    ext.materials = vec![crate::util::b64(&[0u8; 32])];
    ext.valid_to = Some(now + Duration::hours(1));
    assert_eq!(ext.state(now), KeyState::Enabled);
    assert_eq!(ext.state(now + Duration::hours(1)), KeyState::PendingImport);
}

/// The encryption context a call used is the one its record logs, with the caller's own keys
/// as they were sent, however the input also spells the member: a second member that only
/// camel-cases to the same name neither displaces it nor moves it.
#[test]
fn the_context_used_is_the_context_logged() {
    use crate::protocol::Input;
    use crate::services::Service;
    let used = serde_json::json!({"Purpose": "payroll"});
    let spoof = serde_json::json!({"Purpose": "fake"});
    for (first, second) in [
        ("EncryptionContext", "encryptionContext"),
        ("encryptionContext", "EncryptionContext"),
    ] {
        let mut input = serde_json::Map::new();
        input.insert("KeyId".into(), "alias/ImportedCMK".into());
        for name in [first, second] {
            let v = if name == "EncryptionContext" {
                &used
            } else {
                &spoof
            };
            input.insert(name.into(), v.clone());
        }
        input.insert("Plaintext".into(), "c2VjcmV0".into());
        let logged = super::Kms.request_parameters("Encrypt", &Input::Json(input.into()));
        assert_eq!(
            logged,
            serde_json::json!({"keyId": "alias/ImportedCMK", "encryptionContext": used}),
            "{first} before {second}"
        );
        let names: Vec<&String> = logged
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            names,
            ["keyId", "encryptionContext"],
            "in the input's order"
        );
    }
}
