//! The real `aws` CLI (the pinned awscli from `.venv`, installed by `scripts/test`) against a
//! sandbox started by each test (`kms-workshop sandbox serve --port 0`): the workshop's own
//! commands, the key-import flow with `openssl`, key-deletion rules, CloudTrail event history
//! (all eight lookup attributes, paging, validation, the record's fields), STS identities and
//! credential errors, and the trail lifecycle.
//!
//! Every test has its own sandbox, so they run in parallel and in any order.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// The workshop's own command (section IV, step 1).
const WORKSHOP_GDK: [&str; 8] = [
    "kms",
    "generate-data-key",
    "--key-id",
    "alias/ImportedCMK",
    "--key-spec",
    "AES_256",
    "--encryption-context",
    "project=workshop",
];

fn b64d(v: &Value) -> Vec<u8> {
    B64.decode(
        v.as_str()
            .unwrap_or_else(|| panic!("expected a base64 string, got {v}")),
    )
    .expect("valid base64")
}

/// The AWS error code from the CLI's "An error occurred (Code) when calling …" message.
fn error_code(out: &Output) -> String {
    let s = stderr_of(out);
    s.split("An error occurred (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no AWS error in stderr: {s}"))
        .to_string()
}

/// Run, expect the AWS error `code`; returns stderr.
fn expect_error(cmd: &mut Command, code: &str) -> String {
    let out = run_fail(cmd);
    assert_eq!(
        error_code(&out),
        code,
        "{cmd:?}\nstderr: {}",
        stderr_of(&out)
    );
    stderr_of(&out)
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {v}"))
}

/// `kms-workshop sandbox clock advance <by>` against the test's sandbox.
fn advance_clock(endpoint: &str, by: &str) {
    let out = Command::new(bin())
        .args(["sandbox", "clock", "advance", by, "--endpoint", endpoint])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run kms-workshop sandbox clock advance");
    assert!(
        out.status.success(),
        "clock advance failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The sandbox's current time (`kms-workshop sandbox clock show`).
fn sandbox_now(endpoint: &str) -> OffsetDateTime {
    let out = Command::new(bin())
        .args(["sandbox", "clock", "show", "--endpoint", endpoint])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run kms-workshop sandbox clock show");
    assert!(
        out.status.success(),
        "clock show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .unwrap_or_else(|e| panic!("clock show printed {s:?}: {e}"))
}

/// A timestamp as the CLI prints it: epoch seconds for the JSON protocols, ISO 8601 otherwise.
fn timestamp(v: &Value) -> OffsetDateTime {
    match v {
        Value::Number(n) => {
            let secs = n.as_f64().unwrap();
            OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).unwrap()
        }
        Value::String(s) => {
            OffsetDateTime::parse(s, &Rfc3339).unwrap_or_else(|e| panic!("timestamp {s:?}: {e}"))
        }
        other => panic!("expected a timestamp, got {other}"),
    }
}

fn iso(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap().format(&Rfc3339).unwrap()
}

fn describe_key(endpoint: &str, key: &str) -> Value {
    run_json(aws(endpoint).args(["kms", "describe-key", "--key-id", key]))["KeyMetadata"].clone()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn fileb(p: &Path) -> String {
    format!("fileb://{}", p.display())
}

fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (scripts/test installs it when it is missing)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Events of one `lookup-events` query, all pages (the CLI follows `NextToken`).
fn lookup(endpoint: &str, key: &str, value: &str) -> Vec<Value> {
    let attrs = json!([{ "AttributeKey": key, "AttributeValue": value }]).to_string();
    let v = run_json(aws(endpoint).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        &attrs,
    ]));
    v["Events"].as_array().cloned().unwrap_or_default()
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| str_of(&e["EventId"], "EventId").to_string())
        .collect()
}

fn record(event: &Value) -> Value {
    serde_json::from_str(str_of(&event["CloudTrailEvent"], "CloudTrailEvent"))
        .expect("CloudTrailEvent is JSON")
}

// ---------------------------------------------------------------------------------------------
// KMS: the workshop's data key

#[test]
fn workshop_generate_data_key_then_decrypt_with_and_without_context() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let k3 = describe_key(ep, "alias/ImportedCMK");
    assert_eq!(k3["Origin"], "EXTERNAL");
    assert_eq!(k3["KeyState"], "Enabled");
    let k3_arn = str_of(&k3["Arn"], "Arn");

    let v = run_json(aws(ep).args(WORKSHOP_GDK));
    assert_eq!(
        v["KeyId"], k3_arn,
        "KeyId is the ARN of the key behind alias/ImportedCMK"
    );
    let plaintext = b64d(&v["Plaintext"]);
    assert_eq!(plaintext.len(), 32, "AES_256 data key");
    let blob = b64d(&v["CiphertextBlob"]);
    assert!(blob.len() > 32);

    let dir = tempfile::tempdir().unwrap();
    let blob_path = write(dir.path(), "datakey.enc", &blob);
    let blob_arg = fileb(&blob_path);

    let d = run_json(aws(ep).args([
        "kms",
        "decrypt",
        "--ciphertext-blob",
        &blob_arg,
        "--encryption-context",
        "project=workshop",
    ]));
    assert_eq!(
        b64d(&d["Plaintext"]),
        plaintext,
        "decrypt gives back the data key"
    );
    assert_eq!(d["KeyId"], k3_arn);

    // The encryption context is bound to the ciphertext.
    expect_error(
        aws(ep).args(["kms", "decrypt", "--ciphertext-blob", &blob_arg]),
        "InvalidCiphertextException",
    );
    expect_error(
        aws(ep).args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &blob_arg,
            "--encryption-context",
            "project=other",
        ]),
        "InvalidCiphertextException",
    );
    expect_error(
        aws(ep).args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &blob_arg,
            "--encryption-context",
            "project=workshop,extra=1",
        ]),
        "InvalidCiphertextException",
    );
    // A damaged ciphertext is refused the same way.
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let bad_path = write(dir.path(), "damaged.enc", &bad);
    expect_error(
        aws(ep).args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &fileb(&bad_path),
            "--encryption-context",
            "project=workshop",
        ]),
        "InvalidCiphertextException",
    );
    // Naming the key: by ARN, by alias ARN, and a key that did not encrypt it.
    let by_alias_arn = run_json(aws(ep).args([
        "kms",
        "generate-data-key",
        "--key-id",
        &format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/ImportedCMK"),
        "--number-of-bytes",
        "64",
    ]));
    assert_eq!(b64d(&by_alias_arn["Plaintext"]).len(), 64);
    assert_eq!(by_alias_arn["KeyId"], k3_arn);
    let d = run_json(aws(ep).args([
        "kms",
        "decrypt",
        "--ciphertext-blob",
        &blob_arg,
        "--encryption-context",
        "project=workshop",
        "--key-id",
        k3_arn,
    ]));
    assert_eq!(b64d(&d["Plaintext"]), plaintext);
    expect_error(
        aws(ep).args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &blob_arg,
            "--encryption-context",
            "project=workshop",
            "--key-id",
            "alias/FirstCMK",
        ]),
        "IncorrectKeyException",
    );
    // Keys live in their region: the alias does not exist in another one.
    expect_error(
        aws(ep).args([
            "--region",
            "eu-west-1",
            "kms",
            "describe-key",
            "--key-id",
            "alias/ImportedCMK",
        ]),
        "NotFoundException",
    );
    expect_error(
        aws(ep).args([
            "kms",
            "describe-key",
            "--key-id",
            &k3_arn.replace(":us-east-1:", ":eu-west-1:"),
        ]),
        "NotFoundException",
    );

    // The instance role can decrypt it too (same account and key).
    let d = run_json(
        aws_with(
            ep,
            INSTANCE_ACCESS_KEY,
            INSTANCE_SECRET_KEY,
            Some(INSTANCE_SESSION_TOKEN),
        )
        .args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &blob_arg,
            "--encryption-context",
            "project=workshop",
        ]),
    );
    assert_eq!(b64d(&d["Plaintext"]), plaintext);
}

// ---------------------------------------------------------------------------------------------
// KMS: importing key material

struct Wrapped {
    token: PathBuf,
    material: PathBuf,
}

/// `get-parameters-for-import`, then wrap `material` with openssl the way the KMS guide does.
fn wrap_for_import(
    ep: &str,
    dir: &Path,
    key_id: &str,
    algorithm: &str,
    spec: &str,
    material: &Path,
    tag: &str,
) -> Wrapped {
    let p = run_json(aws(ep).args([
        "kms",
        "get-parameters-for-import",
        "--key-id",
        key_id,
        "--wrapping-algorithm",
        algorithm,
        "--wrapping-key-spec",
        spec,
    ]));
    assert!(str_of(&p["KeyId"], "KeyId").ends_with(key_id), "{p}");
    assert!(
        p.get("ParametersValidTo").is_some_and(|v| !v.is_null()),
        "{p}"
    );
    let public = write(dir, &format!("{tag}-pub.der"), &b64d(&p["PublicKey"]));
    let token = write(dir, &format!("{tag}-token.bin"), &b64d(&p["ImportToken"]));
    let public_s = public.display().to_string();

    let text = openssl(&[
        "pkey", "-pubin", "-inform", "DER", "-in", &public_s, "-noout", "-text",
    ]);
    let bits = spec.trim_start_matches("RSA_");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&format!("Public-Key: ({bits} bit)")),
        "{spec} wrapping key: {}",
        String::from_utf8_lossy(&text.stdout)
    );

    let md = match algorithm {
        "RSAES_OAEP_SHA_256" => "sha256",
        "RSAES_OAEP_SHA_1" => "sha1",
        other => panic!("no openssl digest for {other}"),
    };
    let wrapped = dir.join(format!("{tag}-wrapped.bin"));
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        &public_s,
        "-in",
        &material.display().to_string(),
        "-out",
        &wrapped.display().to_string(),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        &format!("rsa_oaep_md:{md}"),
        "-pkeyopt",
        &format!("rsa_mgf1_md:{md}"),
    ]);
    Wrapped {
        token,
        material: wrapped,
    }
}

fn import_cmd(ep: &str, key_id: &str, w: &Wrapped, valid_to: &str) -> Command {
    let mut c = aws(ep);
    c.args([
        "kms",
        "import-key-material",
        "--key-id",
        key_id,
        "--import-token",
        &fileb(&w.token),
        "--encrypted-key-material",
        &fileb(&w.material),
        "--expiration-model",
        "KEY_MATERIAL_EXPIRES",
        "--valid-to",
        valid_to,
    ]);
    c
}

fn random_material(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    openssl(&["rand", "-out", &p.display().to_string(), "32"]);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 32);
    p
}

/// Encrypt and decrypt a short message with `key_id`.
fn round_trip(ep: &str, dir: &Path, key_id: &str) {
    let message = b"KMS workshop: imported key material works";
    let plain = write(dir, "message.txt", message);
    let e = run_json(aws(ep).args([
        "kms",
        "encrypt",
        "--key-id",
        key_id,
        "--plaintext",
        &fileb(&plain),
    ]));
    assert!(str_of(&e["KeyId"], "KeyId").ends_with(key_id));
    let blob = write(dir, "message.enc", &b64d(&e["CiphertextBlob"]));
    let d = run_json(aws(ep).args(["kms", "decrypt", "--ciphertext-blob", &fileb(&blob)]));
    assert_eq!(b64d(&d["Plaintext"]), message);
}

#[test]
fn import_key_material_rsa2048_sha256_full_flow_and_expiry() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let created = run_json(aws(ep).args([
        "kms",
        "create-key",
        "--origin",
        "EXTERNAL",
        "--description",
        "imported material test",
    ]));
    let md = &created["KeyMetadata"];
    assert_eq!(md["KeyState"], "PendingImport");
    assert_eq!(md["Origin"], "EXTERNAL");
    assert_eq!(md["Enabled"], false);
    let key_id = str_of(&md["KeyId"], "KeyId").to_string();

    // Without material the key cannot be used.
    expect_error(
        aws(ep).args([
            "kms",
            "generate-data-key",
            "--key-id",
            &key_id,
            "--key-spec",
            "AES_256",
        ]),
        "KMSInvalidStateException",
    );

    let material = random_material(d, "material.bin");
    let w = wrap_for_import(
        ep,
        d,
        &key_id,
        "RSAES_OAEP_SHA_256",
        "RSA_2048",
        &material,
        "first",
    );
    let now = sandbox_now(ep);

    // ValidTo must be in the future and at most 365 days ahead.
    expect_error(
        &mut import_cmd(ep, &key_id, &w, &iso(now - time::Duration::days(1))),
        "ValidationException",
    );
    expect_error(
        &mut import_cmd(ep, &key_id, &w, &iso(now + time::Duration::days(366))),
        "ValidationException",
    );
    assert_eq!(describe_key(ep, &key_id)["KeyState"], "PendingImport");

    let valid_to = now + time::Duration::days(30);
    run_json(&mut import_cmd(ep, &key_id, &w, &iso(valid_to)));
    let md = describe_key(ep, &key_id);
    assert_eq!(md["KeyState"], "Enabled", "{md}");
    assert_eq!(md["Enabled"], true);
    assert_eq!(md["ExpirationModel"], "KEY_MATERIAL_EXPIRES");
    assert_eq!(
        timestamp(&md["ValidTo"]).unix_timestamp(),
        valid_to.replace_nanosecond(0).unwrap().unix_timestamp()
    );
    round_trip(ep, d, &key_id);
    let dk = run_json(aws(ep).args([
        "kms",
        "generate-data-key",
        "--key-id",
        &key_id,
        "--key-spec",
        "AES_256",
    ]));
    assert_eq!(b64d(&dk["Plaintext"]).len(), 32);

    // Re-importing different material into the key is refused; the same material is accepted.
    let other = random_material(d, "other.bin");
    let w2 = wrap_for_import(
        ep,
        d,
        &key_id,
        "RSAES_OAEP_SHA_256",
        "RSA_2048",
        &other,
        "second",
    );
    expect_error(
        &mut import_cmd(ep, &key_id, &w2, &iso(valid_to)),
        "IncorrectKeyMaterialException",
    );
    let w3 = wrap_for_import(
        ep,
        d,
        &key_id,
        "RSAES_OAEP_SHA_256",
        "RSA_2048",
        &material,
        "third",
    );
    run_json(&mut import_cmd(ep, &key_id, &w3, &iso(valid_to)));
    round_trip(ep, d, &key_id);

    // An import token belongs to its key.
    let other_key = run_json(aws(ep).args(["kms", "create-key", "--origin", "EXTERNAL"]));
    let other_id = str_of(&other_key["KeyMetadata"]["KeyId"], "KeyId").to_string();
    expect_error(
        &mut import_cmd(ep, &other_id, &w3, &iso(valid_to)),
        "InvalidImportTokenException",
    );

    // Once ValidTo passes, the material is gone and the key waits for a new import.
    advance_clock(ep, "31d");
    let md = describe_key(ep, &key_id);
    assert_eq!(md["KeyState"], "PendingImport", "{md}");
    expect_error(
        aws(ep).args([
            "kms",
            "generate-data-key",
            "--key-id",
            &key_id,
            "--key-spec",
            "AES_256",
        ]),
        "KMSInvalidStateException",
    );
    let dk_blob = write(d, "dk.enc", &b64d(&dk["CiphertextBlob"]));
    expect_error(
        aws(ep).args(["kms", "decrypt", "--ciphertext-blob", &fileb(&dk_blob)]),
        "KMSInvalidStateException",
    );

    // Importing the same material again (with new parameters) brings the key and its old
    // ciphertexts back; other material is still refused.
    let w4 = wrap_for_import(
        ep,
        d,
        &key_id,
        "RSAES_OAEP_SHA_256",
        "RSA_4096",
        &other,
        "fourth",
    );
    let later = sandbox_now(ep);
    expect_error(
        &mut import_cmd(ep, &key_id, &w4, &iso(later + time::Duration::days(30))),
        "IncorrectKeyMaterialException",
    );
    let w5 = wrap_for_import(
        ep,
        d,
        &key_id,
        "RSAES_OAEP_SHA_256",
        "RSA_2048",
        &material,
        "fifth",
    );
    expect_error(
        &mut import_cmd(ep, &key_id, &w5, &iso(later - time::Duration::days(1))),
        "ValidationException",
    );
    run_json(&mut import_cmd(
        ep,
        &key_id,
        &w5,
        &iso(later + time::Duration::days(30)),
    ));
    assert_eq!(describe_key(ep, &key_id)["KeyState"], "Enabled");
    let again = run_json(aws(ep).args(["kms", "decrypt", "--ciphertext-blob", &fileb(&dk_blob)]));
    assert_eq!(
        again["Plaintext"], dk["Plaintext"],
        "the old data key decrypts again"
    );
}

#[test]
fn import_key_material_rsa3072_sha1() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = run_json(aws(ep).args(["kms", "create-key", "--origin", "EXTERNAL"]));
    assert_eq!(created["KeyMetadata"]["KeyState"], "PendingImport");
    let key_id = str_of(&created["KeyMetadata"]["KeyId"], "KeyId").to_string();
    let material = random_material(d, "material.bin");
    let w = wrap_for_import(
        ep,
        d,
        &key_id,
        "RSAES_OAEP_SHA_1",
        "RSA_3072",
        &material,
        "sha1",
    );
    let now = sandbox_now(ep);
    run_json(&mut import_cmd(
        ep,
        &key_id,
        &w,
        &iso(now + time::Duration::days(30)),
    ));
    assert_eq!(describe_key(ep, &key_id)["KeyState"], "Enabled");
    round_trip(ep, d, &key_id);

    // Material wrapped with the wrong OAEP digest does not unwrap.
    let key2 = run_json(aws(ep).args(["kms", "create-key", "--origin", "EXTERNAL"]));
    let key2_id = str_of(&key2["KeyMetadata"]["KeyId"], "KeyId").to_string();
    let w_sha256 = wrap_for_import(
        ep,
        d,
        &key2_id,
        "RSAES_OAEP_SHA_256",
        "RSA_2048",
        &material,
        "mismatch",
    );
    // Ask for SHA-1 parameters but wrap with SHA-256: the unwrap must fail.
    let p = run_json(aws(ep).args([
        "kms",
        "get-parameters-for-import",
        "--key-id",
        &key2_id,
        "--wrapping-algorithm",
        "RSAES_OAEP_SHA_1",
        "--wrapping-key-spec",
        "RSA_2048",
    ]));
    let token = write(d, "sha1-token.bin", &b64d(&p["ImportToken"]));
    let public = write(d, "sha1-pub.der", &b64d(&p["PublicKey"]));
    let wrapped = d.join("wrong-digest.bin");
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        &public.display().to_string(),
        "-in",
        &material.display().to_string(),
        "-out",
        &wrapped.display().to_string(),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    ]);
    let out = run_fail(&mut import_cmd(
        ep,
        &key2_id,
        &Wrapped {
            token,
            material: wrapped,
        },
        &iso(now + time::Duration::days(30)),
    ));
    let code = error_code(&out);
    assert!(
        code == "InvalidCiphertextException" || code == "IncorrectKeyMaterialException",
        "unexpected error for material wrapped with the wrong digest: {}",
        stderr_of(&out)
    );
    assert_eq!(describe_key(ep, &key2_id)["KeyState"], "PendingImport");
    // The SHA-256 parameters still work for that key.
    run_json(&mut import_cmd(
        ep,
        &key2_id,
        &w_sha256,
        &iso(now + time::Duration::days(30)),
    ));
    assert_eq!(describe_key(ep, &key2_id)["KeyState"], "Enabled");
}

// ---------------------------------------------------------------------------------------------
// KMS: scheduling key deletion

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
    expect_error(
        aws(ep).args(["kms", "schedule-key-deletion", "--key-id", &k1]),
        "KMSInvalidStateException",
    );
    expect_error(
        aws(ep).args([
            "kms",
            "schedule-key-deletion",
            "--key-id",
            &k1,
            "--pending-window-in-days",
            "7",
        ]),
        "KMSInvalidStateException",
    );

    // Aliases are not accepted as the key of a key-management operation.
    let stderr = expect_error(
        aws(ep).args(["kms", "schedule-key-deletion", "--key-id", "alias/FirstCMK"]),
        "NotFoundException",
    );
    assert!(stderr.contains("alias/FirstCMK"), "{stderr}");
    assert_eq!(describe_key(ep, "alias/FirstCMK")["KeyState"], "Enabled");

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
    expect_error(
        aws(ep).args([
            "kms",
            "generate-data-key",
            "--key-id",
            &key_id,
            "--key-spec",
            "AES_256",
        ]),
        "KMSInvalidStateException",
    );
    expect_error(
        aws(ep).args(["kms", "schedule-key-deletion", "--key-id", &key_id]),
        "KMSInvalidStateException",
    );

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

// ---------------------------------------------------------------------------------------------
// CloudTrail: event history

#[test]
fn lookup_events_by_each_of_the_eight_attributes() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let k3_arn = str_of(&describe_key(ep, "alias/ImportedCMK")["Arn"], "Arn").to_string();
    let k2_arn = str_of(&describe_key(ep, "alias/FirstCMK")["Arn"], "Arn").to_string();
    run_json(aws(ep).args(WORKSHOP_GDK));

    let by_name = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(by_name.len(), 1, "{by_name:?}");
    let e = &by_name[0];
    let id = str_of(&e["EventId"], "EventId").to_string();
    assert_eq!(e["EventName"], "GenerateDataKey");
    assert_eq!(e["EventSource"], "kms.amazonaws.com");
    assert_eq!(e["ReadOnly"], "true", "ReadOnly is a string");
    assert_eq!(e["Username"], "workshop-learner");
    assert_eq!(e["AccessKeyId"], LEARNER_ACCESS_KEY);
    assert_eq!(
        e["Resources"],
        json!([{ "ResourceType": "AWS::KMS::Key", "ResourceName": k3_arn }])
    );
    assert!(!e["EventTime"].is_null());

    let by_id = lookup(ep, "EventId", &id);
    assert_eq!(
        ids(&by_id),
        vec![id.clone()],
        "EventId finds exactly that event"
    );

    let matching = [
        ("ReadOnly", "true"),
        ("Username", "workshop-learner"),
        ("ResourceType", "AWS::KMS::Key"),
        ("ResourceName", k3_arn.as_str()),
        ("EventSource", "kms.amazonaws.com"),
        ("AccessKeyId", LEARNER_ACCESS_KEY),
    ];
    for (key, value) in matching {
        let found = lookup(ep, key, value);
        assert!(
            ids(&found).contains(&id),
            "{key}={value} should find the GenerateDataKey event"
        );
        for f in &found {
            match key {
                "ReadOnly" => assert_eq!(f["ReadOnly"], "true"),
                "Username" => assert_eq!(f["Username"], value),
                "EventSource" => assert_eq!(f["EventSource"], value),
                "AccessKeyId" => assert_eq!(f["AccessKeyId"], value),
                "ResourceType" | "ResourceName" => {
                    let field = if key == "ResourceType" {
                        "ResourceType"
                    } else {
                        "ResourceName"
                    };
                    assert!(
                        f["Resources"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|r| r[field] == value),
                        "{f}"
                    );
                }
                _ => unreachable!(),
            }
        }
    }

    let not_matching = [
        ("EventName", "Decrypt"),
        ("ReadOnly", "false"),
        ("Username", INSTANCE_ID),
        ("ResourceType", "AWS::CloudTrail::Trail"),
        ("ResourceName", k2_arn.as_str()),
        ("EventSource", "cloudtrail.amazonaws.com"),
        ("AccessKeyId", INSTANCE_ACCESS_KEY),
        ("EventId", "00000000-0000-0000-0000-000000000000"),
    ];
    for (key, value) in not_matching {
        assert!(
            !ids(&lookup(ep, key, value)).contains(&id),
            "{key}={value} must not find the GenerateDataKey event"
        );
    }
    // Attribute values match exactly (case-sensitive).
    assert!(lookup(ep, "EventName", "generatedatakey").is_empty());
    // No attribute: every event, including the lookups themselves.
    let all = run_json(aws(ep).args(["cloudtrail", "lookup-events"]));
    let all = all["Events"].as_array().unwrap();
    assert!(ids(all).contains(&id));
    assert!(all.iter().any(|e| e["EventName"] == "LookupEvents"));
}

#[test]
fn lookup_events_shows_the_instance_role_as_the_instance_id() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let instance = || {
        aws_with(
            ep,
            INSTANCE_ACCESS_KEY,
            INSTANCE_SECRET_KEY,
            Some(INSTANCE_SESSION_TOKEN),
        )
    };
    run_json(instance().args(WORKSHOP_GDK));
    run_json(aws(ep).args(WORKSHOP_GDK));

    let by_user = lookup(ep, "Username", INSTANCE_ID);
    let gdk: Vec<&Value> = by_user
        .iter()
        .filter(|e| e["EventName"] == "GenerateDataKey")
        .collect();
    assert_eq!(gdk.len(), 1, "{by_user:?}");
    let e = gdk[0];
    assert_eq!(e["Username"], INSTANCE_ID);
    assert_eq!(e["AccessKeyId"], INSTANCE_ACCESS_KEY);
    let r = record(e);
    let ui = &r["userIdentity"];
    assert_eq!(ui["type"], "AssumedRole");
    assert_eq!(ui["accessKeyId"], INSTANCE_ACCESS_KEY);
    assert_eq!(ui["accountId"], ACCOUNT);
    assert_eq!(
        ui["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/KMSWorkshop-InstanceInitRole/{INSTANCE_ID}")
    );
    assert!(str_of(&ui["principalId"], "principalId").ends_with(&format!(":{INSTANCE_ID}")));
    assert_eq!(ui["sessionContext"]["sessionIssuer"]["type"], "Role");
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["userName"],
        "KMSWorkshop-InstanceInitRole"
    );
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/KMSWorkshop-InstanceInitRole")
    );
    assert!(
        ui.get("userName").is_none(),
        "a role session has sessionContext, not userName: {ui}"
    );

    // Filtering by the learner or the learner's key does not show the instance's call.
    let id = str_of(&e["EventId"], "EventId").to_string();
    assert!(!ids(&lookup(ep, "Username", "workshop-learner")).contains(&id));
    assert!(ids(&lookup(ep, "AccessKeyId", INSTANCE_ACCESS_KEY)).contains(&id));
    assert_eq!(lookup(ep, "EventName", "GenerateDataKey").len(), 2);
}

#[test]
fn lookup_events_validation_errors() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    run_json(aws(ep).args(WORKSHOP_GDK));
    run_json(aws(ep).args(WORKSHOP_GDK));

    let two = json!([
        { "AttributeKey": "EventName", "AttributeValue": "GenerateDataKey" },
        { "AttributeKey": "Username", "AttributeValue": "workshop-learner" },
    ])
    .to_string();
    expect_error(
        aws(ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &two]),
        "InvalidLookupAttributesException",
    );
    let bogus =
        json!([{ "AttributeKey": "UserName", "AttributeValue": "workshop-learner" }]).to_string();
    expect_error(
        aws(ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &bogus]),
        "InvalidLookupAttributesException",
    );

    let now = sandbox_now(ep);
    let (earlier, later) = (
        iso(now - time::Duration::hours(2)),
        iso(now - time::Duration::hours(1)),
    );
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "lookup-events",
            "--start-time",
            &later,
            "--end-time",
            &earlier,
        ]),
        "InvalidTimeRangeException",
    );
    // Start equal to end is a valid (inclusive) range.
    run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--start-time",
        &later,
        "--end-time",
        &later,
    ]));
    // A range around now finds the calls; one that ended before them does not.
    let around = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--start-time",
        &iso(now - time::Duration::minutes(10)),
        "--end-time",
        &iso(now + time::Duration::minutes(10)),
    ]));
    assert_eq!(around["Events"].as_array().unwrap().len(), 2);
    let before = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--end-time",
        &earlier,
    ]));
    assert!(before["Events"].as_array().unwrap().is_empty());

    expect_error(
        aws(ep).args([
            "cloudtrail",
            "lookup-events",
            "--max-results",
            "51",
            "--no-paginate",
        ]),
        "InvalidMaxResultsException",
    );
    let fifty = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--max-results",
        "50",
        "--no-paginate",
    ]));
    assert!(!fifty["Events"].as_array().unwrap().is_empty());

    // A NextToken belongs to the query that issued it.
    let page = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--max-results",
        "1",
        "--no-paginate",
    ]));
    let token = str_of(&page["NextToken"], "NextToken").to_string();
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=Decrypt",
            "--max-results",
            "1",
            "--next-token",
            &token,
            "--no-paginate",
        ]),
        "InvalidNextTokenException",
    );
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "lookup-events",
            "--next-token",
            &token,
            "--no-paginate",
        ]),
        "InvalidNextTokenException",
    );
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "lookup-events",
            "--next-token",
            "bm90LWEtdG9rZW4=",
            "--no-paginate",
        ]),
        "InvalidNextTokenException",
    );
    // With the same query it continues.
    let next = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--max-results",
        "1",
        "--next-token",
        &token,
        "--no-paginate",
    ]));
    assert_eq!(next["Events"].as_array().unwrap().len(), 1);
    assert_ne!(next["Events"][0]["EventId"], page["Events"][0]["EventId"]);
}

#[test]
fn lookup_events_pages_newest_first_without_duplicates() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    const CALLS: usize = 7;
    for _ in 0..CALLS {
        run_json(aws(ep).args(WORKSHOP_GDK));
    }
    let attr = "AttributeKey=EventName,AttributeValue=GenerateDataKey";

    let one_page = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--max-results",
        "50",
        "--no-paginate",
    ]));
    assert!(
        one_page.get("NextToken").is_none_or(Value::is_null),
        "everything fits one page: {one_page}"
    );
    let reference = one_page["Events"].as_array().unwrap().clone();
    assert_eq!(reference.len(), CALLS);

    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut cmd = aws(ep);
        cmd.args([
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            attr,
            "--max-results",
            "3",
            "--no-paginate",
        ]);
        if let Some(t) = &token {
            cmd.args(["--next-token", t]);
        }
        let page = run_json(&mut cmd);
        let events = page["Events"].as_array().unwrap();
        assert!(events.len() <= 3);
        paged.extend(events.iter().cloned());
        pages += 1;
        assert!(pages <= CALLS, "paging does not end");
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "7 events in pages of 3");
    let paged_ids = ids(&paged);
    let mut unique = paged_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        CALLS,
        "no duplicates across pages: {paged_ids:?}"
    );
    assert_eq!(
        paged_ids,
        ids(&reference),
        "pages concatenate to the single-page answer"
    );
    let times: Vec<OffsetDateTime> = paged.iter().map(|e| timestamp(&e["EventTime"])).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    // The CLI's own pagination (page size 2) sees the same events in the same order.
    let auto = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--page-size",
        "2",
    ]));
    assert_eq!(ids(auto["Events"].as_array().unwrap()), paged_ids);
    // --max-items stops early and hands back a token that resumes where it stopped.
    let first = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--page-size",
        "2",
        "--max-items",
        "3",
    ]));
    let first_ids = ids(first["Events"].as_array().unwrap());
    assert_eq!(first_ids, paged_ids[..3].to_vec());
    let resume = str_of(&first["NextToken"], "NextToken").to_string();
    let rest = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--page-size",
        "2",
        "--starting-token",
        &resume,
    ]));
    assert_eq!(
        ids(rest["Events"].as_array().unwrap()),
        paged_ids[3..].to_vec()
    );

    // Events that arrive while a client is paging do not shift the pages it has yet to read.
    let page1 = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--max-results",
        "4",
        "--no-paginate",
    ]));
    let token = str_of(&page1["NextToken"], "NextToken").to_string();
    run_json(aws(ep).args(WORKSHOP_GDK));
    run_json(aws(ep).args(WORKSHOP_GDK));
    let page2 = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--max-results",
        "4",
        "--next-token",
        &token,
        "--no-paginate",
    ]));
    let mut seen = ids(page1["Events"].as_array().unwrap());
    seen.extend(ids(page2["Events"].as_array().unwrap()));
    assert_eq!(
        seen, paged_ids,
        "the pages read during new activity are the old listing"
    );
    assert!(page2.get("NextToken").is_none_or(Value::is_null));
    let now_all = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(now_all.len(), CALLS + 2);
    assert_eq!(
        ids(&now_all)[2..].to_vec(),
        paged_ids,
        "the new events come first"
    );
}

/// CloudTrail times events to the second (`eventTime` "…:43Z", LookupEvents `EventTime`
/// 1795890043.0) and StartTime/EndTime are inclusive, so a range of exactly an event's second
/// finds it; the aws CLI sends whole seconds.
#[test]
fn lookup_events_time_range_is_inclusive_at_second_resolution() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    run_json(aws(ep).args(WORKSHOP_GDK));
    let events = lookup(ep, "EventName", "GenerateDataKey");
    let e = &events[0];
    let t = timestamp(&e["EventTime"]);
    let recorded =
        OffsetDateTime::parse(str_of(&record(e)["eventTime"], "eventTime"), &Rfc3339).unwrap();
    assert_eq!(
        t, recorded,
        "EventTime is the record's eventTime, whole seconds"
    );
    let second = t.unix_timestamp().to_string();
    let found = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--start-time",
        &second,
        "--end-time",
        &second,
    ]));
    assert_eq!(ids(found["Events"].as_array().unwrap()), ids(&events));
}

#[test]
fn cloudtrail_delay_hides_events_until_the_sandbox_clock_passes_it() {
    let sb = SandboxProc::start(&["--empty-history", "--cloudtrail-delay", "5m"]);
    let ep = &sb.endpoint;
    run_json(aws(ep).args(WORKSHOP_GDK));
    assert!(
        lookup(ep, "EventName", "GenerateDataKey").is_empty(),
        "not delivered yet"
    );
    advance_clock(ep, "4m");
    assert!(lookup(ep, "EventName", "GenerateDataKey").is_empty());
    advance_clock(ep, "61s");
    let events = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(events.len(), 1, "delivered once the delay has passed");
    // The event keeps the time of the call, not the time it became visible.
    let at = timestamp(&events[0]["EventTime"]);
    assert!(
        sandbox_now(ep) - at >= time::Duration::minutes(5),
        "EventTime {at} is the time of the call"
    );
}

#[test]
fn cloudtrail_record_has_the_documented_fields() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let k3_arn = str_of(&describe_key(ep, "alias/ImportedCMK")["Arn"], "Arn").to_string();
    run_json(aws(ep).args(WORKSHOP_GDK));
    let events = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    let r = record(e);

    assert_eq!(r["eventVersion"], "1.11");
    let ui = &r["userIdentity"];
    assert_eq!(ui["type"], "IAMUser");
    assert_eq!(ui["userName"], "workshop-learner");
    assert_eq!(ui["accessKeyId"], LEARNER_ACCESS_KEY);
    assert_eq!(ui["accountId"], ACCOUNT);
    assert_eq!(
        ui["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/workshop-learner")
    );
    assert!(ui["principalId"].is_string());
    let event_time = OffsetDateTime::parse(str_of(&r["eventTime"], "eventTime"), &Rfc3339).unwrap();
    assert_eq!(
        event_time.unix_timestamp(),
        timestamp(&e["EventTime"]).unix_timestamp()
    );
    assert_eq!(r["eventSource"], "kms.amazonaws.com");
    assert_eq!(r["eventName"], "GenerateDataKey");
    assert_eq!(r["awsRegion"], REGION);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(
        str_of(&r["userAgent"], "userAgent").contains("aws-cli/"),
        "{}",
        r["userAgent"]
    );

    let rp = &r["requestParameters"];
    assert_eq!(
        rp["keyId"], "alias/ImportedCMK",
        "keyId as the caller passed it"
    );
    assert_eq!(rp["keySpec"], "AES_256");
    assert_eq!(rp["encryptionContext"], json!({ "project": "workshop" }));
    assert!(
        r.get("responseElements").is_some_and(Value::is_null),
        "responseElements is present and null: {r}"
    );
    assert!(r["requestID"].is_string());
    assert_eq!(r["eventID"], e["EventId"]);
    assert_eq!(r["readOnly"], true);
    assert_eq!(
        r["resources"],
        json!([{ "accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": k3_arn }])
    );
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["recipientAccountId"], ACCOUNT);
    assert_eq!(r["eventCategory"], "Management");
    assert!(
        r.get("errorCode").is_none(),
        "a successful call has no errorCode: {r}"
    );
    let text = str_of(&e["CloudTrailEvent"], "CloudTrailEvent");
    for secret in ["Plaintext", "plaintext", "CiphertextBlob", "ciphertextBlob"] {
        assert!(
            !text.contains(secret),
            "the record never carries {secret}: {text}"
        );
    }

    // Failed calls are recorded too, with their error code.
    let dir = tempfile::tempdir().unwrap();
    let v = run_json(aws(ep).args(WORKSHOP_GDK));
    let blob = write(dir.path(), "k.enc", &b64d(&v["CiphertextBlob"]));
    expect_error(
        aws(ep).args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &fileb(&blob),
            "--encryption-context",
            "project=other",
        ]),
        "InvalidCiphertextException",
    );
    let failed = lookup(ep, "EventName", "Decrypt");
    assert_eq!(failed.len(), 1);
    let fr = record(&failed[0]);
    assert_eq!(fr["errorCode"], "InvalidCiphertextException");
    assert!(fr.get("errorMessage").is_some(), "{fr}");
    assert_eq!(fr["readOnly"], true);
    assert_eq!(
        fr["requestParameters"]["encryptionContext"],
        json!({ "project": "other" })
    );
    assert!(fr.get("responseElements").is_some_and(Value::is_null));

    // A failed write (an alias is not accepted by ScheduleKeyDeletion).
    expect_error(
        aws(ep).args([
            "kms",
            "schedule-key-deletion",
            "--key-id",
            "alias/NoSuchKey",
        ]),
        "NotFoundException",
    );
    let sched = lookup(ep, "EventName", "ScheduleKeyDeletion");
    assert_eq!(sched.len(), 1);
    assert_eq!(sched[0]["ReadOnly"], "false");
    let sr = record(&sched[0]);
    assert_eq!(sr["errorCode"], "NotFoundException");
    assert_eq!(sr["readOnly"], false);
    assert_eq!(sr["requestParameters"]["keyId"], "alias/NoSuchKey");
    assert!(lookup(ep, "ReadOnly", "false")
        .iter()
        .any(|x| x["EventName"] == "ScheduleKeyDeletion"));
}

// ---------------------------------------------------------------------------------------------
// STS and credentials

#[test]
fn get_caller_identity_for_the_learner_and_the_instance_role() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let learner = run_json(aws(ep).args(["sts", "get-caller-identity"]));
    assert_eq!(learner["Account"], ACCOUNT);
    assert_eq!(
        learner["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/workshop-learner")
    );
    assert!(str_of(&learner["UserId"], "UserId").starts_with("AIDA"));

    let instance = run_json(
        aws_with(
            ep,
            INSTANCE_ACCESS_KEY,
            INSTANCE_SECRET_KEY,
            Some(INSTANCE_SESSION_TOKEN),
        )
        .args(["sts", "get-caller-identity"]),
    );
    assert_eq!(instance["Account"], ACCOUNT);
    assert_eq!(
        instance["Arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/KMSWorkshop-InstanceInitRole/{INSTANCE_ID}")
    );
    let user_id = str_of(&instance["UserId"], "UserId");
    assert!(
        user_id.starts_with("AROA") && user_id.ends_with(&format!(":{INSTANCE_ID}")),
        "{user_id}"
    );

    // The STS calls are in the event history (STS is global: us-east-1).
    let sts = lookup(ep, "EventSource", "sts.amazonaws.com");
    assert_eq!(
        sts.iter()
            .filter(|e| e["EventName"] == "GetCallerIdentity")
            .count(),
        2
    );
}

#[test]
fn unknown_keys_and_wrong_secrets_are_refused() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let unknown = || {
        aws_with(
            ep,
            "AKIAUNKNOWNUNKNOWN00",
            "some/secret/key/that/is/not/known/anywhere",
            None,
        )
    };
    expect_error(
        unknown().args(["sts", "get-caller-identity"]),
        "InvalidClientTokenId",
    );
    expect_error(
        unknown().args(["kms", "list-keys"]),
        "UnrecognizedClientException",
    );
    expect_error(
        unknown().args(["cloudtrail", "lookup-events"]),
        "UnrecognizedClientException",
    );

    let wrong_secret = || {
        aws_with(
            ep,
            LEARNER_ACCESS_KEY,
            "kmsworkshop/sandbox/learner/secret/key/999",
            None,
        )
    };
    expect_error(
        wrong_secret().args(["sts", "get-caller-identity"]),
        "SignatureDoesNotMatch",
    );
    expect_error(
        wrong_secret().args(["kms", "list-keys"]),
        "InvalidSignatureException",
    );
    expect_error(
        wrong_secret().args(WORKSHOP_GDK),
        "InvalidSignatureException",
    );

    // A role session's keys are useless without their session token.
    let no_token = || aws_with(ep, INSTANCE_ACCESS_KEY, INSTANCE_SECRET_KEY, None);
    expect_error(
        no_token().args(["sts", "get-caller-identity"]),
        "InvalidClientTokenId",
    );
    expect_error(
        no_token().args(["kms", "list-keys"]),
        "UnrecognizedClientException",
    );
    let wrong_token = || {
        aws_with(
            ep,
            INSTANCE_ACCESS_KEY,
            INSTANCE_SECRET_KEY,
            Some("not-the-token"),
        )
    };
    expect_error(
        wrong_token().args(["kms", "list-keys"]),
        "UnrecognizedClientException",
    );

    // Refused requests are not API calls: nothing reaches the event history.
    let all = run_json(aws(ep).args(["cloudtrail", "lookup-events"]));
    let names: Vec<&str> = all["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| str_of(&e["EventName"], "EventName"))
        .collect();
    assert!(names.iter().all(|n| *n == "LookupEvents"), "{names:?}");
    // And the right credentials still work.
    run_json(aws(ep).args(["kms", "list-keys"]));
}

#[test]
fn accept_any_credentials_lets_test_test_through() {
    let strict = SandboxProc::start(&[]);
    expect_error(
        aws_with(&strict.endpoint, "test", "test", None).args(["sts", "get-caller-identity"]),
        "InvalidClientTokenId",
    );

    let sb = SandboxProc::start(&["--accept-any-credentials"]);
    let ep = &sb.endpoint;
    let test = || aws_with(ep, "test", "test", None);
    let who = run_json(test().args(["sts", "get-caller-identity"]));
    assert_eq!(who["Account"], ACCOUNT);
    run_json(test().args(["kms", "list-keys"]));
    let dk = run_json(test().args(WORKSHOP_GDK));
    assert_eq!(b64d(&dk["Plaintext"]).len(), 32);
    // The seeded credentials keep working, even with a wrong secret.
    run_json(aws(ep).args(["kms", "list-keys"]));
    run_json(aws_with(ep, LEARNER_ACCESS_KEY, "wrong", None).args(["kms", "list-keys"]));
    // CloudTrail records the access key that was used.
    let by_key = lookup(ep, "AccessKeyId", "test");
    assert!(
        by_key.iter().any(|e| e["EventName"] == "GenerateDataKey"),
        "{by_key:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// CloudTrail: trails

#[test]
fn trail_lifecycle() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let bucket = format!("kmsworkshop-{ACCOUNT}");
    let arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/workshop-trail");

    let empty = run_json(aws(ep).args(["cloudtrail", "describe-trails"]));
    assert_eq!(empty["trailList"], json!([]));

    let t = run_json(aws(ep).args([
        "cloudtrail",
        "create-trail",
        "--name",
        "workshop-trail",
        "--s3-bucket-name",
        &bucket,
    ]));
    assert_eq!(t["Name"], "workshop-trail");
    assert_eq!(t["TrailARN"], arn.as_str());
    assert_eq!(t["S3BucketName"], bucket.as_str());
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "create-trail",
            "--name",
            "workshop-trail",
            "--s3-bucket-name",
            &bucket,
        ]),
        "TrailAlreadyExistsException",
    );
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "create-trail",
            "--name",
            "bad--name",
            "--s3-bucket-name",
            &bucket,
        ]),
        "InvalidTrailNameException",
    );

    let status =
        run_json(aws(ep).args(["cloudtrail", "get-trail-status", "--name", "workshop-trail"]));
    assert_eq!(status["IsLogging"], false);

    run_json(aws(ep).args(["cloudtrail", "start-logging", "--name", "workshop-trail"]));
    let status = run_json(aws(ep).args(["cloudtrail", "get-trail-status", "--name", &arn]));
    assert_eq!(status["IsLogging"], true);
    assert!(!status["StartLoggingTime"].is_null(), "{status}");

    let trails = run_json(aws(ep).args(["cloudtrail", "describe-trails"]));
    let list = trails["trailList"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["Name"], "workshop-trail");
    assert_eq!(list[0]["TrailARN"], arn.as_str());
    assert_eq!(list[0]["HomeRegion"], REGION);
    assert_eq!(list[0]["S3BucketName"], bucket.as_str());
    let named = run_json(aws(ep).args([
        "cloudtrail",
        "describe-trails",
        "--trail-name-list",
        "workshop-trail",
    ]));
    assert_eq!(named["trailList"].as_array().unwrap().len(), 1);
    let other = run_json(aws(ep).args([
        "cloudtrail",
        "describe-trails",
        "--trail-name-list",
        "some-other-trail",
    ]));
    assert_eq!(other["trailList"], json!([]));

    run_json(aws(ep).args(["cloudtrail", "stop-logging", "--name", "workshop-trail"]));
    let status =
        run_json(aws(ep).args(["cloudtrail", "get-trail-status", "--name", "workshop-trail"]));
    assert_eq!(status["IsLogging"], false);
    assert!(!status["StopLoggingTime"].is_null(), "{status}");

    run_json(aws(ep).args(["cloudtrail", "delete-trail", "--name", "workshop-trail"]));
    let gone = run_json(aws(ep).args(["cloudtrail", "describe-trails"]));
    assert_eq!(gone["trailList"], json!([]));
    expect_error(
        aws(ep).args(["cloudtrail", "get-trail-status", "--name", "workshop-trail"]),
        "TrailNotFoundException",
    );
    expect_error(
        aws(ep).args(["cloudtrail", "start-logging", "--name", "workshop-trail"]),
        "TrailNotFoundException",
    );
    expect_error(
        aws(ep).args(["cloudtrail", "delete-trail", "--name", "workshop-trail"]),
        "TrailNotFoundException",
    );

    // Each trail call is a write event on the trail resource.
    let on_trail = lookup(ep, "ResourceName", &arn);
    let mut names: Vec<&str> = on_trail
        .iter()
        .map(|e| str_of(&e["EventName"], "EventName"))
        .collect();
    names.sort();
    names.dedup();
    for op in [
        "CreateTrail",
        "DeleteTrail",
        "GetTrailStatus",
        "StartLogging",
        "StopLogging",
    ] {
        assert!(names.contains(&op), "{op} missing from {names:?}");
    }
    let writes = lookup(ep, "ReadOnly", "false");
    assert!(writes.iter().any(|e| e["EventName"] == "StartLogging"));
    assert!(!writes.iter().any(|e| e["EventName"] == "GetTrailStatus"));
}

// ---------------------------------------------------------------------------------------------
// The seeded account's history

#[test]
fn seeded_history_tells_the_earlier_sections() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let k1 = run_json(aws(ep).args(["kms", "list-keys"]))["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| describe_key(ep, str_of(&k["KeyId"], "KeyId")))
        .find(|md| md["KeyState"] == "PendingDeletion")
        .expect("K1");
    // K1's deletion was scheduled by the instance, with a 7-day window, the day before.
    let scheduled = lookup(ep, "EventName", "ScheduleKeyDeletion");
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!(scheduled[0]["Username"], INSTANCE_ID);
    let rec = record(&scheduled[0]);
    assert_eq!(rec["requestParameters"]["pendingWindowInDays"], 7);
    assert_eq!(rec["resources"][0]["ARN"], k1["Arn"]);
    // The three keys were created, K3 with imported material.
    let created = lookup(ep, "EventName", "CreateKey");
    assert_eq!(created.len(), 3);
    let imported = lookup(ep, "EventName", "ImportKeyMaterial");
    let k3 = describe_key(ep, "alias/ImportedCMK");
    assert_eq!(
        imported[0]["Resources"][0]["ResourceName"], k3["Arn"],
        "{imported:?}"
    );
    // The failed Decrypt is there with its error code.
    let decrypts = lookup(ep, "EventName", "Decrypt");
    assert!(decrypts
        .iter()
        .any(|e| record(e)["errorCode"] == "InvalidCiphertextException"));
    // `--empty-history` starts without any of it.
    let empty = SandboxProc::start(&["--empty-history"]);
    assert!(lookup(&empty.endpoint, "EventName", "CreateKey").is_empty());
}
