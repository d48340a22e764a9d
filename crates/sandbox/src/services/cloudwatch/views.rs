//! CloudWatch's wire shapes: alarms, history items, dimensions and tags as the API answers
//! them, an alarm's configuration as history data writes it, and the ways CloudWatch writes
//! times, numbers and regions in reasons and notifications.

use serde_json::{json, Value as J};
use time::OffsetDateTime;

use super::state::{Alarm, HistoryItem};
use crate::protocol::Value;
use crate::util::iso8601;

pub(super) fn dims_value(d: &[(String, String)]) -> Value {
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

fn str_list(v: &[String]) -> Value {
    Value::List(v.iter().map(|s| Value::Str(s.clone())).collect())
}

/// A metric alarm as DescribeAlarms answers it.
pub(super) fn alarm(a: &Alarm) -> Value {
    Value::obj()
        .with("AlarmName", a.name.clone())
        .with("AlarmArn", a.arn.clone())
        .with("AlarmDescription", a.description.clone())
        .with(
            "AlarmConfigurationUpdatedTimestamp",
            a.configuration_updated,
        )
        .with("ActionsEnabled", a.actions_enabled)
        .with("OKActions", str_list(&a.ok_actions))
        .with("AlarmActions", str_list(&a.alarm_actions))
        .with(
            "InsufficientDataActions",
            str_list(&a.insufficient_data_actions),
        )
        .with("StateValue", a.state_value.as_str())
        .with("StateReason", a.state_reason.clone())
        .with("StateReasonData", a.state_reason_data.clone())
        .with("StateUpdatedTimestamp", a.state_updated)
        .with("MetricName", a.metric_name.clone())
        .with("Namespace", a.namespace.clone())
        .with("Statistic", a.statistic.clone())
        .with("ExtendedStatistic", a.extended_statistic.clone())
        .with("Dimensions", dims_value(&a.dimensions))
        .with("Period", a.period)
        .with("Unit", a.unit.clone())
        .with("EvaluationPeriods", a.evaluation_periods)
        .with("DatapointsToAlarm", a.datapoints_to_alarm)
        .with("Threshold", a.threshold)
        .with("ComparisonOperator", a.comparison_operator.clone())
        .with("TreatMissingData", a.treat_missing_data.clone())
        .with(
            "EvaluateLowSampleCountPercentile",
            a.evaluate_low_sample_count_percentile.clone(),
        )
        .with("StateTransitionedTimestamp", a.state_transitioned)
}

/// The alarm's configuration as history data writes it.
pub(super) fn config_json(a: &Alarm) -> J {
    json!({
        "alarmName": a.name,
        "alarmDescription": a.description,
        "actionsEnabled": a.actions_enabled,
        "okactions": a.ok_actions,
        "alarmActions": a.alarm_actions,
        "insufficientDataActions": a.insufficient_data_actions,
        "metricName": a.metric_name,
        "namespace": a.namespace,
        "statistic": a.statistic.as_deref().map(str::to_ascii_uppercase),
        "extendedStatistic": a.extended_statistic,
        "dimensions": a.dimensions.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
        "period": a.period,
        "unit": a.unit,
        "evaluationPeriods": a.evaluation_periods,
        "datapointsToAlarm": a.datapoints_to_alarm.unwrap_or(a.evaluation_periods),
        "threshold": a.threshold,
        "comparisonOperator": a.comparison_operator,
        "treatMissingData": a.treat_missing_data.clone().unwrap_or_else(|| "missing".into()),
        "metrics": [],
    })
}

pub(super) fn history_item(h: &HistoryItem) -> Value {
    Value::obj()
        .with("AlarmName", h.alarm_name.clone())
        .with("AlarmType", "MetricAlarm")
        .with("Timestamp", h.timestamp)
        .with("HistoryItemType", h.item_type.clone())
        .with("HistorySummary", h.summary.clone())
        .with("HistoryData", h.data.clone())
}

/// The region's name as alarm notifications write it.
pub(super) fn region_name(region: &str) -> String {
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
pub(super) fn aws_time(t: OffsetDateTime) -> String {
    let s = iso8601(t);
    match s.strip_suffix('Z') {
        Some(b) => format!("{b}+0000"),
        None => s,
    }
}

/// `28/11/26 18:00:00`, as state reasons write datapoint times.
pub(super) fn reason_time(t: OffsetDateTime) -> String {
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

/// A number as state reasons write it (always with a fraction: `864000.0`).
pub(super) fn fmt_f(v: f64) -> String {
    format!("{v:?}")
}
