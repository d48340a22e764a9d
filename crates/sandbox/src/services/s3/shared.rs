//! What S3 tells other services (through these functions only): whether a bucket exists and
//! when its policy last changed, for CloudTrail, which refuses a trail into a bucket that does
//! not exist and sees a new policy only some seconds later on AWS.

use time::OffsetDateTime;

use super::state::S3State;
use crate::Sandbox;

/// When the policy of `bucket` (in `account` and `region`) was last put or deleted.
pub(crate) fn policy_changed(
    sb: &Sandbox,
    account: &str,
    region: &str,
    bucket: &str,
) -> Option<OffsetDateTime> {
    sb.read::<S3State, _>(account, region, |st| {
        st.buckets.get(bucket).and_then(|b| b.policy_changed)
    })
}

/// Whether a bucket named `bucket` exists, in any account and region (bucket names are
/// global).
pub(crate) fn bucket_exists(sb: &Sandbox, bucket: &str) -> bool {
    sb.account_regions().into_iter().any(|(account, region)| {
        sb.read::<S3State, _>(&account, &region, |st| st.buckets.contains_key(bucket))
    })
}
