//! What S3 contributes to the workshop seed: the learner's uploads in the stack's bucket, and
//! a lookalike bucket that no clean-up may touch.

use crate::services::kms;
use time::OffsetDateTime;

use super::state::{Bucket, ObjectVersion, S3State};
use crate::protocol::AwsError;
use crate::Sandbox;

/// Name and text of the workshop's sample file.
pub const SAMPLE_FILE: &str = "SampleFile-KMS.txt";
pub const SAMPLE_TEXT: &str = "This is a sample file for the AWS KMS workshop.\nIt will be encrypted and decrypted with AWS KMS.\n";

/// A plain-text object as the learner uploaded it, its bytes kept as `blob`.
fn text_object(
    (blob, data): (&str, &[u8]),
    sse: &str,
    kms: Option<String>,
    at: OffsetDateTime,
) -> ObjectVersion {
    ObjectVersion {
        content_type: Some("text/plain".into()),
        sse: Some(sse.into()),
        kms_key_id: kms,
        ..ObjectVersion::of(blob.to_string(), data, at)
    }
}

/// The stack's bucket with the learner's uploads from earlier sections, and a lookalike bucket
/// (`kmsworkshop-archive-…`) that no clean-up may touch.
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let first_cmk =
        kms::shared::resolve(sb, account, region, kms_workshop_names::FIRST_ALIAS, None)
            .map(|k| k.arn);
    let day = time::Duration::days(1);
    let stack_bucket = format!("kmsworkshop-{account}");
    let archive = format!("kmsworkshop-archive-{account}");
    let sample = SAMPLE_TEXT.as_bytes();
    let sample = (sb.keep_blob(sample)?, sample);
    let text = &b"Archived records: not part of the workshop. Do not delete.\n"[..];
    let text = (sb.keep_blob(text)?, text);
    sb.write::<S3State, _>(account, region, |st| {
        // The workshop stack created the bucket (`cloudformation::seed_workshop` runs first);
        // the learner uploaded these in sections I and II.
        let b = st.buckets.get_mut(&stack_bucket).ok_or_else(|| {
            AwsError::internal("the workshop stack's bucket is missing from the seed")
        })?;
        let sample = (sample.0.name.as_str(), sample.1);
        b.objects.insert(
            SAMPLE_FILE.into(),
            vec![text_object(sample, "AES256", None, now - day * 3)],
        );
        // The copy uploaded with SSE-KMS under alias/FirstCMK (section II).
        b.objects.insert(
            "SampleFile-KMS-encrypted.txt".into(),
            vec![text_object(
                sample,
                "aws:kms",
                first_cmk.clone(),
                now - day * 3,
            )],
        );
        let mut a = Bucket::new(&archive, now - day * 40);
        a.objects.insert(
            "records/2025-archive.txt".into(),
            vec![text_object(
                (&text.0.name, text.1),
                "AES256",
                None,
                now - day * 40,
            )],
        );
        st.buckets.insert(archive.clone(), a);
        Ok(())
    })
}
