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
    match buckets::find_bucket(cx.sandbox, name) {
        None => Err(no_such_bucket()),
        Some((account, _)) if account != cx.account() => Err(access_denied()),
        Some((_, region)) => Ok(region),
    }
}
