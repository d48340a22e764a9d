//! The one teardown both the runner's last step and (through the same crate) `kms-workshop
//! cleanup` perform: discovery by inventory and the workshop's names, the dependency-ordered
//! plan, the executor. The runner calls it on its resolved target.

use std::path::PathBuf;

use anyhow::{Context, Result};
use kms_workshop_cleanup::{
    CleanupError, Clients, ExecOptions, Executor, Inventory, Pace, Report, SealKey,
};

use crate::target::{Target, TargetKind};

/// The key a run seals what it records with: in this user's data directory, never beside an
/// inventory file (whoever hands over a file could hand over a key with it). Without a data
/// directory nothing is sealed, and inventory items count for nothing.
pub fn seal_key_path() -> Option<PathBuf> {
    crate::target::data_dir().map(|d| d.join("inventory.key"))
}

/// What of `inventory` a clean-up of `account` in `regions` may trust: items of that account
/// and those regions, sealed by a run of this user on this machine. Each item left out is a
/// warning on stderr; an inventory recorded in another account is an error.
pub fn trusted(
    inventory: &Inventory,
    account: &str,
    regions: &[String],
) -> std::result::Result<Inventory, CleanupError> {
    if inventory.items.is_empty() && inventory.account.is_none() {
        return Ok(Inventory::default());
    }
    let key = match seal_key_path().map(|p| SealKey::load(&p)) {
        Some(Ok(k)) => k,
        Some(Err(e)) => {
            eprintln!("warning: {e}");
            None
        }
        None => None,
    };
    let (vetted, warnings) = inventory.vetted(account, regions, key.as_ref())?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(vetted)
}

fn executor(target: &Target) -> Executor {
    let regions = vec![target.region.clone()];
    let clients = Clients::new(
        &target.config,
        &target.account,
        &regions,
        target.kind != TargetKind::Aws,
    );
    // A sandbox's lifecycles are instant or time-scaled: its waits can poll faster.
    let scale = if target.kind == TargetKind::Aws {
        1.0
    } else {
        20.0
    };
    Executor::new(
        clients,
        Pace::new(8, 10.0, scale),
        ExecOptions::default(),
        None,
    )
}

/// Remove everything of the workshop's (what `inventory` lists, and what matches the
/// workshop's exact names, tags and stack), keys scheduled with `window_days`.
pub async fn teardown(target: &Target, inventory: &Inventory, window_days: i32) -> Result<Report> {
    let (_plan, report) = executor(target)
        .run(inventory, None, window_days, false)
        .await
        .context("clean-up")?;
    Ok(report)
}

/// What of the workshop's is still there (empty: nothing), from a dry run's plan.
pub async fn remaining(target: &Target, inventory: &Inventory) -> Result<Vec<String>> {
    let (plan, _report) = executor(target)
        .run(inventory, None, 7, true)
        .await
        .context("checking what is left")?;
    Ok(plan.nodes.iter().map(|n| n.action.describe()).collect())
}

/// One line: how many actions changed something, were already done, failed.
pub fn summary(report: &Report) -> String {
    use kms_workshop_cleanup::Outcome;
    format!(
        "{} changed, {} already gone, {} failed, {} remaining",
        report.count(Outcome::Changed),
        report.count(Outcome::AlreadyGone) + report.count(Outcome::DoneEarlier),
        report.failed().count(),
        report.remaining.len()
    )
}
