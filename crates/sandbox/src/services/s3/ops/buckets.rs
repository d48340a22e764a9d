//! Buckets: global by name, living in the owner's account and region; versioning.

use time::OffsetDateTime;

use super::own_bucket;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Value};
use crate::services::s3::errors::{
    err, illegal_location_constraint, malformed_xml, no_such_bucket,
};
use crate::services::s3::request::{optional_xml_body, xml_body};
use crate::services::s3::state::{Bucket, ObjectVersion, S3State, Versioning};
use crate::services::s3::views::{empty, hdr, xml_ok};
use crate::services::Call;
use crate::Sandbox;

/// The canonical user id S3 shows as the owner of an account's buckets.
pub fn canonical_id(account: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("kms-workshop-canonical-user/{account}").as_bytes(),
    ))
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

pub(crate) fn list_buckets(cx: &mut Call<'_>) -> Result<Encoded, AwsError> {
    let sb = cx.sandbox;
    let account = cx.account().to_string();
    let mut all: Vec<(String, OffsetDateTime, String)> = Vec::new();
    for r in sb.regions_of(&account) {
        sb.read::<S3State, _>(&account, &r, |st| {
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

/// The region a CreateBucket places the bucket in: its `LocationConstraint`, which must be
/// the region the request was signed for (us-east-1 takes none).
fn bucket_region(req: &RestRequest, signing_region: &str) -> Result<String, AwsError> {
    let constraint = optional_xml_body(req, "CreateBucketConfiguration")?
        .and_then(|doc| doc.text_of("LocationConstraint"))
        .filter(|s| !s.is_empty());
    match constraint.as_deref() {
        Some("us-east-1") => Err(err(
            400,
            "InvalidLocationConstraint",
            "The specified location-constraint is not valid",
        )),
        Some("EU") => Ok("eu-west-1".to_string()),
        Some(c) if c != signing_region => Err(illegal_location_constraint(&format!(
            "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
        ))),
        Some(c) => Ok(c.to_string()),
        None if signing_region != "us-east-1" => Err(illegal_location_constraint(
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
        )),
        None => Ok("us-east-1".to_string()),
    }
}

/// A bucket the workshop seed makes in another learner's account (the stack's, the archive
/// lookalike): that account's name, even before its seed ran or after its owner deleted it, so
/// no learner can keep another's seed from making it.
fn seeds_bucket(cx: &Call<'_>, name: &str) -> Option<(String, String)> {
    if cx.sandbox.seed_name() != "workshop" {
        return None;
    }
    cx.sandbox
        .learners()
        .into_iter()
        .map(|(_, account)| account)
        .find(|a| {
            a != cx.account()
                && (name == kms_workshop_names::bucket(a)
                    || name == super::super::seed::archive_bucket(a))
        })
        .map(|a| (a, String::new()))
}

pub(crate) fn create_bucket(
    cx: &mut Call<'_>,
    name: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    if !valid_bucket_name(name) {
        return Err(err(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        ));
    }
    let region = bucket_region(req, &cx.region)?;
    let taken = find_bucket(cx.sandbox, name).or_else(|| seeds_bucket(cx, name));
    match taken {
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
        st.buckets.insert(name.to_string(), Bucket::new(name, now));
        Ok(())
    })?;
    Ok(hdr(empty(200), "location", &format!("/{name}")))
}

pub(crate) fn head_bucket(cx: &mut Call<'_>, name: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    Ok(hdr(
        hdr(empty(200), "x-amz-bucket-region", &region),
        "x-amz-access-point-alias",
        "false",
    ))
}

pub(crate) fn delete_bucket(cx: &mut Call<'_>, name: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    let account = cx.account().to_string();
    // A trail that stopped delivers its last log file late: it lands now, as on AWS it
    // lands after the bucket was emptied.
    let late =
        crate::services::cloudtrail::shared::last_log_file(cx.sandbox, &account, name, cx.now);
    if let Some((key, body)) = late {
        let blob = cx.sandbox.keep_blob(&body)?;
        let v = ObjectVersion {
            content_type: Some("application/octet-stream".into()),
            ..ObjectVersion::of(blob.name.clone(), &body, cx.now)
        };
        super::objects::store(cx, &region, name, &key, v)?;
    }
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

pub(crate) fn get_bucket_location(cx: &mut Call<'_>, name: &str) -> Result<Encoded, AwsError> {
    let region = super::owned_bucket_region(cx, name)?;
    let lc = if region == "us-east-1" {
        String::new()
    } else {
        region
    };
    Ok(xml_ok("LocationConstraint", Value::Str(lc)))
}

pub(crate) fn get_bucket_versioning(cx: &mut Call<'_>, name: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    let status = cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
        st.buckets.get(name).and_then(|b| b.versioning)
    });
    Ok(xml_ok(
        "VersioningConfiguration",
        Value::obj().with("Status", status.map(Versioning::as_str)),
    ))
}

pub(crate) fn put_bucket_versioning(
    cx: &mut Call<'_>,
    name: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, name)?;
    let doc = xml_body(req, "VersioningConfiguration")?;
    let status = match doc.text_of("Status") {
        Some(s) => Some(Versioning::parse(&s).ok_or_else(malformed_xml)?),
        None => None,
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
