//! S3's operations, one function each, grouped by what they act on.

pub(super) mod buckets;
pub(super) mod listings;
pub(super) mod objects;
pub(super) mod policy;

use super::errors::{access_denied, no_such_bucket};
use crate::protocol::AwsError;
use crate::services::Call;

/// The bucket named in the request, owned by the caller: (region it lives in).
fn own_bucket(cx: &Call<'_>, name: &str) -> Result<String, AwsError> {
    let region = owned_bucket_region(cx, name)?;
    // On AWS a request sent to another region's endpoint than the bucket's is answered with
    // a redirect, which the SDKs do not follow (GetBucketLocation alone answers anywhere).
    if cx.sandbox.config.realism.s3_region_redirect && region != cx.region {
        return Err(AwsError::new(
            301,
            "PermanentRedirect",
            "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
        ));
    }
    Ok(region)
}

/// The region of `name`, a bucket of the caller's account.
fn owned_bucket_region(cx: &Call<'_>, name: &str) -> Result<String, AwsError> {
    match buckets::find_bucket(cx.sandbox, name) {
        None => Err(no_such_bucket()),
        Some((account, _)) if account != cx.account() => Err(access_denied()),
        Some((_, region)) => Ok(region),
    }
}
