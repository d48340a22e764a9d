//! Objects: upload, copy, read (whole, ranged, conditional) and delete, one key or many,
//! with versions and delete markers as the bucket's versioning says.

use crate::services::kms::shared;
use std::collections::BTreeMap;

use bytes::Bytes;

use super::own_bucket;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Value};
use crate::services::s3::errors::{
    err, invalid_argument, malformed_xml, no_such_bucket, no_such_key,
};
use crate::services::s3::request::{header, payload_checked, xml_body};
use crate::services::s3::state::{ObjectVersion, S3State};
use crate::services::s3::views::{
    checksum_headers, empty, hdr, object_headers, sse_headers, xml_ok,
};
use crate::services::Call;

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
                    let resolved =
                        shared::resolve(cx.sandbox, &account, region, &k, None).map(|key| key.arn);
                    resolved.ok_or_else(|| {
                        err(400, "KMS.NotFoundException", &format!("Invalid keyId {k}"))
                    })?
                }
            };
            Ok((sse, Some(arn)))
        }
        Some(_) => Err(invalid_argument(
            "The encryption method specified is not supported",
        )),
    }
}

/// The `x-amz-meta-*` headers of a request (without the prefix).
fn metadata_of(req: &RestRequest) -> BTreeMap<String, String> {
    req.headers
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect()
}

/// Store `v` as the new current version of `key`; answers (its version id, whether the bucket
/// is versioned).
pub(super) fn store(
    cx: &Call<'_>,
    region: &str,
    bucket: &str,
    key: &str,
    v: ObjectVersion,
) -> Result<(String, bool), AwsError> {
    cx.sandbox.write::<S3State, _>(cx.account(), region, |st| {
        let b = st.buckets.get_mut(bucket).ok_or_else(no_such_bucket)?;
        let versioned = b.versioning.is_some();
        Ok((b.add_version(key, v), versioned))
    })
}

pub(crate) fn put_object(
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
    let blob = cx.sandbox.keep_blob(&data)?;
    let v = ObjectVersion {
        content_type: header(&req.headers, "content-type").map(str::to_string),
        metadata: metadata_of(req),
        sse: sse.clone(),
        kms_key_id: kms_key_id.clone(),
        checksum: checksum.clone(),
        ..ObjectVersion::of(blob.name.clone(), &data, cx.now)
    };
    let etag = v.etag.clone();
    let (id, versioned) = store(cx, &region, bucket, key, v)?;
    let mut e = hdr(empty(200), "etag", &etag);
    if versioned {
        e = hdr(e, "x-amz-version-id", &id);
    }
    e = sse_headers(e, &sse, &kms_key_id);
    Ok(checksum_headers(e, &checksum))
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

pub(crate) fn get_object(
    cx: &mut Call<'_>,
    bucket: &str,
    key: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    read_object(cx, bucket, key, req, false)
}

pub(crate) fn head_object(
    cx: &mut Call<'_>,
    bucket: &str,
    key: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    read_object(cx, bucket, key, req, true)
}

/// GetObject and HeadObject (which answers the same without the body).
fn read_object(
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
    let data = cx
        .sandbox
        .blobs
        .get(&o.blob)
        .ok_or_else(|| AwsError::internal("The object's stored bytes are missing."))?;
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
            None => (200, data.to_vec(), None),
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
pub(crate) fn parse_range(r: &str, len: usize) -> Option<Result<(usize, usize), ()>> {
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

pub(crate) fn copy_object(
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
        invalid_argument(
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
        v.metadata = metadata_of(req);
    } else if sb == bucket && sk == key && src_version.is_none() {
        return Err(err(400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."));
    }
    let now = cx.now;
    let etag = v.etag.clone();
    let (id, versioned) = store(cx, &region, bucket, key, v)?;
    let mut e = xml_ok(
        "CopyObjectResult",
        Value::obj().with("ETag", etag).with("LastModified", now),
    );
    if versioned {
        e = hdr(e, "x-amz-version-id", &id);
    }
    Ok(e)
}

pub(crate) fn delete_object(
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
        Ok(b.delete(key, version.as_deref(), now))
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

pub(crate) fn delete_objects(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let doc = xml_body(req, "Delete")?;
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
            .map(|(k, v)| (k.clone(), v.clone(), b.delete(k, v.as_deref(), now)))
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
