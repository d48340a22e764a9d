//! The teardown plan: a dependency graph whose nodes are actions and whose edges mean "must be
//! done before" (DESIGN.md section 6, with what the workshop's text forgets: bucket objects and
//! their versions, the WorkshopEBS volume, the SNS topic and its subscriptions, the rule and its
//! targets, alarms, the customer policies and their non-default versions, key aliases, the
//! trail a guided run created and its log bucket).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::discover::Found;
use crate::names;

/// One change to make. Each is idempotent: "not found" means already done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Action {
    DeleteAlias {
        region: String,
        alias: String,
    },
    ScheduleKeyDeletion {
        region: String,
        key_id: String,
        window_days: i32,
    },
    DetachRolePolicy {
        role: String,
        policy_arn: String,
    },
    DeleteRolePolicy {
        role: String,
        policy_name: String,
    },
    DisassociateInstanceProfile {
        region: String,
        association_id: String,
        instance_id: String,
    },
    RemoveRoleFromInstanceProfile {
        profile: String,
        role: String,
    },
    DeleteInstanceProfile {
        profile: String,
    },
    DeleteRole {
        role: String,
    },
    /// Terminate, then wait until `terminated`.
    TerminateInstance {
        region: String,
        instance_id: String,
    },
    /// Wait until `available`, then delete.
    DeleteVolume {
        region: String,
        volume_id: String,
    },
    /// Delete every object version and delete marker.
    EmptyBucket {
        bucket: String,
    },
    DeleteBucket {
        bucket: String,
    },
    RemoveTargets {
        region: String,
        rule: String,
        ids: Vec<String>,
    },
    DeleteRule {
        region: String,
        rule: String,
    },
    Unsubscribe {
        region: String,
        subscription_arn: String,
    },
    DeleteTopic {
        region: String,
        topic_arn: String,
    },
    DeleteAlarms {
        region: String,
        names: Vec<String>,
    },
    DeletePolicyVersion {
        policy_arn: String,
        version_id: String,
    },
    DeletePolicy {
        policy_arn: String,
    },
    /// DeleteTrail in the trail's home region (it stops logging as it goes).
    DeleteTrail {
        region: String,
        name: String,
    },
    /// Delete, then wait for `DELETE_COMPLETE`; on `DELETE_FAILED`, fix and retry.
    DeleteStack {
        region: String,
        stack: String,
        stack_id: String,
    },
}

impl Action {
    /// A stable identifier (journal key).
    pub fn id(&self) -> String {
        match self {
            Action::DeleteAlias { region, alias } => format!("kms/{region}/alias/{alias}"),
            Action::ScheduleKeyDeletion { region, key_id, .. } => {
                format!("kms/{region}/key/{key_id}")
            }
            Action::DetachRolePolicy { role, policy_arn } => {
                format!("iam/role/{role}/detach/{policy_arn}")
            }
            Action::DeleteRolePolicy { role, policy_name } => {
                format!("iam/role/{role}/inline/{policy_name}")
            }
            Action::DisassociateInstanceProfile {
                region,
                association_id,
                ..
            } => {
                format!("ec2/{region}/association/{association_id}")
            }
            Action::RemoveRoleFromInstanceProfile { profile, role } => {
                format!("iam/instance-profile/{profile}/remove/{role}")
            }
            Action::DeleteInstanceProfile { profile } => format!("iam/instance-profile/{profile}"),
            Action::DeleteRole { role } => format!("iam/role/{role}"),
            Action::TerminateInstance {
                region,
                instance_id,
            } => format!("ec2/{region}/instance/{instance_id}"),
            Action::DeleteVolume { region, volume_id } => {
                format!("ec2/{region}/volume/{volume_id}")
            }
            Action::EmptyBucket { bucket } => format!("s3/{bucket}/objects"),
            Action::DeleteBucket { bucket } => format!("s3/{bucket}"),
            Action::RemoveTargets { region, rule, .. } => {
                format!("events/{region}/rule/{rule}/targets")
            }
            Action::DeleteRule { region, rule } => format!("events/{region}/rule/{rule}"),
            Action::Unsubscribe {
                region,
                subscription_arn,
            } => format!("sns/{region}/subscription/{subscription_arn}"),
            Action::DeleteTopic { region, topic_arn } => format!("sns/{region}/topic/{topic_arn}"),
            Action::DeleteAlarms { region, names } => {
                format!("cloudwatch/{region}/alarms/{}", names.join(","))
            }
            Action::DeletePolicyVersion {
                policy_arn,
                version_id,
            } => format!("iam/policy/{policy_arn}/version/{version_id}"),
            Action::DeletePolicy { policy_arn } => format!("iam/policy/{policy_arn}"),
            Action::DeleteTrail { region, name } => format!("cloudtrail/{region}/trail/{name}"),
            Action::DeleteStack { region, stack, .. } => {
                format!("cloudformation/{region}/stack/{stack}")
            }
        }
    }

    /// The API the action calls (rate limits and reports).
    pub fn api(&self) -> &'static str {
        match self {
            Action::DeleteAlias { .. } => "DeleteAlias",
            Action::ScheduleKeyDeletion { .. } => "ScheduleKeyDeletion",
            Action::DetachRolePolicy { .. } => "DetachRolePolicy",
            Action::DeleteRolePolicy { .. } => "DeleteRolePolicy",
            Action::DisassociateInstanceProfile { .. } => "DisassociateIamInstanceProfile",
            Action::RemoveRoleFromInstanceProfile { .. } => "RemoveRoleFromInstanceProfile",
            Action::DeleteInstanceProfile { .. } => "DeleteInstanceProfile",
            Action::DeleteRole { .. } => "DeleteRole",
            Action::TerminateInstance { .. } => "TerminateInstances",
            Action::DeleteVolume { .. } => "DeleteVolume",
            Action::EmptyBucket { .. } => "DeleteObjects",
            Action::DeleteBucket { .. } => "DeleteBucket",
            Action::RemoveTargets { .. } => "RemoveTargets",
            Action::DeleteRule { .. } => "DeleteRule",
            Action::Unsubscribe { .. } => "Unsubscribe",
            Action::DeleteTopic { .. } => "DeleteTopic",
            Action::DeleteAlarms { .. } => "DeleteAlarms",
            Action::DeletePolicyVersion { .. } => "DeletePolicyVersion",
            Action::DeletePolicy { .. } => "DeletePolicy",
            Action::DeleteTrail { .. } => "DeleteTrail",
            Action::DeleteStack { .. } => "DeleteStack",
        }
    }

    /// What a person reads.
    pub fn describe(&self) -> String {
        match self {
            Action::DeleteAlias { alias, .. } => format!("delete alias {alias}"),
            Action::ScheduleKeyDeletion {
                key_id,
                window_days,
                ..
            } => {
                format!("schedule deletion of key {key_id} in {window_days} days")
            }
            Action::DetachRolePolicy { role, policy_arn } => {
                format!("detach {policy_arn} from role {role}")
            }
            Action::DeleteRolePolicy { role, policy_name } => {
                format!("delete inline policy {policy_name} of role {role}")
            }
            Action::DisassociateInstanceProfile {
                instance_id,
                association_id,
                ..
            } => {
                format!("disassociate the instance profile from {instance_id} ({association_id})")
            }
            Action::RemoveRoleFromInstanceProfile { profile, role } => {
                format!("remove role {role} from instance profile {profile}")
            }
            Action::DeleteInstanceProfile { profile } => {
                format!("delete instance profile {profile}")
            }
            Action::DeleteRole { role } => format!("delete role {role}"),
            Action::TerminateInstance { instance_id, .. } => {
                format!("terminate instance {instance_id} and wait until terminated")
            }
            Action::DeleteVolume { volume_id, .. } => {
                format!("wait until volume {volume_id} is available, delete it")
            }
            Action::EmptyBucket { bucket } => {
                format!("empty bucket {bucket} (every object version)")
            }
            Action::DeleteBucket { bucket } => format!("delete bucket {bucket}"),
            Action::RemoveTargets { rule, ids, .. } => {
                format!("remove targets {} of rule {rule}", ids.join(", "))
            }
            Action::DeleteRule { rule, .. } => format!("delete rule {rule}"),
            Action::Unsubscribe {
                subscription_arn, ..
            } => format!("unsubscribe {subscription_arn}"),
            Action::DeleteTopic { topic_arn, .. } => format!("delete topic {topic_arn}"),
            Action::DeleteAlarms { names, .. } => format!("delete alarms {}", names.join(", ")),
            Action::DeletePolicyVersion {
                policy_arn,
                version_id,
            } => format!("delete version {version_id} of {policy_arn}"),
            Action::DeletePolicy { policy_arn } => format!("delete policy {policy_arn}"),
            Action::DeleteTrail { name, region } => format!("delete trail {name} [{region}]"),
            Action::DeleteStack { stack, .. } => {
                format!("delete stack {stack} and wait for DELETE_COMPLETE")
            }
        }
    }

    /// The branch of the teardown it belongs to (one line each in the live view).
    pub fn branch(&self) -> &'static str {
        match self {
            Action::DeleteAlias { .. } | Action::ScheduleKeyDeletion { .. } => "keys",
            Action::DetachRolePolicy { .. }
            | Action::DeleteRolePolicy { .. }
            | Action::RemoveRoleFromInstanceProfile { .. }
            | Action::DeleteInstanceProfile { .. }
            | Action::DeleteRole { .. } => "role",
            Action::DisassociateInstanceProfile { .. }
            | Action::TerminateInstance { .. }
            | Action::DeleteVolume { .. } => "instance",
            Action::EmptyBucket { .. }
            | Action::DeleteBucket { .. }
            | Action::DeleteStack { .. } => "stack",
            Action::RemoveTargets { .. } | Action::DeleteRule { .. } => "rule",
            Action::Unsubscribe { .. } | Action::DeleteTopic { .. } => "topic",
            Action::DeleteAlarms { .. } => "alarms",
            Action::DeletePolicyVersion { .. } | Action::DeletePolicy { .. } => "policies",
            Action::DeleteTrail { .. } => "trail",
        }
    }
}

/// A node of the plan: an action and the ids of the actions that must be done first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub action: Action,
    pub after: Vec<String>,
}

/// The whole teardown of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub account: String,
    pub nodes: Vec<Node>,
}

impl Plan {
    /// Build the plan for what `found` holds; keys get a `window_days` deletion window.
    pub fn build(found: &Found, window_days: i32) -> Plan {
        let mut b = Builder::default();
        let stack_in_play = found.regions.iter().any(|r| r.stack.is_some());
        let mut key_nodes = Vec::new();
        let mut disassociations = Vec::new();
        let mut terminations: BTreeMap<String, String> = BTreeMap::new();
        for r in &found.regions {
            for a in &r.aliases {
                key_nodes.push(b.add(Action::DeleteAlias {
                    region: r.region.clone(),
                    alias: a.clone(),
                }));
            }
            for k in &r.keys {
                key_nodes.push(b.add(Action::ScheduleKeyDeletion {
                    region: r.region.clone(),
                    key_id: k.id.clone(),
                    window_days,
                }));
            }
            for i in &r.instances {
                let mut mine = Vec::new();
                for a in &i.associations {
                    let d = b.add(Action::DisassociateInstanceProfile {
                        region: r.region.clone(),
                        association_id: a.clone(),
                        instance_id: i.id.clone(),
                    });
                    mine.push(d.clone());
                    disassociations.push(d);
                }
                if !matches!(i.state.as_str(), "terminated" | "gone") {
                    let t = b.add(Action::TerminateInstance {
                        region: r.region.clone(),
                        instance_id: i.id.clone(),
                    });
                    for d in &mine {
                        b.edge(d, &t);
                    }
                    terminations.insert(i.id.clone(), t);
                }
            }
            for v in &r.volumes {
                let n = b.add(Action::DeleteVolume {
                    region: r.region.clone(),
                    volume_id: v.id.clone(),
                });
                for inst in &v.attached_to {
                    if let Some(t) = terminations.get(inst) {
                        b.edge(t, &n);
                    }
                }
            }
            for rule in &r.rules {
                let del = b.add(Action::DeleteRule {
                    region: r.region.clone(),
                    rule: rule.name.clone(),
                });
                if !rule.targets.is_empty() {
                    let rm = b.add(Action::RemoveTargets {
                        region: r.region.clone(),
                        rule: rule.name.clone(),
                        ids: rule.targets.clone(),
                    });
                    b.edge(&rm, &del);
                    for t in &r.topics {
                        let topic = Action::DeleteTopic {
                            region: r.region.clone(),
                            topic_arn: t.arn.clone(),
                        }
                        .id();
                        b.pending_edge(&rm, &topic);
                    }
                }
            }
            let alarm_node = (!r.alarms.is_empty()).then(|| {
                b.add(Action::DeleteAlarms {
                    region: r.region.clone(),
                    names: r.alarms.clone(),
                })
            });
            for t in &r.topics {
                let del = b.add(Action::DeleteTopic {
                    region: r.region.clone(),
                    topic_arn: t.arn.clone(),
                });
                for s in &t.subscriptions {
                    let u = b.add(Action::Unsubscribe {
                        region: r.region.clone(),
                        subscription_arn: s.clone(),
                    });
                    b.edge(&u, &del);
                }
                if let Some(a) = &alarm_node {
                    b.edge(a, &del);
                }
            }
            // A logging trail keeps writing log files: it goes before its bucket is emptied,
            // or the bucket is never empty when DeleteBucket (or the stack) comes.
            for t in &r.trails {
                let del = b.add(Action::DeleteTrail {
                    region: r.region.clone(),
                    name: t.name.clone(),
                });
                if let Some(bucket) = t.bucket.as_ref() {
                    if found.buckets.iter().any(|f| &f.name == bucket) {
                        let empty = Action::EmptyBucket {
                            bucket: bucket.clone(),
                        }
                        .id();
                        b.pending_edge(&del, &empty);
                    }
                }
            }
        }
        // Keys first: scheduling their deletion needs RotationDisableOps still attached, and the
        // instance's credentials (the learner may run this on it) until the profile goes.
        let mut role_gates = Vec::new();
        let mut stack_prereqs = Vec::new();
        for bucket in &found.buckets {
            let e = b.add(Action::EmptyBucket {
                bucket: bucket.name.clone(),
            });
            if bucket.stack_owned && stack_in_play {
                stack_prereqs.push(e.clone());
            } else {
                let d = b.add(Action::DeleteBucket {
                    bucket: bucket.name.clone(),
                });
                b.edge(&e, &d);
            }
        }
        if let Some(role) = &found.role {
            let by_stack = role.stack_owned && stack_in_play;
            let mut detaches = Vec::new();
            for p in &role.attached {
                if by_stack && names::TEMPLATE_POLICIES.contains(&p.as_str()) {
                    continue;
                }
                let d = b.add(Action::DetachRolePolicy {
                    role: role.name.clone(),
                    policy_arn: p.clone(),
                });
                role_gates.push(d.clone());
                detaches.push(d);
            }
            for p in &role.inline {
                let d = b.add(Action::DeleteRolePolicy {
                    role: role.name.clone(),
                    policy_name: p.clone(),
                });
                detaches.push(d);
            }
            if by_stack {
                stack_prereqs.extend(detaches.iter().cloned());
            } else {
                let del = b.add(Action::DeleteRole {
                    role: role.name.clone(),
                });
                for d in &detaches {
                    b.edge(d, &del);
                }
                for p in &role.profiles {
                    let rm = b.add(Action::RemoveRoleFromInstanceProfile {
                        profile: p.clone(),
                        role: role.name.clone(),
                    });
                    for d in &disassociations {
                        b.edge(d, &rm);
                    }
                    b.edge(&rm, &del);
                    let profile_by_stack = found
                        .profile
                        .as_ref()
                        .is_some_and(|fp| &fp.name == p && fp.stack_owned && stack_in_play);
                    if !profile_by_stack {
                        let dp = Action::DeleteInstanceProfile { profile: p.clone() }.id();
                        b.pending_edge(&rm, &dp);
                    }
                }
                role_gates.push(del);
            }
        }
        if let Some(p) = &found.profile {
            if !(p.stack_owned && stack_in_play) {
                let dp = b.add(Action::DeleteInstanceProfile {
                    profile: p.name.clone(),
                });
                for d in &disassociations {
                    b.edge(d, &dp);
                }
                // An empty profile whose role is already gone, or whose role is someone else's:
                // only the workshop's role is ever removed from it.
                for r in &p.roles {
                    if r != names::ROLE {
                        continue;
                    }
                    let rm = Action::RemoveRoleFromInstanceProfile {
                        profile: p.name.clone(),
                        role: r.clone(),
                    }
                    .id();
                    b.pending_edge(&rm, &dp);
                }
            }
        }
        stack_prereqs.extend(disassociations.iter().cloned());
        for p in &found.policies {
            let del = b.add(Action::DeletePolicy {
                policy_arn: p.arn.clone(),
            });
            for v in &p.non_default_versions {
                let dv = b.add(Action::DeletePolicyVersion {
                    policy_arn: p.arn.clone(),
                    version_id: v.clone(),
                });
                b.edge(&dv, &del);
            }
            for r in &p.attached_roles {
                let detach = Action::DetachRolePolicy {
                    role: r.clone(),
                    policy_arn: p.arn.clone(),
                }
                .id();
                b.pending_edge(&detach, &del);
            }
            role_gates.push(del);
        }
        for r in &found.regions {
            if let Some(s) = &r.stack {
                let del = b.add(Action::DeleteStack {
                    region: r.region.clone(),
                    stack: s.name.clone(),
                    stack_id: s.id.clone(),
                });
                for p in &stack_prereqs {
                    b.edge(p, &del);
                }
                role_gates.push(del);
            }
        }
        for k in &key_nodes {
            for g in &role_gates {
                b.edge(k, g);
            }
            for d in &disassociations {
                b.edge(k, d);
            }
        }
        b.finish(&found.account)
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Node ids in an order that respects every edge (Kahn's algorithm, ties by plan order).
    pub fn topological_order(&self) -> Vec<String> {
        let mut indeg: BTreeMap<&str, usize> = self
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.after.len()))
            .collect();
        let mut out = Vec::new();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while out.len() < self.nodes.len() {
            let Some(next) = self
                .nodes
                .iter()
                .find(|n| !done.contains(n.id.as_str()) && indeg.get(n.id.as_str()) == Some(&0))
            else {
                break;
            };
            done.insert(next.id.as_str());
            out.push(next.id.clone());
            for n in &self.nodes {
                if n.after.iter().any(|a| a == &next.id) {
                    if let Some(d) = indeg.get_mut(n.id.as_str()) {
                        *d -= 1;
                    }
                }
            }
        }
        out
    }

    /// Whether the edges form no cycle (every node can be ordered).
    pub fn is_acyclic(&self) -> bool {
        self.topological_order().len() == self.nodes.len()
    }

    /// A tree view: one block per branch, each action with what it waits for.
    pub fn render_tree(&self) -> String {
        let mut by_branch: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
        let order = self.topological_order();
        for id in &order {
            if let Some(n) = self.node(id) {
                by_branch.entry(n.action.branch()).or_default().push(n);
            }
        }
        let mut s = format!(
            "clean-up plan for account {} ({} actions)\n",
            self.account,
            self.nodes.len()
        );
        if self.nodes.is_empty() {
            s.push_str("└── nothing to do\n");
            return s;
        }
        let branches: Vec<_> = by_branch.into_iter().collect();
        for (bi, (branch, nodes)) in branches.iter().enumerate() {
            let last_branch = bi + 1 == branches.len();
            s.push_str(&format!(
                "{} {branch}\n",
                if last_branch {
                    "└──"
                } else {
                    "├──"
                }
            ));
            for (ni, n) in nodes.iter().enumerate() {
                let pre = if last_branch { "    " } else { "│   " };
                let last = ni + 1 == nodes.len();
                s.push_str(&format!(
                    "{pre}{} {}\n",
                    if last { "└──" } else { "├──" },
                    n.action.describe()
                ));
                let outside: Vec<String> = n
                    .after
                    .iter()
                    .filter_map(|a| self.node(a))
                    .filter(|a| a.action.branch() != *branch)
                    .map(|a| a.action.describe())
                    .collect();
                if !outside.is_empty() {
                    let pre2 = format!("{pre}{}", if last { "    " } else { "│   " });
                    let shown: Vec<_> = outside.iter().take(3).cloned().collect();
                    let more = outside.len().saturating_sub(3);
                    s.push_str(&format!(
                        "{pre2}  after: {}{}\n",
                        shown.join("; "),
                        if more > 0 {
                            format!(" (+{more} more)")
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
        s
    }
}

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

    fn pending_edge(&mut self, before: &str, after: &str) {
        self.pending.push((before.to_string(), after.to_string()));
    }

    fn finish(mut self, account: &str) -> Plan {
        for (a, b) in std::mem::take(&mut self.pending) {
            if self.nodes.iter().any(|n| n.id == a) {
                self.edge(&a, &b);
            }
        }
        Plan {
            account: account.to_string(),
            nodes: self.nodes,
        }
    }
}
