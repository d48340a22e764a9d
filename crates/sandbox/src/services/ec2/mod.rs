//! EC2 (ec2Query): instances and their lifecycle (`pending` → `running` ⇄ `stopping` →
//! `stopped`, `shutting-down` → `terminated`, terminated instances staying visible for an hour
//! as on AWS), IAM instance profile associations, EBS volumes (`creating` → `available` ⇄
//! `in-use`, attach and detach, `DeleteOnTermination`), tags, and EC2's filters and paging.
//!
//! Transitions are stored as timestamps on the sandbox clock ("shutting down until …") and
//! settled when their time has passed — on the next call, or on the sandbox's tick — so advancing
//! the clock completes them. How long they take is the sandbox's latency profile
//! ([`crate::Config::lifecycle_delay`]): at once for tests, about as long as on AWS for demos.
//!
//! Member names are the `locationName`s of botocore's EC2 model (the authority on shapes), and
//! errors are spelled as AWS spells them.

mod errors;
mod ids;
mod kms_keys;
mod lifecycle;
mod ops;
mod seed;
mod state;
mod views;

#[cfg(test)]
mod tests;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};
use ops::associations as assoc;
use ops::{attributes, describe, dry_run, instance_types, instances, tags, volumes};

pub use lifecycle::settle_due;

/// Add `tags` to instance `id` of `account` and `region`, reserved `aws:` keys included (what
/// CloudFormation marks its instances with; the API refuses those keys to callers). An
/// instance that is gone is left alone.
pub(crate) fn add_instance_tags(
    sb: &crate::Sandbox,
    (account, region): (&str, &str),
    id: &str,
    tags: impl IntoIterator<Item = (String, String)>,
) -> Result<(), AwsError> {
    sb.write::<Ec2State, _>(account, region, |st| {
        if let Some(i) = st.instances.get_mut(id) {
            i.tags.extend(tags);
        }
        Ok(())
    })
}
pub use seed::{seed_workshop, WORKSHOP_AMI};
pub use state::{
    Association, AssociationState, Attachment, AttachmentState, Ec2State, Instance, InstanceState,
    Volume, VolumeState,
};

pub struct Ec2;

/// An operation that reads the state (the Describe operations).
type ReadOp = fn(&mut Call<'_>, &Ec2State, &Input) -> Result<Value, AwsError>;
/// An operation that changes the state in place.
type WriteOp = fn(&mut Call<'_>, &mut Ec2State, &Input) -> Result<Value, AwsError>;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("ec2", "ec2.amazonaws.com", Protocol::Ec2Query)
    .xmlns("http://ec2.amazonaws.com/doc/2016-11-15/");

impl Service for Ec2 {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    /// As AWS logs it: user data may hold secrets, so the member stays and its value does not.
    fn request_parameters(&self, _op: &str, input: &Input) -> serde_json::Value {
        let mut out = super::camel_case_keys(&input.json_view(), &[], &[]);
        if let Some(v) = out.get_mut("userData") {
            *v = serde_json::Value::String("<sensitiveDataRemoved>".into());
        }
        out
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        lifecycle::settle_in(cx.sandbox, cx.account(), &cx.region, cx.now);
        match op {
            "DescribeInstances" => read(cx, input, describe::describe_instances),
            "DescribeInstanceStatus" => read(cx, input, describe::describe_instance_status),
            "DescribeIamInstanceProfileAssociations" => read(cx, input, assoc::describe),
            "DescribeInstanceAttribute" => read(cx, input, attributes::describe),
            "DescribeVolumes" => read(cx, input, volumes::describe_volumes),
            "DescribeInstanceTypes" => read(cx, input, instance_types::describe_instance_types),
            "DescribeTags" => read(cx, input, tags::describe_tags),
            "RunInstances" => instances::run_instances(cx, input),
            "TerminateInstances" => write(cx, input, instances::terminate_instances),
            "StopInstances" => write(cx, input, instances::stop_instances),
            "StartInstances" => write(cx, input, instances::start_instances),
            "ModifyInstanceAttribute" => write(cx, input, attributes::modify),
            "AssociateIamInstanceProfile" => write(cx, input, assoc::associate),
            "DisassociateIamInstanceProfile" => write(cx, input, assoc::disassociate),
            "ReplaceIamInstanceProfileAssociation" => write(cx, input, assoc::replace),
            "CreateVolume" => volumes::create_volume(cx, input),
            "AttachVolume" => write(cx, input, volumes::attach_volume),
            "DetachVolume" => write(cx, input, volumes::detach_volume),
            "DeleteVolume" => write(cx, input, volumes::delete_volume),
            "CreateTags" => write(cx, input, tags::create_tags),
            "DeleteTags" => write(cx, input, tags::delete_tags),
            _ => Err(cx.unknown(op)),
        }
    }
}

/// Run a Describe operation: `DryRun` answers before anything is read.
fn read(cx: &mut Call<'_>, input: &Input, op: ReadOp) -> Result<Value, AwsError> {
    dry_run(input)?;
    let sb = cx.sandbox;
    let (account, region) = (cx.account().to_string(), cx.region.clone());
    sb.read::<Ec2State, _>(&account, &region, |st| op(cx, st, input))
}

/// Run a changing operation on the state with every due transition settled.
fn write(cx: &mut Call<'_>, input: &Input, op: WriteOp) -> Result<Value, AwsError> {
    let sb = cx.sandbox;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    sb.write::<Ec2State, _>(&account, &region, |st| {
        st.settle(now);
        op(cx, st, input)
    })
}
