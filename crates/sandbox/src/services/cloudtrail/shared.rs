//! What CloudTrail tells other services (through these functions only): the last log file a
//! trail that stopped still delivers to its bucket, which S3 receives when the bucket is about
//! to be deleted (the race a clean-up meets on AWS: `BucketNotEmpty` after emptying it).

use std::io::Write;

use time::{Duration, OffsetDateTime};

use super::state::TrailState;
use crate::Sandbox;

/// How long after a trail stops its last log file can still come.
const LAST_DELIVERY_WITHIN: Duration = Duration::minutes(15);

/// The last log file still due for `bucket` in `account` (its key and gzip bytes), taken:
/// it is delivered once.
pub(crate) fn last_log_file(
    sb: &Sandbox,
    account: &str,
    bucket: &str,
    now: OffsetDateTime,
) -> Option<(String, Vec<u8>)> {
    for region in sb.regions_of(account) {
        let due = sb.read::<TrailState, _>(account, &region, |st| {
            st.last_deliveries.get(bucket).copied()
        });
        let Some(stopped) = due else { continue };
        let taken = sb.write::<TrailState, _>(account, &region, |st| {
            st.last_deliveries.remove(bucket);
            Ok(())
        });
        if taken.is_err() || now - stopped > LAST_DELIVERY_WITHIN {
            continue;
        }
        return Some(log_file(account, &region, stopped));
    }
    None
}

/// A CloudTrail log file as AWS names and compresses it (its records left out: only its
/// presence matters here).
fn log_file(account: &str, region: &str, at: OffsetDateTime) -> (String, Vec<u8>) {
    let key = format!(
        "AWSLogs/{account}/CloudTrail/{region}/{:04}/{:02}/{:02}/{account}_CloudTrail_{region}_{:04}{:02}{:02}T{:02}{:02}Z_{}.json.gz",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        &crate::util::uuid()[..16],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(br#"{"Records":[]}"#);
    (key, gz.finish().unwrap_or_default())
}
