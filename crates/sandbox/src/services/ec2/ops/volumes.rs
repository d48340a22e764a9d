//! EBS volumes: DescribeVolumes, CreateVolume (`creating` → `available`), AttachVolume and
//! DetachVolume (`available` ⇄ `in-use`), DeleteVolume.

use std::collections::BTreeMap;

use super::filters::{filters, maybe, one, page_params, paginate, passes, tag_values};
use super::tags::tag_specs;
use super::{bool_param, check_volume_id, dry_run, id_list, instance, int_param, note_instance};
use super::{note_volume, opt_str, req_str, valid_az, volume_id};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::{err, ids_with_max_results, missing, volume_not_found};
use crate::services::ec2::ids::new_id;
use crate::services::ec2::kms_keys::{default_ebs_key, resolve_kms_key};
use crate::services::ec2::state::{Attachment, AttachmentState, Ec2State, InstanceState, Volume};
use crate::services::ec2::views::{attachment_value, volume_value};
use crate::services::Call;

/// DescribeVolumes' filters.
fn volume_filter_values(v: &Volume, name: &str) -> Option<Vec<String>> {
    if let Some(t) = tag_values(&v.tags, name) {
        return Some(t);
    }
    let att = v.attachment.as_ref();
    match name {
        "volume-id" => one(&v.id),
        "status" => one(v.status().as_str()),
        "size" => one(v.size.to_string()),
        "volume-type" => one(&v.volume_type),
        "availability-zone" => one(&v.availability_zone),
        "encrypted" => one(v.encrypted.to_string()),
        "snapshot-id" => one(&v.snapshot_id),
        "multi-attach-enabled" => one("false"),
        "create-time" => one(crate::util::iso8601(v.create_time)),
        "attachment.instance-id" => maybe(att.map(|a| a.instance_id.clone())),
        "attachment.device" => maybe(att.map(|a| a.device.clone())),
        "attachment.status" => maybe(att.map(|a| a.state.as_str())),
        "attachment.attach-time" => maybe(att.map(|a| crate::util::iso8601(a.attach_time))),
        "attachment.delete-on-termination" => {
            maybe(att.map(|a| a.delete_on_termination.to_string()))
        }
        _ => None,
    }
}

pub(crate) fn describe_volumes(
    _cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let ids = id_list(input, "VolumeId")?;
    for id in &ids {
        check_volume_id(id)?;
    }
    if let Some(unknown) = ids.iter().find(|id| !st.volumes.contains_key(*id)) {
        return Err(volume_not_found(unknown));
    }
    let page = page_params(input, 5, 500)?;
    if !ids.is_empty() && page.max.is_some() {
        return Err(ids_with_max_results("volumeSet"));
    }
    let fs = filters(input)?;
    let mut items = Vec::new();
    for v in st.volumes.values() {
        if !ids.is_empty() && !ids.contains(&v.id) {
            continue;
        }
        if passes(&fs, |n| volume_filter_values(v, n))? {
            items.push((v.id.clone(), volume_value(v)));
        }
    }
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("volumeSet", Value::List(list))
        .with("nextToken", next))
}

/// Size limits (GiB) of each volume type.
fn volume_type_limits(t: &str) -> Option<(i64, i64)> {
    match t {
        "gp2" | "gp3" => Some((1, 16384)),
        "io1" | "io2" => Some((4, 16384)),
        "st1" | "sc1" => Some((125, 16384)),
        "standard" => Some((1, 1024)),
        _ => None,
    }
}

/// The IOPS of a volume: gp2's follow its size, gp3's have a floor, io1/io2 need them.
fn volume_iops(volume_type: &str, size: i64, iops: Option<i64>) -> Result<Option<i64>, AwsError> {
    Ok(match volume_type {
        "gp2" => {
            if iops.is_some() {
                return Err(err(
                    "InvalidParameterCombination",
                    "The parameter iops is not supported for gp2 volumes.",
                ));
            }
            Some((size * 3).clamp(100, 16000))
        }
        "gp3" => Some(iops.unwrap_or(3000).clamp(3000, 16000)),
        "io1" | "io2" => Some(iops.ok_or_else(|| missing("iops"))?.clamp(100, 64000)),
        _ => None,
    })
}

/// What CreateVolume asks for, validated.
struct NewVolume {
    az: String,
    volume_type: String,
    size: i64,
    iops: Option<i64>,
    throughput: Option<i64>,
    encrypted: bool,
    kms_key: Option<String>,
    tags: BTreeMap<String, String>,
    client_token: Option<String>,
}

fn volume_params(input: &Input, region: &str) -> Result<NewVolume, AwsError> {
    let az = opt_str(input, "AvailabilityZone")?.ok_or_else(|| missing("AvailabilityZone"))?;
    if !valid_az(&az, region) {
        return Err(err(
            "InvalidZone.NotFound",
            format!("The zone '{az}' does not exist."),
        ));
    }
    let volume_type = opt_str(input, "VolumeType")?.unwrap_or_else(|| "gp2".into());
    let (min, max) = volume_type_limits(&volume_type).ok_or_else(|| {
        err("InvalidParameterValue", format!("Value ({volume_type}) for parameter volumeType is invalid. Valid values: standard, io1, io2, gp2, sc1, st1, gp3"))
    })?;
    if opt_str(input, "SnapshotId")?.is_some() {
        return Err(err(
            "UnsupportedOperation",
            "The sandbox does not model snapshots: create volumes with a Size.",
        ));
    }
    let size = int_param(input, "Size")?.ok_or_else(|| missing("size/snapshot"))?;
    if size < min || size > max {
        return Err(err(
            "InvalidParameterValue",
            format!("Volume of {size}GiB is outside the range {min}-{max}GiB allowed for volume type '{volume_type}'."),
        ));
    }
    let iops = volume_iops(&volume_type, size, int_param(input, "Iops")?)?;
    let throughput = match volume_type.as_str() {
        "gp3" => Some(
            int_param(input, "Throughput")?
                .unwrap_or(125)
                .clamp(125, 1000),
        ),
        _ => None,
    };
    let encrypted = bool_param(input, "Encrypted")?.unwrap_or(false);
    let kms_key = opt_str(input, "KmsKeyId")?;
    if kms_key.is_some() && !encrypted {
        return Err(err(
            "InvalidParameterDependency",
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        ));
    }
    let tags = tag_specs(input, &["volume"])?
        .remove("volume")
        .unwrap_or_default();
    Ok(NewVolume {
        az,
        volume_type,
        size,
        iops,
        throughput,
        encrypted,
        kms_key,
        tags,
        client_token: opt_str(input, "ClientToken")?,
    })
}

pub(crate) fn create_volume(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let sb = cx.sandbox;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let p = volume_params(input, &region)?;
    dry_run(input)?;
    // A repeated ClientToken answers with the volume it made (EC2's idempotency).
    if let Some(token) = &p.client_token {
        let earlier = sb.read::<Ec2State, _>(&account, &region, |st| {
            st.volumes
                .values()
                .find(|v| v.client_token.as_ref() == Some(token))
                .map(volume_value)
        });
        if let Some(v) = earlier {
            return Ok(v);
        }
    }
    // EC2 checks the key asynchronously: a key that cannot be used fails the creation later.
    let (kms_key_id, creation_fails) = match (&p.kms_key, p.encrypted) {
        (Some(k), _) => match resolve_kms_key(sb, &account, &region, k, now) {
            Some(arn) => (Some(arn), false),
            None => (Some(k.clone()), true),
        },
        (None, true) => (Some(default_ebs_key(sb, &account, &region, now)?), false),
        (None, false) => (None, false),
    };
    let delay = cx.lifecycle_delay(2.0, 8.0);
    let v = Volume {
        id: new_id("vol"),
        size: p.size,
        volume_type: p.volume_type,
        iops: p.iops,
        throughput: p.throughput,
        availability_zone: p.az,
        encrypted: p.encrypted,
        kms_key_id,
        snapshot_id: String::new(),
        create_time: now,
        ready_at: Some(now + delay),
        creation_fails,
        tags: p.tags,
        attachment: None,
        client_token: p.client_token.clone(),
    };
    let out = volume_value(&v);
    let id = v.id.clone();
    sb.write::<Ec2State, _>(&account, &region, |st| {
        st.settle(now);
        st.volumes.insert(v.id.clone(), v);
        Ok(())
    })?;
    note_volume(cx, &id);
    Ok(out)
}

fn valid_device(d: &str) -> bool {
    let tail = d
        .strip_prefix("/dev/sd")
        .or_else(|| d.strip_prefix("/dev/xvd"));
    match tail {
        Some(t) => {
            let b = t.as_bytes();
            (b.len() == 1 && b[0].is_ascii_lowercase())
                || (b.len() == 2
                    && b[0].is_ascii_lowercase()
                    && (b[1].is_ascii_lowercase() || b[1].is_ascii_digit()))
        }
        None => false,
    }
}

/// `/dev/sdf` and `/dev/xvdf` name the same attachment point.
fn same_device(a: &str, b: &str) -> bool {
    let norm = |d: &str| {
        d.strip_prefix("/dev/sd")
            .or_else(|| d.strip_prefix("/dev/xvd"))
            .map(str::to_string)
    };
    norm(a).is_some() && norm(a) == norm(b)
}

/// Why the volume `vol` cannot be attached to the instance `instance_id` in `az` as `device`.
fn attach_refusal(
    st: &Ec2State,
    vol: &str,
    instance_id: &str,
    az: &str,
    device: &str,
) -> Result<(), AwsError> {
    let v = st.volumes.get(vol).ok_or_else(|| volume_not_found(vol))?;
    if v.attachment.is_some() {
        return Err(err(
            "VolumeInUse",
            format!("{vol} is already attached to an instance"),
        ));
    }
    if v.ready_at.is_some() {
        return Err(err(
            "IncorrectState",
            format!("The volume '{vol}' is not 'available'."),
        ));
    }
    if v.availability_zone != az {
        return Err(err(
            "InvalidVolume.ZoneMismatch",
            format!("The volume '{vol}' is not in the same availability zone as instance '{instance_id}'"),
        ));
    }
    let taken = st.volumes.values().any(|o| {
        o.attachment.as_ref().is_some_and(|a| {
            a.instance_id == instance_id && (a.device == device || same_device(&a.device, device))
        })
    });
    if taken {
        return Err(err(
            "InvalidParameterValue",
            format!("Attachment point {device} is already in use"),
        ));
    }
    Ok(())
}

pub(crate) fn attach_volume(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let device = req_str(input, "Device")?;
    let instance_id = req_str(input, "InstanceId")?;
    let vol = volume_id(input)?;
    if !valid_device(&device) {
        return Err(err("InvalidParameterValue", format!("Value ({device}) for parameter device is invalid. {device} is not a valid EBS device name.")));
    }
    let i = instance(st, &instance_id, now)?;
    if i.state.ending() {
        return Err(err(
            "IncorrectState",
            format!("Instance '{instance_id}' is not 'running'."),
        ));
    }
    attach_refusal(st, &vol, &instance_id, &i.availability_zone, &device)?;
    dry_run(input)?;
    let delay = cx.lifecycle_delay(2.0, 6.0);
    let a = Attachment {
        instance_id: instance_id.clone(),
        device,
        attach_time: now,
        delete_on_termination: false,
        state: AttachmentState::Attaching,
        until: Some(now + delay),
    };
    let out = attachment_value(&vol, &a, AttachmentState::Attaching);
    if let Some(v) = st.volumes.get_mut(&vol) {
        v.attachment = Some(a);
    }
    note_instance(cx, &instance_id);
    note_volume(cx, &vol);
    Ok(out)
}

pub(crate) fn detach_volume(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let vol = volume_id(input)?;
    let want_instance = opt_str(input, "InstanceId")?;
    let want_device = opt_str(input, "Device")?;
    let v = st.volumes.get(&vol).ok_or_else(|| volume_not_found(&vol))?;
    let Some(a) = v.attachment.clone() else {
        return Err(err(
            "IncorrectState",
            format!("Volume '{vol}' is in the '{}' state.", v.status()),
        ));
    };
    if want_instance.as_ref().is_some_and(|i| *i != a.instance_id)
        || want_device.as_ref().is_some_and(|d| *d != a.device)
    {
        return Err(err(
            "InvalidAttachment.NotFound",
            format!(
                "The volume {vol} is not attached to instance {} as device {}",
                want_instance.as_deref().unwrap_or(&a.instance_id),
                want_device.as_deref().unwrap_or(&a.device)
            ),
        ));
    }
    let root = st
        .instances
        .get(&a.instance_id)
        .is_some_and(|i| i.root_device_name == a.device && i.state != InstanceState::Stopped);
    if root && bool_param(input, "Force")? != Some(true) {
        return Err(err(
            "OperationNotPermitted",
            format!(
                "Unable to detach root volume '{vol}' from instance '{}'",
                a.instance_id
            ),
        ));
    }
    dry_run(input)?;
    let delay = cx.lifecycle_delay(2.0, 6.0);
    if let Some(att) = st.volumes.get_mut(&vol).and_then(|v| v.attachment.as_mut()) {
        if att.state != AttachmentState::Detaching {
            att.state = AttachmentState::Detaching;
            att.until = Some(now + delay);
        }
    }
    note_instance(cx, &a.instance_id);
    note_volume(cx, &vol);
    Ok(attachment_value(&vol, &a, AttachmentState::Detaching))
}

pub(crate) fn delete_volume(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let vol = volume_id(input)?;
    let v = st.volumes.get(&vol).ok_or_else(|| volume_not_found(&vol))?;
    if let Some(a) = &v.attachment {
        return Err(err(
            "VolumeInUse",
            format!("Volume {vol} is currently attached to {}", a.instance_id),
        ));
    }
    dry_run(input)?;
    st.volumes.remove(&vol);
    note_volume(cx, &vol);
    Ok(Value::obj().with("return", true))
}
