//! EC2: the instance the learner launched (by the workshop's instance profile, the inventory
//! or its Name tag), the profile's associations that pin it, and the WorkshopEBS volume.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, Volume};
use serde::{Deserialize, Serialize};

use super::RegionFound;
use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// An instance of the workshop's, or a stale association of its profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceFound {
    pub id: String,
    pub state: String,
    /// Instance-profile associations of the workshop's profile.
    pub associations: Vec<String>,
    pub why: String,
}

/// A volume of the workshop's, not yet deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeFound {
    pub id: String,
    pub state: String,
    pub attached_to: Vec<String>,
}

/// Instance id → (associations of the workshop's profile, why it is the workshop's).
type Candidates = BTreeMap<String, (Vec<String>, String)>;

/// The workshop's instances in this region, into `rf.instances`.
pub(super) async fn instances(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
) -> Result<(), AwsFailure> {
    let ec2 = &rc.ec2;
    let mut candidates = profile_associations(ec2, pace, account).await?;
    for item in inventory.of(ResourceKind::Ec2Instance, account, &rc.region) {
        candidates
            .entry(item.short_id().to_string())
            .or_insert_with(|| (Vec::new(), "inventory".into()));
    }
    // The instance named as the workshop names it.
    let request = ec2
        .describe_instances()
        .filters(name_tag(names::INSTANCE_NAME_TAG));
    let tagged = pages!(pace, "DescribeInstances", request.clone(), next_token).await?;
    for i in tagged
        .iter()
        .flat_map(|p| p.reservations())
        .flat_map(|r| r.instances())
    {
        if let Some(id) = i.instance_id() {
            candidates
                .entry(id.to_string())
                .or_insert_with(|| (Vec::new(), "tag Name=KMSWorkshop-Instance".into()));
        }
    }
    for (id, (associations, why)) in candidates {
        let state = instance_state(ec2, pace, &id).await?;
        match state.as_deref() {
            // Nothing to terminate, but a stale association can still pin the profile.
            None | Some("terminated") if associations.is_empty() => {}
            _ => rf.instances.push(InstanceFound {
                id,
                state: state.unwrap_or_else(|| "gone".into()),
                associations,
                why,
            }),
        }
    }
    Ok(())
}

fn name_tag(value: &str) -> Filter {
    Filter::builder().name("tag:Name").values(value).build()
}

/// Active associations of the workshop's instance profile (in this account): the instance the
/// learner launched.
async fn profile_associations(
    ec2: &aws_sdk_ec2::Client,
    pace: &Pace,
    account: &str,
) -> Result<Candidates, AwsFailure> {
    let profile_arn_suffix = format!(":instance-profile/{}", names::PROFILE);
    let in_account = format!(":{account}:");
    let pages = pages!(
        pace,
        "DescribeIamInstanceProfileAssociations",
        ec2.describe_iam_instance_profile_associations(),
        next_token
    )
    .await?;
    let mut by_instance = Candidates::new();
    for a in pages
        .iter()
        .flat_map(|p| p.iam_instance_profile_associations())
    {
        let ours = a
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .is_some_and(|arn| arn.ends_with(&profile_arn_suffix) && arn.contains(&in_account));
        let active = a
            .state()
            .is_some_and(|s| matches!(s.as_str(), "associated" | "associating"));
        if let (true, true, Some(i), Some(id)) = (ours, active, a.instance_id(), a.association_id())
        {
            by_instance
                .entry(i.to_string())
                .or_insert_with(|| (Vec::new(), "workshop instance profile".into()))
                .0
                .push(id.to_string());
        }
    }
    Ok(by_instance)
}

/// The state of instance `id`; `None` when EC2 no longer knows it.
async fn instance_state(
    ec2: &aws_sdk_ec2::Client,
    pace: &Pace,
    id: &str,
) -> Result<Option<String>, AwsFailure> {
    let described = pace
        .send("DescribeInstances", || {
            ec2.describe_instances().instance_ids(id).send()
        })
        .await;
    match described {
        Ok(o) => Ok(o
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(id))
            .and_then(|i| i.state().and_then(|s| s.name()))
            .map(|n| n.as_str().to_string())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The workshop's volumes in this region (by their Name tag and the inventory), into
/// `rf.volumes`.
pub(super) async fn volumes(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
) -> Result<(), AwsFailure> {
    let ec2 = &rc.ec2;
    let request = ec2
        .describe_volumes()
        .filters(name_tag(names::VOLUME_NAME_TAG));
    let tagged = pages!(pace, "DescribeVolumes", request.clone(), next_token).await?;
    let mut seen: Vec<String> = Vec::new();
    for v in tagged.iter().flat_map(|p| p.volumes()) {
        let Some(id) = v.volume_id() else { continue };
        if let Some(found) = volume_found(id, v) {
            seen.push(id.to_string());
            rf.volumes.push(found);
        }
    }
    for item in inventory.of(ResourceKind::Ec2Volume, account, &rc.region) {
        let id = item.short_id().to_string();
        if seen.contains(&id) {
            continue;
        }
        let described = pace
            .send("DescribeVolumes", || {
                ec2.describe_volumes().volume_ids(&id).send()
            })
            .await;
        match described {
            Ok(o) => rf
                .volumes
                .extend(o.volumes().iter().filter_map(|v| volume_found(&id, v))),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Volume `v` under `id`, unless it is deleted or being deleted.
fn volume_found(id: &str, v: &Volume) -> Option<VolumeFound> {
    let state = v
        .state()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    if state == "deleted" || state == "deleting" {
        return None;
    }
    Some(VolumeFound {
        id: id.to_string(),
        state,
        attached_to: v
            .attachments()
            .iter()
            .filter_map(|a| a.instance_id().map(str::to_string))
            .collect(),
    })
}
