//! `kms-workshop`: runs the monitoring chapter of the AWS KMS workshop against a real account
//! or against the built-in offline sandbox, and hosts that sandbox for the `aws` CLI and SDKs.

// The account commands' futures nest the SDK's deeply (discovery, then the executor).
#![recursion_limit = "256"]

mod account_cmd;
mod mail;
mod run;
mod sandbox_access;
mod sandbox_cmd;
mod serve_args;
mod server_time;
mod target;
mod teardown;
mod util;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kms-workshop",
    version,
    about = "The AWS KMS workshop's monitoring chapter, guided and verified, with an offline AWS sandbox."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Host or talk to the offline AWS sandbox (KMS, STS, CloudTrail over the real AWS protocols).
    Sandbox {
        #[command(subcommand)]
        command: sandbox_cmd::SandboxCommand,
    },
    /// Walk through the monitoring chapter: each step explained, done (by you or for you) and
    /// verified, with progress saved after every step.
    Run(run::RunArgs),
    /// Show the guided run's progress and the resources it created.
    Status {
        /// Progress file (default: the user's data directory).
        #[arg(long, value_name = "FILE")]
        state: Option<std::path::PathBuf>,
        /// The whole progress file as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Forget one step's progress (it runs again), or all of it. Resources in the account are
    /// not touched: `kms-workshop cleanup` removes those.
    Reset {
        /// The step to forget (see `kms-workshop status`).
        step: Option<String>,
        /// Forget all progress.
        #[arg(long)]
        all: bool,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
        #[arg(long, value_name = "FILE")]
        state: Option<std::path::PathBuf>,
    },
    /// Remove everything the workshop created, in dependency order, safely and resumably.
    Cleanup(account_cmd::cleanup::CleanupArgs),
    /// Set an account up as the monitoring chapter starts (the stack, the instance, the keys,
    /// the policies, the volume, the sample files), or reset it (--fresh), safely and
    /// resumably; for a class of accounts with --accounts.
    Prepare(account_cmd::prepare::PrepareArgs),
}

/// Ends a command with `message` on stderr and exit status `code` (2 usage or configuration,
/// 3 credentials or access, 1 anything else that failed, 130 interrupted).
#[derive(Debug)]
pub struct ExitWith {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitWith {}

/// Warnings, except the credential chain's probes: without credentials every provider that finds
/// none (the instance metadata service off EC2, above all) logs a warning of its own, while the
/// command itself says plainly which account, or the sandbox, it uses. `RUST_LOG` overrides.
const DEFAULT_LOG_FILTER: &str =
    "warn,aws_config::imds=off,aws_config::meta::credentials::chain=off";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Sandbox { command } => sandbox_cmd::run(command).await,
            Command::Cleanup(args) => account_cmd::cleanup::run(args).await,
            Command::Prepare(args) => account_cmd::prepare::run(args).await,
            Command::Run(args) => run::run(args).await,
            Command::Status { state, json } => run::status(state, json),
            Command::Reset {
                step,
                all,
                yes,
                state,
            } => run::reset(state, step, all, yes),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(x) = e.downcast_ref::<ExitWith>() {
                if !x.message.is_empty() {
                    eprintln!("error: {}", x.message);
                }
                return ExitCode::from(x.code);
            }
            eprintln!("error: {e:#}");
            ExitCode::from(sandbox_cmd::exit_code(&e))
        }
    }
}
