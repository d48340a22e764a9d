//! `kms-workshop cleanup`: find what the workshop created in an account, show the teardown
//! plan, and carry it out in dependency order with a live view, a journal to resume from, and
//! a final report.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kms_workshop_cleanup::{CleanupError, Event, ExecOptions, Inventory, Journal, Plan, Report};
use tokio::sync::mpsc::UnboundedSender;

use super::{class_code, executor_for, fail, not_done, Account, Done, Job, NotDone, TargetFlags};

#[derive(Args, Debug, Clone)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub target: TargetFlags,
    /// Key deletion waiting period in days (7 to 30).
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = parse_window)]
    pub key_window: i32,
    /// Inventory of resources a guided run (or `kms-workshop prepare`) recorded (JSON;
    /// default: the guided run's progress file and prepare's inventory of the account, in the
    /// user's data directory, when there are some).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// If the stack still fails to delete after the fixes, delete it retaining what failed.
    #[arg(long)]
    pub retain_failed: bool,
}

pub(super) fn parse_window(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(n) if (7..=30).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a key deletion window: give a number of days from 7 to 30"
        )),
    }
}

pub async fn run(args: CleanupArgs) -> Result<()> {
    let recorded = load_inventory(args.inventory.as_deref())?;
    super::run_job(CleanupJob { args, recorded }).await
}

/// The clean-up of accounts, with the inventory it was given (or found).
pub(super) struct CleanupJob {
    pub args: CleanupArgs,
    pub recorded: Recorded,
}

impl Job for CleanupJob {
    const VERB: &'static str = "delete the workshop's resources in";
    const ALREADY: &'static str = "gone";
    const DONE: &'static str = "clean";
    const SESSION: &'static str = "kms-workshop-cleanup";

    fn flags(&self) -> &TargetFlags {
        &self.args.target
    }

    async fn account(
        &self,
        target: Account<'_>,
        tx: UnboundedSender<(String, Event)>,
        label: String,
    ) -> Result<Done, NotDone> {
        let inventory = self
            .recorded
            .for_account(target.id, target.regions)
            .map_err(not_done)?;
        let (plan, report) = clean_account(&self.args, target, &inventory, (tx, label))
            .await
            .map_err(|e| (e.to_string(), class_code(e.class())))?;
        Ok(done(plan, report))
    }
}

/// A clean-up's plan and report as the command prints them.
pub(super) fn done(plan: Plan, report: Report) -> Done {
    let json = serde_json::json!({ "plan": plan, "report": report, "clean": report.is_clean() });
    Done {
        plan_text: plan.render_tree(),
        text: report.render_text(),
        json,
        ok: report.is_clean(),
        report,
    }
}

/// The inventory asked for (`--inventory`), else the guided run's (its progress file) with
/// what `kms-workshop prepare` recorded, else none.
pub(super) struct Recorded {
    inventory: Inventory,
    /// Asked for by `--inventory`: a refusal is an error, not a warning.
    explicit: bool,
}

pub(super) fn load_inventory(path: Option<&std::path::Path>) -> Result<Recorded> {
    if let Some(p) = path {
        let inventory = Inventory::load(p).map_err(|e| fail(2, e))?;
        return Ok(Recorded {
            inventory,
            explicit: true,
        });
    }
    let inventory = match crate::run::state::default_path()
        .as_deref()
        .map(Inventory::load)
    {
        Some(Ok(i)) => i,
        Some(Err(e)) => {
            // Not asked for: the names, tags and stack still find the workshop's.
            eprintln!("warning: ignoring the guided run's inventory: {e}");
            Inventory::default()
        }
        None => Inventory::default(),
    };
    Ok(Recorded {
        inventory,
        explicit: false,
    })
}

impl Recorded {
    /// What of it a clean-up of `account` in `regions` may trust (see `teardown::trusted`).
    /// An inventory of another account is an error when it was asked for, else left out.
    /// Unless one was asked for, what `kms-workshop prepare` recorded in `account` joins it:
    /// what prepare made is the workshop's as surely as what a guided run made.
    pub(super) fn for_account(&self, account: &str, regions: &[String]) -> Result<Inventory> {
        let mut trusted = match crate::teardown::trusted(&self.inventory, account, regions) {
            Ok(i) => i,
            Err(e) if self.explicit => return Err(fail(2, e)),
            Err(e) => {
                eprintln!("warning: {e}");
                Inventory::default()
            }
        };
        if self.explicit {
            return Ok(trusted);
        }
        if let Some(path) = super::prepare::inventory_path(account) {
            let prepared =
                Inventory::load(&path).and_then(|i| crate::teardown::trusted(&i, account, regions));
            match prepared {
                Ok(p) => trusted.items.extend(p.items),
                Err(e) => eprintln!("warning: ignoring {}: {e}", path.display()),
            }
        }
        Ok(trusted)
    }
}

/// Discover, plan and (unless dry-run) clean one account; progress goes to `tx` under `label`.
pub(super) async fn clean_account(
    args: &CleanupArgs,
    target: Account<'_>,
    inventory: &Inventory,
    (tx, label): (UnboundedSender<(String, Event)>, String),
) -> Result<(Plan, Report), CleanupError> {
    let flags = &args.target;
    let journal = match &flags.journal {
        Some(dir) => Some(Journal::open(dir, target.id)?),
        None => None,
    };
    let opts = ExecOptions {
        retain_failed: args.retain_failed,
        ..ExecOptions::default()
    };
    let (executor, forward) = executor_for(flags, target, opts, tx, label);
    let result = executor
        .run(inventory, journal.as_ref(), args.key_window, flags.dry_run)
        .await;
    drop(executor);
    let _ = forward.await;
    result
}
