//! CloudWatch (rpcv2Cbor from the Rust SDK, awsJson1.0 query-compatible from botocore and the
//! AWS CLI, awsQuery from older clients): custom metrics (PutMetricData), metric queries
//! (ListMetrics, GetMetricData, GetMetricStatistics), metric alarms evaluated on the sandbox
//! clock with history and SNS notifications, and tags.
//!
//! `AWS/KMS` `SecondsUntilKeyMaterialExpiration` is not stored: its one-per-minute datapoints
//! are generated on demand from the KMS state (when material was imported, when it expires or
//! was deleted), so advancing the clock by weeks creates no records. The periods a key's
//! material was present are remembered in [`KmsSegment`]s, so the metric's history survives
//! DeleteImportedKeyMaterial and expiry.

use std::collections::BTreeMap;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};
use time::{Duration, OffsetDateTime};

use super::kms::KmsState;
use super::sns::Publication;
use super::{Call, Service, TrailResource};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::util::iso8601;
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct CloudWatch;

/// Dimensions as (name, value) pairs.
type Dims = Vec<(String, String)>;

const KMS_NAMESPACE: &str = "AWS/KMS";
const KMS_METRIC: &str = "SecondsUntilKeyMaterialExpiration";
/// Datapoints kept per custom metric (oldest dropped first).
const MAX_POINTS_PER_SERIES: usize = 20_000;
/// History items kept per account and region.
const MAX_HISTORY: usize = 10_000;
/// Generated datapoints per query at most (a year of minutes).
const MAX_GENERATED: i64 = 600_000;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CloudWatchState {
    /// By alarm name.
    #[serde(default)]
    pub alarms: BTreeMap<String, Alarm>,
    /// Oldest first.
    #[serde(default)]
    pub history: Vec<HistoryItem>,
    /// Custom metrics (PutMetricData).
    #[serde(default)]
    pub series: Vec<Series>,
    /// Periods during which a KMS key had imported material that expires.
    #[serde(default)]
    pub kms_segments: Vec<KmsSegment>,
}

impl RegionalState for CloudWatchState {
    const NAME: &'static str = "cloudwatch";
    fn of(region: &Region) -> &Self {
        &region.cloudwatch
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.cloudwatch
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub description: Option<String>,
    pub actions_enabled: bool,
    #[serde(default)]
    pub ok_actions: Vec<String>,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
    pub metric_name: String,
    pub namespace: String,
    #[serde(default)]
    pub statistic: Option<String>,
    #[serde(default)]
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<(String, String)>,
    pub period: i64,
    #[serde(default)]
    pub unit: Option<String>,
    pub evaluation_periods: i64,
    #[serde(default)]
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: f64,
    pub comparison_operator: String,
    #[serde(default)]
    pub treat_missing_data: Option<String>,
    #[serde(default)]
    pub evaluate_low_sample_count_percentile: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub configuration_updated: OffsetDateTime,
    pub state_value: String,
    pub state_reason: String,
    #[serde(default)]
    pub state_reason_data: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub state_updated: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub state_transitioned: OffsetDateTime,
    /// When the alarm was last evaluated (alarms are evaluated once a minute of sandbox time).
    #[serde(with = "time::serde::rfc3339")]
    pub last_evaluated: OffsetDateTime,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryItem {
    pub alarm_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// `StateUpdate`, `ConfigurationUpdate` or `Action`.
    pub item_type: String,
    pub summary: String,
    pub data: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Series {
    pub namespace: String,
    pub metric_name: String,
    /// Sorted by name.
    pub dimensions: Vec<(String, String)>,
    pub points: Vec<Sample>,
}

/// One datapoint (or a statistic set).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    #[serde(with = "time::serde::rfc3339")]
    pub t: OffsetDateTime,
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    #[serde(default)]
    pub unit: Option<String>,
}

/// A period during which an EXTERNAL key had expiring material: the metric has one datapoint
/// per minute from `start` to `end` (open while the material is present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsSegment {
    pub key_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub end: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub valid_to: OffsetDateTime,
}

/// What CloudWatch needs to know about an EXTERNAL key.
#[derive(Debug, Clone)]
struct KeyView {
    id: String,
    created: OffsetDateTime,
    has_material: bool,
    valid_to: Option<OffsetDateTime>,
    imported_at: Option<OffsetDateTime>,
    deleted_at: Option<OffsetDateTime>,
}

fn key_views(sb: &Sandbox, account: &str, region: &str) -> Vec<KeyView> {
    sb.read::<KmsState, _>(account, region, |st| {
        st.keys
            .values()
            .filter(|k| k.origin == "EXTERNAL")
            .map(|k| KeyView {
                id: k.id.clone(),
                created: k.created,
                has_material: !k.materials.is_empty(),
                valid_to: k.valid_to,
                imported_at: k.material_imported_at,
                deleted_at: k.material_deleted_at,
            })
            .collect()
    })
}

/// The segments as they stand at `now`: recorded ones (open ones closed if the material went
/// away) plus keys whose material is not recorded yet.
fn segments(recorded: &[KmsSegment], keys: &[KeyView], now: OffsetDateTime) -> Vec<KmsSegment> {
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
fn seg_end(s: &KmsSegment, now: OffsetDateTime) -> OffsetDateTime {
    s.end.unwrap_or(now).min(s.valid_to).min(now)
}

fn ceil_minute(t: OffsetDateTime) -> OffsetDateTime {
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
fn kms_samples(
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

fn norm_dims(mut d: Vec<(String, String)>) -> Vec<(String, String)> {
    d.sort();
    d.dedup();
    d
}

/// The datapoints of one metric in `[from, to)`, oldest first.
fn samples(
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

const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

fn percentile_of(stat: &str) -> Option<f64> {
    let p = stat.strip_prefix('p')?.parse::<f64>().ok()?;
    (p.is_finite() && (0.0..=100.0).contains(&p)).then_some(p)
}

/// One statistic over samples (`None` when there are none).
fn statistic(samples: &[&Sample], stat: &str) -> Option<f64> {
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
fn buckets(
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

fn floor_to(t: OffsetDateTime, period: i64) -> OffsetDateTime {
    let step = if period >= 60 { 60 } else { period.max(1) };
    let secs = t.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(secs - secs.rem_euclid(step)).unwrap_or(t)
}

// ---------------------------------------------------------------------------------------------
// Errors, as CloudWatch (awsQuery-compatible) spells them.

fn invalid_value(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidParameterValue", msg)
}

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

fn missing_param(name: &str) -> AwsError {
    AwsError::new(
        400,
        "MissingParameter",
        format!("The parameter {name} is required."),
    )
}

fn combination(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidParameterCombination", msg)
}

fn not_found(msg: impl Into<String>) -> AwsError {
    AwsError::new(404, "ResourceNotFound", msg)
}

fn enum_error(member: &str, value: &str, set: &[&str]) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        set.join(", ")
    ))
}

/// Input errors from the protocol layer use the query code `ValidationError`.
fn q<T>(r: Result<T, AwsError>) -> Result<T, AwsError> {
    r.map_err(|e| {
        if e.code == "ValidationException" {
            e.with_code("ValidationError")
        } else {
            e
        }
    })
}

const COMPARISONS: [&str; 7] = [
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];
const TREAT_MISSING: [&str; 4] = ["breaching", "notBreaching", "ignore", "missing"];
const STATES: [&str; 3] = ["OK", "ALARM", "INSUFFICIENT_DATA"];
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn check_unit(member: &str, unit: &Option<String>) -> Result<(), AwsError> {
    match unit {
        Some(u) if !UNITS.contains(&u.as_str()) => Err(enum_error(member, u, &UNITS)),
        _ => Ok(()),
    }
}

fn dims_of(input: &Input, member: &str) -> Result<Vec<(String, String)>, AwsError> {
    let items = q(input.list(member))?;
    if items.len() > 30 {
        return Err(validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length less than or equal to 30",
            member.to_ascii_lowercase()
        )));
    }
    let mut out = Vec::new();
    for d in items {
        let name =
            q(d.str("Name"))?.ok_or_else(|| missing_param(&format!("{member}.member.Name")))?;
        let value =
            q(d.str("Value"))?.ok_or_else(|| missing_param(&format!("{member}.member.Value")))?;
        if name.is_empty() || name.len() > 255 || value.is_empty() || value.len() > 1024 {
            return Err(invalid_value(format!("The dimension {name} is not valid.")));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn dims_value(d: &[(String, String)]) -> Value {
    Value::List(
        d.iter()
            .map(|(n, v)| {
                Value::obj()
                    .with("Name", n.clone())
                    .with("Value", v.clone())
            })
            .collect(),
    )
}

fn region_name(region: &str) -> String {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "ca-central-1" => "Canada (Central)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => return other.to_string(),
    }
    .to_string()
}

/// `2026-11-28T18:00:00.123+0000`, as alarm notifications and history data write times.
fn aws_time(t: OffsetDateTime) -> String {
    let s = iso8601(t);
    match s.strip_suffix('Z') {
        Some(b) => format!("{b}+0000"),
        None => s,
    }
}

/// `28/11/26 18:00:00`, as state reasons write datapoint times.
fn reason_time(t: OffsetDateTime) -> String {
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.day(),
        u8::from(t.month()),
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn fmt_f(v: f64) -> String {
    format!("{v:?}")
}

fn comparison_text(op: &str) -> &'static str {
    match op {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        "LessThanOrEqualToThreshold" => "less than or equal to",
        _ => "outside the band of",
    }
}

fn breaches(op: &str, v: f64, threshold: f64) -> bool {
    match op {
        "GreaterThanOrEqualToThreshold" => v >= threshold,
        "GreaterThanThreshold" => v > threshold,
        "LessThanThreshold" => v < threshold,
        "LessThanOrEqualToThreshold" => v <= threshold,
        _ => false,
    }
}

impl Alarm {
    fn stat_name(&self) -> String {
        self.statistic
            .clone()
            .or_else(|| self.extended_statistic.clone())
            .unwrap_or_else(|| "Average".into())
    }

    fn value(&self) -> Value {
        Value::obj()
            .with("AlarmName", self.name.clone())
            .with("AlarmArn", self.arn.clone())
            .with("AlarmDescription", self.description.clone())
            .with(
                "AlarmConfigurationUpdatedTimestamp",
                self.configuration_updated,
            )
            .with("ActionsEnabled", self.actions_enabled)
            .with("OKActions", str_list(&self.ok_actions))
            .with("AlarmActions", str_list(&self.alarm_actions))
            .with(
                "InsufficientDataActions",
                str_list(&self.insufficient_data_actions),
            )
            .with("StateValue", self.state_value.clone())
            .with("StateReason", self.state_reason.clone())
            .with("StateReasonData", self.state_reason_data.clone())
            .with("StateUpdatedTimestamp", self.state_updated)
            .with("MetricName", self.metric_name.clone())
            .with("Namespace", self.namespace.clone())
            .with("Statistic", self.statistic.clone())
            .with("ExtendedStatistic", self.extended_statistic.clone())
            .with("Dimensions", dims_value(&self.dimensions))
            .with("Period", self.period)
            .with("Unit", self.unit.clone())
            .with("EvaluationPeriods", self.evaluation_periods)
            .with("DatapointsToAlarm", self.datapoints_to_alarm)
            .with("Threshold", self.threshold)
            .with("ComparisonOperator", self.comparison_operator.clone())
            .with("TreatMissingData", self.treat_missing_data.clone())
            .with(
                "EvaluateLowSampleCountPercentile",
                self.evaluate_low_sample_count_percentile.clone(),
            )
            .with("StateTransitionedTimestamp", self.state_transitioned)
    }

    /// The alarm's configuration as history data writes it.
    fn config_json(&self) -> J {
        json!({
            "alarmName": self.name,
            "alarmDescription": self.description,
            "actionsEnabled": self.actions_enabled,
            "okactions": self.ok_actions,
            "alarmActions": self.alarm_actions,
            "insufficientDataActions": self.insufficient_data_actions,
            "metricName": self.metric_name,
            "namespace": self.namespace,
            "statistic": self.statistic.as_deref().map(str::to_ascii_uppercase),
            "extendedStatistic": self.extended_statistic,
            "dimensions": self.dimensions.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "period": self.period,
            "unit": self.unit,
            "evaluationPeriods": self.evaluation_periods,
            "datapointsToAlarm": self.datapoints_to_alarm.unwrap_or(self.evaluation_periods),
            "threshold": self.threshold,
            "comparisonOperator": self.comparison_operator,
            "treatMissingData": self.treat_missing_data.clone().unwrap_or_else(|| "missing".into()),
            "metrics": [],
        })
    }

    fn actions_for(&self, state: &str) -> &[String] {
        match state {
            "ALARM" => &self.alarm_actions,
            "OK" => &self.ok_actions,
            _ => &self.insufficient_data_actions,
        }
    }
}

fn str_list(v: &[String]) -> Value {
    Value::List(v.iter().map(|s| Value::Str(s.clone())).collect())
}

fn push_history(st: &mut CloudWatchState, item: HistoryItem) {
    st.history.push(item);
    if st.history.len() > MAX_HISTORY {
        let drop = st.history.len() - MAX_HISTORY;
        st.history.drain(..drop);
    }
}

/// A state change to carry out: history is written under the lock, actions outside it.
struct Transition {
    alarm: Alarm,
    old_state: String,
}

/// Change an alarm's state (recording history); returns the transition when the state changed.
fn transition(
    st: &mut CloudWatchState,
    name: &str,
    new_state: &str,
    reason: String,
    reason_data: Option<String>,
    now: OffsetDateTime,
) -> Option<Transition> {
    let a = st.alarms.get_mut(name)?;
    if a.state_value == new_state {
        return None;
    }
    let old_state = a.state_value.clone();
    let old_reason = a.state_reason.clone();
    a.state_value = new_state.to_string();
    a.state_reason = reason.clone();
    a.state_reason_data = reason_data.clone();
    a.state_updated = now;
    a.state_transitioned = now;
    let alarm = a.clone();
    let mut new_state_json = json!({"stateValue": new_state, "stateReason": reason});
    if let Some(d) = reason_data
        .as_deref()
        .and_then(|d| serde_json::from_str::<J>(d).ok())
    {
        new_state_json["stateReasonData"] = d;
    }
    let data = json!({
        "version": "1.0",
        "oldState": {"stateValue": old_state, "stateReason": old_reason},
        "newState": new_state_json,
    });
    push_history(
        st,
        HistoryItem {
            alarm_name: name.to_string(),
            timestamp: now,
            item_type: "StateUpdate".into(),
            summary: format!("Alarm updated from {old_state} to {new_state}"),
            data: data.to_string(),
        },
    );
    Some(Transition { alarm, old_state })
}

/// The AWS alarm notification (the SNS message body).
fn notification(alarm: &Alarm, old_state: &str, account: &str, region: &str) -> J {
    let (stat_type, stat) = match (&alarm.statistic, &alarm.extended_statistic) {
        (Some(s), _) => {
            let up = match s.as_str() {
                "SampleCount" => "SAMPLE_COUNT".to_string(),
                other => other.to_ascii_uppercase(),
            };
            ("Statistic", json!(up))
        }
        (None, Some(e)) => ("ExtendedStatistic", json!(e)),
        (None, None) => ("Statistic", J::Null),
    };
    let mut trigger = serde_json::Map::new();
    trigger.insert("MetricName".into(), json!(alarm.metric_name));
    trigger.insert("Namespace".into(), json!(alarm.namespace));
    trigger.insert("StatisticType".into(), json!(stat_type));
    trigger.insert(
        if stat_type == "Statistic" {
            "Statistic".into()
        } else {
            "ExtendedStatistic".into()
        },
        stat,
    );
    trigger.insert("Unit".into(), json!(alarm.unit));
    trigger.insert(
        "Dimensions".into(),
        J::Array(
            alarm
                .dimensions
                .iter()
                .map(|(n, v)| json!({"value": v, "name": n}))
                .collect(),
        ),
    );
    trigger.insert("Period".into(), json!(alarm.period));
    trigger.insert("EvaluationPeriods".into(), json!(alarm.evaluation_periods));
    trigger.insert(
        "DatapointsToAlarm".into(),
        json!(alarm
            .datapoints_to_alarm
            .unwrap_or(alarm.evaluation_periods)),
    );
    trigger.insert(
        "ComparisonOperator".into(),
        json!(alarm.comparison_operator),
    );
    trigger.insert("Threshold".into(), json!(alarm.threshold));
    trigger.insert(
        "TreatMissingData".into(),
        json!(alarm
            .treat_missing_data
            .clone()
            .unwrap_or_else(|| "missing".into())),
    );
    trigger.insert(
        "EvaluateLowSampleCountPercentile".into(),
        json!(alarm
            .evaluate_low_sample_count_percentile
            .clone()
            .unwrap_or_default()),
    );
    json!({
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": aws_time(alarm.configuration_updated),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_time(alarm.state_updated),
        "Region": region_name(region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state,
        "OKActions": alarm.ok_actions,
        "AlarmActions": alarm.alarm_actions,
        "InsufficientDataActions": alarm.insufficient_data_actions,
        "Trigger": J::Object(trigger),
    })
}

/// The account and region of an SNS topic ARN.
fn sns_scope(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, name] if !name.is_empty() => {
            Some((account.to_string(), region.to_string()))
        }
        _ => None,
    }
}

/// Run the actions of transitions (outside the state lock), then record their outcome.
fn fire(sb: &Sandbox, account: &str, region: &str, transitions: Vec<Transition>) {
    let now = sb.clock.now();
    let mut items = Vec::new();
    for t in transitions {
        let a = &t.alarm;
        if !a.actions_enabled {
            continue;
        }
        let message = notification(a, &t.old_state, account, region).to_string();
        let subject = format!(
            "{}: \"{}\" in {}",
            a.state_value,
            a.name,
            region_name(region)
        );
        for action in a.actions_for(&a.state_value) {
            let outcome = match sns_scope(action) {
                Some((acc, reg)) => {
                    let mut messages = BTreeMap::new();
                    messages.insert("default".to_string(), message.clone());
                    sb.publish_to_topic(
                        &acc,
                        &reg,
                        action,
                        &Publication {
                            subject: Some(subject.clone()),
                            messages,
                            attributes: Vec::new(),
                        },
                    )
                    .map_err(|e| {
                        if e.code == "NotFound" {
                            "Resource not found".to_string()
                        } else {
                            e.message
                        }
                    })
                }
                None => Err(format!(
                    "The sandbox cannot execute action {action} (only SNS topics are supported)"
                )),
            };
            let (summary, data) = match outcome {
                Ok(message_id) => (
                    format!("Successfully executed action {action}"),
                    json!({
                        "actionState": "Succeeded",
                        "stateUpdateTimestamp": a.state_updated.unix_timestamp_nanos() / 1_000_000,
                        "notificationResource": action,
                        "publishedMessage": format!("{{\"default\":{}}}", J::String(message.clone())),
                        "messageId": message_id,
                    }),
                ),
                Err(err) => (
                    format!("Failed to execute action {action}. Received error: \"{err}\""),
                    json!({
                        "actionState": "Failed",
                        "stateUpdateTimestamp": a.state_updated.unix_timestamp_nanos() / 1_000_000,
                        "notificationResource": action,
                        "error": err,
                    }),
                ),
            };
            items.push(HistoryItem {
                alarm_name: a.name.clone(),
                timestamp: now,
                item_type: "Action".into(),
                summary,
                data: data.to_string(),
            });
        }
    }
    if items.is_empty() {
        return;
    }
    let r = sb.write::<CloudWatchState, _>(account, region, |st| {
        for i in items {
            push_history(st, i);
        }
        Ok(())
    });
    if let Err(e) = r {
        tracing::error!(error = %e, "cannot record alarm actions");
    }
}

/// What one evaluation decides.
fn evaluate(
    st: &CloudWatchState,
    segs: &[KmsSegment],
    a: &Alarm,
    now: OffsetDateTime,
) -> Option<(String, String, Option<String>)> {
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
    let all = samples(&st.series, segs, &metric, from, now, now);
    let all: Vec<Sample> = all
        .into_iter()
        .filter(|s| a.unit.is_none() || s.unit == a.unit)
        .collect();
    // Newest period first.
    let mut values: Vec<(OffsetDateTime, Option<f64>)> = Vec::new();
    for i in 0..n {
        let hi = now - Duration::seconds(period * i);
        let lo = hi - Duration::seconds(period);
        let in_bucket: Vec<&Sample> = all.iter().filter(|s| s.t >= lo && s.t < hi).collect();
        let t = in_bucket.first().map(|s| s.t).unwrap_or(lo);
        values.push((t, statistic(&in_bucket, &stat)));
    }
    let present: Vec<(OffsetDateTime, f64)> = values
        .iter()
        .filter_map(|(t, v)| v.map(|v| (*t, v)))
        .collect();
    let missing = n as usize - present.len();
    let treat = a.treat_missing_data.as_deref().unwrap_or("missing");
    let op = a.comparison_operator.as_str();
    let threshold = a.threshold;
    let breaching_present = present
        .iter()
        .filter(|(_, v)| breaches(op, *v, threshold))
        .count();
    let plural = |k: usize, w: &str| {
        if k == 1 {
            format!("{k} {w}")
        } else {
            format!("{k} {w}s")
        }
    };
    if present.is_empty() {
        return match treat {
            "ignore" => None,
            "breaching" => Some((
                "ALARM".into(),
                format!(
                    "Threshold Crossed: no datapoints were received for {} and {} treated as [Breaching].",
                    plural(n as usize, "period"),
                    if n == 1 { "1 missing datapoint was".to_string() } else { format!("{n} missing datapoints were") }
                ),
                None,
            )),
            "notBreaching" => Some((
                "OK".into(),
                format!(
                    "Threshold Crossed: no datapoints were received for {} and {} treated as [NonBreaching].",
                    plural(n as usize, "period"),
                    if n == 1 { "1 missing datapoint was".to_string() } else { format!("{n} missing datapoints were") }
                ),
                None,
            )),
            _ => Some(("INSUFFICIENT_DATA".into(), format!("Insufficient Data: {} unknown.", if n == 1 { "1 datapoint was".to_string() } else { format!("{n} datapoints were") }), None)),
        };
    }
    let breaching = breaching_present + if treat == "breaching" { missing } else { 0 };
    let new_state = if breaching as i64 >= m { "ALARM" } else { "OK" };
    let shown: Vec<String> = present
        .iter()
        .map(|(t, v)| format!("{} ({})", fmt_f(*v), reason_time(*t)))
        .collect();
    let counted = if new_state == "ALARM" {
        breaching
    } else {
        present.len() - breaching_present
    };
    let verb = if new_state == "ALARM" { "" } else { "not " };
    let reason = format!(
        "Threshold Crossed: {} out of the last {} [{}] {} {verb}{} the threshold ({}) (minimum {} for {} -> {} transition).",
        counted.max(1),
        plural(n as usize, "datapoint"),
        shown.join(", "),
        if counted <= 1 { "was" } else { "were" },
        comparison_text(op),
        fmt_f(threshold),
        plural(m as usize, "datapoint"),
        if new_state == "ALARM" { "OK" } else { "ALARM" },
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
    Some((new_state.into(), reason, Some(data.to_string())))
}

/// Apply the passing of sandbox time: remember when KMS material came and went, and evaluate
/// alarms that are due (once a minute, at the current time only, however far the clock jumped).
pub fn tick(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        let keys = key_views(sb, &account, &region);
        let (segs_changed, due) = sb.read::<CloudWatchState, _>(&account, &region, |st| {
            let segs = segments(&st.kms_segments, &keys, now);
            let due = st
                .alarms
                .values()
                .any(|a| now - a.last_evaluated >= Duration::seconds(a.period.clamp(1, 60)));
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
                .filter(|a| now - a.last_evaluated >= Duration::seconds(a.period.clamp(1, 60)))
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
                    if let Some(t) = transition(st, &name, &state, reason, data, now) {
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

fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

fn check_actions(member: &str, actions: &[String]) -> Result<(), AwsError> {
    if actions.len() > 5 {
        return Err(validation(format!(
            "1 validation error detected: Value '[{}]' at '{}' failed to satisfy constraint: Member must have length less than or equal to 5",
            actions.join(", "),
            lower_first(member)
        )));
    }
    for a in actions {
        let ok = a.starts_with("arn:") && a.split(':').count() >= 6 && a.len() <= 1024;
        if !ok {
            return Err(validation(format!("Invalid arn syntax: {a}")));
        }
    }
    Ok(())
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn check_period(period: i64) -> Result<(), AwsError> {
    if period < 1 {
        return Err(validation(format!(
            "1 validation error detected: Value '{period}' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    if !(period == 10 || period == 30 || period % 60 == 0) {
        return Err(invalid_value(
            "The parameter Period must be 10, 30 or a multiple of 60.",
        ));
    }
    Ok(())
}

fn put_metric_alarm(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let account = cx.account().to_string();
    let region = cx.region.clone();
    let now = cx.now;
    let name = q(input.req_str("AlarmName"))?;
    if name.is_empty() || name.chars().count() > 255 {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'alarmName' failed to satisfy constraint: Member must have length between 1 and 255"
        )));
    }
    let description = q(input.str("AlarmDescription"))?;
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1024)
    {
        return Err(validation("1 validation error detected: Value at 'alarmDescription' failed to satisfy constraint: Member must have length less than or equal to 1024"));
    }
    if input.has("Metrics") {
        return Err(invalid_value("Metric math alarms (Metrics) are not supported by the sandbox; give MetricName and Namespace."));
    }
    let metric_name = q(input.str("MetricName"))?.ok_or_else(|| missing_param("MetricName"))?;
    let namespace = q(input.str("Namespace"))?.ok_or_else(|| missing_param("Namespace"))?;
    if metric_name.is_empty()
        || metric_name.len() > 255
        || namespace.is_empty()
        || namespace.len() > 255
    {
        return Err(invalid_value(
            "MetricName and Namespace must be 1 to 255 characters long.",
        ));
    }
    let statistic = q(input.str("Statistic"))?;
    let extended = q(input.str("ExtendedStatistic"))?;
    match (&statistic, &extended) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(combination("Exactly one element of the Statistic and ExtendedStatistic parameters must be specified."))
        }
        (Some(s), None) if !STATISTICS.contains(&s.as_str()) => return Err(enum_error("statistic", s, &STATISTICS)),
        (None, Some(e)) if percentile_of(e).is_none() => {
            return Err(invalid_value(format!("The value {e} for parameter ExtendedStatistic is not supported.")))
        }
        _ => {}
    }
    let period = q(input.int("Period"))?.ok_or_else(|| missing_param("Period"))?;
    check_period(period)?;
    let evaluation_periods =
        q(input.int("EvaluationPeriods"))?.ok_or_else(|| missing_param("EvaluationPeriods"))?;
    if evaluation_periods < 1 {
        return Err(validation(format!(
            "1 validation error detected: Value '{evaluation_periods}' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    if period.saturating_mul(evaluation_periods) > 7 * 86_400 {
        return Err(validation("The evaluation period (Period multiplied by EvaluationPeriods) cannot exceed 7 days (604800 seconds)."));
    }
    let datapoints_to_alarm = q(input.int("DatapointsToAlarm"))?;
    if let Some(d) = datapoints_to_alarm {
        if d < 1 {
            return Err(validation(format!(
                "1 validation error detected: Value '{d}' at 'datapointsToAlarm' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
        if d > evaluation_periods {
            return Err(validation(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
            ));
        }
    }
    let comparison =
        q(input.str("ComparisonOperator"))?.ok_or_else(|| missing_param("ComparisonOperator"))?;
    if !COMPARISONS.contains(&comparison.as_str()) {
        return Err(enum_error("comparisonOperator", &comparison, &COMPARISONS));
    }
    if COMPARISONS[4..].contains(&comparison.as_str()) {
        return Err(invalid_value(format!(
            "ComparisonOperator {comparison} is only valid for anomaly detection alarms, which the sandbox does not support."
        )));
    }
    let threshold = q(input.float("Threshold"))?.ok_or_else(|| missing_param("Threshold"))?;
    if !threshold.is_finite() {
        return Err(invalid_value(
            "The parameter Threshold must be a finite number.",
        ));
    }
    let treat = q(input.str("TreatMissingData"))?;
    if let Some(t) = &treat {
        if !TREAT_MISSING.contains(&t.as_str()) {
            return Err(validation(format!(
                "Option {t} is not supported for parameter TreatMissingData. Supported options are: [breaching, notBreaching, ignore, missing]"
            )));
        }
    }
    let low_sample = q(input.str("EvaluateLowSampleCountPercentile"))?;
    if let Some(l) = &low_sample {
        if !l.is_empty() && l != "evaluate" && l != "ignore" {
            return Err(validation(format!("Option {l} is not supported for parameter EvaluateLowSampleCountPercentile. Supported options are: [evaluate, ignore]")));
        }
    }
    let unit = q(input.str("Unit"))?;
    check_unit("unit", &unit)?;
    let dimensions = dims_of(input, "Dimensions")?;
    let ok_actions = q(input.str_list("OKActions"))?;
    let alarm_actions = q(input.str_list("AlarmActions"))?;
    let insufficient = q(input.str_list("InsufficientDataActions"))?;
    check_actions("OKActions", &ok_actions)?;
    check_actions("AlarmActions", &alarm_actions)?;
    check_actions("InsufficientDataActions", &insufficient)?;
    let actions_enabled = q(input.bool("ActionsEnabled"))?.unwrap_or(true);
    let tags = parse_tags(input)?;
    let arn = alarm_arn(&region, &account, &name);
    cx.resources.push(TrailResource {
        arn: arn.clone(),
        resource_type: "AWS::CloudWatch::Alarm".into(),
    });
    cx.sandbox.write::<CloudWatchState, _>(&account, &region, |st| {
        let existing = st.alarms.get(&name).cloned();
        if existing.is_none() && st.alarms.len() >= 5000 {
            return Err(AwsError::new(400, "LimitExceeded", "The maximum number of alarms for this account and region (5000) has been reached."));
        }
        let mut alarm = Alarm {
            name: name.clone(),
            arn: arn.clone(),
            description,
            actions_enabled,
            ok_actions,
            alarm_actions,
            insufficient_data_actions: insufficient,
            metric_name,
            namespace,
            statistic,
            extended_statistic: extended,
            dimensions,
            period,
            unit,
            evaluation_periods,
            datapoints_to_alarm,
            threshold,
            comparison_operator: comparison,
            treat_missing_data: treat,
            evaluate_low_sample_count_percentile: low_sample,
            configuration_updated: now,
            state_value: "INSUFFICIENT_DATA".into(),
            state_reason: "Unchecked: Initial alarm creation".into(),
            state_reason_data: None,
            state_updated: now,
            state_transitioned: now,
            last_evaluated: now,
            tags: tags.into_iter().collect(),
        };
        let data = match &existing {
            Some(old) => {
                // Re-putting keeps the state (and the tags: tags given here are ignored).
                alarm.state_value = old.state_value.clone();
                alarm.state_reason = old.state_reason.clone();
                alarm.state_reason_data = old.state_reason_data.clone();
                alarm.state_updated = old.state_updated;
                alarm.state_transitioned = old.state_transitioned;
                alarm.last_evaluated = old.last_evaluated;
                alarm.tags = old.tags.clone();
                json!({"version": "1.0", "type": "Update", "updatedAlarm": alarm.config_json(), "originalAlarm": old.config_json()})
            }
            None => json!({"version": "1.0", "type": "Create", "createdAlarm": alarm.config_json()}),
        };
        push_history(st, HistoryItem {
            alarm_name: name.clone(),
            timestamp: now,
            item_type: "ConfigurationUpdate".into(),
            summary: format!("Alarm \"{name}\" {}", if existing.is_some() { "updated" } else { "created" }),
            data: data.to_string(),
        });
        st.alarms.insert(name.clone(), alarm);
        Ok(Value::Null)
    })
}

fn parse_tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    let tags = q(input.list("Tags"))?;
    let mut out = Vec::new();
    for t in tags {
        let k = q(t.str("Key"))?.ok_or_else(|| missing_param("Tags.member.Key"))?;
        let v = q(t.str("Value"))?.ok_or_else(|| missing_param("Tags.member.Value"))?;
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(invalid_value(format!("The tag {k} is not valid.")));
        }
        if k.starts_with("aws:") {
            return Err(invalid_value("Tag keys beginning with aws: are reserved."));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Opaque paging: the token is the index of the next item.
fn page<T: Clone>(
    items: &[T],
    token: Option<String>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| {
                AwsError::new(
                    400,
                    "InvalidNextToken",
                    "The service couldn't process the NextToken.",
                )
            })?,
    };
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

fn max_records(input: &Input, default: i64, max: i64) -> Result<usize, AwsError> {
    let n = q(input.int("MaxRecords"))?.unwrap_or(default);
    if n < 1 || n > max {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and {max}"
        )));
    }
    Ok(n as usize)
}

/// The metric a query names, with its time window.
struct MetricRef {
    namespace: String,
    name: String,
    dims: Vec<(String, String)>,
}

fn metric_of(input: &Input) -> Result<MetricRef, AwsError> {
    Ok(MetricRef {
        namespace: q(input.str("Namespace"))?.ok_or_else(|| missing_param("Namespace"))?,
        name: q(input.str("MetricName"))?.ok_or_else(|| missing_param("MetricName"))?,
        dims: dims_of(input, "Dimensions")?,
    })
}

fn window(input: &Input) -> Result<(OffsetDateTime, OffsetDateTime), AwsError> {
    let start = q(input.time("StartTime"))?.ok_or_else(|| missing_param("StartTime"))?;
    let end = q(input.time("EndTime"))?.ok_or_else(|| missing_param("EndTime"))?;
    if start >= end {
        return Err(invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok((start, end))
}

/// Everything a metric read needs, copied out of the state.
fn metric_view(
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

fn get_metric_statistics(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let m = metric_of(input)?;
    let (start, end) = window(input)?;
    let period = q(input.int("Period"))?.ok_or_else(|| missing_param("Period"))?;
    check_period(period)?;
    let stats = q(input.str_list("Statistics"))?;
    let ext = q(input.str_list("ExtendedStatistics"))?;
    if stats.is_empty() && ext.is_empty() {
        return Err(combination(
            "Must specify either Statistics or ExtendedStatistics",
        ));
    }
    for s in &stats {
        if !STATISTICS.contains(&s.as_str()) {
            return Err(enum_error("statistics.member", s, &STATISTICS));
        }
    }
    for e in &ext {
        if percentile_of(e).is_none() {
            return Err(invalid_value(format!(
                "The value {e} for parameter ExtendedStatistics is not supported."
            )));
        }
    }
    let unit = q(input.str("Unit"))?;
    check_unit("unit", &unit)?;
    let buckets_n = (end - start).whole_seconds() / period.max(1);
    if buckets_n > 1440 {
        return Err(invalid_value(format!(
            "You have requested up to {buckets_n} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let (segs, series) = metric_view(cx.sandbox, cx.account(), &cx.region, cx.now);
    let all: Vec<Sample> = samples(&series, &segs, &m, start, end, cx.now)
        .into_iter()
        .filter(|s| unit.is_none() || s.unit == unit)
        .collect();
    let origin = floor_to(start, period);
    let mut points = Vec::new();
    for (t, group) in buckets(&all, origin, period) {
        let mut v = Value::obj().with("Timestamp", t);
        for s in &stats {
            v = v.with(s, statistic(&group, s));
        }
        if !ext.is_empty() {
            let map: Vec<(String, Value)> = ext
                .iter()
                .filter_map(|e| statistic(&group, e).map(|x| (e.clone(), Value::Float(x))))
                .collect();
            v = v.with("ExtendedStatistics", Value::Map(map));
        }
        let u = group
            .first()
            .and_then(|s| s.unit.clone())
            .unwrap_or_else(|| "None".into());
        points.push(v.with("Unit", u));
    }
    Ok(Value::obj()
        .with("Label", m.name)
        .with("Datapoints", Value::List(points)))
}

fn get_metric_data(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (start, end) = window(input)?;
    let queries = q(input.list("MetricDataQueries"))?;
    if queries.is_empty() {
        return Err(missing_param("MetricDataQueries"));
    }
    if queries.len() > 500 {
        return Err(validation("1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to 500"));
    }
    let ascending = match q(input.str("ScanBy"))?.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            return Err(enum_error(
                "scanBy",
                other,
                &["TimestampDescending", "TimestampAscending"],
            ))
        }
    };
    let (segs, series) = metric_view(cx.sandbox, cx.account(), &cx.region, cx.now);
    let mut results = Vec::new();
    let mut ids = Vec::new();
    for qi in &queries {
        let id = q(qi.str("Id"))?.ok_or_else(|| missing_param("MetricDataQueries.member.Id"))?;
        let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && id.len() <= 255;
        if !id_ok {
            return Err(validation(format!("The value {id} for parameter MetricDataQueries.member.Id is not valid: it must start with a lowercase letter and contain only letters, numbers and underscores.")));
        }
        if ids.contains(&id) {
            return Err(validation(format!(
                "The values for parameter id in MetricDataQueries are not unique: {id}"
            )));
        }
        ids.push(id.clone());
        if qi.has("Expression") {
            return Err(invalid_value(
                "Metric math expressions are not supported by the sandbox; use MetricStat.",
            ));
        }
        let ms = qi.child("MetricStat").ok_or_else(|| {
            combination(format!(
                "The query {id} must have exactly one of MetricStat and Expression."
            ))
        })?;
        let metric = ms
            .child("Metric")
            .ok_or_else(|| missing_param("MetricStat.Metric"))?;
        let m = metric_of(&metric)?;
        let period = q(ms.int("Period"))?.ok_or_else(|| missing_param("MetricStat.Period"))?;
        check_period(period)?;
        let stat = q(ms.str("Stat"))?.ok_or_else(|| missing_param("MetricStat.Stat"))?;
        if !STATISTICS.contains(&stat.as_str()) && percentile_of(&stat).is_none() {
            return Err(invalid_value(format!(
                "The value {stat} for parameter MetricStat.Stat is not supported."
            )));
        }
        let unit = q(ms.str("Unit"))?;
        check_unit("unit", &unit)?;
        let return_data = q(qi.bool("ReturnData"))?.unwrap_or(true);
        let label = q(qi.str("Label"))?.unwrap_or_else(|| m.name.clone());
        if !return_data {
            continue;
        }
        let all: Vec<Sample> = samples(&series, &segs, &m, start, end, cx.now)
            .into_iter()
            .filter(|s| unit.is_none() || s.unit == unit)
            .collect();
        let mut pts: Vec<(OffsetDateTime, f64)> = buckets(&all, floor_to(start, period), period)
            .into_iter()
            .filter_map(|(t, g)| statistic(&g, &stat).map(|v| (t, v)))
            .collect();
        if !ascending {
            pts.reverse();
        }
        results.push(
            Value::obj()
                .with("Id", id)
                .with("Label", label)
                .with(
                    "Timestamps",
                    Value::List(pts.iter().map(|(t, _)| Value::Time(*t)).collect()),
                )
                .with(
                    "Values",
                    Value::List(pts.iter().map(|(_, v)| Value::Float(*v)).collect()),
                )
                .with("StatusCode", "Complete"),
        );
    }
    Ok(Value::obj()
        .with("MetricDataResults", Value::List(results))
        .with("Messages", Value::List(Vec::new())))
}

fn put_metric_data(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let namespace = q(input.str("Namespace"))?.ok_or_else(|| missing_param("Namespace"))?;
    if namespace.is_empty() || namespace.len() > 255 || namespace.starts_with(':') {
        return Err(invalid_value(format!(
            "The value {namespace} for parameter Namespace is invalid."
        )));
    }
    if namespace.starts_with("AWS/") {
        return Err(invalid_value(format!(
            "The value {namespace} for parameter Namespace is invalid."
        )));
    }
    let data = q(input.list("MetricData"))?;
    if data.is_empty() {
        return Err(missing_param("MetricData"));
    }
    if data.len() > 1000 {
        return Err(validation("1 validation error detected: Value at 'metricData' failed to satisfy constraint: Member must have length less than or equal to 1000"));
    }
    let now = cx.now;
    let mut parsed: Vec<(String, Dims, Vec<Sample>)> = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let idx = i + 1;
        let name = q(d.str("MetricName"))?
            .ok_or_else(|| missing_param(&format!("MetricData.member.{idx}.MetricName")))?;
        if name.is_empty() || name.len() > 255 {
            return Err(invalid_value(format!(
                "The value {name} for parameter MetricData.member.{idx}.MetricName is invalid."
            )));
        }
        let dims = norm_dims(dims_of(d, "Dimensions")?);
        let t = q(d.time("Timestamp"))?.unwrap_or(now);
        if t < now - Duration::days(14) || t > now + Duration::hours(2) {
            return Err(invalid_value(format!(
                "The parameter MetricData.member.{idx}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future."
            )));
        }
        let unit = q(d.str("Unit"))?;
        check_unit(&format!("metricData.{idx}.member.unit"), &unit)?;
        let finite = |v: f64, what: &str| -> Result<f64, AwsError> {
            if v.is_finite() && v.abs() <= 2f64.powi(360) {
                Ok(v)
            } else {
                Err(invalid_value(format!(
                    "The value {v} for parameter MetricData.member.{idx}.{what} is invalid."
                )))
            }
        };
        let mut samples = Vec::new();
        if let Some(v) = q(d.float("Value"))? {
            let v = finite(v, "Value")?;
            samples.push(Sample {
                t,
                count: 1.0,
                sum: v,
                min: v,
                max: v,
                unit: unit.clone(),
            });
        }
        if let Some(sv) = d.child("StatisticValues") {
            let get = |n: &str| -> Result<f64, AwsError> {
                let v = q(sv.float(n))?.ok_or_else(|| {
                    missing_param(&format!("MetricData.member.{idx}.StatisticValues.{n}"))
                })?;
                finite(v, &format!("StatisticValues.{n}"))
            };
            let (count, sum, min, max) = (
                get("SampleCount")?,
                get("Sum")?,
                get("Minimum")?,
                get("Maximum")?,
            );
            if count <= 0.0 || min > max {
                return Err(invalid_value(format!(
                    "The parameter MetricData.member.{idx}.StatisticValues is not valid."
                )));
            }
            samples.push(Sample {
                t,
                count,
                sum,
                min,
                max,
                unit: unit.clone(),
            });
        }
        let values = q(d.list("Values"))?;
        let counts = q(d.list("Counts"))?;
        if !counts.is_empty() && counts.len() != values.len() {
            return Err(invalid_value(format!("The parameters MetricData.member.{idx}.Values and MetricData.member.{idx}.Counts must be of the same size.")));
        }
        for (j, v) in values.iter().enumerate() {
            let v = v
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| {
                    invalid_value(format!(
                        "The values in MetricData.member.{idx}.Values must be numbers."
                    ))
                })?;
            let v = finite(v, "Values")?;
            let c = match counts.get(j) {
                Some(c) => c
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .filter(|c| c.is_finite() && *c > 0.0)
                    .unwrap_or(1.0),
                None => 1.0,
            };
            samples.push(Sample {
                t,
                count: c,
                sum: v * c,
                min: v,
                max: v,
                unit: unit.clone(),
            });
        }
        if samples.is_empty() {
            return Err(combination(format!("The parameters MetricData.member.{idx}.Value and MetricData.member.{idx}.StatisticValues are mutually exclusive and you must specify one of them.")));
        }
        parsed.push((name, dims, samples));
    }
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            for (name, dims, samples) in parsed {
                let pos = st.series.iter().position(|s| {
                    s.namespace == namespace && s.metric_name == name && s.dimensions == dims
                });
                let s = match pos {
                    Some(p) => &mut st.series[p],
                    None => {
                        st.series.push(Series {
                            namespace: namespace.clone(),
                            metric_name: name,
                            dimensions: dims,
                            points: Vec::new(),
                        });
                        let last = st.series.len() - 1;
                        &mut st.series[last]
                    }
                };
                s.points.extend(samples);
                s.points.sort_by_key(|p| p.t);
                let cutoff = now - Duration::days(15);
                s.points.retain(|p| p.t >= cutoff);
                if s.points.len() > MAX_POINTS_PER_SERIES {
                    let drop = s.points.len() - MAX_POINTS_PER_SERIES;
                    s.points.drain(..drop);
                }
            }
            Ok(Value::Null)
        })
}

fn list_metrics(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let namespace = q(input.str("Namespace"))?;
    let name = q(input.str("MetricName"))?;
    let mut filters = Vec::new();
    for f in q(input.list("Dimensions"))? {
        let n = q(f.str("Name"))?.ok_or_else(|| missing_param("Dimensions.member.Name"))?;
        filters.push((n, q(f.str("Value"))?));
    }
    let recently = match q(input.str("RecentlyActive"))?.as_deref() {
        None => false,
        Some("PT3H") => true,
        Some(other) => return Err(enum_error("recentlyActive", other, &["PT3H"])),
    };
    let now = cx.now;
    let since = if recently {
        now - Duration::hours(3)
    } else {
        now - Duration::days(14)
    };
    let (segs, series) = metric_view(cx.sandbox, cx.account(), &cx.region, now);
    let mut metrics: Vec<(String, String, Dims)> = Vec::new();
    let mut kms_keys: Vec<String> = segs
        .iter()
        .filter(|s| seg_end(s, now) >= since)
        .map(|s| s.key_id.clone())
        .collect();
    kms_keys.sort();
    kms_keys.dedup();
    for k in kms_keys {
        metrics.push((
            KMS_NAMESPACE.into(),
            KMS_METRIC.into(),
            vec![("KeyId".into(), k)],
        ));
    }
    for s in &series {
        if s.points.iter().any(|p| p.t >= since) {
            metrics.push((
                s.namespace.clone(),
                s.metric_name.clone(),
                s.dimensions.clone(),
            ));
        }
    }
    let metrics: Vec<Value> = metrics
        .into_iter()
        .filter(|(ns, n, d)| {
            namespace.as_ref().is_none_or(|x| x == ns)
                && name.as_ref().is_none_or(|x| x == n)
                && filters.iter().all(|(fname, fval)| {
                    d.iter()
                        .any(|(dn, dv)| dn == fname && fval.as_ref().is_none_or(|fv| fv == dv))
                })
        })
        .map(|(ns, n, d)| {
            Value::obj()
                .with("Namespace", ns)
                .with("MetricName", n)
                .with("Dimensions", dims_value(&d))
        })
        .collect();
    let (items, next) = page(&metrics, q(input.str("NextToken"))?, 500)?;
    Ok(Value::obj()
        .with("Metrics", Value::List(items))
        .with("NextToken", next))
}

fn check_state(s: &str) -> Result<(), AwsError> {
    if STATES.contains(&s) {
        Ok(())
    } else {
        Err(enum_error("stateValue", s, &STATES))
    }
}

fn alarm_names(input: &Input) -> Result<Vec<String>, AwsError> {
    let names = q(input.str_list("AlarmNames"))?;
    if names.len() > 100 {
        return Err(validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100"));
    }
    Ok(names)
}

fn describe_alarms(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let names = alarm_names(input)?;
    let prefix = q(input.str("AlarmNamePrefix"))?;
    if !names.is_empty() && prefix.is_some() {
        return Err(combination(
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    let state = q(input.str("StateValue"))?;
    if let Some(s) = &state {
        check_state(s)?;
    }
    let action_prefix = q(input.str("ActionPrefix"))?;
    let types = q(input.str_list("AlarmTypes"))?;
    for t in &types {
        if t != "MetricAlarm" && t != "CompositeAlarm" {
            return Err(enum_error(
                "alarmTypes.member",
                t,
                &["CompositeAlarm", "MetricAlarm"],
            ));
        }
    }
    let metric_alarms_wanted = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let max = max_records(input, 50, 100)?;
    let alarms: Vec<Alarm> =
        cx.sandbox
            .read::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
                st.alarms
                    .values()
                    .filter(|_| metric_alarms_wanted)
                    .filter(|a| names.is_empty() || names.contains(&a.name))
                    .filter(|a| {
                        prefix
                            .as_ref()
                            .is_none_or(|p| a.name.starts_with(p.as_str()))
                    })
                    .filter(|a| state.as_ref().is_none_or(|s| &a.state_value == s))
                    .filter(|a| {
                        action_prefix.as_ref().is_none_or(|p| {
                            a.alarm_actions
                                .iter()
                                .chain(&a.ok_actions)
                                .chain(&a.insufficient_data_actions)
                                .any(|x| x.starts_with(p.as_str()))
                        })
                    })
                    .cloned()
                    .collect()
            });
    let (items, next) = page(&alarms, q(input.str("NextToken"))?, max)?;
    Ok(Value::obj()
        .with("CompositeAlarms", Value::List(Vec::new()))
        .with(
            "MetricAlarms",
            Value::List(items.iter().map(Alarm::value).collect()),
        )
        .with("NextToken", next))
}

fn describe_alarms_for_metric(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let m = metric_of(input)?;
    let dims = norm_dims(m.dims.clone());
    let statistic = q(input.str("Statistic"))?;
    if let Some(s) = &statistic {
        if !STATISTICS.contains(&s.as_str()) {
            return Err(enum_error("statistic", s, &STATISTICS));
        }
    }
    let extended = q(input.str("ExtendedStatistic"))?;
    let period = q(input.int("Period"))?;
    let unit = q(input.str("Unit"))?;
    check_unit("unit", &unit)?;
    let alarms: Vec<Value> =
        cx.sandbox
            .read::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
                st.alarms
                    .values()
                    .filter(|a| a.namespace == m.namespace && a.metric_name == m.name)
                    .filter(|a| !input.has("Dimensions") || norm_dims(a.dimensions.clone()) == dims)
                    .filter(|a| statistic.is_none() || a.statistic == statistic)
                    .filter(|a| extended.is_none() || a.extended_statistic == extended)
                    .filter(|a| period.is_none_or(|p| a.period == p))
                    .filter(|a| unit.is_none() || a.unit == unit)
                    .map(Alarm::value)
                    .collect()
            });
    Ok(Value::obj().with("MetricAlarms", Value::List(alarms)))
}

fn describe_alarm_history(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = q(input.str("AlarmName"))?;
    let item_type = q(input.str("HistoryItemType"))?;
    const TYPES: [&str; 5] = [
        "ConfigurationUpdate",
        "StateUpdate",
        "Action",
        "AlarmContributorStateUpdate",
        "AlarmContributorAction",
    ];
    if let Some(t) = &item_type {
        if !TYPES.contains(&t.as_str()) {
            return Err(enum_error("historyItemType", t, &TYPES));
        }
    }
    let start = q(input.time("StartDate"))?;
    let end = q(input.time("EndDate"))?;
    let ascending = match q(input.str("ScanBy"))?.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            return Err(enum_error(
                "scanBy",
                other,
                &["TimestampDescending", "TimestampAscending"],
            ))
        }
    };
    let types = q(input.str_list("AlarmTypes"))?;
    let metric_wanted = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let max = max_records(input, 100, 100)?;
    let mut items: Vec<HistoryItem> =
        cx.sandbox
            .read::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
                st.history
                    .iter()
                    .filter(|_| metric_wanted)
                    .filter(|h| name.as_ref().is_none_or(|n| &h.alarm_name == n))
                    .filter(|h| item_type.as_ref().is_none_or(|t| &h.item_type == t))
                    .filter(|h| start.is_none_or(|s| h.timestamp >= s))
                    .filter(|h| end.is_none_or(|e| h.timestamp <= e))
                    .cloned()
                    .collect()
            });
    if !ascending {
        items.reverse();
    }
    let (items, next) = page(&items, q(input.str("NextToken"))?, max)?;
    let out: Vec<Value> = items
        .iter()
        .map(|h| {
            Value::obj()
                .with("AlarmName", h.alarm_name.clone())
                .with("AlarmType", "MetricAlarm")
                .with("Timestamp", h.timestamp)
                .with("HistoryItemType", h.item_type.clone())
                .with("HistorySummary", h.summary.clone())
                .with("HistoryData", h.data.clone())
        })
        .collect();
    Ok(Value::obj()
        .with("AlarmHistoryItems", Value::List(out))
        .with("NextToken", next))
}

/// The alarm name in an alarm ARN of this account and region.
fn alarm_from_arn(arn: &str, account: &str, region: &str) -> Result<String, AwsError> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "cloudwatch", r, a, "alarm", name] if !name.is_empty() => {
            if *r != region || *a != account {
                return Err(AwsError::new(
                    404,
                    "ResourceNotFoundException",
                    format!("Alarm {name} not found"),
                ));
            }
            Ok(name.to_string())
        }
        _ => Err(invalid_value(format!("Invalid ARN: {arn}"))),
    }
}

impl Service for CloudWatch {
    fn signing_name(&self) -> &'static str {
        "monitoring"
    }
    fn event_source(&self) -> &'static str {
        "monitoring.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        "http://monitoring.amazonaws.com/doc/2010-08-01/"
    }
    fn protocol(&self, headers: &HeaderMap, path: &str) -> Protocol {
        if headers.contains_key("smithy-protocol") || path.starts_with("/service/") {
            Protocol::RpcV2Cbor
        } else if headers.contains_key("x-amz-target") {
            Protocol::AwsJson10 {
                query_compatible: true,
            }
        } else {
            Protocol::AwsQuery
        }
    }

    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let sb = cx.sandbox;
        let account = cx.account().to_string();
        let region = cx.region.clone();
        let now = cx.now;
        match op {
            "ListMetrics" => list_metrics(cx, input),
            "GetMetricData" => get_metric_data(cx, input),
            "GetMetricStatistics" => get_metric_statistics(cx, input),
            "PutMetricData" => put_metric_data(cx, input),
            "PutMetricAlarm" => put_metric_alarm(cx, input),
            "DescribeAlarms" => describe_alarms(cx, input),
            "DescribeAlarmsForMetric" => describe_alarms_for_metric(cx, input),
            "DescribeAlarmHistory" => describe_alarm_history(cx, input),
            "DeleteAlarms" => {
                let names = alarm_names(input)?;
                if !input.has("AlarmNames") {
                    return Err(missing_param("AlarmNames"));
                }
                for n in &names {
                    cx.resources.push(TrailResource {
                        arn: alarm_arn(&region, &account, n),
                        resource_type: "AWS::CloudWatch::Alarm".into(),
                    });
                }
                sb.write::<CloudWatchState, _>(&account, &region, |st| {
                    let missing: Vec<&String> = names
                        .iter()
                        .filter(|n| !st.alarms.contains_key(*n))
                        .collect();
                    if !missing.is_empty() {
                        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        return Err(not_found(format!(
                            "The following alarms were not found: [{}]",
                            list.join(", ")
                        )));
                    }
                    for n in &names {
                        st.alarms.remove(n);
                    }
                    Ok(Value::Null)
                })
            }
            "SetAlarmState" => {
                let name = q(input.req_str("AlarmName"))?;
                let state = q(input.req_str("StateValue"))?;
                check_state(&state)?;
                let reason = q(input.req_str("StateReason"))?;
                if reason.chars().count() > 1023 {
                    return Err(validation("1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023"));
                }
                let data = q(input.str("StateReasonData"))?;
                if let Some(d) = &data {
                    if serde_json::from_str::<J>(d).is_err() {
                        return Err(AwsError::new(
                            400,
                            "InvalidFormat",
                            "StateReasonData is not valid JSON.",
                        ));
                    }
                }
                cx.resources.push(TrailResource {
                    arn: alarm_arn(&region, &account, &name),
                    resource_type: "AWS::CloudWatch::Alarm".into(),
                });
                let t = sb.write::<CloudWatchState, _>(&account, &region, |st| {
                    if !st.alarms.contains_key(&name) {
                        return Err(not_found(format!("Alarm {name} not found")));
                    }
                    let t = transition(st, &name, &state, reason, data, now);
                    if let Some(a) = st.alarms.get_mut(&name) {
                        // Hold the state set by hand until the next regular evaluation.
                        a.last_evaluated = now;
                    }
                    Ok(t)
                })?;
                if let Some(t) = t {
                    fire(sb, &account, &region, vec![t]);
                }
                Ok(Value::Null)
            }
            "EnableAlarmActions" | "DisableAlarmActions" => {
                let names = alarm_names(input)?;
                if !input.has("AlarmNames") {
                    return Err(missing_param("AlarmNames"));
                }
                let enable = op == "EnableAlarmActions";
                sb.write::<CloudWatchState, _>(&account, &region, |st| {
                    for n in &names {
                        if let Some(a) = st.alarms.get_mut(n) {
                            a.actions_enabled = enable;
                        }
                    }
                    Ok(Value::Null)
                })
            }
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                let arn = q(input.req_str("ResourceARN"))?;
                let name = alarm_from_arn(&arn, &account, &region)?;
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::CloudWatch::Alarm".into(),
                });
                let missing = || {
                    AwsError::new(
                        404,
                        "ResourceNotFoundException",
                        format!("Alarm {name} not found"),
                    )
                };
                match op {
                    "ListTagsForResource" => {
                        sb.read::<CloudWatchState, _>(&account, &region, |st| {
                            let a = st.alarms.get(&name).ok_or_else(missing)?;
                            Ok(Value::obj().with(
                                "Tags",
                                Value::List(
                                    a.tags
                                        .iter()
                                        .map(|(k, v)| {
                                            Value::obj()
                                                .with("Key", k.clone())
                                                .with("Value", v.clone())
                                        })
                                        .collect(),
                                ),
                            ))
                        })
                    }
                    "TagResource" => {
                        if !input.has("Tags") {
                            return Err(missing_param("Tags"));
                        }
                        let tags = parse_tags(input)?;
                        sb.write::<CloudWatchState, _>(&account, &region, |st| {
                            let a = st.alarms.get_mut(&name).ok_or_else(missing)?;
                            let mut merged = a.tags.clone();
                            merged.extend(tags);
                            if merged.len() > 50 {
                                return Err(invalid_value("An alarm can have at most 50 tags."));
                            }
                            a.tags = merged;
                            Ok(Value::obj())
                        })
                    }
                    _ => {
                        if !input.has("TagKeys") {
                            return Err(missing_param("TagKeys"));
                        }
                        let keys = q(input.str_list("TagKeys"))?;
                        sb.write::<CloudWatchState, _>(&account, &region, |st| {
                            let a = st.alarms.get_mut(&name).ok_or_else(missing)?;
                            for k in &keys {
                                a.tags.remove(k);
                            }
                            Ok(Value::obj())
                        })
                    }
                }
            }
            _ => Err(cx.unknown(op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
