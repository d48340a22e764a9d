//! Building the plan from what discovery found: one method per kind of resource, each adding
//! its actions and the edges that order them. The orderings that span kinds (keys before the
//! role's policies go, disassociations before the profile, everything the stack needs gone
//! before the stack) are collected as gates and joined in [`Planner::finish`].

use std::collections::BTreeMap;

use super::{Action, Node, Plan};
use crate::discover::{Found, RegionFound};
use crate::names;

/// The graph under construction.
#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    /// Edges to nodes that may or may not be added (kept only if both ends exist).
    pending: Vec<(String, String)>,
}

impl Builder {
    fn add(&mut self, action: Action) -> String {
        let id = action.id();
        if !self.nodes.iter().any(|n| n.id == id) {
            self.nodes.push(Node {
                id: id.clone(),
                action,
                after: Vec::new(),
            });
        }
        id
    }

    fn edge(&mut self, before: &str, after: &str) {
        if before == after {
            return;
        }
        if let Some(n) = self.nodes.iter_mut().find(|n| n.id == after) {
            if !n.after.iter().any(|a| a == before) {
                n.after.push(before.to_string());
            }
        }
    }

    fn edges(&mut self, before: &[String], after: &str) {
        for b in before {
            self.edge(b, after);
        }
    }

    fn pending_edge(&mut self, before: &str, after: &str) {
        self.pending.push((before.to_string(), after.to_string()));
    }
}

/// The plan being built for one account, with the gates that order kinds against each other.
pub(super) struct Planner<'a> {
    found: &'a Found,
    b: Builder,
    window_days: i32,
    stack_in_play: bool,
    /// Key deletions and alias deletions: before every role gate and disassociation.
    key_nodes: Vec<String>,
    disassociations: Vec<String>,
    /// What takes the workshop's permissions away (policy detaches, role, policies, stack).
    role_gates: Vec<String>,
    /// What must be gone before the stack is deleted.
    stack_prereqs: Vec<String>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(found: &'a Found, window_days: i32) -> Self {
        Planner {
            found,
            b: Builder::default(),
            window_days,
            stack_in_play: found.regions.iter().any(|r| r.stack.is_some()),
            key_nodes: Vec::new(),
            disassociations: Vec::new(),
            role_gates: Vec::new(),
            stack_prereqs: Vec::new(),
        }
    }

    /// Every kind, in the order the plan lists them.
    pub(super) fn build(mut self) -> Plan {
        for r in &self.found.regions {
            self.keys(r);
            self.compute(r);
            self.rules(r);
            self.notifications(r);
            self.trails(r);
        }
        self.buckets();
        self.role();
        self.profile();
        self.stack_prereqs
            .extend(self.disassociations.iter().cloned());
        self.policies();
        self.stacks();
        self.finish()
    }

    fn keys(&mut self, r: &RegionFound) {
        for a in &r.aliases {
            self.key_nodes.push(self.b.add(Action::DeleteAlias {
                region: r.region.clone(),
                alias: a.clone(),
            }));
        }
        for k in &r.keys {
            self.key_nodes.push(self.b.add(Action::ScheduleKeyDeletion {
                region: r.region.clone(),
                key_id: k.id.clone(),
                window_days: self.window_days,
            }));
        }
    }

    /// Instances (disassociated, then terminated) and volumes (after their instances).
    fn compute(&mut self, r: &RegionFound) {
        let mut terminations: BTreeMap<&str, String> = BTreeMap::new();
        for i in &r.instances {
            let mut mine = Vec::new();
            for a in &i.associations {
                let d = self.b.add(Action::DisassociateInstanceProfile {
                    region: r.region.clone(),
                    association_id: a.clone(),
                    instance_id: i.id.clone(),
                });
                mine.push(d.clone());
                self.disassociations.push(d);
            }
            if !matches!(i.state.as_str(), "terminated" | "gone") {
                let t = self.b.add(Action::TerminateInstance {
                    region: r.region.clone(),
                    instance_id: i.id.clone(),
                });
                self.b.edges(&mine, &t);
                terminations.insert(&i.id, t);
            }
        }
        for v in &r.volumes {
            let n = self.b.add(Action::DeleteVolume {
                region: r.region.clone(),
                volume_id: v.id.clone(),
            });
            for inst in &v.attached_to {
                if let Some(t) = terminations.get(inst.as_str()) {
                    self.b.edge(t, &n);
                }
            }
        }
    }

    /// Rules: targets removed first (before the topics they point at go), then the rule,
    /// unless it is someone else's (`keep`): that loses only its targets on the workshop's
    /// topics.
    fn rules(&mut self, r: &RegionFound) {
        for rule in &r.rules {
            let del = (!rule.keep).then(|| {
                self.b.add(Action::DeleteRule {
                    region: r.region.clone(),
                    rule: rule.name.clone(),
                })
            });
            if rule.targets.is_empty() {
                continue;
            }
            let rm = self.b.add(Action::RemoveTargets {
                region: r.region.clone(),
                rule: rule.name.clone(),
                ids: rule.targets.clone(),
            });
            if let Some(del) = &del {
                self.b.edge(&rm, del);
            }
            for t in &r.topics {
                let topic = Action::DeleteTopic {
                    region: r.region.clone(),
                    topic_arn: t.arn.clone(),
                }
                .id();
                self.b.pending_edge(&rm, &topic);
            }
        }
    }

    /// Alarms, then topics after their subscriptions and the alarms that notify them.
    fn notifications(&mut self, r: &RegionFound) {
        let alarm_node = (!r.alarms.is_empty()).then(|| {
            self.b.add(Action::DeleteAlarms {
                region: r.region.clone(),
                names: r.alarms.clone(),
            })
        });
        for t in &r.topics {
            let del = self.b.add(Action::DeleteTopic {
                region: r.region.clone(),
                topic_arn: t.arn.clone(),
            });
            for s in &t.subscriptions {
                let u = self.b.add(Action::Unsubscribe {
                    region: r.region.clone(),
                    subscription_arn: s.clone(),
                });
                self.b.edge(&u, &del);
            }
            if let Some(a) = &alarm_node {
                self.b.edge(a, &del);
            }
        }
    }

    /// A logging trail keeps writing log files: it goes before its bucket is emptied, or the
    /// bucket is never empty when DeleteBucket (or the stack) comes.
    fn trails(&mut self, r: &RegionFound) {
        for t in &r.trails {
            let del = self.b.add(Action::DeleteTrail {
                region: r.region.clone(),
                name: t.name.clone(),
            });
            if let Some(bucket) = t.bucket.as_ref() {
                if self.found.buckets.iter().any(|f| &f.name == bucket) {
                    let empty = Action::EmptyBucket {
                        bucket: bucket.clone(),
                    }
                    .id();
                    self.b.pending_edge(&del, &empty);
                }
            }
        }
    }

    /// Buckets are emptied; the stack deletes its own, the others are deleted here.
    fn buckets(&mut self) {
        for bucket in &self.found.buckets {
            let e = self.b.add(Action::EmptyBucket {
                bucket: bucket.name.clone(),
            });
            if bucket.stack_owned && self.stack_in_play {
                self.stack_prereqs.push(e);
            } else {
                let d = self.b.add(Action::DeleteBucket {
                    bucket: bucket.name.clone(),
                });
                self.b.edge(&e, &d);
            }
        }
    }

    /// The role: its hand-attached and inline policies go; the role itself (and its place in
    /// instance profiles) unless the stack deletes it.
    fn role(&mut self) {
        let Some(role) = &self.found.role else {
            return;
        };
        let by_stack = role.stack_owned && self.stack_in_play;
        let mut detaches = Vec::new();
        for p in &role.attached {
            if by_stack && names::TEMPLATE_POLICIES.contains(&p.as_str()) {
                continue;
            }
            let d = self.b.add(Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: p.clone(),
            });
            self.role_gates.push(d.clone());
            detaches.push(d);
        }
        for p in &role.inline {
            detaches.push(self.b.add(Action::DeleteRolePolicy {
                role: role.name.clone(),
                policy_name: p.clone(),
            }));
        }
        if by_stack {
            self.stack_prereqs.extend(detaches);
            return;
        }
        let del = self.b.add(Action::DeleteRole {
            role: role.name.clone(),
        });
        self.b.edges(&detaches, &del);
        for p in &role.profiles {
            let rm = self.b.add(Action::RemoveRoleFromInstanceProfile {
                profile: p.clone(),
                role: role.name.clone(),
            });
            self.b.edges(&self.disassociations.clone(), &rm);
            self.b.edge(&rm, &del);
            let profile_by_stack = self
                .found
                .profile
                .as_ref()
                .is_some_and(|fp| &fp.name == p && fp.stack_owned && self.stack_in_play);
            if !profile_by_stack {
                let dp = Action::DeleteInstanceProfile { profile: p.clone() }.id();
                self.b.pending_edge(&rm, &dp);
            }
        }
        self.role_gates.push(del);
    }

    /// The instance profile, unless the stack deletes it.
    fn profile(&mut self) {
        let Some(p) = &self.found.profile else {
            return;
        };
        if p.stack_owned && self.stack_in_play {
            return;
        }
        let dp = self.b.add(Action::DeleteInstanceProfile {
            profile: p.name.clone(),
        });
        self.b.edges(&self.disassociations.clone(), &dp);
        // An empty profile whose role is already gone, or whose role is someone else's: only
        // the workshop's role is ever removed from it.
        for r in p.roles.iter().filter(|r| r.as_str() == names::ROLE) {
            let rm = Action::RemoveRoleFromInstanceProfile {
                profile: p.name.clone(),
                role: r.clone(),
            }
            .id();
            self.b.pending_edge(&rm, &dp);
        }
    }

    /// Customer policies: non-default versions first, after every detach.
    fn policies(&mut self) {
        for p in &self.found.policies {
            let del = self.b.add(Action::DeletePolicy {
                policy_arn: p.arn.clone(),
            });
            for v in &p.non_default_versions {
                let dv = self.b.add(Action::DeletePolicyVersion {
                    policy_arn: p.arn.clone(),
                    version_id: v.clone(),
                });
                self.b.edge(&dv, &del);
            }
            for r in &p.attached_roles {
                let detach = Action::DetachRolePolicy {
                    role: r.clone(),
                    policy_arn: p.arn.clone(),
                }
                .id();
                self.b.pending_edge(&detach, &del);
            }
            self.role_gates.push(del);
        }
    }

    fn stacks(&mut self) {
        for r in &self.found.regions {
            if let Some(s) = &r.stack {
                let del = self.b.add(Action::DeleteStack {
                    region: r.region.clone(),
                    stack: s.name.clone(),
                    stack_id: s.id.clone(),
                });
                self.b.edges(&self.stack_prereqs.clone(), &del);
                self.role_gates.push(del);
            }
        }
    }

    /// Keys first: scheduling their deletion needs RotationDisableOps still attached, and the
    /// instance's credentials (the learner may run this on it) until the profile goes. Then
    /// the pending edges whose both ends exist.
    fn finish(mut self) -> Plan {
        for k in &self.key_nodes {
            for g in self.role_gates.iter().chain(&self.disassociations) {
                self.b.edge(k, g);
            }
        }
        for (a, b) in std::mem::take(&mut self.b.pending) {
            if self.b.nodes.iter().any(|n| n.id == a) {
                self.b.edge(&a, &b);
            }
        }
        Plan {
            account: self.found.account.clone(),
            nodes: self.b.nodes,
        }
    }
}
