//! The walk through the chapter: each step in the steps file's order is shown, done (by the
//! runner or the learner) and verified, and the progress file is rewritten after each; done
//! steps are passed over, so a new run resumes where the last one stopped.

use std::time::Instant;

use anyhow::Result;

use super::checks::{Crit, CritStatus};
use super::state::StepStatus;
use super::steps::{self, Cleanup, Step};
use super::text::{self, StepText};
use super::ui::Choice;
use super::{interrupted, Ctx};
use crate::ExitWith;

pub async fn walk(cx: &mut Ctx, keep: bool) -> Result<()> {
    let all = text::steps().map_err(|e| anyhow::anyhow!(e))?;
    let total = all.len();
    let mut all_verified = true;
    for (i, step) in all.iter().enumerate() {
        if step.id == Cleanup::ID && keep {
            cx.ui.say(
                "\nStopping before the clean-up (--keep): run `kms-workshop cleanup` when done.",
            );
            cx.ui.json_line(
                &serde_json::json!({"step": step.id, "title": step.title, "status": "kept"}),
            );
            break;
        }
        if cx.progress.is_done(&step.id) {
            cx.ui
                .say(format!("✔ Step {}/{total}: {} — done", i + 1, step.title));
            cx.ui.json_line(
                &serde_json::json!({"step": step.id, "title": step.title, "status": "done"}),
            );
            continue;
        }
        cx.progress.current = Some(step.id.clone());
        begin(cx, step).await;
        cx.save()?;
        introduce(cx, i + 1, total, step);
        let started = Instant::now();
        let Some(outcome) = attempt(cx, step, started).await? else {
            return Ok(());
        };
        if outcome != StepStatus::Verified {
            all_verified = false;
        }
        let rec = cx.progress.steps.entry(step.id.clone()).or_default();
        rec.status = outcome;
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

/// Before a step is shown: the time its commands name, when the learner met it (kept from
/// the first time: a call they made then still counts), and what its commands need.
async fn begin(cx: &mut Ctx, step: &StepText) {
    cx.now_at = cx.now().await;
    if steps::started(cx, &step.id).is_none() {
        let at = crate::util::rfc3339(cx.now_at);
        cx.set_fact(&step.id, "started", at);
    }
    if let Err(e) = steps::prepare(cx, &step.id).await {
        cx.ui.note(format!("  ! {e:#}"));
    }
}

/// The step's heading, explanation, equivalent CLI commands and what it creates.
fn introduce(cx: &Ctx, n: usize, total: usize, step: &StepText) {
    let values = cx.values();
    cx.ui.heading(n, total, &step.title);
    cx.ui.say(step.explain.trim_end());
    cx.ui.say("\nThe same with the AWS CLI:");
    for c in step.commands(&values) {
        cx.ui.say(format!("  $ {c}"));
    }
    if !step.creates.is_empty() {
        cx.ui.say(format!(
            "Creates: {}",
            step.creates
                .iter()
                .map(|c| text::fill(c, &values))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
}

/// Until the step is verified or skipped (its outcome), or the learner quits (`None`).
async fn attempt(cx: &mut Ctx, step: &StepText, started: Instant) -> Result<Option<StepStatus>> {
    loop {
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
                return Ok(None);
            }
            Choice::Skip => return Ok(Some(StepStatus::Skipped)),
            Choice::DoIt => {
                if !do_it(cx, step, started).await? {
                    continue;
                }
            }
            Choice::Myself => {
                super::shell::show_settings(cx).await;
                if cx.ui.interactive && !learner_done(cx)? {
                    continue;
                }
            }
        }
        if verified(cx, step, started).await? {
            return Ok(Some(StepStatus::Verified));
        }
    }
}

/// "Do it for me": whether it worked (interactively, a failure is shown and asked again;
/// otherwise it ends the run).
async fn do_it(cx: &mut Ctx, step: &StepText, started: Instant) -> Result<bool> {
    let Err(e) = steps::perform(cx, &step.id).await else {
        return Ok(true);
    };
    cx.ui.note(format!("  ✘ {e:#}"));
    if cx.ui.interactive {
        return Ok(false);
    }
    let crits = vec![Crit::new(
        "perform",
        &step.title,
        CritStatus::Error,
        format!("{e:#}"),
    )];
    report(cx, step, StepStatus::Failed, &crits, started);
    cx.save()?;
    Err(anyhow::Error::new(ExitWith {
        code: 1,
        message: format!("step '{}' failed: {e:#}", step.id),
    }))
}

/// The learner did the step themselves: whether they say it is done.
fn learner_done(cx: &Ctx) -> Result<bool> {
    cx.ui.say("Run the commands above, then come back here.");
    cx.ui
        .confirm("Done? Verify now", true)
        .map_err(|_| interrupted(&cx.path))
}

/// Verify and show the checklist: whether every criterion passed (interactively, what failed
/// is explained and the learner tries again; otherwise it ends the run).
async fn verified(cx: &mut Ctx, step: &StepText, started: Instant) -> Result<bool> {
    let crits = steps::verify(cx, step).await;
    cx.ui.say("Verification:");
    cx.ui.checklist(&crits);
    if crits.iter().all(Crit::passed) {
        return Ok(true);
    }
    let infra = crits.iter().any(|c| c.status == CritStatus::Error);
    if !cx.ui.interactive {
        report(cx, step, StepStatus::Failed, &crits, started);
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
    Ok(false)
}

/// The step's JSON line (JSON mode) with its criteria.
fn report(cx: &Ctx, step: &StepText, status: StepStatus, extra: &[Crit], started: Instant) {
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
