//! EC2's persisted state of one account and region: instances, EBS volumes and IAM instance
//! profile associations, with their lifecycle states as enums.
//!
//! The enums serialize as the strings state was saved with before they existed (which are also
//! AWS's names), so state written by earlier versions still loads.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long a terminated instance stays visible in DescribeInstances (AWS: about an hour).
pub(crate) const TERMINATED_VISIBLE: Duration = Duration::hours(1);

/// EC2 state of one account and region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Ec2State {
    pub instances: BTreeMap<String, Instance>,
    pub volumes: BTreeMap<String, Volume>,
    /// IAM instance profile associations, by association id.
    pub associations: BTreeMap<String, Association>,
}

/// An instance's lifecycle state, with AWS's names and codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceState {
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "running")]
    Running,
    #[serde(rename = "shutting-down")]
    ShuttingDown,
    #[serde(rename = "terminated")]
    Terminated,
    #[serde(rename = "stopping")]
    Stopping,
    #[serde(rename = "stopped")]
    Stopped,
}

impl InstanceState {
    /// AWS's name (`instanceState.name`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
        }
    }

    /// AWS's code (`instanceState.code`).
    pub fn code(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Running => 16,
            Self::ShuttingDown => 32,
            Self::Terminated => 48,
            Self::Stopping => 64,
            Self::Stopped => 80,
        }
    }

    /// The state a transitional state ends in (a settled state stays as it is).
    pub fn settled(self) -> Self {
        match self {
            Self::Pending => Self::Running,
            Self::Stopping => Self::Stopped,
            Self::ShuttingDown => Self::Terminated,
            other => other,
        }
    }

    /// Shutting down or terminated: the instance can no longer be changed or used.
    pub fn ending(self) -> bool {
        matches!(self, Self::ShuttingDown | Self::Terminated)
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A volume's state as EC2 reports it; derived from the volume, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VolumeState {
    #[serde(rename = "creating")]
    Creating,
    #[serde(rename = "available")]
    Available,
    #[serde(rename = "in-use")]
    InUse,
}

impl VolumeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::InUse => "in-use",
        }
    }
}

impl fmt::Display for VolumeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a volume's attachment to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentState {
    #[serde(rename = "attaching")]
    Attaching,
    #[serde(rename = "attached")]
    Attached,
    #[serde(rename = "detaching")]
    Detaching,
}

impl AttachmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attaching => "attaching",
            Self::Attached => "attached",
            Self::Detaching => "detaching",
        }
    }
}

/// The state of an IAM instance profile association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssociationState {
    #[serde(rename = "associating")]
    Associating,
    #[serde(rename = "associated")]
    Associated,
    #[serde(rename = "disassociating")]
    Disassociating,
}

impl AssociationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Associating => "associating",
            Self::Associated => "associated",
            Self::Disassociating => "disassociating",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub reservation_id: String,
    pub owner: String,
    pub image_id: String,
    pub instance_type: String,
    pub key_name: Option<String>,
    pub availability_zone: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub private_ip: String,
    pub public_ip: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub launch_time: OffsetDateTime,
    #[serde(default)]
    pub launch_index: i64,
    pub client_token: Option<String>,
    pub state: InstanceState,
    /// When a transitional state (`pending`, `stopping`, `shutting-down`) ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub state_until: Option<OffsetDateTime>,
    /// When the instance entered its state.
    #[serde(with = "time::serde::rfc3339")]
    pub state_since: OffsetDateTime,
    /// How long status checks stay `initializing` after the instance reaches `running`.
    #[serde(default)]
    pub checks_secs: f64,
    /// `StateReason` (code, message), set by stops and terminations.
    pub state_reason: Option<(String, String)>,
    /// `StateTransitionReason`.
    #[serde(default)]
    pub transition_reason: String,
    #[serde(default)]
    pub disable_api_termination: bool,
    #[serde(default = "default_shutdown_behavior")]
    pub shutdown_behavior: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub root_device_name: String,
    pub security_group_id: String,
}

fn default_shutdown_behavior() -> String {
    "stop".into()
}

impl Instance {
    pub(crate) fn visible(&self, now: OffsetDateTime) -> bool {
        self.state != InstanceState::Terminated || self.state_since + TERMINATED_VISIBLE > now
    }

    /// `ok` once the status checks have passed, `initializing` just after reaching `running`.
    pub(crate) fn checks_status(&self, now: OffsetDateTime) -> &'static str {
        if self.state != InstanceState::Running {
            "not-applicable"
        } else if self.checks_secs.is_finite()
            && self.state_since + Duration::seconds_f64(self.checks_secs.clamp(0.0, 1e9)) > now
        {
            "initializing"
        } else {
            "ok"
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volume {
    pub id: String,
    pub size: i64,
    pub volume_type: String,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub availability_zone: String,
    #[serde(default)]
    pub encrypted: bool,
    /// The ARN of the KMS key (as AWS reports it, whatever form the caller gave).
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub snapshot_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// While `creating`: when the volume becomes available.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ready_at: Option<OffsetDateTime>,
    /// The KMS key could not be used: the volume disappears when its creation ends, as on AWS,
    /// which checks the key asynchronously.
    #[serde(default)]
    pub creation_fails: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub attachment: Option<Attachment>,
    /// The CreateVolume ClientToken that made it: the same token again answers with this
    /// volume instead of making another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

impl Volume {
    pub fn status(&self) -> VolumeState {
        if self.ready_at.is_some() {
            VolumeState::Creating
        } else if self.attachment.is_some() {
            VolumeState::InUse
        } else {
            VolumeState::Available
        }
    }

    pub(crate) fn attached_to(&self, instance_id: &str) -> bool {
        self.attachment
            .as_ref()
            .is_some_and(|a| a.instance_id == instance_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub instance_id: String,
    pub device: String,
    #[serde(with = "time::serde::rfc3339")]
    pub attach_time: OffsetDateTime,
    pub delete_on_termination: bool,
    pub state: AttachmentState,
    /// When `attaching`/`detaching` ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Association {
    pub id: String,
    pub instance_id: String,
    pub profile_arn: String,
    pub profile_id: String,
    pub state: AssociationState,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

impl Ec2State {
    pub(crate) fn association_of(&self, instance_id: &str) -> Option<&Association> {
        self.associations
            .values()
            .find(|a| a.instance_id == instance_id)
    }
}
