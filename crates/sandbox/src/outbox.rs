//! The SNS outbox of the whole sandbox: every message a topic delivered, kept per account and
//! region in the world's state (persisted entry by entry), numbered across the sandbox so a
//! reader can ask for what came after the last it saw.

use std::sync::atomic::Ordering;

use crate::protocol::AwsError;
use crate::services::cloudtrail::unrecorded;
use crate::{services, Sandbox};

impl Sandbox {
    /// Add a message to the outbox of `account`/`region`, persisting just that entry; returns
    /// its key.
    pub fn append_outbox(
        &self,
        account: &str,
        region: &str,
        mut msg: services::sns::OutboxMessage,
    ) -> Result<String, AwsError> {
        let mut w = self.world.write();
        msg.seq = self.outbox_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let key = format!("{:012}", msg.seq);
        self.put_outbox_message(&mut w, (account, region), &key, msg)?;
        Ok(key)
    }

    /// Note how an http delivery went.
    pub fn set_outbox_delivery(&self, account: &str, region: &str, key: &str, outcome: &str) {
        let mut w = self.world.write();
        // A changed copy goes to the log; memory takes the change once the log has it.
        let Some(mut msg) = w
            .region_mut(account, region)
            .outbox
            .messages
            .get(key)
            .cloned()
        else {
            return;
        };
        msg.delivery = Some(outcome.to_string());
        if let Err(e) = self.put_outbox_message(&mut w, (account, region), key, msg) {
            tracing::error!(error = %e, "cannot persist a delivery outcome");
        }
    }

    /// Write `msg` at `key` of the outbox of `account`/`region`: that one entry to the log,
    /// then to memory (a new message and a changed one alike).
    fn put_outbox_message(
        &self,
        w: &mut crate::world::World,
        (account, region): (&str, &str),
        key: &str,
        msg: services::sns::OutboxMessage,
    ) -> Result<(), AwsError> {
        let value = serde_json::to_value(&msg).map_err(|e| AwsError::internal(e.to_string()))?;
        let path = [
            "accounts", account, "regions", region, "outbox", "messages", key,
        ];
        self.persist(w, &path, value, |w| {
            w.region_mut(account, region)
                .outbox
                .messages
                .insert(key.to_string(), msg);
        })
    }

    /// Every outbox message with a sequence number above `after`, oldest first.
    pub fn outbox(&self, after: u64) -> Vec<services::sns::OutboxMessage> {
        self.outbox_where(after, None)
    }

    /// [`Sandbox::outbox`] of one account only (copied under the lock, not filtered after).
    pub fn outbox_of(&self, account: &str) -> Vec<services::sns::OutboxMessage> {
        self.outbox_where(0, Some(account))
    }

    /// Whether one of `account`'s messages satisfies `pred` (looked at under the lock, none
    /// copied).
    pub fn outbox_any(
        &self,
        account: &str,
        pred: impl Fn(&services::sns::OutboxMessage) -> bool,
    ) -> bool {
        // A call answered already may still have its record (and its notification) waiting.
        unrecorded::settle(self);
        let w = self.world.read();
        w.accounts.get(account).is_some_and(|a| {
            a.regions
                .values()
                .flat_map(|r| r.outbox.messages.values())
                .any(pred)
        })
    }

    fn outbox_where(&self, after: u64, account: Option<&str>) -> Vec<services::sns::OutboxMessage> {
        unrecorded::settle(self);
        let w = self.world.read();
        let mut out: Vec<_> = w
            .accounts
            .iter()
            .filter(|(id, _)| account.is_none_or(|a| a == id.as_str()))
            .flat_map(|(_, a)| a.regions.values())
            .flat_map(|r| r.outbox.messages.values())
            .filter(|m| m.seq > after)
            .cloned()
            .collect();
        out.sort_by_key(|m| m.seq);
        out
    }
}
