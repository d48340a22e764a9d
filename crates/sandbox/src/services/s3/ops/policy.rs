//! Bucket policies: kept as submitted after a check of their shape; the sandbox does not
//! evaluate them.

use bytes::Bytes;
use serde_json::Value as J;

use super::own_bucket;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded};
use crate::services::s3::errors::{err, malformed_policy};
use crate::services::s3::request::payload;
use crate::services::s3::state::S3State;
use crate::services::s3::views::{empty, hdr};
use crate::services::Call;

pub(crate) fn put_bucket_policy(
    cx: &mut Call<'_>,
    bucket: &str,
    req: &RestRequest,
) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let text = String::from_utf8(payload(req)?).unwrap_or_default();
    let malformed =
        || malformed_policy("Policies must be valid JSON and the first byte must be '{'");
    if !text.trim_start().starts_with('{') {
        return Err(malformed());
    }
    let doc: J = serde_json::from_str(&text).map_err(|_| malformed())?;
    if !doc
        .get("Statement")
        .is_some_and(|s| s.is_array() || s.is_object())
    {
        return Err(malformed_policy("Missing required field Statement"));
    }
    set_policy(cx, bucket, &region, Some(text))
}

pub(crate) fn get_bucket_policy(cx: &mut Call<'_>, bucket: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    let policy = cx.sandbox.read::<S3State, _>(cx.account(), &region, |st| {
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

pub(crate) fn delete_bucket_policy(cx: &mut Call<'_>, bucket: &str) -> Result<Encoded, AwsError> {
    let region = own_bucket(cx, bucket)?;
    set_policy(cx, bucket, &region, None)
}

fn set_policy(
    cx: &mut Call<'_>,
    bucket: &str,
    region: &str,
    policy: Option<String>,
) -> Result<Encoded, AwsError> {
    let account = cx.account().to_string();
    let now = cx.now;
    cx.sandbox.write::<S3State, _>(&account, region, |st| {
        if let Some(b) = st.buckets.get_mut(bucket) {
            b.policy = policy;
            b.policy_changed = Some(now);
        }
        Ok(())
    })?;
    Ok(empty(204))
}
