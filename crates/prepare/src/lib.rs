//! Sets an account up as the AWS KMS workshop's monitoring chapter finds it: the stack from
//! the workshop's template, the instance launched with its profile, the customer policies
//! attached by hand, `alias/FirstCMK`, `alias/ImportedCMK` on a key whose material was made
//! here and imported with an expiry, a first key pending deletion, the `WorkshopEBS` volume
//! and the sample files (the state [`kms_workshop_names::starting`] defines).
//!
//! The pieces, in the order a run uses them:
//! - [`survey`]: what of that state the account already holds, checked: what is there and right
//!   is kept; what is there and wrong (an `alias/ImportedCMK` on a key that is not EXTERNAL, a
//!   bucket of the stack's name that another account owns…) stops the run before anything
//!   changes;
//! - [`plan`]: the steps that make what is missing, with their dependencies;
//! - [`steps`]: each step, idempotent on its own (a step interrupted between its calls finds
//!   what it made and goes on);
//! - the clean-up's [`Executor`]: parallel where independent, paced, retried, journalled and
//!   resumable, with the same live view.
//!
//! The key material is made with the `rand` CSPRNG and wrapped with the `rsa` crate
//! (RSAES_OAEP_SHA_256 under the RSA_2048 public key KMS hands out): it never leaves the process
//! unwrapped and is zeroised after the import.

#![recursion_limit = "256"]

pub mod plan;
pub mod report;
pub mod steps;
pub mod survey;

use kms_workshop_cleanup::exec::Journalled;
use kms_workshop_cleanup::{AwsFailure, CleanupError, ErrorClass, Executor, Journal, Plan, Report};

pub use plan::Setup;
pub use survey::{Present, Survey};

/// What a set-up makes beyond the fixed starting state.
#[derive(Debug, Clone)]
pub struct Options {
    /// Days the imported key material stays valid (1 to 365).
    pub material_days: u32,
    /// Leave section I's first key pending deletion, as the workshop does.
    pub pending_key: bool,
    /// The instance type; `None`: the smallest type the region's free tier covers.
    pub instance_type: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            material_days: kms_workshop_names::starting::MATERIAL_DAYS,
            pending_key: true,
            instance_type: None,
        }
    }
}

/// Why a set-up did not run (single steps' failures are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// A call needed to survey the account failed.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// Something of the workshop's name exists and is not what the chapter needs.
    #[error("{what}: {why}; nothing was changed")]
    Wrong { what: String, why: String },
    #[error(transparent)]
    Cleanup(#[from] CleanupError),
}

impl PrepareError {
    /// The class of the AWS failure behind this error, if there is one.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            PrepareError::Aws(f) => Some(f.class),
            PrepareError::Cleanup(c) => c.class(),
            PrepareError::Wrong { .. } => None,
        }
    }
}

/// The journal of set-up runs.
pub type PrepareJournal = Journal<Survey, Setup>;

/// Open the set-up journal of `account` under `dir`.
pub fn open_journal(dir: &std::path::Path, account: &str) -> Result<PrepareJournal, CleanupError> {
    Journal::open_as(dir, "prepare", account)
}

/// Survey, plan and (unless `dry_run`) execute; then survey again: what is still missing is
/// the report's `remaining`, and the survey after the run (`None` when it failed) is what the
/// account holds.
///
/// A run the journal shows unfinished is resumed as the same run: its id is kept (so a key it
/// made but had not named yet is found by its run tag, and its launches reuse their client
/// tokens), while the plan is made afresh from a new survey (every step looks before it makes,
/// and the account or the options may have changed since).
pub async fn run(
    ex: &Executor,
    sdk: &aws_config::SdkConfig,
    opts: &Options,
    journal: Option<&PrepareJournal>,
    dry_run: bool,
) -> Result<(Plan<Setup>, Report, Option<Survey>), PrepareError> {
    let clients = ex.clients();
    let resumed = match (journal, dry_run) {
        (Some(j), false) => j.unfinished()?,
        _ => None,
    };
    let mut report = Report {
        account: clients.account.clone(),
        regions: vec![clients.home.clone()],
        dry_run,
        resumed: resumed.is_some(),
        ..Report::default()
    };
    let run_id = resumed
        .map(|r| r.run)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let survey = match survey::survey(ex, sdk, opts).await {
        Ok(s) => s,
        Err(e) => {
            return Err(e);
        }
    };
    let plan = plan::build(&survey, &run_id);
    report.found = survey.present.iter().map(|p| p.what.clone()).collect();
    if dry_run {
        return Ok((plan, report, Some(survey)));
    }
    // Every attempt journals its own plan (a resumed one plans afresh), under the run's id.
    let journalled = Journalled {
        journal,
        run: &run_id,
        found: &survey,
        start: true,
    };
    ex.execute_run(journalled, &plan, &[], &mut report).await?;
    let after = match survey::survey(ex, sdk, opts).await {
        Ok(after) => {
            report.remaining = plan::build(&after, &run_id)
                .nodes
                .iter()
                .map(|n| kms_workshop_cleanup::plan::Step::describe(&n.action))
                .collect();
            Some(after)
        }
        Err(e) => {
            if let Some(c) = e.class() {
                report.note_class(c);
            }
            report.errors.push(format!("final check: {e}"));
            None
        }
    };
    Ok((plan, report, after))
}
