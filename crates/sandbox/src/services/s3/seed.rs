//! What S3 contributes to the workshop seed around what the seed's plan makes (the stack's
//! bucket and the learner's uploads: `crate::seed::plan`): a lookalike bucket that no clean-up
//! may touch.

use time::OffsetDateTime;

use super::state::{Bucket, ObjectVersion, S3State};
use crate::protocol::AwsError;
use crate::Sandbox;

use kms_workshop_names::starting::SAMPLE_FILES;
pub use kms_workshop_names::starting::SAMPLE_TEXT;

/// Name of the workshop's (first) sample file.
pub const SAMPLE_FILE: &str = SAMPLE_FILES[0].key;

/// A plain-text object as its owner uploaded it, its bytes kept as `blob`.
fn text_object((blob, data): (&str, &[u8]), at: OffsetDateTime) -> ObjectVersion {
    ObjectVersion {
        content_type: Some("text/plain".into()),
        sse: Some("AES256".into()),
        kms_key_id: None,
        ..ObjectVersion::of(blob.to_string(), data, at)
    }
}

/// The name of the lookalike bucket in `account`.
pub(crate) fn archive_bucket(account: &str) -> String {
    format!("kmsworkshop-archive-{account}")
}

/// The lookalike bucket `kmsworkshop-archive-…` with another team's records.
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let created = sb.clock.now() - time::Duration::days(40);
    let archive = archive_bucket(account);
    let text = &b"Archived records: not part of the workshop. Do not delete.\n"[..];
    let blob = sb.keep_blob(text)?;
    sb.write::<S3State, _>(account, region, |st| {
        let mut a = Bucket::new(&archive, created);
        a.objects.insert(
            "records/2025-archive.txt".into(),
            vec![text_object((&blob.name, text), created)],
        );
        st.buckets.insert(archive.clone(), a);
        Ok(())
    })
}
