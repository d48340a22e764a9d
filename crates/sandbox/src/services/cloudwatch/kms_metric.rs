//! `AWS/KMS` `SecondsUntilKeyMaterialExpiration`, generated rather than stored: one datapoint a
//! minute while an EXTERNAL key has imported material that expires, computed on demand from the
//! [`KmsSegment`]s (the periods the material was present), so that advancing the clock by
//! weeks creates no records and the metric's history survives DeleteImportedKeyMaterial and
//! expiry.

use time::{Duration, OffsetDateTime};

use super::state::{KmsSegment, Sample};
use crate::Sandbox;

pub(super) const KMS_NAMESPACE: &str = "AWS/KMS";
pub(super) const KMS_METRIC: &str = "SecondsUntilKeyMaterialExpiration";
/// Generated datapoints per query at most (a year of minutes).
const MAX_GENERATED: i64 = 600_000;

/// What CloudWatch needs to know about an EXTERNAL key.
pub(super) use crate::services::kms::shared::ImportedKey as KeyView;

pub(super) fn key_views(sb: &Sandbox, account: &str, region: &str) -> Vec<KeyView> {
    crate::services::kms::shared::imported_keys(sb, account, region)
}

/// The segments as they stand at `now`: recorded ones (open ones closed if the material went
/// away) plus keys whose material is not recorded yet.
pub(super) fn segments(
    recorded: &[KmsSegment],
    keys: &[KeyView],
    now: OffsetDateTime,
) -> Vec<KmsSegment> {
    let mut out = Vec::new();
    for rec in recorded {
        if rec.end.is_some() {
            out.push(rec.clone());
            continue;
        }
        let key = keys.iter().find(|k| k.id == rec.key_id);
        let live = key.is_some_and(|k| k.has_material && k.valid_to == Some(rec.valid_to));
        let end = if live {
            None
        } else {
            // Deleted (or replaced by a re-import) after this segment began; else noticed now.
            let gone = key
                .into_iter()
                .flat_map(|k| [k.deleted_at, k.imported_at])
                .flatten()
                .filter(|d| *d > rec.start)
                .min()
                .unwrap_or(now);
            Some(gone.min(rec.valid_to))
        };
        out.push(KmsSegment { end, ..rec.clone() });
    }
    for k in keys {
        let Some(v) = k.valid_to else { continue };
        if !k.has_material {
            continue;
        }
        if recorded
            .iter()
            .any(|r| r.end.is_none() && r.key_id == k.id && r.valid_to == v)
        {
            continue;
        }
        out.push(KmsSegment {
            key_id: k.id.clone(),
            start: k.imported_at.unwrap_or(k.created),
            end: None,
            valid_to: v,
        });
    }
    out
}

/// A segment's effective end at `now`.
pub(super) fn seg_end(s: &KmsSegment, now: OffsetDateTime) -> OffsetDateTime {
    s.end.unwrap_or(now).min(s.valid_to).min(now)
}

pub(super) fn ceil_minute(t: OffsetDateTime) -> OffsetDateTime {
    let secs = t.unix_timestamp();
    let floor = secs - secs.rem_euclid(60);
    let floor_t = OffsetDateTime::from_unix_timestamp(floor).unwrap_or(t);
    if floor_t == t {
        t
    } else {
        floor_t.checked_add(Duration::minutes(1)).unwrap_or(t)
    }
}

/// The generated `SecondsUntilKeyMaterialExpiration` datapoints of `key_id` in `[from, to)`.
pub(super) fn kms_samples(
    segs: &[KmsSegment],
    key_id: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    now: OffsetDateTime,
) -> Vec<Sample> {
    let mut out = Vec::new();
    for s in segs.iter().filter(|s| s.key_id == key_id) {
        let end = seg_end(s, now);
        let first = ceil_minute(s.start.max(from));
        let mut t = first;
        let mut n = 0;
        while (t < end || (s.end.is_none() && t == end)) && t < to && n < MAX_GENERATED {
            let v = ((s.valid_to - t).whole_seconds().max(0)) as f64;
            out.push(Sample {
                t,
                count: 1.0,
                sum: v,
                min: v,
                max: v,
                unit: Some("Seconds".into()),
            });
            match t.checked_add(Duration::minutes(1)) {
                Some(next) => t = next,
                None => break,
            }
            n += 1;
        }
    }
    out.sort_by_key(|s| s.t);
    out
}
