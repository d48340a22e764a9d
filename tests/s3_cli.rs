//! S3 through the real `aws` CLI (botocore picks path-style addressing by itself for an IP
//! endpoint): every operation the sandbox serves via `aws s3api`, the high-level
//! `aws s3 cp/ls/rm/rb`, the errors clean-up relies on (BucketNotEmpty, NoSuchBucket), the
//! seeded buckets, and which S3 calls reach CloudTrail's event history.

use crate::common;

use common::*;
use serde_json::Value as J;

fn s3api(endpoint: &str, args: &[&str]) -> J {
    run_json(aws(endpoint).arg("s3api").args(args))
}

fn s3api_err(endpoint: &str, args: &[&str]) -> String {
    stderr_of(&run_fail(aws(endpoint).arg("s3api").args(args)))
}

/// `aws s3api` fails, and its stderr contains `what` (an error code, an HTTP status).
fn s3api_fails(endpoint: &str, args: &[&str], what: &str) {
    let e = s3api_err(endpoint, args);
    assert!(e.contains(what), "{args:?}: {e}");
}

fn tmp_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p.to_string_lossy().into_owned()
}

#[test]
fn seeded_buckets_and_objects() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let stack = format!("kmsworkshop-{ACCOUNT}");
    let archive = format!("kmsworkshop-archive-{ACCOUNT}");
    let out = s3api(ep, &["list-buckets"]);
    let names: Vec<&str> = out["Buckets"]
        .as_array()
        .expect("Buckets")
        .iter()
        .map(|b| b["Name"].as_str().expect("Name"))
        .collect();
    assert_eq!(names, [stack.as_str(), archive.as_str()]);
    assert!(out["Buckets"][0]["CreationDate"].is_string());
    assert!(out["Owner"]["ID"].as_str().is_some_and(|id| id.len() == 64));

    let listed = s3api(ep, &["list-objects-v2", "--bucket", &stack]);
    let keys: Vec<&str> = listed["Contents"]
        .as_array()
        .expect("Contents")
        .iter()
        .map(|o| o["Key"].as_str().expect("Key"))
        .collect();
    assert_eq!(keys, ["SampleFile-KMS-encrypted.txt", "SampleFile-KMS.txt"]);

    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("sample.txt");
    let got = s3api(
        ep,
        &[
            "get-object",
            "--bucket",
            &stack,
            "--key",
            "SampleFile-KMS.txt",
            dest.to_str().expect("path"),
        ],
    );
    assert_eq!(
        got["ContentLength"],
        J::from(std::fs::metadata(&dest).expect("downloaded").len())
    );
    assert!(std::fs::read_to_string(&dest)
        .expect("read")
        .contains("KMS workshop"));

    let head = s3api(
        ep,
        &[
            "head-object",
            "--bucket",
            &stack,
            "--key",
            "SampleFile-KMS-encrypted.txt",
        ],
    );
    assert_eq!(head["ServerSideEncryption"], "aws:kms");
    assert!(
        head["SSEKMSKeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with(&format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/"))),
        "{head}"
    );

    let arch = s3api(ep, &["list-objects-v2", "--bucket", &archive]);
    assert_eq!(arch["Contents"].as_array().map(Vec::len), Some(1));

    // The stack cannot be deleted with its bucket full: the error clean-up must handle.
    s3api_fails(ep, &["delete-bucket", "--bucket", &stack], "BucketNotEmpty");
    assert_eq!(
        s3api(ep, &["get-bucket-location", "--bucket", &stack])["LocationConstraint"],
        J::Null
    );
}

#[test]
fn buckets_objects_versions() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = tmp_file(dir.path(), "f.txt", "hello sandbox\n");

    // Bucket names and locations.
    s3api_fails(
        ep,
        &["create-bucket", "--bucket", "Bad_Name"],
        "InvalidBucketName",
    );
    let created = s3api(ep, &["create-bucket", "--bucket", "s3cli-one"]);
    assert_eq!(created["Location"], "/s3cli-one");
    // us-east-1 answers 200 for a bucket you already own there.
    s3api(ep, &["create-bucket", "--bucket", "s3cli-one"]);
    let eu = aws(ep)
        .args(common::words(
            "--region eu-west-1 s3api create-bucket --bucket s3cli-eu",
        ))
        .args(common::words(
            "--create-bucket-configuration LocationConstraint=eu-west-1",
        ))
        .output()
        .expect("run");
    assert!(
        eu.status.success(),
        "{}",
        String::from_utf8_lossy(&eu.stderr)
    );
    let again = run_fail(
        aws(ep)
            .args(common::words(
                "--region eu-west-1 s3api create-bucket --bucket s3cli-eu",
            ))
            .args(common::words(
                "--create-bucket-configuration LocationConstraint=eu-west-1",
            )),
    );
    assert!(
        stderr_of(&again).contains("BucketAlreadyOwnedByYou"),
        "{}",
        stderr_of(&again)
    );
    s3api_fails(
        ep,
        &common::words("create-bucket --bucket s3cli-x --create-bucket-configuration LocationConstraint=eu-west-1"),
        "IllegalLocationConstraintException",
    );
    assert_eq!(
        s3api(ep, &["get-bucket-location", "--bucket", "s3cli-eu"])["LocationConstraint"],
        "eu-west-1"
    );
    let head = s3api(ep, &["head-bucket", "--bucket", "s3cli-eu"]);
    assert_eq!(head["BucketRegion"], "eu-west-1");
    let refused: [(&[&str], &str); 2] = [
        (&["head-bucket", "--bucket", "s3cli-missing"], "404"),
        (
            &["list-objects-v2", "--bucket", "s3cli-missing"],
            "NoSuchBucket",
        ),
    ];
    for (args, code) in refused {
        s3api_fails(ep, args, code);
    }

    // Objects: metadata, content type, encryption echo.
    let put = s3api(
        ep,
        &[
            "put-object",
            "--bucket",
            "s3cli-one",
            "--key",
            "docs/a.txt",
            "--body",
            &file,
            "--content-type",
            "text/plain",
            "--metadata",
            "project=kmsworkshop",
            "--server-side-encryption",
            "AES256",
        ],
    );
    // MD5 of the body, in quotes.
    assert_eq!(put["ETag"], "\"3c7c2a2aef17a12281f58c6b7ed7674b\"");
    assert_eq!(put["ServerSideEncryption"], "AES256");
    let head = s3api(
        ep,
        &common::words("head-object --bucket s3cli-one --key docs/a.txt"),
    );
    assert_eq!(head["ContentLength"], 14);
    assert_eq!(head["ContentType"], "text/plain");
    assert_eq!(head["Metadata"]["project"], "kmsworkshop");
    assert!(head["LastModified"].is_string());
    let out = dir.path().join("out.txt");
    let got = s3api(
        ep,
        &[
            "get-object",
            "--bucket",
            "s3cli-one",
            "--key",
            "docs/a.txt",
            out.to_str().expect("path"),
        ],
    );
    assert_eq!(got["ETag"], put["ETag"]);
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "hello sandbox\n"
    );
    let refused: [(&[&str], &str); 2] = [
        (
            &[
                "get-object",
                "--bucket",
                "s3cli-one",
                "--key",
                "nope",
                out.to_str().expect("path"),
            ],
            "NoSuchKey",
        ),
        (
            &["head-object", "--bucket", "s3cli-one", "--key", "nope"],
            "404",
        ),
    ];
    for (args, code) in refused {
        s3api_fails(ep, args, code);
    }

    // Listings: prefix, delimiter, pages, keys that need URL encoding.
    for k in ["docs/b.txt", "docs/sub/c.txt", "top.txt", "odd key+%.txt"] {
        s3api(
            ep,
            &[
                "put-object",
                "--bucket",
                "s3cli-one",
                "--key",
                k,
                "--body",
                &file,
            ],
        );
    }
    let l = s3api(
        ep,
        &common::words("list-objects-v2 --bucket s3cli-one --delimiter / --no-paginate"),
    );
    let keys: Vec<&str> = l["Contents"]
        .as_array()
        .expect("Contents")
        .iter()
        .map(|o| o["Key"].as_str().expect("Key"))
        .collect();
    assert_eq!(keys, ["odd key+%.txt", "top.txt"]);
    assert_eq!(l["CommonPrefixes"][0]["Prefix"], "docs/");
    assert_eq!(l["KeyCount"], 3);
    assert_eq!(l["IsTruncated"], false);
    let l = s3api(
        ep,
        &common::words(
            "list-objects-v2 --bucket s3cli-one --prefix docs/ --delimiter / --no-paginate",
        ),
    );
    assert_eq!(l["Contents"].as_array().map(Vec::len), Some(2));
    assert_eq!(l["CommonPrefixes"][0]["Prefix"], "docs/sub/");
    let p1 = s3api(
        ep,
        &common::words("list-objects-v2 --bucket s3cli-one --max-keys 2 --no-paginate"),
    );
    assert_eq!(p1["IsTruncated"], true);
    assert_eq!(p1["KeyCount"], 2);
    let token = p1["NextContinuationToken"]
        .as_str()
        .expect("NextContinuationToken");
    let p2 = s3api(
        ep,
        &[
            "list-objects-v2",
            "--bucket",
            "s3cli-one",
            "--max-keys",
            "10",
            "--continuation-token",
            token,
            "--no-paginate",
        ],
    );
    assert_eq!(p2["KeyCount"], 3);
    assert_eq!(p2["IsTruncated"], false);
    // The paginating CLI walks all pages.
    let all = s3api(
        ep,
        &common::words("list-objects-v2 --bucket s3cli-one --page-size 1"),
    );
    assert_eq!(all["Contents"].as_array().map(Vec::len), Some(5));
    let v1 = s3api(
        ep,
        &["list-objects", "--bucket", "s3cli-one", "--prefix", "docs/"],
    );
    assert_eq!(v1["Contents"].as_array().map(Vec::len), Some(3));

    // Delete without versioning, then DeleteObjects (verbose and quiet).
    s3api(
        ep,
        &["delete-object", "--bucket", "s3cli-one", "--key", "top.txt"],
    );
    let d = s3api(
        ep,
        &[
            "delete-objects",
            "--bucket",
            "s3cli-one",
            "--delete",
            r#"{"Objects":[{"Key":"docs/a.txt"},{"Key":"docs/b.txt"}]}"#,
        ],
    );
    let deleted: Vec<&str> = d["Deleted"]
        .as_array()
        .expect("Deleted")
        .iter()
        .map(|o| o["Key"].as_str().expect("Key"))
        .collect();
    assert_eq!(deleted, ["docs/a.txt", "docs/b.txt"]);
    let d = s3api(
        ep,
        &[
            "delete-objects",
            "--bucket",
            "s3cli-one",
            "--delete",
            r#"{"Objects":[{"Key":"docs/sub/c.txt"}],"Quiet":true}"#,
        ],
    );
    assert!(d.get("Deleted").is_none(), "{d}");

    // Versioning.
    assert!(
        s3api(ep, &["get-bucket-versioning", "--bucket", "s3cli-one"])
            .get("Status")
            .is_none()
    );
    s3api(
        ep,
        &common::words(
            "put-bucket-versioning --bucket s3cli-one --versioning-configuration Status=Enabled",
        ),
    );
    assert_eq!(
        s3api(ep, &["get-bucket-versioning", "--bucket", "s3cli-one"])["Status"],
        "Enabled"
    );
    let v1 = s3api(
        ep,
        &[
            "put-object",
            "--bucket",
            "s3cli-one",
            "--key",
            "v.txt",
            "--body",
            &file,
        ],
    );
    let v2 = s3api(
        ep,
        &[
            "put-object",
            "--bucket",
            "s3cli-one",
            "--key",
            "v.txt",
            "--body",
            &file,
        ],
    );
    let (id1, id2) = (
        v1["VersionId"].as_str().expect("VersionId"),
        v2["VersionId"].as_str().expect("VersionId"),
    );
    assert_ne!(id1, id2);
    let del = s3api(
        ep,
        &["delete-object", "--bucket", "s3cli-one", "--key", "v.txt"],
    );
    assert_eq!(del["DeleteMarker"], true);
    s3api_fails(
        ep,
        &[
            "get-object",
            "--bucket",
            "s3cli-one",
            "--key",
            "v.txt",
            out.to_str().expect("path"),
        ],
        "NoSuchKey",
    );
    let old = s3api(
        ep,
        &[
            "get-object",
            "--bucket",
            "s3cli-one",
            "--key",
            "v.txt",
            "--version-id",
            id1,
            out.to_str().expect("path"),
        ],
    );
    assert_eq!(old["VersionId"], id1);
    let vs = s3api(
        ep,
        &common::words("list-object-versions --bucket s3cli-one --prefix v.txt"),
    );
    assert_eq!(vs["Versions"].as_array().map(Vec::len), Some(2), "{vs}");
    assert_eq!(
        vs["DeleteMarkers"].as_array().map(Vec::len),
        Some(1),
        "{vs}"
    );
    assert_eq!(vs["DeleteMarkers"][0]["IsLatest"], true);
    assert_eq!(vs["Versions"][0]["VersionId"], id2);

    // Versions keep the bucket non-empty until each is deleted by id.
    s3api_fails(
        ep,
        &["delete-bucket", "--bucket", "s3cli-one"],
        "BucketNotEmpty",
    );
    // Deleting by key alone would only add delete markers: delete every version by id.
    let vs = s3api(ep, &["list-object-versions", "--bucket", "s3cli-one"]);
    let mut objects = Vec::new();
    for v in vs["Versions"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(vs["DeleteMarkers"].as_array().into_iter().flatten())
    {
        objects.push(serde_json::json!({"Key": v["Key"], "VersionId": v["VersionId"]}));
    }
    let d = s3api(
        ep,
        &[
            "delete-objects",
            "--bucket",
            "s3cli-one",
            "--delete",
            &serde_json::json!({"Objects": objects}).to_string(),
        ],
    );
    assert_eq!(d["Deleted"].as_array().map(Vec::len), Some(4), "{d}");
    let left = s3api(ep, &["list-object-versions", "--bucket", "s3cli-one"]);
    assert!(
        left.get("Versions").is_none() && left.get("DeleteMarkers").is_none(),
        "{left}"
    );
    s3api(ep, &["delete-bucket", "--bucket", "s3cli-one"]);
    s3api_fails(
        ep,
        &["delete-bucket", "--bucket", "s3cli-one"],
        "NoSuchBucket",
    );

    // Malformed bodies are refused, not crashed on.
    let e = s3api_err(
        ep,
        &[
            "delete-objects",
            "--bucket",
            "s3cli-eu",
            "--delete",
            r#"{"Objects":[]}"#,
        ],
    );
    assert!(
        e.contains("MalformedXML") || e.contains("Invalid length"),
        "{e}"
    );

    // CloudTrail's event history has the bucket-level calls, not the object-level ones.
    let ev = run_json(aws(ep).args(common::words("cloudtrail lookup-events --lookup-attributes AttributeKey=EventSource,AttributeValue=s3.amazonaws.com")));
    let names: Vec<&str> = ev["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .map(|e| e["EventName"].as_str().expect("EventName"))
        .collect();
    for want in [
        "CreateBucket",
        "DeleteBucket",
        "HeadBucket",
        "GetBucketLocation",
        "PutBucketVersioning",
        "GetBucketVersioning",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for data in [
        "PutObject",
        "GetObject",
        "HeadObject",
        "DeleteObject",
        "DeleteObjects",
        "ListObjectsV2",
        "ListObjectVersions",
    ] {
        assert!(
            !names.contains(&data),
            "data event {data} in the event history: {names:?}"
        );
    }
}

#[test]
fn high_level_s3_commands() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = tmp_file(
        dir.path(),
        "SampleFile-KMS.txt",
        "sample text for the workshop\n",
    );
    let big = "0123456789abcdef".repeat(4096);
    let big_file = tmp_file(dir.path(), "big.bin", &big);

    let mb = aws(ep)
        .args(["s3", "mb", "s3://s3cli-high"])
        .output()
        .expect("run");
    assert!(
        mb.status.success(),
        "{}",
        String::from_utf8_lossy(&mb.stderr)
    );
    for (src, dst) in [
        (&file, "s3://s3cli-high/SampleFile-KMS.txt"),
        (&big_file, "s3://s3cli-high/data/big.bin"),
    ] {
        let o = aws(ep).args(["s3", "cp", src, dst]).output().expect("run");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = aws(ep)
        .args([
            "s3",
            "cp",
            &file,
            "s3://s3cli-high/enc.txt",
            "--sse",
            "aws:kms",
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ls = aws(ep)
        .args(["s3", "ls", "s3://s3cli-high/"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&ls.stdout);
    assert!(
        text.contains("SampleFile-KMS.txt")
            && text.contains("PRE data/")
            && text.contains("enc.txt"),
        "{text}"
    );
    let ls = aws(ep)
        .args(["s3", "ls", "s3://s3cli-high/", "--recursive"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&ls.stdout);
    assert!(
        text.contains("data/big.bin") && text.contains("65536"),
        "{text}"
    );
    let ls = aws(ep).args(["s3", "ls"]).output().expect("run");
    assert!(String::from_utf8_lossy(&ls.stdout).contains("s3cli-high"));

    let back = dir.path().join("back.bin");
    let o = aws(ep)
        .args([
            "s3",
            "cp",
            "s3://s3cli-high/data/big.bin",
            back.to_str().expect("path"),
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(&back).expect("read"), big);

    let o = aws(ep)
        .args(["s3", "rm", "s3://s3cli-high/enc.txt"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rb = aws(ep)
        .args(["s3", "rb", "s3://s3cli-high"])
        .output()
        .expect("run");
    assert!(!rb.status.success());
    assert!(
        String::from_utf8_lossy(&rb.stderr).contains("BucketNotEmpty"),
        "{}",
        String::from_utf8_lossy(&rb.stderr)
    );
    let rb = aws(ep)
        .args(["s3", "rb", "s3://s3cli-high", "--force"])
        .output()
        .expect("run");
    assert!(
        rb.status.success(),
        "{}",
        String::from_utf8_lossy(&rb.stderr)
    );
    s3api_fails(ep, &["head-bucket", "--bucket", "s3cli-high"], "404");
}
