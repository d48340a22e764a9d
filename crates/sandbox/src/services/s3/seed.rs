//! What S3 contributes to the workshop seed: the learner's uploads in the stack's bucket, and
//! a lookalike bucket that no clean-up may touch.

use crate::services::kms;
use time::OffsetDateTime;

use super::state::{Bucket, ObjectVersion, S3State};
use crate::protocol::AwsError;
use crate::Sandbox;

pub use kms_workshop_names::starting::SAMPLE_TEXT;
use kms_workshop_names::starting::{SampleEncryption, SAMPLE_FILES};

/// Name of the workshop's (first) sample file.
pub const SAMPLE_FILE: &str = SAMPLE_FILES[0].key;

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
    let day = time::Duration::days(1);
    let stack_bucket = format!("kmsworkshop-{account}");
    let archive = format!("kmsworkshop-archive-{account}");
    let mut samples = Vec::new();
    for f in SAMPLE_FILES {
        let blob = sb.keep_blob(f.text.as_bytes())?;
        let (sse, kms) = match f.encryption {
            SampleEncryption::S3 => ("AES256", None),
            SampleEncryption::Kms(alias) => (
                "aws:kms",
                kms::shared::resolve(sb, account, region, alias, None).map(|k| k.arn),
            ),
        };
        samples.push((f.key, blob, f.text.as_bytes(), sse, kms));
    }
    let text = &b"Archived records: not part of the workshop. Do not delete.\n"[..];
    let text = (sb.keep_blob(text)?, text);
    sb.write::<S3State, _>(account, region, |st| {
        // The workshop stack created the bucket (`cloudformation::seed_workshop` runs first);
        // the learner uploaded these in sections I and II.
        let b = st.buckets.get_mut(&stack_bucket).ok_or_else(|| {
            AwsError::internal("the workshop stack's bucket is missing from the seed")
        })?;
        for (key, blob, data, sse, kms) in &samples {
            b.objects.insert(
                key.to_string(),
                vec![text_object(
                    (&blob.name, data),
                    sse,
                    kms.clone(),
                    now - day * 3,
                )],
            );
        }
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
