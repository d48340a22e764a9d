//! Completing EC2's transitions: stored as "until …" timestamps on the sandbox clock and settled
//! once their time has passed, on the next call or on the sandbox's tick, so that advancing the
//! clock completes them.

use time::OffsetDateTime;

use super::state::{
    AssociationState, AttachmentState, Ec2State, Instance, InstanceState, TERMINATED_VISIBLE,
};
use crate::Sandbox;

/// When something about the instance is due: the end of its transition, or for a terminated
/// one, the moment it stops being listed.
fn instance_due(i: &Instance) -> Option<OffsetDateTime> {
    if i.state == InstanceState::Terminated {
        Some(i.state_since + TERMINATED_VISIBLE)
    } else {
        i.state_until
    }
}

impl Ec2State {
    /// The earliest time something is due to change.
    fn next_due(&self) -> Option<OffsetDateTime> {
        let inst = self.instances.values().filter_map(instance_due);
        let vols = self
            .volumes
            .values()
            .flat_map(|v| [v.ready_at, v.attachment.as_ref().and_then(|a| a.until)])
            .flatten();
        let assoc = self.associations.values().filter_map(|a| a.until);
        inst.chain(vols).chain(assoc).min()
    }

    pub(crate) fn due(&self, now: OffsetDateTime) -> bool {
        self.next_due().is_some_and(|t| t <= now)
    }

    /// Complete every transition whose time has come, in time order, with its consequences
    /// (a terminated instance's volumes detach, `DeleteOnTermination` ones are deleted, its
    /// profile association ends).
    pub fn settle(&mut self, now: OffsetDateTime) {
        // Each pass completes the earliest due transition; bounded, so no input can loop.
        for _ in 0..10_000 {
            match self.next_due() {
                Some(t) if t <= now => self.settle_one(t),
                _ => return,
            }
        }
    }

    /// Complete one transition due at `t`: instances first, then volumes, then associations.
    fn settle_one(&mut self, t: OffsetDateTime) {
        let due = |u: Option<OffsetDateTime>| u.is_some_and(|u| u <= t);
        if let Some(id) = self
            .instances
            .values()
            .find(|i| due(instance_due(i)))
            .map(|i| i.id.clone())
        {
            self.settle_instance(&id, t);
        } else if let Some(id) = self
            .volumes
            .values()
            .find(|v| due(v.ready_at) || due(v.attachment.as_ref().and_then(|a| a.until)))
            .map(|v| v.id.clone())
        {
            self.settle_volume(&id, t);
        } else if let Some(id) = self
            .associations
            .values()
            .find(|a| due(a.until))
            .map(|a| a.id.clone())
        {
            self.settle_association(&id);
        }
    }

    fn settle_instance(&mut self, id: &str, t: OffsetDateTime) {
        let Some(inst) = self.instances.get_mut(id) else {
            return;
        };
        if inst.state == InstanceState::Terminated {
            self.instances.remove(id);
            return;
        }
        let next = inst.state.settled();
        inst.state_since = inst.state_until.unwrap_or(t);
        inst.state_until = None;
        inst.state = next;
        if matches!(next, InstanceState::Stopped | InstanceState::Terminated) {
            inst.public_ip = None;
        }
        if next == InstanceState::Terminated {
            self.volumes.retain(|_, v| {
                !v.attachment
                    .as_ref()
                    .is_some_and(|a| a.instance_id == id && a.delete_on_termination)
            });
            for v in self.volumes.values_mut() {
                if v.attached_to(id) {
                    v.attachment = None;
                }
            }
            self.associations.retain(|_, a| a.instance_id != id);
        }
    }

    fn settle_volume(&mut self, id: &str, t: OffsetDateTime) {
        let Some(v) = self.volumes.get_mut(id) else {
            return;
        };
        if v.ready_at.is_some_and(|r| r <= t) {
            if v.creation_fails {
                self.volumes.remove(id);
                return;
            }
            v.ready_at = None;
        }
        if let Some(a) = &mut v.attachment {
            if a.until.is_some_and(|u| u <= t) {
                if a.state == AttachmentState::Detaching {
                    v.attachment = None;
                } else {
                    a.state = AttachmentState::Attached;
                    a.until = None;
                }
            }
        }
    }

    fn settle_association(&mut self, id: &str) {
        let Some(a) = self.associations.get_mut(id) else {
            return;
        };
        if a.state == AssociationState::Disassociating {
            self.associations.remove(id);
        } else {
            a.state = AssociationState::Associated;
            a.until = None;
        }
    }
}

/// Settle due transitions in every account and region (the sandbox's tick).
pub fn settle_due(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        settle_in(sb, &account, &region, now);
    }
}

/// Settle due transitions in one account and region (before every EC2 call).
pub(crate) fn settle_in(sb: &Sandbox, account: &str, region: &str, now: OffsetDateTime) {
    if !sb.read::<Ec2State, _>(account, region, |st| st.due(now)) {
        return;
    }
    if let Err(e) = sb.write::<Ec2State, _>(account, region, |st| {
        st.settle(now);
        Ok(())
    }) {
        tracing::error!(error = %e, "cannot settle EC2 transitions");
    }
}
