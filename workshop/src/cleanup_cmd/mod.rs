//! `kms-workshop cleanup`: find what the workshop created in an account, show the teardown
//! plan, and carry it out in dependency order with a live view, a journal to resume from, and
//! a final report. Exit codes: 0 clean, 1 something failed or remains, 2 usage or
//! configuration, 3 credentials or access.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use clap::{Args, ValueEnum};
use kms_workshop_cleanup::{
    CleanupError, Clients, ErrorClass, Event, ExecOptions, Executor, Inventory, Journal, Pace,
    Plan, Report,
};
use kms_workshop_sandbox::http::admin_api::AdminClient;
use tokio::sync::mpsc::UnboundedSender;

mod accounts;
mod live;

use accounts::run_accounts;
use live::live_view;

#[derive(Args, Debug, Clone)]
pub struct CleanupArgs {
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask; against AWS this needs --account-id too.
    #[arg(long)]
    yes: bool,
    /// The account to clean; must match the credentials' account.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    account_id: Option<String>,
    /// Region to clean (repeat for several; the first also serves IAM and S3).
    #[arg(long = "region", value_name = "R")]
    regions: Vec<String>,
    /// Named profile of the shared AWS config.
    #[arg(long, value_name = "P")]
    profile: Option<String>,
    /// Clean an in-process sandbox (state under --sandbox-state, else the user's data dir).
    #[arg(long, conflicts_with = "endpoint")]
    sandbox: bool,
    /// State directory of the in-process sandbox started by --sandbox.
    #[arg(long, value_name = "DIR", requires = "sandbox")]
    sandbox_state: Option<PathBuf>,
    /// An AWS-compatible endpoint (e.g. a running `kms-workshop sandbox serve`); the standard
    /// credential chain still applies.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Key deletion waiting period in days (7 to 30).
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = parse_window)]
    key_window: i32,
    #[arg(long, value_enum, default_value_t = OutputArg::Text)]
    output: OutputArg,
    /// Keep a journal here so an interrupted run resumes where it stopped.
    #[arg(long, value_name = "DIR")]
    journal: Option<PathBuf>,
    /// Inventory of resources a guided run recorded (JSON; default: the guided run's progress
    /// file in the user's data directory, when there is one).
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// If the stack still fails to delete after the fixes, delete it retaining what failed.
    #[arg(long)]
    retain_failed: bool,
    /// Most AWS calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    max_in_flight: u16,
    /// Instructors: clean every account listed in this TOML file (`[[account]]` tables with
    /// `id`, `role_arn`, optional `regions` and `external_id`), assuming each role.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["account_id", "sandbox"])]
    accounts: Option<PathBuf>,
    /// With --accounts and --yes: the number of accounts the file must list (what a person
    /// would have typed to confirm).
    #[arg(long, value_name = "N", requires = "accounts")]
    expect_accounts: Option<usize>,
    /// Accounts cleaned at the same time with --accounts.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel_accounts: u16,
    /// Speed up waits and backoffs by this factor (for sandboxes with fast lifecycles).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_scale, hide = true)]
    time_scale: f64,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum OutputArg {
    Text,
    Json,
}

/// Ends the command with `code` after its output was printed (nothing more to say).
fn exit(code: u8) -> anyhow::Error {
    anyhow::Error::new(crate::ExitWith {
        code,
        message: String::new(),
    })
}

fn parse_window(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(n) if (7..=30).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a key deletion window: give a number of days from 7 to 30"
        )),
    }
}

pub(super) fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not an AWS account id: give the 12 digits"
        ))
    }
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a time scale: give a number greater than 0"
        )),
    }
}

fn fail(code: u8, message: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(crate::ExitWith {
        code,
        message: message.to_string(),
    })
}

fn class_code(class: Option<ErrorClass>) -> u8 {
    match class {
        Some(ErrorClass::Credentials | ErrorClass::AccessDenied) => 3,
        _ => 1,
    }
}

pub async fn run(args: CleanupArgs) -> Result<()> {
    let target_args = crate::target::TargetArgs {
        profile: args.profile.clone(),
        region: args.regions.first().cloned(),
        sandbox: args.sandbox,
        sandbox_state: args.sandbox_state.clone(),
        endpoint: args.endpoint.clone(),
    };
    for r in &args.regions {
        crate::target::check_region(r).map_err(|e| fail(2, e))?;
    }
    // The in-process sandbox lives as long as this command.
    let loaded = crate::target::load(&target_args, false, kms_workshop_sandbox::Config::default())
        .await
        .map_err(|e| fail(e.exit_code(), e))?;
    let (config, endpoint, hosted) = (loaded.config, loaded.endpoint, loaded.hosted);
    // Only a kms-workshop sandbox is cleaned without the account being confirmed: any other
    // endpoint may stand in front of real credentials. Saying so is not enough: it must prove
    // it holds the admin token this user has for it.
    let target = Target {
        not_aws: endpoint.is_some(),
        sandbox: match (&hosted, &endpoint) {
            // The sandbox this command hosts is certainly one.
            (Some(_), _) => true,
            (None, Some(url)) => {
                let token = crate::sandbox_access::Reach::at(url).token().ok().flatten();
                AdminClient::new(url)
                    .with_token(token)
                    .is_own_sandbox()
                    .await
            }
            (None, None) => false,
        },
    };
    let Some(home) = config.region().map(|r| r.to_string()) else {
        return Err(fail(
            2,
            "no region: give --region R (or set AWS_REGION / a profile's region)",
        ));
    };
    let result = match &args.accounts {
        Some(file) => run_accounts(&args, &config, target, &home, file).await,
        None => run_single(&args, &config, target, &home).await,
    };
    if let Some(h) = hosted {
        h.shutdown().await;
    }
    result
}

/// What the command acts on: an endpoint other than AWS's (`not_aws`: S3 path-style), and
/// whether it identified itself as a kms-workshop sandbox (`sandbox`: no confirmation).
#[derive(Clone, Copy)]
struct Target {
    not_aws: bool,
    sandbox: bool,
}

/// S3 path-style addressing for any endpoint other than AWS's (given by flag or by
/// `AWS_ENDPOINT_URL`): the sandbox and most emulators serve no per-bucket host names.
fn path_style(config: &SdkConfig, not_aws: bool) -> bool {
    not_aws || config.endpoint_url().is_some()
}

/// Who the credentials are, as an exit code on failure.
async fn whose(config: &SdkConfig) -> Result<String> {
    let who = kms_workshop_cleanup::aws::caller_identity(config)
        .await
        .map_err(|e| {
            let code = match e.class {
                ErrorClass::Credentials | ErrorClass::AccessDenied => 3,
                ErrorClass::Network => 2,
                _ => 1,
            };
            fail(code, format!("cannot tell whose account this is: {e}"))
        })?;
    if let Some(why) = crate::target::on_workshop_instance(who.arn().unwrap_or_default()) {
        return Err(fail(2, why));
    }
    Ok(who.account().unwrap_or_default().to_string())
}

async fn run_single(
    args: &CleanupArgs,
    config: &SdkConfig,
    target: Target,
    home: &str,
) -> Result<()> {
    let mut regions = args.regions.clone();
    if regions.is_empty() {
        regions.push(home.to_string());
    }
    let account = whose(config).await?;
    if let Some(want) = &args.account_id {
        if want != &account {
            return Err(fail(
                2,
                format!("--account-id {want} does not match the credentials' account {account}: nothing done"),
            ));
        }
    }
    if !target.sandbox && !args.dry_run {
        eprintln!("AWS account {account}, region(s) {}", regions.join(", "));
        if args.yes {
            if args.account_id.is_none() {
                return Err(fail(
                    2,
                    format!("--yes against AWS needs --account-id {account} as well"),
                ));
            }
        } else {
            confirm(
                "Type the account id to delete the workshop's resources in it: ",
                &account,
            )?;
        }
    }
    let inventory = load_inventory(args)?.for_account(&account, &regions)?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let view =
        (!args.dry_run).then(|| tokio::spawn(live_view(rx, std::io::stderr().is_terminal())));
    let target = Account {
        config,
        id: &account,
        regions: &regions,
        path_style: path_style(config, target.not_aws),
    };
    let result = clean_account(args, target, &inventory, (tx, String::new())).await;
    if let Some(v) = view {
        let _ = v.await;
    }
    let (plan, report) = result.map_err(|e| fail(class_code(e.class()), e))?;
    if args.output == OutputArg::Json {
        let v = serde_json::json!({ "plan": plan, "report": report, "clean": report.is_clean() });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).context("rendering the report")?
        );
    } else {
        if args.dry_run {
            print!("{}", plan.render_tree());
            println!();
        }
        print!("{}", report.render_text());
    }
    let _ = std::io::stdout().flush();
    if args.dry_run || report.is_clean() {
        return Ok(());
    }
    Err(exit(if report.access_problem { 3 } else { 1 }))
}

fn confirm(prompt: &str, expected: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            2,
            "no terminal to confirm on: pass --yes, with --account-id ID (one account) or --expect-accounts N (--accounts)",
        ));
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the confirmation")?;
    if line.trim() != expected {
        return Err(fail(2, "what was typed does not match: nothing done"));
    }
    Ok(())
}

/// The inventory asked for (`--inventory`), else the guided run's (its progress file), else
/// none.
struct Recorded {
    inventory: Inventory,
    /// Asked for by `--inventory`: a refusal is an error, not a warning.
    explicit: bool,
}

fn load_inventory(args: &CleanupArgs) -> Result<Recorded> {
    if let Some(p) = &args.inventory {
        let inventory = Inventory::load(p).map_err(|e| fail(2, e))?;
        return Ok(Recorded {
            inventory,
            explicit: true,
        });
    }
    let path = crate::run::state::default_path();
    let inventory = match path.as_deref().map(Inventory::load) {
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
    fn for_account(&self, account: &str, regions: &[String]) -> Result<Inventory> {
        match crate::teardown::trusted(&self.inventory, account, regions) {
            Ok(i) => Ok(i),
            Err(e) if self.explicit => Err(fail(2, e)),
            Err(e) => {
                eprintln!("warning: {e}");
                Ok(Inventory::default())
            }
        }
    }
}

/// One account to clean: the configuration that reaches it, its id, its regions, and whether
/// S3 is addressed path-style.
#[derive(Clone, Copy)]
struct Account<'a> {
    config: &'a SdkConfig,
    id: &'a str,
    regions: &'a [String],
    path_style: bool,
}

/// Discover, plan and (unless dry-run) clean one account; progress goes to `tx` under `label`.
async fn clean_account(
    args: &CleanupArgs,
    target: Account<'_>,
    inventory: &Inventory,
    (tx, label): (UnboundedSender<(String, Event)>, String),
) -> Result<(Plan, Report), CleanupError> {
    let Account {
        config,
        id: account,
        regions,
        path_style,
    } = target;
    let journal = match &args.journal {
        Some(dir) => Some(Journal::open(dir, account)?),
        None => None,
    };
    let clients = Clients::new(config, account, regions, path_style);
    let pace = Pace::new(usize::from(args.max_in_flight), 10.0, args.time_scale);
    let opts = ExecOptions {
        retain_failed: args.retain_failed,
        ..ExecOptions::default()
    };
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let forward = tokio::spawn(async move {
        while let Some(e) = erx.recv().await {
            if tx.send((label.clone(), e)).is_err() {
                break;
            }
        }
    });
    let executor = Executor::new(clients, pace, opts, Some(etx));
    let result = executor
        .run(inventory, journal.as_ref(), args.key_window, args.dry_run)
        .await;
    drop(executor);
    let _ = forward.await;
    result
}
