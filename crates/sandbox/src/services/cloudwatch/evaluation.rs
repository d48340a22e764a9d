//! Alarm evaluation on the sandbox clock: [`tick`] records when KMS material came and went and
//! evaluates the alarms that are due, each against its last `EvaluationPeriods` periods
//! (missing data treated as the alarm says), with the state reasons and reason data AWS writes.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::actions::{fire, transition};
use super::kms_metric::{key_views, segments};
use super::state::{Alarm, AlarmState, CloudWatchState, KmsSegment, Sample};
use super::stats::{samples, statistic, MetricRef};
use super::views::{aws_time, fmt_f, reason_time};
use crate::Sandbox;

/// What one evaluation decides: the new state, its reason and its reason data.
type Decision = (AlarmState, String, Option<String>);

fn comparison_text(op: &str) -> &'static str {
    match op {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        "LessThanOrEqualToThreshold" => "less than or equal to",
        _ => "outside the band of",
    }
}

pub(super) fn breaches(op: &str, v: f64, threshold: f64) -> bool {
    match op {
        "GreaterThanOrEqualToThreshold" => v >= threshold,
        "GreaterThanThreshold" => v > threshold,
        "LessThanThreshold" => v < threshold,
        "LessThanOrEqualToThreshold" => v <= threshold,
        _ => false,
    }
}

/// `1 period`, `3 periods`.
fn plural(k: usize, w: &str) -> String {
    if k == 1 {
        format!("{k} {w}")
    } else {
        format!("{k} {w}s")
    }
}

/// The decision when none of the `n` periods has a datapoint.
fn without_data(treat: &str, n: i64) -> Option<Decision> {
    let missing = if n == 1 {
        "1 missing datapoint was".to_string()
    } else {
        format!("{n} missing datapoints were")
    };
    let periods = plural(n as usize, "period");
    match treat {
        "ignore" => None,
        "breaching" => Some((
            AlarmState::Alarm,
            format!(
                "Threshold Crossed: no datapoints were received for {periods} and {missing} treated as [Breaching]."
            ),
            None,
        )),
        "notBreaching" => Some((
            AlarmState::Ok,
            format!(
                "Threshold Crossed: no datapoints were received for {periods} and {missing} treated as [NonBreaching]."
            ),
            None,
        )),
        _ => Some((
            AlarmState::InsufficientData,
            format!(
                "Insufficient Data: {} unknown.",
                if n == 1 {
                    "1 datapoint was".to_string()
                } else {
                    format!("{n} datapoints were")
                }
            ),
            None,
        )),
    }
}

/// The statistic of each of the last `n` periods before `now`, newest first (the time of its
/// first datapoint, or of the period's start when it has none).
fn period_values(
    all: &[Sample],
    stat: &str,
    now: OffsetDateTime,
    period: i64,
    n: i64,
) -> Vec<(OffsetDateTime, Option<f64>)> {
    let mut values = Vec::new();
    for i in 0..n {
        let hi = now - Duration::seconds(period * i);
        let lo = hi - Duration::seconds(period);
        let in_bucket: Vec<&Sample> = all.iter().filter(|s| s.t >= lo && s.t < hi).collect();
        let t = in_bucket.first().map(|s| s.t).unwrap_or(lo);
        values.push((t, statistic(&in_bucket, stat)));
    }
    values
}

/// What one evaluation decides.
fn evaluate(
    st: &CloudWatchState,
    segs: &[KmsSegment],
    a: &Alarm,
    now: OffsetDateTime,
) -> Option<Decision> {
    let period = a.period.max(1);
    let n = a.evaluation_periods.max(1);
    let m = a.datapoints_to_alarm.unwrap_or(n).clamp(1, n);
    let stat = a.stat_name();
    let from = now - Duration::seconds(period * n);
    let metric = MetricRef {
        namespace: a.namespace.clone(),
        name: a.metric_name.clone(),
        dims: a.dimensions.clone(),
    };
    let all: Vec<Sample> = samples(&st.series, segs, &metric, from, now, now)
        .into_iter()
        .filter(|s| a.unit.is_none() || s.unit == a.unit)
        .collect();
    let present: Vec<(OffsetDateTime, f64)> = period_values(&all, &stat, now, period, n)
        .iter()
        .filter_map(|(t, v)| v.map(|v| (*t, v)))
        .collect();
    let treat = a.treat_missing_data.as_deref().unwrap_or("missing");
    if present.is_empty() {
        return without_data(treat, n);
    }
    let missing = n as usize - present.len();
    let op = a.comparison_operator.as_str();
    let threshold = a.threshold;
    let breaching_present = present
        .iter()
        .filter(|(_, v)| breaches(op, *v, threshold))
        .count();
    let breaching = breaching_present + if treat == "breaching" { missing } else { 0 };
    let new_state = if breaching as i64 >= m {
        AlarmState::Alarm
    } else {
        AlarmState::Ok
    };
    let alarming = new_state == AlarmState::Alarm;
    let shown: Vec<String> = present
        .iter()
        .map(|(t, v)| format!("{} ({})", fmt_f(*v), reason_time(*t)))
        .collect();
    let counted = if alarming {
        breaching
    } else {
        present.len() - breaching_present
    };
    let verb = if alarming { "" } else { "not " };
    let reason = format!(
        "Threshold Crossed: {} out of the last {} [{}] {} {verb}{} the threshold ({}) (minimum {} for {} -> {} transition).",
        counted.max(1),
        plural(n as usize, "datapoint"),
        shown.join(", "),
        if counted <= 1 { "was" } else { "were" },
        comparison_text(op),
        fmt_f(threshold),
        plural(m as usize, "datapoint"),
        if alarming { "OK" } else { "ALARM" },
        new_state,
    );
    let data = json!({
        "version": "1.0",
        "queryDate": aws_time(now),
        "startDate": aws_time(from),
        "statistic": stat,
        "period": period,
        "recentDatapoints": present.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        "threshold": threshold,
        "evaluatedDatapoints": present.iter().map(|(t, v)| json!({"timestamp": aws_time(*t), "sampleCount": 1.0, "value": v})).collect::<Vec<_>>(),
    });
    Some((new_state, reason, Some(data.to_string())))
}

/// Apply the passing of sandbox time: remember when KMS material came and went, and evaluate
/// alarms that are due (once a minute, at the current time only, however far the clock jumped).
pub fn tick(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        let keys = key_views(sb, &account, &region);
        let (segs_changed, due) = sb.read::<CloudWatchState, _>(&account, &region, |st| {
            let segs = segments(&st.kms_segments, &keys, now);
            let due = st.alarms.values().any(|a| a.due(now));
            (segs != st.kms_segments, due)
        });
        if !segs_changed && !due {
            continue;
        }
        let result = sb.write::<CloudWatchState, _>(&account, &region, |st| {
            st.kms_segments = segments(&st.kms_segments, &keys, now);
            let segs = st.kms_segments.clone();
            let names: Vec<String> = st
                .alarms
                .values()
                .filter(|a| a.due(now))
                .map(|a| a.name.clone())
                .collect();
            let mut transitions = Vec::new();
            for name in names {
                let Some(a) = st.alarms.get(&name).cloned() else {
                    continue;
                };
                let decision = evaluate(st, &segs, &a, now);
                if let Some(al) = st.alarms.get_mut(&name) {
                    al.last_evaluated = now;
                }
                if let Some((state, reason, data)) = decision {
                    if let Some(t) = transition(st, &name, state, reason, data, now) {
                        transitions.push(t);
                    }
                }
            }
            Ok(transitions)
        });
        match result {
            Ok(t) => fire(sb, &account, &region, t),
            Err(e) => tracing::error!(error = %e, "cannot evaluate alarms"),
        }
    }
}
