//! The result of a run: what was found, changed, already gone, skipped (and why), failed (and
//! why), and what of the workshop's is still there afterwards.

use serde::{Deserialize, Serialize};

use crate::discover::Skipped;
use crate::ErrorClass;

/// How one action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Changed,
    AlreadyGone,
    /// (Set-up) what the step makes exists already, and is right: kept as it is.
    Kept,
    /// Done by an earlier, interrupted run (from the journal).
    DoneEarlier,
    Failed,
    /// Not attempted because something it depends on failed.
    Blocked,
}

impl Outcome {
    /// The name the journal and JSON reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Changed => "changed",
            Outcome::AlreadyGone => "already_gone",
            Outcome::Kept => "kept",
            Outcome::DoneEarlier => "done_earlier",
            Outcome::Failed => "failed",
            Outcome::Blocked => "blocked",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionResult {
    pub id: String,
    pub action: String,
    pub outcome: Outcome,
    pub detail: String,
    /// For failures: the AWS error class (`access denied`, `conflict`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub account: String,
    pub regions: Vec<String>,
    pub dry_run: bool,
    pub resumed: bool,
    pub found: Vec<String>,
    pub actions: Vec<ActionResult>,
    pub skipped: Vec<Skipped>,
    /// The workshop's resources still present after the run (the "nothing left" check).
    pub remaining: Vec<String>,
    /// Failures outside single actions (discovery, the final check).
    pub errors: Vec<String>,
    /// Whether any failure was about credentials or permissions.
    pub access_problem: bool,
}

impl Report {
    pub fn count(&self, o: Outcome) -> usize {
        self.actions.iter().filter(|a| a.outcome == o).count()
    }

    pub fn failed(&self) -> impl Iterator<Item = &ActionResult> {
        self.actions
            .iter()
            .filter(|a| matches!(a.outcome, Outcome::Failed | Outcome::Blocked))
    }

    /// Nothing failed and nothing of the workshop's remains.
    pub fn is_clean(&self) -> bool {
        self.failed().next().is_none() && self.remaining.is_empty() && self.errors.is_empty()
    }

    /// Note a failure's class (credentials and access set `access_problem`).
    pub fn note_class(&mut self, class: ErrorClass) {
        if matches!(class, ErrorClass::AccessDenied | ErrorClass::Credentials) {
            self.access_problem = true;
        }
    }

    /// The text form.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let list = |s: &mut String, title: &str, items: Vec<String>| {
            s.push_str(&format!("{title} ({}):\n", items.len()));
            for i in items {
                s.push_str(&format!("  - {i}\n"));
            }
        };
        s.push_str(&format!(
            "clean-up of account {} in {}{}{}\n",
            self.account,
            self.regions.join(", "),
            if self.dry_run {
                " (dry run: nothing changed)"
            } else {
                ""
            },
            if self.resumed {
                " (resumed an interrupted run)"
            } else {
                ""
            }
        ));
        list(&mut s, "found", self.found.clone());
        let of = |o: Outcome| -> Vec<String> {
            self.actions
                .iter()
                .filter(|a| a.outcome == o)
                .map(|a| {
                    if a.detail.is_empty() {
                        a.action.clone()
                    } else {
                        format!("{} — {}", a.action, a.detail)
                    }
                })
                .collect()
        };
        list(&mut s, "changed", of(Outcome::Changed));
        let mut gone = of(Outcome::AlreadyGone);
        gone.extend(
            of(Outcome::DoneEarlier)
                .into_iter()
                .map(|a| format!("{a} (done by the interrupted run)")),
        );
        list(&mut s, "already gone", gone);
        let mut skipped: Vec<String> = self
            .skipped
            .iter()
            .map(|k| format!("{}: {}", k.what, k.why))
            .collect();
        skipped.extend(of(Outcome::Blocked));
        list(&mut s, "skipped", skipped);
        let mut failed = of(Outcome::Failed);
        failed.extend(self.errors.iter().cloned());
        list(&mut s, "failed", failed);
        if !self.dry_run {
            if self.remaining.is_empty() {
                s.push_str("nothing left: no workshop resource remains\n");
            } else {
                list(&mut s, "still present", self.remaining.clone());
            }
        }
        s
    }
}
