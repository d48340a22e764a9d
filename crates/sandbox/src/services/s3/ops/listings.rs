//! Listings: ListObjects, ListObjectsV2 and ListObjectVersions, with prefixes, delimiters
//! (common prefixes), markers or continuation tokens, and `encoding-type=url`.
//!
//! S3 resumes a listing after a key (or a key and version), not at an offset, and groups keys
//! under common prefixes while it pages, so these listings page here rather than with
//! `common::paging`.

use std::collections::BTreeSet;

use super::buckets::canonical_id;
use super::own_bucket;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Value};
use crate::services::s3::errors::{invalid_argument, no_such_bucket};
use crate::services::s3::state::{Bucket, ObjectVersion, S3State};
use crate::services::s3::views::{contents_entry, version_entry, xml_ok};
use crate::services::Call;

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

impl ListParams {
    /// A key or prefix as the listing shows it.
    fn enc(&self, s: &str) -> String {
        if self.encode {
            url_encode(s)
        } else {
            s.to_string()
        }
    }
}

fn list_params(req: &RestRequest) -> Result<ListParams, AwsError> {
    let max_keys = match req.query.get("max-keys") {
        None => 1000,
        Some(m) => m
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                invalid_argument("Provided max-keys not an integer or within integer range")
            })?
            .min(1000) as usize,
    };
    let encode = match req.query.get("encoding-type").map(String::as_str) {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(invalid_argument(
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

pub(crate) fn list_objects(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    list(cx, bucket, req, false)
}

pub(crate) fn list_objects_v2(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    list(cx, bucket, req, true)
}

/// ListObjects (`v2`: ListObjectsV2, which resumes at a continuation token).
fn list(cx: &mut Call<'_>, bucket: &str, req: &RestRequest, v2: bool) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let p = list_params(req)?;
    let token = req.query.get("continuation-token").cloned();
    let start = if v2 {
        match &token {
            Some(t) => Some(
                crate::util::unb64(t)
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        invalid_argument("The continuation token provided is incorrect")
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
    let enc = |s: &str| p.enc(s);
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for e in &entries {
        match e {
            Entry::Key(k, v) => {
                contents.push(contents_entry(enc(k), v, fetch_owner.then_some(&*owner)));
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

/// Where ListObjectVersions resumes: after `key-marker`, or within that key after
/// `version-id-marker`.
struct VersionMarkers {
    key: Option<String>,
    version: Option<String>,
}

/// One page of ListObjectVersions.
struct VersionPage {
    /// `Version` and `DeleteMarker` entries, in order.
    items: Vec<(String, Value)>,
    prefixes: Vec<String>,
    /// When truncated: the key (or common prefix) and version of the last entry returned.
    next: Option<(String, Option<String>)>,
}

/// Walk the bucket's keys (sorted) and their versions (newest first) from the markers.
fn version_page(b: &Bucket, p: &ListParams, m: &VersionMarkers, owner: &Value) -> VersionPage {
    let mut items: Vec<(String, Value)> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut count = 0usize;
    let mut last: Option<(String, Option<String>)> = None;
    let mut truncated = false;
    'keys: for (k, versions) in &b.objects {
        if !k.starts_with(&p.prefix) {
            continue;
        }
        if let Some(km) = &m.key {
            if k.as_str() < km.as_str() || (k == km && m.version.is_none()) {
                continue;
            }
        }
        if let Some(d) = &p.delimiter {
            if let Some(i) = k[p.prefix.len()..].find(d.as_str()) {
                let cp = k[..p.prefix.len() + i + d.len()].to_string();
                if prefixes.contains(&cp)
                    || m.key
                        .as_deref()
                        .is_some_and(|km| km.starts_with(cp.as_str()) && km != k)
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
        let mut skipping = m.key.as_deref() == Some(k.as_str());
        for (i, v) in versions.iter().enumerate().rev() {
            if skipping {
                if Some(v.version_id.as_str()) == m.version.as_deref() {
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
            items.push(version_entry(p.enc(k), v, latest, owner));
            last = Some((k.clone(), Some(v.version_id.clone())));
        }
    }
    VersionPage {
        items,
        prefixes,
        next: if truncated { last } else { None },
    }
}

pub(crate) fn list_object_versions(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let p = list_params(req)?;
    let marker = |name: &str| req.query.get(name).cloned().filter(|k| !k.is_empty());
    let m = VersionMarkers {
        key: marker("key-marker"),
        version: marker("version-id-marker"),
    };
    let owner = Value::obj().with("ID", canonical_id(cx.account()));
    let page = cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
        let b = st.buckets.get(bucket).ok_or_else(no_such_bucket)?;
        Ok::<_, AwsError>(version_page(b, &p, &m, &owner))
    })?;
    let mut fields: Vec<(String, Value)> =
        vec![("IsTruncated".into(), Value::Bool(page.next.is_some()))];
    fields.push((
        "KeyMarker".into(),
        Value::Str(p.enc(m.key.as_deref().unwrap_or(""))),
    ));
    fields.push((
        "VersionIdMarker".into(),
        Value::Str(m.version.clone().unwrap_or_default()),
    ));
    if let Some((k, v)) = &page.next {
        fields.push(("NextKeyMarker".into(), Value::Str(p.enc(k))));
        if let Some(v) = v {
            fields.push(("NextVersionIdMarker".into(), Value::Str(v.clone())));
        }
    }
    fields.extend(page.items);
    fields.push(("Name".into(), Value::Str(bucket.to_string())));
    fields.push(("Prefix".into(), Value::Str(p.enc(&p.prefix))));
    if let Some(d) = &p.delimiter {
        fields.push(("Delimiter".into(), Value::Str(p.enc(d))));
    }
    fields.push(("MaxKeys".into(), Value::Int(p.max_keys as i64)));
    for cp in page.prefixes {
        fields.push((
            "CommonPrefixes".into(),
            Value::obj().with("Prefix", p.enc(&cp)),
        ));
    }
    if p.encode {
        fields.push(("EncodingType".into(), Value::Str("url".into())));
    }
    Ok(xml_ok("ListVersionsResult", Value::Struct(fields)))
}
