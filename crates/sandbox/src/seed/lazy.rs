//! A classroom's accounts are seeded on their first use: the workshop state takes the seed's
//! plan about sixty calls and an RSA key pair per account, too much to do for hundreds of
//! learners before the sandbox answers. Each account waits, marked in the state (a restart
//! keeps the mark), until the first AWS request made in it; that request seeds it and then
//! goes on. The seed's own in-process calls do not wait.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::protocol::AwsError;
use crate::Sandbox;

/// The gates of the accounts being seeded.
pub type Gates = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

impl Sandbox {
    /// Whether `account`'s workshop state waits for its first use.
    pub fn waits_for_seed(&self, account: &str) -> bool {
        self.seeds_waiting.load(Ordering::Acquire)
            && self.world.lock().unseeded.contains_key(account)
    }

    /// Mark `account` as waiting for its first use to be seeded.
    pub(crate) fn defer_seed(&self, account: &str) -> Result<(), AwsError> {
        let since = self.clock.now().unix_timestamp() * 1000;
        let mut w = self.world.lock();
        self.persist(&mut w, &["unseeded", account], since.into(), |w| {
            w.unseeded.insert(account.to_string(), since);
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
        let gate = self
            .seed_gates
            .lock()
            .entry(account.to_string())
            .or_default()
            .clone();
        let _held = gate.lock().await;
        if !self.waits_for_seed(account) {
            return Ok(());
        }
        let (sb, acct) = (self.clone(), account.to_string());
        let seeded = tokio::task::spawn_blocking(move || sb.seed_waiting(&acct))
            .await
            .unwrap_or_else(|_| Err(AwsError::internal("seeding the account failed")));
        self.seed_gates.lock().remove(account);
        seeded
    }

    /// Make the workshop state of waiting `account`, then count its learner's progress from
    /// now (the seed's history is not theirs).
    fn seed_waiting(&self, account: &str) -> Result<(), AwsError> {
        let started = std::time::Instant::now();
        super::workshop(self, account, self.clock.now()).inspect_err(|e| {
            tracing::error!(account, error = %e, "cannot seed the account");
        })?;
        tracing::info!(account, took = ?started.elapsed(), "seeded on first use");
        let number = self
            .learners_recorded()
            .into_iter()
            .find(|(_, a)| a == account)
            .map(|(k, _)| k);
        let since = self.clock.now().unix_timestamp() * 1000;
        let mut w = self.world.lock();
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
