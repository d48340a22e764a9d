//! The teardown plan: a dependency graph whose nodes are actions and whose edges mean "must be
//! done before" (DESIGN.md section 6, with what the workshop's text forgets: bucket objects and
//! their versions, the WorkshopEBS volume, the SNS topic and its subscriptions, the rule and its
//! targets, alarms, the customer policies and their non-default versions, key aliases, the
//! trail a guided run created and its log bucket).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::discover::Found;
use crate::exec::{ActionOutcome, Executor};

mod build;

/// What a plan's node can hold: the clean-up's [`Action`]s, or another crate's steps run by the
/// same [`Executor`] (the set-up of an account): identified for the journal, named for a person,
/// grouped into branches for the live view, and carried out once per call of [`Step::perform`].
pub trait Step:
    Clone + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// What [`Plan::render_tree`] calls a plan of these steps.
    const PLAN_TITLE: &'static str;
    /// A stable identifier (journal key).
    fn id(&self) -> String;
    /// The API the step calls (rate limits and reports).
    fn api(&self) -> &'static str;
    /// What a person reads.
    fn describe(&self) -> String;
    /// The branch it belongs to (one line each in the live view).
    fn branch(&self) -> &'static str;
    /// Carry the step out (with whatever retries it needs).
    fn perform(self, ex: Executor) -> impl std::future::Future<Output = ActionOutcome> + Send;
}

impl Step for Action {
    const PLAN_TITLE: &'static str = "clean-up plan";
    fn id(&self) -> String {
        Action::id(self)
    }
    fn api(&self) -> &'static str {
        Action::api(self)
    }
    fn describe(&self) -> String {
        Action::describe(self)
    }
    fn branch(&self) -> &'static str {
        Action::branch(self)
    }
    async fn perform(self, ex: Executor) -> ActionOutcome {
        ex.perform(&self).await
    }
}

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
#[serde(bound(deserialize = "A: DeserializeOwned"))]
pub struct Node<A = Action> {
    pub id: String,
    pub action: A,
    pub after: Vec<String>,
}

/// The whole teardown (or, of other steps, set-up) of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "A: DeserializeOwned"))]
pub struct Plan<A = Action> {
    pub account: String,
    pub nodes: Vec<Node<A>>,
}

impl<A> Default for Plan<A> {
    fn default() -> Self {
        Plan {
            account: String::new(),
            nodes: Vec::new(),
        }
    }
}

impl Plan {
    /// Build the plan for what `found` holds; keys get a `window_days` deletion window.
    pub fn build(found: &Found, window_days: i32) -> Plan {
        build::Planner::new(found, window_days).build()
    }
}

impl<A: Step> Plan<A> {
    /// Add `action` after the actions `after` (ids), unless the plan holds it already; its id.
    pub fn push(&mut self, action: A, after: Vec<String>) -> String {
        let id = action.id();
        if self.node(&id).is_none() {
            self.nodes.push(Node {
                id: id.clone(),
                action,
                after,
            });
        }
        id
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, id: &str) -> Option<&Node<A>> {
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
        let mut by_branch: BTreeMap<&str, Vec<&Node<A>>> = BTreeMap::new();
        let order = self.topological_order();
        for id in &order {
            if let Some(n) = self.node(id) {
                by_branch.entry(n.action.branch()).or_default().push(n);
            }
        }
        let mut s = format!(
            "{} for account {} ({} actions)\n",
            A::PLAN_TITLE,
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
