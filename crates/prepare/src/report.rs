//! The set-up's report as text: what was there and kept, what was made, what failed, and
//! whether the account now holds the whole starting state.

use kms_workshop_cleanup::report::{Outcome, Report};

/// The text form of a set-up's `report`.
pub fn render_text(report: &Report) -> String {
    let mut s = format!(
        "set-up of account {} in {}{}{}\n",
        report.account,
        report.regions.join(", "),
        if report.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        },
        if report.resumed {
            " (resumed an interrupted run)"
        } else {
            ""
        }
    );
    let list = |s: &mut String, title: &str, items: Vec<String>| {
        s.push_str(&format!("{title} ({}):\n", items.len()));
        for i in items {
            s.push_str(&format!("  - {i}\n"));
        }
    };
    let of = |outcomes: &[Outcome]| -> Vec<String> {
        report
            .actions
            .iter()
            .filter(|a| outcomes.contains(&a.outcome))
            .map(|a| match (a.outcome, a.detail.is_empty()) {
                (Outcome::DoneEarlier, _) => format!("{} (done by the interrupted run)", a.action),
                (_, true) => a.action.clone(),
                (_, false) => format!("{} — {}", a.action, a.detail),
            })
            .collect()
    };
    list(&mut s, "in place already", report.found.clone());
    list(
        &mut s,
        "made",
        of(&[Outcome::Changed, Outcome::DoneEarlier]),
    );
    let kept = of(&[Outcome::Kept]);
    if !kept.is_empty() {
        list(&mut s, "found made", kept);
    }
    let mut failed = of(&[Outcome::Failed, Outcome::Blocked]);
    failed.extend(report.errors.iter().cloned());
    list(&mut s, "failed", failed);
    if !report.dry_run {
        if report.remaining.is_empty() {
            s.push_str("ready: the account holds the monitoring chapter's starting state\n");
        } else {
            list(&mut s, "still missing", report.remaining.clone());
        }
    }
    s
}

/// Whether the account is ready: nothing failed and nothing is missing.
pub fn is_ready(report: &Report) -> bool {
    report.is_clean()
}
