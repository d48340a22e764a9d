//! Confirmation: `--endpoint` is no reason to skip asking. Only an endpoint that identifies
//! itself as a kms-workshop sandbox is cleaned without the account being confirmed; any other
//! (here `moto_server`, standing in for a proxy in front of real AWS credentials) is treated
//! like AWS. With `--accounts`, `--yes` must come with `--expect-accounts N` matching the file.

use std::process::{Output, Stdio};

use crate::common;

use common::*;

/// `kms-workshop cleanup --endpoint ENDPOINT …` with the sandbox's learner keys, no terminal.
/// `kms-workshop cleanup --endpoint ENDPOINT …` as the learner, with no terminal to answer on.
fn cleanup(endpoint: &str, args: &[&str]) -> Output {
    cleanup_command(endpoint, args)
        .stdin(Stdio::null())
        .output()
        .expect("run kms-workshop cleanup")
}

#[test]
fn an_endpoint_that_is_not_a_sandbox_is_confirmed_like_aws() {
    let moto = MotoProc::start();
    // A key the clean-up would schedule for deletion if it went ahead.
    let key = run_json(aws(&moto.endpoint).args(common::words(
        "kms create-key --description KMSWorkshop-lookalike",
    )));
    let key_id = key["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    run_json(aws(&moto.endpoint).args([
        "kms",
        "create-alias",
        "--alias-name",
        "alias/ImportedCMK",
        "--target-key-id",
        &key_id,
    ]));

    // No terminal, no --yes: refused before anything is touched.
    let out = cleanup(&moto.endpoint, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("confirm"),
        "{}",
        output_text(&out)
    );
    // --yes alone is not enough against what may be AWS: the account id must be given too.
    let out = cleanup(&moto.endpoint, &["--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("--account-id"),
        "{}",
        output_text(&out)
    );
    let state = run_json(aws(&moto.endpoint).args(["kms", "describe-key", "--key-id", &key_id]));
    assert_eq!(
        state["KeyMetadata"]["KeyState"], "Enabled",
        "nothing was touched"
    );
}

#[test]
fn yes_with_accounts_needs_the_expected_count() {
    let moto = MotoProc::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("accounts.toml");
    let mut toml = String::new();
    for account in ["111111111111", "222222222222"] {
        toml.push_str(&format!(
            "[[account]]\nid = \"{account}\"\nrole_arn = \"arn:aws:iam::{account}:role/OrganizationAccountAccessRole\"\n"
        ));
    }
    std::fs::write(&file, toml).expect("write");
    let path = file.to_string_lossy().to_string();
    let out = cleanup(&moto.endpoint, &["--accounts", &path, "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("--expect-accounts 2"),
        "{}",
        output_text(&out)
    );
    let out = cleanup(
        &moto.endpoint,
        &["--accounts", &path, "--yes", "--expect-accounts", "3"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("2 accounts"),
        "{}",
        output_text(&out)
    );
}
