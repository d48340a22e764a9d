//! Teardown of everything the AWS KMS workshop creates, in dependency order, in parallel where
//! the order allows, resumable after a crash, and limited to the workshop's own resources.
//!
//! The pieces, in the order a run uses them:
//! - [`inventory`]: what a guided run recorded it created (the strongest evidence of ownership);
//! - [`discover`]: finds the workshop's resources from that inventory or, without one, by the
//!   workshop's exact names, tags and CloudFormation stack — never by prefix;
//! - [`plan`]: turns what was found into a dependency graph of actions (DESIGN.md section 6,
//!   plus what the workshop's own text forgets);
//! - [`exec`]: runs the graph with bounded concurrency, per-API rate limits, retries, bounded
//!   waits and a [`journal`] so a killed run resumes where it stopped;
//! - [`report`]: what was found, changed, already gone, skipped and failed.

pub mod aws;
pub mod discover;
pub mod exec;
pub mod inventory;
pub mod journal;
pub mod pace;
pub mod plan;
pub mod report;

pub use aws::Clients;
pub use discover::{discover, Discovery, Found, Skipped};
pub use exec::{Event, ExecOptions, Executor};
pub use inventory::{Inventory, InventoryItem, ResourceKind};
pub use journal::Journal;
pub use pace::Pace;
pub use plan::{Action, Node, Plan};
pub use report::{ActionResult, Outcome, Report};

pub use kms_workshop_aws_errors::{AwsFailure, ErrorClass};

/// The workshop's fixed names (DESIGN.md section 2). Matching is always exact.
pub mod names {
    pub const STACK: &str = "KMSWorkshop-Stack";
    pub const ROLE: &str = "KMSWorkshop-InstanceInitRole";
    pub const PROFILE: &str = "KMSWorkshop-InstanceInitRole";
    pub const FIRST_ALIAS: &str = "alias/FirstCMK";
    pub const IMPORTED_ALIAS: &str = "alias/ImportedCMK";
    pub const TAG_KEY: &str = "project";
    pub const TAG_VALUE: &str = "kmsworkshop";
    pub const VOLUME_NAME_TAG: &str = "WorkshopEBS";
    pub const INSTANCE_NAME_TAG: &str = "KMSWorkshop-Instance";
    pub const TOPIC: &str = "snsworkshop";
    /// The trail a guided run creates when no trail logs management events (EventBridge sees
    /// KMS calls only through one).
    pub const TRAIL: &str = "KMSWorkshop-Trail";
    /// The customer-managed policies the learner creates and attaches by hand.
    pub const CUSTOMER_POLICIES: [&str; 3] = [
        "KMS-Workshop-ImportMaterialPermissions",
        "KMSWorkshop-RotationDisableOps",
        "KMSWorkshop-AdditionalPermissions",
    ];
    /// The policy that allows scheduling key deletion: it stays attached until the keys are done.
    pub const ROTATION_POLICY: &str = "KMSWorkshop-RotationDisableOps";
    /// AWS-managed policies the stack's template declares on the role (the stack detaches them).
    pub const TEMPLATE_POLICIES: [&str; 3] = [
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/AWSCloudTrailReadOnlyAccess",
        "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
    ];
    pub const KEY_METRIC_NAMESPACE: &str = "AWS/KMS";
    pub const KEY_METRIC: &str = "SecondsUntilKeyMaterialExpiration";
    /// Descriptions the workshop's keys were created with; only used to name a key that is
    /// already pending deletion (never to choose a key to act on).
    pub const KEY_DESCRIPTION_PREFIX: &str = "KMS Workshop";

    /// The stack's bucket in `account`.
    pub fn bucket(account: &str) -> String {
        format!("kmsworkshop-{account}")
    }

    /// The log bucket a guided run creates for [`TRAIL`] in `account` and `region`.
    pub fn trail_bucket(account: &str, region: &str) -> String {
        format!("kmsworkshop-trail-{account}-{region}")
    }
}

/// Errors of a clean-up run outside single AWS calls (those are [`AwsFailure`]s in the report).
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// A call needed before any plan exists (discovery, the caller's identity) failed.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    #[error("journal {path}: {source}")]
    Journal {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("inventory {path}: {message}")]
    Inventory {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("key deletion window must be 7 to 30 days, not {0}")]
    KeyWindow(i32),
}

impl CleanupError {
    /// The class of the AWS failure behind this error, if there is one.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            CleanupError::Aws(f) => Some(f.class),
            _ => None,
        }
    }
}
