//! CloudWatch: the alarms that notify the workshop's topic, watch its keys' key-material
//! expiry metric, or that the inventory recorded.

use aws_sdk_cloudwatch::types::MetricAlarm;

use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// The names of the workshop's alarms in this region.
pub(super) async fn alarms(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    topic_arns: &[String],
    key_ids: &[String],
) -> Result<Vec<String>, AwsFailure> {
    let cw = &rc.cloudwatch;
    let pages = pages!(pace, "DescribeAlarms", cw.describe_alarms(), next_token).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.metric_alarms())
        .filter(|a| {
            notifies(a, topic_arns)
                || watches(a, key_ids)
                || a.alarm_name()
                    .is_some_and(|n| inventory.contains(ResourceKind::CloudWatchAlarm, n))
        })
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect())
}

/// Any of the alarm's actions notifies one of `topic_arns`.
fn notifies(a: &MetricAlarm, topic_arns: &[String]) -> bool {
    a.alarm_actions()
        .iter()
        .chain(a.ok_actions())
        .chain(a.insufficient_data_actions())
        .any(|act| topic_arns.contains(act))
}

/// The alarm watches the key-material expiry metric of one of `key_ids`.
fn watches(a: &MetricAlarm, key_ids: &[String]) -> bool {
    a.namespace() == Some(names::KEY_METRIC_NAMESPACE)
        && a.metric_name() == Some(names::KEY_METRIC)
        && a.dimensions().iter().any(|d| {
            d.name() == Some("KeyId") && d.value().is_some_and(|v| key_ids.iter().any(|k| k == v))
        })
}
