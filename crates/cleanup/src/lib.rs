//! Teardown of everything the AWS KMS workshop creates, in dependency order, in parallel where
//! the order allows, resumable after a crash, and limited to the workshop's own resources.
//!
//! The pieces, in the order a run uses them:
//! - [`inventory`]: what a guided run recorded it created (the strongest evidence of ownership);
//! - [`discover`]: finds the workshop's resources from that inventory or, without one, by the
//!   workshop's exact names, tags and CloudFormation stack — never by prefix;
//! - [`plan`]: turns what was found into a dependency graph of actions (DESIGN.md section 6,
//!   plus what the workshop's own text forgets);
//! - [`exec`]: runs the graph with bounded concurrency, per-API rate limits and retries (a
//!   [`Pace`]), bounded waits and a [`journal`] so a killed run resumes where it stopped;
//! - [`report`]: what was found, changed, already gone, skipped and failed.

pub mod aws;
pub mod discover;
pub mod exec;
pub mod inventory;
pub mod journal;
pub mod plan;
pub mod report;
pub mod seal;

pub use aws::Clients;
pub use discover::{discover, Discovery, Found, Skipped};
pub use exec::{Event, ExecOptions, Executor};
pub use inventory::{Inventory, InventoryItem, ResourceKind};
pub use journal::Journal;
pub use kms_workshop_pace::Pace;
pub use plan::{Action, Node, Plan};
pub use report::{ActionResult, Outcome, Report};
pub use seal::SealKey;

pub use kms_workshop_aws_errors::{AwsFailure, ErrorClass};

/// The pacing of every AWS call of a run (rate limits, calls in flight, retries), shared with
/// the other crates that call AWS.
pub use kms_workshop_pace as pace;

/// The workshop's fixed names (one definition, shared with the sandbox and the runner).
/// Matching is always exact.
pub use kms_workshop_names as names;

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
    #[error("the inventory was recorded in account {recorded}, not in {account}, the account being cleaned: refused (give the inventory of {account}, or none)")]
    InventoryAccount { recorded: String, account: String },
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
