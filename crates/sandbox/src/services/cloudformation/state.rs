//! CloudFormation's persisted state: every stack of one account and region (live or deleted),
//! its resources and its events. Stack and resource statuses are enums written as
//! CloudFormation's strings, on the wire and in state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as J;
use time::{Duration, OffsetDateTime};

use crate::identity::{Caller, Principal};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CfnState {
    /// Every stack, live or deleted, in creation order.
    pub stacks: Vec<Stack>,
}

/// An enum of CloudFormation's strings: each variant is written as its string in state and
/// on the wire (`as_str`), so the two can never disagree.
macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every status, in lifecycle order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}

status_enum! {
    /// A stack's status (`StackStatus`), as far as the sandbox's stacks go (no updates).
    StackStatus {
        CreateInProgress = "CREATE_IN_PROGRESS",
        CreateFailed = "CREATE_FAILED",
        CreateComplete = "CREATE_COMPLETE",
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        RollbackFailed = "ROLLBACK_FAILED",
        RollbackComplete = "ROLLBACK_COMPLETE",
        DeleteInProgress = "DELETE_IN_PROGRESS",
        DeleteFailed = "DELETE_FAILED",
        DeleteComplete = "DELETE_COMPLETE",
    }
}

status_enum! {
    /// A stack resource's status (`ResourceStatus`).
    ResourceStatus {
        CreateInProgress = "CREATE_IN_PROGRESS",
        CreateFailed = "CREATE_FAILED",
        CreateComplete = "CREATE_COMPLETE",
        DeleteInProgress = "DELETE_IN_PROGRESS",
        DeleteFailed = "DELETE_FAILED",
        DeleteComplete = "DELETE_COMPLETE",
        /// Kept by `RetainResources`.
        DeleteSkipped = "DELETE_SKIPPED",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackParam {
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub no_echo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Create,
    Rollback,
    Delete,
}

/// Work the stack still has to do, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub kind: OpKind,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    /// Work of the sandbox's seed (`Call::seeding`): done at its own time and not recorded,
    /// even when the server's tick gets to it first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_seed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    pub status: ResourceStatus,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
    /// The properties as resolved when it was created (what deletion undoes).
    #[serde(default)]
    pub properties: J,
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The status the event reports, as CloudFormation spells it: a [`StackStatus`] for the
    /// stack's own events, a [`ResourceStatus`] for its resources'.
    pub status: String,
    pub reason: Option<String>,
    pub properties: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub template_body: String,
    #[serde(default)]
    pub parameters: Vec<StackParam>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub disable_rollback: bool,
    /// `ROLLBACK` (default), `DO_NOTHING` or `DELETE`.
    #[serde(default)]
    pub on_failure: String,
    #[serde(default)]
    pub termination_protection: bool,
    pub status: StackStatus,
    pub status_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deleted: Option<OffsetDateTime>,
    #[serde(default)]
    pub resources: Vec<StackResource>,
    #[serde(default)]
    pub events: Vec<StackEvent>,
    #[serde(default)]
    pub outputs: Vec<(String, String, Option<String>)>,
    pub pending: Option<Pending>,
    /// Logical ids a `DeleteStack` asked to keep.
    #[serde(default)]
    pub retain: Vec<String>,
    pub token: Option<String>,
    /// The status reads still show for a while (`realism.stack_status_lag`).
    #[serde(default)]
    pub stale: Option<Stale>,
    /// Who created the stack: CloudFormation acts with their permissions.
    pub caller_key: String,
    pub caller_principal: Principal,
}

/// A status `DescribeStacks` still shows until `until` (CloudFormation's reads lag its
/// writes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stale {
    pub status: StackStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

impl Stack {
    /// The status a read at `now` shows.
    pub fn shown_status(&self, now: OffsetDateTime) -> StackStatus {
        match &self.stale {
            Some(st) if now < st.until => st.status,
            _ => self.status,
        }
    }

    /// Whether the stack still exists (deleted stacks stay listed with `DELETE_COMPLETE`).
    pub fn live(&self) -> bool {
        self.status != StackStatus::DeleteComplete
    }

    /// Who CloudFormation acts as for this stack.
    pub fn caller(&self, account: &str) -> Caller {
        Caller {
            access_key_id: self.caller_key.clone(),
            account: account.to_string(),
            principal: self.caller_principal.clone(),
            console_since: None,
        }
    }

    /// Events strictly after the previous one (several transitions can share a sandbox
    /// instant; their order and ids must not).
    fn event_time(&self, at: OffsetDateTime) -> OffsetDateTime {
        match self.events.last() {
            Some(e) if e.timestamp >= at => e.timestamp + Duration::milliseconds(1),
            _ => at,
        }
    }

    /// The stack goes to `status`, with an event saying so.
    pub fn stack_event(&mut self, at: OffsetDateTime, status: StackStatus, reason: Option<String>) {
        let at = self.event_time(at);
        self.events.push(StackEvent {
            id: crate::util::uuid(),
            logical_id: self.name.clone(),
            physical_id: Some(self.id.clone()),
            resource_type: "AWS::CloudFormation::Stack".into(),
            timestamp: at,
            status: status.as_str().into(),
            reason: reason.clone(),
            properties: None,
            token: self.token.clone(),
        });
        self.status = status;
        self.status_reason = reason;
    }

    /// Resource `i` goes to `status`, with an event saying so.
    pub fn resource_event(
        &mut self,
        i: usize,
        at: OffsetDateTime,
        status: ResourceStatus,
        reason: Option<String>,
    ) {
        let at = self.event_time(at);
        let Some(r) = self.resources.get_mut(i) else {
            return;
        };
        r.status = status;
        r.reason = reason.clone();
        r.updated = at;
        let ev = StackEvent {
            id: format!(
                "{}-{}-{}",
                r.logical_id,
                status.as_str(),
                crate::util::iso8601(at)
            ),
            logical_id: r.logical_id.clone(),
            physical_id: r.physical_id.clone(),
            resource_type: r.resource_type.clone(),
            timestamp: at,
            status: status.as_str().into(),
            reason,
            properties: (status == ResourceStatus::CreateInProgress)
                .then(|| r.properties.to_string()),
            token: self.token.clone(),
        };
        self.events.push(ev);
    }
}
