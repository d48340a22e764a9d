//! The chapter's steps as code, one module per step. Each is a type implementing [`Step`]: its
//! id in the steps file, the criteria it can report (declared once, as an enum), what "do it
//! for me" does, and how the step is verified. Verification never assumes the runner did the
//! work: it looks at the account, so a learner who ran the CLI commands themselves is checked
//! the same way.

mod alarm;
mod cleanup;
mod find_in_cloudtrail;
mod generate_data_key;
mod rule;
#[cfg(test)]
mod tests;
mod topic;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use anyhow::{anyhow, Result};
use kms_workshop_names::{CONTEXT_KEY, CONTEXT_VALUE};

use super::checks::{Checks, Crit, CritStatus, Criterion};
use super::text::StepText;
use super::Ctx;

pub use alarm::Alarm;
pub use cleanup::Cleanup;
pub use find_in_cloudtrail::FindInCloudtrail;
pub use generate_data_key::GenerateDataKey;
pub use rule::Rule;
pub use topic::Topic;

/// One step of the chapter.
pub trait Step {
    /// The step's id in the steps file (and the progress file).
    const ID: &'static str;
    /// The criteria its verification can report.
    type Criterion: Criterion;
    /// Before the step is shown: what its commands need that only the account can say (a
    /// file a command names, for example), so every command shown runs as shown.
    async fn prepare(cx: &mut Ctx) -> Result<()> {
        let _ = cx;
        Ok(())
    }
    /// Do the step's work ("do it for me").
    async fn perform(cx: &mut Ctx) -> Result<()>;
    /// Check the step's criteria against the account, recording what they found in the
    /// step's facts.
    async fn verify(cx: &mut Ctx, checks: &mut Checks<Self::Criterion>);
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A [`Step`] behind a pointer, for the list of all steps.
pub trait AnyStep {
    fn id(&self) -> &'static str;
    #[cfg(test)]
    fn criteria(&self) -> Vec<&'static str>;
    fn prepare<'a>(&self, cx: &'a mut Ctx) -> Boxed<'a, Result<()>>;
    fn perform<'a>(&self, cx: &'a mut Ctx) -> Boxed<'a, Result<()>>;
    fn verify<'a>(&self, cx: &'a mut Ctx, text: &'a StepText) -> Boxed<'a, Vec<Crit>>;
}

impl<S: Step + 'static> AnyStep for S {
    fn id(&self) -> &'static str {
        S::ID
    }

    #[cfg(test)]
    fn criteria(&self) -> Vec<&'static str> {
        S::Criterion::ALL.iter().map(|c| c.id()).collect()
    }

    fn prepare<'a>(&self, cx: &'a mut Ctx) -> Boxed<'a, Result<()>> {
        Box::pin(S::prepare(cx))
    }

    fn perform<'a>(&self, cx: &'a mut Ctx) -> Boxed<'a, Result<()>> {
        Box::pin(S::perform(cx))
    }

    fn verify<'a>(&self, cx: &'a mut Ctx, text: &'a StepText) -> Boxed<'a, Vec<Crit>> {
        Box::pin(async move {
            let mut checks = Checks::<S::Criterion>::new(text, &cx.values());
            S::verify(cx, &mut checks).await;
            checks.into_crits()
        })
    }
}

/// Every step with code, in the chapter's order.
pub const ALL: [&dyn AnyStep; 6] = [
    &GenerateDataKey,
    &FindInCloudtrail,
    &Topic,
    &Rule,
    &Alarm,
    &Cleanup,
];

fn code(id: &str) -> Option<&'static dyn AnyStep> {
    ALL.into_iter().find(|s| s.id() == id)
}

/// Get the step's commands ready to be shown.
pub async fn prepare(cx: &mut Ctx, step: &str) -> Result<()> {
    match code(step) {
        Some(s) => s.prepare(cx).await,
        None => Ok(()),
    }
}

/// When the learner met the step (the runner's view of the target's clock): a call they make
/// for it is at or after this.
pub fn started(cx: &Ctx, step: &str) -> Option<time::OffsetDateTime> {
    cx.fact(step, "started")
        .and_then(|s| crate::util::parse_rfc3339(&s))
}

/// Do the step's work.
pub async fn perform(cx: &mut Ctx, step: &str) -> Result<()> {
    match code(step) {
        Some(s) => s.perform(cx).await,
        None => Err(anyhow!("no action for step '{step}'")),
    }
}

/// Check the step's criteria, keeping the outcome in the step's progress.
pub async fn verify(cx: &mut Ctx, step: &StepText) -> Vec<Crit> {
    let crits = match code(&step.id) {
        Some(s) => s.verify(cx, step).await,
        None => vec![Crit::new(
            &step.id,
            &step.id,
            CritStatus::Failed,
            "no verification for this step",
        )],
    };
    let values: Vec<serde_json::Value> = crits
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect();
    cx.progress
        .steps
        .entry(step.id.clone())
        .or_default()
        .criteria = values;
    crits
}

/// How soon a CloudTrail wait polls first: the sandbox answers at once, AWS in minutes.
fn first_poll(cx: &Ctx) -> std::time::Duration {
    if cx.is_sandbox() {
        std::time::Duration::from_millis(500)
    } else {
        cx.pause(std::time::Duration::from_secs(5))
    }
}

/// The longest pause of a CloudTrail wait.
fn max_poll(cx: &Ctx) -> std::time::Duration {
    cx.pause(std::time::Duration::from_secs(30))
        .max(first_poll(cx))
}

/// The encryption context of the chapter's data keys.
fn context() -> BTreeMap<String, String> {
    [(CONTEXT_KEY.to_string(), CONTEXT_VALUE.to_string())].into()
}
