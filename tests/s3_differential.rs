//! Differential test for S3: the same `aws s3api` calls go to `moto_server` and to the sandbox
//! binary (`--seed empty`); the answers must have the same shape (members present and their JSON
//! types) and failures the same error code. moto is a second opinion, not the reference: where
//! it is known to differ from AWS (botocore's model and the S3 API reference), the member or
//! step is left out, with the reason next to it.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::Value as J;

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(J),
    Err(String),
}

/// The shape of a JSON answer: object members with the shapes of their values, the shape of a
/// list's first item, and scalar type names.
fn shape(v: &J, ignore: &[&str], path: &str) -> J {
    match v {
        J::Object(m) => J::Object(
            m.iter()
                .filter(|(k, v)| {
                    let p = if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    };
                    !v.is_null() && !ignore.contains(&p.as_str())
                })
                .map(|(k, v)| {
                    let p = if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    };
                    (k.clone(), shape(v, ignore, &p))
                })
                .collect(),
        ),
        J::Array(a) => J::Array(
            a.first()
                .map(|x| shape(x, ignore, &format!("{path}[]")))
                .into_iter()
                .collect(),
        ),
        J::String(_) => J::from("string"),
        J::Number(_) => J::from("number"),
        J::Bool(_) => J::from("bool"),
        J::Null => J::Null,
    }
}

fn run(endpoint: &str, args: &[&str]) -> Outcome {
    let out = aws(endpoint)
        .arg("s3api")
        .args(args)
        .output()
        .expect("run aws");
    if out.status.success() {
        let v = if out.stdout.iter().all(u8::is_ascii_whitespace) {
            J::Null
        } else {
            serde_json::from_slice(&out.stdout).expect("JSON")
        };
        Outcome::Ok(v)
    } else {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = cli_error_code(&err)
            .map(str::to_string)
            .unwrap_or_else(|| format!("unparsed: {err}"));
        Outcome::Err(code)
    }
}

struct Diff<'a> {
    moto: &'a str,
    sandbox: &'a str,
    failures: Vec<String>,
}

impl Diff<'_> {
    /// Send the same call to both; compare shapes (minus `ignore`d members) or error codes.
    fn check(&mut self, args: &[&str], ignore: &[&str]) -> (J, J) {
        let (m, s) = (run(self.moto, args), run(self.sandbox, args));
        match (&m, &s) {
            (Outcome::Ok(a), Outcome::Ok(b)) => {
                let (sa, sb) = (shape(a, ignore, ""), shape(b, ignore, ""));
                if sa != sb {
                    self.failures.push(format!(
                        "{args:?}: shapes differ\n  moto:    {sa}\n  sandbox: {sb}"
                    ));
                }
                return (a.clone(), b.clone());
            }
            (Outcome::Err(a), Outcome::Err(b)) if a == b => {}
            _ => self
                .failures
                .push(format!("{args:?}: moto {m:?}, sandbox {s:?}")),
        }
        (J::Null, J::Null)
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

#[test]
fn s3_answers_match_moto() {
    let moto = MotoProc::start();
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let mut d = Diff {
        moto: &moto.endpoint,
        sandbox: &sb.endpoint,
        failures: Vec::new(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "f.txt", "differential body\n");
    let out = dir.path().join("out.txt");
    let out = out.to_str().expect("path");

    // Buckets.
    d.check(&["create-bucket", "--bucket", "diff-one"], &[]);
    d.check(&["create-bucket", "--bucket", "Bad_Name!"], &[]);
    // moto lists Owner.DisplayName, which AWS has stopped returning; BucketRegion is newer than moto's ListBuckets.
    d.check(
        &["list-buckets"],
        &["Owner.DisplayName", "Buckets[].BucketRegion"],
    );
    // AWS sends x-amz-access-point-alias on HeadBucket; moto does not.
    d.check(
        &["head-bucket", "--bucket", "diff-one"],
        &["AccessPointAlias"],
    );
    d.check(&["head-bucket", "--bucket", "diff-missing"], &[]);
    d.check(&["get-bucket-location", "--bucket", "diff-one"], &[]);
    d.check(&["get-bucket-versioning", "--bucket", "diff-one"], &[]);
    d.check(&["list-objects-v2", "--bucket", "diff-missing"], &[]);

    // Objects. Since 2023 AWS encrypts every object (SSE-S3) and says so in
    // x-amz-server-side-encryption on every write and read; moto only echoes what was asked.
    // ChecksumType (FULL_OBJECT) is newer than moto.
    let sse = ["ServerSideEncryption", "ChecksumType"];
    let (m, s) = d.check(
        &[
            "put-object",
            "--bucket",
            "diff-one",
            "--key",
            "a/one.txt",
            "--body",
            &file,
            "--metadata",
            "k=v",
            "--content-type",
            "text/plain",
        ],
        &sse,
    );
    assert_eq!(m["ETag"], s["ETag"], "ETag is the MD5 of the body on both");
    d.check(
        &[
            "put-object",
            "--bucket",
            "diff-one",
            "--key",
            "top.txt",
            "--body",
            &file,
            "--server-side-encryption",
            "AES256",
        ],
        &sse,
    );
    // moto adds an x-amz-tagging-count header (TagCount) and never sends Accept-Ranges on HEAD.
    let read = [
        "TagCount",
        "AcceptRanges",
        "ServerSideEncryption",
        "ChecksumType",
    ];
    d.check(
        &["head-object", "--bucket", "diff-one", "--key", "a/one.txt"],
        &read,
    );
    d.check(
        &[
            "get-object",
            "--bucket",
            "diff-one",
            "--key",
            "a/one.txt",
            out,
        ],
        &read,
    );
    d.check(
        &[
            "get-object",
            "--bucket",
            "diff-one",
            "--key",
            "missing",
            out,
        ],
        &[],
    );
    d.check(
        &[
            "list-objects-v2",
            "--bucket",
            "diff-one",
            "--delimiter",
            "/",
            "--no-paginate",
        ],
        &["Contents[].ChecksumType"],
    );
    d.check(
        &[
            "list-objects-v2",
            "--bucket",
            "diff-one",
            "--max-keys",
            "1",
            "--no-paginate",
        ],
        &["Contents[].ChecksumType"],
    );
    // moto leaves out the empty Prefix and Marker that AWS sends, and still sends the deprecated
    // Owner.DisplayName; moto 5.2 omits ChecksumAlgorithm in v1 listings.
    let v1 = [
        "Prefix",
        "Marker",
        "Contents[].Owner.DisplayName",
        "Contents[].ChecksumAlgorithm",
        "Contents[].ChecksumType",
    ];
    d.check(
        &["list-objects", "--bucket", "diff-one", "--no-paginate"],
        &v1,
    );
    d.check(&["delete-bucket", "--bucket", "diff-one"], &[]);

    // Versioning.
    d.check(
        &[
            "put-bucket-versioning",
            "--bucket",
            "diff-one",
            "--versioning-configuration",
            "Status=Enabled",
        ],
        &[],
    );
    d.check(&["get-bucket-versioning", "--bucket", "diff-one"], &[]);
    d.check(
        &[
            "put-object",
            "--bucket",
            "diff-one",
            "--key",
            "a/one.txt",
            "--body",
            &file,
        ],
        &sse,
    );
    d.check(
        &[
            "delete-object",
            "--bucket",
            "diff-one",
            "--key",
            "a/one.txt",
        ],
        &[],
    );
    // moto does not echo EncodingType (the CLI always asks for url encoding), leaves out the
    // versions' ChecksumAlgorithm (in botocore's ObjectVersion shape) and still sends
    // Owner.DisplayName.
    let versions_ignore = [
        "EncodingType",
        "Versions[].Owner.DisplayName",
        "DeleteMarkers[].Owner.DisplayName",
        "Versions[].ChecksumAlgorithm",
        "Versions[].ChecksumType",
    ];
    d.check(
        &[
            "list-object-versions",
            "--bucket",
            "diff-one",
            "--no-paginate",
        ],
        &versions_ignore,
    );

    // Multi-object delete, then the bucket.
    let versions = match run(
        &sb.endpoint,
        &["list-object-versions", "--bucket", "diff-one"],
    ) {
        Outcome::Ok(v) => v,
        other => panic!("{other:?}"),
    };
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for v in versions["Versions"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(versions["DeleteMarkers"].as_array().into_iter().flatten())
    {
        *by_key
            .entry(v["Key"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    assert_eq!(by_key.get("a/one.txt"), Some(&3), "{versions}");
    d.check(
        &[
            "delete-objects",
            "--bucket",
            "diff-one",
            "--delete",
            r#"{"Objects":[{"Key":"top.txt"}]}"#,
        ],
        &[],
    );

    assert!(
        d.failures.is_empty(),
        "moto and the sandbox disagree:\n{}",
        d.failures.join("\n")
    );
}
