//! What an alarm's change of state sets off: the `StateUpdate` history item (under the state
//! lock), then, outside it, the AWS alarm notification published to the SNS topics among the
//! new state's actions, each action's outcome recorded as an `Action` history item.

use std::collections::BTreeMap;

use serde_json::{json, Value as J};
use time::OffsetDateTime;

use super::state::{Alarm, AlarmState, CloudWatchState, HistoryItem};
use super::views::{aws_time, region_name};
use crate::pipeline::delivery::Publication;
use crate::Sandbox;

/// A state change to carry out: history is written under the lock, actions outside it.
pub(super) struct Transition {
    alarm: Alarm,
    old_state: AlarmState,
}

/// Change an alarm's state (recording history); returns the transition when the state changed.
pub(super) fn transition(
    st: &mut CloudWatchState,
    name: &str,
    new_state: AlarmState,
    reason: String,
    reason_data: Option<String>,
    now: OffsetDateTime,
) -> Option<Transition> {
    let a = st.alarms.get_mut(name)?;
    if a.state_value == new_state {
        return None;
    }
    let old_state = a.state_value;
    let old_reason = a.state_reason.clone();
    a.state_value = new_state;
    a.state_reason = reason.clone();
    a.state_reason_data = reason_data.clone();
    a.state_updated = now;
    a.state_transitioned = now;
    let alarm = a.clone();
    let mut new_state_json = json!({"stateValue": new_state.as_str(), "stateReason": reason});
    if let Some(d) = reason_data
        .as_deref()
        .and_then(|d| serde_json::from_str::<J>(d).ok())
    {
        new_state_json["stateReasonData"] = d;
    }
    let data = json!({
        "version": "1.0",
        "oldState": {"stateValue": old_state.as_str(), "stateReason": old_reason},
        "newState": new_state_json,
    });
    st.push_history(HistoryItem {
        alarm_name: name.to_string(),
        timestamp: now,
        item_type: "StateUpdate".into(),
        summary: format!("Alarm updated from {old_state} to {new_state}"),
        data: data.to_string(),
    });
    Some(Transition { alarm, old_state })
}

/// The `Trigger` of an alarm notification: the alarm's metric and condition.
fn trigger(alarm: &Alarm) -> J {
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
    trigger.insert(stat_type.into(), stat);
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
    J::Object(trigger)
}

/// The AWS alarm notification (the SNS message body).
fn notification(alarm: &Alarm, old_state: AlarmState, account: &str, region: &str) -> J {
    json!({
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": aws_time(alarm.configuration_updated),
        "NewStateValue": alarm.state_value.as_str(),
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_time(alarm.state_updated),
        "Region": region_name(region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state.as_str(),
        "OKActions": alarm.ok_actions,
        "AlarmActions": alarm.alarm_actions,
        "InsufficientDataActions": alarm.insufficient_data_actions,
        "Trigger": trigger(alarm),
    })
}

/// An alarm notification as published: the JSON, and the email a person reads.
struct Message {
    json: String,
    email: String,
}

/// The account of an alarm ARN (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`).
fn alarm_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// The account and region of an SNS topic ARN.
pub(super) fn sns_scope(arn: &str) -> Option<(String, String)> {
    let (account, region, name) = crate::services::sns::arn_parts(arn)?;
    (!name.is_empty()).then(|| (account.to_string(), region.to_string()))
}

/// Publish `message` to the topic `action` names; the message id, or the error as history
/// writes it.
fn publish(
    sb: &Sandbox,
    alarm: &Alarm,
    action: &str,
    (subject, message): (&str, &Message),
) -> Result<String, String> {
    let Some((acc, reg)) = sns_scope(action) else {
        return Err(format!(
            "The sandbox cannot execute action {action} (only SNS topics are supported)"
        ));
    };
    // A topic of the alarm's own account takes its alarms under the default policy (AWS
    // checks AWS:SourceOwner) unless its policy explicitly denies them; another account's
    // topic only when its policy lets cloudwatch.amazonaws.com publish for this alarm.
    let alarm_account = alarm_account(&alarm.arn);
    let cloudwatch = "cloudwatch.amazonaws.com";
    if acc != alarm_account {
        crate::services::sns::may_deliver(sb, action, cloudwatch, &alarm.arn, alarm_account)?;
    } else if crate::services::sns::denies_delivery(
        sb,
        action,
        cloudwatch,
        &alarm.arn,
        alarm_account,
    ) {
        return Err(format!(
            "the access policy of topic {action} denies {cloudwatch} sns:Publish"
        ));
    }
    // One message per protocol, as AWS publishes alarms: email subscribers read the text.
    let messages = BTreeMap::from([
        ("default".to_string(), message.json.clone()),
        ("email".to_string(), message.email.clone()),
    ]);
    sb.publish_to_topic(
        &acc,
        &reg,
        action,
        &Publication {
            subject: Some(subject.to_string()),
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

/// Run one action of alarm `a` and describe its outcome as an `Action` history item.
fn run_action(
    sb: &Sandbox,
    a: &Alarm,
    action: &str,
    subject: &str,
    message: &Message,
    now: OffsetDateTime,
) -> HistoryItem {
    let state_update_ms = a.state_updated.unix_timestamp_nanos() / 1_000_000;
    let (summary, data) = match publish(sb, a, action, (subject, message)) {
        Ok(message_id) => (
            format!("Successfully executed action {action}"),
            json!({
                "actionState": "Succeeded",
                "stateUpdateTimestamp": state_update_ms,
                "notificationResource": action,
                "publishedMessage": format!("{{\"default\":{}}}", J::String(message.json.clone())),
                "messageId": message_id,
            }),
        ),
        Err(err) => (
            format!("Failed to execute action {action}. Received error: \"{err}\""),
            json!({
                "actionState": "Failed",
                "stateUpdateTimestamp": state_update_ms,
                "notificationResource": action,
                "error": err,
            }),
        ),
    };
    HistoryItem {
        alarm_name: a.name.clone(),
        timestamp: now,
        item_type: "Action".into(),
        summary,
        data: data.to_string(),
    }
}

/// Run the actions of transitions (outside the state lock), then record their outcome.
pub(super) fn fire(sb: &Sandbox, account: &str, region: &str, transitions: Vec<Transition>) {
    let now = sb.clock.now();
    let mut items = Vec::new();
    for t in transitions {
        let a = &t.alarm;
        if !a.actions_enabled {
            continue;
        }
        let message = Message {
            json: notification(a, t.old_state, account, region).to_string(),
            email: super::alarm_email::text(a, t.old_state, account, region),
        };
        let subject = format!(
            "{}: \"{}\" in {}",
            a.state_value,
            a.name,
            region_name(region)
        );
        for action in a.actions_for(a.state_value) {
            items.push(run_action(sb, a, action, &subject, &message, now));
        }
    }
    if items.is_empty() {
        return;
    }
    let r = sb.write::<CloudWatchState, _>(account, region, |st| {
        for i in items {
            st.push_history(i);
        }
        Ok(())
    });
    if let Err(e) = r {
        tracing::error!(error = %e, "cannot record alarm actions");
    }
}
