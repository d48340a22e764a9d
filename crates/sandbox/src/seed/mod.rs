//! Starting states. `workshop` reproduces a learner's account at the start of the KMS
//! workshop's monitoring chapter (docs/ARCHITECTURE.md, "The starting state"): what
//! `kms-workshop prepare` makes, made by its own plan run in-process ([`plan`], through the
//! SDK and [`client`]), with the sandbox's extras around it; `empty` has the identities only.
//!
//! The identities, accounts and names are defined once in `kms_workshop_names::sandbox` and
//! re-exported here.

mod client;
pub mod lazy;
pub mod plan;

use std::str::FromStr;

use time::Duration;

pub use crate::identity::{instance_credential, instructor_credential, learner_credential};
use crate::protocol::AwsError;
use crate::Sandbox;

pub use kms_workshop_names::sandbox::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    Workshop,
    Empty,
}

impl Seed {
    pub fn name(self) -> &'static str {
        match self {
            Seed::Workshop => "workshop",
            Seed::Empty => "empty",
        }
    }
}

impl FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "workshop" => Ok(Seed::Workshop),
            "empty" => Ok(Seed::Empty),
            other => Err(format!(
                "unknown seed '{other}': expected one of workshop, empty"
            )),
        }
    }
}

/// Write the seed's state into a fresh sandbox: every learner's account (`Config::learners`),
/// and in classroom mode the instructor.
pub fn apply(sb: &Sandbox, seed: Seed) -> Result<(), AwsError> {
    let n = sb.config.learners.clamp(1, MAX_LEARNERS);
    // A classroom's accounts are seeded on their first use ([`lazy`]).
    let lazy = n > 1;
    for k in 1..=n {
        apply_learner(sb, seed, k, lazy)?;
    }
    sb.set_seed_name(seed.name())
}

/// Give the seeded identities of a state made before their secrets were random (they were
/// published constants) the secrets derived from the state's seed; the key ids stay.
pub fn rekey(sb: &Sandbox) -> Result<(), AwsError> {
    let secrets = sb.secret_seed();
    for (_, account) in sb.learners() {
        let l = learner_of(&account);
        if sb.credential(&l.access_key_id).is_some() {
            sb.add_credential(learner_credential(&account, &secrets))?;
        }
        if let Some(old) = sb.credential(&l.instance_access_key_id) {
            let created = match old.principal {
                crate::identity::Principal::AssumedRole { created, .. } => created,
                crate::identity::Principal::IamUser { .. } => String::new(),
            };
            sb.add_credential(instance_credential(&account, &created, &secrets))?;
        }
    }
    if sb.credential(INSTRUCTOR_ACCESS_KEY).is_some() {
        sb.add_credential(instructor_credential(&secrets))?;
    }
    Ok(())
}

/// The workshop's starting state in `account`: the other teams' lookalikes and AWS's own
/// resources first (so the plan meets them, as on AWS), then what `kms-workshop prepare` makes
/// ([`plan`]), then the documented ids and the earlier sections' CloudTrail history.
fn workshop(sb: &Sandbox, account: &str, now: time::OffsetDateTime) -> Result<(), AwsError> {
    // The plan imports the workshop's key material: a wrapping key pair for it (or for another
    // seed's import) is made meanwhile.
    crate::services::kms::crypto::make_wrapping_key_ahead();
    let at = crate::services::SeedAt {
        account,
        region: REGION,
        now,
    };
    for entry in crate::services::REGISTRY {
        if let Some(seed) = entry.seed {
            seed(sb, &at)?;
        }
    }
    plan::prepare_account(sb, account, REGION)?;
    crate::services::iam::seed_instance_role(sb, account)?;
    crate::services::cloudtrail::history::seed_workshop(sb, account, REGION, now)
}

/// In a classroom, the role the instructor assumes into `account`.
fn classroom_role(sb: &Sandbox, account: &str) -> Result<(), AwsError> {
    if sb.config.learners > 1 {
        crate::services::iam::seed_classroom_role(sb, account, INSTRUCTOR_ACCOUNT)?;
    }
    Ok(())
}

/// Seed learner `number`'s account (a fresh one, or one [`Sandbox::reset_learner`] emptied);
/// `lazy`: the workshop's state on the account's first request ([`lazy`]).
pub fn apply_learner(sb: &Sandbox, seed: Seed, number: u32, lazy: bool) -> Result<(), AwsError> {
    let now = sb.clock.now();
    // A learner keeps the account the state gave them (a reset seeds it again); a new state's
    // learner 1 gets `--account-id`'s.
    let known = sb
        .learners_recorded()
        .into_iter()
        .find(|(k, _)| *k == number);
    let account = match (known, number) {
        (Some((_, account)), _) => account,
        (None, 1) => sb.config.first_account(),
        (None, n) => learner(n).account,
    };
    let secrets = sb.secret_seed();
    sb.add_credential(learner_credential(&account, &secrets))?;
    sb.add_credential(instance_credential(
        &account,
        &crate::util::iso8601_secs(now - Duration::hours(2)),
        &secrets,
    ))?;
    match seed {
        Seed::Workshop if lazy => sb.defer_seed(&account)?,
        Seed::Workshop => workshop(sb, &account, now)?,
        Seed::Empty => {}
    }
    if sb.config.learners > 1 && sb.credential(INSTRUCTOR_ACCESS_KEY).is_none() {
        sb.add_credential(instructor_credential(&secrets))?;
    }
    classroom_role(sb, &account)?;
    sb.add_learner(number, &account)
}
