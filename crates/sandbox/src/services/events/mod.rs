//! EventBridge (awsJson1.1, `AWSEvents.*`) on the default event bus: rules with event
//! patterns (parsed and matched by the `kms-workshop-patterns` crate) or schedules, targets with
//! Input / InputPath / InputTransformer, PutEvents, TestEventPattern. The bus itself (CloudTrail
//! management events, "AWS API Call via CloudTrail", and PutEvents' events delivered to the
//! matching rules and on to SNS topics, refused unless the topic policy lets
//! `events.amazonaws.com` publish — as on AWS) is [`crate::pipeline::bus`].

mod errors;
mod ops;
pub mod payload;
mod schedule;
mod state;
mod views;

#[cfg(test)]
mod tests;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub use crate::pipeline::bus::PendingEvent;
pub(crate) use payload::transform;
pub use payload::{cloudtrail_envelope, json_path};
pub use state::{EventsState, Rule, RuleMetrics, RuleState, Target, ALL_MANAGEMENT};

pub struct Events;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("events", "events.amazonaws.com", Protocol::AwsJson11)
    .read_only(&["Describe", "List", "Test"]);

impl Service for Events {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        use ops::{events, rules, tags, targets};
        match op {
            "PutRule" => rules::put_rule(cx, input),
            "DescribeRule" => rules::describe_rule(cx, input),
            "ListRules" => rules::list_rules(cx, input),
            "EnableRule" => rules::set_rule_state(cx, input, RuleState::Enabled),
            "DisableRule" => rules::set_rule_state(cx, input, RuleState::Disabled),
            "DeleteRule" => rules::delete_rule(cx, input),
            "PutTargets" => targets::put_targets(cx, input),
            "RemoveTargets" => targets::remove_targets(cx, input),
            "ListTargetsByRule" => targets::list_targets_by_rule(cx, input),
            "ListRuleNamesByTarget" => targets::list_rule_names_by_target(cx, input),
            "TestEventPattern" => events::test_event_pattern(input),
            "PutEvents" => events::put_events(cx, input),
            "TagResource" => tags::tag_resource(cx, input),
            "UntagResource" => tags::untag_resource(cx, input),
            "ListTagsForResource" => tags::list_tags_for_resource(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}
