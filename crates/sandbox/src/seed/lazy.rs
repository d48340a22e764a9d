//! Accounts seeded on their first use: the workshop state takes the seed's plan about sixty
//! calls and an RSA key pair per account, too much to do for hundreds of learners before a
//! classroom answers, or inside a reset. Such an account waits, marked in the state (a
//! restart keeps the mark), until the first AWS request made in it; that request seeds it and
//! then goes on. The seed's own in-process calls do not wait.
//!
//! A seeding runs in a task of its own that holds the account's gate until it ends: a request
//! given up half-way (a client's timeout, a refreshed page) neither stops it nor lets a second
//! one start. Each attempt starts from the empty account (whatever an attempt that failed, or
//! that a reset overtook, left is wiped first), and ends the wait only if no reset marked the
//! account again meanwhile. At most as many accounts seed at once as the machine has cores.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Semaphore;

use crate::protocol::AwsError;
use crate::Sandbox;

/// The accounts' gates, and the bound on seedings at once.
pub struct Lazy {
    gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    slots: Arc<Semaphore>,
}

impl Default for Lazy {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Lazy {
            gates: Mutex::default(),
            slots: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Lazy {
    fn gate(&self, account: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.gates
            .lock()
            .entry(account.to_string())
            .or_default()
            .clone()
    }
}

impl Sandbox {
    /// Whether `account`'s workshop state waits for its first use.
    pub fn waits_for_seed(&self, account: &str) -> bool {
        self.seeds_waiting.load(Ordering::Acquire)
            && self.world.read().unseeded.contains_key(account)
    }

    /// Mark `account` as waiting for its first use to be seeded (a new mark: a seeding in
    /// flight when it is made does not end the wait).
    pub(crate) fn defer_seed(&self, account: &str) -> Result<(), AwsError> {
        let mut w = self.world.write();
        let mark = w.seed_marks + 1;
        self.persist(&mut w, &["seed_marks"], mark.into(), |w| {
            w.seed_marks = mark
        })?;
        self.persist(&mut w, &["unseeded", account], mark.into(), |w| {
            w.unseeded.insert(account.to_string(), mark);
        })?;
        self.seeds_waiting.store(true, Ordering::Release);
        Ok(())
    }

    /// Seed `account` now if it waits for its first use (a request in it is about to be
    /// served); concurrent first requests wait for one seeding.
    pub async fn ensure_seeded(self: &Arc<Self>, account: &str) -> Result<(), AwsError> {
        if !self.waits_for_seed(account) {
            return Ok(());
        }
        let (sb, acct) = (self.clone(), account.to_string());
        let gate = self.lazy.gate(account);
        let seeding = tokio::spawn(async move {
            let _held = gate.lock_owned().await;
            if !sb.waits_for_seed(&acct) {
                return Ok(());
            }
            let _slot = sb
                .lazy
                .slots
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| AwsError::internal("the sandbox is closing"))?;
            tokio::task::spawn_blocking(move || sb.seed_waiting(&acct))
                .await
                .unwrap_or_else(|_| Err(AwsError::internal("seeding the account failed")))
        });
        seeding
            .await
            .unwrap_or_else(|_| Err(AwsError::internal("seeding the account failed")))
    }

    /// Make the workshop state of waiting `account` from its empty account, then (unless a
    /// reset marked it again meanwhile) end the wait and count its learner's progress from
    /// now: the seed's history is not theirs.
    fn seed_waiting(&self, account: &str) -> Result<(), AwsError> {
        let Some(mark) = self.world.read().unseeded.get(account).copied() else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        self.wipe_account(account)?;
        super::workshop(self, account, self.clock.now())
            .and_then(|()| super::classroom_role(self, account))
            .inspect_err(|e| tracing::error!(account, error = %e, "cannot seed the account"))?;
        tracing::info!(account, took = ?started.elapsed(), "seeded on first use");
        let number = self
            .learners_recorded()
            .into_iter()
            .find(|(_, a)| a == account)
            .map(|(k, _)| k);
        let since = self.clock.now().unix_timestamp() * 1000;
        let mut w = self.world.write();
        if w.unseeded.get(account) != Some(&mark) {
            // A reset came while this seeding ran: the account waits for the next one.
            return Ok(());
        }
        if let Some(k) = number {
            self.count_progress_from(&mut w, k, since)?;
        }
        self.persist(
            &mut w,
            &["unseeded", account],
            serde_json::Value::Null,
            |w| {
                w.unseeded.remove(account);
            },
        )?;
        self.seeds_waiting
            .store(!w.unseeded.is_empty(), Ordering::Release);
        Ok(())
    }
}
