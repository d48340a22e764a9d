//! EventBridge's persisted state: the rules of the default bus with their targets, tags and
//! delivery counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::world::{Region, RegionalState};

/// The wire name of [`RuleState::EnabledWithAllCloudtrailManagementEvents`].
pub const ALL_MANAGEMENT: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EventsState {
    #[serde(default)]
    pub rules: BTreeMap<String, Rule>,
}

impl RegionalState for EventsState {
    const NAME: &'static str = "events";
    fn of(region: &Region) -> &Self {
        &region.events
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.events
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub event_pattern: Option<String>,
    #[serde(default)]
    pub schedule: Option<String>,
    pub state: RuleState,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub metrics: RuleMetrics,
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
    #[serde(default)]
    pub last_failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub arn: String,
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub input_path: Option<String>,
    /// (InputPathsMap, InputTemplate)
    #[serde(default)]
    pub input_transformer: Option<(BTreeMap<String, String>, String)>,
}
