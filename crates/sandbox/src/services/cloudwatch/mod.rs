//! CloudWatch (rpcv2Cbor from the Rust SDK, awsJson1.0 query-compatible from botocore and the
//! AWS CLI, awsQuery from older clients): custom metrics (PutMetricData), metric queries
//! (ListMetrics, GetMetricData, GetMetricStatistics), metric alarms evaluated on the sandbox
//! clock with history and SNS notifications, and tags.
//!
//! `AWS/KMS` `SecondsUntilKeyMaterialExpiration` is not stored but generated from the KMS state
//! ([`kms_metric`]); alarms are evaluated by [`tick`] ([`evaluation`]) and their state changes
//! set off their actions ([`actions`]).

mod actions;
mod alarm_email;
mod errors;
mod evaluation;
mod kms_metric;
mod ops;
pub(crate) mod shared;
mod state;
mod stats;
mod views;

#[cfg(test)]
mod tests;

use http::HeaderMap;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub use evaluation::tick;
pub use state::{Alarm, AlarmState, CloudWatchState, HistoryItem, KmsSegment, Sample, Series};

pub struct CloudWatch;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("monitoring", "monitoring.amazonaws.com", Protocol::AwsQuery)
    .xmlns("http://monitoring.amazonaws.com/doc/2010-08-01/")
    // A missing member is CloudWatch's MissingParameter, whatever the protocol.
    .validation(crate::validate::Dialect::CloudWatch);

impl Service for CloudWatch {
    fn about(&self) -> &'static About {
        &ABOUT
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
        use ops::{alarms, history, metrics, tags};
        // EventBridge's and SNS's metrics count the deliveries of calls answered already,
        // whose records may still wait to be written.
        crate::services::cloudtrail::unrecorded::settle(cx.sandbox);
        match op {
            "ListMetrics" => metrics::list_metrics(cx, input),
            "GetMetricData" => metrics::get_metric_data(cx, input),
            "GetMetricStatistics" => metrics::get_metric_statistics(cx, input),
            "PutMetricData" => metrics::put_metric_data(cx, input),
            "PutMetricAlarm" => alarms::put_metric_alarm(cx, input),
            "DescribeAlarms" => alarms::describe_alarms(cx, input),
            "DescribeAlarmsForMetric" => alarms::describe_alarms_for_metric(cx, input),
            "DeleteAlarms" => alarms::delete_alarms(cx, input),
            "SetAlarmState" => alarms::set_alarm_state(cx, input),
            "EnableAlarmActions" => alarms::set_actions_enabled(cx, input, true),
            "DisableAlarmActions" => alarms::set_actions_enabled(cx, input, false),
            "DescribeAlarmHistory" => history::describe_alarm_history(cx, input),
            "TagResource" => tags::tag_resource(cx, input),
            "UntagResource" => tags::untag_resource(cx, input),
            "ListTagsForResource" => tags::list_tags_for_resource(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}
