//! The event bus: EventBridge's default bus between the services. CloudTrail management events
//! wait here for their delivery delay ([`PendingEvent`], queued by `Sandbox::schedule_event`
//! and handed on by [`Sandbox::deliver_due_events`]); an event, from CloudTrail or PutEvents, is
//! matched against the rules of its account and region ([`Sandbox::route_event`]) and routed to
//! each matching rule's targets: SNS topics whose access policy lets `events.amazonaws.com`
//! publish. Each rule counts what it matched and how its invocations went.

use std::collections::BTreeMap;

use kms_workshop_patterns::Pattern;
use serde_json::Value as J;

use crate::services::cloudwatch;
use crate::services::events::{cloudtrail_envelope, transform, EventsState, Rule, Target};
use crate::services::sns::{self, Publication};
use crate::Sandbox;

/// A CloudTrail event waiting for its delivery delay to pass.
pub struct PendingEvent {
    pub due_ms: i64,
    pub account: String,
    pub region: String,
    pub event: J,
    pub read_only: bool,
}

impl Sandbox {
    /// Hand CloudTrail's `record` to EventBridge as "AWS API Call via CloudTrail", due at
    /// `due_ms` (CloudTrail's delivery delay).
    pub(crate) fn schedule_cloudtrail_record(
        &self,
        record: &J,
        (account, region): (&str, &str),
        due_ms: i64,
        read_only: bool,
    ) {
        self.schedule_event(PendingEvent {
            due_ms,
            account: account.to_string(),
            region: region.to_string(),
            event: cloudtrail_envelope(record, account, region),
            read_only,
        });
    }

    /// Queue a CloudTrail event for EventBridge, or route it now when its time has come.
    pub(crate) fn schedule_event(&self, pending: PendingEvent) {
        let now_ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        if pending.due_ms <= now_ms {
            self.route_event(
                &pending.account,
                &pending.region,
                &pending.event,
                Some(pending.read_only),
                arrival(pending.due_ms),
            );
        } else {
            self.pending_events.lock().push(pending);
        }
    }

    /// Every rule with its delivery counters, per account and region (admin view).
    pub fn rules_view(&self) -> serde_json::Value {
        // Counters include the calls answered already, whose records may still wait.
        crate::services::cloudtrail::unrecorded::settle(self);
        let w = self.world.read();
        let mut out = Vec::new();
        for (a, acc) in &w.accounts {
            for (r, reg) in &acc.regions {
                for rule in reg.events.rules.values() {
                    out.push(serde_json::json!({
                        "account": a, "region": r, "name": rule.name, "arn": rule.arn, "state": rule.state,
                        "event_pattern": rule.event_pattern,
                        "targets": rule.targets.iter().map(|t| t.arn.clone()).collect::<Vec<_>>(),
                        "MatchedEvents": rule.metrics.matched_events,
                        "Invocations": rule.metrics.invocations,
                        "FailedInvocations": rule.metrics.failed_invocations,
                        "last_failure": rule.metrics.last_failure,
                    }));
                }
            }
        }
        serde_json::json!({ "rules": out })
    }

    /// Offer an event to the rules of the default bus. `read_only_cloudtrail` is `Some(true)`
    /// for a read-only CloudTrail management event, which only rules in
    /// `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` receive. `arrived` is when the bus got
    /// it: the rules live then (propagated) act on it, however late it is routed (a read-only
    /// call's record is written after its answer, up to a second later when calls stop).
    pub fn route_event(
        &self,
        account: &str,
        region: &str,
        event: &J,
        read_only_cloudtrail: Option<bool>,
        arrived: time::OffsetDateTime,
    ) {
        let rules: Vec<Rule> =
            self.read::<EventsState, _>(account, region, |st| st.rules.values().cloned().collect());
        for rule in rules {
            let receives = rule.state.receives(read_only_cloudtrail) && rule.is_live(arrived);
            let Some(pattern_text) = rule.event_pattern.as_deref().filter(|_| receives) else {
                continue;
            };
            let Ok(pattern) = Pattern::parse(pattern_text) else {
                continue;
            };
            if !pattern.matches(event) {
                continue;
            }
            let outcomes: Vec<Result<(), String>> = rule
                .targets
                .iter()
                .map(|target| self.invoke_target(account, &rule, target, event))
                .collect();
            let name = rule.name.clone();
            let result = self.write::<EventsState, _>(account, region, |st| {
                if let Some(r) = st.rules.get_mut(&name) {
                    r.metrics.matched_events += 1;
                    for o in &outcomes {
                        r.metrics.invocations += 1;
                        if let Err(why) = o {
                            r.metrics.failed_invocations += 1;
                            r.metrics.last_failure = Some(why.clone());
                        }
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                tracing::error!(error = %e, "cannot record rule metrics");
            }
            let failed = outcomes.iter().filter(|o| o.is_err()).count() as f64;
            let now = self.clock.now();
            for (metric, value) in [
                ("Invocations", outcomes.len() as f64),
                ("FailedInvocations", failed),
            ] {
                cloudwatch::shared::service_metric(
                    self,
                    (account, region),
                    ("AWS/Events", metric),
                    ("RuleName", &name),
                    value,
                    now,
                );
            }
        }
    }

    /// Deliver `event` to one target of `rule` (a rule of `account`); `Err` says why not.
    fn invoke_target(
        &self,
        account: &str,
        rule: &Rule,
        target: &Target,
        event: &J,
    ) -> Result<(), String> {
        let fail = |why: String| {
            tracing::warn!(rule = %rule.arn, target = %target.arn, %why, "EventBridge target invocation failed");
            Err(why)
        };
        let Some((t_account, t_region, _)) = sns::arn_parts(&target.arn) else {
            return fail(format!(
                "target {} is not an SNS topic; the sandbox delivers to SNS topics only",
                target.arn
            ));
        };
        let (t_account, t_region) = (t_account.to_string(), t_region.to_string());
        if let Err(why) = sns::may_deliver(
            self,
            &target.arn,
            "events.amazonaws.com",
            &rule.arn,
            account,
        ) {
            return fail(why);
        }
        let message = transform(target, rule, event);
        let mut messages = BTreeMap::new();
        messages.insert("default".to_string(), message);
        match self.publish_to_topic(
            &t_account,
            &t_region,
            &target.arn,
            &Publication {
                subject: None,
                messages,
                attributes: Vec::new(),
            },
        ) {
            Ok(_) => Ok(()),
            Err(e) => fail(e.message),
        }
    }

    /// Route CloudTrail events whose delivery time has come (see `cloudtrail_delay`).
    pub fn deliver_due_events(&self) {
        let now_ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        let due: Vec<PendingEvent> = {
            let mut q = self.pending_events.lock();
            let (due, later): (Vec<_>, Vec<_>) = q.drain(..).partition(|p| p.due_ms <= now_ms);
            *q = later;
            due
        };
        for p in due {
            self.route_event(
                &p.account,
                &p.region,
                &p.event,
                Some(p.read_only),
                arrival(p.due_ms),
            );
        }
    }
}

/// When the bus got an event due at `due_ms` (sandbox-clock milliseconds).
fn arrival(due_ms: i64) -> time::OffsetDateTime {
    crate::util::at_epoch_ms(due_ms)
}
