//! S3 through the Rust SDK against an in-process sandbox (path-style addressing): every
//! operation the sandbox serves, uploads in the SDK's default checksum behaviour (CRC32 header
//! for in-memory bodies, `aws-chunked` with a checksum trailer for streamed ones), buckets
//! shared by name across accounts, and the errors clients switch on.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, ChecksumAlgorithm, CreateBucketConfiguration,
    Delete, ObjectIdentifier, ServerSideEncryption, VersioningConfiguration,
};
use common::{code, refused};
use kms_workshop_names::FIRST_ALIAS;
use kms_workshop_sandbox::identity::{Credential, Principal};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};

const OTHER_ACCOUNT: &str = "444455556666";
const OTHER_KEY: &str = "AKIAOTHERACCOUNT0001";
const OTHER_SECRET: &str = "other/account/secret/key/for/s3/tests/0000";

struct Env {
    _sb: Arc<Sandbox>,
    running: Running,
}

async fn start() -> Env {
    let cfg = Config {
        state_dir: None,
        seed: Seed::Workshop,
        cloudtrail_delay: time::Duration::ZERO,
        accept_any_credentials: false,
        lookup_rate_limit: false,
        ..Config::default()
    };
    let sb = Sandbox::open(cfg).unwrap();
    sb.add_credential(Credential {
        access_key_id: OTHER_KEY.into(),
        secret_access_key: OTHER_SECRET.into(),
        session_token: None,
        account: OTHER_ACCOUNT.into(),
        principal: Principal::IamUser {
            name: "other".into(),
            user_id: "AIDAOTHERACCOUNTUSER1".into(),
        },
        expires_ms: None,
        console_since: None,
    })
    .unwrap();
    let running = common::serve(&sb).await;
    Env { _sb: sb, running }
}

async fn client(endpoint: &str, key: &str, secret: &str, region: &str) -> aws_sdk_s3::Client {
    let sdk = common::sdk_config(endpoint, region, key, secret, None).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
}

/// The seeded learner's secret in the sandbox at `endpoint` (each state makes its own).
fn learner_secret(endpoint: &str) -> String {
    common::served(endpoint)
        .credential(seed::LEARNER_ACCESS_KEY)
        .expect("the learner's key")
        .secret_access_key
}

impl Env {
    async fn s3(&self) -> aws_sdk_s3::Client {
        let endpoint = self.running.endpoint();
        client(
            &endpoint,
            seed::LEARNER_ACCESS_KEY,
            &learner_secret(&endpoint),
            seed::REGION,
        )
        .await
    }
}

async fn body_of(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_workshop_buckets() {
    let env = start().await;
    let s3 = env.s3().await;
    let names: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    let stack = kms_workshop_names::bucket(seed::ACCOUNT);
    assert_eq!(
        names,
        [
            stack.clone(),
            format!("kmsworkshop-archive-{}", seed::ACCOUNT)
        ]
    );
    let got = s3
        .get_object()
        .bucket(&stack)
        .key("SampleFile-KMS.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    let text = String::from_utf8(body_of(got).await).unwrap();
    assert!(text.contains("KMS workshop"), "{text}");
    let head = s3
        .head_object()
        .bucket(&stack)
        .key("SampleFile-KMS-encrypted.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert!(head.ssekms_key_id().unwrap().contains(":key/"));
    assert_eq!(
        code!(s3.delete_bucket().bucket(&stack).send().await),
        "BucketNotEmpty"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_uploads_and_listings() {
    let env = start().await;
    let s3 = env.s3().await;
    let b = "sdk-objects";
    assert_eq!(
        code!(s3.create_bucket().bucket("UPPER").send().await),
        "InvalidBucketName"
    );
    s3.create_bucket().bucket(b).send().await.unwrap();
    s3.head_bucket().bucket(b).send().await.unwrap();

    // In-memory body (checksum header), explicit CRC32, and a streamed file (aws-chunked).
    let put = s3
        .put_object()
        .bucket(b)
        .key("a/one.txt")
        .body(ByteStream::from_static(b"first object"))
        .content_type("text/plain")
        .metadata("project", "kmsworkshop")
        .send()
        .await
        .unwrap();
    // ETag: the MD5 of the body, in quotes.
    assert_eq!(put.e_tag(), Some("\"6ed3b161ae41df11829db5c22ef4be6c\""));
    s3.put_object()
        .bucket(b)
        .key("a/two.txt")
        .body(ByteStream::from_static(b"second"))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("streamed.bin");
    let streamed: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &streamed).unwrap();
    s3.put_object()
        .bucket(b)
        .key("b/streamed.bin")
        .body(ByteStream::from_path(&path).await.unwrap())
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(FIRST_ALIAS)
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(b)
        .key("top.txt")
        .body(ByteStream::from_static(b"top"))
        .send()
        .await
        .unwrap();

    let got = s3
        .get_object()
        .bucket(b)
        .key("b/streamed.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(200_000));
    assert_eq!(
        got.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(body_of(got).await, streamed);
    let got = s3
        .get_object()
        .bucket(b)
        .key("a/one.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata().unwrap().get("project").map(String::as_str),
        Some("kmsworkshop")
    );
    assert!(got.last_modified().is_some());
    assert_eq!(body_of(got).await, b"first object");
    let ranged = s3
        .get_object()
        .bucket(b)
        .key("a/one.txt")
        .range("bytes=0-4")
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(ranged).await, b"first");
    let head = s3
        .head_object()
        .bucket(b)
        .key("a/two.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(6));
    let refused = [
        (b, "missing", "NoSuchKey"),
        ("sdk-no-such-bucket", "k", "NoSuchBucket"),
    ];
    refused!(refused, |bucket, key| s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await);

    // Listings.
    let l = s3
        .list_objects_v2()
        .bucket(b)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = l.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["top.txt"]);
    let prefixes: Vec<&str> = l
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "b/"]);
    assert_eq!(l.key_count(), Some(3));
    let l = s3
        .list_objects_v2()
        .bucket(b)
        .prefix("a/")
        .send()
        .await
        .unwrap();
    assert_eq!(l.contents().len(), 2);
    assert_eq!(l.contents()[0].size(), Some(12));
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(b)
            .max_keys(1)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(str::to_string);
        assert!(token.is_some());
    }
    assert_eq!(
        seen,
        ["a/one.txt", "a/two.txt", "b/streamed.bin", "top.txt"]
    );

    // Delete one, then the rest in one request.
    s3.delete_object()
        .bucket(b)
        .key("top.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(s3.delete_bucket().bucket(b).send().await),
        "BucketNotEmpty"
    );
    let ids: Vec<ObjectIdentifier> = ["a/one.txt", "a/two.txt", "b/streamed.bin"]
        .iter()
        .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
        .collect();
    let del = s3
        .delete_objects()
        .bucket(b)
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(del.deleted().len(), 3);
    assert!(del.errors().is_empty());
    s3.delete_bucket().bucket(b).send().await.unwrap();
    assert_eq!(code!(s3.head_bucket().bucket(b).send().await), "NotFound");
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioning_and_delete_markers() {
    let env = start().await;
    let s3 = env.s3().await;
    let b = "sdk-versions";
    s3.create_bucket().bucket(b).send().await.unwrap();
    assert!(s3
        .get_bucket_versioning()
        .bucket(b)
        .send()
        .await
        .unwrap()
        .status()
        .is_none());
    s3.put_bucket_versioning()
        .bucket(b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3.get_bucket_versioning()
            .bucket(b)
            .send()
            .await
            .unwrap()
            .status(),
        Some(&BucketVersioningStatus::Enabled)
    );
    let v1 = s3
        .put_object()
        .bucket(b)
        .key("k")
        .body(ByteStream::from_static(b"one"))
        .send()
        .await
        .unwrap();
    let v2 = s3
        .put_object()
        .bucket(b)
        .key("k")
        .body(ByteStream::from_static(b"two"))
        .send()
        .await
        .unwrap();
    let (id1, id2) = (
        v1.version_id().unwrap().to_string(),
        v2.version_id().unwrap().to_string(),
    );
    assert_ne!(id1, id2);
    let d = s3.delete_object().bucket(b).key("k").send().await.unwrap();
    assert_eq!(d.delete_marker(), Some(true));
    let marker = d.version_id().unwrap().to_string();
    assert_eq!(
        code!(s3.get_object().bucket(b).key("k").send().await),
        "NoSuchKey"
    );
    let old = s3
        .get_object()
        .bucket(b)
        .key("k")
        .version_id(&id1)
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(old).await, b"one");

    let vs = s3.list_object_versions().bucket(b).send().await.unwrap();
    let versions: Vec<(&str, bool)> = vs
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_latest().unwrap()))
        .collect();
    assert_eq!(versions, [(id2.as_str(), false), (id1.as_str(), false)]);
    assert_eq!(vs.delete_markers().len(), 1);
    assert_eq!(vs.delete_markers()[0].version_id(), Some(marker.as_str()));
    assert_eq!(vs.delete_markers()[0].is_latest(), Some(true));

    // Removing the marker brings the object back.
    let d = s3
        .delete_object()
        .bucket(b)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(d.delete_marker(), Some(true));
    let cur = s3.get_object().bucket(b).key("k").send().await.unwrap();
    assert_eq!(cur.version_id(), Some(id2.as_str()));
    assert_eq!(body_of(cur).await, b"two");

    assert_eq!(
        code!(s3.delete_bucket().bucket(b).send().await),
        "BucketNotEmpty"
    );
    let ids = [id1, id2]
        .iter()
        .map(|v| {
            ObjectIdentifier::builder()
                .key("k")
                .version_id(v)
                .build()
                .unwrap()
        })
        .collect();
    let del = s3
        .delete_objects()
        .bucket(b)
        .delete(
            Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(del.deleted().is_empty(), "quiet mode lists no successes");
    assert!(s3
        .list_object_versions()
        .bucket(b)
        .send()
        .await
        .unwrap()
        .versions()
        .is_empty());
    s3.delete_bucket().bucket(b).send().await.unwrap();
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_names_are_global_and_regions_matter() {
    let env = start().await;
    let endpoint = env.running.endpoint();
    let s3 = env.s3().await;
    let eu = client(
        &endpoint,
        seed::LEARNER_ACCESS_KEY,
        &learner_secret(&endpoint),
        "eu-west-1",
    )
    .await;
    let other = client(&endpoint, OTHER_KEY, OTHER_SECRET, seed::REGION).await;

    s3.create_bucket()
        .bucket("sdk-shared-name")
        .send()
        .await
        .unwrap();
    // us-east-1 answers 200 for your own bucket again; another account gets BucketAlreadyExists.
    s3.create_bucket()
        .bucket("sdk-shared-name")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(other.create_bucket().bucket("sdk-shared-name").send().await),
        "BucketAlreadyExists"
    );
    // HEAD answers carry no body: the status is all there is.
    match other.head_bucket().bucket("sdk-shared-name").send().await {
        Ok(v) => panic!("expected 403, got {v:?}"),
        Err(e) => assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403)),
    }
    assert_eq!(
        code!(
            other
                .list_objects_v2()
                .bucket("sdk-shared-name")
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert!(other
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .is_empty());

    let cfg = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    eu.create_bucket()
        .bucket("sdk-eu-bucket")
        .create_bucket_configuration(cfg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(
            eu.create_bucket()
                .bucket("sdk-eu-bucket")
                .create_bucket_configuration(cfg.clone())
                .send()
                .await
        ),
        "BucketAlreadyOwnedByYou"
    );
    assert_eq!(
        code!(
            s3.create_bucket()
                .bucket("sdk-eu-other")
                .create_bucket_configuration(cfg)
                .send()
                .await
        ),
        "IllegalLocationConstraintException"
    );
    let loc = s3
        .get_bucket_location()
        .bucket("sdk-eu-bucket")
        .send()
        .await
        .unwrap();
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
    let loc = s3
        .get_bucket_location()
        .bucket("sdk-shared-name")
        .send()
        .await
        .unwrap();
    assert!(
        loc.location_constraint()
            .is_none_or(|c| c.as_str().is_empty()),
        "{loc:?}"
    );
    let head = s3
        .head_bucket()
        .bucket("sdk-eu-bucket")
        .send()
        .await
        .unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let regions: Vec<(String, Option<String>)> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .map(|b| {
            (
                b.name().unwrap().to_string(),
                b.bucket_region().map(str::to_string),
            )
        })
        .filter(|(n, _)| n.starts_with("sdk-"))
        .collect();
    assert_eq!(
        regions,
        [
            ("sdk-eu-bucket".to_string(), Some("eu-west-1".to_string())),
            ("sdk-shared-name".to_string(), Some("us-east-1".to_string()))
        ]
    );
    env.running.shutdown().await;
}

/// Raw requests (a sandbox that accepts any signature): bodies no SDK would send must get S3's
/// error codes, never a crash; hand-made aws-chunked uploads with checksum trailers work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bodies_malformed_and_chunked() {
    let cfg = Config {
        state_dir: None,
        seed: Seed::Workshop,
        cloudtrail_delay: time::Duration::ZERO,
        accept_any_credentials: true,
        lookup_rate_limit: false,
        ..Config::default()
    };
    let (_sb, running) = common::start_sandbox(cfg).await;
    let ep = running.endpoint();
    let http = reqwest::Client::new();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}/20261128/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
        seed::LEARNER_ACCESS_KEY
    );
    let send = |method: reqwest::Method, path: &str, headers: &[(&str, &str)], body: Vec<u8>| {
        let mut r = http
            .request(method, format!("{ep}{path}"))
            .header("authorization", &auth)
            .body(body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        async move {
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (status, text)
        }
    };
    use reqwest::Method as M;
    let (st, _) = send(M::PUT, "/raw-bucket", &[], Vec::new()).await;
    assert_eq!(st, 200);
    for (method, path, body) in [
        (
            M::POST,
            "/raw-bucket?delete",
            &b"<Delete><Object><Key>a</Key></Object>"[..],
        ),
        (M::POST, "/raw-bucket?delete", b"not xml at all"),
        (M::POST, "/raw-bucket?delete", b"<Delete></Delete>"),
        (M::POST, "/raw-bucket?delete", b"<Other/>"),
        (M::POST, "/raw-bucket?delete", b"\xff\xfe<Delete>"),
        (
            M::PUT,
            "/raw-bucket?versioning",
            b"<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>",
        ),
        (
            M::PUT,
            "/raw-bucket?versioning",
            b"<VersioningConfiguration><Status>",
        ),
        (
            M::PUT,
            "/raw-new-bucket",
            b"<CreateBucketConfiguration><LocationConstraint>",
        ),
        (M::PUT, "/raw-new-bucket", b"<Nope/>"),
    ] {
        let (st, text) = send(method.clone(), path, &[], body.to_vec()).await;
        assert_eq!(st, 400, "{method} {path} {body:?}: {text}");
        assert!(text.contains("<Code>MalformedXML</Code>"), "{text}");
    }
    // Sub-resources the sandbox does not serve, bucket policies (none yet, then a malformed
    // one), bad listing arguments: (method, path, body, status, what the error names).
    let refused: [(M, &str, &[u8], u16, &str); 5] = [
        (M::GET, "/raw-bucket?cors", b"", 501, "NotImplemented"),
        (M::GET, "/raw-bucket?policy", b"", 404, "NoSuchBucketPolicy"),
        (M::PUT, "/raw-bucket?policy", b"[1]", 400, "MalformedPolicy"),
        (
            M::GET,
            "/raw-bucket?list-type=2&max-keys=-1",
            b"",
            400,
            "InvalidArgument",
        ),
        (
            M::GET,
            "/raw-bucket?list-type=2&continuation-token=%%%",
            b"",
            400,
            "",
        ),
    ];
    for (method, path, body, status, code) in refused {
        let (st, text) = send(method.clone(), path, &[], body.to_vec()).await;
        assert_eq!(
            (st, text.contains(code)),
            (status, true),
            "{method} {path}: {text}"
        );
    }

    // aws-chunked with an unsigned trailer, as botocore sends over TLS.
    let crc = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(crc32fast::hash(b"hello chunked world").to_be_bytes())
    };
    let chunked =
        format!("d\r\nhello chunked\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
    let hdrs = [
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "19"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let (st, text) = send(
        M::PUT,
        "/raw-bucket/chunked.txt",
        &hdrs,
        chunked.clone().into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{text}");
    let (st, text) = send(M::GET, "/raw-bucket/chunked.txt", &[], Vec::new()).await;
    assert_eq!((st, text.as_str()), (200, "hello chunked world"));
    // A wrong checksum, a wrong decoded length, broken framing.
    let bad_crc = chunked.replace(&crc, "AAAAAA==");
    let (st, text) = send(M::PUT, "/raw-bucket/bad.txt", &hdrs, bad_crc.into_bytes()).await;
    assert_eq!((st, text.contains("BadDigest")), (400, true), "{text}");
    let mut wrong_len = hdrs;
    wrong_len[2] = ("x-amz-decoded-content-length", "20");
    let (st, _) = send(
        M::PUT,
        "/raw-bucket/bad.txt",
        &wrong_len,
        chunked.clone().into_bytes(),
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) = send(M::PUT, "/raw-bucket/bad.txt", &hdrs, b"zz\r\nnope".to_vec()).await;
    assert_eq!(st, 400);
    let (st, text) = send(
        M::PUT,
        "/raw-bucket/md5.txt",
        &[("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")],
        b"x".to_vec(),
    )
    .await;
    assert_eq!((st, text.contains("BadDigest")), (400, true), "{text}");
    let (st, _) = send(
        M::GET,
        "/raw-bucket/chunked.txt",
        &[("range", "bytes=100-")],
        Vec::new(),
    )
    .await;
    assert_eq!(st, 416);
    running.shutdown().await;
}
