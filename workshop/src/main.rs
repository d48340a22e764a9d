//! `kms-workshop`: runs the monitoring chapter of the AWS KMS workshop against a real account
//! or against the built-in offline sandbox, and hosts that sandbox for the `aws` CLI and SDKs.

mod cleanup_cmd;
mod sandbox_cmd;

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
    /// Remove everything the workshop created, in dependency order, safely and resumably.
    Cleanup(cleanup_cmd::CleanupArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
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
            Command::Cleanup(args) => cleanup_cmd::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(code) = cleanup_cmd::exit_code(&e) {
                return ExitCode::from(code);
            }
            eprintln!("error: {e:#}");
            ExitCode::from(sandbox_cmd::exit_code(&e))
        }
    }
}
