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

fn parse_pattern(text: &str) -> Result<Pattern, AwsError> {
    Pattern::parse(text).map_err(|e| errors::invalid_pattern(e.to_string()))
}

/// One page of `items` by `Limit` (default 100) and `NextToken`.
fn page<T: Clone>(input: &Input, items: Vec<T>) -> Result<(Vec<T>, Option<String>), AwsError> {
    // Its range (1 to 100) is the model's, checked before.
    let limit = input.int("Limit")?.unwrap_or(100);
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
