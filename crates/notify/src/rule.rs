//! The workshop's EventBridge rule and its SNS target, and the check of a rule a learner made.

use aws_sdk_eventbridge::types::{RuleState, Target};
use aws_sdk_eventbridge::Client;
use kms_workshop_aws_errors::AwsFailure;
use serde_json::{json, Value};

use crate::preflight::preflight;
use crate::NotifyError;

/// The rule state that receives read-only management events such as GenerateDataKey (plain
/// `ENABLED` rules do not get them).
pub const ALL_MANAGEMENT_EVENTS: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

/// The corrected pattern: KMS's GenerateDataKey calls as CloudTrail records them.
pub fn workshop_pattern() -> Value {
    json!({
        "source": ["aws.kms"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": ["GenerateDataKey"]
        }
    })
}

/// A rule on the default event bus.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    pub description: Option<String>,
    pub pattern: Value,
    /// `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
}

impl RuleSpec {
    /// The workshop's rule: [`workshop_pattern`], state [`ALL_MANAGEMENT_EVENTS`].
    pub fn workshop(name: &str) -> Self {
        RuleSpec {
            name: name.to_string(),
            description: Some("KMS GenerateDataKey calls, from CloudTrail".into()),
            pattern: workshop_pattern(),
            state: ALL_MANAGEMENT_EVENTS.into(),
        }
    }

    fn check(&self) -> Result<(), NotifyError> {
        let len = self.name.chars().count();
        if len > 64 {
            return Err(NotifyError::TooLong {
                field: "Name",
                limit: 64,
                actual: len,
                why: "EventBridge rule names are 1 to 64 characters",
            });
        }
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(NotifyError::Invalid {
                field: "Name",
                reason: format!(
                    "'{}': rule names are 1 to 64 letters, digits, '.', '-' or '_'",
                    self.name
                ),
            });
        }
        if !["ENABLED", "DISABLED", ALL_MANAGEMENT_EVENTS].contains(&self.state.as_str()) {
            return Err(NotifyError::Invalid {
                field: "State",
                reason: format!(
                    "'{}': expected ENABLED, DISABLED or {ALL_MANAGEMENT_EVENTS}",
                    self.state
                ),
            });
        }
        kms_workshop_patterns::Pattern::from_value(&self.pattern)
            .map_err(|e| NotifyError::Pattern(e.to_string()))?;
        Ok(())
    }
}

/// Create or update the rule; returns its ARN.
pub async fn put_rule(client: &Client, spec: &RuleSpec) -> Result<String, NotifyError> {
    spec.check()?;
    let out = client
        .put_rule()
        .name(&spec.name)
        .event_pattern(spec.pattern.to_string())
        .state(RuleState::from(spec.state.as_str()))
        .set_description(spec.description.clone())
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("PutRule", e))?;
    out.rule_arn()
        .map(str::to_string)
        .ok_or(NotifyError::IncompleteAnswer {
            operation: "PutRule",
            member: "RuleArn",
        })
}

/// Make `topic_arn` a target of `rule` with id `target_id` (replacing a target of that id).
/// EventBridge can only deliver if the topic policy lets it publish: see
/// [`allow_eventbridge_publish`](crate::allow_eventbridge_publish).
pub async fn put_sns_target(
    client: &Client,
    rule: &str,
    target_id: &str,
    topic_arn: &str,
) -> Result<(), NotifyError> {
    let target = Target::builder()
        .id(target_id)
        .arn(topic_arn)
        .build()
        .map_err(|e| NotifyError::Invalid {
            field: "Targets",
            reason: e.to_string(),
        })?;
    let out = client
        .put_targets()
        .rule(rule)
        .targets(target)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("PutTargets", e))?;
    if let Some(f) = out.failed_entries().first() {
        return Err(NotifyError::TargetRejected {
            target_id: f.target_id().unwrap_or(target_id).to_string(),
            code: f.error_code().unwrap_or_default().to_string(),
            message: f.error_message().unwrap_or_default().to_string(),
        });
    }
    Ok(())
}

/// One target of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetView {
    pub id: String,
    pub arn: String,
}

/// A rule as EventBridge describes it, with its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleView {
    pub name: String,
    pub arn: Option<String>,
    pub state: Option<String>,
    /// The pattern text; `None` for scheduled rules.
    pub pattern: Option<String>,
    pub description: Option<String>,
    pub targets: Vec<TargetView>,
}

/// The rule named `name` on the default bus, or `None` when there is no such rule.
pub async fn read_rule(client: &Client, name: &str) -> Result<Option<RuleView>, NotifyError> {
    let rule = match client.describe_rule().name(name).send().await {
        Ok(r) => r,
        Err(e) => {
            let f = AwsFailure::from_sdk("DescribeRule", e);
            if f.is_not_found() {
                return Ok(None);
            }
            return Err(f.into());
        }
    };
    let mut targets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_targets_by_rule()
            .rule(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsFailure::from_sdk("ListTargetsByRule", e))?;
        targets.extend(page.targets().iter().map(|t| TargetView {
            id: t.id().to_string(),
            arn: t.arn().to_string(),
        }));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(Some(RuleView {
        name: rule.name().unwrap_or(name).to_string(),
        arn: rule.arn().map(str::to_string),
        state: rule.state().map(|s| s.as_str().to_string()),
        pattern: rule.event_pattern().map(str::to_string),
        description: rule.description().map(str::to_string),
        targets,
    }))
}

/// One criterion of a rule check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub criterion: &'static str,
    pub passed: bool,
    pub reason: String,
}

/// Whether a rule will notify the topic of a GenerateDataKey call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCheck {
    pub rule: String,
    pub checks: Vec<Check>,
}

impl RuleCheck {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

/// Check a rule (a learner's, made by hand) against what the workshop needs: a state that
/// receives read-only management events, a pattern that matches `sample` (see
/// [`sample_generate_data_key_event`](crate::sample_generate_data_key_event)), and `topic_arn`
/// among its targets.
pub fn verify_rule(rule: &RuleView, topic_arn: &str, sample: &Value) -> RuleCheck {
    let mut checks = Vec::new();
    let state = rule.state.as_deref().unwrap_or("unknown");
    checks.push(Check {
        criterion: "state",
        passed: state == ALL_MANAGEMENT_EVENTS,
        reason: if state == ALL_MANAGEMENT_EVENTS {
            format!("state is {state}")
        } else {
            format!(
                "state is {state}, expected {ALL_MANAGEMENT_EVENTS}: GenerateDataKey is a \
                 read-only management event, which rules in state ENABLED do not receive"
            )
        },
    });
    let (passed, reason) = match rule.pattern.as_deref() {
        None => (false, "the rule has no event pattern".to_string()),
        Some(p) => match preflight(p, sample) {
            Err(e) => (false, e.to_string()),
            Ok(r) if r.matched => (true, "the pattern matches a GenerateDataKey call".into()),
            Ok(r) if r.mismatches.is_empty() => (
                false,
                "the pattern does not match a GenerateDataKey call".to_string(),
            ),
            Ok(r) => (
                false,
                r.mismatches
                    .iter()
                    .map(|m| m.explanation.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        },
    };
    checks.push(Check {
        criterion: "pattern",
        passed,
        reason,
    });
    let targeted = rule.targets.iter().any(|t| t.arn == topic_arn);
    checks.push(Check {
        criterion: "target",
        passed: targeted,
        reason: if targeted {
            format!("targets {topic_arn}")
        } else if rule.targets.is_empty() {
            format!("the rule has no targets, expected {topic_arn}")
        } else {
            format!(
                "targets {}, expected {topic_arn}",
                rule.targets
                    .iter()
                    .map(|t| t.arn.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    });
    RuleCheck {
        rule: rule.name.clone(),
        checks,
    }
}
