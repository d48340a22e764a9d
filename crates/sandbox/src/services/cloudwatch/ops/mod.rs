//! One function per CloudWatch operation, grouped by resource, and the input checks they
//! share (with CloudWatch's error codes and messages).

pub(super) mod alarms;
pub(super) mod history;
pub(super) mod metrics;
pub(super) mod tags;

use time::OffsetDateTime;

use super::errors::{bad_token, enum_error, invalid_value, missing_param, q, validation};
use super::state::Dims;
use super::stats::MetricRef;
use crate::common::paging::by_offset;
use crate::protocol::{AwsError, Input};
use crate::services::TrailResource;

const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn check_unit(member: &str, unit: &Option<String>) -> Result<(), AwsError> {
    match unit {
        Some(u) if !UNITS.contains(&u.as_str()) => Err(enum_error(member, u, &UNITS)),
        _ => Ok(()),
    }
}

fn dims_of(input: &Input, member: &str) -> Result<Dims, AwsError> {
    let items = q(input.list(member))?;
    if items.len() > 30 {
        return Err(validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length less than or equal to 30",
            member.to_ascii_lowercase()
        )));
    }
    let mut out = Vec::new();
    for d in items {
        let name =
            q(d.str("Name"))?.ok_or_else(|| missing_param(&format!("{member}.member.Name")))?;
        let value =
            q(d.str("Value"))?.ok_or_else(|| missing_param(&format!("{member}.member.Value")))?;
        if name.is_empty() || name.len() > 255 || value.is_empty() || value.len() > 1024 {
            return Err(invalid_value(format!("The dimension {name} is not valid.")));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The periods a metric query may ask for: high-resolution metrics allow 1, 5, 10, 20 and 30
/// seconds, everything else a multiple of 60 (the model checks `period >= 1` before).
const QUERY_PERIODS: &[i64] = &[1, 5, 10, 20, 30];
/// The periods an alarm may evaluate over: 10, 20 and 30 seconds, or a multiple of 60.
const ALARM_PERIODS: &[i64] = &[10, 20, 30];

/// `period`, if a metric query may ask for it.
fn check_period(period: i64) -> Result<(), AwsError> {
    allowed_period(period, QUERY_PERIODS)
}

/// `period`, if an alarm may evaluate over it.
fn check_alarm_period(period: i64) -> Result<(), AwsError> {
    allowed_period(period, ALARM_PERIODS)
}

fn allowed_period(period: i64, short: &[i64]) -> Result<(), AwsError> {
    if short.contains(&period) || (period > 0 && period % 60 == 0) {
        return Ok(());
    }
    let listed: Vec<String> = short.iter().map(i64::to_string).collect();
    Err(invalid_value(format!(
        "The parameter Period must be {}, or a multiple of 60.",
        listed.join(", ")
    )))
}

/// `Tags` as (key, value) pairs, both required; `aws:` keys are reserved.
fn parse_tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    let tags = q(input.list("Tags"))?;
    let mut out = Vec::new();
    for t in tags {
        let k = q(t.str("Key"))?.ok_or_else(|| missing_param("Tags.member.Key"))?;
        let v = q(t.str("Value"))?.ok_or_else(|| missing_param("Tags.member.Value"))?;
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(invalid_value(format!("The tag {k} is not valid.")));
        }
        if k.starts_with("aws:") {
            return Err(invalid_value("Tag keys beginning with aws: are reserved."));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// One page of `items`, at most `max` long, from `NextToken` (the index of the next item).
fn page<T: Clone>(
    input: &Input,
    items: &[T],
    max: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let token = q(input.str("NextToken"))?;
    by_offset(items, token.as_deref(), max, bad_token)
}

fn max_records(input: &Input, default: i64, max: i64) -> Result<usize, AwsError> {
    let n = q(input.int("MaxRecords"))?.unwrap_or(default);
    if n < 1 || n > max {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and {max}"
        )));
    }
    Ok(n as usize)
}

/// Whether `ScanBy` asks for the oldest first (`TimestampDescending` by default).
fn ascending(input: &Input) -> Result<bool, AwsError> {
    match q(input.str("ScanBy"))?.as_deref() {
        None | Some("TimestampDescending") => Ok(false),
        Some("TimestampAscending") => Ok(true),
        Some(other) => Err(enum_error(
            "scanBy",
            other,
            &["TimestampDescending", "TimestampAscending"],
        )),
    }
}

fn metric_of(input: &Input) -> Result<MetricRef, AwsError> {
    Ok(MetricRef {
        namespace: q(input.str("Namespace"))?.ok_or_else(|| missing_param("Namespace"))?,
        name: q(input.str("MetricName"))?.ok_or_else(|| missing_param("MetricName"))?,
        dims: dims_of(input, "Dimensions")?,
    })
}

/// `StartTime` and `EndTime`, the one before the other.
fn window(input: &Input) -> Result<(OffsetDateTime, OffsetDateTime), AwsError> {
    let start = q(input.time("StartTime"))?.ok_or_else(|| missing_param("StartTime"))?;
    let end = q(input.time("EndTime"))?.ok_or_else(|| missing_param("EndTime"))?;
    if start >= end {
        return Err(invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok((start, end))
}

fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// The alarm `arn` as CloudTrail lists it among a call's resources.
fn alarm_resource(arn: String) -> TrailResource {
    TrailResource {
        arn,
        resource_type: "AWS::CloudWatch::Alarm".into(),
    }
}
