//! `--accounts FILE`: an instructor's clean-up or set-up of many learner accounts, each reached
//! through a role it trusts, several at a time, with one summary at the end.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use kms_workshop_cleanup::{aws::caller_account, Outcome};
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;

use super::{
    confirm, exit, fail, live_view, parse_account, path_style, whose, Account, Done, Job,
    OutputArg, Target, TargetFlags,
};

/// The instructors' file: which accounts to clean and how to get into each.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    /// Regions for accounts that do not list their own.
    #[serde(default)]
    regions: Vec<String>,
    #[serde(rename = "account", default)]
    accounts: Vec<AccountEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    id: String,
    role_arn: String,
    #[serde(default)]
    regions: Vec<String>,
    external_id: Option<String>,
}

fn load_accounts(file: &std::path::Path) -> Result<AccountsFile> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| fail(2, format!("--accounts {}: {e}", file.display())))?;
    let parsed: AccountsFile = toml::from_str(&text)
        .map_err(|e| fail(2, format!("--accounts {}: {e}", file.display())))?;
    if parsed.accounts.is_empty() {
        return Err(fail(
            2,
            format!(
                "--accounts {}: no [[account]] entries (each needs id and role_arn)",
                file.display()
            ),
        ));
    }
    for a in &parsed.accounts {
        parse_account(&a.id).map_err(|e| fail(2, format!("--accounts {}: {e}", file.display())))?;
        // The role must live in the account it claims to open: a typo must not reach another.
        if !(a.role_arn.starts_with("arn:aws")
            && a.role_arn.contains(&format!(":iam::{}:role/", a.id)))
        {
            return Err(fail(
                2,
                format!(
                    "--accounts {}: role_arn '{}' is not a role in account {}",
                    file.display(),
                    a.role_arn,
                    a.id
                ),
            ));
        }
    }
    Ok(parsed)
}

/// Outcome of one account in a multi-account run.
struct AccountRun {
    entry: AccountEntry,
    regions: Vec<String>,
    result: std::result::Result<Done, String>,
    /// The exit code this account's failure means (3 access, 2 configuration, else 1).
    code: u8,
}

/// Run `job` on every account `file` lists (several at a time), then report each and a
/// summary.
pub(super) async fn run_accounts<J: Job>(
    job: J,
    config: &SdkConfig,
    target: Target,
    home: &str,
    file: &std::path::Path,
) -> Result<()> {
    let args = job.flags().clone();
    let listed = load_accounts(file)?;
    // The instructor's own identity must work before anything else.
    let me = whose(config).await?;
    if !target.sandbox && !args.dry_run {
        if let Some(note) = job.before_confirm(listed.accounts.len()) {
            eprintln!("{note}");
        }
        confirm_accounts::<J>(&args, &me, &listed)?;
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let view =
        (!args.dry_run).then(|| tokio::spawn(live_view(rx, std::io::stderr().is_terminal())));
    let limit = Arc::new(tokio::sync::Semaphore::new(usize::from(
        args.parallel_accounts,
    )));
    let job = Arc::new(job);
    let mut tasks = tokio::task::JoinSet::new();
    for entry in listed.accounts.iter().cloned() {
        let regions = regions_of(&entry, &listed, &args, home);
        let (limit, tx, job, config) = (limit.clone(), tx.clone(), job.clone(), config.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            run_one(&*job, &config, target.not_aws, entry, regions, tx).await
        });
    }
    let mut runs: Vec<AccountRun> = Vec::new();
    let mut lost = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => runs.push(r),
            Err(e) => {
                lost += 1;
                tracing::error!(error = %e, "an account's run did not complete");
            }
        }
    }
    drop(tx);
    if let Some(v) = view {
        let _ = v.await;
    }
    runs.sort_by(|a, b| a.entry.id.cmp(&b.entry.id));
    print_runs::<J>(&args, &runs)?;
    if lost > 0 {
        return Err(fail(
            1,
            format!("{lost} account(s) stopped without a report (see the log above)"),
        ));
    }
    outcome(&runs, args.dry_run)
}

/// Against AWS: name every account, and have their number typed (or `--yes`).
fn confirm_accounts<J: Job>(args: &TargetFlags, me: &str, listed: &AccountsFile) -> Result<()> {
    let n = listed.accounts.len();
    let ids: Vec<&str> = listed.accounts.iter().map(|a| a.id.as_str()).collect();
    eprintln!(
        "as account {me}, {} {n} account(s): {}",
        J::VERB,
        ids.join(", ")
    );
    if args.yes {
        return match args.expect_accounts {
            Some(expected) if expected == n => Ok(()),
            Some(expected) => Err(fail(
                2,
                format!(
                    "--expect-accounts {expected}, but {} lists {n} accounts: nothing done",
                    args.accounts
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
            )),
            None => Err(fail(
                2,
                format!("--yes with --accounts needs --expect-accounts {n} as well: nothing done"),
            )),
        };
    }
    confirm(
        &format!("Type the number of accounts ({n}) to {} them: ", J::VERB),
        &n.to_string(),
    )
}

/// An account's regions: its own, else the file's, else `--region`s, else the home region.
fn regions_of(
    entry: &AccountEntry,
    listed: &AccountsFile,
    args: &TargetFlags,
    home: &str,
) -> Vec<String> {
    [&entry.regions, &listed.regions, &args.regions]
        .into_iter()
        .find(|r| !r.is_empty())
        .cloned()
        .unwrap_or_else(|| vec![home.to_string()])
}

/// Assume the account's role, check it opens the account listed, and run `job` on it.
async fn run_one<J: Job>(
    job: &J,
    config: &SdkConfig,
    not_aws: bool,
    entry: AccountEntry,
    regions: Vec<String>,
    tx: UnboundedSender<(String, kms_workshop_cleanup::Event)>,
) -> AccountRun {
    let mut assume = aws_config::sts::AssumeRoleProvider::builder(&entry.role_arn)
        .session_name(J::SESSION)
        .configure(config);
    if let Some(x) = &entry.external_id {
        assume = assume.external_id(x);
    }
    let provider = assume.build().await;
    let assumed = config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build();
    let result = match caller_account(&assumed).await {
        Err(e) => Err((
            format!("cannot assume {}: {e}", entry.role_arn),
            super::class_code(Some(e.class)),
        )),
        Ok(got) if got != entry.id => Err((
            format!(
                "{} opens account {got}, not {}: not touched",
                entry.role_arn, entry.id
            ),
            1,
        )),
        Ok(_) => {
            let target = Account {
                config: &assumed,
                id: &entry.id,
                regions: &regions,
                path_style: path_style(&assumed, not_aws),
            };
            job.account(target, tx, entry.id.clone()).await
        }
    };
    let code = match &result {
        Ok(d) if d.report.access_problem => 3,
        Ok(_) => 1,
        Err((_, code)) => *code,
    };
    AccountRun {
        entry,
        regions,
        result: result.map_err(|(m, _)| m),
        code,
    }
}

fn is_clean(r: &AccountRun) -> bool {
    matches!(&r.result, Ok(d) if d.ok)
}

/// Each account's plan (dry run) and report, then the summary table; or all of it as JSON.
fn print_runs<J: Job>(args: &TargetFlags, runs: &[AccountRun]) -> Result<()> {
    if args.output == OutputArg::Json {
        let accounts: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| match &r.result {
                Ok(d) => {
                    let mut v = d.json.clone();
                    v["account"] = serde_json::json!(r.entry.id);
                    v["regions"] = serde_json::json!(r.regions);
                    v
                }
                Err(e) => serde_json::json!({
                    "account": r.entry.id, "regions": r.regions, "error": e, "clean": false,
                }),
            })
            .collect();
        let all = runs.iter().all(is_clean);
        let v = serde_json::json!({ "accounts": accounts, "clean": all });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).context("rendering the report")?
        );
    } else {
        for r in runs {
            println!("══ account {} ══", r.entry.id);
            match &r.result {
                Ok(d) => {
                    if args.dry_run {
                        print!("{}", d.plan_text);
                    }
                    print!("{}", d.text);
                }
                Err(e) => println!("error: {e}"),
            }
            println!();
        }
        print!("{}", summary_table::<J>(runs, args.dry_run));
    }
    let _ = std::io::stdout().flush();
    Ok(())
}

/// Exit 3 for any access problem, 2 for an account not as the job needs it, 0 when every
/// account is done (or planned), else 1.
fn outcome(runs: &[AccountRun], dry_run: bool) -> Result<()> {
    let failed = runs.iter().filter(|r| !is_clean(r) || r.result.is_err());
    if let Some(code) = failed.map(|r| r.code).filter(|c| *c == 3 || *c == 2).max() {
        return Err(exit(code));
    }
    if dry_run && runs.iter().all(|r| r.result.is_ok()) {
        return Ok(());
    }
    if runs.iter().all(is_clean) {
        Ok(())
    } else {
        Err(exit(1))
    }
}

fn summary_table<J: Job>(runs: &[AccountRun], dry_run: bool) -> String {
    let mut s = format!(
        "{:<14} {:<22} {:>5} {:>7} {:>5} {:>7} {:>6} {:>4}  {}\n",
        "account",
        "regions",
        "found",
        "changed",
        J::ALREADY,
        "skipped",
        "failed",
        "left",
        "status"
    );
    for r in runs {
        match &r.result {
            Ok(d) => {
                let rep = &d.report;
                let status = if dry_run {
                    "planned"
                } else if d.ok {
                    J::DONE
                } else if rep.access_problem {
                    "access denied"
                } else {
                    "incomplete"
                };
                s.push_str(&format!(
                    "{:<14} {:<22} {:>5} {:>7} {:>5} {:>7} {:>6} {:>4}  {}\n",
                    r.entry.id,
                    r.regions.join(","),
                    rep.found.len(),
                    rep.count(Outcome::Changed),
                    rep.count(Outcome::AlreadyGone)
                        + rep.count(Outcome::Kept)
                        + rep.count(Outcome::DoneEarlier),
                    rep.skipped.len() + rep.count(Outcome::Blocked),
                    rep.count(Outcome::Failed) + rep.errors.len(),
                    rep.remaining.len(),
                    status
                ));
            }
            Err(e) => s.push_str(&format!(
                "{:<14} {:<22} {:>5} {:>7} {:>5} {:>7} {:>6} {:>4}  error: {e}\n",
                r.entry.id,
                r.regions.join(","),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-"
            )),
        }
    }
    s
}
