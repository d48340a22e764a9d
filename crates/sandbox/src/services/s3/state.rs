//! S3's persisted state: per account and region the buckets that live there, each with every
//! version of every object; and the two changes every write makes to a key's versions (add a
//! version, delete one or put a delete marker), as the bucket's versioning decides.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct S3State {
    /// Buckets this account owns in this region, by name.
    pub buckets: BTreeMap<String, Bucket>,
}

/// A bucket's versioning, once it was ever configured (it can be suspended, never removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    #[serde(rename = "Enabled")]
    Enabled,
    #[serde(rename = "Suspended")]
    Suspended,
}

impl Versioning {
    /// The `Status` S3 sends and accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }

    pub fn parse(status: &str) -> Option<Versioning> {
        match status {
            "Enabled" => Some(Versioning::Enabled),
            "Suspended" => Some(Versioning::Suspended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Set once versioning was ever configured.
    pub versioning: Option<Versioning>,
    /// By key: every version, oldest first (an unversioned bucket keeps one, id `null`).
    #[serde(default)]
    pub objects: BTreeMap<String, Vec<ObjectVersion>>,
    /// The bucket policy document as submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// When the policy was last put or deleted (other services see it some seconds later).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub policy_changed: Option<time::OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectVersion {
    pub version_id: String,
    #[serde(default)]
    pub delete_marker: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
    /// The bytes: the name of their blob ([`crate::blobs`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub blob: String,
    /// The bytes, base64, as states made before blobs held them (moved into a blob on open).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
    #[serde(default)]
    pub size: u64,
    /// MD5 hex in quotes, as S3 sends it.
    #[serde(default)]
    pub etag: String,
    pub content_type: Option<String>,
    /// `x-amz-meta-*` (without the prefix, lower-cased).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// `AES256` or `aws:kms`.
    pub sse: Option<String>,
    pub kms_key_id: Option<String>,
    /// The checksum the uploader sent (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`) and its
    /// base64 value; S3 keeps it and returns it to readers that ask (`x-amz-checksum-mode`).
    pub checksum: Option<(String, String)>,
}

impl Bucket {
    /// A new, empty, unversioned bucket.
    pub fn new(name: &str, created: OffsetDateTime) -> Bucket {
        Bucket {
            name: name.to_string(),
            created,
            versioning: None,
            objects: BTreeMap::new(),
            policy: None,
            policy_changed: None,
        }
    }

    /// Add a new current version of `key` as the bucket's versioning state says; answers its
    /// version id.
    pub(super) fn add_version(&mut self, key: &str, mut v: ObjectVersion) -> String {
        let versions = self.objects.entry(key.to_string()).or_default();
        match self.versioning {
            Some(Versioning::Enabled) => {
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

    /// Delete `key` (or one version of it); answers (version id, whether it is a delete marker).
    pub(super) fn delete(
        &mut self,
        key: &str,
        version: Option<&str>,
        now: OffsetDateTime,
    ) -> (Option<String>, bool) {
        match version {
            Some(id) => {
                let Some(versions) = self.objects.get_mut(key) else {
                    return (Some(id.to_string()), false);
                };
                let marker = versions
                    .iter()
                    .find(|x| x.version_id == id)
                    .is_some_and(|x| x.delete_marker);
                versions.retain(|x| x.version_id != id);
                if versions.is_empty() {
                    self.objects.remove(key);
                }
                (Some(id.to_string()), marker)
            }
            None => match self.versioning {
                None => {
                    self.objects.remove(key);
                    (None, false)
                }
                // S3 adds a marker even for a key that never existed.
                Some(_) => {
                    let id = self.add_version(key, ObjectVersion::delete_marker(now));
                    (Some(id), true)
                }
            },
        }
    }
}

impl ObjectVersion {
    /// A version of `data`, kept as the blob `blob` (ETag: its MD5, as S3 computes it),
    /// without metadata or encryption.
    pub(super) fn of(blob: String, data: &[u8], last_modified: OffsetDateTime) -> ObjectVersion {
        ObjectVersion {
            version_id: "null".into(),
            delete_marker: false,
            last_modified,
            blob,
            data: String::new(),
            size: data.len() as u64,
            etag: format!("\"{}\"", hex::encode(Md5::digest(data))),
            content_type: None,
            metadata: BTreeMap::new(),
            sse: None,
            kms_key_id: None,
            checksum: None,
        }
    }

    fn delete_marker(now: OffsetDateTime) -> ObjectVersion {
        ObjectVersion {
            version_id: String::new(),
            delete_marker: true,
            last_modified: now,
            blob: String::new(),
            data: String::new(),
            size: 0,
            etag: String::new(),
            content_type: None,
            metadata: BTreeMap::new(),
            sse: None,
            kms_key_id: None,
            checksum: None,
        }
    }
}

impl S3State {
    /// The blobs this state names.
    pub fn blob_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.buckets
            .values()
            .flat_map(|b| b.objects.values().flatten())
            .map(|v| v.blob.as_str())
            .filter(|n| !n.is_empty())
    }

    /// Move bytes a state from before blobs held inline into `blobs`; whether any moved.
    pub fn move_inline_data(
        &mut self,
        blobs: &crate::blobs::Blobs,
    ) -> Result<bool, crate::store::StoreError> {
        let mut moved = false;
        for v in self
            .buckets
            .values_mut()
            .flat_map(|b| b.objects.values_mut().flatten())
            .filter(|v| !v.data.is_empty())
        {
            let bytes = crate::util::unb64(&v.data).unwrap_or_default();
            // Named by the state at once (the caller holds it): nothing is pending.
            v.blob = blobs.keep(&bytes)?.name.clone();
            v.data.clear();
            moved = true;
        }
        Ok(moved)
    }
}

fn new_version_id() -> String {
    crate::util::random_id(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._",
        32,
    )
}
