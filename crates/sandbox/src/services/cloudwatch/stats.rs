//! Reading metrics: the datapoints of one metric in a time window (stored or generated), their
//! statistics (`Average`, `Sum`, … and percentiles) and their grouping into periods. Queries and
//! alarm evaluation share these.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::kms_metric::{key_views, kms_samples, segments, KMS_METRIC, KMS_NAMESPACE};
use super::state::{CloudWatchState, Dims, KmsSegment, Sample, Series};
use crate::Sandbox;

pub(super) const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// The metric a query (or an alarm) names.
pub(super) struct MetricRef {
    pub(super) namespace: String,
    pub(super) name: String,
    pub(super) dims: Dims,
}

/// Dimensions in the order series store them (sorted by name, without repeats).
pub(super) fn norm_dims(mut d: Dims) -> Dims {
    d.sort();
    d.dedup();
    d
}

/// The datapoints of one metric in `[from, to)`, oldest first.
pub(super) fn samples(
    series: &[Series],
    segs: &[KmsSegment],
    m: &MetricRef,
    from: OffsetDateTime,
    to: OffsetDateTime,
    now: OffsetDateTime,
) -> Vec<Sample> {
    if m.namespace == KMS_NAMESPACE && m.name == KMS_METRIC {
        return match m.dims.as_slice() {
            [(k, v)] if k == "KeyId" => kms_samples(segs, v, from, to, now),
            _ => Vec::new(),
        };
    }
    let dims = norm_dims(m.dims.clone());
    series
        .iter()
        .filter(|s| s.namespace == m.namespace && s.metric_name == m.name && s.dimensions == dims)
        .flat_map(|s| s.points.iter().filter(|p| p.t >= from && p.t < to).cloned())
        .collect()
}

/// Everything a metric read needs, copied out of the state.
pub(super) fn metric_view(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> (Vec<KmsSegment>, Vec<Series>) {
    let keys = key_views(sb, account, region);
    sb.read::<CloudWatchState, _>(account, region, |st| {
        (segments(&st.kms_segments, &keys, now), st.series.clone())
    })
}

/// The percentile a `pNN` statistic names.
pub(super) fn percentile_of(stat: &str) -> Option<f64> {
    let p = stat.strip_prefix('p')?.parse::<f64>().ok()?;
    (p.is_finite() && (0.0..=100.0).contains(&p)).then_some(p)
}

/// One statistic over samples (`None` when there are none).
pub(super) fn statistic(samples: &[&Sample], stat: &str) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let count: f64 = samples.iter().map(|s| s.count).sum();
    let sum: f64 = samples.iter().map(|s| s.sum).sum();
    match stat {
        "Minimum" => samples.iter().map(|s| s.min).reduce(f64::min),
        "Maximum" => samples.iter().map(|s| s.max).reduce(f64::max),
        "Sum" => Some(sum),
        "SampleCount" => Some(count),
        "Average" => (count > 0.0).then(|| sum / count),
        other => {
            let p = percentile_of(other)?;
            let mut vals: Vec<f64> = samples
                .iter()
                .map(|s| {
                    if s.count > 0.0 {
                        s.sum / s.count
                    } else {
                        s.sum
                    }
                })
                .collect();
            vals.sort_by(f64::total_cmp);
            let rank = ((p / 100.0) * vals.len() as f64).ceil() as usize;
            vals.get(rank.saturating_sub(1).min(vals.len() - 1))
                .copied()
        }
    }
}

/// Group samples into period buckets aligned on `origin`; returns (bucket start, samples).
pub(super) fn buckets(
    samples: &[Sample],
    origin: OffsetDateTime,
    period: i64,
) -> Vec<(OffsetDateTime, Vec<&Sample>)> {
    let mut m: BTreeMap<i64, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        let off = (s.t - origin).whole_seconds();
        let idx = off.div_euclid(period.max(1));
        m.entry(idx).or_default().push(s);
    }
    m.into_iter()
        .map(|(i, v)| (origin + Duration::seconds(i * period.max(1)), v))
        .collect()
}

/// Where the buckets of a query starting at `t` begin: on the minute for periods of a minute
/// or more, else on the period.
pub(super) fn floor_to(t: OffsetDateTime, period: i64) -> OffsetDateTime {
    let step = if period >= 60 { 60 } else { period.max(1) };
    let secs = t.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(secs - secs.rem_euclid(step)).unwrap_or(t)
}
