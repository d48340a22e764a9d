//! Step 6: remove what the workshop made, in the order that works, and check nothing is left.

use anyhow::{anyhow, Result};

use super::Step;
use crate::run::checks::{criteria, Checks};
use crate::run::Ctx;
use crate::target::TargetKind;

pub struct Cleanup;

criteria! {
    pub enum Check {
        NothingLeft = "nothing-left",
    }
}

impl Step for Cleanup {
    const ID: &'static str = "cleanup";
    type Criterion = Check;

    async fn perform(cx: &mut Ctx) -> Result<()> {
        if cx.target.kind == TargetKind::Aws && !account_confirmed(cx) {
            return Err(anyhow!(
                "the clean-up needs the account id confirmed (interactively, or --account-id {} with --non-interactive)",
                cx.target.account
            ));
        }
        let inventory = trusted_inventory(cx)?;
        let report = crate::teardown::teardown(&cx.target, &inventory, 7).await?;
        cx.set_fact(
            Self::ID,
            "cleanup_report",
            crate::teardown::summary(&report),
        );
        cx.ui.say(report.render_text());
        Ok(())
    }

    async fn verify(cx: &mut Ctx, checks: &mut Checks<Check>) {
        let left = match trusted_inventory(cx) {
            Ok(inventory) => crate::teardown::remaining(&cx.target, &inventory).await,
            Err(e) => Err(e),
        };
        match left {
            Ok(left) if left.is_empty() => {
                checks.pass(Check::NothingLeft, "nothing of the workshop's remains")
            }
            Ok(left) => checks.fail(
                Check::NothingLeft,
                format!("still there: {}", left.join(", ")),
            ),
            Err(e) => checks.error(Check::NothingLeft, format!("{e:#}")),
        }
    }
}

/// On AWS, deleting needs the account id: typed by the learner, or given as --account-id.
fn account_confirmed(cx: &Ctx) -> bool {
    if cx.ui.interactive {
        let typed = cx
            .ui
            .input(
                &format!(
                    "Type the account id ({}) to delete the workshop's resources in it",
                    cx.target.account
                ),
                None,
                |_| Ok(()),
            )
            .unwrap_or_default();
        typed.trim() == cx.target.account
    } else {
        cx.account_id.as_deref() == Some(cx.target.account.as_str())
    }
}

/// What of the run's inventory the clean-up may trust (its own sealed records, in its account
/// and region).
fn trusted_inventory(cx: &Ctx) -> Result<kms_workshop_cleanup::Inventory> {
    let regions = [cx.target.region.clone()];
    Ok(crate::teardown::trusted(
        &cx.progress.inventory,
        &cx.target.account,
        &regions,
    )?)
}
