//! CloudWatch's persisted state: metric alarms and their history, custom metrics, and the
//! periods KMS keys had expiring material (from which `AWS/KMS` datapoints are generated).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Dimensions as (name, value) pairs.
pub type Dims = Vec<(String, String)>;

/// Datapoints kept per custom metric (oldest dropped first).
const MAX_POINTS_PER_SERIES: usize = 20_000;
/// History items kept per account and region.
const MAX_HISTORY: usize = 10_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudWatchState {
    /// By alarm name.
    pub alarms: BTreeMap<String, Alarm>,
    /// Oldest first.
    pub history: Vec<HistoryItem>,
    /// Custom metrics (PutMetricData).
    pub series: Vec<Series>,
    /// Periods during which a KMS key had imported material that expires.
    pub kms_segments: Vec<KmsSegment>,
}

impl CloudWatchState {
    /// Add a history item, dropping the oldest beyond [`MAX_HISTORY`].
    pub(super) fn push_history(&mut self, item: HistoryItem) {
        self.history.push(item);
        if self.history.len() > MAX_HISTORY {
            let drop = self.history.len() - MAX_HISTORY;
            self.history.drain(..drop);
        }
    }

    /// The series of `namespace`/`metric_name` with `dimensions`, created if new.
    fn series_mut(
        &mut self,
        namespace: &str,
        metric_name: String,
        dimensions: Dims,
    ) -> &mut Series {
        let pos = self.series.iter().position(|s| {
            s.namespace == namespace && s.metric_name == metric_name && s.dimensions == dimensions
        });
        let p = match pos {
            Some(p) => p,
            None => {
                self.series.push(Series {
                    namespace: namespace.to_string(),
                    metric_name,
                    dimensions,
                    points: Vec::new(),
                });
                self.series.len() - 1
            }
        };
        &mut self.series[p]
    }

    /// Add datapoints to a custom metric (created if new), keeping 15 days before `now` and at
    /// most [`MAX_POINTS_PER_SERIES`].
    pub(super) fn add_points(
        &mut self,
        namespace: &str,
        metric_name: String,
        dimensions: Dims,
        points: Vec<Sample>,
        now: OffsetDateTime,
    ) {
        let s = self.series_mut(namespace, metric_name, dimensions);
        s.points.extend(points);
        s.points.sort_by_key(|p| p.t);
        s.prune(now);
    }

    /// Count `sample` (one delivery's value) in its minute of a service metric: AWS services
    /// publish their metrics once a minute as a statistic set, so a series holds one point per
    /// minute however many deliveries it counts (and a delivery costs the same on the
    /// thousandth as on the first).
    pub(super) fn add_to_minute(
        &mut self,
        namespace: &str,
        metric_name: String,
        dimensions: Dims,
        sample: Sample,
    ) {
        let secs = sample.t.unix_timestamp();
        let minute =
            OffsetDateTime::from_unix_timestamp(secs - secs.rem_euclid(60)).unwrap_or(sample.t);
        let s = self.series_mut(namespace, metric_name, dimensions);
        match s.points.binary_search_by_key(&minute, |p| p.t) {
            Ok(i) => {
                let p = &mut s.points[i];
                p.count += sample.count;
                p.sum += sample.sum;
                p.min = p.min.min(sample.min);
                p.max = p.max.max(sample.max);
            }
            Err(i) => s.points.insert(
                i,
                Sample {
                    t: minute,
                    ..sample
                },
            ),
        }
        s.prune(minute);
    }
}

impl Series {
    /// Keep 15 days before `now` and at most [`MAX_POINTS_PER_SERIES`] (points are in time
    /// order: the oldest go first).
    fn prune(&mut self, now: OffsetDateTime) {
        let cutoff = now - Duration::days(15);
        let old = self.points.partition_point(|p| p.t < cutoff);
        let over = self
            .points
            .len()
            .saturating_sub(old + MAX_POINTS_PER_SERIES);
        self.points.drain(..old + over);
    }
}

/// An alarm's `StateValue`; persisted (and answered) as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    /// Every state, in the order AWS lists them.
    pub const ALL: [AlarmState; 3] = [
        AlarmState::Ok,
        AlarmState::Alarm,
        AlarmState::InsufficientData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(s: &str) -> Option<AlarmState> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
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
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<(String, String)>,
    pub period: i64,
    pub unit: Option<String>,
    pub evaluation_periods: i64,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: f64,
    pub comparison_operator: String,
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub configuration_updated: OffsetDateTime,
    pub state_value: AlarmState,
    pub state_reason: String,
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

impl Alarm {
    /// The statistic the alarm evaluates (`Average` when neither is set).
    pub(super) fn stat_name(&self) -> String {
        self.statistic
            .clone()
            .or_else(|| self.extended_statistic.clone())
            .unwrap_or_else(|| "Average".into())
    }

    /// The actions a transition into `state` sets off.
    pub(super) fn actions_for(&self, state: AlarmState) -> &[String] {
        match state {
            AlarmState::Alarm => &self.alarm_actions,
            AlarmState::Ok => &self.ok_actions,
            AlarmState::InsufficientData => &self.insufficient_data_actions,
        }
    }

    /// Whether the alarm is due for evaluation at `now` (every period, at most every minute).
    pub(super) fn due(&self, now: OffsetDateTime) -> bool {
        now - self.last_evaluated >= Duration::seconds(self.period.clamp(1, 60))
    }
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
