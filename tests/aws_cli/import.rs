//! KMS: importing key material

use super::*;

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
