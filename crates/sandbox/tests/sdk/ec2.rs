//! The Rust AWS SDK (aws-sdk-ec2) against an in-process sandbox: the workshop's seeded EC2
//! state, instances (run, describe with filters and paginators, stop, start, terminate, the
//! SDK's waiter), instance attributes, IAM instance profile associations, volumes (create,
//! attach, detach, delete), tags, errors, and lifecycles under the realistic latency profile
//! completed by advancing the sandbox clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::Arc;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, Filter, IamInstanceProfileAssociationState,
    IamInstanceProfileSpecification, Instance, InstanceAttributeName, InstanceStateName,
    InstanceType, ResourceType, Tag, TagSpecification, VolumeAttachmentState, VolumeState,
    VolumeType,
};
use common::{code, refused};
use kms_workshop_names::{IMPORTED_ALIAS, INSTANCE_NAME_TAG, VOLUME_NAME_TAG};
use kms_workshop_sandbox::{seed, Config, LatencyProfile, Running, Sandbox, Seed};

struct Env {
    sb: Arc<Sandbox>,
    _running: Running,
    ec2: aws_sdk_ec2::Client,
    kms: aws_sdk_kms::Client,
}

async fn start_with(cfg: Config) -> Env {
    let (sb, running) = common::start_sandbox(cfg).await;
    let sdk = common::learner_config(&running.endpoint()).await;
    Env {
        sb,
        _running: running,
        ec2: aws_sdk_ec2::Client::new(&sdk),
        kms: aws_sdk_kms::Client::new(&sdk),
    }
}

async fn start() -> Env {
    start_with(Config {
        seed: Seed::Workshop,
        ..Config::default()
    })
    .await
}

fn filter(name: &str, values: &[&str]) -> Filter {
    let mut f = Filter::builder().name(name);
    for v in values {
        f = f.values(*v);
    }
    f.build()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn profile_arn() -> String {
    format!(
        "arn:aws:iam::{}:instance-profile/{}",
        seed::ACCOUNT,
        seed::INSTANCE_ROLE
    )
}

impl Env {
    async fn instances(&self, filters: Vec<Filter>) -> Vec<Instance> {
        let out = self
            .ec2
            .describe_instances()
            .set_filters(Some(filters))
            .send()
            .await
            .unwrap();
        out.reservations()
            .iter()
            .flat_map(|r| r.instances().to_vec())
            .collect()
    }

    async fn instance(&self, id: &str) -> Instance {
        let out = self
            .ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .unwrap();
        let all: Vec<Instance> = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances().to_vec())
            .collect();
        assert_eq!(all.len(), 1);
        all[0].clone()
    }

    async fn state(&self, id: &str) -> InstanceStateName {
        self.instance(id)
            .await
            .state()
            .and_then(|s| s.name())
            .cloned()
            .unwrap()
    }

    async fn volume(&self, id: &str) -> aws_sdk_ec2::types::Volume {
        self.ec2
            .describe_volumes()
            .volume_ids(id)
            .send()
            .await
            .unwrap()
            .volumes()[0]
            .clone()
    }

    async fn workshop_ebs(&self) -> aws_sdk_ec2::types::Volume {
        let out = self
            .ec2
            .describe_volumes()
            .filters(filter("tag:Name", &[VOLUME_NAME_TAG]))
            .send()
            .await
            .unwrap();
        assert_eq!(out.volumes().len(), 1);
        out.volumes()[0].clone()
    }

    fn advance(&self, secs: i64) {
        self.sb
            .advance_clock(time::Duration::seconds(secs))
            .unwrap();
        self.sb.tick();
    }
}

#[tokio::test]
async fn seeded_state_through_the_sdk() {
    let env = start().await;
    let ws = env.instance(seed::INSTANCE_ID).await;
    assert_eq!(ws.instance_type(), Some(&InstanceType::T2Micro));
    assert_eq!(
        ws.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Running)
    );
    assert_eq!(ws.state().and_then(|s| s.code()), Some(16));
    assert_eq!(
        ws.iam_instance_profile().and_then(|p| p.arn()),
        Some(profile_arn().as_str())
    );
    assert!(ws.launch_time().is_some());
    assert_eq!(
        ws.tags()
            .iter()
            .find(|t| t.key() == Some("Name"))
            .and_then(|t| t.value()),
        Some(INSTANCE_NAME_TAG)
    );
    assert_eq!(ws.block_device_mappings().len(), 2);

    let k3 = env
        .kms
        .describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let ebs = env.workshop_ebs().await;
    assert_eq!(ebs.size(), Some(100));
    assert_eq!(ebs.volume_type(), Some(&VolumeType::Gp2));
    assert_eq!(ebs.encrypted(), Some(true));
    assert_eq!(ebs.kms_key_id(), k3.arn());
    assert_eq!(ebs.state(), Some(&VolumeState::InUse));
    let att = &ebs.attachments()[0];
    assert_eq!(att.instance_id(), Some(seed::INSTANCE_ID));
    assert_eq!(att.device(), Some("/dev/sdf"));
    assert_eq!(att.state(), Some(&VolumeAttachmentState::Attached));
    assert_eq!(att.delete_on_termination(), Some(false));

    let batch = env
        .instances(vec![filter("tag:Name", &["billing-batch"])])
        .await;
    assert_eq!(batch.len(), 1);
    assert!(batch[0].iam_instance_profile().is_none());

    let assoc = env
        .ec2
        .describe_iam_instance_profile_associations()
        .filters(filter("instance-id", &[seed::INSTANCE_ID]))
        .send()
        .await
        .unwrap();
    let a = &assoc.iam_instance_profile_associations()[0];
    assert_eq!(
        a.state(),
        Some(&IamInstanceProfileAssociationState::Associated)
    );
    assert!(a.association_id().unwrap().starts_with("iip-assoc-"));

    let statuses = env.ec2.describe_instance_status().send().await.unwrap();
    assert_eq!(statuses.instance_statuses().len(), 2);
}

#[tokio::test]
async fn run_describe_paginate_stop_start_terminate() {
    let env = start().await;
    let run = env
        .ec2
        .run_instances()
        .image_id("ami-0c02fb55956c7d316")
        .instance_type(InstanceType::T2Micro)
        .min_count(1)
        .max_count(6)
        .key_name("workshop")
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(tag("Name", "sdk-fleet"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(run.reservation_id().unwrap().starts_with("r-"));
    assert_eq!(run.instances().len(), 6);
    assert!(run
        .instances()
        .iter()
        .all(|i| i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Pending)));
    let ids: Vec<String> = run
        .instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    assert!(ids.iter().all(|id| id.len() == 19 && id.starts_with("i-")));

    // The SDK's paginator follows NextToken with five instances a page.
    let pages = env
        .ec2
        .describe_instances()
        .into_paginator()
        .page_size(5)
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 2);
    let total: usize = pages
        .into_iter()
        .map(|p| {
            p.unwrap()
                .reservations()
                .iter()
                .map(|r| r.instances().len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(total, 8);
    let fleet = env
        .instances(vec![
            filter("tag:Name", &["sdk-fleet"]),
            filter("instance-state-name", &["running"]),
        ])
        .await;
    assert_eq!(fleet.len(), 6);

    // Stop and start.
    let stop = env
        .ec2
        .stop_instances()
        .instance_ids(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        stop.stopping_instances()[0]
            .current_state()
            .and_then(|s| s.name()),
        Some(&InstanceStateName::Stopping)
    );
    assert_eq!(env.state(&ids[0]).await, InstanceStateName::Stopped);
    env.ec2
        .modify_instance_attribute()
        .instance_id(&ids[0])
        .instance_type(AttributeValue::builder().value("t3.micro").build())
        .send()
        .await
        .unwrap();
    let attr = env
        .ec2
        .describe_instance_attribute()
        .instance_id(&ids[0])
        .attribute(InstanceAttributeName::InstanceType)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attr.instance_type().and_then(|v| v.value()),
        Some("t3.micro")
    );
    let start = env
        .ec2
        .start_instances()
        .instance_ids(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        start.starting_instances()[0]
            .previous_state()
            .and_then(|s| s.name()),
        Some(&InstanceStateName::Stopped)
    );
    assert_eq!(env.state(&ids[0]).await, InstanceStateName::Running);

    // Termination protection.
    env.ec2
        .modify_instance_attribute()
        .instance_id(&ids[1])
        .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(
            env.ec2
                .terminate_instances()
                .instance_ids(&ids[1])
                .send()
                .await
        ),
        "OperationNotPermitted"
    );

    // Terminate, and wait with the SDK's waiter.
    let term = env
        .ec2
        .terminate_instances()
        .instance_ids(&ids[0])
        .instance_ids(&ids[2])
        .send()
        .await
        .unwrap();
    assert_eq!(term.terminating_instances().len(), 2);
    env.ec2
        .wait_until_instance_terminated()
        .instance_ids(&ids[0])
        .instance_ids(&ids[2])
        .wait(std::time::Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(env.state(&ids[2]).await, InstanceStateName::Terminated);

    // Errors.
    let refused = [
        ("i-0123456789abcdef0", "InvalidInstanceID.NotFound"),
        ("bogus", "InvalidInstanceID.Malformed"),
    ];
    refused!(refused, |instance_ids| env
        .ec2
        .describe_instances()
        .instance_ids(instance_ids)
        .send()
        .await);
    assert_eq!(
        code!(env.ec2.start_instances().instance_ids(&ids[2]).send().await),
        "IncorrectInstanceState"
    );
    assert_eq!(
        code!(
            env.ec2
                .describe_instances()
                .filters(filter("nope", &["x"]))
                .send()
                .await
        ),
        "InvalidParameterValue"
    );
    assert_eq!(
        code!(
            env.ec2
                .run_instances()
                .image_id("ami-0c02fb55956c7d316")
                .min_count(2)
                .max_count(1)
                .send()
                .await
        ),
        "InvalidParameterValue"
    );
    assert_eq!(
        code!(
            env.ec2
                .terminate_instances()
                .instance_ids(&ids[1])
                .dry_run(true)
                .send()
                .await
        ),
        "OperationNotPermitted"
    );
    assert_eq!(
        code!(
            env.ec2
                .stop_instances()
                .instance_ids(&ids[3])
                .dry_run(true)
                .send()
                .await
        ),
        "DryRunOperation"
    );
    assert_eq!(
        env.state(&ids[3]).await,
        InstanceStateName::Running,
        "a dry run changes nothing"
    );
}

#[tokio::test]
async fn associations_volumes_and_tags() {
    let env = start().await;
    let assoc = env
        .ec2
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    let aid = assoc.iam_instance_profile_associations()[0]
        .association_id()
        .unwrap()
        .to_string();
    assert_eq!(
        code!(
            env.ec2
                .associate_iam_instance_profile()
                .instance_id(seed::INSTANCE_ID)
                .iam_instance_profile(
                    IamInstanceProfileSpecification::builder()
                        .name(seed::INSTANCE_ROLE)
                        .build()
                )
                .send()
                .await
        ),
        "IncorrectState"
    );
    let replaced = env
        .ec2
        .replace_iam_instance_profile_association()
        .association_id(&aid)
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name("Other")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let new_aid = replaced
        .iam_instance_profile_association()
        .unwrap()
        .association_id()
        .unwrap()
        .to_string();
    let d = env
        .ec2
        .disassociate_iam_instance_profile()
        .association_id(&new_aid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.iam_instance_profile_association().and_then(|a| a.state()),
        Some(&IamInstanceProfileAssociationState::Disassociating)
    );
    assert_eq!(
        code!(
            env.ec2
                .disassociate_iam_instance_profile()
                .association_id(&new_aid)
                .send()
                .await
        ),
        "InvalidAssociationID.NotFound"
    );
    let again = env
        .ec2
        .associate_iam_instance_profile()
        .instance_id(seed::INSTANCE_ID)
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .arn(profile_arn())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        again
            .iam_instance_profile_association()
            .and_then(|a| a.state()),
        Some(&IamInstanceProfileAssociationState::Associating)
    );
    assert_eq!(
        env.instance(seed::INSTANCE_ID)
            .await
            .iam_instance_profile()
            .and_then(|p| p.arn()),
        Some(profile_arn().as_str())
    );

    // Volumes.
    let created = env
        .ec2
        .create_volume()
        .availability_zone(format!("{}a", seed::REGION))
        .size(10)
        .volume_type(VolumeType::Gp2)
        .encrypted(true)
        .kms_key_id(IMPORTED_ALIAS)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(tag("Name", "sdk"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let vol = created.volume_id().unwrap().to_string();
    assert_eq!(created.state(), Some(&VolumeState::Creating));
    assert_eq!(created.iops(), Some(100));
    assert_eq!(
        env.volume(&vol).await.state(),
        Some(&VolumeState::Available)
    );
    let att = env
        .ec2
        .attach_volume()
        .volume_id(&vol)
        .instance_id(seed::INSTANCE_ID)
        .device("/dev/sdh")
        .send()
        .await
        .unwrap();
    assert_eq!(att.state(), Some(&VolumeAttachmentState::Attaching));
    assert_eq!(env.volume(&vol).await.state(), Some(&VolumeState::InUse));
    assert_eq!(
        code!(env.ec2.delete_volume().volume_id(&vol).send().await),
        "VolumeInUse"
    );
    let det = env
        .ec2
        .detach_volume()
        .volume_id(&vol)
        .send()
        .await
        .unwrap();
    assert_eq!(det.state(), Some(&VolumeAttachmentState::Detaching));
    assert_eq!(
        env.volume(&vol).await.state(),
        Some(&VolumeState::Available)
    );
    env.ec2
        .delete_volume()
        .volume_id(&vol)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(env.ec2.describe_volumes().volume_ids(&vol).send().await),
        "InvalidVolume.NotFound"
    );

    // Tags.
    let ebs = env.workshop_ebs().await.volume_id().unwrap().to_string();
    env.ec2
        .create_tags()
        .resources(&ebs)
        .resources(seed::INSTANCE_ID)
        .tags(tag("stage", "iv"))
        .send()
        .await
        .unwrap();
    let tags = env
        .ec2
        .describe_tags()
        .filters(filter("key", &["stage"]))
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 2);
    let by_tag = env
        .ec2
        .describe_volumes()
        .filters(filter("tag:stage", &["iv"]))
        .send()
        .await
        .unwrap();
    assert_eq!(by_tag.volumes().len(), 1);
    env.ec2
        .delete_tags()
        .resources(&ebs)
        .tags(Tag::builder().key("stage").build())
        .send()
        .await
        .unwrap();
    let tags = env
        .ec2
        .describe_tags()
        .filters(filter("key", &["stage"]))
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].resource_id(), Some(seed::INSTANCE_ID));
    let pages = env
        .ec2
        .describe_tags()
        .into_paginator()
        .page_size(5)
        .send()
        .collect::<Vec<_>>()
        .await;
    let n: usize = pages.into_iter().map(|p| p.unwrap().tags().len()).sum();
    assert_eq!(n, 5, "Name ×3, team, stage");
}

#[tokio::test]
async fn realistic_latency_completes_when_the_clock_advances() {
    let env = start_with(Config {
        latency: LatencyProfile::Realistic,
        time_scale: 0.1,
        ..Config::default()
    })
    .await;
    let assoc = env
        .ec2
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    let aid = assoc.iam_instance_profile_associations()[0]
        .association_id()
        .unwrap()
        .to_string();
    env.ec2
        .disassociate_iam_instance_profile()
        .association_id(&aid)
        .send()
        .await
        .unwrap();
    env.advance(120);
    let assoc = env
        .ec2
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    assert!(assoc.iam_instance_profile_associations().is_empty());

    env.ec2
        .terminate_instances()
        .instance_ids(seed::INSTANCE_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.state(seed::INSTANCE_ID).await,
        InstanceStateName::ShuttingDown
    );
    let ebs = env.workshop_ebs().await.volume_id().unwrap().to_string();
    assert_eq!(
        code!(env.ec2.delete_volume().volume_id(&ebs).send().await),
        "VolumeInUse"
    );
    // The tick settles it (no EC2 call in between).
    env.advance(900);
    let st = env
        .sb
        .read::<kms_workshop_sandbox::services::ec2::Ec2State, _>(
            seed::ACCOUNT,
            seed::REGION,
            |st| {
                st.instances
                    .get(seed::INSTANCE_ID)
                    .map(|i| i.state.as_str())
            },
        );
    assert_eq!(st, Some("terminated"));
    assert_eq!(
        env.state(seed::INSTANCE_ID).await,
        InstanceStateName::Terminated
    );
    assert_eq!(
        env.volume(&ebs).await.state(),
        Some(&VolumeState::Available)
    );
    env.ec2
        .delete_volume()
        .volume_id(&ebs)
        .send()
        .await
        .unwrap();

    // A launch is pending until the clock moves on; status checks initialise after that.
    let run = env
        .ec2
        .run_instances()
        .image_id("ami-0c02fb55956c7d316")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let id = run.instances()[0].instance_id().unwrap().to_string();
    assert_eq!(env.state(&id).await, InstanceStateName::Pending);
    env.advance(400);
    assert_eq!(env.state(&id).await, InstanceStateName::Running);
    let status = env
        .ec2
        .describe_instance_status()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let s = status.instance_statuses()[0]
        .instance_status()
        .and_then(|s| s.status())
        .cloned();
    assert_eq!(
        s.map(|s| s.as_str().to_string()).as_deref(),
        Some("initializing")
    );
    env.advance(4000);
    let status = env
        .ec2
        .describe_instance_status()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let s = status.instance_statuses()[0]
        .instance_status()
        .and_then(|s| s.status())
        .cloned();
    assert_eq!(s.map(|s| s.as_str().to_string()).as_deref(), Some("ok"));
    // An hour after termination the workshop instance is gone.
    assert_eq!(
        code!(
            env.ec2
                .describe_instances()
                .instance_ids(seed::INSTANCE_ID)
                .send()
                .await
        ),
        "InvalidInstanceID.NotFound"
    );
}
