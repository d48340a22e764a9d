//! Unit tests of CloudWatch's generated KMS metric, statistics, formats and alarm states.

use serde_json::json;
use time::OffsetDateTime;

use super::actions::sns_scope;
use super::evaluation::breaches;
use super::kms_metric::{ceil_minute, kms_samples, segments, KeyView};
use super::state::{AlarmState, Sample};
use super::stats::{buckets, percentile_of, statistic};
use super::views::{aws_time, fmt_f, region_name};

fn t(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[test]
fn kms_datapoints_are_generated_per_minute_and_stop_with_the_material() {
    let key = KeyView {
        id: "k".into(),
        created: t(0),
        has_material: true,
        valid_to: Some(t(86_400)),
        imported_at: Some(t(30)),
        deleted_at: None,
    };
    let segs = segments(&[], std::slice::from_ref(&key), t(600));
    assert_eq!(segs.len(), 1);
    let pts = kms_samples(&segs, "k", t(0), t(10_000), t(600));
    assert_eq!(pts.len(), 10);
    assert_eq!(pts[0].t, ceil_minute(t(30)));
    assert_eq!(
        pts.last().map(|p| p.min),
        Some(((t(86_400) - pts[9].t).whole_seconds()) as f64)
    );
    // The material is deleted at t(900): the recorded segment is closed there.
    let gone = KeyView {
        has_material: false,
        valid_to: None,
        deleted_at: Some(t(900)),
        ..key
    };
    let closed = segments(&segs, &[gone], t(5_000));
    assert_eq!(closed[0].end, Some(t(900)));
    assert!(kms_samples(&closed, "k", t(901), t(5_000), t(5_000)).is_empty());
    assert_eq!(
        kms_samples(&closed, "k", t(0), t(5_000), t(5_000)).len(),
        14
    );
}

#[test]
fn a_reimport_closes_the_previous_segment_where_the_new_one_starts() {
    let key = KeyView {
        id: "k".into(),
        created: t(0),
        has_material: true,
        valid_to: Some(t(86_400)),
        imported_at: Some(t(0)),
        deleted_at: None,
    };
    let first = segments(&[], std::slice::from_ref(&key), t(600));
    let again = KeyView {
        valid_to: Some(t(172_800)),
        imported_at: Some(t(1_200)),
        ..key
    };
    let both = segments(&first, &[again], t(3_000));
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].end, Some(t(1_200)));
    assert_eq!(both[1].end, None);
    let pts = kms_samples(&both, "k", t(0), t(3_000), t(3_000));
    let mut times: Vec<_> = pts.iter().map(|p| p.t).collect();
    times.dedup();
    // One datapoint a minute, the new segment's from the re-import on.
    assert_eq!(pts.len(), times.len());
    assert_eq!(
        pts.iter().find(|p| p.t == t(1_200)).map(|p| p.min),
        Some(172_800.0 - 1_200.0)
    );
    assert_eq!(
        ceil_minute(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::from_hms(23, 59, 30).unwrap_or(time::Time::MIDNIGHT)
        ))
        .year(),
        9999
    );
}

#[test]
fn statistics_and_buckets() {
    let s = |v: f64, at: i64| Sample {
        t: t(at),
        count: 1.0,
        sum: v,
        min: v,
        max: v,
        unit: None,
    };
    let v = [s(1.0, 0), s(3.0, 10), s(5.0, 70)];
    let b = buckets(&v, t(0), 60);
    assert_eq!(b.len(), 2);
    assert_eq!(statistic(&b[0].1, "Average"), Some(2.0));
    assert_eq!(statistic(&b[0].1, "SampleCount"), Some(2.0));
    assert_eq!(statistic(&b[1].1, "Maximum"), Some(5.0));
    assert_eq!(statistic(&[], "Minimum"), None);
    let all: Vec<&Sample> = v.iter().collect();
    assert_eq!(statistic(&all, "p50"), Some(3.0));
    assert!(percentile_of("p101").is_none());
}

#[test]
fn formats() {
    assert_eq!(region_name("us-east-1"), "US East (N. Virginia)");
    assert_eq!(fmt_f(864000.0), "864000.0");
    assert!(aws_time(t(0)).ends_with("+0000"));
    assert_eq!(
        sns_scope("arn:aws:sns:us-east-1:111122223333:t"),
        Some(("111122223333".into(), "us-east-1".into()))
    );
    assert!(sns_scope("arn:aws:sns:us-east-1").is_none());
    assert!(breaches("LessThanOrEqualToThreshold", 1.0, 1.0));
    assert!(!breaches("GreaterThanThreshold", 1.0, 1.0));
}

#[test]
fn alarm_states_keep_their_aws_names() {
    for s in ["OK", "ALARM", "INSUFFICIENT_DATA"] {
        let state = AlarmState::parse(s).expect("a known state");
        assert_eq!(state.as_str(), s);
        assert_eq!(state.to_string(), s);
        assert_eq!(serde_json::to_value(state).ok(), Some(json!(s)));
        assert_eq!(
            serde_json::from_value::<AlarmState>(json!(s)).ok(),
            Some(state)
        );
    }
    assert!(AlarmState::parse("Ok").is_none());
}
