//! The order of a plan's execution: an action starts as soon as every action it comes after
//! has finished (independent branches run in parallel); one that comes after a failure is
//! blocked, not attempted. Every finished action is journalled before its dependents start.

use std::collections::{BTreeMap, BTreeSet};

use tokio::task::JoinSet;

use super::{ActionOutcome, Event, Executor};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::journal::{Journal, Record, StepLog};
use crate::plan::{Plan, Step};
use crate::report::{ActionResult, Outcome};
use crate::CleanupError;

/// Where the execution of a plan stands.
struct Progress<'p, A> {
    plan: &'p Plan<A>,
    results: BTreeMap<String, ActionResult>,
    /// Done, now or in an earlier run: their dependents may start.
    finished: BTreeSet<String>,
    /// Failed or blocked: their dependents are blocked.
    failed: BTreeSet<String>,
    /// Started, finished, failed or blocked: nothing more to decide about them.
    started: BTreeSet<String>,
}

impl<'p, A: Step> Progress<'p, A> {
    /// Nothing started yet, except the actions `done` in an earlier run.
    fn resumed(plan: &'p Plan<A>, done: &[(String, String)]) -> Self {
        let mut p = Progress {
            plan,
            results: BTreeMap::new(),
            finished: BTreeSet::new(),
            failed: BTreeSet::new(),
            started: BTreeSet::new(),
        };
        for (id, _) in done {
            if let Some(n) = plan.node(id) {
                p.finished.insert(id.clone());
                p.record(
                    id,
                    n.action.describe(),
                    Outcome::DoneEarlier,
                    String::new(),
                    None,
                );
            }
        }
        p.started = p.finished.clone();
        p
    }

    fn record(
        &mut self,
        id: &str,
        action: String,
        outcome: Outcome,
        detail: String,
        class: Option<String>,
    ) {
        self.results.insert(
            id.to_string(),
            ActionResult {
                id: id.to_string(),
                action,
                outcome,
                detail,
                class,
            },
        );
    }

    /// The results in the plan's order.
    fn into_results(mut self) -> Vec<ActionResult> {
        self.plan
            .nodes
            .iter()
            .filter_map(|n| self.results.remove(&n.id))
            .collect()
    }
}

/// The journal of one run, and what to write in it.
pub struct Journalled<'a, F, A> {
    pub journal: Option<&'a Journal<F, A>>,
    pub run: &'a str,
    /// What the run found (journalled with its plan).
    pub found: &'a F,
    /// Whether the run starts here (its plan is journalled) rather than resuming.
    pub start: bool,
}

impl Executor {
    /// One run of `plan`, journalled: its start (what it found and the plan, unless it
    /// resumes), every finished action, its end; access failures are noted in `report`, whose
    /// `actions` it fills.
    pub async fn execute_run<F, A>(
        &self,
        j: Journalled<'_, F, A>,
        plan: &Plan<A>,
        done: &[(String, String)],
        report: &mut crate::report::Report,
    ) -> Result<(), CleanupError>
    where
        F: Serialize + DeserializeOwned + Clone,
        A: Step,
    {
        if let Some(journal) = j.journal.filter(|_| j.start) {
            journal.append(&Record::Plan {
                run: j.run.to_string(),
                at: time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                found: Box::new(j.found.clone()),
                plan: plan.clone(),
            })?;
        }
        let log = j.journal.map(|l| l as &dyn StepLog);
        report.actions = self.execute(plan, log, j.run, done).await?;
        let denied = report
            .actions
            .iter()
            .filter_map(|a| a.class.as_deref())
            .any(|c| {
                c == crate::ErrorClass::AccessDenied.as_str()
                    || c == crate::ErrorClass::Credentials.as_str()
            });
        if denied {
            report.note_class(crate::ErrorClass::AccessDenied);
        }
        if let Some(journal) = j.journal {
            let clean = report.failed().next().is_none();
            journal.append(&Record::Finished {
                run: j.run.to_string(),
                clean,
            })?;
        }
        Ok(())
    }

    /// Execute `plan`; actions in `done` (from a journal) are not repeated.
    pub async fn execute<A: Step>(
        &self,
        plan: &Plan<A>,
        journal: Option<&dyn StepLog>,
        run_id: &str,
        done: &[(String, String)],
    ) -> Result<Vec<ActionResult>, CleanupError> {
        let mut progress = Progress::resumed(plan, done);
        let mut tasks: JoinSet<(String, ActionOutcome)> = JoinSet::new();
        loop {
            self.start_ready(&mut progress, &mut tasks);
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            match joined {
                Ok((id, result)) => self.finish(&mut progress, journal, run_id, id, result)?,
                Err(e) => tracing::error!(error = %e, "an action task failed to complete"),
            }
        }
        Ok(progress.into_results())
    }

    /// Block what depends on a failure; start what is ready.
    fn start_ready<A: Step>(
        &self,
        p: &mut Progress<'_, A>,
        tasks: &mut JoinSet<(String, ActionOutcome)>,
    ) {
        let plan = p.plan;
        let mut progressed = true;
        while progressed {
            progressed = false;
            for n in &plan.nodes {
                if p.started.contains(&n.id) {
                    continue;
                }
                if let Some(bad) = n.after.iter().find(|a| p.failed.contains(*a)) {
                    let why = plan
                        .node(bad)
                        .map(|b| b.action.describe())
                        .unwrap_or_else(|| bad.clone());
                    p.started.insert(n.id.clone());
                    p.failed.insert(n.id.clone());
                    p.record(
                        &n.id,
                        n.action.describe(),
                        Outcome::Blocked,
                        format!("not attempted: needs \"{why}\", which failed"),
                        None,
                    );
                    progressed = true;
                } else if n
                    .after
                    .iter()
                    .all(|a| p.finished.contains(a) || plan.node(a).is_none())
                {
                    p.started.insert(n.id.clone());
                    let me = self.clone();
                    let action = n.action.clone();
                    let id = n.id.clone();
                    self.emit(Event::Started {
                        branch: action.branch(),
                        action: action.describe(),
                    });
                    tasks.spawn(async move {
                        let r = action.perform(me).await;
                        (id, r)
                    });
                }
            }
        }
    }

    /// Journal and record how action `id` ended.
    fn finish<A: Step>(
        &self,
        p: &mut Progress<'_, A>,
        journal: Option<&dyn StepLog>,
        run_id: &str,
        id: String,
        result: ActionOutcome,
    ) -> Result<(), CleanupError> {
        let Some(node) = p.plan.node(&id) else {
            return Ok(());
        };
        let (outcome, detail, class) = match result {
            Ok((o, d)) => (o, d, None),
            Err(e) => (
                Outcome::Failed,
                e.to_string(),
                Some(e.class.as_str().to_string()),
            ),
        };
        let record = if outcome == Outcome::Failed {
            p.failed.insert(id.clone());
            Record::Failed {
                run: run_id.to_string(),
                action: id.clone(),
                error: detail.clone(),
            }
        } else {
            p.finished.insert(id.clone());
            Record::Done {
                run: run_id.to_string(),
                action: id.clone(),
                outcome: outcome.as_str().into(),
                detail: detail.clone(),
            }
        };
        if let Some(j) = journal {
            j.append_step(&record)?;
        }
        self.emit(Event::Finished {
            branch: node.action.branch(),
            action: node.action.describe(),
            outcome,
        });
        p.record(&id, node.action.describe(), outcome, detail, class);
        Ok(())
    }
}
