//! Amazon S3 **Buckets**: the account's buckets; a bucket's objects and **Empty** (typed
//! confirmation, as S3's console asks), which the stack's deletion needs first: CloudFormation
//! does not delete a bucket that still holds objects, and the stack ends `DELETE_FAILED`.
//! Requests are path-style (`/bucket/key`), which the sandbox's single address serves.

use askama::Template;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

use super::Chrome;
use crate::aws::{date, failed};
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, status_for};

/// What S3's console asks to be typed before it empties a bucket.
const CONFIRMATION: &str = "permanently delete";

/// One bucket in the list.
pub struct BucketRow {
    pub name: String,
    pub segment: String,
    pub created: String,
}

/// One object of a bucket: key, size in bytes, last modified.
pub struct ObjectRow {
    pub key: String,
    pub size: i64,
    pub modified: String,
}

#[derive(Template)]
#[template(path = "s3_buckets.html")]
struct Buckets {
    chrome: Chrome,
    buckets: Vec<BucketRow>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "s3_bucket.html")]
struct Bucket {
    chrome: Chrome,
    name: String,
    segment: String,
    objects: Vec<ObjectRow>,
    problem: Option<String>,
    confirmation: &'static str,
}

/// An S3 client signed as the session, path-style (the sandbox serves one address).
pub fn client(s: &SignedIn) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&s.session.sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// `GET /console/s3/buckets`.
pub async fn list(s: SignedIn) -> Response {
    let (buckets, problem) = match client(&s).list_buckets().send().await {
        Ok(out) => (
            out.buckets()
                .iter()
                .map(|b| BucketRow {
                    name: b.name().unwrap_or_default().to_string(),
                    segment: super::sns::encode(b.name().unwrap_or_default()),
                    created: date(b.creation_date()),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(failed("ListBuckets", e))),
    };
    page(
        status_for(&problem),
        &Buckets {
            chrome: Chrome::of(&s, "s3"),
            buckets,
            problem,
        },
    )
}

/// `GET /console/s3/buckets/{name}`.
pub async fn show(s: SignedIn, Path(name): Path<String>) -> Response {
    bucket_page(&s, &name, None).await
}

async fn bucket_page(s: &SignedIn, name: &str, problem: Option<String>) -> Response {
    let mut objects = Vec::new();
    let mut pages = client(s)
        .list_objects_v2()
        .bucket(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(out) => objects.extend(out.contents().iter().map(|o| ObjectRow {
                key: o.key().unwrap_or_default().to_string(),
                size: o.size().unwrap_or_default(),
                modified: date(o.last_modified()),
            })),
            Err(e) => return super::missing(s, "s3", failed("ListObjectsV2", e)),
        }
    }
    page(
        status_for(&problem),
        &Bucket {
            chrome: Chrome::of(s, "s3"),
            name: name.to_string(),
            segment: super::sns::encode(name),
            objects,
            problem,
            confirmation: CONFIRMATION,
        },
    )
}

/// `POST /console/s3/buckets/{name}/empty` (confirmation, csrf): delete every object version
/// and delete marker, a DeleteObjects of at most 1,000 per listed page, until none is left.
pub async fn empty(s: SignedIn, Path(name): Path<String>, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    if f.get("confirmation").map(|c| c.trim()) != Some(CONFIRMATION) {
        let why = format!("To confirm, type \"{CONFIRMATION}\" in the field.");
        return bucket_page(&s, &name, Some(why)).await;
    }
    match empty_bucket(&client(&s), &name).await {
        Ok(()) => Redirect::to(&format!(
            "/console/s3/buckets/{}",
            super::sns::encode(&name)
        ))
        .into_response(),
        Err(why) => bucket_page(&s, &name, Some(why)).await,
    }
}

/// At most this many rounds (of up to 1,000 deletions each) per Empty.
const MAX_ROUNDS: usize = 1000;

/// Each round lists what is left from the start: what it deleted is gone from the next. Every
/// version is deleted by its id, the "null" version too (a delete without an id would only add
/// a delete marker on a bucket that ever had versioning); a round that finds exactly what the
/// last one deleted stops with an error rather than going round for ever.
async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), String> {
    let mut last: Vec<(String, Option<String>)> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| failed("ListObjectVersions", e))?;
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        let listed: Vec<(String, Option<String>)> = versions
            .chain(markers)
            .filter_map(|(key, version)| Some((key?.to_string(), version.map(str::to_string))))
            .collect();
        if listed.is_empty() {
            return Ok(());
        }
        if listed == last {
            return Err(format!(
                "S3 still lists the {} versions it was asked to delete; the bucket is not empty",
                listed.len()
            ));
        }
        let objects: Vec<ObjectIdentifier> = listed
            .iter()
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.clone())
                    .build()
                    .ok()
            })
            .collect();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| format!("DeleteObjects: {e}"))?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| failed("DeleteObjects", e))?;
        if let Some(e) = out.errors().first() {
            return Err(format!(
                "{}: {} ({})",
                e.code().unwrap_or("Error"),
                e.message().unwrap_or_default(),
                e.key().unwrap_or_default()
            ));
        }
        last = listed;
    }
    Err(format!(
        "the bucket still holds objects after {MAX_ROUNDS} rounds of 1,000 deletions: press Empty again"
    ))
}
