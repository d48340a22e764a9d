//! Finding the workshop's resources: those the inventory recorded, and those matching the
//! workshop's exact names, its `project=kmsworkshop` tag, or its stack's resources. Lookalikes
//! (`…-prod`, `kmsworkshop-archive-…`, `snsworkshop-billing`, other projects' keys, instances
//! without the workshop's profile) never match: there is no prefix or substring matching here.

use serde::{Deserialize, Serialize};

use crate::aws::{Clients, Regional};
use crate::inventory::{Inventory, ResourceKind};
use crate::names;
use crate::pace::Pace;
use crate::AwsFailure;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFound {
    pub id: String,
    pub arn: String,
    pub aliases: Vec<String>,
    /// Why it is the workshop's (alias, tag, inventory).
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleFound {
    pub name: String,
    pub arn: String,
    pub attached: Vec<String>,
    pub inline: Vec<String>,
    pub profiles: Vec<String>,
    /// The stack deletes it (only what the template does not declare is removed by hand).
    pub stack_owned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileFound {
    pub name: String,
    pub arn: String,
    pub roles: Vec<String>,
    pub stack_owned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyFound {
    pub name: String,
    pub arn: String,
    pub non_default_versions: Vec<String>,
    pub attached_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceFound {
    pub id: String,
    pub state: String,
    /// Instance-profile associations of the workshop's profile.
    pub associations: Vec<String>,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeFound {
    pub id: String,
    pub state: String,
    pub attached_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketFound {
    pub name: String,
    pub stack_owned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicFound {
    pub arn: String,
    /// Confirmed subscriptions (pending ones have no ARN and go with the topic).
    pub subscriptions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFound {
    pub name: String,
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailFound {
    pub name: String,
    pub arn: String,
    /// The bucket it writes log files to: the trail goes before that bucket is emptied.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Why it is the workshop's (inventory, workshop name).
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackFound {
    pub name: String,
    pub id: String,
    pub status: String,
    pub resources: Vec<StackResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
}

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
                out.push(format!("eventbridge rule {} [{}]", rule.name, r.region));
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

fn is_missing_stack(e: &AwsFailure) -> bool {
    e.is_not_found() || (e.code == "ValidationError" && e.message.contains("does not exist"))
}

/// Find the workshop's resources in every region of `clients`.
pub async fn discover(
    clients: &Clients,
    pace: &Pace,
    inventory: &Inventory,
) -> Result<Found, AwsFailure> {
    let mut found = Found {
        account: clients.account.clone(),
        ..Found::default()
    };
    for (region, rc) in &clients.regions {
        let mut rf = RegionFound {
            region: region.clone(),
            ..RegionFound::default()
        };
        discover_stack(rc, pace, &mut rf).await?;
        discover_keys(
            rc,
            pace,
            inventory,
            &clients.account,
            &mut rf,
            &mut found.skipped,
        )
        .await?;
        discover_instances(rc, pace, inventory, &clients.account, &mut rf).await?;
        let key_ids = rf_key_ids(&rf);
        discover_notifications(rc, pace, inventory, &clients.account, &mut rf, &key_ids).await?;
        discover_trails(
            rc,
            pace,
            inventory,
            &clients.account,
            &mut rf,
            &mut found.skipped,
        )
        .await?;
        found.regions.push(rf);
    }
    discover_iam(clients, pace, &mut found).await?;
    discover_bucket(clients, pace, inventory, &mut found).await?;
    Ok(found)
}

fn rf_key_ids(rf: &RegionFound) -> Vec<String> {
    rf.keys
        .iter()
        .map(|k| k.id.clone())
        .chain(rf.scheduled_keys.iter().cloned())
        .collect()
}

fn stack_physical<'a>(found: &'a Found, kind: &str) -> impl Iterator<Item = &'a str> + 'a {
    let kind = kind.to_string();
    found
        .regions
        .iter()
        .filter_map(|r| r.stack.as_ref())
        .flat_map(|s| s.resources.iter())
        .filter(move |r| r.kind == kind)
        .map(|r| r.physical_id.as_str())
}

async fn discover_stack(
    rc: &Regional,
    pace: &Pace,
    rf: &mut RegionFound,
) -> Result<(), AwsFailure> {
    let cfn = &rc.cloudformation;
    let described = pace
        .call("DescribeStacks", || async {
            cfn.describe_stacks()
                .stack_name(names::STACK)
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("DescribeStacks", e))
        })
        .await;
    let out = match described {
        Ok(o) => o,
        Err(e) if is_missing_stack(&e) => return Ok(()),
        // A region or endpoint without CloudFormation has no stack to find.
        Err(e) if e.code == "UnknownServiceException" => return Ok(()),
        Err(e) => return Err(e),
    };
    let Some(stack) = out
        .stacks()
        .iter()
        .find(|s| s.stack_name() == Some(names::STACK))
    else {
        return Ok(());
    };
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(());
    }
    let id = stack.stack_id().unwrap_or(names::STACK).to_string();
    let res = pace
        .call("DescribeStackResources", || async {
            cfn.describe_stack_resources()
                .stack_name(&id)
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("DescribeStackResources", e))
        })
        .await?;
    let resources = res
        .stack_resources()
        .iter()
        .map(|r| StackResource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
            kind: r.resource_type().unwrap_or_default().to_string(),
            status: r
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: r.resource_status_reason().map(str::to_string),
        })
        .collect();
    rf.stack = Some(StackFound {
        name: names::STACK.to_string(),
        id,
        status,
        resources,
    });
    Ok(())
}

async fn discover_keys(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
    skipped: &mut Vec<Skipped>,
) -> Result<(), AwsFailure> {
    let kms = &rc.kms;
    // Aliases → target key.
    let mut aliases: Vec<(String, String)> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let m = marker.clone();
        let page = pace
            .call("ListAliases", || async {
                kms.list_aliases()
                    .set_marker(m.clone())
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListAliases", e))
            })
            .await?;
        for a in page.aliases() {
            if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                aliases.push((name.to_string(), target.to_string()));
            }
        }
        marker = page.next_marker().map(str::to_string);
        if !page.truncated() || marker.is_none() {
            break;
        }
    }
    let mut key_ids: Vec<String> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let m = marker.clone();
        let page = pace
            .call("ListKeys", || async {
                kms.list_keys()
                    .set_marker(m.clone())
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListKeys", e))
            })
            .await?;
        key_ids.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string)),
        );
        marker = page.next_marker().map(str::to_string);
        if !page.truncated() || marker.is_none() {
            break;
        }
    }
    for id in key_ids {
        let d = pace
            .call("DescribeKey", || async {
                kms.describe_key()
                    .key_id(&id)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("DescribeKey", e))
            })
            .await;
        let meta = match d {
            Ok(o) => match o.key_metadata {
                Some(m) => m,
                None => continue,
            },
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        // AWS-managed keys are never touched, whatever else matches.
        if meta.key_manager().map(|m| m.as_str()) != Some("CUSTOMER") {
            continue;
        }
        let arn = meta.arn().unwrap_or_default().to_string();
        let key_aliases: Vec<String> = aliases
            .iter()
            .filter(|(n, t)| t == &id && !n.starts_with("alias/aws/"))
            .map(|(n, _)| n.clone())
            .collect();
        let mut why = Vec::new();
        if key_aliases
            .iter()
            .any(|a| a == names::FIRST_ALIAS || a == names::IMPORTED_ALIAS)
        {
            why.push("workshop alias");
        }
        if inventory.contains(ResourceKind::KmsKey, &arn)
            || inventory.contains(ResourceKind::KmsKey, &id)
        {
            why.push("inventory");
        }
        let state = meta
            .key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if why.is_empty() {
            let tags = pace
                .call("ListResourceTags", || async {
                    kms.list_resource_tags()
                        .key_id(&id)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("ListResourceTags", e))
                })
                .await;
            match tags {
                Ok(t) => {
                    if t.tags()
                        .iter()
                        .any(|t| t.tag_key() == names::TAG_KEY && t.tag_value() == names::TAG_VALUE)
                    {
                        why.push("tag project=kmsworkshop");
                    }
                }
                // A key whose tags we may not read is not provably the workshop's.
                Err(e) if e.class == crate::ErrorClass::AccessDenied => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let described_as_workshop = meta
            .description()
            .is_some_and(|d| d.starts_with(names::KEY_DESCRIPTION_PREFIX));
        if state == "PendingDeletion" {
            if !why.is_empty() || described_as_workshop {
                let when = meta
                    .deletion_date()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "its scheduled date".into());
                skipped.push(Skipped {
                    what: format!("kms key {id} [{}]", rc.region),
                    why: format!("already scheduled for deletion (deleted on {when})"),
                });
                rf.aliases.extend(key_aliases);
                if !why.is_empty() {
                    rf.scheduled_keys.push(id.clone());
                }
            }
            continue;
        }
        if why.is_empty() {
            continue;
        }
        if state == "PendingReplicaDeletion" {
            continue;
        }
        rf.aliases.extend(key_aliases.iter().cloned());
        rf.keys.push(KeyFound {
            id: id.clone(),
            arn,
            aliases: key_aliases,
            why: why.join(", "),
        });
    }
    let _ = account;
    Ok(())
}

async fn discover_instances(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
) -> Result<(), AwsFailure> {
    let ec2 = &rc.ec2;
    let profile_arn_suffix = format!(":instance-profile/{}", names::PROFILE);
    // Associations of the workshop's instance profile: the instance the learner launched.
    let mut by_instance: std::collections::BTreeMap<String, (Vec<String>, String)> =
        Default::default();
    let mut token: Option<String> = None;
    loop {
        let t = token.clone();
        let page = pace
            .call("DescribeIamInstanceProfileAssociations", || async {
                ec2.describe_iam_instance_profile_associations()
                    .set_next_token(t.clone())
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("DescribeIamInstanceProfileAssociations", e))
            })
            .await?;
        for a in page.iam_instance_profile_associations() {
            let ours = a
                .iam_instance_profile()
                .and_then(|p| p.arn())
                .is_some_and(|arn| {
                    arn.ends_with(&profile_arn_suffix) && arn.contains(&format!(":{account}:"))
                });
            let active = a
                .state()
                .is_some_and(|s| matches!(s.as_str(), "associated" | "associating"));
            if let (true, true, Some(i), Some(id)) =
                (ours, active, a.instance_id(), a.association_id())
            {
                let e = by_instance
                    .entry(i.to_string())
                    .or_insert_with(|| (Vec::new(), "workshop instance profile".into()));
                e.0.push(id.to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for item in inventory.of(ResourceKind::Ec2Instance, account, &rc.region) {
        by_instance
            .entry(item.short_id().to_string())
            .or_insert_with(|| (Vec::new(), "inventory".into()));
    }
    // The instance named as the workshop names it.
    let tagged = pace
        .call("DescribeInstances", || async {
            ec2.describe_instances()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("tag:Name")
                        .values(names::INSTANCE_NAME_TAG)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("DescribeInstances", e))
        })
        .await?;
    for r in tagged.reservations() {
        for i in r.instances() {
            if let Some(id) = i.instance_id() {
                by_instance
                    .entry(id.to_string())
                    .or_insert_with(|| (Vec::new(), "tag Name=KMSWorkshop-Instance".into()));
            }
        }
    }
    for (id, (assocs, why)) in by_instance {
        let d = pace
            .call("DescribeInstances", || async {
                ec2.describe_instances()
                    .instance_ids(&id)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("DescribeInstances", e))
            })
            .await;
        let state = match d {
            Ok(o) => o
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .find(|i| i.instance_id() == Some(id.as_str()))
                .and_then(|i| {
                    i.state()
                        .and_then(|s| s.name())
                        .map(|n| n.as_str().to_string())
                }),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        match state.as_deref() {
            None | Some("terminated") => {
                if !assocs.is_empty() {
                    // Nothing to terminate, but a stale association can still pin the profile.
                    rf.instances.push(InstanceFound {
                        id,
                        state: state.unwrap_or_else(|| "gone".into()),
                        associations: assocs,
                        why,
                    });
                }
            }
            Some(s) => rf.instances.push(InstanceFound {
                id,
                state: s.to_string(),
                associations: assocs,
                why,
            }),
        }
    }
    let vols = pace
        .call("DescribeVolumes", || async {
            ec2.describe_volumes()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("tag:Name")
                        .values(names::VOLUME_NAME_TAG)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("DescribeVolumes", e))
        })
        .await?;
    let mut vol_ids: Vec<String> = Vec::new();
    for v in vols.volumes() {
        let Some(id) = v.volume_id() else { continue };
        let state = v
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if state == "deleted" || state == "deleting" {
            continue;
        }
        vol_ids.push(id.to_string());
        rf.volumes.push(VolumeFound {
            id: id.to_string(),
            state,
            attached_to: v
                .attachments()
                .iter()
                .filter_map(|a| a.instance_id().map(str::to_string))
                .collect(),
        });
    }
    for item in inventory.of(ResourceKind::Ec2Volume, account, &rc.region) {
        let id = item.short_id().to_string();
        if vol_ids.contains(&id) {
            continue;
        }
        let d = pace
            .call("DescribeVolumes", || async {
                ec2.describe_volumes()
                    .volume_ids(&id)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("DescribeVolumes", e))
            })
            .await;
        match d {
            Ok(o) => {
                for v in o.volumes() {
                    let state = v
                        .state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    if state != "deleted" && state != "deleting" {
                        rf.volumes.push(VolumeFound {
                            id: id.clone(),
                            state,
                            attached_to: v
                                .attachments()
                                .iter()
                                .filter_map(|a| a.instance_id().map(str::to_string))
                                .collect(),
                        });
                    }
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn discover_notifications(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
    key_ids: &[String],
) -> Result<(), AwsFailure> {
    let sns = &rc.sns;
    let mut topic_arns: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let t = token.clone();
        let page = pace
            .call("ListTopics", || async {
                sns.list_topics()
                    .set_next_token(t.clone())
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListTopics", e))
            })
            .await?;
        for topic in page.topics() {
            if let Some(arn) = topic.topic_arn() {
                let name = arn.rsplit(':').next().unwrap_or_default();
                if name == names::TOPIC || inventory.contains(ResourceKind::SnsTopic, arn) {
                    topic_arns.push(arn.to_string());
                }
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for arn in &topic_arns {
        let mut subs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let t = token.clone();
            let page = pace
                .call("ListSubscriptionsByTopic", || async {
                    sns.list_subscriptions_by_topic()
                        .topic_arn(arn)
                        .set_next_token(t.clone())
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("ListSubscriptionsByTopic", e))
                })
                .await?;
            subs.extend(
                page.subscriptions()
                    .iter()
                    .filter_map(|s| s.subscription_arn())
                    .filter(|a| a.starts_with("arn:"))
                    .map(str::to_string),
            );
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        rf.topics.push(TopicFound {
            arn: arn.clone(),
            subscriptions: subs,
        });
    }
    // Rules: those targeting the workshop's topic, and those the inventory recorded.
    let events = &rc.events;
    let mut rule_names: Vec<String> = inventory
        .of(ResourceKind::EventsRule, account, &rc.region)
        .map(|i| i.short_id().to_string())
        .collect();
    for arn in &topic_arns {
        let mut token: Option<String> = None;
        loop {
            let t = token.clone();
            let page = pace
                .call("ListRuleNamesByTarget", || async {
                    events
                        .list_rule_names_by_target()
                        .target_arn(arn)
                        .set_next_token(t.clone())
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("ListRuleNamesByTarget", e))
                })
                .await?;
            for n in page.rule_names() {
                if !rule_names.contains(n) {
                    rule_names.push(n.clone());
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    for name in rule_names {
        let targets = pace
            .call("ListTargetsByRule", || async {
                events
                    .list_targets_by_rule()
                    .rule(&name)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListTargetsByRule", e))
            })
            .await;
        match targets {
            Ok(t) => rf.rules.push(RuleFound {
                name,
                targets: t.targets().iter().map(|t| t.id().to_string()).collect(),
            }),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    // Alarms that notify the workshop's topic or watch the workshop's keys' expiry metric.
    let cw = &rc.cloudwatch;
    let mut token: Option<String> = None;
    loop {
        let t = token.clone();
        let page = pace
            .call("DescribeAlarms", || async {
                cw.describe_alarms()
                    .set_next_token(t.clone())
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("DescribeAlarms", e))
            })
            .await?;
        for a in page.metric_alarms() {
            let Some(name) = a.alarm_name() else { continue };
            let notifies_ours = a
                .alarm_actions()
                .iter()
                .chain(a.ok_actions())
                .chain(a.insufficient_data_actions())
                .any(|act| topic_arns.contains(act));
            let watches_ours = a.namespace() == Some(names::KEY_METRIC_NAMESPACE)
                && a.metric_name() == Some(names::KEY_METRIC)
                && a.dimensions().iter().any(|d| {
                    d.name() == Some("KeyId")
                        && d.value().is_some_and(|v| key_ids.iter().any(|k| k == v))
                });
            let recorded = inventory.contains(ResourceKind::CloudWatchAlarm, name);
            if notifies_ours || watches_ours || recorded {
                rf.alarms.push(name.to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(())
}

/// The trail a run recorded (by ARN) or the one named exactly [`names::TRAIL`], in this account
/// and with this region as its home. Organisation trails and other accounts' trails are never
/// the workshop's: the runner creates neither.
async fn discover_trails(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
    skipped: &mut Vec<Skipped>,
) -> Result<(), AwsFailure> {
    let ct = &rc.cloudtrail;
    let described = pace
        .call("DescribeTrails", || async {
            // Shadow trails (multi-region trails homed elsewhere) are deleted from their home.
            ct.describe_trails()
                .include_shadow_trails(false)
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("DescribeTrails", e))
        })
        .await;
    let out = match described {
        Ok(o) => o,
        // An endpoint without CloudTrail has no trail to find.
        Err(e) if e.code == "UnknownServiceException" => return Ok(()),
        Err(e) => return Err(e),
    };
    for t in out.trail_list() {
        let (Some(name), Some(arn)) = (t.name(), t.trail_arn()) else {
            continue;
        };
        let recorded = inventory
            .of(ResourceKind::CloudTrailTrail, account, &rc.region)
            .any(|i| i.arn == arn);
        let named = name == names::TRAIL;
        if !recorded && !named {
            continue;
        }
        let home_here = t.home_region().is_none_or(|h| h == rc.region);
        if !home_here {
            continue;
        }
        let owner = arn.split(':').nth(4).unwrap_or_default();
        if owner != account || t.is_organization_trail() == Some(true) {
            skipped.push(Skipped {
                what: format!("cloudtrail trail {arn}"),
                why: "an organisation's or another account's trail: left in place".into(),
            });
            continue;
        }
        rf.trails.push(TrailFound {
            name: name.to_string(),
            arn: arn.to_string(),
            bucket: t.s3_bucket_name().map(str::to_string),
            why: if recorded {
                "inventory"
            } else {
                "workshop name"
            }
            .into(),
        });
    }
    Ok(())
}

async fn discover_iam(clients: &Clients, pace: &Pace, found: &mut Found) -> Result<(), AwsFailure> {
    let iam = &clients.iam;
    let stack_roles: Vec<String> = stack_physical(found, "AWS::IAM::Role")
        .map(str::to_string)
        .collect();
    let stack_profiles: Vec<String> = stack_physical(found, "AWS::IAM::InstanceProfile")
        .map(str::to_string)
        .collect();
    let role = pace
        .call("GetRole", || async {
            iam.get_role()
                .role_name(names::ROLE)
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("GetRole", e))
        })
        .await;
    match role {
        Ok(r) => {
            let arn = r.role().map(|r| r.arn().to_string()).unwrap_or_default();
            let mut attached = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let m = marker.clone();
                let page = pace
                    .call("ListAttachedRolePolicies", || async {
                        iam.list_attached_role_policies()
                            .role_name(names::ROLE)
                            .set_marker(m.clone())
                            .send()
                            .await
                            .map_err(|e| AwsFailure::from_sdk("ListAttachedRolePolicies", e))
                    })
                    .await?;
                attached.extend(
                    page.attached_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string)),
                );
                marker = page.marker().map(str::to_string);
                if !page.is_truncated() || marker.is_none() {
                    break;
                }
            }
            let inline = pace
                .call("ListRolePolicies", || async {
                    iam.list_role_policies()
                        .role_name(names::ROLE)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("ListRolePolicies", e))
                })
                .await?
                .policy_names()
                .to_vec();
            let profiles = pace
                .call("ListInstanceProfilesForRole", || async {
                    iam.list_instance_profiles_for_role()
                        .role_name(names::ROLE)
                        .send()
                        .await
                        .map_err(|e| AwsFailure::from_sdk("ListInstanceProfilesForRole", e))
                })
                .await?
                .instance_profiles()
                .iter()
                .map(|p| p.instance_profile_name().to_string())
                .collect();
            found.role = Some(RoleFound {
                name: names::ROLE.to_string(),
                arn,
                attached,
                inline,
                profiles,
                stack_owned: stack_roles.iter().any(|r| r == names::ROLE),
            });
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    let profile = pace
        .call("GetInstanceProfile", || async {
            iam.get_instance_profile()
                .instance_profile_name(names::PROFILE)
                .send()
                .await
                .map_err(|e| AwsFailure::from_sdk("GetInstanceProfile", e))
        })
        .await;
    match profile {
        Ok(p) => {
            if let Some(p) = p.instance_profile() {
                found.profile = Some(ProfileFound {
                    name: p.instance_profile_name().to_string(),
                    arn: p.arn().to_string(),
                    roles: p
                        .roles()
                        .iter()
                        .map(|r| r.role_name().to_string())
                        .collect(),
                    stack_owned: stack_profiles.iter().any(|n| n == names::PROFILE),
                });
            }
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    for name in names::CUSTOMER_POLICIES {
        let arn = format!("arn:aws:iam::{}:policy/{name}", clients.account);
        let got = pace
            .call("GetPolicy", || async {
                iam.get_policy()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("GetPolicy", e))
            })
            .await;
        match got {
            Ok(_) => {}
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        }
        let versions = pace
            .call("ListPolicyVersions", || async {
                iam.list_policy_versions()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListPolicyVersions", e))
            })
            .await?;
        let non_default = versions
            .versions()
            .iter()
            .filter(|v| !v.is_default_version())
            .filter_map(|v| v.version_id().map(str::to_string))
            .collect();
        let entities = pace
            .call("ListEntitiesForPolicy", || async {
                iam.list_entities_for_policy()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("ListEntitiesForPolicy", e))
            })
            .await?;
        let roles: Vec<String> = entities
            .policy_roles()
            .iter()
            .filter_map(|r| r.role_name().map(str::to_string))
            .collect();
        let others: Vec<String> = roles
            .iter()
            .filter(|r| r.as_str() != names::ROLE)
            .map(|r| format!("role {r}"))
            .chain(
                entities
                    .policy_users()
                    .iter()
                    .filter_map(|u| u.user_name().map(|u| format!("user {u}"))),
            )
            .chain(
                entities
                    .policy_groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(|g| format!("group {g}"))),
            )
            .collect();
        if !others.is_empty() {
            found.skipped.push(Skipped {
                what: format!("iam policy {arn}"),
                why: format!(
                    "also attached to {}, which is not the workshop's: left in place",
                    others.join(", ")
                ),
            });
            continue;
        }
        found.policies.push(PolicyFound {
            name: name.to_string(),
            arn,
            non_default_versions: non_default,
            attached_roles: roles,
        });
    }
    Ok(())
}

async fn discover_bucket(
    clients: &Clients,
    pace: &Pace,
    inventory: &Inventory,
    found: &mut Found,
) -> Result<(), AwsFailure> {
    let s3 = &clients.s3;
    // The workshop's bucket by its exact name, the stack's buckets, and those a run recorded.
    let stack_buckets: Vec<String> = stack_physical(found, "AWS::S3::Bucket")
        .map(str::to_string)
        .collect();
    let mut candidates = vec![names::bucket(&clients.account)];
    // The log bucket of the workshop's trail, when it has the exact name the runner gives it.
    for r in &found.regions {
        let expected = names::trail_bucket(&clients.account, &r.region);
        if r.trails
            .iter()
            .any(|t| t.bucket.as_deref() == Some(expected.as_str()))
            && !candidates.contains(&expected)
        {
            candidates.push(expected);
        }
    }
    for b in stack_buckets.iter().cloned().chain(
        inventory
            .of(ResourceKind::S3Bucket, &clients.account, &clients.home)
            .map(|i| i.short_id().to_string()),
    ) {
        if !candidates.contains(&b) {
            candidates.push(b);
        }
    }
    for name in candidates {
        let head = pace
            .call("HeadBucket", || async {
                s3.head_bucket()
                    .bucket(&name)
                    .expected_bucket_owner(&clients.account)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::from_sdk("HeadBucket", e))
            })
            .await;
        match head {
            Ok(_) => found.buckets.push(BucketFound {
                stack_owned: stack_buckets.contains(&name),
                name,
            }),
            Err(e) if e.is_not_found() => {}
            // Someone else's bucket of that name: never ours.
            Err(e) if e.status == Some(403) => found.skipped.push(Skipped {
                what: format!("s3 bucket {name}"),
                why: "exists but is not this account's".into(),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
