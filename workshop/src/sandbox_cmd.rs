//! `kms-workshop sandbox …`: serve the sandbox, print the environment that points the `aws`
//! CLI and SDKs at it, and move its clock.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use kms_workshop_sandbox::http::admin_api::{AdminError, LearnerView};
use kms_workshop_sandbox::services::sns::OutboxMessage;
use kms_workshop_sandbox::{seed, Config, Sandbox};

use crate::sandbox_access::{self, Reach};
pub use crate::serve_args::ServeArgs;

/// Default port of `sandbox serve` (and of `--endpoint`).
pub const DEFAULT_PORT: u16 = 4599;

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Start the sandbox and serve until interrupted (Ctrl-C).
    Serve(ServeArgs),
    /// Print `export` lines that point the aws CLI and SDKs at a running sandbox:
    /// eval "$(kms-workshop sandbox env)".
    Env {
        #[command(flatten)]
        reach: Reach,
        /// Whose credentials: the learner's IAM user, the workshop instance's role session, or
        /// (classroom mode) the instructor.
        #[arg(long, value_enum, default_value_t = IdentityArg::Learner)]
        identity: IdentityArg,
        /// Which learner (classroom mode: `sandbox serve --learners N`); default 1, or with
        /// --console and a learner's own keys in the environment, that learner.
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
        learner: Option<u32>,
        #[arg(long, default_value = seed::REGION)]
        region: String,
        /// Instead of the environment, print a one-time link that signs the learner (or, with
        /// --identity instructor, the instructor: the class view) in to the sandbox's web
        /// console (it works once, for five minutes).
        #[arg(long)]
        console: bool,
    },
    /// Re-seed one learner's account, or every one (`--all`): everything in it (keys, roles,
    /// instances, topics, event history, messages) is replaced by the starting state.
    Reset {
        /// The learner whose account to reset.
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..), required_unless_present = "all", conflicts_with = "all")]
        learner: Option<u32>,
        /// Reset every learner's account: the whole sandbox back at its starting state (its
        /// clock keeps its time).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        reach: Reach,
    },
    /// List the learners (accounts and access keys) of a running sandbox.
    Learners {
        #[command(flatten)]
        reach: Reach,
    },
    /// Show the messages the sandbox's SNS delivered (emails and http deliveries).
    Inbox {
        #[command(flatten)]
        reach: Reach,
        /// One JSON object per line, with the full SNS document.
        #[arg(long)]
        json: bool,
        /// Keep watching for new messages until interrupted.
        #[arg(long)]
        follow: bool,
        /// Only messages to this recipient (email address or URL).
        #[arg(long, value_name = "RECIPIENT")]
        to: Option<String>,
        /// Only messages sent in this learner's account (classroom mode).
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
        learner: Option<u32>,
    },
    /// Confirm pending SNS subscriptions by following their confirmation links, as a person
    /// clicking "Confirm subscription" in the email would.
    Confirm {
        #[command(flatten)]
        reach: Reach,
        /// A subscription ARN or recipient; without it, every subscription that was sent a
        /// confirmation is confirmed.
        subscription: Option<String>,
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
        #[arg(value_parser = crate::util::parse_duration)]
        duration: std::time::Duration,
        #[command(flatten)]
        reach: Reach,
    },
    /// Print the sandbox's current time.
    Show {
        #[command(flatten)]
        reach: Reach,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum IdentityArg {
    Learner,
    Instance,
    Instructor,
}

pub fn exit_code(e: &anyhow::Error) -> u8 {
    // `SandboxError::Store` is `#[error(transparent)]`, so the `StoreError` inside it never shows
    // up in the chain on its own: look for the wrapper too.
    let store = |c: &(dyn std::error::Error + 'static)| {
        c.downcast_ref::<kms_workshop_sandbox::store::StoreError>()
            .is_some()
            || matches!(
                c.downcast_ref::<kms_workshop_sandbox::SandboxError>(),
                Some(kms_workshop_sandbox::SandboxError::Store(_))
            )
    };
    if e.chain().any(store) {
        2
    } else {
        1
    }
}

pub async fn run(cmd: SandboxCommand) -> Result<()> {
    match cmd {
        SandboxCommand::Serve(args) => {
            let addr = SocketAddr::new(args.bind, args.port);
            serve(args.config()?, addr).await
        }
        SandboxCommand::Env {
            reach,
            identity,
            learner,
            region,
            console: false,
        } => env(&reach, identity, learner.unwrap_or(1), &region).await,
        SandboxCommand::Env {
            reach,
            identity,
            learner,
            console: true,
            ..
        } => console_link(&reach, identity, learner).await,
        SandboxCommand::Reset {
            learner: Some(learner),
            reach,
            ..
        } => {
            let v = admin(reach.client()?.reset_learner(learner).await)?;
            println!(
                "learner {learner}'s account {} is back at its starting state",
                v.account
            );
            Ok(())
        }
        SandboxCommand::Reset { reach, .. } => {
            let v = admin(reach.client()?.reset_all().await)?;
            for l in &v.learners {
                println!(
                    "learner {}'s account {} is back at its starting state",
                    l.learner, l.account
                );
            }
            Ok(())
        }
        SandboxCommand::Learners { reach } => {
            let v = fetch_learners(&reach).await?;
            println!(
                "{:>7}  {:<12}  {:<24}  secret access key",
                "learner", "account", "access key id"
            );
            for l in &v.learners {
                println!(
                    "{:>7}  {:<12}  {:<24}  {}",
                    l.number, l.account, l.access_key_id, l.secret_access_key
                );
            }
            if let Some(i) = &v.instructor {
                println!(
                    "instructor: account {} key {} (assume arn:aws:iam::<learner account>:role/{})",
                    i.account, i.access_key_id, i.role
                );
            }
            Ok(())
        }
        SandboxCommand::Inbox {
            reach,
            json,
            follow,
            to,
            learner,
        } => {
            let account = match learner {
                Some(k) => Some(learner_account(&reach, k).await?),
                None => None,
            };
            inbox(&reach, json, follow, to.as_deref(), account.as_deref()).await
        }
        SandboxCommand::Confirm {
            reach,
            subscription,
        } => confirm(&reach, subscription.as_deref()).await,
        SandboxCommand::Clock { command } => match command {
            ClockCommand::Advance { duration, reach } => {
                let v = admin(reach.client()?.advance_clock(duration.as_secs_f64()).await)?;
                println!(
                    "sandbox clock is now {} ({} s ahead of real time)",
                    v.now, v.offset_seconds
                );
                Ok(())
            }
            ClockCommand::Show { reach } => {
                let v = admin(reach.client()?.clock().await)?;
                println!("{}", v.now);
                Ok(())
            }
        },
    }
}

/// A control call's answer, or an error that says what to do (start the sandbox, …).
fn admin<T>(answer: Result<T, AdminError>) -> Result<T> {
    answer.map_err(|e| match e {
        AdminError::Unreachable { .. } => {
            anyhow::anyhow!("{e}: is `kms-workshop sandbox serve` running there?")
        }
        AdminError::Refused { status: 401, .. } => anyhow::anyhow!(
            "{e}\n(give the sandbox's admin token with --token or {}, or its --state-dir; \
             `sandbox serve` prints it)",
            sandbox_access::TOKEN_ENV
        ),
        other => other.into(),
    })
}

async fn serve(config: Config, addr: SocketAddr) -> Result<()> {
    // Without signature checks any key id acts as its owner: fine for one person on loopback,
    // never for a class (learner K could act in learner J's account).
    if config.accept_any_credentials && (config.learners > 1 || !addr.ip().is_loopback()) {
        bail!(
            "--accept-any-credentials lets anyone act as any identity: it cannot be combined \
             with --learners above 1 or a --bind address other than loopback"
        );
    }
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}: anyone who can reach it can try the sandbox's AWS API (learners \
             need their keys from `sandbox env`; the control API needs the admin token)",
            addr.ip()
        );
    }
    let state = config.state_dir.clone();
    let seed_name = config.seed.name();
    let sandbox = Sandbox::open(config).context("cannot open the sandbox state")?;
    let running =
        kms_workshop_sandbox::serve_with(sandbox.clone(), addr, kms_workshop_console::routes())
            .await?;
    let endpoint = running.endpoint();
    // This user's other commands find the token by the endpoint they are given: a sandbox on
    // every interface is reached as 127.0.0.1 from here.
    let local = if addr.ip().is_unspecified() {
        format!("http://127.0.0.1:{}", running.addr.port())
    } else {
        endpoint.clone()
    };
    // Without it the other commands need --token: worth a warning, not a refusal to serve.
    let _published = sandbox_access::publish(&local, sandbox.admin_token())
        .map_err(|e| {
            eprintln!(
                "warning: cannot leave the admin token for this user's kms-workshop commands \
                 ({e:#}); give it to them with --token or {}",
                sandbox_access::TOKEN_ENV
            )
        })
        .ok();
    println!("kms-workshop sandbox listening on {endpoint}");
    println!(
        "  admin token: {} (the kms-workshop commands of this user on this machine find it; \
         elsewhere give it as {}=TOKEN or --token)",
        sandbox.admin_token(),
        sandbox_access::TOKEN_ENV
    );
    match &state {
        Some(dir) => println!("  state: {} (seed {})", dir.display(), sandbox.seed_name()),
        None => println!(
            "  state: in memory, lost on exit (seed {seed_name}); keep it with --state-dir DIR"
        ),
    }
    let learners = sandbox.learners();
    if learners.len() > 1 {
        println!(
            "  classroom: {} learners, accounts {}–{}, region {}",
            learners.len(),
            learners.first().map(|l| l.1.as_str()).unwrap_or(""),
            learners.last().map(|l| l.1.as_str()).unwrap_or(""),
            seed::REGION
        );
        println!(
            "    learner K: eval \"$(kms-workshop sandbox env --endpoint {endpoint} --learner K)\""
        );
        println!("    instructor: eval \"$(kms-workshop sandbox env --endpoint {endpoint} --identity instructor)\", then assume arn:aws:iam::<account>:role/{}", seed::CLASSROOM_ROLE);
        println!(
            "    class view: kms-workshop sandbox env --endpoint {endpoint} --console --identity \
             instructor (a sign-in link)"
        );
    } else {
        let account = learners
            .first()
            .map(|l| l.1.as_str())
            .unwrap_or(seed::ACCOUNT);
        println!("  account {account}  region {}", seed::REGION);
    }
    println!("  use it from another shell:");
    println!("    eval \"$(kms-workshop sandbox env --endpoint {endpoint})\"");
    println!("    aws kms generate-data-key --key-id alias/ImportedCMK --key-spec AES_256 --encryption-context project=workshop");
    println!(
        "  web console: {endpoint}/console/ (sign in with the link `kms-workshop sandbox env \
         --endpoint {endpoint} --console` prints)"
    );
    println!("  stop with Ctrl-C");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    // A closed terminal or dropped ssh session stops it as cleanly (the token file goes too).
    let mut hangup = signal(SignalKind::hangup()).context("cannot watch for SIGHUP")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hangup.recv() => {}
    }
    eprintln!("stopping the sandbox");
    running.shutdown().await;
    Ok(())
}

async fn fetch_learners(
    reach: &Reach,
) -> Result<kms_workshop_sandbox::http::admin_api::LearnersView> {
    admin(reach.client()?.learners().await)
}

/// Learner `k`'s entry, or an error listing the learners there are.
async fn learner_entry(reach: &Reach, k: u32) -> Result<LearnerView> {
    let all = fetch_learners(reach).await?.learners;
    let endpoint = &reach.endpoint;
    all.iter()
        .find(|l| l.number == k)
        .cloned()
        .with_context(|| {
            format!(
                "the sandbox at {endpoint} has no learner {k}: it has learners 1 to {} (start it with --learners N for more)",
                all.len()
            )
        })
}

async fn learner_account(reach: &Reach, k: u32) -> Result<String> {
    Ok(learner_entry(reach, k).await?.account)
}

async fn env(reach: &Reach, identity: IdentityArg, learner: u32, region: &str) -> Result<()> {
    let creds = admin(reach.client()?.credentials().await)?.credentials;
    let endpoint = &reach.endpoint;
    let wanted = match identity {
        IdentityArg::Instructor => seed::INSTRUCTOR_ACCESS_KEY.to_string(),
        IdentityArg::Learner => learner_entry(reach, learner).await?.access_key_id,
        _ => learner_entry(reach, learner).await?.instance_access_key_id,
    };
    let c = creds
        .iter()
        .find(|c| c.access_key_id == wanted)
        .with_context(|| match identity {
            IdentityArg::Instructor => format!(
                "the sandbox at {endpoint} has no instructor: start it in classroom mode (--learners 2 or more)"
            ),
            _ => format!("the sandbox at {endpoint} has no credentials for that identity"),
        })?;
    let keys = aws_credential_types::Credentials::new(
        &c.access_key_id,
        &c.secret_access_key,
        c.session_token.clone(),
        None,
        "sandbox",
    );
    for line in sandbox_access::env_lines(endpoint, &keys, region) {
        println!("{line}");
    }
    Ok(())
}

/// `sandbox env --console`: a one-time sign-in link to the web console for learner `k`, or
/// (`--identity instructor`, admin token only) for the instructor's class view.
async fn console_link(reach: &Reach, identity: IdentityArg, k: Option<u32>) -> Result<()> {
    let client = reach.client()?;
    let v = match identity {
        IdentityArg::Instance => bail!(
            "the web console signs in people, not the instance: give --identity learner (the \
             default) or --identity instructor"
        ),
        IdentityArg::Instructor if k.is_some() => {
            bail!("--learner names a learner: leave it out with --identity instructor")
        }
        IdentityArg::Instructor => admin(client.instructor_console_link().await)?,
        // Without --learner the sandbox decides: learner 1 for the admin token, the signing
        // learner for a learner's own keys.
        IdentityArg::Learner => admin(client.console_link(k).await)?,
    };
    println!("{}", v.url);
    let whom = match v.learner {
        0 => "the instructor".to_string(),
        n => format!("learner {n}"),
    };
    eprintln!(
        "open it in a browser to sign in as {whom} (account {}); it works once, for {} minutes",
        v.account,
        v.expires_in_seconds / 60
    );
    Ok(())
}

async fn fetch_outbox(reach: &Reach, after: u64) -> Result<Vec<OutboxMessage>> {
    admin(reach.client()?.outbox(after, None).await)
}

fn print_message(m: &OutboxMessage, json: bool) {
    if json {
        println!("{}", serde_json::to_string(m).unwrap_or_default());
        return;
    }
    println!("{}\n", crate::mail::render(m));
}

async fn inbox(
    reach: &Reach,
    json: bool,
    follow: bool,
    to: Option<&str>,
    account: Option<&str>,
) -> Result<()> {
    let mut last = 0u64;
    let mut shown = 0usize;
    loop {
        for m in fetch_outbox(reach, last).await? {
            last = last.max(m.seq);
            if to.is_some_and(|t| m.recipient != t) || account.is_some_and(|a| m.account != a) {
                continue;
            }
            print_message(&m, json);
            shown += 1;
        }
        if !follow {
            if shown == 0 && !json {
                println!("(no messages yet)");
            }
            return Ok(());
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
        }
    }
}

/// The text of `<tag>…</tag>` in a small XML answer.
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

async fn confirm(reach: &Reach, which: Option<&str>) -> Result<()> {
    let messages = fetch_outbox(reach, 0).await?;
    // The latest confirmation sent for each subscription.
    let mut latest: std::collections::BTreeMap<String, OutboxMessage> = Default::default();
    for m in messages
        .into_iter()
        .filter(|m| m.kind == "SubscriptionConfirmation")
    {
        let arn = m.subscription_arn.clone();
        let wanted = which.is_none_or(|w| w == arn || m.recipient == w);
        if wanted {
            latest.insert(arn, m);
        }
    }
    if latest.is_empty() {
        match which {
            Some(w) => bail!("no confirmation message for {w} in the sandbox outbox (see `kms-workshop sandbox inbox`)"),
            None => bail!("no confirmation messages in the sandbox outbox: subscribe an endpoint first"),
        }
    }
    let client = reqwest::Client::new();
    let mut failures = 0;
    for (arn, m) in latest {
        let url = crate::mail::confirmation_link(&m).unwrap_or_default();
        let resp = client
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot follow the confirmation link {url}"))?;
        let ok = resp.status().is_success();
        let body = resp.text().await.unwrap_or_default();
        if ok {
            println!(
                "confirmed {} ({})",
                xml_text(&body, "SubscriptionArn").unwrap_or(&arn),
                m.recipient
            );
        } else {
            failures += 1;
            eprintln!(
                "could not confirm {arn}: {} {}",
                xml_text(&body, "Code").unwrap_or("error"),
                xml_text(&body, "Message").unwrap_or("")
            );
        }
    }
    if failures > 0 {
        bail!("{failures} subscription(s) could not be confirmed");
    }
    Ok(())
}
