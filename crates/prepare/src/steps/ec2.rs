//! The instance (launched with the workshop's profile, idempotent by its client token) and the
//! `WorkshopEBS` volume (encrypted with `alias/ImportedCMK`, attached as /dev/sdf).

use aws_sdk_ec2::types::{
    IamInstanceProfileSpecification, InstanceType, ResourceType, Tag, TagSpecification, VolumeType,
};

use kms_workshop_cleanup::aws::Regional;
use kms_workshop_cleanup::exec::ActionOutcome;
use kms_workshop_cleanup::{names, AwsFailure, Executor};
use kms_workshop_names::starting::{VOLUME_DEVICE, VOLUME_SIZE_GIB, VOLUME_TYPE};

use super::{kept, made, stuck};
use crate::survey::instance::{workshop_instances, workshop_volumes};

fn name_tag(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

/// A profile IAM has just made is not usable by EC2 for some seconds: RunInstances says so.
fn profile_not_ready(e: &AwsFailure) -> bool {
    e.code == "InvalidParameterValue" && e.message.contains("nstance Profile")
}

/// The state of instance `id`.
async fn instance_state(ex: &Executor, rc: &Regional, id: &str) -> Result<String, AwsFailure> {
    let out = ex
        .pace()
        .send("DescribeInstances", || {
            rc.ec2.describe_instances().instance_ids(id).send()
        })
        .await?;
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find_map(|i| {
            i.state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_string())
        })
        .unwrap_or_default())
}

/// Launch the instance unless it runs already, then wait until it is `running`.
pub(super) async fn run_instance(
    ex: &Executor,
    rc: &Regional,
    ami: &str,
    instance_type: &str,
    client_token: &str,
) -> ActionOutcome {
    let existing = workshop_instances(&rc.ec2, ex).await?;
    let (id, outcome) = match existing.first().and_then(|i| i.instance_id()) {
        Some(id) => (id.to_string(), kept as fn(String) -> ActionOutcome),
        None => {
            let mut attempt = 0;
            let out = loop {
                attempt += 1;
                let launched = ex
                    .pace()
                    .send("RunInstances", || {
                        rc.ec2
                            .run_instances()
                            .image_id(ami)
                            .instance_type(InstanceType::from(instance_type))
                            .min_count(1)
                            .max_count(1)
                            .client_token(client_token)
                            .iam_instance_profile(
                                IamInstanceProfileSpecification::builder()
                                    .name(names::PROFILE)
                                    .build(),
                            )
                            .tag_specifications(name_tag(
                                ResourceType::Instance,
                                names::INSTANCE_NAME_TAG,
                            ))
                            .send()
                    })
                    .await;
                match launched {
                    Err(e) if profile_not_ready(&e) && attempt < ex.options().conflict_attempts => {
                        ex.pace().sleep(ex.options().poll_interval).await;
                    }
                    other => break other?,
                }
            };
            let id = out
                .instances()
                .first()
                .and_then(|i| i.instance_id())
                .ok_or_else(|| {
                    stuck(
                        "RunInstances",
                        "NoInstance",
                        "RunInstances launched nothing",
                    )
                })?;
            (id.to_string(), made as fn(String) -> ActionOutcome)
        }
    };
    ex.wait_until("RunInstances", "the instance to run", || async {
        match instance_state(ex, rc, &id).await?.as_str() {
            "running" => Ok(true),
            "pending" => Ok(false),
            other => Err(stuck(
                "RunInstances",
                "IncorrectInstanceState",
                format!("instance {id} is {other}, not running"),
            )),
        }
    })
    .await?;
    outcome(id)
}

/// The volume's state and the instance it is attached to.
async fn volume_state(
    ex: &Executor,
    rc: &Regional,
    id: &str,
) -> Result<(String, Option<String>), AwsFailure> {
    let out = ex
        .pace()
        .send("DescribeVolumes", || {
            rc.ec2.describe_volumes().volume_ids(id).send()
        })
        .await?;
    let v = out.volumes().first();
    Ok((
        v.and_then(|v| v.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        v.and_then(|v| v.attachments().first())
            .filter(|a| a.state().map(|s| s.as_str()) == Some("attached"))
            .and_then(|a| a.instance_id())
            .map(str::to_string),
    ))
}

/// Create the volume (unless there is one), wait until it is available, attach it, wait until
/// the attachment holds.
pub(super) async fn create_volume(
    ex: &Executor,
    rc: &Regional,
    client_token: &str,
) -> ActionOutcome {
    let instances = workshop_instances(&rc.ec2, ex).await?;
    let inst = instances.first().ok_or_else(|| {
        stuck(
            "CreateVolume",
            "NoInstance",
            "the workshop instance is not there",
        )
    })?;
    let instance_id = inst.instance_id().unwrap_or_default().to_string();
    let az = inst
        .placement()
        .and_then(|p| p.availability_zone())
        .unwrap_or_default()
        .to_string();
    let volumes = workshop_volumes(&rc.ec2, ex).await?;
    if volumes.iter().any(|v| {
        v.attachments()
            .iter()
            .any(|a| a.instance_id() == Some(instance_id.as_str()))
    }) {
        return kept("attached already");
    }
    // Volumes are never adopted by their tag (one tagged like the workshop's may be anyone's):
    // CreateVolume's client token makes a repeated call answer with the volume this run made.
    let out = ex
        .pace()
        .send("CreateVolume", || {
            rc.ec2
                .create_volume()
                .availability_zone(&az)
                .size(VOLUME_SIZE_GIB)
                .volume_type(VolumeType::from(VOLUME_TYPE))
                .encrypted(true)
                .kms_key_id(names::IMPORTED_ALIAS)
                .client_token(client_token)
                .tag_specifications(name_tag(ResourceType::Volume, names::VOLUME_NAME_TAG))
                .send()
        })
        .await?;
    let volume_id = out.volume_id().unwrap_or_default().to_string();
    // The instance must run before anything is attached to it (a resumed run may find it
    // still pending).
    ex.wait_until("AttachVolume", "the instance to run", || async {
        match instance_state(ex, rc, &instance_id).await?.as_str() {
            "running" => Ok(true),
            "pending" => Ok(false),
            other => Err(stuck(
                "AttachVolume",
                "IncorrectInstanceState",
                format!("instance {instance_id} is {other}, not running"),
            )),
        }
    })
    .await?;
    ex.wait_until("CreateVolume", "the volume to be available", || async {
        match volume_state(ex, rc, &volume_id).await?.0.as_str() {
            "available" => Ok(true),
            "creating" => Ok(false),
            other => Err(stuck(
                "CreateVolume",
                "VolumeNotCreated",
                format!("volume {volume_id} is {other} (a key EC2 cannot use fails the creation)"),
            )),
        }
    })
    .await?;
    ex.pace()
        .send("AttachVolume", || {
            rc.ec2
                .attach_volume()
                .volume_id(&volume_id)
                .instance_id(&instance_id)
                .device(VOLUME_DEVICE)
                .send()
        })
        .await?;
    ex.wait_until("AttachVolume", "the volume to be attached", || async {
        Ok(volume_state(ex, rc, &volume_id).await?.1.as_deref() == Some(instance_id.as_str()))
    })
    .await?;
    made(format!("{volume_id} on {instance_id}"))
}
