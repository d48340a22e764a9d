//! `kms-workshop sandbox …`: serve the sandbox, print the environment that points the `aws`
//! CLI and SDKs at it, and move its clock.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use kms_workshop_sandbox::{seed, Config, Sandbox, Seed};

/// Default port of `sandbox serve` (and of `--endpoint`).
pub const DEFAULT_PORT: u16 = 4599;

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Start the sandbox and serve until interrupted (Ctrl-C).
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
        /// Address to listen on. Only loopback is safe: the sandbox's credentials are public.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Keep state (keys, event history, clock) in this directory across restarts; without
        /// it the state lives in memory and is gone when the sandbox stops.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// What a new state starts with.
        #[arg(long, value_enum, default_value_t = SeedArg::Workshop)]
        seed: SeedArg,
        /// Delay before a call shows up in CloudTrail event history (AWS: about 5 minutes).
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
        cloudtrail_delay: std::time::Duration,
        /// Accept any access key without checking signatures (LocalStack-style test/test).
        #[arg(long)]
        accept_any_credentials: bool,
        /// Enforce CloudTrail's limit of 2 LookupEvents requests per second.
        #[arg(long)]
        lookup_rate_limit: bool,
    },
    /// Print `export` lines that point the aws CLI and SDKs at a running sandbox:
    /// eval "$(kms-workshop sandbox env)".
    Env {
        #[arg(long, env = "KMS_WORKSHOP_ENDPOINT", default_value = "http://127.0.0.1:4599")]
        endpoint: String,
        /// Whose credentials: the learner's IAM user, or the workshop instance's role session.
        #[arg(long, value_enum, default_value_t = IdentityArg::Learner)]
        identity: IdentityArg,
        #[arg(long, default_value = seed::REGION)]
        region: String,
    },
    /// Show or move the sandbox clock.
    Clock {
        #[command(subcommand)]
        command: ClockCommand,
    },
}

#[derive(Subcommand)]
pub enum ClockCommand {
    /// Move the sandbox clock forward, e.g. `15d`, `11days`, `1h 30m`.
    Advance {
        #[arg(value_parser = parse_duration)]
        duration: std::time::Duration,
        #[arg(long, env = "KMS_WORKSHOP_ENDPOINT", default_value = "http://127.0.0.1:4599")]
        endpoint: String,
    },
    /// Print the sandbox's current time.
    Show {
        #[arg(long, env = "KMS_WORKSHOP_ENDPOINT", default_value = "http://127.0.0.1:4599")]
        endpoint: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SeedArg {
    /// The learner's account at the start of the monitoring chapter.
    Workshop,
    /// Identities only.
    Empty,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum IdentityArg {
    Learner,
    Instance,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("'{s}' is not a duration ({e}); examples: 0s, 300ms, 5m, 15d"))
}

pub fn exit_code(e: &anyhow::Error) -> u8 {
    // `SandboxError::Store` is `#[error(transparent)]`, so the `StoreError` inside it never shows
    // up in the chain on its own: look for the wrapper too.
    let store = |c: &(dyn std::error::Error + 'static)| {
        c.downcast_ref::<kms_workshop_sandbox::store::StoreError>().is_some()
            || matches!(c.downcast_ref::<kms_workshop_sandbox::SandboxError>(), Some(kms_workshop_sandbox::SandboxError::Store(_)))
    };
    if e.chain().any(store) {
        2
    } else {
        1
    }
}

pub async fn run(cmd: SandboxCommand) -> Result<()> {
    match cmd {
        SandboxCommand::Serve { port, bind, state_dir, seed, cloudtrail_delay, accept_any_credentials, lookup_rate_limit } => {
            let config = Config {
                state_dir: state_dir.clone(),
                seed: match seed {
                    SeedArg::Workshop => Seed::Workshop,
                    SeedArg::Empty => Seed::Empty,
                },
                cloudtrail_delay: time::Duration::try_from(cloudtrail_delay).context("--cloudtrail-delay is too long")?,
                accept_any_credentials,
                lookup_rate_limit,
            };
            serve(config, SocketAddr::new(bind, port)).await
        }
        SandboxCommand::Env { endpoint, identity, region } => env(&endpoint, identity, &region).await,
        SandboxCommand::Clock { command } => match command {
            ClockCommand::Advance { duration, endpoint } => {
                let url = format!("{}/_sandbox/clock/advance?seconds={}", base(&endpoint), duration.as_secs_f64());
                let v = admin(reqwest::Client::new().post(&url), &endpoint).await?;
                println!("sandbox clock is now {} ({} s ahead of real time)", v["now"].as_str().unwrap_or("?"), v["offset_seconds"]);
                Ok(())
            }
            ClockCommand::Show { endpoint } => {
                let v = admin(reqwest::Client::new().get(format!("{}/_sandbox/clock", base(&endpoint))), &endpoint).await?;
                println!("{}", v["now"].as_str().unwrap_or("?"));
                Ok(())
            }
        },
    }
}

fn base(endpoint: &str) -> &str {
    endpoint.trim_end_matches('/')
}

async fn admin(req: reqwest::RequestBuilder, endpoint: &str) -> Result<serde_json::Value> {
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot reach the sandbox at {endpoint}: is `kms-workshop sandbox serve` running there?"))?;
    let status = resp.status();
    let v: serde_json::Value = resp.json().await.with_context(|| format!("{endpoint} did not answer like a kms-workshop sandbox"))?;
    if !status.is_success() {
        bail!("the sandbox at {endpoint} refused: {}", v["error"].as_str().unwrap_or("unknown error"));
    }
    Ok(v)
}

async fn serve(config: Config, addr: SocketAddr) -> Result<()> {
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {} — anyone who can reach it can use the sandbox's published credentials",
            addr.ip()
        );
    }
    let state = config.state_dir.clone();
    let seed_name = config.seed.name();
    let sandbox = Sandbox::open(config).context("cannot open the sandbox state")?;
    let running = kms_workshop_sandbox::serve(sandbox.clone(), addr).await?;
    let endpoint = running.endpoint();
    println!("kms-workshop sandbox listening on {endpoint}");
    match &state {
        Some(dir) => println!("  state: {} (seed {})", dir.display(), sandbox.seed_name()),
        None => println!("  state: in memory, lost on exit (seed {seed_name}); keep it with --state-dir DIR"),
    }
    println!("  account {}  region {}", seed::ACCOUNT, seed::REGION);
    println!("  use it from another shell:");
    println!("    eval \"$(kms-workshop sandbox env --endpoint {endpoint})\"");
    println!("    aws kms generate-data-key --key-id alias/ImportedCMK --key-spec AES_256 --encryption-context project=workshop");
    println!("  stop with Ctrl-C");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping the sandbox");
    running.shutdown().await;
    Ok(())
}

async fn env(endpoint: &str, identity: IdentityArg, region: &str) -> Result<()> {
    let v = admin(reqwest::Client::new().get(format!("{}/_sandbox/credentials", base(endpoint))), endpoint).await?;
    let creds = v["credentials"].as_array().cloned().unwrap_or_default();
    let wanted = match identity {
        IdentityArg::Learner => seed::LEARNER_ACCESS_KEY,
        IdentityArg::Instance => seed::INSTANCE_ACCESS_KEY,
    };
    let c = creds
        .iter()
        .find(|c| c["access_key_id"] == wanted)
        .with_context(|| format!("the sandbox at {endpoint} has no credentials for that identity"))?;
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    println!("export AWS_ENDPOINT_URL={}", q(base(endpoint)));
    println!("export AWS_ACCESS_KEY_ID={}", q(c["access_key_id"].as_str().unwrap_or_default()));
    println!("export AWS_SECRET_ACCESS_KEY={}", q(c["secret_access_key"].as_str().unwrap_or_default()));
    match c["session_token"].as_str() {
        Some(t) => println!("export AWS_SESSION_TOKEN={}", q(t)),
        None => println!("unset AWS_SESSION_TOKEN"),
    }
    println!("export AWS_REGION={}", q(region));
    println!("export AWS_DEFAULT_REGION={}", q(region));
    println!("unset AWS_PROFILE");
    Ok(())
}
