//! KMS: the workshop's data key

use super::*;

#[test]
fn workshop_generate_data_key_then_decrypt_with_and_without_context() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let k3 = describe_key(ep, IMPORTED_ALIAS);
    assert_eq!(k3["Origin"], "EXTERNAL");
    assert_eq!(k3["KeyState"], "Enabled");
    let k3_arn = str_of(&k3["Arn"], "Arn");

    let v = run_json(aws(ep).args(WORKSHOP_GDK));
    assert_eq!(
        v["KeyId"], k3_arn,
        "KeyId is the ARN of the key behind {IMPORTED_ALIAS}"
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
    let refused: [(&[&str], &str); 3] = [
        (
            &["kms", "decrypt", "--ciphertext-blob", &blob_arg],
            "InvalidCiphertextException",
        ),
        (
            &[
                "kms",
                "decrypt",
                "--ciphertext-blob",
                &blob_arg,
                "--encryption-context",
                "project=other",
            ],
            "InvalidCiphertextException",
        ),
        (
            &[
                "kms",
                "decrypt",
                "--ciphertext-blob",
                &blob_arg,
                "--encryption-context",
                "project=workshop,extra=1",
            ],
            "InvalidCiphertextException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
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
        &format!("arn:aws:kms:{REGION}:{ACCOUNT}:{IMPORTED_ALIAS}"),
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
    let refused: [(&[&str], &str); 3] = [
        (
            &[
                "kms",
                "decrypt",
                "--ciphertext-blob",
                &blob_arg,
                "--encryption-context",
                "project=workshop",
                "--key-id",
                FIRST_ALIAS,
            ],
            "IncorrectKeyException",
        ),
        // Keys live in their region: the alias does not exist in another one.
        (
            &[
                "--region",
                "eu-west-1",
                "kms",
                "describe-key",
                "--key-id",
                IMPORTED_ALIAS,
            ],
            "NotFoundException",
        ),
        (
            &[
                "kms",
                "describe-key",
                "--key-id",
                &k3_arn.replace(":us-east-1:", ":eu-west-1:"),
            ],
            "NotFoundException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // The instance role can decrypt it too (same account and key).
    let d = run_json(aws_instance(ep).args([
        "kms",
        "decrypt",
        "--ciphertext-blob",
        &blob_arg,
        "--encryption-context",
        "project=workshop",
    ]));
    assert_eq!(b64d(&d["Plaintext"]), plaintext);
}
