//! What the passing of sandbox time does to keys: imported material expires (the key goes to
//! `PendingImport`), keys whose waiting period is over are deleted with their aliases.

use time::OffsetDateTime;

use super::state::KmsState;
use crate::Sandbox;

impl KmsState {
    /// Whether anything is due at `now` (a read before taking the write lock).
    fn expiry_due(&self, now: OffsetDateTime) -> bool {
        self.keys
            .values()
            .any(|k| k.material_expired(now) || k.deletion_due(now))
    }

    fn expire(&mut self, now: OffsetDateTime) {
        for k in self.keys.values_mut() {
            if k.material_expired(now) {
                tracing::info!(key = %k.arn, "imported key material expired");
                k.materials.clear();
                k.valid_to = None;
                k.expiration_model = None;
            }
        }
        let gone: Vec<String> = self
            .keys
            .values()
            .filter(|k| k.deletion_due(now))
            .map(|k| k.id.clone())
            .collect();
        for id in &gone {
            tracing::info!(key = %id, "key deleted at the end of its waiting period");
            self.keys.remove(id);
        }
        self.aliases.retain(|_, a| !gone.contains(&a.target));
    }
}

/// Apply the passing of sandbox time to every account and region's keys.
pub fn expire_due(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        if !sb.read::<KmsState, _>(&account, &region, |st| st.expiry_due(now)) {
            continue;
        }
        let result = sb.write::<KmsState, _>(&account, &region, |st| {
            st.expire(now);
            Ok(())
        });
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot apply KMS expiry");
        }
    }
}
