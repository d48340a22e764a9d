//! S3 (restXml, path-style `http://host/<bucket>/<key>`): buckets, global by name but living in
//! the owner's account and region (`LocationConstraint`); versioning; objects with metadata,
//! ETag = MD5, server-side-encryption echo; listings (v1, v2, versions); multi-object delete.
//! Request bodies may come `aws-chunked` (the SDKs' default checksum behaviour): they are
//! decoded here, and a CRC32 trailer or header is checked.
//!
//! CloudTrail: bucket-level calls are management events and reach the event history;
//! object-level calls and listings are data events, which the event history never shows.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use md5::{Digest, Md5};
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};
use time::OffsetDateTime;

use super::{Call, Service, TrailResource};
use crate::protocol::restxml::{self, RestRequest};
use crate::protocol::{AwsError, Encoded, Input, Protocol, Value};
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct S3;

const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct S3State {
    /// Buckets this account owns in this region, by name.
    #[serde(default)]
    pub buckets: BTreeMap<String, Bucket>,
}

impl RegionalState for S3State {
    const NAME: &'static str = "s3";
    fn of(region: &Region) -> &Self {
        &region.s3
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.s3
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// `Enabled` or `Suspended` once versioning was ever configured.
    #[serde(default)]
    pub versioning: Option<String>,
    /// By key: every version, oldest first (an unversioned bucket keeps one, id `null`).
    #[serde(default)]
    pub objects: BTreeMap<String, Vec<ObjectVersion>>,
    /// The bucket policy document as submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectVersion {
    pub version_id: String,
    #[serde(default)]
    pub delete_marker: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
    /// The bytes, base64.
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub size: u64,
    /// MD5 hex in quotes, as S3 sends it.
    #[serde(default)]
    pub etag: String,
    #[serde(default)]
    pub content_type: Option<String>,
    /// `x-amz-meta-*` (without the prefix, lower-cased).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// `AES256` or `aws:kms`.
    #[serde(default)]
    pub sse: Option<String>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// The checksum the uploader sent (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`) and its
    /// base64 value; S3 keeps it and returns it to readers that ask (`x-amz-checksum-mode`).
    #[serde(default)]
    pub checksum: Option<(String, String)>,
}

fn err(status: u16, code: &str, msg: &str) -> AwsError {
    AwsError::new(status, code, msg)
}

fn no_such_bucket() -> AwsError {
    err(404, "NoSuchBucket", "The specified bucket does not exist")
}

fn no_such_key() -> AwsError {
    err(404, "NoSuchKey", "The specified key does not exist.")
}

fn access_denied() -> AwsError {
    err(403, "AccessDenied", "Access Denied")
}

fn malformed_xml() -> AwsError {
    err(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn not_implemented() -> AwsError {
    err(
        501,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
    )
}

/// The canonical user id S3 shows as the owner of an account's buckets.
pub fn canonical_id(account: &str) -> String {
    use sha2::Sha256;
    let mut h = Sha256::new();
    sha2::Digest::update(
        &mut h,
        format!("kms-workshop-canonical-user/{account}").as_bytes(),
    );
    hex::encode(sha2::Digest::finalize(h))
}

/// S3's bucket naming rules (general purpose buckets).
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    let ok_chars = b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-');
    let ends_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let is_ip = name.split('.').count() == 4
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.parse::<u8>().is_ok());
    ok_chars
        && ends_ok(b[0])
        && ends_ok(b[b.len() - 1])
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && !is_ip
        && !name.starts_with("xn--")
        && !name.starts_with("sthree-")
        && !name.ends_with("-s3alias")
        && !name.ends_with("--ol-s3")
}

/// Where a bucket lives: (owner account, region).
pub fn find_bucket(sb: &Sandbox, name: &str) -> Option<(String, String)> {
    sb.account_regions()
        .into_iter()
        .find(|(a, r)| sb.read::<S3State, _>(a, r, |st| st.buckets.contains_key(name)))
}

/// The bucket named in the request, owned by the caller: (region it lives in).
fn own_bucket(cx: &Call<'_>, name: &str) -> Result<String, AwsError> {
    match find_bucket(cx.sandbox, name) {
        None => Err(no_such_bucket()),
        Some((account, _)) if account != cx.account() => Err(access_denied()),
        Some((_, region)) => Ok(region),
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn http_date(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

fn new_version_id() -> String {
    crate::util::random_id(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._",
        32,
    )
}

/// An answer without a body.
fn empty(status: u16) -> Encoded {
    Encoded {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

fn xml_ok(root: &str, v: Value) -> Encoded {
    restxml::encode_ok("", &Value::obj().with(root, v))
}

fn hdr(mut e: Encoded, name: &'static str, value: &str) -> Encoded {
    if let Ok(v) = HeaderValue::from_str(value) {
        e.headers.insert(name, v);
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Request bodies: aws-chunked decoding and checksums.

/// Checksum algorithms S3 accepts, by the suffix of their `x-amz-checksum-…` header.
const CHECKSUMS: &[(&str, &str)] = &[
    ("crc32", "CRC32"),
    ("crc32c", "CRC32C"),
    ("crc64nvme", "CRC64NVME"),
    ("sha1", "SHA1"),
    ("sha256", "SHA256"),
];

/// The payload of a request, with `aws-chunked` framing removed and checksums checked.
pub fn payload(req: &RestRequest) -> Result<Vec<u8>, AwsError> {
    payload_checked(req).map(|(data, _)| data)
}

/// The payload and the checksum it came with (algorithm, base64 value). CRC32, SHA-1 and
/// SHA-256 are verified; CRC32C and CRC64NVME are kept as sent.
/// A checksum as sent: (algorithm, base64 value).
type Checksum = Option<(String, String)>;

fn payload_checked(req: &RestRequest) -> Result<(Vec<u8>, Checksum), AwsError> {
    let sha = header(&req.headers, "x-amz-content-sha256").unwrap_or("");
    let chunked = sha.starts_with("STREAMING-")
        || header(&req.headers, "content-encoding")
            .is_some_and(|c| c.split(',').any(|p| p.trim() == "aws-chunked"));
    let mut trailers: Trailers = Vec::new();
    let data = if chunked {
        let (data, t) = decode_aws_chunked(&req.body)?;
        trailers = t;
        if let Some(n) = header(&req.headers, "x-amz-decoded-content-length") {
            if n.trim().parse::<usize>().ok() != Some(data.len()) {
                return Err(err(
                    400,
                    "IncompleteBody",
                    "The request body terminated unexpectedly",
                ));
            }
        }
        data
    } else {
        req.body.to_vec()
    };
    if let Some(md5) = header(&req.headers, "content-md5") {
        let want = base64::engine::general_purpose::STANDARD
            .decode(md5.trim())
            .ok();
        let got = Md5::digest(&data);
        match want {
            None => {
                return Err(err(
                    400,
                    "InvalidDigest",
                    "The Content-MD5 you specified was invalid.",
                ))
            }
            Some(w) if w.as_slice() != got.as_slice() => {
                return Err(err(
                    400,
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                ))
            }
            _ => {}
        }
    }
    let mut checksum: Checksum = None;
    for (suffix, alg) in CHECKSUMS {
        let name = format!("x-amz-checksum-{suffix}");
        let sent = header(&req.headers, &name).map(str::to_string).or_else(|| {
            trailers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                .map(|(_, v)| v.clone())
        });
        let Some(want) = sent else { continue };
        let want = want.trim().to_string();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let got = match *alg {
            "CRC32" => Some(b64(&crc32fast::hash(&data).to_be_bytes())),
            "SHA1" => Some(b64(&sha1::Sha1::digest(&data))),
            "SHA256" => Some(b64(&sha2::Sha256::digest(&data))),
            _ => None,
        };
        if got.is_some_and(|g| g != want) {
            return Err(err(
                400,
                "BadDigest",
                &format!("The {alg} you specified did not match the calculated checksum."),
            ));
        }
        checksum = Some((alg.to_string(), want));
        break;
    }
    Ok((data, checksum))
}

/// `hex-size[;chunk-signature=…]\r\n data \r\n … 0\r\n trailer: value\r\n \r\n`.
/// Trailing headers of an aws-chunked body (checksums).
type Trailers = Vec<(String, String)>;

fn decode_aws_chunked(body: &[u8]) -> Result<(Vec<u8>, Trailers), AwsError> {
    let bad = || {
        err(
            400,
            "IncompleteBody",
            "The request body is not valid aws-chunked encoding",
        )
    };
    let mut out = Vec::with_capacity(body.len());
    let mut pos = 0usize;
    let line = |pos: usize| -> Option<(usize, usize)> {
        let rest = body.get(pos..)?;
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        Some((pos + end, pos + end + 2))
    };
    loop {
        let (end, next) = line(pos).ok_or_else(bad)?;
        let head = std::str::from_utf8(&body[pos..end]).map_err(|_| bad())?;
        let size_hex = head.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad())?;
        pos = next;
        if size == 0 {
            break;
        }
        let chunk = body
            .get(pos..pos.checked_add(size).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        out.extend_from_slice(chunk);
        pos += size;
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err(bad());
        }
        pos += 2;
    }
    let mut trailers = Vec::new();
    while let Some((end, next)) = line(pos) {
        if end == pos {
            break;
        }
        let text = String::from_utf8_lossy(&body[pos..end]).into_owned();
        if let Some((k, v)) = text.split_once(':') {
            trailers.push((k.trim().to_string(), v.trim().to_string()));
        }
        pos = next;
    }
    Ok((out, trailers))
}

// ---------------------------------------------------------------------------------------------
// A tiny XML reader for request bodies.

#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string())
    }
}

fn parse_xml(body: &[u8]) -> Result<Node, AwsError> {
    let text = std::str::from_utf8(body).map_err(|_| malformed_xml())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let local = |raw: &[u8]| -> String {
        let s = String::from_utf8_lossy(raw);
        s.rsplit(':').next().unwrap_or("").to_string()
    };
    let mut root: Option<Node> = None;
    loop {
        match reader.read_event().map_err(|_| malformed_xml())? {
            Event::Start(e) => {
                if stack.len() > 32 {
                    return Err(malformed_xml());
                }
                stack.push(Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let n = Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if root.is_none() => root = Some(n),
                    None => return Err(malformed_xml()),
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or_else(malformed_xml)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if root.is_none() => root = Some(n),
                    None => return Err(malformed_xml()),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.decode().map_err(|_| malformed_xml())?);
                } else if !t.decode().map_err(|_| malformed_xml())?.trim().is_empty() {
                    return Err(malformed_xml());
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.decode().map_err(|_| malformed_xml())?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|_| malformed_xml())? {
                    Some(c) => c.to_string(),
                    None => match r.decode().map_err(|_| malformed_xml())?.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        _ => return Err(malformed_xml()),
                    },
                };
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed_xml());
    }
    root.ok_or_else(malformed_xml)
}

// ---------------------------------------------------------------------------------------------
// Routing.

/// Sub-resources this sandbox does not serve (answered 501 NotImplemented).
const UNSUPPORTED: &[&str] = &[
    "acl",
    "policyStatus",
    "cors",
    "lifecycle",
    "encryption",
    "tagging",
    "website",
    "logging",
    "notification",
    "replication",
    "ownershipControls",
    "publicAccessBlock",
    "accelerate",
    "requestPayment",
    "object-lock",
    "analytics",
    "metrics",
    "inventory",
    "intelligent-tiering",
    "uploads",
    "uploadId",
    "retention",
    "legal-hold",
    "attributes",
    "restore",
    "select",
    "torrent",
];

fn operation(req: &RestRequest) -> Option<&'static str> {
    let q = &req.query;
    if UNSUPPORTED.iter().any(|s| q.contains_key(*s)) {
        return None;
    }
    let m = &req.method;
    match (&req.bucket, &req.key) {
        (None, _) if *m == Method::GET => Some("ListBuckets"),
        (None, _) => None,
        (Some(_), None) => match *m {
            Method::PUT if q.contains_key("policy") => Some("PutBucketPolicy"),
            Method::GET if q.contains_key("policy") => Some("GetBucketPolicy"),
            Method::DELETE if q.contains_key("policy") => Some("DeleteBucketPolicy"),
            Method::PUT if q.contains_key("versioning") => Some("PutBucketVersioning"),
            Method::PUT => Some("CreateBucket"),
            Method::HEAD => Some("HeadBucket"),
            Method::DELETE => Some("DeleteBucket"),
            Method::GET if q.contains_key("location") => Some("GetBucketLocation"),
            Method::GET if q.contains_key("versioning") => Some("GetBucketVersioning"),
            Method::GET if q.contains_key("versions") => Some("ListObjectVersions"),
            Method::GET if q.get("list-type").map(String::as_str) == Some("2") => {
                Some("ListObjectsV2")
            }
            Method::GET => Some("ListObjects"),
            Method::POST if q.contains_key("delete") => Some("DeleteObjects"),
            _ => None,
        },
        (Some(_), Some(_)) => match *m {
            Method::PUT if req.headers.contains_key("x-amz-copy-source") => Some("CopyObject"),
            Method::PUT => Some("PutObject"),
            Method::GET => Some("GetObject"),
            Method::HEAD => Some("HeadObject"),
            Method::DELETE => Some("DeleteObject"),
            _ => None,
        },
    }
}

/// Operations CloudTrail logs as data events (not in the event history).
const DATA_EVENTS: &[&str] = &[
    "PutObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "DeleteObjects",
    "CopyObject",
    "ListObjects",
    "ListObjectsV2",
    "ListObjectVersions",
];

impl Service for S3 {
    fn signing_name(&self) -> &'static str {
        "s3"
    }
    fn event_source(&self) -> &'static str {
        "s3.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        XMLNS
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::RestXml
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, _input: &Input) -> Result<Value, AwsError> {
        Err(cx.unknown(op))
    }
    fn read_only(&self, op: &str) -> bool {
        ["Get", "List", "Head"].iter().any(|p| op.starts_with(p))
    }
    fn rest_operation(&self, req: &RestRequest) -> Option<&'static str> {
        operation(req)
    }
    fn management_event(&self, op: &str) -> bool {
        !DATA_EVENTS.contains(&op)
    }
    fn rest_request_parameters(&self, _op: &str, req: &RestRequest) -> J {
        let mut m = serde_json::Map::new();
        if let Some(b) = &req.bucket {
            m.insert("bucketName".into(), json!(b));
        }
        m.insert(
            "Host".into(),
            json!(header(&req.headers, "host").unwrap_or("s3.amazonaws.com")),
        );
        for (k, v) in &req.query {
            m.insert(k.clone(), json!(v));
        }
        J::Object(m)
    }
    fn call_rest(
        &self,
        cx: &mut Call<'_>,
        op: &str,
        req: &RestRequest,
    ) -> Result<Encoded, AwsError> {
        let bucket = req.bucket.clone().unwrap_or_default();
        if !bucket.is_empty() {
            cx.resources.push(TrailResource {
                arn: format!("arn:aws:s3:::{bucket}"),
                resource_type: "AWS::S3::Bucket".into(),
            });
        }
        let key = req.key.clone().unwrap_or_default();
        match op {
            "ListBuckets" => list_buckets(cx),
            "CreateBucket" => create_bucket(cx, &bucket, req),
            "HeadBucket" => head_bucket(cx, &bucket),
            "DeleteBucket" => delete_bucket(cx, &bucket),
            "GetBucketLocation" => {
                let region = own_bucket(cx, &bucket)?;
                let lc = if region == "us-east-1" {
                    String::new()
                } else {
                    region
                };
                Ok(xml_ok("LocationConstraint", Value::Str(lc)))
            }
            "GetBucketVersioning" => {
                let region = own_bucket(cx, &bucket)?;
                let status = cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
                    st.buckets.get(&bucket).and_then(|b| b.versioning.clone())
                });
                Ok(xml_ok(
                    "VersioningConfiguration",
                    Value::obj().with("Status", status),
                ))
            }
            "PutBucketVersioning" => put_bucket_versioning(cx, &bucket, req),
            "PutBucketPolicy" | "GetBucketPolicy" | "DeleteBucketPolicy" => {
                bucket_policy(cx, op, &bucket, req)
            }
            "PutObject" => put_object(cx, &bucket, &key, req),
            "CopyObject" => copy_object(cx, &bucket, &key, req),
            "GetObject" => get_object(cx, &bucket, &key, req, false),
            "HeadObject" => get_object(cx, &bucket, &key, req, true),
            "DeleteObject" => delete_object(cx, &bucket, &key, req),
            "DeleteObjects" => delete_objects(cx, &bucket, req),
            "ListObjects" => list_objects(cx, &bucket, req, false),
            "ListObjectsV2" => list_objects(cx, &bucket, req, true),
            "ListObjectVersions" => list_object_versions(cx, &bucket, req),
            _ => Err(not_implemented()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Buckets.

/// Put, get or delete a bucket's policy (kept as submitted; the sandbox does not evaluate it).
fn bucket_policy(
    cx: &mut Call<'_>,
    op: &str,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let account = cx.account().to_string();
    match op {
        "PutBucketPolicy" => {
            let (body, _) = payload_checked(req)?;
            let text = String::from_utf8(body).unwrap_or_default();
            let malformed = || {
                err(
                    400,
                    "MalformedPolicy",
                    "Policies must be valid JSON and the first byte must be '{'",
                )
            };
            if !text.trim_start().starts_with('{') {
                return Err(malformed());
            }
            let doc: J = serde_json::from_str(&text).map_err(|_| malformed())?;
            if !doc
                .get("Statement")
                .is_some_and(|s| s.is_array() || s.is_object())
            {
                return Err(err(
                    400,
                    "MalformedPolicy",
                    "Missing required field Statement",
                ));
            }
            cx.sandbox.write::<S3State, _>(&account, &region, |st| {
                if let Some(b) = st.buckets.get_mut(bucket) {
                    b.policy = Some(text.clone());
                }
                Ok(())
            })?;
            Ok(empty(204))
        }
        "GetBucketPolicy" => {
            let policy = cx.sandbox.read::<S3State, _>(&account, &region, |st| {
                st.buckets.get(bucket).and_then(|b| b.policy.clone())
            });
            let Some(policy) = policy else {
                return Err(err(
                    404,
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                ));
            };
            let mut e = empty(200);
            e.body = Bytes::from(policy);
            Ok(hdr(e, "content-type", "application/json"))
        }
        _ => {
            cx.sandbox.write::<S3State, _>(&account, &region, |st| {
                if let Some(b) = st.buckets.get_mut(bucket) {
                    b.policy = None;
                }
                Ok(())
            })?;
            Ok(empty(204))
        }
    }
}

fn list_buckets(cx: &mut Call<'_>) -> Result<Encoded, AwsError> {
    let sb = cx.sandbox;
    let account = cx.account().to_string();
    let mut all: Vec<(String, OffsetDateTime, String)> = Vec::new();
    for (a, r) in sb.account_regions() {
        if a != account {
            continue;
        }
        sb.read::<S3State, _>(&a, &r, |st| {
            for b in st.buckets.values() {
                all.push((b.name.clone(), b.created, r.clone()));
            }
        });
    }
    all.sort();
    let buckets: Vec<Value> = all
        .into_iter()
        .map(|(name, created, region)| {
            Value::obj()
                .with("Name", name)
                .with("CreationDate", created)
                .with("BucketRegion", region)
        })
        .collect();
    Ok(xml_ok(
        "ListAllMyBucketsResult",
        Value::obj()
            .with("Owner", Value::obj().with("ID", canonical_id(&account)))
            .with("Buckets", Value::NamedList("Bucket", buckets)),
    ))
}

fn create_bucket(cx: &mut Call<'_>, name: &str, req: &RestRequest) -> Result<Encoded, AwsError> {
    if !valid_bucket_name(name) {
        return Err(err(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        ));
    }
    let constraint = if req.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let body = payload(req)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let doc = parse_xml(&body)?;
            if doc.name != "CreateBucketConfiguration" {
                return Err(malformed_xml());
            }
            doc.text_of("LocationConstraint").filter(|s| !s.is_empty())
        }
    };
    let signing_region = cx.region.clone();
    let region = match constraint.as_deref() {
        Some("us-east-1") => {
            return Err(err(400, "InvalidLocationConstraint", "The specified location-constraint is not valid"))
        }
        Some("EU") => "eu-west-1".to_string(),
        Some(c) if c != signing_region => {
            return Err(err(
                400,
                "IllegalLocationConstraintException",
                &format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
            ))
        }
        Some(c) => c.to_string(),
        None if signing_region != "us-east-1" => {
            return Err(err(
                400,
                "IllegalLocationConstraintException",
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
            ))
        }
        None => "us-east-1".to_string(),
    };
    match find_bucket(cx.sandbox, name) {
        Some((account, _)) if account != cx.account() => {
            return Err(err(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."));
        }
        Some((_, r)) if r == "us-east-1" && region == "us-east-1" => {
            return Ok(hdr(empty(200), "location", &format!("/{name}")));
        }
        Some(_) => {
            return Err(err(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it."));
        }
        None => {}
    }
    let now = cx.now;
    let account = cx.account().to_string();
    cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        st.buckets.insert(
            name.to_string(),
            Bucket {
                name: name.to_string(),
                created: now,
                versioning: None,
                objects: BTreeMap::new(),
                policy: None,
            },
        );
        Ok(())
    })?;
    Ok(hdr(empty(200), "location", &format!("/{name}")))
}

fn head_bucket(cx: &mut Call<'_>, name: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    Ok(hdr(
        hdr(empty(200), "x-amz-bucket-region", &region),
        "x-amz-access-point-alias",
        "false",
    ))
}

fn delete_bucket(cx: &mut Call<'_>, name: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    let account = cx.account().to_string();
    cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        let b = st.buckets.get(name).ok_or_else(no_such_bucket)?;
        if b.objects.values().any(|v| !v.is_empty()) {
            return Err(err(
                409,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            ));
        }
        st.buckets.remove(name);
        Ok(())
    })?;
    Ok(empty(204))
}

fn put_bucket_versioning(
    cx: &mut Call<'_>,
    name: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    let body = payload(req)?;
    let doc = parse_xml(&body)?;
    if doc.name != "VersioningConfiguration" {
        return Err(malformed_xml());
    }
    let status = match doc.text_of("Status").as_deref() {
        Some(s @ ("Enabled" | "Suspended")) => Some(s.to_string()),
        None => None,
        Some(_) => return Err(malformed_xml()),
    };
    let account = cx.account().to_string();
    cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        let b = st.buckets.get_mut(name).ok_or_else(no_such_bucket)?;
        if let Some(s) = status {
            b.versioning = Some(s);
        }
        Ok(())
    })?;
    Ok(empty(200))
}

// ---------------------------------------------------------------------------------------------
// Objects.

/// Add a new current version of `key` as the bucket's versioning state says.
fn add_version(b: &mut Bucket, key: &str, mut v: ObjectVersion) -> String {
    let versions = b.objects.entry(key.to_string()).or_default();
    match b.versioning.as_deref() {
        Some("Enabled") => {
            v.version_id = new_version_id();
        }
        _ => {
            v.version_id = "null".into();
            versions.retain(|x| x.version_id != "null");
        }
    }
    let id = v.version_id.clone();
    versions.push(v);
    id
}

fn object_headers(mut e: Encoded, o: &ObjectVersion, versioned: bool) -> Encoded {
    e = hdr(e, "etag", &o.etag);
    e = hdr(e, "last-modified", &http_date(o.last_modified));
    e = hdr(e, "accept-ranges", "bytes");
    e = hdr(
        e,
        "content-type",
        o.content_type.as_deref().unwrap_or("binary/octet-stream"),
    );
    if versioned {
        e = hdr(e, "x-amz-version-id", &o.version_id);
    }
    if let Some(s) = &o.sse {
        e = hdr(e, "x-amz-server-side-encryption", s);
    }
    if let Some(k) = &o.kms_key_id {
        e = hdr(e, "x-amz-server-side-encryption-aws-kms-key-id", k);
    }
    for (k, v) in &o.metadata {
        if let (Ok(n), Ok(val)) = (
            http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()),
            HeaderValue::from_str(v),
        ) {
            e.headers.insert(n, val);
        }
    }
    e
}

/// The SSE settings a PutObject asks for, with KMS key ids resolved to ARNs.
fn sse_of(
    cx: &Call<'_>,
    req: &RestRequest,
    region: &str,
) -> Result<(Option<String>, Option<String>), AwsError> {
    let sse = header(&req.headers, "x-amz-server-side-encryption").map(str::to_string);
    match sse.as_deref() {
        None => Ok((Some("AES256".into()), None)),
        Some("AES256") => Ok((sse, None)),
        Some("aws:kms" | "aws:kms:dsse") => {
            let key = header(&req.headers, "x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_string);
            let account = cx.account().to_string();
            let arn = match key {
                None => format!("arn:aws:kms:{region}:{account}:alias/aws/s3"),
                Some(k) if k.starts_with("arn:") => k,
                Some(k) => {
                    let resolved = cx.sandbox.read::<crate::services::kms::KmsState, _>(
                        &account,
                        region,
                        |st| {
                            let id = if k.starts_with("alias/") {
                                st.aliases.get(&k).map(|a| a.target.clone())
                            } else {
                                Some(k.clone())
                            };
                            id.and_then(|id| st.keys.get(&id).map(|key| key.arn.clone()))
                        },
                    );
                    resolved.ok_or_else(|| {
                        err(400, "KMS.NotFoundException", &format!("Invalid keyId {k}"))
                    })?
                }
            };
            Ok((sse, Some(arn)))
        }
        Some(_) => Err(err(
            400,
            "InvalidArgument",
            "The encryption method specified is not supported",
        )),
    }
}

fn put_object(
    cx: &mut Call<'_>,
    bucket: &str,
    key: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    if key.len() > 1024 {
        return Err(err(400, "KeyTooLongError", "Your key is too long"));
    }
    let (data, checksum) = payload_checked(req)?;
    let (sse, kms_key_id) = sse_of(cx, req, &region)?;
    let metadata: BTreeMap<String, String> = req
        .headers
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect();
    let etag = format!("\"{}\"", hex::encode(Md5::digest(&data)));
    let v = ObjectVersion {
        version_id: String::new(),
        delete_marker: false,
        last_modified: cx.now,
        data: crate::util::b64(&data),
        size: data.len() as u64,
        etag: etag.clone(),
        content_type: header(&req.headers, "content-type").map(str::to_string),
        metadata,
        sse: sse.clone(),
        kms_key_id: kms_key_id.clone(),
        checksum: checksum.clone(),
    };
    let account = cx.account().to_string();
    let (id, versioned) = cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        let b = st.buckets.get_mut(bucket).ok_or_else(no_such_bucket)?;
        let versioned = b.versioning.is_some();
        Ok((add_version(b, key, v), versioned))
    })?;
    let mut e = hdr(empty(200), "etag", &etag);
    if versioned {
        e = hdr(e, "x-amz-version-id", &id);
    }
    if let Some(s) = &sse {
        e = hdr(e, "x-amz-server-side-encryption", s);
    }
    if let Some(k) = &kms_key_id {
        e = hdr(e, "x-amz-server-side-encryption-aws-kms-key-id", k);
    }
    Ok(checksum_headers(e, &checksum))
}

fn checksum_headers(mut e: Encoded, checksum: &Option<(String, String)>) -> Encoded {
    if let Some((alg, value)) = checksum {
        if let Ok(n) = http::HeaderName::from_bytes(
            format!("x-amz-checksum-{}", alg.to_ascii_lowercase()).as_bytes(),
        ) {
            if let Ok(v) = HeaderValue::from_str(value) {
                e.headers.insert(n, v);
            }
        }
        e = hdr(e, "x-amz-checksum-type", "FULL_OBJECT");
    }
    e
}

/// `ChecksumAlgorithm` (a flattened list) and `ChecksumType` of a listing entry.
fn with_checksum(v: Value, o: &ObjectVersion) -> Value {
    match &o.checksum {
        Some((alg, _)) => v
            .with("ChecksumAlgorithm", Value::List(vec![alg.clone().into()]))
            .with("ChecksumType", "FULL_OBJECT"),
        None => v,
    }
}

/// The version a GET/HEAD names (the current one without `versionId`).
fn find_version(
    cx: &Call<'_>,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<(ObjectVersion, bool), AwsError> {
    let region = own_bucket(cx, bucket)?;
    cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
        let b = st.buckets.get(bucket).ok_or_else(no_such_bucket)?;
        let versioned = b.versioning.is_some();
        let versions = b.objects.get(key);
        match version {
            None => versions
                .and_then(|v| v.last())
                .cloned()
                .map(|v| (v, versioned))
                .ok_or_else(no_such_key),
            Some(id) => versions
                .and_then(|v| v.iter().find(|x| x.version_id == id))
                .cloned()
                .map(|v| (v, versioned))
                .ok_or_else(|| {
                    err(
                        404,
                        "NoSuchVersion",
                        "The specified version does not exist.",
                    )
                }),
        }
    })
}

fn get_object(
    cx: &mut Call<'_>,
    bucket: &str,
    key: &str,
    req: &RestRequest,
    head: bool,
) -> Result<Encoded, AwsError> {
    let version = req.query.get("versionId").map(String::as_str);
    let (o, versioned) = find_version(cx, bucket, key, version)?;
    if o.delete_marker {
        // A delete marker: 404 without versionId, 405 when asked for by id.
        let mut e = if version.is_some() {
            err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )
        } else {
            no_such_key()
        };
        if head {
            e.message.clear();
        }
        return Err(e);
    }
    if let Some(inm) = header(&req.headers, "if-none-match") {
        if inm
            .split(',')
            .any(|t| t.trim() == o.etag || t.trim() == "*")
        {
            return Ok(hdr(empty(304), "etag", &o.etag));
        }
    }
    if let Some(im) = header(&req.headers, "if-match") {
        if !im.split(',').any(|t| t.trim() == o.etag || t.trim() == "*") {
            return Err(err(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    }
    let data = crate::util::unb64(&o.data).unwrap_or_default();
    let (status, body, range) =
        match header(&req.headers, "range").and_then(|r| parse_range(r, data.len())) {
            Some(Ok((a, b))) => (
                206,
                data[a..=b].to_vec(),
                Some(format!("bytes {a}-{b}/{}", data.len())),
            ),
            Some(Err(())) => {
                return Err(err(
                    416,
                    "InvalidRange",
                    "The requested range is not satisfiable",
                ));
            }
            None => (200, data, None),
        };
    let len = body.len();
    let mut e = empty(status);
    if !head {
        e.body = Bytes::from(body);
    }
    e = object_headers(e, &o, versioned);
    e = hdr(e, "content-length", &len.to_string());
    let whole = range.is_none();
    if let Some(r) = range {
        e = hdr(e, "content-range", &r);
    }
    if whole
        && header(&req.headers, "x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
    {
        e = checksum_headers(e, &o.checksum);
    }
    Ok(e)
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive range; `Err` when unsatisfiable; `None`
/// when the header is not a single byte range (the whole object is sent).
fn parse_range(r: &str, len: usize) -> Option<Result<(usize, usize), ()>> {
    let spec = r.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: usize = b.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(n), len - 1)));
    }
    let a: usize = a.parse().ok()?;
    if a >= len {
        return Some(Err(()));
    }
    let b = if b.is_empty() {
        len - 1
    } else {
        b.parse::<usize>().ok()?.min(len - 1)
    };
    if b < a {
        return None;
    }
    Some(Ok((a, b)))
}

fn copy_object(
    cx: &mut Call<'_>,
    bucket: &str,
    key: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let src = header(&req.headers, "x-amz-copy-source").unwrap_or("");
    let src = percent_encoding::percent_decode_str(src)
        .decode_utf8_lossy()
        .into_owned();
    let src = src.trim_start_matches('/');
    let (src, src_version) = match src.split_once("?versionId=") {
        Some((s, v)) => (s, Some(v.to_string())),
        None => (src, None),
    };
    let (sb, sk) = src.split_once('/').ok_or_else(|| {
        err(
            400,
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    })?;
    let (o, _) = find_version(cx, sb, sk, src_version.as_deref())?;
    if o.delete_marker {
        return Err(no_such_key());
    }
    let (sse, kms_key_id) = sse_of(cx, req, &region)?;
    let replace = header(&req.headers, "x-amz-metadata-directive") == Some("REPLACE");
    let mut v = o.clone();
    v.last_modified = cx.now;
    v.sse = sse;
    v.kms_key_id = kms_key_id;
    if replace {
        v.content_type = header(&req.headers, "content-type").map(str::to_string);
        v.metadata = req
            .headers
            .iter()
            .filter_map(|(k, val)| {
                Some((
                    k.as_str().strip_prefix("x-amz-meta-")?.to_string(),
                    val.to_str().ok()?.to_string(),
                ))
            })
            .collect();
    } else if sb == bucket && sk == key && src_version.is_none() {
        return Err(err(400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."));
    }
    let account = cx.account().to_string();
    let now = cx.now;
    let etag = v.etag.clone();
    let (id, versioned) = cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        let b = st.buckets.get_mut(bucket).ok_or_else(no_such_bucket)?;
        let versioned = b.versioning.is_some();
        Ok((add_version(b, key, v), versioned))
    })?;
    let mut e = xml_ok(
        "CopyObjectResult",
        Value::obj().with("ETag", etag).with("LastModified", now),
    );
    if versioned {
        e = hdr(e, "x-amz-version-id", &id);
    }
    Ok(e)
}

/// Delete `key` (or one version of it); answers (version id, whether it is a delete marker).
fn delete_in(
    b: &mut Bucket,
    key: &str,
    version: Option<&str>,
    now: OffsetDateTime,
) -> (Option<String>, bool) {
    match version {
        Some(id) => {
            let Some(versions) = b.objects.get_mut(key) else {
                return (Some(id.to_string()), false);
            };
            let marker = versions
                .iter()
                .find(|x| x.version_id == id)
                .is_some_and(|x| x.delete_marker);
            versions.retain(|x| x.version_id != id);
            if versions.is_empty() {
                b.objects.remove(key);
            }
            (Some(id.to_string()), marker)
        }
        None => match b.versioning.as_deref() {
            None => {
                b.objects.remove(key);
                (None, false)
            }
            // S3 adds a marker even for a key that never existed.
            Some(_) => {
                let marker = ObjectVersion {
                    version_id: String::new(),
                    delete_marker: true,
                    last_modified: now,
                    data: String::new(),
                    size: 0,
                    etag: String::new(),
                    content_type: None,
                    metadata: BTreeMap::new(),
                    sse: None,
                    kms_key_id: None,
                    checksum: None,
                };
                let id = add_version(b, key, marker);
                (Some(id), true)
            }
        },
    }
}

fn delete_object(
    cx: &mut Call<'_>,
    bucket: &str,
    key: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let version = req.query.get("versionId").cloned();
    let account = cx.account().to_string();
    let now = cx.now;
    let (id, marker) = cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        let b = st.buckets.get_mut(bucket).ok_or_else(no_such_bucket)?;
        Ok(delete_in(b, key, version.as_deref(), now))
    })?;
    let mut e = empty(204);
    if let Some(id) = id {
        e = hdr(e, "x-amz-version-id", &id);
    }
    if marker {
        e = hdr(e, "x-amz-delete-marker", "true");
    }
    Ok(e)
}

fn delete_objects(cx: &mut Call<'_>, bucket: &str, req: &RestRequest) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let body = payload(req)?;
    let doc = parse_xml(&body)?;
    if doc.name != "Delete" {
        return Err(malformed_xml());
    }
    let quiet = doc
        .text_of("Quiet")
        .is_some_and(|q| q.eq_ignore_ascii_case("true"));
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    for o in doc.children("Object") {
        let key = o
            .child("Key")
            .map(|k| k.text.clone())
            .ok_or_else(malformed_xml)?;
        targets.push((key, o.text_of("VersionId").filter(|v| !v.is_empty())));
    }
    if targets.is_empty() || targets.len() > 1000 {
        return Err(malformed_xml());
    }
    let account = cx.account().to_string();
    let now = cx.now;
    let results = cx.sandbox.write::<S3State, _>(&account, &region, |st| {
        let b = st.buckets.get_mut(bucket).ok_or_else(no_such_bucket)?;
        Ok(targets
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), delete_in(b, k, v.as_deref(), now)))
            .collect::<Vec<_>>())
    })?;
    let mut fields: Vec<(String, Value)> = Vec::new();
    if !quiet {
        for (key, asked, (id, marker)) in results {
            let mut d = Value::obj().with("Key", key);
            if asked.is_some() {
                d = d.with("VersionId", asked);
                if marker {
                    d = d.with("DeleteMarker", true);
                }
            } else if marker {
                d = d
                    .with("DeleteMarker", true)
                    .with("DeleteMarkerVersionId", id);
            }
            fields.push(("Deleted".into(), d));
        }
    }
    Ok(xml_ok("DeleteResult", Value::Struct(fields)))
}

// ---------------------------------------------------------------------------------------------
// Listings.

fn url_encode(s: &str) -> String {
    // As S3's `encoding-type=url`: everything but unreserved characters and `/`.
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

struct ListParams {
    prefix: String,
    delimiter: Option<String>,
    max_keys: usize,
    encode: bool,
}

fn list_params(req: &RestRequest) -> Result<ListParams, AwsError> {
    let max_keys = match req.query.get("max-keys") {
        None => 1000,
        Some(m) => m
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                err(
                    400,
                    "InvalidArgument",
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(1000) as usize,
    };
    let encode = match req.query.get("encoding-type").map(String::as_str) {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(err(
                400,
                "InvalidArgument",
                "Invalid Encoding Method specified in Request",
            ))
        }
    };
    Ok(ListParams {
        prefix: req.query.get("prefix").cloned().unwrap_or_default(),
        delimiter: req
            .query
            .get("delimiter")
            .cloned()
            .filter(|d| !d.is_empty()),
        max_keys,
        encode,
    })
}

/// One listing entry: an object key (with its current version) or a common prefix.
enum Entry {
    Key(String, Box<ObjectVersion>),
    Prefix(String),
}

/// Walk `keys` (sorted) after `start`, grouping by delimiter; answers the page and, when
/// truncated, the last key or prefix returned.
fn page<'a>(
    keys: impl Iterator<Item = (&'a String, &'a ObjectVersion)>,
    p: &ListParams,
    start_after: Option<&str>,
) -> (Vec<Entry>, Option<String>) {
    let mut out: Vec<Entry> = Vec::new();
    let mut seen_prefixes: BTreeSet<String> = BTreeSet::new();
    let mut last: Option<String> = None;
    for (k, v) in keys {
        if !k.starts_with(&p.prefix) {
            continue;
        }
        if start_after.is_some_and(|s| k.as_str() <= s) {
            continue;
        }
        let cp = p.delimiter.as_ref().and_then(|d| {
            k[p.prefix.len()..]
                .find(d.as_str())
                .map(|i| k[..p.prefix.len() + i + d.len()].to_string())
        });
        if let Some(cp) = &cp {
            if seen_prefixes.contains(cp) || start_after.is_some_and(|s| s.starts_with(cp.as_str()))
            {
                continue;
            }
        }
        if out.len() >= p.max_keys {
            return (out, last);
        }
        match cp {
            Some(cp) => {
                seen_prefixes.insert(cp.clone());
                last = Some(cp.clone());
                out.push(Entry::Prefix(cp));
            }
            None => {
                last = Some(k.clone());
                out.push(Entry::Key(k.clone(), Box::new(v.clone())));
            }
        }
    }
    (out, None)
}

fn list_objects(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
    v2: bool,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let p = list_params(req)?;
    let token = req.query.get("continuation-token").cloned();
    let start = if v2 {
        match &token {
            Some(t) => Some(
                crate::util::unb64(t)
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        err(
                            400,
                            "InvalidArgument",
                            "The continuation token provided is incorrect",
                        )
                    })?,
            ),
            None => req.query.get("start-after").cloned(),
        }
    } else {
        req.query.get("marker").cloned()
    };
    let owner = canonical_id(cx.account());
    let fetch_owner = !v2 || req.query.get("fetch-owner").map(String::as_str) == Some("true");
    let (entries, next) = cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
        let b = st.buckets.get(bucket).ok_or_else(no_such_bucket)?;
        let current = b
            .objects
            .iter()
            .filter_map(|(k, vs)| vs.last().filter(|v| !v.delete_marker).map(|v| (k, v)));
        Ok::<_, AwsError>(page(current, &p, start.as_deref()))
    })?;
    let enc = |s: &str| {
        if p.encode {
            url_encode(s)
        } else {
            s.to_string()
        }
    };
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for e in &entries {
        match e {
            Entry::Key(k, v) => {
                let mut c = Value::obj()
                    .with("Key", enc(k))
                    .with("LastModified", v.last_modified)
                    .with("ETag", v.etag.clone())
                    .with("Size", v.size as i64)
                    .with("StorageClass", "STANDARD");
                c = with_checksum(c, v);
                if fetch_owner {
                    c = c.with("Owner", Value::obj().with("ID", owner.clone()));
                }
                contents.push(c);
            }
            Entry::Prefix(pfx) => prefixes.push(Value::obj().with("Prefix", enc(pfx))),
        }
    }
    let truncated = next.is_some();
    let mut r = Value::obj()
        .with("IsTruncated", truncated)
        .with("Name", bucket)
        .with("Prefix", enc(&p.prefix));
    if v2 {
        r = r
            .with("ContinuationToken", token)
            .with(
                "NextContinuationToken",
                next.map(|n| crate::util::b64(n.as_bytes())),
            )
            .with("StartAfter", req.query.get("start-after").map(|s| enc(s)))
            .with("KeyCount", entries.len() as i64);
    } else {
        r = r.with(
            "Marker",
            enc(req.query.get("marker").map(String::as_str).unwrap_or("")),
        );
        if p.delimiter.is_some() {
            r = r.with("NextMarker", next.map(|n| enc(&n)));
        }
    }
    r = r
        .with("MaxKeys", p.max_keys as i64)
        .with("Delimiter", p.delimiter.as_deref().map(enc))
        .with("EncodingType", if p.encode { Some("url") } else { None })
        .with("Contents", Value::FlatList(contents))
        .with("CommonPrefixes", Value::FlatList(prefixes));
    Ok(xml_ok("ListBucketResult", r))
}

fn list_object_versions(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let p = list_params(req)?;
    let key_marker = req
        .query
        .get("key-marker")
        .cloned()
        .filter(|k| !k.is_empty());
    let version_marker = req
        .query
        .get("version-id-marker")
        .cloned()
        .filter(|k| !k.is_empty());
    let owner = Value::obj().with("ID", canonical_id(cx.account()));
    let enc = |s: &str| {
        if p.encode {
            url_encode(s)
        } else {
            s.to_string()
        }
    };
    let (items, prefixes, next) = cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
        let b = st.buckets.get(bucket).ok_or_else(no_such_bucket)?;
        let mut items: Vec<(String, Value)> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut count = 0usize;
        let mut last: Option<(String, Option<String>)> = None;
        let mut truncated = false;
        'keys: for (k, versions) in &b.objects {
            if !k.starts_with(&p.prefix) {
                continue;
            }
            if let Some(m) = &key_marker {
                if k.as_str() < m.as_str() || (k == m && version_marker.is_none()) {
                    continue;
                }
            }
            if let Some(d) = &p.delimiter {
                if let Some(i) = k[p.prefix.len()..].find(d.as_str()) {
                    let cp = k[..p.prefix.len() + i + d.len()].to_string();
                    if prefixes.contains(&cp)
                        || key_marker
                            .as_deref()
                            .is_some_and(|m| m.starts_with(cp.as_str()) && m != k)
                    {
                        continue;
                    }
                    if count >= p.max_keys {
                        truncated = true;
                        break;
                    }
                    count += 1;
                    last = Some((cp.clone(), None));
                    prefixes.push(cp);
                    continue;
                }
            }
            // Newest first.
            let mut skipping = key_marker.as_deref() == Some(k.as_str());
            for (i, v) in versions.iter().enumerate().rev() {
                if skipping {
                    if Some(v.version_id.as_str()) == version_marker.as_deref() {
                        skipping = false;
                    }
                    continue;
                }
                if count >= p.max_keys {
                    truncated = true;
                    break 'keys;
                }
                count += 1;
                let latest = i + 1 == versions.len();
                let entry = if v.delete_marker {
                    (
                        "DeleteMarker".to_string(),
                        Value::obj()
                            .with("Owner", owner.clone())
                            .with("Key", enc(k))
                            .with("VersionId", v.version_id.clone())
                            .with("IsLatest", latest)
                            .with("LastModified", v.last_modified),
                    )
                } else {
                    (
                        "Version".to_string(),
                        with_checksum(Value::obj().with("ETag", v.etag.clone()), v)
                            .with("Size", v.size as i64)
                            .with("StorageClass", "STANDARD")
                            .with("Key", enc(k))
                            .with("VersionId", v.version_id.clone())
                            .with("IsLatest", latest)
                            .with("LastModified", v.last_modified)
                            .with("Owner", owner.clone()),
                    )
                };
                items.push(entry);
                last = Some((k.clone(), Some(v.version_id.clone())));
            }
        }
        Ok::<_, AwsError>((items, prefixes, if truncated { last } else { None }))
    })?;
    let mut fields: Vec<(String, Value)> =
        vec![("IsTruncated".into(), Value::Bool(next.is_some()))];
    fields.push((
        "KeyMarker".into(),
        Value::Str(enc(key_marker.as_deref().unwrap_or(""))),
    ));
    fields.push((
        "VersionIdMarker".into(),
        Value::Str(version_marker.clone().unwrap_or_default()),
    ));
    if let Some((k, v)) = &next {
        fields.push(("NextKeyMarker".into(), Value::Str(enc(k))));
        if let Some(v) = v {
            fields.push(("NextVersionIdMarker".into(), Value::Str(v.clone())));
        }
    }
    fields.extend(items);
    fields.push(("Name".into(), Value::Str(bucket.to_string())));
    fields.push(("Prefix".into(), Value::Str(enc(&p.prefix))));
    if let Some(d) = &p.delimiter {
        fields.push(("Delimiter".into(), Value::Str(enc(d))));
    }
    fields.push(("MaxKeys".into(), Value::Int(p.max_keys as i64)));
    for cp in prefixes {
        fields.push((
            "CommonPrefixes".into(),
            Value::obj().with("Prefix", enc(&cp)),
        ));
    }
    if p.encode {
        fields.push(("EncodingType".into(), Value::Str("url".into())));
    }
    Ok(xml_ok("ListVersionsResult", Value::Struct(fields)))
}

// ---------------------------------------------------------------------------------------------
// Seed.

/// Text of the workshop's sample file.
pub const SAMPLE_FILE: &str = "SampleFile-KMS.txt";
pub const SAMPLE_TEXT: &str = "This is a sample file for the AWS KMS workshop.\nIt will be encrypted and decrypted with AWS KMS.\n";

/// The stack's bucket with the learner's uploads from earlier sections, and a lookalike bucket
/// (`kmsworkshop-archive-…`) that no clean-up may touch.
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let first_cmk = sb.read::<crate::services::kms::KmsState, _>(account, region, |st| {
        st.aliases
            .get("alias/FirstCMK")
            .and_then(|a| st.keys.get(&a.target))
            .map(|k| k.arn.clone())
    });
    let object =
        |data: &[u8], sse: &str, kms: Option<String>, at: OffsetDateTime, ct: &str| ObjectVersion {
            version_id: "null".into(),
            delete_marker: false,
            last_modified: at,
            data: crate::util::b64(data),
            size: data.len() as u64,
            etag: format!("\"{}\"", hex::encode(Md5::digest(data))),
            content_type: Some(ct.into()),
            metadata: BTreeMap::new(),
            sse: Some(sse.into()),
            kms_key_id: kms,
            checksum: None,
        };
    let day = time::Duration::days(1);
    let stack_bucket = format!("kmsworkshop-{account}");
    let archive = format!("kmsworkshop-archive-{account}");
    sb.write::<S3State, _>(account, region, |st| {
        // The workshop stack created the bucket (`cloudformation::seed_workshop` runs first);
        // the learner uploaded these in sections I and II.
        let b = st.buckets.get_mut(&stack_bucket).ok_or_else(|| {
            AwsError::internal("the workshop stack's bucket is missing from the seed")
        })?;
        b.objects.insert(
            SAMPLE_FILE.into(),
            vec![object(
                SAMPLE_TEXT.as_bytes(),
                "AES256",
                None,
                now - day * 3,
                "text/plain",
            )],
        );
        // The copy uploaded with SSE-KMS under alias/FirstCMK (section II).
        b.objects.insert(
            "SampleFile-KMS-encrypted.txt".into(),
            vec![object(
                SAMPLE_TEXT.as_bytes(),
                "aws:kms",
                first_cmk.clone(),
                now - day * 3,
                "text/plain",
            )],
        );
        let mut a = Bucket {
            name: archive.clone(),
            created: now - day * 40,
            versioning: None,
            objects: BTreeMap::new(),
            policy: None,
        };
        let text = b"Archived records: not part of the workshop. Do not delete.\n";
        a.objects.insert(
            "records/2025-archive.txt".into(),
            vec![object(text, "AES256", None, now - day * 40, "text/plain")],
        );
        st.buckets.insert(archive.clone(), a);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "kmsworkshop-111122223333", "a.b-c", "my.bucket.1"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "ABC",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "a_b",
            "a.-b",
            &"a".repeat(64),
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn aws_chunked_with_trailer() {
        let body = b"5\r\nhello\r\n6;chunk-signature=abc\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let (data, trailers) = decode_aws_chunked(body).unwrap();
        assert_eq!(data, b"hello world");
        assert_eq!(
            trailers,
            vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
        );
        for bad in [
            &b"5\r\nhel"[..],
            b"zz\r\n",
            b"5\r\nhelloXX0\r\n",
            b"ffffffffffffffff\r\nx",
        ] {
            assert!(decode_aws_chunked(bad).is_err());
        }
    }

    #[test]
    fn xml_bodies() {
        let d = parse_xml(b"<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>").unwrap();
        assert_eq!(d.name, "Delete");
        let keys: Vec<_> = d
            .children("Object")
            .map(|o| o.text_of("Key").unwrap())
            .collect();
        assert_eq!(keys, ["a&b", "c"]);
        for bad in [&b"<a>"[..], b"<a></b>", b"", b"text", b"<a/><b/>", b"\xff"] {
            assert!(parse_xml(bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-4", 10), Some(Ok((0, 4))));
        assert_eq!(parse_range("bytes=5-", 10), Some(Ok((5, 9))));
        assert_eq!(parse_range("bytes=-3", 10), Some(Ok((7, 9))));
        assert_eq!(parse_range("bytes=20-", 10), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
    }
}
