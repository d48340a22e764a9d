//! Finding the workshop's resources: those the inventory recorded, and those matching the
//! workshop's exact names, its `project=kmsworkshop` tag, or its stack's resources. Lookalikes
//! (`…-prod`, `kmsworkshop-archive-…`, `snsworkshop-billing`, other projects' keys, instances
//! without the workshop's profile) never match: there is no prefix or substring matching here.
//!
//! One module a service; each lists through the [`Pace`] (every page, paced and retried) and
//! fills in its part of [`Found`]. This module runs them in order: the stack first (what it
//! owns is deleted with it), then each region's keys, instances, topics, rules, alarms and
//! trails, then the account's IAM resources and buckets.

use serde::{Deserialize, Serialize};

use crate::aws::Clients;
use crate::inventory::Inventory;
use crate::{AwsFailure, Pace};

/// Every page of the listing `$request` (an SDK request builder) through `$pace`, by the SDK's
/// paginator. The last word says how the service chains its pages: `next_token` (NextToken),
/// `marker` (IAM: Marker, while IsTruncated) or `next_marker` (KMS: NextMarker, while
/// Truncated); `next_token, one_page` for a service without paginators (EventBridge), whose
/// pages are requested one by one. Exported: the set-up of an account lists the same way.
#[macro_export]
macro_rules! pages {
    ($pace:expr, $api:literal, $request:expr, next_token, one_page) => {
        $pace.pages(
            $api,
            |t| $crate::pace::one_page($request.set_next_token(t).send()),
            |p| p.next_token(),
        )
    };
    ($pace:expr, $api:literal, $request:expr, next_token) => {
        $pace.pages(
            $api,
            |t| $request.set_next_token(t).into_paginator().send(),
            |p| p.next_token(),
        )
    };
    ($pace:expr, $api:literal, $request:expr, marker) => {
        $pace.pages(
            $api,
            |m| $request.set_marker(m).into_paginator().send(),
            |p| p.marker().filter(|_| p.is_truncated()),
        )
    };
    ($pace:expr, $api:literal, $request:expr, next_marker) => {
        $pace.pages(
            $api,
            |m| $request.set_marker(m).into_paginator().send(),
            |p| p.next_marker().filter(|_| p.truncated()),
        )
    };
}

mod cloudformation;
mod cloudtrail;
mod cloudwatch;
mod ec2;
mod events;
mod iam;
mod kms;
mod s3;
mod sns;

pub use cloudformation::{StackFound, StackResource};
pub use cloudtrail::TrailFound;
pub use ec2::{InstanceFound, VolumeFound};
pub use events::RuleFound;
pub use iam::{PolicyFound, ProfileFound, RoleFound};
pub use kms::KeyFound;
pub use s3::BucketFound;
pub use sns::TopicFound;

pub use cloudformation::is_missing_stack;
pub(crate) use cloudformation::stack_resources;
pub use iam::attached_policy_arns;
pub(crate) use iam::inline_policy_names;

/// What discovery found in one account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub account: String,
    pub regions: Vec<RegionFound>,
    pub role: Option<RoleFound>,
    pub profile: Option<ProfileFound>,
    pub policies: Vec<PolicyFound>,
    pub buckets: Vec<BucketFound>,
    /// Resources recognised as the workshop's that need nothing done, or that are left alone
    /// on purpose, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Alias kept for readers who think of the whole result as "the discovery".
pub type Discovery = Found;

/// What discovery found in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionFound {
    pub region: String,
    pub keys: Vec<KeyFound>,
    /// Aliases of the workshop's keys (including keys already pending deletion).
    pub aliases: Vec<String>,
    /// The workshop's keys already pending deletion (nothing to do; alarms on them still go).
    #[serde(default)]
    pub scheduled_keys: Vec<String>,
    pub instances: Vec<InstanceFound>,
    pub volumes: Vec<VolumeFound>,
    pub topics: Vec<TopicFound>,
    pub rules: Vec<RuleFound>,
    pub alarms: Vec<String>,
    pub stack: Option<StackFound>,
    /// The workshop's trails whose home is this region (DeleteTrail must be called there).
    #[serde(default)]
    pub trails: Vec<TrailFound>,
}

/// A resource recognised as the workshop's and left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub what: String,
    pub why: String,
}

impl Found {
    /// Every resource found, as `kind id` lines (the report's "found" list).
    pub fn resources(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.regions {
            if let Some(s) = &r.stack {
                out.push(format!("stack {} ({}) [{}]", s.name, s.status, r.region));
            }
            for k in &r.keys {
                out.push(format!("kms key {} ({}) [{}]", k.id, k.why, r.region));
            }
            for a in &r.aliases {
                out.push(format!("kms alias {a} [{}]", r.region));
            }
            for i in &r.instances {
                out.push(format!("instance {} ({}) [{}]", i.id, i.state, r.region));
            }
            for v in &r.volumes {
                out.push(format!("volume {} ({}) [{}]", v.id, v.state, r.region));
            }
            for t in &r.topics {
                out.push(format!("sns topic {}", t.arn));
                for s in &t.subscriptions {
                    out.push(format!("sns subscription {s}"));
                }
            }
            for rule in &r.rules {
                if rule.keep {
                    out.push(format!(
                        "eventbridge targets {} of someone else's rule {} [{}]",
                        rule.targets.join(", "),
                        rule.name,
                        r.region
                    ));
                } else {
                    out.push(format!("eventbridge rule {} [{}]", rule.name, r.region));
                }
            }
            for a in &r.alarms {
                out.push(format!("cloudwatch alarm {a} [{}]", r.region));
            }
            for t in &r.trails {
                out.push(format!(
                    "cloudtrail trail {} ({}) [{}]",
                    t.name, t.why, r.region
                ));
            }
        }
        if let Some(role) = &self.role {
            out.push(format!("iam role {}", role.name));
        }
        if let Some(p) = &self.profile {
            out.push(format!("iam instance profile {}", p.name));
        }
        for p in &self.policies {
            out.push(format!("iam policy {}", p.arn));
        }
        for b in &self.buckets {
            out.push(format!("s3 bucket {}", b.name));
        }
        out
    }
}

/// Find the workshop's resources in every region of `clients`.
pub async fn discover(
    clients: &Clients,
    pace: &Pace,
    inventory: &Inventory,
) -> Result<Found, AwsFailure> {
    let account = clients.account.as_str();
    let mut found = Found {
        account: account.to_string(),
        ..Found::default()
    };
    for (region, rc) in &clients.regions {
        let mut rf = RegionFound {
            region: region.clone(),
            ..RegionFound::default()
        };
        rf.stack = cloudformation::stack(&rc.cloudformation, pace).await?;
        kms::keys(rc, pace, inventory, &mut rf, &mut found.skipped).await?;
        ec2::instances(rc, pace, inventory, account, &mut rf).await?;
        ec2::volumes(rc, pace, inventory, account, &mut rf).await?;
        rf.topics = sns::topics(rc, pace, inventory).await?;
        let topic_arns: Vec<String> = rf.topics.iter().map(|t| t.arn.clone()).collect();
        rf.rules = events::rules(rc, pace, inventory, account, &topic_arns).await?;
        let key_ids = key_ids(&rf);
        let scope = cloudwatch::AlarmScope {
            inventory,
            account,
            topic_arns: &topic_arns,
            key_ids: &key_ids,
        };
        rf.alarms = cloudwatch::alarms(rc, pace, &scope, &mut found.skipped).await?;
        cloudtrail::trails(rc, pace, inventory, account, &mut rf, &mut found.skipped).await?;
        found.regions.push(rf);
    }
    iam::discover(clients, pace, &mut found).await?;
    s3::buckets(clients, pace, inventory, &mut found).await?;
    Ok(found)
}

/// The workshop's keys in `rf`, including those already pending deletion (their alarms go).
fn key_ids(rf: &RegionFound) -> Vec<String> {
    rf.keys
        .iter()
        .map(|k| k.id.clone())
        .chain(rf.scheduled_keys.iter().cloned())
        .collect()
}

/// The physical ids of the stacks' resources of CloudFormation type `kind`.
fn stack_physical(found: &Found, kind: &str) -> Vec<String> {
    found
        .regions
        .iter()
        .filter_map(|r| r.stack.as_ref())
        .flat_map(|s| s.resources.iter())
        .filter(|r| r.kind == kind)
        .map(|r| r.physical_id.clone())
        .collect()
}
