//! CloudWatch: the workshop's alarms, by their exact name or the run's inventory. Anyone
//! else's alarm that notifies the workshop's topic or watches one of its keys is left as it is
//! and reported: the topic or the key is about to go, and the alarm's owner should know.

use aws_sdk_cloudwatch::types::MetricAlarm;

use super::Skipped;
use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// What decides whose an alarm is, and what the workshop is about to delete.
pub(super) struct AlarmScope<'a> {
    pub inventory: &'a Inventory,
    pub account: &'a str,
    /// The workshop's topics (being deleted).
    pub topic_arns: &'a [String],
    /// The workshop's keys (being scheduled for deletion, or already).
    pub key_ids: &'a [String],
}

/// The names of the workshop's alarms in this region; others that reference the workshop's
/// topics or keys go to `skipped`.
pub(super) async fn alarms(
    rc: &Regional,
    pace: &Pace,
    scope: &AlarmScope<'_>,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<String>, AwsFailure> {
    let cw = &rc.cloudwatch;
    let pages = pages!(pace, "DescribeAlarms", cw.describe_alarms(), next_token).await?;
    let own: Vec<String> = scope
        .inventory
        .of(ResourceKind::CloudWatchAlarm, scope.account, &rc.region)
        .map(|i| i.short_id().to_string())
        .collect();
    let mut out = Vec::new();
    for a in pages.iter().flat_map(|p| p.metric_alarms()) {
        let Some(name) = a.alarm_name() else { continue };
        if name == names::ALARM || own.iter().any(|n| n == name) {
            out.push(name.to_string());
        } else if let Some(why) = references(a, scope) {
            skipped.push(Skipped {
                what: format!("alarm {name} ({})", rc.region),
                why,
            });
        }
    }
    Ok(out)
}

/// How someone else's alarm references what the workshop is deleting, if it does.
fn references(a: &MetricAlarm, scope: &AlarmScope<'_>) -> Option<String> {
    let notified = a
        .alarm_actions()
        .iter()
        .chain(a.ok_actions())
        .chain(a.insufficient_data_actions())
        .find(|act| scope.topic_arns.contains(act));
    if let Some(topic) = notified {
        let topic = topic.rsplit(':').next().unwrap_or(topic);
        return Some(format!(
            "notifies {topic}, which is being deleted; not the workshop's, so left as it is"
        ));
    }
    watched_key(a, scope.key_ids).map(|k| {
        format!(
            "watches the key-material expiry of key {k}, which is being scheduled for deletion; \
             not the workshop's, so left as it is"
        )
    })
}

/// The workshop key whose key-material expiry metric the alarm watches, if any.
fn watched_key<'k>(a: &MetricAlarm, key_ids: &'k [String]) -> Option<&'k str> {
    if a.namespace() != Some(names::KEY_METRIC_NAMESPACE)
        || a.metric_name() != Some(names::KEY_METRIC)
    {
        return None;
    }
    a.dimensions()
        .iter()
        .filter(|d| d.name() == Some("KeyId"))
        .find_map(|d| key_ids.iter().find(|k| Some(k.as_str()) == d.value()))
        .map(String::as_str)
}
