//! EventBridge's persisted state: the rules of the default bus with their targets, tags and
//! delivery counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The wire name of [`RuleState::EnabledWithAllCloudtrailManagementEvents`].
pub const ALL_MANAGEMENT: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EventsState {
    pub rules: BTreeMap<String, Rule>,
    /// The default event bus's tags.
    #[serde(default)]
    pub bus_tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub arn: String,
    pub event_pattern: Option<String>,
    pub schedule: Option<String>,
    pub state: RuleState,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub metrics: RuleMetrics,
    /// Until then the rule does not act on events yet (a rule or target just put takes a
    /// moment on AWS; see `realism`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub live_from: Option<time::OffsetDateTime>,
}

impl Rule {
    /// Whether the rule acts on an event at `now` (it has propagated).
    pub fn is_live(&self, now: time::OffsetDateTime) -> bool {
        self.live_from.is_none_or(|t| now >= t)
    }
}

/// A rule's `State`; persisted (and answered) as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleState {
    #[serde(rename = "ENABLED")]
    Enabled,
    #[serde(rename = "DISABLED")]
    Disabled,
    /// Also receives read-only CloudTrail management events.
    #[serde(rename = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")]
    EnabledWithAllCloudtrailManagementEvents,
}

impl RuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
            RuleState::EnabledWithAllCloudtrailManagementEvents => ALL_MANAGEMENT,
        }
    }

    pub fn parse(s: &str) -> Option<RuleState> {
        [
            RuleState::Enabled,
            RuleState::Disabled,
            RuleState::EnabledWithAllCloudtrailManagementEvents,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether a rule in this state is offered an event; `read_only_cloudtrail` is
    /// `Some(true)` for a read-only CloudTrail management event, which only
    /// `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` receives.
    pub fn receives(self, read_only_cloudtrail: Option<bool>) -> bool {
        match self {
            RuleState::EnabledWithAllCloudtrailManagementEvents => true,
            RuleState::Enabled => read_only_cloudtrail != Some(true),
            RuleState::Disabled => false,
        }
    }
}

/// What CloudWatch would show for the rule (`MatchedEvents`, `Invocations`,
/// `FailedInvocations`), kept for the sandbox admin view.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleMetrics {
    pub matched_events: u64,
    pub invocations: u64,
    pub failed_invocations: u64,
    pub last_failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub arn: String,
    pub input: Option<String>,
    pub input_path: Option<String>,
    /// (InputPathsMap, InputTemplate)
    pub input_transformer: Option<(BTreeMap<String, String>, String)>,
}
