//! Metric alarms: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms,
//! SetAlarmState, EnableAlarmActions / DisableAlarmActions.

use serde_json::{json, Value as J};
use time::OffsetDateTime;

use super::{
    alarm_arn, alarm_resource, check_alarm_period, check_unit, dims_of, max_records, metric_of,
    page, parse_tags,
};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudwatch::actions::{fire, transition};
use crate::services::cloudwatch::errors::{
    combination, enum_error, invalid_value, missing_param, not_found, q, validation,
};
use crate::services::cloudwatch::state::{Alarm, AlarmState, CloudWatchState, HistoryItem};
use crate::services::cloudwatch::stats::{norm_dims, percentile_of, STATISTICS};
use crate::services::cloudwatch::views;
use crate::services::Call;

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

/// The actions in `member`: at most 5 ARNs.
fn check_actions(member: &str, actions: &[String]) -> Result<(), AwsError> {
    if actions.len() > 5 {
        return Err(validation(format!(
            "1 validation error detected: Value '[{}]' at '{}' failed to satisfy constraint: Member must have length less than or equal to 5",
            actions.join(", "),
            crate::protocol::error::lower_first(member)
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

/// A `StateValue`.
fn state_of(s: &str) -> Result<AlarmState, AwsError> {
    AlarmState::parse(s).ok_or_else(|| {
        let names = AlarmState::ALL.map(AlarmState::as_str);
        enum_error("stateValue", s, &names)
    })
}

/// `AlarmNames`: at most 100.
fn alarm_names(input: &Input) -> Result<Vec<String>, AwsError> {
    let names = q(input.str_list("AlarmNames"))?;
    if names.len() > 100 {
        return Err(validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100"));
    }
    Ok(names)
}

/// What PutMetricAlarm watches: the metric and its statistic.
struct Watched {
    metric_name: String,
    namespace: String,
    statistic: Option<String>,
    extended: Option<String>,
}

fn watched(input: &Input) -> Result<Watched, AwsError> {
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
    Ok(Watched {
        metric_name,
        namespace,
        statistic,
        extended,
    })
}

/// When PutMetricAlarm's alarm goes off.
struct Condition {
    period: i64,
    evaluation_periods: i64,
    datapoints_to_alarm: Option<i64>,
    comparison: String,
    threshold: f64,
    treat: Option<String>,
    low_sample: Option<String>,
}

fn condition(input: &Input) -> Result<Condition, AwsError> {
    let period = q(input.int("Period"))?.ok_or_else(|| missing_param("Period"))?;
    check_alarm_period(period)?;
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
    Ok(Condition {
        period,
        evaluation_periods,
        datapoints_to_alarm,
        comparison,
        threshold,
        treat,
        low_sample,
    })
}

pub(crate) fn put_metric_alarm(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
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
    let watched = watched(input)?;
    let condition = condition(input)?;
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
    let arn = alarm_arn(&cx.region, cx.account(), &name);
    cx.resources.push(alarm_resource(arn.clone()));
    let alarm = Alarm {
        name,
        arn,
        description,
        actions_enabled,
        ok_actions,
        alarm_actions,
        insufficient_data_actions: insufficient,
        metric_name: watched.metric_name,
        namespace: watched.namespace,
        statistic: watched.statistic,
        extended_statistic: watched.extended,
        dimensions,
        period: condition.period,
        unit,
        evaluation_periods: condition.evaluation_periods,
        datapoints_to_alarm: condition.datapoints_to_alarm,
        threshold: condition.threshold,
        comparison_operator: condition.comparison,
        treat_missing_data: condition.treat,
        evaluate_low_sample_count_percentile: condition.low_sample,
        configuration_updated: now,
        state_value: AlarmState::InsufficientData,
        state_reason: "Unchecked: Initial alarm creation".into(),
        state_reason_data: None,
        state_updated: now,
        state_transitioned: now,
        last_evaluated: now,
        tags: tags.into_iter().collect(),
    };
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| store_alarm(st, alarm, now))
}

/// Create `alarm`, or update the alarm of its name (which keeps its state and tags),
/// recording the configuration change in history.
fn store_alarm(
    st: &mut CloudWatchState,
    mut alarm: Alarm,
    now: OffsetDateTime,
) -> Result<Value, AwsError> {
    let name = alarm.name.clone();
    let existing = st.alarms.get(&name).cloned();
    if existing.is_none() && st.alarms.len() >= 5000 {
        return Err(AwsError::new(
            400,
            "LimitExceeded",
            "The maximum number of alarms for this account and region (5000) has been reached.",
        ));
    }
    let data = match &existing {
        Some(old) => {
            // Re-putting keeps the state (and the tags: tags given here are ignored).
            alarm.state_value = old.state_value;
            alarm.state_reason = old.state_reason.clone();
            alarm.state_reason_data = old.state_reason_data.clone();
            alarm.state_updated = old.state_updated;
            alarm.state_transitioned = old.state_transitioned;
            alarm.last_evaluated = old.last_evaluated;
            alarm.tags = old.tags.clone();
            json!({"version": "1.0", "type": "Update", "updatedAlarm": views::config_json(&alarm), "originalAlarm": views::config_json(old)})
        }
        None => {
            json!({"version": "1.0", "type": "Create", "createdAlarm": views::config_json(&alarm)})
        }
    };
    st.push_history(HistoryItem {
        alarm_name: name.clone(),
        timestamp: now,
        item_type: "ConfigurationUpdate".into(),
        summary: format!(
            "Alarm \"{name}\" {}",
            if existing.is_some() {
                "updated"
            } else {
                "created"
            }
        ),
        data: data.to_string(),
    });
    st.alarms.insert(name, alarm);
    Ok(Value::Null)
}

pub(crate) fn describe_alarms(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let names = alarm_names(input)?;
    let prefix = q(input.str("AlarmNamePrefix"))?;
    if !names.is_empty() && prefix.is_some() {
        return Err(combination(
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    let state = q(input.str("StateValue"))?
        .map(|s| state_of(&s))
        .transpose()?;
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
    let wanted = |a: &&Alarm| {
        metric_alarms_wanted
            && (names.is_empty() || names.contains(&a.name))
            && prefix
                .as_ref()
                .is_none_or(|p| a.name.starts_with(p.as_str()))
            && state.is_none_or(|s| a.state_value == s)
            && action_prefix.as_ref().is_none_or(|p| {
                a.alarm_actions
                    .iter()
                    .chain(&a.ok_actions)
                    .chain(&a.insufficient_data_actions)
                    .any(|x| x.starts_with(p.as_str()))
            })
    };
    let alarms: Vec<Alarm> =
        cx.sandbox
            .read::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
                st.alarms.values().filter(wanted).cloned().collect()
            });
    let (items, next) = page(input, &alarms, max)?;
    Ok(Value::obj()
        .with("CompositeAlarms", Value::List(Vec::new()))
        .with(
            "MetricAlarms",
            Value::List(items.iter().map(views::alarm).collect()),
        )
        .with("NextToken", next))
}

pub(crate) fn describe_alarms_for_metric(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
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
                    .map(views::alarm)
                    .collect()
            });
    Ok(Value::obj().with("MetricAlarms", Value::List(alarms)))
}

/// `AlarmNames`, which DeleteAlarms and Enable/DisableAlarmActions require.
fn required_alarm_names(input: &Input) -> Result<Vec<String>, AwsError> {
    let names = alarm_names(input)?;
    if !input.has("AlarmNames") {
        return Err(missing_param("AlarmNames"));
    }
    Ok(names)
}

pub(crate) fn delete_alarms(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let names = required_alarm_names(input)?;
    for n in &names {
        let arn = alarm_arn(&cx.region, cx.account(), n);
        cx.resources.push(alarm_resource(arn));
    }
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            let missing: Vec<&str> = names
                .iter()
                .filter(|n| !st.alarms.contains_key(*n))
                .map(|s| s.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(not_found(format!(
                    "The following alarms were not found: [{}]",
                    missing.join(", ")
                )));
            }
            for n in &names {
                st.alarms.remove(n);
            }
            Ok(Value::Null)
        })
}

pub(crate) fn set_alarm_state(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let now = cx.now;
    let name = q(input.req_str("AlarmName"))?;
    let state = state_of(&q(input.req_str("StateValue"))?)?;
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
    let arn = alarm_arn(&cx.region, cx.account(), &name);
    cx.resources.push(alarm_resource(arn));
    let (sb, account, region) = (cx.sandbox, cx.account(), cx.region.as_str());
    let t = sb.write::<CloudWatchState, _>(account, region, |st| {
        if !st.alarms.contains_key(&name) {
            return Err(not_found(format!("Alarm {name} not found")));
        }
        let t = transition(st, &name, state, reason, data, now);
        if let Some(a) = st.alarms.get_mut(&name) {
            // Hold the state set by hand until the next regular evaluation.
            a.last_evaluated = now;
        }
        Ok(t)
    })?;
    if let Some(t) = t {
        fire(sb, account, region, vec![t]);
    }
    Ok(Value::Null)
}

/// EnableAlarmActions (`enable`) and DisableAlarmActions.
pub(crate) fn set_actions_enabled(
    cx: &Call<'_>,
    input: &Input,
    enable: bool,
) -> Result<Value, AwsError> {
    let names = required_alarm_names(input)?;
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            for n in &names {
                if let Some(a) = st.alarms.get_mut(n) {
                    a.actions_enabled = enable;
                }
            }
            Ok(Value::Null)
        })
}
