//! `kms-workshop run`: the monitoring chapter of the KMS workshop as a guided, verified,
//! resumable walk-through (steps in `workshop/steps/monitoring.toml`), and `status` / `reset`
//! for its progress file.
//!
//! For each step the learner reads what it is about and the equivalent `aws` command, then
//! either lets the runner do it or does it themselves; either way the step is verified against
//! named criteria, and the progress file is rewritten. Against the sandbox the runner also
//! plays the learner's inbox (confirming the subscription) and the calendar (moving the clock
//! so the alarm fires).

mod admin;
pub mod checks;
mod ctx;
mod progress_cmds;
mod shell;
pub mod state;
pub mod steps;
pub mod text;
pub mod ui;
mod walk;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::target::{Target, TargetArgs, TargetKind};
use crate::ExitWith;
pub use ctx::Ctx;
pub use progress_cmds::{reset, status};
use state::{Progress, TargetRecord};
use steps::{GenerateDataKey, Step};
use ui::Ui;

/// The workshop's names and defaults (defined once in `kms_workshop_names`).
pub use kms_workshop_names::{
    ALARM as ALARM_NAME, DISPLAY_NAME as DEFAULT_DISPLAY_NAME, IMPORTED_ALIAS as KEY_ALIAS,
    RULE as RULE_NAME, TOPIC as DEFAULT_TOPIC,
};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Run every step with the answers given as flags and defaults; never prompt.
    #[arg(long)]
    pub non_interactive: bool,
    /// Email address to subscribe to the topic (asked for when interactive).
    #[arg(long, value_name = "ADDR")]
    pub email: Option<String>,
    /// Name of the SNS topic.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_TOPIC)]
    pub topic: String,
    /// The topic's display name (at most 10 characters, as the workshop asks).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_DISPLAY_NAME)]
    pub display_name: String,
    /// Alarm when fewer than this many seconds of key material validity remain (default 10
    /// days, as the KMS guide recommends).
    #[arg(long, value_name = "SECONDS", default_value_t = 864_000.0, value_parser = parse_threshold, allow_negative_numbers = true)]
    pub alarm_threshold: f64,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Progress file (default: the user's data directory).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Against AWS: create resources without asking (non-interactive runs need it).
    #[arg(long)]
    pub yes: bool,
    /// Stop before the clean-up step and keep everything.
    #[arg(long)]
    pub keep: bool,
    /// Against AWS, the account the clean-up may delete in (non-interactive runs need it).
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// How long to wait for CloudTrail to show a call (AWS: about 5 minutes on average).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = crate::util::parse_duration)]
    pub cloudtrail_timeout: Duration,
    /// How long to wait for the confirmation link in the email to be followed (on AWS a
    /// person must click it).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::util::parse_duration)]
    pub confirm_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

fn parse_threshold(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n <= 365.0 * 86_400.0 => Ok(n),
        _ => Err(format!(
            "'{s}' is not an alarm threshold: give seconds, more than 0 and at most 31536000 (365 days)"
        )),
    }
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ExitWith {
        code: 2,
        message: message.into(),
    })
}

/// Check the answers before anything touches an account: each bad one is a usage error
/// (exit 2) naming the flag and what it accepts.
fn check_answers(args: &RunArgs) -> Result<()> {
    kms_workshop_notify::validate_topic_name(&args.topic)
        .map_err(|e| usage(format!("--topic: {e}")))?;
    kms_workshop_notify::validate_display_name(&args.display_name)
        .map_err(|e| usage(format!("--display-name: {e}")))?;
    if let Some(email) = &args.email {
        kms_workshop_notify::validate_email(email).map_err(|e| usage(format!("--email: {e}")))?;
    }
    if let Some(id) = &args.account_id {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(usage(format!(
                "--account-id '{id}' is not an AWS account id: give the 12 digits"
            )));
        }
    }
    Ok(())
}
pub async fn run(args: RunArgs) -> Result<()> {
    let interactive = !args.non_interactive;
    check_invocation(&args, interactive)?;
    let path = match args.state.clone().or_else(state::default_path) {
        Some(p) => p,
        None => {
            return Err(usage(
                "no data directory (HOME is unset): give --state FILE",
            ))
        }
    };
    let progress = Progress::load(&path).map_err(|e| usage(e.to_string()))?;
    let ui = Ui {
        interactive,
        json: args.output == Output::Json,
    };

    let sandbox_config = kms_workshop_sandbox::Config::default();
    let target = Target::resolve(&args.target, true, sandbox_config)
        .await
        .map_err(crate::target::into_anyhow)?;
    if let Some(why) = crate::target::on_workshop_instance(&target.arn) {
        target.shutdown().await;
        return Err(usage(why));
    }
    match target.kind {
        TargetKind::Sandbox => ui.note(format!(
            "No AWS account in use: running against {}. Nothing here touches AWS.",
            target.describe()
        )),
        _ => ui.note(format!("Running against {}.", target.describe())),
    }
    let probe = match (&target.kind, target.sandbox(), &target.endpoint) {
        (TargetKind::Sandbox, Some(sb), _) => admin::Probe {
            admin: Some(admin::Admin::InProcess(sb.clone())),
            time_scale: 1.0,
            sandbox: true,
        },
        (TargetKind::Endpoint, _, Some(url)) => admin::Admin::probe(url, &target.config).await,
        _ => admin::Probe {
            time_scale: 1.0,
            ..Default::default()
        },
    };
    let (admin, time_scale, a_sandbox) = (probe.admin, probe.time_scale, probe.sandbox);
    let key_id = match require_key(&target, &progress).await {
        Ok(k) => k,
        Err(e) => {
            target.shutdown().await;
            return Err(e);
        }
    };
    let here = TargetRecord {
        kind: target.kind,
        account: target.account.clone(),
        region: target.region.clone(),
        endpoint: target
            .endpoint
            .clone()
            .filter(|_| target.kind == TargetKind::Endpoint),
    };
    let mut progress = claim_progress(progress, &here, &path, &ui)?;
    confirm_creation(&target, &args, &ui, &path)?;
    progress.target = Some(here);

    let email = match args.email.clone() {
        Some(e) => e,
        None => ui
            .input("Email address for the notifications", None, |s| {
                kms_workshop_notify::validate_email(s).map_err(|e| e.to_string())
            })
            .map_err(|_| interrupted(&path))?,
    };
    let cfg = target.config.clone();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(target.endpoint.is_some())
            .build(),
    );
    let mut cx = Ctx {
        admin,
        progress,
        path,
        ui,
        email,
        topic: args.topic.clone(),
        display_name: args.display_name.clone(),
        threshold: args.alarm_threshold,
        cloudtrail_timeout: args.cloudtrail_timeout,
        confirm_timeout: args.confirm_timeout,
        now_at: time::OffsetDateTime::now_utc(),
        key_id,
        target_flags: target_flags(&target, &args.target),
        settings_shown: false,
        time_scale,
        a_sandbox,
        yes: args.yes,
        account_id: args.account_id.clone(),
        kms: aws_sdk_kms::Client::new(&cfg),
        trail: aws_sdk_cloudtrail::Client::new(&cfg),
        sns: aws_sdk_sns::Client::new(&cfg),
        events: aws_sdk_eventbridge::Client::new(&cfg),
        cw: aws_sdk_cloudwatch::Client::new(&cfg),
        s3,
        target,
    };
    cx.save()?;
    let token_file = cx
        .target
        .published
        .as_ref()
        .and_then(|p| p.path().map(Path::to_path_buf));
    exit_on_ctrl_c(cx.path.clone(), token_file);

    let result = walk::walk(&mut cx, args.keep).await;
    let target = cx.target;
    target.shutdown().await;
    result
}

/// How the command was called: questions need a terminal, and without one the email address
/// must be given; then the answers themselves.
fn check_invocation(args: &RunArgs, interactive: bool) -> Result<()> {
    if interactive && !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(usage(
            "no terminal to ask questions on: run `kms-workshop run --non-interactive --email ADDR` \
             (add --sandbox for the offline sandbox, --output json for machine-readable results)",
        ));
    }
    if !interactive && args.email.is_none() {
        return Err(usage(
            "--non-interactive needs --email ADDR (the address to subscribe to the topic)",
        ));
    }
    check_answers(args)
}

/// The flags that point `kms-workshop cleanup` (run by the learner) at `target`.
fn target_flags(target: &Target, args: &crate::target::TargetArgs) -> String {
    let mut flags = Vec::new();
    match (&target.kind, &target.endpoint) {
        (TargetKind::Sandbox | TargetKind::Endpoint, Some(url)) => {
            flags.push(format!("--endpoint {}", crate::util::shell_word(url)));
        }
        _ => {
            if let Some(p) = &args.profile {
                flags.push(format!("--profile {}", crate::util::shell_word(p)));
            }
        }
    }
    flags.push(format!(
        "--region {}",
        crate::util::shell_word(&target.region)
    ));
    flags.join(" ")
}

/// The chapter starts from the key with imported material; without it nothing can work
/// (once the first step is done, the clean-up may legitimately have removed it). Its key id.
async fn require_key(target: &Target, progress: &Progress) -> Result<Option<String>> {
    let found =
        kms_workshop_keys::describe_key(&aws_sdk_kms::Client::new(&target.config), KEY_ALIAS).await;
    let e = match found {
        Ok(k) => return Ok(Some(k.key_id)),
        Err(_) if progress.is_done(GenerateDataKey::ID) => return Ok(None),
        Err(e) => e,
    };
    let msg = if e.is_not_found() {
        format!(
            "{KEY_ALIAS} does not exist in account {} in {}: the monitoring chapter starts from the key with imported material that sections I–III create (the sandbox's workshop seed has it); make that starting state with: kms-workshop prepare{}",
            target.account,
            target.region,
            target.prepare_flags()
        )
    } else {
        format!("cannot look up {KEY_ALIAS}: {e}")
    };
    let code = if e.is_infrastructure() { 3 } else { 2 };
    Err(anyhow::Error::new(ExitWith { code, message: msg }))
}

/// The progress file belongs to one account and region: one from elsewhere is refused, or
/// (asked) started over.
fn claim_progress(
    progress: Progress,
    here: &TargetRecord,
    path: &Path,
    ui: &Ui,
) -> Result<Progress> {
    let Some(prev) = &progress.target else {
        return Ok(progress);
    };
    if prev.account == here.account && prev.region == here.region {
        return Ok(progress);
    }
    let msg = format!(
        "The progress file {} is for account {} in {}, but this run is in account {} in {}.",
        path.display(),
        prev.account,
        prev.region,
        here.account,
        here.region
    );
    if !ui.interactive {
        return Err(usage(format!(
            "{msg} Use --state FILE for this account, or `kms-workshop reset --all` to start over."
        )));
    }
    ui.say(&msg);
    let ui_ok = ui
        .confirm(
            "Start over in this account (the old progress is discarded)?",
            false,
        )
        .map_err(|_| interrupted(path))?;
    if !ui_ok {
        return Err(usage("nothing changed; use --state FILE to keep both"));
    }
    Ok(Progress::new())
}

/// On AWS, the learner agrees to resources being created (asked, or --yes).
fn confirm_creation(target: &Target, args: &RunArgs, ui: &Ui, path: &Path) -> Result<()> {
    if target.kind != TargetKind::Aws || args.yes {
        return Ok(());
    }
    if !ui.interactive {
        return Err(usage(format!(
            "against AWS account {} a non-interactive run needs --yes to create resources",
            target.account
        )));
    }
    let ok = ui
        .confirm(
            &format!(
                "Create the workshop's resources (SNS topic, EventBridge rule, CloudWatch alarm) in account {} ({})?",
                target.account, target.region
            ),
            false,
        )
        .map_err(|_| interrupted(path))?;
    if !ok {
        return Err(usage("nothing created"));
    }
    Ok(())
}

/// Ctrl-C outside a prompt: give the terminal back and take the hosted sandbox's token file
/// away (exiting skips its `Drop`); the progress file is already current.
fn exit_on_ctrl_c(state_path: PathBuf, token_file: Option<PathBuf>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            if let Some(f) = token_file {
                let _ = std::fs::remove_file(f);
            }
            ui::restore_terminal();
            eprintln!(
                "\ninterrupted: progress is saved in {}; `kms-workshop run` resumes here",
                state_path.display()
            );
            std::process::exit(130);
        }
    });
}

fn interrupted(path: &Path) -> anyhow::Error {
    ui::restore_terminal();
    anyhow::Error::new(ExitWith {
        code: 130,
        message: format!(
            "interrupted: progress is saved in {}; `kms-workshop run` resumes here",
            path.display()
        ),
    })
}
