//! `kms-workshop cleanup`: find what the workshop created in an account, show the teardown
//! plan, and carry it out in dependency order with a live view, a journal to resume from, and
//! a final report. Exit codes: 0 clean, 1 something failed or remains, 2 usage or
//! configuration, 3 credentials or access.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_config::BehaviorVersion;
use clap::{Args, ValueEnum};
use kms_workshop_cleanup::{
    aws::caller_account, Clients, ErrorClass, Event, ExecOptions, Executor, Inventory, Journal,
    Outcome, Pace,
};

#[derive(Args, Debug)]
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
    /// Inventory of resources a guided run recorded (JSON).
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// If the stack still fails to delete after the fixes, delete it retaining what failed.
    #[arg(long)]
    retain_failed: bool,
    /// Most AWS calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    max_in_flight: u16,
    /// Speed up waits and backoffs by this factor (for sandboxes with fast lifecycles).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_scale, hide = true)]
    time_scale: f64,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum OutputArg {
    Text,
    Json,
}

/// Ends the command with an exit code after its output was printed.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "clean-up ended with exit code {}", self.0)
    }
}

impl std::error::Error for Exit {}

pub fn exit_code(e: &anyhow::Error) -> Option<u8> {
    e.downcast_ref::<Exit>().map(|x| x.0)
}

fn parse_window(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(n) if (7..=30).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a key deletion window: give a number of days from 7 to 30"
        )),
    }
}

fn parse_account(s: &str) -> Result<String, String> {
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
    eprintln!("error: {message}");
    anyhow::Error::new(Exit(code))
}

fn class_code(class: Option<ErrorClass>) -> u8 {
    match class {
        Some(ErrorClass::Credentials | ErrorClass::AccessDenied) => 3,
        _ => 1,
    }
}

pub async fn run(args: CleanupArgs) -> Result<()> {
    // The in-process sandbox lives as long as this command.
    let mut hosted = None;
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = args.regions.first() {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let endpoint = if args.sandbox {
        let state = args.sandbox_state.clone().or_else(default_sandbox_state);
        let config = kms_workshop_sandbox::Config {
            state_dir: state,
            ..Default::default()
        };
        let sb = kms_workshop_sandbox::Sandbox::open(config)
            .map_err(|e| fail(2, format!("cannot open the sandbox state: {e}")))?;
        let running =
            kms_workshop_sandbox::serve(sb, "127.0.0.1:0".parse().context("loopback address")?)
                .await
                .map_err(|e| fail(2, format!("cannot start the sandbox: {e}")))?;
        let url = running.endpoint();
        hosted = Some(running);
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            kms_workshop_sandbox::seed::LEARNER_ACCESS_KEY,
            kms_workshop_sandbox::seed::LEARNER_SECRET_KEY,
            None,
            None,
            "kms-workshop-sandbox",
        ));
        if args.regions.is_empty() {
            loader = loader.region(aws_config::Region::new(kms_workshop_sandbox::seed::REGION));
        }
        Some(url)
    } else {
        args.endpoint.clone()
    };
    if let Some(url) = &endpoint {
        if url::Url::parse(url).is_err() {
            return Err(fail(
                2,
                format!("--endpoint '{url}' is not a URL (e.g. http://127.0.0.1:4599)"),
            ));
        }
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let Some(home) = config.region().map(|r| r.to_string()) else {
        return Err(fail(
            2,
            "no region: give --region R (or set AWS_REGION / a profile's region)",
        ));
    };
    let mut regions = args.regions.clone();
    if regions.is_empty() {
        regions.push(home);
    }
    let account = match caller_account(&config).await {
        Ok(a) => a,
        Err(e) => {
            return Err(fail(
                class_code(Some(e.class)).max(if e.class == ErrorClass::Network { 2 } else { 0 }),
                format!("cannot tell whose account this is: {e}"),
            ))
        }
    };
    if let Some(want) = &args.account_id {
        if want != &account {
            return Err(fail(
                2,
                format!("--account-id {want} does not match the credentials' account {account}: nothing done"),
            ));
        }
    }
    let against_aws = endpoint.is_none();
    let json = args.output == OutputArg::Json;
    if against_aws && !args.dry_run {
        eprintln!("AWS account {account}, region(s) {}", regions.join(", "));
        if args.yes {
            if args.account_id.is_none() {
                return Err(fail(
                    2,
                    format!("--yes against AWS needs --account-id {account} as well"),
                ));
            }
        } else {
            if !std::io::stdin().is_terminal() {
                return Err(fail(
                    2,
                    "no terminal to confirm on: pass --yes --account-id ID",
                ));
            }
            eprint!("Type the account id to delete the workshop's resources in it: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the confirmation")?;
            if line.trim() != account {
                return Err(fail(2, "the account id typed does not match: nothing done"));
            }
        }
    }
    let inventory = match &args.inventory {
        Some(p) => Inventory::load(p).map_err(|e| fail(2, e))?,
        None => Inventory::default(),
    };
    let journal = match &args.journal {
        Some(dir) => Some(Journal::open(dir, &account).map_err(|e| fail(2, e))?),
        None => None,
    };
    let clients = Clients::new(&config, &account, &regions, endpoint.is_some());
    let pace = Pace::new(usize::from(args.max_in_flight), 10.0, args.time_scale);
    let opts = ExecOptions {
        retain_failed: args.retain_failed,
        ..ExecOptions::default()
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let view =
        (!args.dry_run).then(|| tokio::spawn(live_view(rx, std::io::stderr().is_terminal())));
    let executor = Executor::new(clients, pace, opts, Some(tx));
    let result = executor
        .run(&inventory, journal.as_ref(), args.key_window, args.dry_run)
        .await;
    drop(executor);
    if let Some(v) = view {
        let _ = v.await;
    }
    if let Some(h) = hosted {
        h.shutdown().await;
    }
    let (plan, report) = match result {
        Ok(r) => r,
        Err(e) => return Err(fail(class_code(e.class()), e)),
    };
    if json {
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
    Err(anyhow::Error::new(Exit(if report.access_problem {
        3
    } else {
        1
    })))
}

fn default_sandbox_state() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("kms-workshop/sandbox"))
}

/// One line per branch with its current action and elapsed time (indicatif on a terminal,
/// plain lines otherwise).
async fn live_view(mut rx: tokio::sync::mpsc::UnboundedReceiver<Event>, tty: bool) {
    let start = Instant::now();
    if !tty {
        while let Some(e) = rx.recv().await {
            let t = start.elapsed().as_secs_f64();
            match e {
                Event::Started { branch, action } => eprintln!("[{t:6.1}s] {branch}: {action}"),
                Event::Retrying {
                    branch,
                    action,
                    reason,
                } => {
                    eprintln!("[{t:6.1}s] {branch}: {action}: retrying ({reason})")
                }
                Event::Finished {
                    branch,
                    action,
                    outcome,
                } => {
                    eprintln!("[{t:6.1}s] {branch}: {action}: {}", outcome_word(outcome))
                }
            }
        }
        return;
    }
    let multi = indicatif::MultiProgress::new();
    let style =
        indicatif::ProgressStyle::with_template("{spinner} {prefix:>10} [{elapsed:>4}] {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let mut bars: BTreeMap<&'static str, (indicatif::ProgressBar, usize)> = BTreeMap::new();
    loop {
        let e = tokio::select! {
            e = rx.recv() => e,
            _ = tokio::time::sleep(Duration::from_millis(120)) => {
                for (b, _) in bars.values() { b.tick(); }
                continue;
            }
        };
        let Some(e) = e else { break };
        let branch = match &e {
            Event::Started { branch, .. }
            | Event::Retrying { branch, .. }
            | Event::Finished { branch, .. } => *branch,
        };
        let (bar, running) = bars.entry(branch).or_insert_with(|| {
            let b = multi.add(indicatif::ProgressBar::new_spinner());
            b.set_style(style.clone());
            b.set_prefix(branch);
            (b, 0)
        });
        match e {
            Event::Started { action, .. } => {
                *running += 1;
                bar.set_message(action);
            }
            Event::Retrying { action, reason, .. } => {
                bar.set_message(format!("{action}: retrying ({reason})"))
            }
            Event::Finished {
                action, outcome, ..
            } => {
                *running = running.saturating_sub(1);
                bar.set_message(format!("{action}: {}", outcome_word(outcome)));
            }
        }
    }
    for (b, _) in bars.values() {
        b.finish();
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Changed => "done",
        Outcome::AlreadyGone => "already gone",
        Outcome::DoneEarlier => "done earlier",
        Outcome::Failed => "FAILED",
        Outcome::Blocked => "blocked",
    }
}
