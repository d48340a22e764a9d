//! DescribeInstances and DescribeInstanceStatus: the instances a request selects (by id, by
//! filter), in EC2's order, a page at a time.

use time::OffsetDateTime;

use super::filters::{filters, maybe, one, page_params, paginate, passes, tag_values, Page};
use super::{bool_param, check_instance_ids, id_list};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::{ids_with_max_results, instances_not_found};
use crate::services::ec2::state::{Ec2State, Instance, InstanceState};
use crate::services::ec2::views::{instance_status, reservations};
use crate::services::Call;

/// DescribeInstances' filters.
fn instance_filter_values(st: &Ec2State, i: &Instance, name: &str) -> Option<Vec<String>> {
    if let Some(v) = tag_values(&i.tags, name) {
        return Some(v);
    }
    let profile = st.association_of(&i.id);
    match name {
        "instance-id" => one(&i.id),
        "instance-state-name" => one(i.state.as_str()),
        "instance-state-code" => one(i.state.code().to_string()),
        "image-id" => one(&i.image_id),
        "instance-type" => one(&i.instance_type),
        "key-name" => maybe(i.key_name.clone()),
        "reservation-id" => one(&i.reservation_id),
        "owner-id" => one(&i.owner),
        "availability-zone" | "placement-availability-zone" => one(&i.availability_zone),
        "subnet-id" => one(&i.subnet_id),
        "vpc-id" => one(&i.vpc_id),
        "private-ip-address" => one(&i.private_ip),
        "ip-address" => maybe(i.public_ip.clone()),
        "architecture" => one("x86_64"),
        "root-device-type" => one("ebs"),
        "root-device-name" => one(&i.root_device_name),
        "iam-instance-profile.arn" => maybe(profile.map(|a| a.profile_arn.clone())),
        "iam-instance-profile.id" => maybe(profile.map(|a| a.profile_id.clone())),
        "block-device-mapping.volume-id" => Some(
            st.volumes
                .values()
                .filter(|v| v.attached_to(&i.id))
                .map(|v| v.id.clone())
                .collect(),
        ),
        "instance.group-id" | "group-id" => one(&i.security_group_id),
        "instance.group-name" | "group-name" => one("default"),
        _ => None,
    }
}

/// DescribeInstanceStatus' filters.
fn status_filter_values(i: &Instance, name: &str, now: OffsetDateTime) -> Option<Vec<String>> {
    let checks = i.checks_status(now);
    match name {
        "instance-state-name" => one(i.state.as_str()),
        "instance-state-code" => one(i.state.code().to_string()),
        "availability-zone" => one(&i.availability_zone),
        "instance-status.status" | "system-status.status" => one(checks),
        "instance-status.reachability" | "system-status.reachability" => one(match checks {
            "ok" => "passed",
            "initializing" => "initializing",
            _ => "insufficient-data",
        }),
        _ => None,
    }
}

/// A page key and the instance it sorts.
type Keyed<'s> = Vec<(String, &'s Instance)>;

/// The visible instances, keyed as EC2 lists them (launch time, reservation, launch index).
fn keyed_instances(st: &Ec2State, now: OffsetDateTime) -> Keyed<'_> {
    st.instances
        .values()
        .filter(|i| i.visible(now))
        .map(|i| {
            let ms = i.launch_time.unix_timestamp_nanos() / 1_000_000;
            (
                format!(
                    "{ms:016}/{}/{:04}/{}",
                    i.reservation_id, i.launch_index, i.id
                ),
                i,
            )
        })
        .collect()
}

/// Instances named in `InstanceId.N` (all must exist) or all visible ones that `keep` keeps,
/// then filtered with the operation's filter `values`.
fn selected_instances<'s>(
    st: &'s Ec2State,
    input: &Input,
    now: OffsetDateTime,
    keep: impl Fn(&Instance) -> bool,
    values: impl Fn(&Instance, &str) -> Option<Vec<String>>,
) -> Result<(Keyed<'s>, Page), AwsError> {
    let ids = id_list(input, "InstanceId")?;
    check_instance_ids(&ids)?;
    let page = page_params(input, 5, 1000)?;
    if !ids.is_empty() && page.max.is_some() {
        return Err(ids_with_max_results("instancesSet"));
    }
    let all = keyed_instances(st, now);
    let unknown: Vec<&String> = ids
        .iter()
        .filter(|id| !all.iter().any(|(_, i)| &i.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(instances_not_found(&unknown));
    }
    let fs = filters(input)?;
    let mut out = Vec::new();
    for (k, i) in all {
        if (!ids.is_empty() && !ids.contains(&i.id)) || !keep(i) {
            continue;
        }
        if passes(&fs, |n| values(i, n))? {
            out.push((k, i));
        }
    }
    Ok((out, page))
}

pub(crate) fn describe_instances(
    cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let (items, page) = selected_instances(
        st,
        input,
        cx.now,
        |_| true,
        |i, n| instance_filter_values(st, i, n),
    )?;
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("reservationSet", reservations(st, list, &cx.region))
        .with("nextToken", next))
}

pub(crate) fn describe_instance_status(
    cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let include_all = bool_param(input, "IncludeAllInstances")?.unwrap_or(false);
    let now = cx.now;
    let (items, page) = selected_instances(
        st,
        input,
        now,
        |i| include_all || i.state == InstanceState::Running,
        |i, n| status_filter_values(i, n, now),
    )?;
    let (list, next) = paginate(items, &page);
    let statuses = list
        .into_iter()
        .map(|i| instance_status(i, i.checks_status(now)))
        .collect();
    Ok(Value::obj()
        .with("instanceStatusSet", Value::List(statuses))
        .with("nextToken", next))
}
