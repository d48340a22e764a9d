//! Running a plan: every action whose prerequisites are done starts at once (independent
//! branches in parallel), under the [`Pace`]'s bound on calls in flight and per-API rate limits.
//! "Not found" counts as done; conflicts (DeleteConflict, DependencyViolation, VolumeInUse…) are
//! retried with backoff; AccessDenied is reported and never retried; waits are bounded. Every
//! finished action is journalled before its dependents start.
//!
//! - `schedule`: the order: what starts when, what a failure blocks, the journal;
//! - `actions`: one action, with its conflict retries, and the account-wide (IAM, S3) ones;
//! - `regional`: the actions on one region's resources;
//! - `stack`: deleting the stack, repairing what makes it fail.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::aws::{Clients, Regional};
use crate::discover::{discover, Found};
use crate::inventory::Inventory;
use crate::journal::Journal;
use crate::plan::{Action, Plan};
use crate::report::{Outcome, Report};
use crate::{AwsFailure, CleanupError, ErrorClass, Pace};

mod actions;
mod regional;
mod schedule;
mod stack;

pub use schedule::Journalled;

/// How one action ended: its outcome and a note, or the failure.
pub type ActionOutcome = Result<(Outcome, String), AwsFailure>;

/// Tuning of a run.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// On a second `DELETE_FAILED`, delete the stack while retaining the resources that failed.
    pub retain_failed: bool,
    /// Longest wait for a lifecycle (instance terminated, volume available, stack deleted), on
    /// the pace's clock.
    pub wait_timeout: Duration,
    /// Interval between state checks while waiting, on the pace's clock.
    pub poll_interval: Duration,
    /// Attempts at an action that meets a dependency conflict.
    pub conflict_attempts: u32,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            retain_failed: false,
            wait_timeout: Duration::from_secs(20 * 60),
            poll_interval: Duration::from_secs(5),
            conflict_attempts: 8,
        }
    }
}

/// Progress, for a live view.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        branch: &'static str,
        action: String,
    },
    Retrying {
        branch: &'static str,
        action: String,
        reason: String,
    },
    Finished {
        branch: &'static str,
        action: String,
        outcome: Outcome,
    },
}

/// Runs plans against one account.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

struct Inner {
    clients: Clients,
    pace: Pace,
    opts: ExecOptions,
    events: Option<UnboundedSender<Event>>,
}

fn wait_failure(op: &str, what: String) -> AwsFailure {
    AwsFailure::new(op, "WaitTimedOut", &what, ErrorClass::Service)
}

impl Executor {
    pub fn new(
        clients: Clients,
        pace: Pace,
        opts: ExecOptions,
        events: Option<UnboundedSender<Event>>,
    ) -> Executor {
        Executor {
            inner: Arc::new(Inner {
                clients,
                pace,
                opts,
                events,
            }),
        }
    }

    pub fn clients(&self) -> &Clients {
        &self.inner.clients
    }

    /// The pacing every call of the run goes through.
    pub fn pace(&self) -> &Pace {
        &self.inner.pace
    }

    /// The run's tuning (waits, conflict attempts).
    pub fn options(&self) -> &ExecOptions {
        &self.inner.opts
    }

    pub(crate) fn emit(&self, e: Event) {
        if let Some(tx) = &self.inner.events {
            let _ = tx.send(e);
        }
    }

    /// Discover, plan and (unless `dry_run`) execute, resuming an interrupted run from the
    /// journal when there is one; then check that nothing of the workshop's is left.
    pub async fn run(
        &self,
        inventory: &Inventory,
        journal: Option<&Journal>,
        window_days: i32,
        dry_run: bool,
    ) -> Result<(Plan, Report), CleanupError> {
        if !(7..=30).contains(&window_days) {
            return Err(CleanupError::KeyWindow(window_days));
        }
        let pace = &self.inner.pace;
        let clients = &self.inner.clients;
        let resume = match (journal, dry_run) {
            (Some(j), false) => j.unfinished()?,
            _ => None,
        };
        let mut report = Report {
            account: clients.account.clone(),
            regions: clients.regions.keys().cloned().collect(),
            dry_run,
            ..Report::default()
        };
        let (run_id, found, plan, done) = match resume {
            Some(r) => {
                report.resumed = true;
                (r.run, r.found, r.plan, r.done)
            }
            None => {
                let found = discover(clients, pace, inventory).await?;
                let plan = Plan::build(&found, window_days);
                (uuid::Uuid::new_v4().to_string(), found, plan, Vec::new())
            }
        };
        report.found = found.resources();
        report.skipped = found.skipped.clone();
        if dry_run {
            return Ok((plan, report));
        }
        let journalled = Journalled {
            journal,
            run: &run_id,
            found: &found,
            start: !report.resumed,
        };
        self.execute_run(journalled, &plan, &done, &mut report)
            .await?;
        match discover(clients, pace, inventory).await {
            Ok(after) => report.remaining = remaining(&after),
            Err(e) => {
                report.note_class(e.class);
                report.errors.push(format!("final check: {e}"));
            }
        }
        Ok((plan, report))
    }

    /// The clients of `region`, for `action`.
    fn regional(&self, action: &Action, region: &str) -> Result<&Regional, AwsFailure> {
        self.inner.clients.region(region).ok_or_else(|| {
            AwsFailure::new(
                action.api(),
                "UnknownRegion",
                &format!("no clients for region {region}"),
                ErrorClass::InvalidInput,
            )
        })
    }

    /// Poll `check` until it says done, within the wait timeout (both on the pace's clock).
    pub async fn wait_until<F, Fut>(
        &self,
        op: &str,
        what: &str,
        mut check: F,
    ) -> Result<(), AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, AwsFailure>>,
    {
        let opts = &self.inner.opts;
        let pace = &self.inner.pace;
        let deadline = tokio::time::Instant::now() + pace.scaled(opts.wait_timeout);
        loop {
            if check().await? {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(wait_failure(
                    op,
                    format!(
                        "gave up waiting for {what} after {}s",
                        opts.wait_timeout.as_secs()
                    ),
                ));
            }
            pace.sleep(opts.poll_interval).await;
        }
    }
}

/// What of the workshop's a discovery still finds (keys pending deletion count as done).
pub fn remaining(found: &Found) -> Vec<String> {
    found.resources()
}
