//! `kms-workshop run`: the monitoring chapter of the KMS workshop as a guided, verified,
//! resumable walk-through (steps in `workshop/steps/monitoring.toml`), and `status` / `reset`
//! for its progress file.
//!
//! For each step the learner reads what it is about and the equivalent `aws` command, then
//! either lets the runner do it or does it themselves; either way the step is verified against
//! named criteria, and the progress file is rewritten. Against the sandbox the runner also
//! plays the learner's inbox (confirming the subscription) and the calendar (moving the clock
//! so the alarm fires).

mod actions;
mod admin;
pub mod state;
pub mod steps;
pub mod ui;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::target::{Target, TargetArgs, TargetKind};
use crate::ExitWith;
use state::{Progress, TargetRecord};
use ui::{Choice, Crit, Ui};

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
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub cloudtrail_timeout: Duration,
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

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); e.g. 90s, 15m"))
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ExitWith {
        code: 2,
        message: message.into(),
    })
}

/// Everything a step needs.
pub struct Ctx {
    pub target: Target,
    pub admin: Option<admin::Admin>,
    pub progress: Progress,
    pub path: PathBuf,
    pub ui: Ui,
    pub email: String,
    pub topic: String,
    pub display_name: String,
    pub threshold: f64,
    pub cloudtrail_timeout: Duration,
    pub yes: bool,
    pub account_id: Option<String>,
    pub kms: aws_sdk_kms::Client,
    pub trail: aws_sdk_cloudtrail::Client,
    pub sns: aws_sdk_sns::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub cw: aws_sdk_cloudwatch::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Ctx {
    /// Values for the `{placeholders}` of the steps' text.
    pub fn values(&self) -> BTreeMap<String, String> {
        let mut v = BTreeMap::new();
        let mut put = |k: &str, val: &str| {
            v.insert(k.to_string(), val.to_string());
        };
        put("key_alias", KEY_ALIAS);
        put("region", &self.target.region);
        put("account", &self.target.account);
        put("topic", &self.topic);
        put("display_name", &self.display_name);
        put("email", &self.email);
        put("rule", RULE_NAME);
        put("username", &self.target.username());
        if let Some(k) = &self.target.access_key {
            put("access_key", k);
        }
        put("alarm", ALARM_NAME);
        put("threshold", &format!("{}", self.threshold));
        put(
            "pattern",
            &kms_workshop_notify::rule::workshop_pattern().to_string(),
        );
        for (step, rec) in &self.progress.steps {
            for (k, val) in &rec.facts {
                let _ = step;
                put(k, val);
            }
        }
        v
    }

    pub fn fact(&self, step: &str, name: &str) -> Option<String> {
        self.progress.fact(step, name).map(str::to_string)
    }

    pub fn save(&self) -> Result<()> {
        self.progress
            .save(&self.path)
            .map_err(|e| usage(e.to_string()))
    }

    pub fn is_sandbox(&self) -> bool {
        self.admin.is_some()
    }
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
    check_answers(&args)?;
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
    match target.kind {
        TargetKind::Sandbox => ui.note(format!(
            "No AWS account in use: running against {}. Nothing here touches AWS.",
            target.describe()
        )),
        _ => ui.note(format!("Running against {}.", target.describe())),
    }
    let admin = match (&target.kind, target.sandbox(), &target.endpoint) {
        (TargetKind::Sandbox, Some(sb), _) => Some(admin::Admin::InProcess(sb.clone())),
        (TargetKind::Endpoint, _, Some(url)) => admin::Admin::probe(url).await,
        _ => None,
    };

    // The chapter starts from the key with imported material; without it nothing can work
    // (once the first step is done, the clean-up may legitimately have removed it).
    let starting = !progress.is_done("generate-data-key");
    let missing = if starting {
        kms_workshop_keys::describe_key(&aws_sdk_kms::Client::new(&target.config), KEY_ALIAS)
            .await
            .err()
    } else {
        None
    };
    if let Some(e) = missing {
        let msg = if e.is_not_found() {
            format!(
                "{KEY_ALIAS} does not exist in account {} in {}: the monitoring chapter starts from the key with imported material that sections I–III create (the sandbox's workshop seed has it)",
                target.account, target.region
            )
        } else {
            format!("cannot look up {KEY_ALIAS}: {e}")
        };
        let code = if e.is_infrastructure() { 3 } else { 2 };
        target.shutdown().await;
        return Err(anyhow::Error::new(ExitWith { code, message: msg }));
    }
    // The progress file belongs to one account and region.
    let here = TargetRecord {
        kind: target.kind,
        account: target.account.clone(),
        region: target.region.clone(),
        endpoint: target
            .endpoint
            .clone()
            .filter(|_| target.kind == TargetKind::Endpoint),
    };
    let mut progress = progress;
    if let Some(prev) = &progress.target {
        if prev.account != here.account || prev.region != here.region {
            let msg = format!(
                "The progress file {} is for account {} in {}, but this run is in account {} in {}.",
                path.display(),
                prev.account,
                prev.region,
                here.account,
                here.region
            );
            if !interactive {
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
                .map_err(|_| interrupted(&path))?;
            if !ui_ok {
                return Err(usage("nothing changed; use --state FILE to keep both"));
            }
            progress = Progress::new();
        }
    }
    if target.kind == TargetKind::Aws {
        if interactive && !args.yes {
            let ok = ui
                .confirm(
                    &format!(
                        "Create the workshop's resources (SNS topic, EventBridge rule, CloudWatch alarm) in account {} ({})?",
                        target.account, target.region
                    ),
                    false,
                )
                .map_err(|_| interrupted(&path))?;
            if !ok {
                return Err(usage("nothing created"));
            }
        } else if !interactive && !args.yes {
            return Err(usage(format!(
                "against AWS account {} a non-interactive run needs --yes to create resources",
                target.account
            )));
        }
    }
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

    // Ctrl-C outside a prompt: give the terminal back; the progress file is already current.
    let state_path = cx.path.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ui::restore_terminal();
            eprintln!(
                "\ninterrupted: progress is saved in {}; `kms-workshop run` resumes here",
                state_path.display()
            );
            std::process::exit(130);
        }
    });

    let result = walk(&mut cx, args.keep).await;
    let target = cx.target;
    target.shutdown().await;
    result
}

fn interrupted(path: &std::path::Path) -> anyhow::Error {
    ui::restore_terminal();
    anyhow::Error::new(ExitWith {
        code: 130,
        message: format!(
            "interrupted: progress is saved in {}; `kms-workshop run` resumes here",
            path.display()
        ),
    })
}

async fn walk(cx: &mut Ctx, keep: bool) -> Result<()> {
    let all = steps::steps().map_err(|e| anyhow::anyhow!(e))?;
    let total = all.len();
    let mut all_verified = true;
    for (i, step) in all.iter().enumerate() {
        if step.id == "cleanup" && keep {
            cx.ui.say(
                "\nStopping before the clean-up (--keep): run `kms-workshop cleanup` when done.",
            );
            cx.ui.json_line(
                &serde_json::json!({"step": step.id, "title": step.title, "status": "kept"}),
            );
            break;
        }
        let values = cx.values();
        if cx.progress.is_done(&step.id) {
            cx.ui
                .say(format!("✔ Step {}/{total}: {} — done", i + 1, step.title));
            cx.ui.json_line(
                &serde_json::json!({"step": step.id, "title": step.title, "status": "done"}),
            );
            continue;
        }
        cx.progress.current = Some(step.id.clone());
        cx.save()?;
        cx.ui.heading(i + 1, total, &step.title);
        cx.ui.say(step.explain.trim_end());
        cx.ui.say("\nThe same with the AWS CLI:");
        for c in &step.cli {
            cx.ui.say(format!("  $ {}", steps::fill(c, &values)));
        }
        if !step.creates.is_empty() {
            cx.ui.say(format!(
                "Creates: {}",
                step.creates
                    .iter()
                    .map(|c| steps::fill(c, &values))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let started = std::time::Instant::now();
        let outcome = loop {
            let choice = if cx.ui.interactive {
                cx.ui.choose(true).map_err(|_| interrupted(&cx.path))?
            } else {
                Choice::DoIt
            };
            match choice {
                Choice::Quit => {
                    cx.save()?;
                    cx.ui.say(format!(
                        "Progress saved in {}. `kms-workshop run` resumes at this step.",
                        cx.path.display()
                    ));
                    return Ok(());
                }
                Choice::Skip => break "skipped",
                Choice::DoIt | Choice::Myself => {
                    if choice == Choice::DoIt {
                        if let Err(e) = actions::perform(cx, &step.id).await {
                            cx.ui.note(format!("  ✘ {e:#}"));
                            if !cx.ui.interactive {
                                let crits =
                                    vec![Crit::error("perform", &step.title, format!("{e:#}"))];
                                report(cx, step, "failed", &crits, started);
                                cx.save()?;
                                return Err(anyhow::Error::new(ExitWith {
                                    code: 1,
                                    message: format!("step '{}' failed: {e:#}", step.id),
                                }));
                            }
                            continue;
                        }
                    } else if cx.ui.interactive {
                        cx.ui.say("Run the commands above, then come back here.");
                        if !cx
                            .ui
                            .confirm("Done? Verify now", true)
                            .map_err(|_| interrupted(&cx.path))?
                        {
                            continue;
                        }
                    }
                    let crits = actions::verify(cx, step).await;
                    cx.ui.say("Verification:");
                    cx.ui.checklist(&crits);
                    let ok = crits.iter().all(Crit::passed);
                    if ok {
                        break "verified";
                    }
                    let infra = crits.iter().any(|c| c.status == "error");
                    if !cx.ui.interactive {
                        report(cx, step, "failed", &crits, started);
                        cx.save()?;
                        return Err(anyhow::Error::new(ExitWith {
                            code: if infra { 3 } else { 1 },
                            message: format!("step '{}' did not verify", step.id),
                        }));
                    }
                    if infra {
                        cx.ui.say("Some checks could not run (credentials, throttling or network), which says nothing about your work: try again.");
                    } else {
                        cx.ui
                            .say("Not done yet: fix what failed, then verify again.");
                    }
                }
            }
        };
        if outcome != "verified" {
            all_verified = false;
        }
        let rec = cx.progress.steps.entry(step.id.clone()).or_default();
        rec.status = outcome.to_string();
        rec.at = Some(time::OffsetDateTime::now_utc());
        report(cx, step, outcome, &[], started);
        cx.progress.current = all.get(i + 1).map(|s| s.id.clone());
        cx.save()?;
    }
    if all_verified {
        cx.ui.say("\nEvery step is done and verified.");
        Ok(())
    } else {
        Err(anyhow::Error::new(ExitWith {
            code: 1,
            message: "some steps were skipped: `kms-workshop run` again to do them".into(),
        }))
    }
}

/// The step's JSON line (JSON mode) with its criteria.
fn report(cx: &Ctx, step: &steps::Step, status: &str, extra: &[Crit], started: std::time::Instant) {
    let rec = cx.progress.steps.get(&step.id);
    let mut criteria: Vec<serde_json::Value> = rec.map(|r| r.criteria.clone()).unwrap_or_default();
    criteria.extend(extra.iter().filter_map(|c| serde_json::to_value(c).ok()));
    let facts = rec.map(|r| r.facts.clone()).unwrap_or_default();
    let created: Vec<&kms_workshop_cleanup::InventoryItem> = cx
        .progress
        .inventory
        .items
        .iter()
        .filter(|i| i.step.as_deref() == Some(step.id.as_str()))
        .collect();
    cx.ui.json_line(&serde_json::json!({
        "step": step.id,
        "title": step.title,
        "status": status,
        "criteria": criteria,
        "facts": facts,
        "created": created,
        "elapsed_ms": started.elapsed().as_millis() as u64,
    }));
}

/// `kms-workshop status`.
pub fn status(state: Option<PathBuf>, json: bool) -> Result<()> {
    let path = state
        .or_else(state::default_path)
        .ok_or_else(|| usage("no data directory (HOME is unset): give --state FILE"))?;
    let p = Progress::load(&path).map_err(|e| usage(e.to_string()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(());
    }
    println!("Progress file: {}", path.display());
    match &p.target {
        Some(t) => println!(
            "Target: {} account {} in {}{}",
            t.kind.describe(),
            t.account,
            t.region,
            t.endpoint
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
        None => println!("Not started: `kms-workshop run` begins."),
    }
    let all = steps::steps().map_err(|e| anyhow::anyhow!(e))?;
    for (i, s) in all.iter().enumerate() {
        let st = p
            .steps
            .get(&s.id)
            .map(|r| r.status.as_str())
            .unwrap_or("to do");
        let here = if p.current.as_deref() == Some(s.id.as_str()) {
            "  ← next"
        } else {
            ""
        };
        println!("  {}. {:<48} {st}{here}", i + 1, s.title);
    }
    println!("Created by the run ({}):", p.inventory.items.len());
    for item in &p.inventory.items {
        println!(
            "  {:<26} {}  ({}, step {})",
            item.kind.as_str(),
            item.arn,
            item.region,
            item.step.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

/// `kms-workshop reset [STEP | --all]`.
pub fn reset(state: Option<PathBuf>, step: Option<String>, all: bool, yes: bool) -> Result<()> {
    let path = state
        .or_else(state::default_path)
        .ok_or_else(|| usage("no data directory (HOME is unset): give --state FILE"))?;
    let ids: Vec<String> = steps::steps()
        .map_err(|e| anyhow::anyhow!(e))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let what = match (&step, all) {
        (Some(_), true) | (None, false) => {
            return Err(usage(format!(
                "give one step to forget, or --all; steps: {}",
                ids.join(", ")
            )))
        }
        (Some(s), false) if !ids.contains(s) => {
            return Err(usage(format!(
                "unknown step '{s}'; steps: {}",
                ids.join(", ")
            )))
        }
        (Some(s), false) => format!("step '{s}'"),
        (None, true) => "all progress".to_string(),
    };
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(usage(format!(
                "no terminal to confirm on: add --yes to forget {what}"
            )));
        }
        let ok = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Forget {what} in {}? (resources in the account are not touched; `kms-workshop cleanup` removes them)",
                path.display()
            ))
            .default(false)
            .interact_opt()
            .map_err(|_| usage("interrupted"))?
            .unwrap_or(false);
        if !ok {
            println!("Nothing changed.");
            return Ok(());
        }
    }
    if all {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(usage(format!("cannot remove {}: {e}", path.display()))),
        }
        println!("Forgot all progress ({}).", path.display());
        return Ok(());
    }
    let mut p = match Progress::load(&path) {
        Ok(p) => p,
        Err(e) => return Err(usage(e.to_string())),
    };
    if let Some(s) = &step {
        p.reset_step(s);
        p.current = Some(s.clone());
    }
    p.save(&path).map_err(|e| usage(e.to_string()))?;
    println!("Forgot {what}; `kms-workshop run` does it again.");
    Ok(())
}
