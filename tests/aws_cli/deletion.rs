//! KMS: scheduling key deletion

use super::*;

#[test]
fn schedule_key_deletion_rules() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;

    // K1 is already pending deletion: find it the way the clean-up does.
    let keys = run_json(aws(ep).args(["kms", "list-keys"]));
    let pending: Vec<Value> = keys["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| describe_key(ep, str_of(&k["KeyId"], "KeyId")))
        .filter(|md| md["KeyState"] == "PendingDeletion")
        .collect();
    assert_eq!(
        pending.len(),
        1,
        "the workshop seed has exactly one key pending deletion (K1)"
    );
    let k1 = str_of(&pending[0]["KeyId"], "KeyId").to_string();
    assert!(!pending[0]["DeletionDate"].is_null());
    let refused: [(&[&str], &str); 2] = [
        (
            &["kms", "schedule-key-deletion", "--key-id", &k1],
            "KMSInvalidStateException",
        ),
        (
            &[
                "kms",
                "schedule-key-deletion",
                "--key-id",
                &k1,
                "--pending-window-in-days",
                "7",
            ],
            "KMSInvalidStateException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // Aliases are not accepted as the key of a key-management operation.
    let stderr = expect_error(
        aws(ep).args(["kms", "schedule-key-deletion", "--key-id", FIRST_ALIAS]),
        "NotFoundException",
    );
    assert!(stderr.contains(FIRST_ALIAS), "{stderr}");
    assert_eq!(describe_key(ep, FIRST_ALIAS)["KeyState"], "Enabled");

    let created = run_json(aws(ep).args(["kms", "create-key", "--description", "deletion rules"]));
    let key_id = str_of(&created["KeyMetadata"]["KeyId"], "KeyId").to_string();
    let arn = str_of(&created["KeyMetadata"]["Arn"], "Arn").to_string();
    for days in ["6", "31", "365"] {
        expect_error(
            aws(ep).args([
                "kms",
                "schedule-key-deletion",
                "--key-id",
                &key_id,
                "--pending-window-in-days",
                days,
            ]),
            "ValidationException",
        );
    }
    assert_eq!(describe_key(ep, &key_id)["KeyState"], "Enabled");

    // Default window: 30 days.
    let before = sandbox_now(ep);
    let s = run_json(aws(ep).args(["kms", "schedule-key-deletion", "--key-id", &key_id]));
    assert_eq!(s["KeyId"], arn.as_str());
    assert_eq!(s["KeyState"], "PendingDeletion");
    assert_eq!(s["PendingWindowInDays"], 30);
    let days = (timestamp(&s["DeletionDate"]) - before).as_seconds_f64() / 86400.0;
    assert!(
        (29.9..=30.1).contains(&days),
        "DeletionDate is {days} days ahead"
    );
    let md = describe_key(ep, &key_id);
    assert_eq!(md["KeyState"], "PendingDeletion");
    assert_eq!(md["Enabled"], false);
    assert_eq!(md["PendingDeletionWindowInDays"], 30);
    // Pending deletion: unusable, and scheduling again is refused.
    let refused: [(&[&str], &str); 2] = [
        (
            &[
                "kms",
                "generate-data-key",
                "--key-id",
                &key_id,
                "--key-spec",
                "AES_256",
            ],
            "KMSInvalidStateException",
        ),
        (
            &["kms", "schedule-key-deletion", "--key-id", &key_id],
            "KMSInvalidStateException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // Cancelling leaves the key disabled.
    let c = run_json(aws(ep).args(["kms", "cancel-key-deletion", "--key-id", &key_id]));
    assert_eq!(c["KeyId"], arn.as_str());
    let md = describe_key(ep, &key_id);
    assert_eq!(md["KeyState"], "Disabled");
    assert_eq!(md["Enabled"], false);
    assert!(md.get("DeletionDate").is_none_or(Value::is_null), "{md}");
    expect_error(
        aws(ep).args(["kms", "cancel-key-deletion", "--key-id", &key_id]),
        "KMSInvalidStateException",
    );
    run_json(aws(ep).args(["kms", "enable-key", "--key-id", &key_id]));
    assert_eq!(describe_key(ep, &key_id)["KeyState"], "Enabled");

    // A window of 7 is the shortest allowed.
    let s = run_json(aws(ep).args([
        "kms",
        "schedule-key-deletion",
        "--key-id",
        &arn,
        "--pending-window-in-days",
        "7",
    ]));
    assert_eq!(s["PendingWindowInDays"], 7);
}
