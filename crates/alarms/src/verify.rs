//! Does an existing alarm (made by hand in the console, say) do what the KMS guide recommends?
//! A checklist, one criterion per line, each with the reason it passed or failed.

use aws_sdk_cloudwatch::Client;

use crate::alarm::{describe_alarm, AlarmView};
use crate::metrics::{EXPIRATION_METRIC, KMS_NAMESPACE};
use crate::{AlarmSpec, AlarmsError};

/// One criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked, e.g. "statistic".
    pub criterion: &'static str,
    pub passed: bool,
    /// What was found and, on failure, what was expected.
    pub reason: String,
}

/// The result of every criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    pub alarm: String,
    pub checks: Vec<Check>,
}

impl Checklist {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    pub fn get(&self, criterion: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.criterion == criterion)
    }
}

fn check(criterion: &'static str, passed: bool, found: String, expected: &str) -> Check {
    let reason = if passed {
        found
    } else {
        format!("{found}, expected {expected}")
    };
    Check {
        criterion,
        passed,
        reason,
    }
}

fn shown<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "not set".into())
}

/// Compare `alarm` with `expected` (the key, the topic and the threshold the alarm should have;
/// the rest is the KMS guide's recommendation).
pub fn verify_alarm(alarm: &AlarmView, expected: &AlarmSpec) -> Checklist {
    let mut checks = Vec::new();
    let ns = alarm.namespace.as_deref();
    checks.push(check(
        "namespace",
        ns == Some(KMS_NAMESPACE),
        format!("namespace is {}", shown(ns)),
        KMS_NAMESPACE,
    ));
    let metric = alarm.metric_name.as_deref();
    checks.push(check(
        "metric",
        metric == Some(EXPIRATION_METRIC),
        format!("metric is {}", shown(metric)),
        EXPIRATION_METRIC,
    ));
    let dims: Vec<String> = alarm
        .dimensions
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    let key_ok = alarm.dimensions.len() == 1
        && alarm.dimensions[0].0 == "KeyId"
        && alarm.dimensions[0].1 == expected.key_id;
    checks.push(check(
        "dimension",
        key_ok,
        format!(
            "dimensions are {}",
            if dims.is_empty() {
                "none".to_string()
            } else {
                dims.join(", ")
            }
        ),
        &format!("only KeyId={}", expected.key_id),
    ));
    let statistic = alarm
        .statistic
        .clone()
        .or_else(|| alarm.extended_statistic.clone());
    checks.push(check(
        "statistic",
        alarm.statistic.as_deref() == Some("Minimum"),
        format!("statistic is {}", shown(statistic)),
        "Minimum",
    ));
    checks.push(check(
        "period",
        alarm.period == Some(60),
        format!("period is {} s", shown(alarm.period)),
        "60 s",
    ));
    checks.push(check(
        "comparison",
        alarm.comparison.as_deref() == Some("LessThanOrEqualToThreshold"),
        format!("comparison is {}", shown(alarm.comparison.as_deref())),
        "LessThanOrEqualToThreshold",
    ));
    checks.push(check(
        "threshold",
        alarm.threshold == Some(expected.threshold),
        format!("threshold is {}", shown(alarm.threshold)),
        &format!("{} (seconds)", expected.threshold),
    ));
    checks.push(check(
        "evaluation periods",
        alarm.evaluation_periods == Some(1),
        format!("evaluation periods are {}", shown(alarm.evaluation_periods)),
        "1",
    ));
    let notifies = alarm.alarm_actions.contains(&expected.topic_arn);
    checks.push(check(
        "alarm action",
        notifies,
        format!(
            "alarm actions are {}",
            if alarm.alarm_actions.is_empty() {
                "none".to_string()
            } else {
                alarm.alarm_actions.join(", ")
            }
        ),
        &expected.topic_arn,
    ));
    checks.push(check(
        "actions enabled",
        alarm.actions_enabled != Some(false),
        format!(
            "actions are {}",
            if alarm.actions_enabled == Some(false) {
                "disabled"
            } else {
                "enabled"
            }
        ),
        "enabled",
    ));
    Checklist {
        alarm: alarm.name.clone(),
        checks,
    }
}

/// Read the alarm named `name` and verify it (see [`verify_alarm`]).
pub async fn check_alarm(
    client: &Client,
    name: &str,
    expected: &AlarmSpec,
) -> Result<Checklist, AlarmsError> {
    Ok(verify_alarm(&describe_alarm(client, name).await?, expected))
}
