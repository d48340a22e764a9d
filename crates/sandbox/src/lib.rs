//! An offline AWS endpoint for the KMS workshop.
//!
//! The sandbox speaks the real AWS wire protocols (awsJson 1.0/1.1, awsQuery, ec2Query, RPC v2
//! CBOR, REST-XML) on 127.0.0.1, verifies SigV4 signatures, performs real KMS cryptography
//! (AES-256-GCM envelopes bound to the encryption context, RSA-OAEP key import), records every
//! call as a CloudTrail management event that `LookupEvents` finds, and persists its state
//! crash-safely. The AWS SDKs and the `aws` CLI use it unchanged through `endpoint_url`.
//!
//! Layout: [`protocol`] (one module per wire protocol over one request/response/error model),
//! [`auth`] and [`identity`] (who is calling), [`services`] (one module per AWS service),
//! [`store`] and [`world`] (state and its persistence), [`server`] (HTTP), [`seed`] (the
//! workshop's starting state).

pub mod access;
pub mod auth;
pub mod blobs;
pub mod clock;
pub mod common;
pub mod config;
pub mod console_signin;
pub mod http;
pub mod identity;
mod outbox;
pub mod pipeline;
pub mod progress;
pub mod protocol;
pub mod realism;
pub mod seed;
pub mod services;
pub mod store;
pub mod util;
pub mod validate;
pub mod world;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};
use time::Duration;

pub use crate::http::{serve, serve_with, Running};
pub use config::{Config, LatencyProfile};
pub use seed::Seed;

use crate::clock::Clock;
use crate::identity::Credential;
use crate::protocol::AwsError;
use crate::services::cloudtrail::events::EventStore;
use crate::store::{Store, StoreError};
use crate::world::{RegionalState, World};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("state in {dir} cannot be read by this version: {why}")]
    Incompatible { dir: String, why: String },
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// The CloudTrail history as the state directory holds it.
#[derive(Default)]
struct History {
    /// Binary frames ([`store::history`]).
    frames: Vec<u8>,
    /// A version-1 directory's JSON lines.
    legacy: Option<Vec<serde_json::Value>>,
}

/// The sandbox: state, clock, CloudTrail history and persistence, shared by all requests.
pub struct Sandbox {
    pub config: Config,
    pub clock: Clock,
    /// The CloudTrail event history, without the records still waiting to join it: read it
    /// through [`Sandbox::events`].
    history: EventStore,
    /// Read-only calls' records, taken down before their answers and written after them.
    unrecorded: services::cloudtrail::unrecorded::Unrecorded,
    pub(crate) lookup_limiter: services::cloudtrail::limiter::RateLimiter,
    /// Every service's state. Read-only calls (most of a workshop's: GenerateDataKey,
    /// Decrypt, Describe…) share it; a change has it alone.
    world: RwLock<World>,
    store: Store,
    /// The URL clients reach this sandbox at (for links in SNS messages), once serving.
    endpoint: Mutex<Option<String>>,
    outbox_seq: AtomicU64,
    /// CloudTrail events waiting for their delivery delay before EventBridge sees them.
    pending_events: Mutex<Vec<services::events::PendingEvent>>,
    /// What the control API's callers must present ([`access`]): kept in the state directory,
    /// new for each in-memory sandbox.
    admin_token: String,
    /// S3 object bytes, apart from the state that names them.
    pub blobs: blobs::Blobs,
    /// Console sign-in links handed out and not yet used ([`console_signin`]).
    signins: console_signin::SignIns,
    /// One gate per account whose seeding waits for its first use, so two first requests
    /// seed it once ([`seed::lazy`]).
    lazy: seed::lazy::Lazy,
    /// Whether any account waits for its first use (every request asks; most sandboxes have
    /// none waiting, and need not take the world's lock to know).
    seeds_waiting: std::sync::atomic::AtomicBool,
    me: Weak<Sandbox>,
}

impl Sandbox {
    /// Open the state directory (or memory), seeding a new state.
    pub fn open(config: Config) -> Result<Arc<Sandbox>, SandboxError> {
        services::sns::signing::prepare();
        if let Some(why) = config.check_account_id() {
            return Err(SandboxError::Config(why));
        }
        let (store, loaded) = match &config.state_dir {
            Some(dir) => {
                let (s, l) = Store::open(dir)?;
                (s, Some(l))
            }
            None => (Store::memory(), None),
        };
        let (mut world, events, fresh) = Self::loaded_world(&config, loaded)?;
        let offset = Duration::milliseconds(world.clock_offset_ms);
        Clock::check_offset(offset).map_err(|why| SandboxError::Incompatible {
            dir: config
                .state_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            why: format!("clock_offset_ms: {why}; move the directory aside to start fresh"),
        })?;
        if !fresh {
            Self::check_account(&config, &world)?;
        }
        let clock = Clock::behind_by(offset, config.clock_behind);
        // The seed of the seeded identities' secrets; a state from before they were random
        // gets one now (its existing keys stay as they were).
        let new_secret_seed = world.secret_seed.is_empty();
        if new_secret_seed {
            world.secret_seed = identity::new_secret_seed();
        }
        let admin_token = match store.admin_token()? {
            Some(t) => t,
            None => access::new_token(),
        };
        let blobs = blobs::Blobs::open(store.dir().as_deref())?;
        // Objects of a state from before blobs held them move there (and a snapshot without
        // their bytes replaces the state's files below); blobs nothing names go.
        let mut moved = false;
        for r in world
            .accounts
            .values_mut()
            .flat_map(|a| a.regions.values_mut())
        {
            moved |= r.s3.move_inline_data(&blobs)?;
        }
        blobs.retain(&world.blob_names());
        let event_store = EventStore::default();
        Self::load_history(&store, &event_store, &config, events)?;
        let last_seq = world
            .accounts
            .values()
            .flat_map(|a| a.regions.values())
            .flat_map(|r| r.outbox.messages.values().map(|m| m.seq))
            .max()
            .unwrap_or(0);
        let seeds_waiting = !world.unseeded.is_empty();
        let sandbox = Arc::new_cyclic(|me| Sandbox {
            clock,
            history: event_store,
            unrecorded: Default::default(),
            lookup_limiter: Default::default(),
            world: RwLock::new(world),
            store,
            config,
            endpoint: Mutex::new(None),
            outbox_seq: AtomicU64::new(last_seq),
            pending_events: Mutex::new(Vec::new()),
            admin_token,
            blobs,
            signins: Default::default(),
            lazy: Default::default(),
            seeds_waiting: seeds_waiting.into(),
            me: me.clone(),
        });
        if moved {
            sandbox.store.snapshot(&*sandbox.world.read())?;
        }
        if new_secret_seed && !fresh {
            // The old secrets were published constants: replace them, or anyone could sign as
            // any learner or the instructor of this state.
            sandbox
                .persist_secret_seed()
                .and_then(|()| seed::rekey(&sandbox))
                .map_err(|e| SandboxError::Incompatible {
                    dir: String::new(),
                    why: e.to_string(),
                })?;
            tracing::warn!(
                "this state's seeded keys were published constants; they are random now: hand \
                 out new ones with `kms-workshop sandbox env` / `sandbox learners`"
            );
        }
        if fresh {
            seed::apply(&sandbox, sandbox.config.seed).map_err(|e| SandboxError::Incompatible {
                dir: String::new(),
                why: e.to_string(),
            })?;
            sandbox.store.snapshot(&*sandbox.world.read())?;
        } else {
            sandbox.bring_up_to_date()?;
        }
        Ok(sandbox)
    }

    /// The world a state directory held (or a new one), its events, and whether it is new.
    fn loaded_world(
        config: &Config,
        loaded: Option<store::Loaded>,
    ) -> Result<(World, History, bool), SandboxError> {
        let Some(loaded) = loaded else {
            return Ok((World::default(), History::default(), true));
        };
        let history = History {
            frames: loaded.events,
            legacy: loaded.legacy_events,
        };
        let Some(w) = loaded.world else {
            return Ok((World::default(), history, true));
        };
        let world: World = serde_json::from_value(w).map_err(|e| SandboxError::Incompatible {
            dir: config
                .state_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            why: e.to_string(),
        })?;
        Ok((world, history, false))
    }

    /// Load the persisted CloudTrail history into `events` (a version-1 directory's JSON lines
    /// are then written anew in the binary form), and persist from now on.
    fn load_history(
        store: &Store,
        events: &EventStore,
        config: &Config,
        history: History,
    ) -> Result<(), SandboxError> {
        match history.legacy {
            Some(lines) => {
                for line in lines {
                    events.load_json_line(line);
                }
                store.migrate_history(&events.export())?;
            }
            None => events
                .replay(store::history::frames(&history.frames))
                .map_err(|(frame, why)| store::StoreError::Corrupt {
                    path: config
                        .state_dir
                        .clone()
                        .unwrap_or_default()
                        .join(store::history::FILE),
                    line: None,
                    why: format!("frame {frame}: {why}"),
                })?,
        }
        events.set_persisting(store.persistent());
        Ok(())
    }

    /// A state keeps the account it was made with: asked as soon as the state is read, before
    /// anything is written to it (a version-1 history is migrated, an older directory marked
    /// this version's), so a refused state is the build's that wrote it, as it was.
    fn check_account(config: &Config, world: &World) -> Result<(), SandboxError> {
        let learners = world.learners();
        let have = learners.first().map_or("", |(_, a)| a.as_str());
        match &config.account_id {
            Some(asked) if asked != have => Err(SandboxError::Config(format!(
                "this state's account is {have}, not --account-id {asked}: use another --state-dir for another account"
            ))),
            _ => Ok(()),
        }
    }

    /// An existing state opened with today's flags: it keeps the account it was made with,
    /// gains the learners it lacks, and forgets the console sessions' keys (sessions do not
    /// outlive the process).
    fn bring_up_to_date(&self) -> Result<(), SandboxError> {
        let sandbox = self;
        sandbox
            .forget_console_keys()
            .map_err(|e| SandboxError::Incompatible {
                dir: String::new(),
                why: e.to_string(),
            })?;
        // A state made with fewer learners than asked for now: seed the ones it lacks.
        let have = sandbox.learners().len() as u32;
        let want = sandbox.config.learners.min(seed::MAX_LEARNERS);
        if want > have {
            let seed: Seed = sandbox.seed_name().parse().unwrap_or(Seed::Workshop);
            tracing::info!(have, want, "seeding the learners this state lacks");
            for k in have + 1..=want {
                let lazy = sandbox.config.learners > 1;
                seed::apply_learner(sandbox, seed, k, lazy).map_err(|e| {
                    SandboxError::Incompatible {
                        dir: String::new(),
                        why: e.to_string(),
                    }
                })?;
            }
        }
        sandbox
            .date_undated_learners()
            .map_err(|e| SandboxError::Incompatible {
                dir: String::new(),
                why: e.to_string(),
            })
    }

    pub fn service(&self, signing_name: &str) -> Option<&'static dyn services::Service> {
        services::lookup(signing_name)
    }

    /// Keep an S3 object's bytes ([`blobs`]) before a state change names them (hold the
    /// answer until the change is made).
    pub fn keep_blob(&self, data: &[u8]) -> Result<blobs::Kept<'_>, AwsError> {
        self.blobs.keep(data).map_err(|e| {
            tracing::error!(error = %e, "cannot keep an object's bytes");
            AwsError::internal(format!("The sandbox could not persist its state: {e}"))
        })
    }

    /// The token the control API asks for ([`access`]).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The seed the seeded identities' secrets are derived from ([`identity`]).
    pub(crate) fn secret_seed(&self) -> String {
        self.world.read().secret_seed.clone()
    }

    fn persist_secret_seed(&self) -> Result<(), AwsError> {
        let mut w = self.world.write();
        let seed = w.secret_seed.clone();
        self.persist(
            &mut w,
            &["secret_seed"],
            serde_json::Value::String(seed),
            |_| {},
        )
    }

    pub fn credential(&self, access_key_id: &str) -> Option<Credential> {
        self.with_credential(access_key_id, Credential::clone)
    }

    /// `f` of the credential behind `access_key_id`, read in place (every request's signature
    /// is checked against one: `f` copies out only what it needs). The world's lock is held
    /// for reading while `f` runs, so `f` should be quick.
    pub fn with_credential<R>(
        &self,
        access_key_id: &str,
        f: impl FnOnce(&Credential) -> R,
    ) -> Option<R> {
        self.world.read().credentials.get(access_key_id).map(f)
    }

    /// All known credentials (for `sandbox env` and the admin view).
    pub fn credentials(&self) -> Vec<Credential> {
        self.world.read().credentials.values().cloned().collect()
    }

    pub fn add_credential(&self, cred: Credential) -> Result<(), AwsError> {
        let mut w = self.world.write();
        let value = serde_json::to_value(&cred).map_err(|e| AwsError::internal(e.to_string()))?;
        let key = cred.access_key_id.clone();
        self.persist(&mut w, &["credentials", &key], value, |w| {
            w.credentials.insert(key.clone(), cred);
        })
    }

    /// Forget an access key (IAM DeleteAccessKey).
    pub fn remove_credential(&self, access_key_id: &str) -> Result<(), AwsError> {
        let mut w = self.world.write();
        if w.credentials.contains_key(access_key_id) {
            self.persist(
                &mut w,
                &["credentials", access_key_id],
                serde_json::Value::Null,
                |w| {
                    w.credentials.remove(access_key_id);
                },
            )?;
        }
        Ok(())
    }

    /// Learner number → account, in order (learner 1 alone for states made before classroom
    /// mode existed).
    pub fn learners(&self) -> Vec<(u32, String)> {
        self.world.read().learners()
    }

    /// Learner number → account as the state records it (empty for a state made before
    /// classroom mode, or not seeded yet).
    pub(crate) fn learners_recorded(&self) -> Vec<(u32, String)> {
        let w = self.world.read();
        w.learners.iter().map(|(k, a)| (*k, a.clone())).collect()
    }

    /// Record learner `number`'s account, seeded now (the start of [`progress`]'s count).
    pub(crate) fn add_learner(&self, number: u32, account: &str) -> Result<(), AwsError> {
        // Whole seconds, as CloudTrail stamps events: a call in the same second counts.
        let since = self.clock.now().unix_timestamp() * 1000;
        let mut w = self.world.write();
        let key = number.to_string();
        self.persist(
            &mut w,
            &["learners", &key],
            serde_json::Value::String(account.to_string()),
            |w| {
                w.learners.insert(number, account.to_string());
            },
        )?;
        self.count_progress_from(&mut w, number, since)
    }

    /// Count learner `number`'s progress from `since` (sandbox clock, Unix ms): the account
    /// was seeded then.
    fn count_progress_from(&self, w: &mut World, number: u32, since: i64) -> Result<(), AwsError> {
        let key = number.to_string();
        self.persist(w, &["learner_since", &key], since.into(), |w| {
            w.learner_since.insert(number, since);
        })
    }

    /// Empty learner `number`'s account (every service's state, its credentials, its CloudTrail
    /// history, its messages) and seed it again as the sandbox was seeded (the workshop's
    /// state on the account's next request: [`seed::lazy`]).
    pub fn reset_learner(&self, number: u32) -> Result<String, AwsError> {
        let Some(account) = self
            .learners()
            .into_iter()
            .find(|(k, _)| *k == number)
            .map(|(_, a)| a)
        else {
            let known = self.learners().len();
            return Err(AwsError::new(
                404,
                "NoSuchLearner",
                format!("There is no learner {number}: this sandbox has learners 1 to {known}."),
            ));
        };
        {
            let mut w = self.world.write();
            let keys: Vec<String> = w
                .credentials
                .values()
                .filter(|c| c.account == account)
                .map(|c| c.access_key_id.clone())
                .collect();
            for k in keys {
                self.persist(&mut w, &["credentials", &k], serde_json::Value::Null, |w| {
                    w.credentials.remove(&k);
                })?;
            }
        }
        let seed: Seed = self.seed_name().parse().unwrap_or(Seed::Workshop);
        if seed == Seed::Workshop {
            // Requests in the account wait from now on, rather than see it half-emptied.
            self.defer_seed(&account)?;
        }
        self.wipe_account(&account)?;
        seed::apply_learner(self, seed, number, true)?;
        Ok(account)
    }

    /// Empty `account`: every service's state, its CloudTrail history, its messages (its
    /// credentials stay).
    pub(crate) fn wipe_account(&self, account: &str) -> Result<(), AwsError> {
        // The waiting records join the history, and hand over their events, while the
        // account's rules still route them (one may notify a topic in another account).
        let history = self.events();
        {
            let mut w = self.world.write();
            self.persist(
                &mut w,
                &["accounts", account],
                serde_json::Value::Null,
                |w| {
                    w.accounts.remove(account);
                },
            )?;
        }
        self.pending_events.lock().retain(|p| p.account != account);
        history.clear_account(account, |frame| self.persist_event(frame));
        Ok(())
    }

    /// Put every learner's account back at its starting state: the whole state's reset (the
    /// clock keeps its time). The accounts, in learner order.
    pub fn reset_all(&self) -> Result<Vec<(u32, String)>, AwsError> {
        self.learners()
            .into_iter()
            .map(|(k, _)| self.reset_learner(k).map(|account| (k, account)))
            .collect()
    }

    pub fn seed_name(&self) -> String {
        self.world.read().seed.clone()
    }

    pub fn set_seed_name(&self, seed: &str) -> Result<(), AwsError> {
        let mut w = self.world.write();
        self.persist(
            &mut w,
            &["seed"],
            serde_json::Value::String(seed.to_string()),
            |w| w.seed = seed.to_string(),
        )
    }

    /// Move the sandbox clock forward (persisted).
    pub fn advance_clock(&self, by: Duration) -> Result<Duration, AwsError> {
        // The calls answered before the clock moves are routed at their own time (a rule not
        // yet live then does not notify them).
        services::cloudtrail::unrecorded::settle(self);
        // The world's lock orders concurrent advances; the clock moves once the log has it.
        let mut w = self.world.write();
        let offset = self
            .clock
            .advanced(by)
            .map_err(|why| AwsError::new(400, "InvalidParameterValue", why))?;
        let ms = offset.whole_milliseconds() as i64;
        self.persist(
            &mut w,
            &["clock_offset_ms"],
            serde_json::Value::from(ms),
            |w| {
                w.clock_offset_ms = ms;
                self.clock.set_offset(offset);
            },
        )?;
        Ok(offset)
    }

    pub(crate) fn self_ref(&self) -> Option<Weak<Sandbox>> {
        Some(self.me.clone())
    }

    /// The URL clients reach this sandbox at, once it serves.
    pub fn endpoint(&self) -> Option<String> {
        self.endpoint.lock().clone()
    }

    pub(crate) fn set_endpoint(&self, url: String) {
        *self.endpoint.lock() = Some(url);
    }

    /// Every (account, region) that has state.
    pub fn account_regions(&self) -> Vec<(String, String)> {
        let w = self.world.read();
        w.accounts
            .iter()
            .flat_map(|(a, acc)| acc.regions.keys().map(move |r| (a.clone(), r.clone())))
            .collect()
    }

    /// The regions `account` has state in: its own, not every account's (a classroom has
    /// thousands, and calls ask this of their own account).
    pub fn regions_of(&self, account: &str) -> Vec<String> {
        let w = self.world.read();
        w.accounts
            .get(account)
            .map_or_else(Vec::new, |acc| acc.regions.keys().cloned().collect())
    }

    /// Whether `f` holds of a service's state in any of `account`'s regions, read at once.
    pub fn any_region_of<S: RegionalState>(
        &self,
        account: &str,
        mut f: impl FnMut(&S) -> bool,
    ) -> bool {
        let w = self.world.read();
        w.accounts
            .get(account)
            .is_some_and(|acc| acc.regions.values().any(|reg| f(S::of(reg))))
    }

    /// The CloudTrail event history, with every call answered so far in it (the records
    /// still waiting are written first).
    pub fn events(&self) -> &EventStore {
        services::cloudtrail::unrecorded::settle(self);
        &self.history
    }

    /// Read a service's state in one account and region.
    pub fn read<S: RegionalState, R>(
        &self,
        account: &str,
        region: &str,
        f: impl FnOnce(&S) -> R,
    ) -> R {
        let w = self.world.read();
        match w.region(account, region) {
            Some(r) => f(S::of(r)),
            None => f(&S::default()),
        }
    }

    /// Change a service's state in one account and region; the state is persisted before this
    /// returns, whatever `f` answers, so memory and disk never disagree.
    pub fn write<S: RegionalState, R>(
        &self,
        account: &str,
        region: &str,
        f: impl FnOnce(&mut S) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        let mut w = self.world.write();
        // The call works on a draft: a call that fails changes nothing, and memory changes
        // only once the log holds the change.
        let mut draft = match w.region(account, region) {
            Some(r) => S::of(r).clone(),
            None => S::default(),
        };
        let out = f(&mut draft)?;
        // In memory there is no log: serialising the whole state per change would cost the
        // state's size on every call for nothing.
        let compact = if self.store.persistent() {
            let value =
                serde_json::to_value(&draft).map_err(|e| AwsError::internal(e.to_string()))?;
            self.put(&["accounts", account, "regions", region, S::NAME], value)?
        } else {
            false
        };
        *S::of_mut(w.region_mut(account, region)) = draft;
        self.after_put(&w, compact);
        Ok(out)
    }

    /// Write `value` at `path` to the log; `Ok(true)` when the log should be compacted.
    fn put(&self, path: &[&str], value: serde_json::Value) -> Result<bool, AwsError> {
        self.store.put(path, value).map_err(|e| {
            tracing::error!(error = %e, "cannot persist sandbox state");
            AwsError::internal(format!("The sandbox could not persist its state: {e}"))
        })
    }

    /// After a write reached the log and memory: fold the log into a snapshot when it is due.
    fn after_put(&self, w: &World, compact: bool) {
        if !compact {
            return;
        }
        // Compaction is when the objects nothing names any more are let go.
        self.blobs.retain(&w.blob_names());
        // The log already holds everything: a snapshot that cannot be written costs only the
        // log's length.
        if let Err(e) = self.store.snapshot(w) {
            tracing::error!(error = %e, "cannot write sandbox snapshot");
        }
    }

    /// Write `value` at `path` to the log, then `apply` the same change to `w` (so memory
    /// changes only once the log has it), then snapshot when one is due (so the snapshot has
    /// the change).
    fn persist(
        &self,
        w: &mut World,
        path: &[&str],
        value: serde_json::Value,
        apply: impl FnOnce(&mut World),
    ) -> Result<(), AwsError> {
        let compact = self.put(path, value)?;
        apply(w);
        self.after_put(w, compact);
        Ok(())
    }

    /// Append a CloudTrail history frame (as [`EventStore::append`] hands it over) to disk;
    /// whether it was written. Public for tools that load a history in bulk (the benchmark).
    pub fn persist_event(&self, payload: &[u8]) -> bool {
        match self.store.append_event(payload) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "cannot persist a CloudTrail event");
                false
            }
        }
    }

    /// Flush written state to the disk.
    pub fn sync(&self) {
        services::cloudtrail::unrecorded::settle(self);
        self.store.sync();
    }

    pub fn state_dir(&self) -> Option<PathBuf> {
        self.store.dir()
    }

    /// A digest of the whole state, as a restart would load it: two equal digests are two
    /// equal states (what a failed request must leave behind).
    pub fn digest(&self) -> String {
        use sha2::Digest;
        services::cloudtrail::unrecorded::settle(self);
        let w = self.world.read();
        let bytes = serde_json::to_vec(&*w).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(&bytes))
    }
}

impl Sandbox {
    /// Apply what the passing of sandbox time does (imported material expiring).
    pub fn tick(&self) {
        // Read-only calls' records wait for a later call to start their writer; when the
        // calls stop, this writes them.
        services::cloudtrail::unrecorded::settle(self);
        services::run_ticks(self, &services::ticks());
        self.deliver_due_events();
    }
}
