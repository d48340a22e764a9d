//! S3 (restXml, path-style `http://host/<bucket>/<key>`): buckets, global by name but living in
//! the owner's account and region (`LocationConstraint`); versioning; objects with metadata,
//! ETag = MD5, server-side-encryption echo; listings (v1, v2, versions); multi-object delete.
//! Request bodies may come `aws-chunked` (the SDKs' default checksum behaviour): they are
//! decoded, and a CRC32 trailer or header is checked, in `request`.
//!
//! CloudTrail: bucket-level calls are management events and reach the event history;
//! object-level calls and listings are data events, which the event history never shows.

mod errors;
mod ops;
mod request;
mod seed;
pub(crate) mod shared;
mod state;
mod views;

#[cfg(test)]
mod tests;

use http::Method;
use serde_json::{json, Value as J};

use super::{About, Call, Service, TrailResource};
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Input, Protocol, Value};
use ops::{buckets, listings, objects, policy};
use request::header;

pub use ops::buckets::{canonical_id, find_bucket, valid_bucket_name};
pub use request::{parse_xml, payload, Node};
pub use seed::{seed_workshop, SAMPLE_FILE, SAMPLE_TEXT};
pub use state::{Bucket, ObjectVersion, S3State, Versioning};

pub struct S3;

const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

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

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("s3", "s3.amazonaws.com", Protocol::RestXml)
    .xmlns(XMLNS)
    .read_only(&["Get", "List", "Head"]);

impl Service for S3 {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, _input: &Input) -> Result<Value, AwsError> {
        Err(cx.unknown(op))
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
        let (b, key) = (bucket.as_str(), req.key.clone().unwrap_or_default());
        match op {
            "ListBuckets" => buckets::list_buckets(cx),
            "CreateBucket" => buckets::create_bucket(cx, b, req),
            "HeadBucket" => buckets::head_bucket(cx, b),
            "DeleteBucket" => buckets::delete_bucket(cx, b),
            "GetBucketLocation" => buckets::get_bucket_location(cx, b),
            "GetBucketVersioning" => buckets::get_bucket_versioning(cx, b),
            "PutBucketVersioning" => buckets::put_bucket_versioning(cx, b, req),
            "PutBucketPolicy" => policy::put_bucket_policy(cx, b, req),
            "GetBucketPolicy" => policy::get_bucket_policy(cx, b),
            "DeleteBucketPolicy" => policy::delete_bucket_policy(cx, b),
            "PutObject" => objects::put_object(cx, b, &key, req),
            "CopyObject" => objects::copy_object(cx, b, &key, req),
            "GetObject" => objects::get_object(cx, b, &key, req),
            "HeadObject" => objects::head_object(cx, b, &key, req),
            "DeleteObject" => objects::delete_object(cx, b, &key, req),
            "DeleteObjects" => objects::delete_objects(cx, b, req),
            "ListObjects" => listings::list_objects(cx, b, req),
            "ListObjectsV2" => listings::list_objects_v2(cx, b, req),
            "ListObjectVersions" => listings::list_object_versions(cx, b, req),
            _ => Err(errors::not_implemented()),
        }
    }
}
