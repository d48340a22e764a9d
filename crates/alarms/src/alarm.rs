//! The imported-material expiry alarm: created as the KMS guide recommends, read back, and its
//! history.

use std::fmt;
use std::str::FromStr;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, HistoryItemType, Statistic};
use aws_sdk_cloudwatch::Client;
use kms_workshop_aws_errors::AwsFailure;
use serde_json::Value;
use time::OffsetDateTime;

use crate::metrics::{EXPIRATION_METRIC, KMS_NAMESPACE};
use crate::{to_time, AlarmsError};

/// The KMS guide's threshold: 10 days, in seconds.
pub const DEFAULT_THRESHOLD: f64 = 864_000.0;

/// What the alarm does while the metric has no data (`TreatMissingData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreatMissingData {
    /// CloudWatch's default.
    #[default]
    Missing,
    Breaching,
    NotBreaching,
    Ignore,
}

impl TreatMissingData {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Ignore => "ignore",
        }
    }
}

impl fmt::Display for TreatMissingData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TreatMissingData {
    type Err = AlarmsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            TreatMissingData::Missing,
            TreatMissingData::Breaching,
            TreatMissingData::NotBreaching,
            TreatMissingData::Ignore,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| AlarmsError::InvalidInput {
            field: "TreatMissingData",
            reason: format!("'{s}': expected one of missing, breaching, notBreaching, ignore"),
        })
    }
}

/// An alarm on `SecondsUntilKeyMaterialExpiration` of one key.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub description: Option<String>,
    /// The key id (the metric's `KeyId` dimension).
    pub key_id: String,
    /// Where the alarm notifies (AlarmActions), e.g. the `snsworkshop` topic ARN.
    pub topic_arn: String,
    /// Seconds left at or below which the alarm fires.
    pub threshold: f64,
    pub treat_missing_data: TreatMissingData,
}

impl AlarmSpec {
    /// The KMS guide's alarm: Minimum over 60 s, `<= 864000` (10 days), 1 evaluation period,
    /// notifying `topic_arn`.
    pub fn recommended(name: &str, key_id: &str, topic_arn: &str) -> Self {
        AlarmSpec {
            name: name.to_string(),
            description: Some(format!(
                "Imported key material of KMS key {key_id} expires in 10 days or less"
            )),
            key_id: key_id.to_string(),
            topic_arn: topic_arn.to_string(),
            threshold: DEFAULT_THRESHOLD,
            treat_missing_data: TreatMissingData::default(),
        }
    }

    fn check(&self) -> Result<(), AlarmsError> {
        let name_ok = !self.name.is_empty()
            && self.name.chars().count() <= 255
            && !self.name.chars().any(char::is_control);
        if !name_ok {
            return Err(AlarmsError::InvalidInput {
                field: "AlarmName",
                reason: "1 to 255 printable characters".into(),
            });
        }
        if self.key_id.trim().is_empty() || self.key_id.starts_with("alias/") {
            return Err(AlarmsError::InvalidInput {
                field: "KeyId",
                reason: "the key id (the metric's KeyId dimension), not an alias".into(),
            });
        }
        if !self.topic_arn.starts_with("arn:") || !self.topic_arn.contains(":sns:") {
            return Err(AlarmsError::InvalidInput {
                field: "AlarmActions",
                reason: format!("'{}' is not an SNS topic ARN", self.topic_arn),
            });
        }
        if !self.threshold.is_finite() || self.threshold < 0.0 {
            return Err(AlarmsError::InvalidInput {
                field: "Threshold",
                reason: "a number of seconds, 0 or more".into(),
            });
        }
        Ok(())
    }
}

/// Create (or replace: `PutMetricAlarm` overwrites an alarm of the same name) the alarm.
pub async fn put_expiration_alarm(client: &Client, spec: &AlarmSpec) -> Result<(), AlarmsError> {
    spec.check()?;
    client
        .put_metric_alarm()
        .alarm_name(&spec.name)
        .set_alarm_description(spec.description.clone())
        .namespace(KMS_NAMESPACE)
        .metric_name(EXPIRATION_METRIC)
        .dimensions(
            Dimension::builder()
                .name("KeyId")
                .value(&spec.key_id)
                .build(),
        )
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(spec.threshold)
        .comparison_operator(ComparisonOperator::LessThanOrEqualToThreshold)
        .alarm_actions(&spec.topic_arn)
        .treat_missing_data(spec.treat_missing_data.as_str())
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("PutMetricAlarm", e))?;
    Ok(())
}

/// A metric alarm as `DescribeAlarms` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmView {
    pub name: String,
    pub arn: Option<String>,
    pub description: Option<String>,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub reason: Option<String>,
    pub state_updated: Option<OffsetDateTime>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<(String, String)>,
    /// `Minimum`, `Average`, … (`None` with an extended statistic or a metric-math alarm).
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub period: Option<i32>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub treat_missing_data: Option<String>,
    pub actions_enabled: Option<bool>,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
}

/// The alarm named `name`; [`AlarmsError::NoSuchAlarm`] when there is none.
pub async fn describe_alarm(client: &Client, name: &str) -> Result<AlarmView, AlarmsError> {
    let out = client
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("DescribeAlarms", e))?;
    let a = out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .ok_or_else(|| AlarmsError::NoSuchAlarm(name.to_string()))?;
    Ok(AlarmView {
        name: name.to_string(),
        arn: a.alarm_arn().map(str::to_string),
        description: a.alarm_description().map(str::to_string),
        state: a
            .state_value()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: a.state_reason().map(str::to_string),
        state_updated: a.state_updated_timestamp().and_then(to_time),
        namespace: a.namespace().map(str::to_string),
        metric_name: a.metric_name().map(str::to_string),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_string(),
                    d.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        statistic: a.statistic().map(|s| s.as_str().to_string()),
        extended_statistic: a.extended_statistic().map(str::to_string),
        period: a.period(),
        evaluation_periods: a.evaluation_periods(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        threshold: a.threshold(),
        comparison: a.comparison_operator().map(|c| c.as_str().to_string()),
        treat_missing_data: a.treat_missing_data().map(str::to_string),
        actions_enabled: a.actions_enabled(),
        alarm_actions: a.alarm_actions().to_vec(),
        ok_actions: a.ok_actions().to_vec(),
    })
}

/// One entry of an alarm's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub timestamp: Option<OffsetDateTime>,
    /// `StateUpdate`, `ConfigurationUpdate` or `Action`.
    pub kind: String,
    pub summary: String,
    /// For state updates: the states before and after (from `HistoryData`).
    pub old_state: Option<String>,
    pub new_state: Option<String>,
}

impl HistoryEntry {
    pub fn is_state_update(&self) -> bool {
        self.kind == HistoryItemType::StateUpdate.as_str()
    }
}

/// The alarm's history, newest first (every page).
pub async fn alarm_history(client: &Client, name: &str) -> Result<Vec<HistoryEntry>, AlarmsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_alarm_history()
        .alarm_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsFailure::from_sdk("DescribeAlarmHistory", e))?;
        for item in page.alarm_history_items() {
            let data: Value = item
                .history_data()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Null);
            let state = |side: &str| {
                data.get(side)
                    .and_then(|s| s.get("stateValue"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            out.push(HistoryEntry {
                timestamp: item.timestamp().and_then(to_time),
                kind: item
                    .history_item_type()
                    .map(|k| k.as_str().to_string())
                    .unwrap_or_default(),
                summary: item.history_summary().unwrap_or_default().to_string(),
                old_state: state("oldState"),
                new_state: state("newState"),
            });
        }
    }
    Ok(out)
}
