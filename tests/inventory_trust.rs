//! The inventory is not trusted whole. A hand-edited inventory that names someone else's key
//! (in another account and region), the lookalike bucket `kmsworkshop-archive-…` and the
//! lookalike topic `snsworkshop-billing` gets none of them into the plan: items must be of the
//! account and region being cleaned and sealed by a guided run of this user on this machine
//! (with the key in the data directory: a key handed over beside the file is not used), and
//! an inventory recorded in another account is refused.

use std::process::{Output, Stdio};

use crate::common;

use common::*;
use serde_json::{json, Value};

/// `kms-workshop cleanup --endpoint ENDPOINT …` as the learner, with no terminal to answer on.
fn cleanup(endpoint: &str, args: &[&str]) -> Output {
    cleanup_command(endpoint, args)
        .stdin(Stdio::null())
        .output()
        .expect("run kms-workshop cleanup")
}

fn item(arn: &str, kind: &str, account: &str, region: &str) -> Value {
    json!({"arn": arn, "kind": kind, "account": account, "region": region, "step": "IV.3"})
}

#[test]
fn hand_edited_inventory_items_count_for_nothing() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    // Somebody else's key: the seed's `alias/payments-data`, tagged project=payments.
    let key = run_json(aws(ep).args(common::words(
        "kms describe-key --key-id alias/payments-data",
    )));
    let key_arn = key["KeyMetadata"]["Arn"].as_str().expect("Arn").to_string();
    let key_id = key["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    let archive = format!("kmsworkshop-archive-{ACCOUNT}");
    let billing = format!("arn:aws:sns:{REGION}:{ACCOUNT}:snsworkshop-billing");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("inventory.json");
    let inventory = json!({"items": [
        // The key's real ARN, but recorded under another account and region.
        item(&key_arn, "AWS::KMS::Key", "444455556666", "eu-west-1"),
        // And again as this account's, without a run's seal.
        item(&key_arn, "AWS::KMS::Key", ACCOUNT, REGION),
        item(&format!("arn:aws:s3:::{archive}"), "AWS::S3::Bucket", ACCOUNT, REGION),
        item(&billing, "AWS::SNS::Topic", ACCOUNT, REGION),
    ]});
    std::fs::write(&file, inventory.to_string()).expect("write");
    // A key handed over beside the file, with items sealed by it, counts for nothing.
    let forged = kms_workshop_cleanup::SealKey::load_or_create(&dir.path().join("inventory.key"))
        .expect("key");
    let mut sealed: Vec<Value> = Vec::new();
    for item in inventory["items"].as_array().expect("items") {
        let mut i: kms_workshop_cleanup::InventoryItem =
            serde_json::from_value(item.clone()).expect("item");
        i.seal = Some(forged.seal(&i));
        sealed.push(serde_json::to_value(&i).expect("item"));
    }
    std::fs::write(&file, json!({ "items": sealed }).to_string()).expect("write");
    let path = file.to_string_lossy().to_string();
    let out = cleanup(ep, &["--dry-run", "--output", "json", "--inventory", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let plan = v["plan"].to_string();
    for foreign in [key_id.as_str(), "payments", "archive", "billing"] {
        assert!(!plan.contains(foreign), "{foreign} in plan: {plan}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not 111122223333") || stderr.contains("in account 444455556666"),
        "{stderr}"
    );
    assert!(stderr.contains("seal"), "{stderr}");

    // An inventory recorded in another account (a guided run's progress file says where) is
    // refused as a whole.
    let progress = dir.path().join("progress.json");
    let doc = json!({
        "format": 1, "steps": {},
        "target": {"kind": "endpoint", "account": "444455556666", "region": REGION},
        "inventory": {"items": []},
    });
    std::fs::write(&progress, doc.to_string()).expect("write");
    let path = progress.to_string_lossy().to_string();
    let out = cleanup(ep, &["--dry-run", "--inventory", &path]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("444455556666"),
        "{}",
        output_text(&out)
    );
}
