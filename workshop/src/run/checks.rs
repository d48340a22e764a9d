//! Verification outcomes: one criterion's result ([`Crit`], with a [`CritStatus`]), the typed
//! criterion ids each step declares once ([`Criterion`], through [`criteria!`]), and the
//! [`Checks`] a step's verification fills in, which pairs every id with its text from the
//! steps file and turns an AWS failure into the right status in one place.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::Serialize;

use super::text::{fill, StepText};

/// How a criterion came out. The serialized names are the ones the progress file and the JSON
/// output have always carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CritStatus {
    /// Checked, and the account is as the step wants it.
    #[serde(rename = "passed")]
    Passed,
    /// Checked, and not done (or done wrong): the learner has something to fix.
    #[serde(rename = "failed")]
    Failed,
    /// The check itself could not run (credentials, throttling, network), which says nothing
    /// about the learner's work.
    #[serde(rename = "error")]
    Error,
}

/// One verification criterion's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Crit {
    pub id: String,
    pub text: String,
    pub status: CritStatus,
    pub reason: String,
}

impl Crit {
    pub fn new(id: &str, text: &str, status: CritStatus, reason: impl Into<String>) -> Crit {
        Crit {
            id: id.into(),
            text: text.into(),
            status,
            reason: reason.into(),
        }
    }

    pub fn passed(&self) -> bool {
        self.status == CritStatus::Passed
    }
}

/// A step's criterion ids as a type: declared once with [`criteria!`], so a step can only
/// report ids it declares, and the steps file can be checked against [`Criterion::ALL`].
pub trait Criterion: Copy + 'static {
    /// Every criterion of the step, in the order the steps file lists them.
    const ALL: &'static [Self];
    /// The id the steps file and the outputs use.
    fn id(self) -> &'static str;
}

/// Declare a step's criteria: `enum Name { Variant = "id-in-the-steps-file", … }`.
macro_rules! criteria {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $id:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($variant,)+ }

        impl $crate::run::checks::Criterion for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            fn id(self) -> &'static str {
                match self { $($name::$variant => $id,)+ }
            }
        }
    };
}
pub(crate) use criteria;

/// An AWS failure that knows whether it lies in the infrastructure (credentials, throttling,
/// network: the check could not run) or in the account's state (the step is not done).
pub trait AwsError: std::fmt::Display {
    fn is_infrastructure(&self) -> bool;
}

macro_rules! aws_error {
    ($($t:ty),+) => {$(
        impl AwsError for $t {
            fn is_infrastructure(&self) -> bool {
                <$t>::is_infrastructure(self)
            }
        }
    )+};
}
aws_error!(
    kms_workshop_keys::KeysError,
    kms_workshop_trail::TrailError,
    kms_workshop_notify::NotifyError,
    kms_workshop_alarms::AlarmsError
);

impl AwsError for kms_workshop_aws_errors::AwsFailure {
    fn is_infrastructure(&self) -> bool {
        self.class.is_infrastructure()
    }
}

/// The criteria one verification reports, in the order it reports them, each with its text
/// from the steps file (placeholders filled from the run's values).
pub struct Checks<C> {
    texts: BTreeMap<&'static str, String>,
    out: Vec<Crit>,
    criterion: PhantomData<C>,
}

impl<C: Criterion> Checks<C> {
    /// The texts of `C`'s criteria in `step`; one the steps file lacks (which the steps'
    /// tests rule out) reads as its id.
    pub fn new(step: &StepText, values: &BTreeMap<String, String>) -> Self {
        let text = |id: &str| {
            step.verify
                .iter()
                .find(|c| c.id == id)
                .map_or_else(|| id.to_string(), |c| fill(&c.text, values))
        };
        Checks {
            texts: C::ALL.iter().map(|c| (c.id(), text(c.id()))).collect(),
            out: Vec::new(),
            criterion: PhantomData,
        }
    }

    /// Fill the placeholders that had no value yet (facts the verification just found), for
    /// the criteria reported from here on.
    pub fn refill(&mut self, values: &BTreeMap<String, String>) {
        for text in self.texts.values_mut() {
            *text = fill(text, values);
        }
    }

    fn text(&self, c: C) -> &str {
        self.texts.get(c.id()).map_or(c.id(), String::as_str)
    }

    pub fn push(&mut self, c: C, status: CritStatus, reason: impl Into<String>) {
        let crit = Crit::new(c.id(), self.text(c), status, reason);
        self.out.push(crit);
    }

    pub fn pass(&mut self, c: C, reason: impl Into<String>) {
        self.push(c, CritStatus::Passed, reason);
    }

    pub fn fail(&mut self, c: C, reason: impl Into<String>) {
        self.push(c, CritStatus::Failed, reason);
    }

    pub fn error(&mut self, c: C, reason: impl Into<String>) {
        self.push(c, CritStatus::Error, reason);
    }

    /// `pass` when `ok`, else `fail`.
    pub fn check(&mut self, c: C, ok: bool, reason: impl Into<String>) {
        let status = if ok {
            CritStatus::Passed
        } else {
            CritStatus::Failed
        };
        self.push(c, status, reason);
    }

    /// An AWS failure: `error` when the check could not run, `failed` otherwise.
    pub fn aws(&mut self, c: C, e: &impl AwsError) {
        let status = if e.is_infrastructure() {
            CritStatus::Error
        } else {
            CritStatus::Failed
        };
        self.push(c, status, e.to_string());
    }

    /// The outcome of a wait the learner may skip (`None`) that ends with a value, runs out
    /// of time (`Some(Ok(None))`) or fails: a failure is `error`, a skip or time-out `failed`.
    /// Returns the value, if any, for the caller to report on.
    pub fn waited<T>(
        &mut self,
        c: C,
        outcome: Option<anyhow::Result<Option<T>>>,
        timed_out: &str,
    ) -> Option<T> {
        match outcome {
            Some(Ok(Some(v))) => return Some(v),
            Some(Ok(None)) => self.fail(c, timed_out),
            Some(Err(e)) => self.error(c, format!("{e:#}")),
            None => self.fail(c, "skipped the wait"),
        }
        None
    }

    /// Whether `c` was reported as not done (a check that could not run is not that).
    pub fn failed(&self, c: C) -> bool {
        self.out
            .iter()
            .any(|x| x.id == c.id() && x.status == CritStatus::Failed)
    }

    /// Whether `c` was reported already.
    pub fn has(&self, c: C) -> bool {
        self.out.iter().any(|x| x.id == c.id())
    }

    pub fn into_crits(self) -> Vec<Crit> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::text::CriterionText;

    criteria! {
        enum Demo {
            One = "one",
            Two = "two",
        }
    }

    fn step() -> StepText {
        StepText {
            id: "demo".into(),
            title: "Demo".into(),
            explain: String::new(),
            cli: Vec::new(),
            cli_if: Default::default(),
            creates: Vec::new(),
            verify: vec![CriterionText {
                id: "one".into(),
                text: "one for {who} in {where}".into(),
            }],
        }
    }

    #[test]
    fn statuses_serialize_as_before_and_texts_come_from_the_file() {
        let values: BTreeMap<String, String> = [("who".to_string(), "me".to_string())].into();
        let mut checks = Checks::<Demo>::new(&step(), &values);
        checks.pass(Demo::One, "ok");
        checks.refill(&[("where".to_string(), "here".to_string())].into());
        checks.check(Demo::One, false, "no");
        checks.error(Demo::Two, "net");
        assert!(checks.has(Demo::Two));
        let crits = checks.into_crits();
        let json: Vec<_> = crits
            .iter()
            .map(|c| serde_json::to_value(c).expect("json"))
            .collect();
        assert_eq!(
            json[0],
            serde_json::json!({"id": "one", "text": "one for me in {where}", "status": "passed", "reason": "ok"})
        );
        assert_eq!(json[1]["text"], "one for me in here");
        assert_eq!(json[1]["status"], "failed");
        assert_eq!(json[2]["status"], "error");
        assert_eq!(Demo::ALL, [Demo::One, Demo::Two]);
    }

    #[test]
    fn waits_map_to_statuses() {
        let mut checks = Checks::<Demo>::new(&step(), &BTreeMap::new());
        assert_eq!(checks.waited(Demo::One, Some(Ok(Some(3))), "late"), Some(3));
        assert_eq!(checks.waited::<u8>(Demo::One, Some(Ok(None)), "late"), None);
        assert_eq!(
            checks.waited::<u8>(Demo::One, Some(Err(anyhow::anyhow!("down"))), "late"),
            None
        );
        assert_eq!(checks.waited::<u8>(Demo::One, None, "late"), None);
        let crits = checks.into_crits();
        let got: Vec<_> = crits
            .iter()
            .map(|c| (c.status, c.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (CritStatus::Failed, "late"),
                (CritStatus::Error, "down"),
                (CritStatus::Failed, "skipped the wait")
            ]
        );
    }
}
