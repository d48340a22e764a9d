//! The EC2 requests the differential test sends, as data: each variant one operation with what
//! it names. Instance, association and volume ids are the ones each side recorded (moto and the
//! sandbox hand out different ids), as [`Ref::Kept`].

use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, Filter, IamInstanceProfileSpecification,
    InstanceAttributeName, InstanceType, ResourceType, Tag, TagSpecification, VolumeType,
};

use crate::common::differential::{both, Outcome, Ref, Request, Side};
use crate::common::REGION;

pub const AMI: &str = "ami-0c02fb55956c7d316";
pub const PROFILE: &str = "DifferentialProfile";
pub const OTHER_PROFILE: &str = "DifferentialOther";

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn profile(name: &str) -> IamInstanceProfileSpecification {
    IamInstanceProfileSpecification::builder()
        .name(name)
        .build()
}

/// `Name=differential` for resources of `kind`.
fn name_tag(kind: ResourceType) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(tag("Name", "differential"))
        .build()
}

/// The filters of a request: (name, value).
pub type Filters = &'static [(&'static str, Ref)];

/// The filters as the SDK's, their values resolved for `side`.
fn filters(side: &Side, f: Filters) -> Option<Vec<Filter>> {
    (!f.is_empty()).then(|| f.iter().map(|(n, v)| filter(n, &v.on(side))).collect())
}

/// Which attribute ModifyInstanceAttribute changes.
pub enum Modify {
    DisableApiTermination(bool),
    InstanceType(&'static str),
}

/// EC2 requests.
pub enum Ec2 {
    /// RunInstances: two instances with a key pair, tags, and an instance profile; keeps
    /// their ids as `a` and `b`.
    RunInstances,
    /// DescribeInstances: these instance ids, these filters, this MaxResults.
    DescribeInstances(&'static [Ref], Filters, Option<i32>),
    DescribeInstanceStatus(Ref),
    /// DescribeIamInstanceProfileAssociations of an instance; keeps the first as `assoc`.
    DescribeAssociations(Ref),
    /// AssociateIamInstanceProfile: instance, profile name.
    Associate(Ref, &'static str),
    /// ReplaceIamInstanceProfileAssociation with [`OTHER_PROFILE`]; keeps the new as `assoc2`.
    ReplaceAssociation(Ref),
    Disassociate(Ref),
    ModifyAttribute(Ref, Modify),
    DescribeAttribute(Ref, InstanceAttributeName),
    StopInstances(Ref),
    StartInstances(Ref),
    TerminateInstances(&'static [Ref]),
    /// CreateVolume: 10 GiB of gp2 named `differential`; keeps its id as `vol`.
    CreateVolume,
    /// DescribeVolumes: these volume ids, these filters.
    DescribeVolumes(&'static [Ref], Filters),
    /// AttachVolume: volume, instance, device.
    AttachVolume(Ref, Ref, &'static str),
    /// DetachVolume: volume, instance.
    DetachVolume(Ref, Ref),
    DeleteVolume(Ref),
    CreateTags(Ref, &'static [(&'static str, &'static str)]),
    /// DeleteTags of a resource: the tag's key.
    DeleteTags(Ref, &'static str),
    DescribeTags(Filters),
}

/// The ids `refs` name for `side`.
fn ids(side: &Side, refs: &[Ref]) -> Option<Vec<String>> {
    (!refs.is_empty()).then(|| refs.iter().map(|r| r.on(side)).collect())
}

impl Request for Ec2 {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            Ec2::RunInstances => both!(sides, |side| {
                let r = side
                    .ec2
                    .run_instances()
                    .image_id(AMI)
                    .instance_type(InstanceType::T2Micro)
                    .min_count(2)
                    .max_count(2)
                    .key_name("differential")
                    .iam_instance_profile(profile(PROFILE))
                    .tag_specifications(name_tag(ResourceType::Instance))
                    .send()
                    .await;
                if let Ok(o) = &r {
                    side.keep("a", o.instances()[0].instance_id());
                    side.keep("b", o.instances()[1].instance_id());
                }
                r
            }),
            Ec2::DescribeInstances(refs, f, max) => both!(sides, |side| side
                .ec2
                .describe_instances()
                .set_instance_ids(ids(side, refs))
                .set_filters(filters(side, f))
                .set_max_results(*max)
                .send()
                .await),
            Ec2::DescribeInstanceStatus(id) => both!(sides, |side| side
                .ec2
                .describe_instance_status()
                .instance_ids(id.on(side))
                .send()
                .await),
            Ec2::DescribeAssociations(id) => both!(sides, |side| {
                let r = side
                    .ec2
                    .describe_iam_instance_profile_associations()
                    .filters(filter("instance-id", &id.on(side)))
                    .send()
                    .await;
                let first = r
                    .as_ref()
                    .ok()
                    .and_then(|o| o.iam_instance_profile_associations().first());
                side.keep("assoc", first.and_then(|a| a.association_id()));
                r
            }),
            Ec2::Associate(id, name) => both!(sides, |side| side
                .ec2
                .associate_iam_instance_profile()
                .instance_id(id.on(side))
                .iam_instance_profile(profile(name))
                .send()
                .await),
            Ec2::ReplaceAssociation(assoc) => both!(sides, |side| {
                let r = side
                    .ec2
                    .replace_iam_instance_profile_association()
                    .association_id(assoc.on(side))
                    .iam_instance_profile(profile(OTHER_PROFILE))
                    .send()
                    .await;
                let new = r
                    .as_ref()
                    .ok()
                    .and_then(|o| o.iam_instance_profile_association());
                side.keep("assoc2", new.and_then(|a| a.association_id()));
                r
            }),
            Ec2::Disassociate(assoc) => both!(sides, |side| side
                .ec2
                .disassociate_iam_instance_profile()
                .association_id(assoc.on(side))
                .send()
                .await),
            Ec2::ModifyAttribute(id, change) => both!(sides, |side| {
                let call = side
                    .ec2
                    .modify_instance_attribute()
                    .instance_id(id.on(side));
                let call = match change {
                    Modify::DisableApiTermination(on) => call.disable_api_termination(
                        AttributeBooleanValue::builder().value(*on).build(),
                    ),
                    Modify::InstanceType(t) => {
                        call.instance_type(AttributeValue::builder().value(*t).build())
                    }
                };
                call.send().await
            }),
            Ec2::DescribeAttribute(id, name) => both!(sides, |side| side
                .ec2
                .describe_instance_attribute()
                .instance_id(id.on(side))
                .attribute(name.clone())
                .send()
                .await),
            Ec2::StopInstances(id) => both!(sides, |side| side
                .ec2
                .stop_instances()
                .instance_ids(id.on(side))
                .send()
                .await),
            Ec2::StartInstances(id) => both!(sides, |side| side
                .ec2
                .start_instances()
                .instance_ids(id.on(side))
                .send()
                .await),
            Ec2::TerminateInstances(refs) => both!(sides, |side| side
                .ec2
                .terminate_instances()
                .set_instance_ids(ids(side, refs))
                .send()
                .await),
            other => other.send_volume_or_tags(sides).await,
        }
    }
}

impl Ec2 {
    /// [`Request::send`] for volumes and tags.
    async fn send_volume_or_tags(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            Ec2::CreateVolume => both!(sides, |side| {
                let r = side
                    .ec2
                    .create_volume()
                    .availability_zone(format!("{REGION}a"))
                    .size(10)
                    .volume_type(VolumeType::Gp2)
                    .tag_specifications(name_tag(ResourceType::Volume))
                    .send()
                    .await;
                side.keep("vol", r.as_ref().ok().and_then(|o| o.volume_id()));
                r
            }),
            Ec2::DescribeVolumes(refs, f) => both!(sides, |side| side
                .ec2
                .describe_volumes()
                .set_volume_ids(ids(side, refs))
                .set_filters(filters(side, f))
                .send()
                .await),
            Ec2::AttachVolume(vol, id, device) => both!(sides, |side| side
                .ec2
                .attach_volume()
                .volume_id(vol.on(side))
                .instance_id(id.on(side))
                .device(*device)
                .send()
                .await),
            Ec2::DetachVolume(vol, id) => both!(sides, |side| side
                .ec2
                .detach_volume()
                .volume_id(vol.on(side))
                .instance_id(id.on(side))
                .send()
                .await),
            Ec2::DeleteVolume(vol) => both!(sides, |side| side
                .ec2
                .delete_volume()
                .volume_id(vol.on(side))
                .send()
                .await),
            Ec2::CreateTags(id, tags) => both!(sides, |side| side
                .ec2
                .create_tags()
                .resources(id.on(side))
                .set_tags(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
                .send()
                .await),
            Ec2::DeleteTags(id, key) => both!(sides, |side| side
                .ec2
                .delete_tags()
                .resources(id.on(side))
                .tags(Tag::builder().key(*key).build())
                .send()
                .await),
            Ec2::DescribeTags(f) => both!(sides, |side| side
                .ec2
                .describe_tags()
                .set_filters(filters(side, f))
                .send()
                .await),
            _ => unreachable!("an instance request: see Request::send"),
        }
    }
}
