//! What S3 tells other services (through these functions only): when a bucket's policy last
//! changed, for CloudTrail, which sees a new policy only some seconds later on AWS.

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
