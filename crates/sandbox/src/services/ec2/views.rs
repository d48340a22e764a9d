//! EC2's wire shapes: state → protocol [`Value`], with the member names (`locationName`s of
//! botocore's EC2 model) and member order EC2 answers with.

use std::collections::BTreeMap;

use super::state::{
    Association, Attachment, AttachmentState, Ec2State, Instance, InstanceState, Volume,
};
use crate::protocol::Value;

pub(crate) fn state_value(state: InstanceState) -> Value {
    Value::obj()
        .with("code", state.code())
        .with("name", state.as_str())
}

pub(crate) fn state_change(id: &str, previous: InstanceState, current: InstanceState) -> Value {
    Value::obj()
        .with("instanceId", id)
        .with("currentState", state_value(current))
        .with("previousState", state_value(previous))
}

fn tag_set(tags: &BTreeMap<String, String>) -> Value {
    Value::List(
        tags.iter()
            .map(|(k, v)| Value::obj().with("key", k).with("value", v))
            .collect(),
    )
}

fn with_tags(v: Value, tags: &BTreeMap<String, String>) -> Value {
    if tags.is_empty() {
        v
    } else {
        v.with("tagSet", tag_set(tags))
    }
}

fn profile_value(a: &Association) -> Value {
    Value::obj()
        .with("arn", a.profile_arn.clone())
        .with("id", a.profile_id.clone())
}

pub(crate) fn association_value(a: &Association) -> Value {
    Value::obj()
        .with("associationId", a.id.clone())
        .with("instanceId", a.instance_id.clone())
        .with("iamInstanceProfile", profile_value(a))
        .with("state", a.state.as_str())
        .with("timestamp", a.timestamp)
}

/// The instance's security groups (the default one).
pub(crate) fn group_set(i: &Instance) -> Value {
    Value::List(vec![Value::obj()
        .with("groupId", i.security_group_id.clone())
        .with("groupName", "default")])
}

fn dns_suffix(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".into()
    } else {
        format!("{region}.compute.internal")
    }
}

fn public_dns(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

/// The volumes attached to an instance, by device name.
pub(crate) fn block_devices(st: &Ec2State, instance_id: &str) -> Vec<Value> {
    let mut vols: Vec<(&String, &Volume, &Attachment)> = st
        .volumes
        .values()
        .filter_map(|v| {
            v.attachment
                .as_ref()
                .filter(|a| a.instance_id == instance_id)
                .map(|a| (&a.device, v, a))
        })
        .collect();
    vols.sort_by(|a, b| a.0.cmp(b.0));
    vols.into_iter()
        .map(|(device, v, a)| {
            Value::obj().with("deviceName", device).with(
                "ebs",
                Value::obj()
                    .with("volumeId", v.id.clone())
                    .with("status", a.state.as_str())
                    .with("attachTime", a.attach_time)
                    .with("deleteOnTermination", a.delete_on_termination),
            )
        })
        .collect()
}

/// An instance as DescribeInstances and RunInstances list it.
pub(crate) fn instance_value(st: &Ec2State, i: &Instance, region: &str) -> Value {
    let live = i.state != InstanceState::Terminated;
    let private_dns = if live {
        format!(
            "ip-{}.{}",
            i.private_ip.replace('.', "-"),
            dns_suffix(region)
        )
    } else {
        String::new()
    };
    let v = Value::obj()
        .with("instanceId", i.id.clone())
        .with("imageId", i.image_id.clone())
        .with("instanceState", state_value(i.state))
        .with("privateDnsName", private_dns)
        .with(
            "dnsName",
            i.public_ip
                .as_deref()
                .map(|ip| public_dns(ip, region))
                .unwrap_or_default(),
        )
        .with("reason", i.transition_reason.clone())
        .with("keyName", i.key_name.clone())
        .with("amiLaunchIndex", i.launch_index)
        .with("productCodes", Value::List(Vec::new()))
        .with("instanceType", i.instance_type.clone())
        .with("launchTime", i.launch_time)
        .with(
            "placement",
            Value::obj()
                .with("availabilityZone", i.availability_zone.clone())
                .with("groupName", "")
                .with("tenancy", "default"),
        )
        .with("monitoring", Value::obj().with("state", "disabled"));
    let v = with_network(v, i, live);
    let v = with_devices(v, st, i);
    let v = with_tags(v, &i.tags).with("hypervisor", "xen");
    let v = match st.association_of(&i.id) {
        Some(a) => v.with("iamInstanceProfile", profile_value(a)),
        None => v,
    };
    with_options(v, i)
}

/// Network members: a terminated instance has left its subnet and groups.
fn with_network(v: Value, i: &Instance, live: bool) -> Value {
    let v = if live {
        v.with("subnetId", i.subnet_id.clone())
            .with("vpcId", i.vpc_id.clone())
            .with("privateIpAddress", i.private_ip.clone())
            .with("ipAddress", i.public_ip.clone())
            .with("sourceDestCheck", true)
            .with("groupSet", group_set(i))
    } else {
        v.with("groupSet", Value::List(Vec::new()))
    };
    match &i.state_reason {
        Some((code, message)) => v.with(
            "stateReason",
            Value::obj()
                .with("code", code.clone())
                .with("message", message.clone()),
        ),
        None => v,
    }
}

fn with_devices(v: Value, st: &Ec2State, i: &Instance) -> Value {
    v.with("architecture", "x86_64")
        .with("rootDeviceType", "ebs")
        .with("rootDeviceName", i.root_device_name.clone())
        .with("blockDeviceMapping", Value::List(block_devices(st, &i.id)))
        .with("virtualizationType", "hvm")
        .with("clientToken", i.client_token.clone().unwrap_or_default())
}

/// The fixed options every sandbox instance has.
fn with_options(v: Value, i: &Instance) -> Value {
    v.with("ebsOptimized", false)
        .with("enaSupport", true)
        .with(
            "cpuOptions",
            Value::obj()
                .with("coreCount", 1i64)
                .with("threadsPerCore", 1i64),
        )
        .with("hibernationOptions", Value::obj().with("configured", false))
        .with(
            "metadataOptions",
            Value::obj()
                .with("state", "applied")
                .with("httpTokens", "required")
                .with("httpPutResponseHopLimit", 2i64)
                .with("httpEndpoint", "enabled")
                .with("httpProtocolIpv6", "disabled")
                .with("instanceMetadataTags", "disabled"),
        )
        .with("enclaveOptions", Value::obj().with("enabled", false))
        .with("platformDetails", "Linux/UNIX")
        .with("usageOperation", "RunInstances")
        .with("usageOperationUpdateTime", i.launch_time)
        .with(
            "maintenanceOptions",
            Value::obj().with("autoRecovery", "default"),
        )
        .with("currentInstanceBootMode", "legacy-bios")
}

/// A reservation as RunInstances answers it and DescribeInstances lists it.
pub(crate) fn reservation(id: String, owner: String, instances: Vec<Value>) -> Value {
    Value::obj()
        .with("reservationId", id)
        .with("ownerId", owner)
        .with("groupSet", Value::List(Vec::new()))
        .with("instancesSet", Value::List(instances))
}

pub(crate) fn reservations(st: &Ec2State, instances: Vec<&Instance>, region: &str) -> Value {
    // Consecutive instances of one reservation form one item, as EC2 groups them.
    let mut out: Vec<(String, String, Vec<Value>)> = Vec::new();
    for i in instances {
        let value = instance_value(st, i, region);
        match out.last_mut() {
            Some((rid, _, list)) if *rid == i.reservation_id => list.push(value),
            _ => out.push((i.reservation_id.clone(), i.owner.clone(), vec![value])),
        }
    }
    Value::List(
        out.into_iter()
            .map(|(rid, owner, list)| reservation(rid, owner, list))
            .collect(),
    )
}

/// An attachment as AttachVolume and DetachVolume answer it, in `status`.
pub(crate) fn attachment_value(volume_id: &str, a: &Attachment, status: AttachmentState) -> Value {
    Value::obj()
        .with("volumeId", volume_id)
        .with("instanceId", a.instance_id.clone())
        .with("device", a.device.clone())
        .with("status", status.as_str())
        .with("attachTime", a.attach_time)
}

pub(crate) fn volume_value(v: &Volume) -> Value {
    let attachments: Vec<Value> = v
        .attachment
        .iter()
        .map(|a| {
            attachment_value(&v.id, a, a.state).with("deleteOnTermination", a.delete_on_termination)
        })
        .collect();
    let out = Value::obj()
        .with("volumeId", v.id.clone())
        .with("size", v.size)
        .with("snapshotId", v.snapshot_id.clone())
        .with("availabilityZone", v.availability_zone.clone())
        .with("status", v.status().as_str())
        .with("createTime", v.create_time)
        .with("attachmentSet", Value::List(attachments))
        .with("volumeType", v.volume_type.clone())
        .with("iops", v.iops)
        .with("encrypted", v.encrypted)
        .with("kmsKeyId", v.kms_key_id.clone());
    with_tags(out, &v.tags)
        .with("multiAttachEnabled", false)
        .with("throughput", v.throughput)
}

/// An instance's status (DescribeInstanceStatus), `checks` being its status checks' state.
pub(crate) fn instance_status(i: &Instance, checks: &str) -> Value {
    let summary = |status: &str| {
        if status == "not-applicable" {
            return Value::obj().with("status", status.to_string());
        }
        let detail = if status == "ok" {
            "passed"
        } else {
            "initializing"
        };
        Value::obj()
            .with(
                "details",
                Value::List(vec![Value::obj()
                    .with("name", "reachability")
                    .with("status", detail)]),
            )
            .with("status", status.to_string())
    };
    Value::obj()
        .with("availabilityZone", i.availability_zone.clone())
        .with("instanceId", i.id.clone())
        .with("instanceState", state_value(i.state))
        .with("instanceStatus", summary(checks))
        .with("systemStatus", summary(checks))
}
