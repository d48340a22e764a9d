//! The commands that change a whole account: `kms-workshop cleanup` (take the workshop's
//! resources down) and `kms-workshop prepare` (set the chapter's starting state up). They share
//! how an account is reached and confirmed, the instructors' `--accounts` file, the live view
//! and the exit codes: 0 done, 1 something failed or remains, 2 usage or configuration, 3
//! credentials or access.
//!
//! - this module: the shared flags, reaching the target, the confirmation, one account's run;
//! - `cleanup`, `prepare`: each command's own flags and its [`Job`];
//! - `accounts`: many accounts at once (`--accounts FILE`);
//! - `live`: the live view.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use clap::{Args, ValueEnum};
use kms_workshop_cleanup::{ErrorClass, Event, Report};
use kms_workshop_sandbox::http::admin_api::AdminClient;
use tokio::sync::mpsc::UnboundedSender;

mod accounts;
pub mod cleanup;
mod live;
pub mod prepare;

use accounts::run_accounts;
use live::live_view;

/// How a command reaches, confirms and paces the account(s) it changes.
#[derive(Args, Debug, Clone)]
pub struct TargetFlags {
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask; against AWS this needs --account-id too.
    #[arg(long)]
    pub yes: bool,
    /// The account to change; must match the credentials' account.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account_id: Option<String>,
    /// Region (repeat for several; the first also serves IAM and S3).
    #[arg(long = "region", value_name = "R")]
    pub regions: Vec<String>,
    /// Named profile of the shared AWS config.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Use an in-process sandbox (state under --sandbox-state, else the user's data dir).
    #[arg(long, conflicts_with = "endpoint")]
    pub sandbox: bool,
    /// State directory of the in-process sandbox started by --sandbox.
    #[arg(long, value_name = "DIR", requires = "sandbox")]
    pub sandbox_state: Option<PathBuf>,
    /// An AWS-compatible endpoint (e.g. a running `kms-workshop sandbox serve`); the standard
    /// credential chain still applies.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
    /// Keep a journal here so an interrupted run resumes where it stopped.
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Most AWS calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_in_flight: u16,
    /// Instructors: every account listed in this TOML file (`[[account]]` tables with `id`,
    /// `role_arn`, optional `regions` and `external_id`), assuming each role.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["account_id", "sandbox"])]
    pub accounts: Option<PathBuf>,
    /// With --accounts and --yes: the number of accounts the file must list (what a person
    /// would have typed to confirm).
    #[arg(long, value_name = "N", requires = "accounts")]
    pub expect_accounts: Option<usize>,
    /// Accounts worked on at the same time with --accounts.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel_accounts: u16,
    /// Speed up waits and backoffs by this factor (for sandboxes with fast lifecycles).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_scale, hide = true)]
    pub time_scale: f64,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputArg {
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

/// One account's run, as the command prints it.
pub(crate) struct Done {
    /// The plan as a tree (shown on a dry run).
    pub plan_text: String,
    /// The report as text.
    pub text: String,
    /// The plan and report as JSON.
    pub json: serde_json::Value,
    pub report: Report,
    /// Clean-up: nothing left; set-up: the starting state complete.
    pub ok: bool,
}

/// Why one account's run did not happen: the message, and the exit code it means (2 usage or
/// configuration, 3 credentials or access, 1 anything else).
pub(crate) type NotDone = (String, u8);

/// A command error as a [`NotDone`], keeping the exit code it carries.
fn not_done(e: anyhow::Error) -> NotDone {
    match e.downcast_ref::<crate::ExitWith>() {
        Some(x) => (x.message.clone(), x.code),
        None => (format!("{e:#}"), 1),
    }
}

/// What a command does to one account.
pub(crate) trait Job: Send + Sync + 'static {
    /// What is confirmed: "delete the workshop's resources in it".
    const VERB: &'static str;
    /// The summary table's column of what needed nothing ("gone", "there").
    const ALREADY: &'static str;
    /// The status of an account the job finished ("clean", "ready").
    const DONE: &'static str;
    /// The role session name in each account of `--accounts`.
    const SESSION: &'static str;
    fn flags(&self) -> &TargetFlags;
    /// What a person should know before confirming a change of `account` (costs), if anything.
    fn before_confirm(&self, _accounts: usize) -> Option<String> {
        None
    }
    /// Run on one account; progress goes to `tx` under `label`.
    fn account(
        &self,
        target: Account<'_>,
        tx: UnboundedSender<(String, Event)>,
        label: String,
    ) -> impl std::future::Future<Output = std::result::Result<Done, NotDone>> + Send;
}

/// Reach the target the flags name, then run `job` on one account or on every account of
/// `--accounts`.
pub(crate) async fn run_job<J: Job>(job: J) -> Result<()> {
    let flags = job.flags().clone();
    let target_args = crate::target::TargetArgs {
        profile: flags.profile.clone(),
        region: flags.regions.first().cloned(),
        sandbox: flags.sandbox,
        sandbox_state: flags.sandbox_state.clone(),
        endpoint: flags.endpoint.clone(),
    };
    for r in &flags.regions {
        crate::target::check_region(r).map_err(|e| fail(2, e))?;
    }
    // The in-process sandbox lives as long as this command.
    let loaded = crate::target::load(&target_args, false, kms_workshop_sandbox::Config::default())
        .await
        .map_err(|e| fail(e.exit_code(), e))?;
    let (config, endpoint, hosted) = (loaded.config, loaded.endpoint, loaded.hosted);
    // Only a kms-workshop sandbox is changed without the account being confirmed: any other
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
    let result = match &flags.accounts {
        Some(file) => run_accounts(job, &config, target, &home, file).await,
        None => run_single(&job, &config, target, &home).await,
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

async fn run_single<J: Job>(job: &J, config: &SdkConfig, target: Target, home: &str) -> Result<()> {
    let flags = job.flags();
    let mut regions = flags.regions.clone();
    if regions.is_empty() {
        regions.push(home.to_string());
    }
    let account = whose(config).await?;
    if let Some(want) = &flags.account_id {
        if want != &account {
            return Err(fail(
                2,
                format!("--account-id {want} does not match the credentials' account {account}: nothing done"),
            ));
        }
    }
    if !target.sandbox && !flags.dry_run {
        eprintln!("AWS account {account}, region(s) {}", regions.join(", "));
        if let Some(note) = job.before_confirm(1) {
            eprintln!("{note}");
        }
        if flags.yes {
            if flags.account_id.is_none() {
                return Err(fail(
                    2,
                    format!("--yes against AWS needs --account-id {account} as well"),
                ));
            }
        } else {
            confirm(
                &format!("Type the account id to {} it: ", J::VERB),
                &account,
            )?;
        }
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let view =
        (!flags.dry_run).then(|| tokio::spawn(live_view(rx, std::io::stderr().is_terminal())));
    let acct = Account {
        config,
        id: &account,
        regions: &regions,
        path_style: path_style(config, target.not_aws),
    };
    let result = job.account(acct, tx, String::new()).await;
    if let Some(v) = view {
        let _ = v.await;
    }
    let done = result.map_err(|(m, code)| fail(code, m))?;
    if flags.output == OutputArg::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&done.json).context("rendering the report")?
        );
    } else {
        if flags.dry_run {
            print!("{}", done.plan_text);
            println!();
        }
        print!("{}", done.text);
    }
    let _ = std::io::stdout().flush();
    if flags.dry_run || done.ok {
        return Ok(());
    }
    Err(exit(if done.report.access_problem { 3 } else { 1 }))
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

/// One account to change: the configuration that reaches it, its id, its regions, and whether
/// S3 is addressed path-style.
#[derive(Clone, Copy)]
pub(crate) struct Account<'a> {
    pub config: &'a SdkConfig,
    pub id: &'a str,
    pub regions: &'a [String],
    pub path_style: bool,
}

/// The executor for one account, its progress forwarded to `tx` under `label` until the
/// returned task ends (when the executor is dropped).
fn executor_for(
    flags: &TargetFlags,
    target: Account<'_>,
    opts: kms_workshop_cleanup::ExecOptions,
    tx: UnboundedSender<(String, Event)>,
    label: String,
) -> (kms_workshop_cleanup::Executor, tokio::task::JoinHandle<()>) {
    let clients = kms_workshop_cleanup::Clients::new(
        target.config,
        target.id,
        target.regions,
        target.path_style,
    );
    let pace =
        kms_workshop_cleanup::Pace::new(usize::from(flags.max_in_flight), 10.0, flags.time_scale);
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let forward = tokio::spawn(async move {
        while let Some(e) = erx.recv().await {
            if tx.send((label.clone(), e)).is_err() {
                break;
            }
        }
    });
    (
        kms_workshop_cleanup::Executor::new(clients, pace, opts, Some(etx)),
        forward,
    )
}
