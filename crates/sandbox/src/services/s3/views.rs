//! S3's answers: bodyless answers with headers, XML documents, and the wire shapes of objects
//! (their headers, their entries in listings).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use time::OffsetDateTime;

use super::state::ObjectVersion;
use crate::protocol::restxml;
use crate::protocol::{Encoded, Value};

/// An answer without a body.
pub(super) fn empty(status: u16) -> Encoded {
    Encoded {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

/// An XML document `<root>…</root>`.
pub(super) fn xml_ok(root: &str, v: Value) -> Encoded {
    restxml::encode_ok("", &Value::obj().with(root, v))
}

/// Add a header (left out if `value` cannot be one).
pub(super) fn hdr(mut e: Encoded, name: &'static str, value: &str) -> Encoded {
    if let Ok(v) = HeaderValue::from_str(value) {
        e.headers.insert(name, v);
    }
    e
}

fn http_date(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// The headers GetObject and HeadObject describe an object with.
pub(super) fn object_headers(mut e: Encoded, o: &ObjectVersion, versioned: bool) -> Encoded {
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
    e = sse_headers(e, &o.sse, &o.kms_key_id);
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

/// The server-side encryption of an object.
pub(super) fn sse_headers(
    mut e: Encoded,
    sse: &Option<String>,
    kms_key_id: &Option<String>,
) -> Encoded {
    if let Some(s) = sse {
        e = hdr(e, "x-amz-server-side-encryption", s);
    }
    if let Some(k) = kms_key_id {
        e = hdr(e, "x-amz-server-side-encryption-aws-kms-key-id", k);
    }
    e
}

/// `x-amz-checksum-<algorithm>` and its type, when the object has a checksum.
pub(super) fn checksum_headers(mut e: Encoded, checksum: &Option<(String, String)>) -> Encoded {
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
pub(super) fn with_checksum(v: Value, o: &ObjectVersion) -> Value {
    match &o.checksum {
        Some((alg, _)) => v
            .with("ChecksumAlgorithm", Value::List(vec![alg.clone().into()]))
            .with("ChecksumType", "FULL_OBJECT"),
        None => v,
    }
}

/// An object's entry in ListObjects(V2) (`key` as the listing encodes it).
pub(super) fn contents_entry(key: String, v: &ObjectVersion, owner: Option<&str>) -> Value {
    let c = Value::obj()
        .with("Key", key)
        .with("LastModified", v.last_modified)
        .with("ETag", v.etag.clone())
        .with("Size", v.size as i64)
        .with("StorageClass", "STANDARD");
    let c = with_checksum(c, v);
    match owner {
        Some(id) => c.with("Owner", Value::obj().with("ID", id)),
        None => c,
    }
}

/// A version's entry in ListObjectVersions: its element name (`Version` or `DeleteMarker`)
/// and content.
pub(super) fn version_entry(
    key: String,
    v: &ObjectVersion,
    latest: bool,
    owner: &Value,
) -> (String, Value) {
    if v.delete_marker {
        (
            "DeleteMarker".to_string(),
            Value::obj()
                .with("Owner", owner.clone())
                .with("Key", key)
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
                .with("Key", key)
                .with("VersionId", v.version_id.clone())
                .with("IsLatest", latest)
                .with("LastModified", v.last_modified)
                .with("Owner", owner.clone()),
        )
    }
}
