//! One function per EventBridge operation, grouped by resource, and the input checks they
//! share.

pub(super) mod events;
pub(super) mod rules;
pub(super) mod tags;
pub(super) mod targets;

use kms_workshop_patterns::Pattern;

use super::errors;
use crate::common::paging::by_offset;
use crate::protocol::{AwsError, Input};
use crate::services::TrailResource;

/// The sandbox has the default bus only: `EventBusName` may name it (or its ARN) or be left out.
fn check_bus(input: &Input) -> Result<(), AwsError> {
    match input.str("EventBusName")?.as_deref() {
        None | Some("default") => Ok(()),
        Some(arn) if arn.starts_with("arn:") && arn.ends_with(":event-bus/default") => Ok(()),
        Some(other) => Err(errors::bus_not_found(other)),
    }
}

/// A rule name or target id: 1 to `max` of `[.\-_A-Za-z0-9]`.
fn name_ok(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

/// `rate(n unit)` (singular unit for 1) or a six-field `cron(…)`.
pub(super) fn schedule_ok(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = inner.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Ok(n) = n.parse::<u64>() else {
            return false;
        };
        let unit_ok = if n == 1 {
            ["minute", "hour", "day"].contains(&unit)
        } else {
            ["minutes", "hours", "days"].contains(&unit)
        };
        return n > 0 && unit_ok;
    }
    if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return inner.split_whitespace().count() == 6;
    }
    false
}

fn parse_pattern(text: &str) -> Result<Pattern, AwsError> {
    Pattern::parse(text).map_err(|e| errors::invalid_pattern(e.to_string()))
}

/// One page of `items` by `Limit` (1 to 100, default 100) and `NextToken`.
fn page<T: Clone>(input: &Input, items: Vec<T>) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = input.int("Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(AwsError::bad_value(
            "Limit",
            &limit.to_string(),
            "Member must have value between 1 and 100",
        ));
    }
    let token = input.str("NextToken")?;
    by_offset(&items, token.as_deref(), limit as usize, errors::bad_token)
}

/// The rule `arn` as CloudTrail lists it among a call's resources.
fn rule_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::Events::Rule".into(),
    }
}
