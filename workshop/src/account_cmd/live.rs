//! The live view of a clean-up or set-up: what each branch of the plan is doing, as it happens.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kms_workshop_cleanup::{Event, Outcome};
use tokio::sync::mpsc::UnboundedReceiver;

/// One line per branch (per account and branch with --accounts) with its current action and
/// elapsed time: indicatif on a terminal, plain lines otherwise.
pub(super) async fn live_view(mut rx: UnboundedReceiver<(String, Event)>, tty: bool) {
    let start = Instant::now();
    let line = |label: &str, branch: &str| {
        if label.is_empty() {
            branch.to_string()
        } else {
            format!("{label} {branch}")
        }
    };
    if !tty {
        while let Some((label, e)) = rx.recv().await {
            let t = start.elapsed().as_secs_f64();
            match e {
                Event::Started { branch, action } => {
                    eprintln!("[{t:6.1}s] {}: {action}", line(&label, branch))
                }
                Event::Retrying {
                    branch,
                    action,
                    reason,
                } => eprintln!(
                    "[{t:6.1}s] {}: {action}: retrying ({reason})",
                    line(&label, branch)
                ),
                Event::Finished {
                    branch,
                    action,
                    outcome,
                } => eprintln!(
                    "[{t:6.1}s] {}: {action}: {}",
                    line(&label, branch),
                    outcome_word(outcome)
                ),
            }
        }
        return;
    }
    let multi = indicatif::MultiProgress::new();
    let style =
        indicatif::ProgressStyle::with_template("{spinner} {prefix:>12} [{elapsed:>4}] {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let mut bars: BTreeMap<String, indicatif::ProgressBar> = BTreeMap::new();
    loop {
        let next = tokio::select! {
            e = rx.recv() => e,
            _ = tokio::time::sleep(Duration::from_millis(120)) => {
                for b in bars.values() { b.tick(); }
                continue;
            }
        };
        let Some((label, e)) = next else { break };
        let branch = match &e {
            Event::Started { branch, .. }
            | Event::Retrying { branch, .. }
            | Event::Finished { branch, .. } => *branch,
        };
        let key = line(&label, branch);
        let bar = bars.entry(key.clone()).or_insert_with(|| {
            let b = multi.add(indicatif::ProgressBar::new_spinner());
            b.set_style(style.clone());
            b.set_prefix(key);
            b
        });
        match e {
            Event::Started { action, .. } => bar.set_message(action),
            Event::Retrying { action, reason, .. } => {
                bar.set_message(format!("{action}: retrying ({reason})"))
            }
            Event::Finished {
                action, outcome, ..
            } => bar.set_message(format!("{action}: {}", outcome_word(outcome))),
        }
    }
    for b in bars.values() {
        b.finish();
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Changed => "done",
        Outcome::AlreadyGone => "already gone",
        Outcome::Kept => "there already",
        Outcome::DoneEarlier => "done earlier",
        Outcome::Failed => "FAILED",
        Outcome::Blocked => "blocked",
    }
}
