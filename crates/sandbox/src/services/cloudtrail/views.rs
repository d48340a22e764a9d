//! CloudTrail's wire shapes: trails, event selectors, trail status, history events.

use time::OffsetDateTime;

use super::events::StoredEvent;
use super::state::{EventSelector, Trail};
use crate::protocol::Value;

/// A trail as `DescribeTrails`, `GetTrail` and `CreateTrail` answer it.
pub fn trail(t: &Trail) -> Value {
    Value::obj()
        .with("Name", t.name.clone())
        .with("S3BucketName", t.s3_bucket.clone())
        .with("S3KeyPrefix", t.s3_prefix.clone())
        .with("SnsTopicName", t.sns_topic.as_deref().map(topic_name))
        .with(
            "SnsTopicARN",
            t.sns_topic.as_deref().map(|s| topic_arn(t, s)),
        )
        .with("IncludeGlobalServiceEvents", t.include_global)
        .with("IsMultiRegionTrail", t.multi_region)
        .with("HomeRegion", t.home_region.clone())
        .with("TrailARN", t.arn.clone())
        .with("LogFileValidationEnabled", t.log_file_validation)
        .with("KmsKeyId", t.kms_key_id.clone())
        .with("HasCustomEventSelectors", t.event_selectors.is_some())
        .with("HasInsightSelectors", false)
        .with("IsOrganizationTrail", t.organization)
}

/// The name of a trail's topic (kept as its ARN; by name in states written before).
fn topic_name(topic: &str) -> String {
    topic.rsplit(':').next().unwrap_or(topic).to_string()
}

/// The ARN of a trail's topic (a bare name is in the trail's account and home region).
fn topic_arn(t: &Trail, topic: &str) -> String {
    if topic.starts_with("arn:") {
        return topic.to_string();
    }
    let account = t.arn.split(':').nth(4).unwrap_or_default();
    format!("arn:aws:sns:{}:{account}:{topic}", t.home_region)
}

/// An entry of `ListTrails`.
pub fn trail_entry(t: &Trail) -> Value {
    Value::obj()
        .with("TrailARN", t.arn.clone())
        .with("Name", t.name.clone())
        .with("HomeRegion", t.home_region.clone())
}

pub fn selectors(t: &Trail) -> Value {
    let list = t.selectors().iter().map(selector).collect();
    Value::obj()
        .with("TrailARN", t.arn.clone())
        .with("EventSelectors", Value::List(list))
}

fn selector(s: &EventSelector) -> Value {
    Value::obj()
        .with("ReadWriteType", s.read_write_type.as_str())
        .with("IncludeManagementEvents", s.include_management_events)
        .with(
            "DataResources",
            Value::List(
                s.data_resources
                    .iter()
                    .map(|d| {
                        Value::obj().with("Type", d.kind.as_str()).with(
                            "Values",
                            Value::List(d.values.iter().map(Value::from).collect()),
                        )
                    })
                    .collect(),
            ),
        )
        .with(
            "ExcludeManagementEventSources",
            Value::List(s.exclude_sources.iter().map(Value::from).collect()),
        )
}

pub fn status(t: &Trail) -> Value {
    let fmt = |o: Option<OffsetDateTime>| o.map(crate::util::iso8601);
    Value::obj()
        .with("IsLogging", t.logging)
        .with("StartLoggingTime", t.start_logging)
        .with("StopLoggingTime", t.stop_logging)
        .with("TimeLoggingStarted", fmt(t.start_logging))
        .with("TimeLoggingStopped", fmt(t.stop_logging))
}

/// An event of `LookupEvents` (`now` stands in for a time out of range).
pub fn event(e: &StoredEvent, now: OffsetDateTime) -> Value {
    let resources = e
        .resources
        .iter()
        .map(|(t, n)| {
            Value::obj()
                .with("ResourceType", &**t)
                .with("ResourceName", &**n)
        })
        .collect();
    Value::obj()
        .with("EventId", &*e.event_id)
        .with("EventName", &*e.event_name)
        .with("ReadOnly", if e.read_only { "true" } else { "false" })
        .with("AccessKeyId", &*e.access_key_id)
        .with(
            "EventTime",
            crate::util::from_epoch_ms(e.time_ms).unwrap_or(now),
        )
        .with("EventSource", &*e.event_source)
        .with("Username", &*e.username)
        .with("Resources", Value::List(resources))
        .with("CloudTrailEvent", &*e.record)
}
