//! `kms-workshop prepare`: set an account up as the monitoring chapter starts (the state
//! `kms_workshop_names::starting` defines), or reset it (`--fresh`: the clean-up first), with
//! the clean-up's target and safety flags, live view, journal and exit codes. What it made (or
//! found in place) is written down as a sealed inventory, so the clean-up knows it is the
//! workshop's.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kms_workshop_cleanup::{Event, ExecOptions, Inventory, InventoryItem, Plan, Report, SealKey};
use kms_workshop_prepare::{Options, Setup, Survey};
use tokio::sync::mpsc::UnboundedSender;

use super::cleanup::{clean_account, load_inventory, parse_window, CleanupArgs, Recorded};
use super::{class_code, executor_for, not_done, Account, Done, Job, NotDone, TargetFlags};

/// The on-demand price of the smallest free-tier instance types (t2.micro, us-east-1, Linux)
/// per hour, for the cost shown before a set-up on AWS.
const INSTANCE_HOURLY_USD: f64 = 0.0116;

#[derive(Args, Debug, Clone)]
pub struct PrepareArgs {
    #[command(flatten)]
    pub target: TargetFlags,
    /// Days the imported key material of alias/ImportedCMK stays valid (1 to 365): the
    /// chapter's alarm watches it run out.
    #[arg(long, value_name = "DAYS", default_value_t = kms_workshop_names::starting::MATERIAL_DAYS, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub material_days: u32,
    /// Do not leave section I's first key pending deletion.
    #[arg(long)]
    pub no_pending_key: bool,
    /// Instance type to launch (default: the smallest type the region's free tier covers).
    #[arg(long, value_name = "TYPE")]
    pub instance_type: Option<String>,
    /// Clean the account up first (everything of the workshop's, as `kms-workshop cleanup`
    /// does), then set it up: the reset between two classes.
    #[arg(long)]
    pub fresh: bool,
    /// With --fresh: the waiting period of the keys the clean-up deletes (7 to 30 days).
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = parse_window)]
    pub key_window: i32,
    /// Where to write what the set-up made (JSON inventory; default: prepared-ACCOUNT.json in
    /// the user's data directory, which `kms-workshop cleanup` reads).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
}

pub async fn run(args: PrepareArgs) -> Result<()> {
    if args.target.regions.len() > 1 {
        return Err(super::fail(
            2,
            format!(
                "prepare sets the chapter up in one region: give one --region, not {}",
                args.target.regions.join(", ")
            ),
        ));
    }
    if let Some(t) = &args.instance_type {
        if !t.contains('.') || t.len() > 32 {
            return Err(super::fail(
                2,
                format!("--instance-type '{t}' is not an instance type (e.g. t3.micro)"),
            ));
        }
    }
    let recorded = if args.fresh {
        Some(load_inventory(None)?)
    } else {
        None
    };
    super::run_job(PrepareJob { args, recorded }).await
}

/// Where `kms-workshop prepare` records what it made in `account`, by default.
pub fn inventory_path(account: &str) -> Option<PathBuf> {
    crate::target::data_dir().map(|d| d.join(format!("prepared-{account}.json")))
}

struct PrepareJob {
    args: PrepareArgs,
    /// With --fresh: what the clean-up may trust.
    recorded: Option<Recorded>,
}

impl Job for PrepareJob {
    const VERB: &'static str = "set the monitoring chapter's starting state up in";
    const ALREADY: &'static str = "there";
    const DONE: &'static str = "ready";
    const SESSION: &'static str = "kms-workshop-prepare";

    fn flags(&self) -> &TargetFlags {
        &self.args.target
    }

    fn before_confirm(&self, accounts: usize) -> Option<String> {
        let day = kms_workshop_names::starting::daily_cost_usd(INSTANCE_HOURLY_USD);
        Some(format!(
            "On AWS this costs about ${day:.2} a day per account (${:.2} a day for {accounts}): the instance (${INSTANCE_HOURLY_USD}/hour on demand, free within the free tier), the {} GiB volume, and two keys at $1 a month each; a key pending deletion costs nothing. `kms-workshop cleanup` stops the costs.{}",
            day * accounts as f64,
            kms_workshop_names::starting::VOLUME_SIZE_GIB,
            if self.args.fresh {
                " --fresh first deletes everything of the workshop's in the account."
            } else {
                ""
            }
        ))
    }

    async fn account(
        &self,
        target: Account<'_>,
        tx: UnboundedSender<(String, Event)>,
        label: String,
    ) -> Result<Done, NotDone> {
        let flags = &self.args.target;
        let mut cleanup_text = String::new();
        if let Some(recorded) = &self.recorded {
            let cleanup = CleanupArgs {
                target: flags.clone(),
                key_window: self.args.key_window,
                inventory: None,
                retain_failed: false,
            };
            let inventory = recorded
                .for_account(target.id, target.regions)
                .map_err(not_done)?;
            let (plan, report) =
                clean_account(&cleanup, target, &inventory, (tx.clone(), label.clone()))
                    .await
                    .map_err(|e| {
                        (
                            format!("the clean-up before the set-up: {e}"),
                            class_code(e.class()),
                        )
                    })?;
            if !flags.dry_run && !report.is_clean() {
                let done = super::cleanup::done(plan, report);
                return Ok(Done {
                    text: format!(
                        "{}the clean-up did not finish: nothing was set up\n",
                        done.text
                    ),
                    ok: false,
                    ..done
                });
            }
            cleanup_text = if flags.dry_run {
                format!("{}\n", plan.render_tree())
            } else {
                report.render_text()
            };
        }
        let (plan, report, survey) = self.set_up(target, tx, label).await?;
        // Recorded from the survey after the run; without it (or without the record) the
        // workshop's names, tags and stack still tell the clean-up what is the workshop's.
        if let Some(survey) = survey.filter(|_| !flags.dry_run) {
            if let Err(e) = self.record(target.id, &survey) {
                eprintln!("warning: could not record what was made: {e:#}");
            }
        }
        let ready = report.is_clean();
        let json = serde_json::json!({ "plan": plan, "report": report, "ready": ready });
        Ok(Done {
            plan_text: format!("{cleanup_text}{}", plan.render_tree()),
            text: format!(
                "{}{}",
                if flags.dry_run {
                    String::new()
                } else {
                    cleanup_text
                },
                kms_workshop_prepare::report::render_text(&report)
            ),
            json,
            ok: ready,
            report,
        })
    }
}

impl PrepareJob {
    /// Survey, plan and (unless dry-run) set up one account.
    async fn set_up(
        &self,
        target: Account<'_>,
        tx: UnboundedSender<(String, Event)>,
        label: String,
    ) -> Result<(Plan<Setup>, Report, Option<Survey>), NotDone> {
        let flags = &self.args.target;
        let journal = match &flags.journal {
            Some(dir) => Some(
                kms_workshop_prepare::open_journal(dir, target.id)
                    .map_err(|e| (e.to_string(), 2))?,
            ),
            None => None,
        };
        let opts = Options {
            material_days: self.args.material_days,
            pending_key: !self.args.no_pending_key,
            instance_type: self.args.instance_type.clone(),
        };
        let (executor, forward) = executor_for(flags, target, ExecOptions::default(), tx, label);
        let result = kms_workshop_prepare::run(
            &executor,
            target.config,
            &opts,
            journal.as_ref(),
            flags.dry_run,
        )
        .await;
        drop(executor);
        let _ = forward.await;
        result.map_err(|e| {
            let code = match &e {
                // Something in the account is not what the chapter needs: a person must act.
                kms_workshop_prepare::PrepareError::Wrong { .. } => 2,
                other => class_code(other.class()),
            };
            (e.to_string(), code)
        })
    }

    /// Write what the account now holds of the starting state as a sealed inventory.
    fn record(&self, account: &str, survey: &Survey) -> Result<()> {
        let Some(path) = self
            .args
            .inventory
            .clone()
            .or_else(|| inventory_path(account))
        else {
            return Ok(());
        };
        let key = match crate::teardown::seal_key_path() {
            Some(p) => Some(SealKey::load_or_create(&p)?),
            None => None,
        };
        let items = survey
            .resources()
            .into_iter()
            .map(|(arn, kind, region)| {
                let mut item = InventoryItem {
                    arn,
                    kind,
                    region,
                    account: account.to_string(),
                    step: Some("prepare".into()),
                    seal: None,
                };
                item.seal = key.as_ref().map(|k| k.seal(&item));
                item
            })
            .collect();
        let inventory = Inventory {
            account: Some(account.to_string()),
            items,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&inventory)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }
}
