//! The workshop seed's starting state is what `kms-workshop prepare` makes: its plan
//! ([`kms_workshop_prepare::run`]) runs here, in-process, through the AWS SDK and the
//! sandbox's own request path ([`super::client`]), so a seeded account and a prepared one are
//! the same by construction.
//!
//! The plan's calls are the seed's ([`crate::services::Call::seeding`]): made as the learner,
//! in the seed's past (on the days the seed's history tells: the stack four days before the
//! sandbox's clock, the keys three, the import two, the volume one), with lifecycles that complete at once and nothing recorded in
//! CloudTrail. The plan runs on a thread of its own with its own runtime, so a sandbox opened
//! from synchronous code or from inside another runtime seeds the same way.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use parking_lot::Mutex;
use time::{Duration, OffsetDateTime};

use kms_workshop_cleanup::{Clients, ExecOptions, Executor, Pace};
use kms_workshop_prepare::Options;

use super::client::InProcess;
use crate::http::Seeding;
use crate::identity::{learner_credential, Caller};
use crate::protocol::AwsError;
use crate::Sandbox;

/// How long before the sandbox's clock the seed's calls begin: the stack was created four
/// days before the chapter starts.
pub const SEED_AGE: Duration = Duration::days(4);

/// Time between two of the seed's calls.
const STEP: Duration = Duration::seconds(10);

/// How many days before the chapter the earlier sections made what `op` makes, as the seed's
/// history tells it (`services/cloudtrail/seed.rs`): the stack first, then the keys, policies
/// and instance, the import, and last the volume and K1's deletion.
fn days_before(op: &str) -> Option<i64> {
    match op {
        "CreateStack" => Some(4),
        "CreatePolicy" | "AttachRolePolicy" | "CreateKey" | "CreateAlias" | "RunInstances" => {
            Some(3)
        }
        "GetParametersForImport" | "ImportKeyMaterial" => Some(2),
        "CreateVolume" | "AttachVolume" | "ScheduleKeyDeletion" => Some(1),
        _ => None,
    }
}

/// The seed's clock. A call that makes something is dated on the day of the earlier sections
/// it belongs to (the plan runs independent steps at once, so K1's deletion may come before
/// K2's creation: each keeps its own day); any other call (a look, a wait) a [`STEP`] after the
/// latest so far, so it sees everything made before it.
#[derive(Debug)]
pub struct SeedClock {
    chapter: OffsetDateTime,
    /// (the latest time given, calls so far)
    state: Mutex<(OffsetDateTime, i32)>,
}

impl SeedClock {
    /// The clock of a seed for a chapter that starts at `chapter`.
    pub fn for_chapter(chapter: OffsetDateTime) -> Self {
        SeedClock {
            chapter,
            state: Mutex::new((chapter - SEED_AGE, 0)),
        }
    }

    /// The time of the next call, of operation `op`.
    pub fn next(&self, op: &str) -> OffsetDateTime {
        let mut state = self.state.lock();
        let (latest, calls) = &mut *state;
        *calls += 1;
        let t = match days_before(op) {
            Some(days) => self.chapter - Duration::days(days) + STEP * *calls,
            None => *latest + STEP,
        };
        *latest = (*latest).max(t);
        t
    }
}

/// Make the starting state in `account`'s `region` with `prepare`'s plan, as the learner.
pub fn prepare_account(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let sandbox = sb
        .self_ref()
        .and_then(|w| w.upgrade())
        .ok_or_else(|| AwsError::internal("the sandbox is closing"))?;
    let credential = learner_credential(account, &sb.secret_seed());
    let seeding = Seeding {
        caller: Caller::from(&credential),
        clock: Arc::new(SeedClock::for_chapter(sb.clock.now())),
    };
    let transport = InProcess { sandbox, seeding };
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            credential.access_key_id,
            credential.secret_access_key,
            credential.session_token,
            None,
            "sandbox-seed",
        )))
        .endpoint_url("http://seed.sandbox.internal")
        .http_client(transport)
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .build();
    let (account, region) = (account.to_string(), region.to_string());
    std::thread::scope(|s| {
        s.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AwsError::internal(format!("the seed's runtime: {e}")))?;
            rt.block_on(run(&sdk, &account, &region))
        })
        .join()
        .unwrap_or_else(|_| Err(AwsError::internal("the seed's plan panicked")))
    })
}

/// Run the plan to the end; anything it could not make is the seed's failure.
async fn run(sdk: &SdkConfig, account: &str, region: &str) -> Result<(), AwsError> {
    let clients = Clients::new(sdk, account, &[region.to_string()], true);
    // The seed's lifecycles complete at once: a wait needs one look, not five seconds.
    let opts = ExecOptions {
        poll_interval: StdDuration::from_millis(1),
        wait_timeout: StdDuration::from_secs(60),
        ..ExecOptions::default()
    };
    let ex = Executor::new(clients, Pace::new(8, 10_000.0, 10_000.0), opts, None);
    let (_plan, report, _after) =
        kms_workshop_prepare::run(&ex, sdk, &Options::default(), None, false)
            .await
            .map_err(|e| AwsError::internal(format!("the workshop seed: {e}")))?;
    if report.is_clean() && report.remaining.is_empty() {
        Ok(())
    } else {
        Err(AwsError::internal(format!(
            "the workshop seed did not finish: {}",
            kms_workshop_prepare::report::render_text(&report)
        )))
    }
}
