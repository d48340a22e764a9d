//! One function per EC2 operation, grouped by resource, and what the groups share: reading
//! parameters as EC2 reads them, looking up the instances and volumes a request names, and
//! noting the resources a call touched for CloudTrail.

pub(crate) mod associations;
pub(crate) mod attributes;
pub(crate) mod describe;
pub(crate) mod filters;
pub(crate) mod instance_types;
pub(crate) mod instances;
pub(crate) mod tags;
pub(crate) mod volumes;

use time::OffsetDateTime;

use super::errors::{
    dry_run_ok, instances_not_found, malformed, missing, not_boolean, not_integer,
};
use super::ids::well_formed;
use super::state::{Ec2State, Instance};
use crate::protocol::{AwsError, Input};
use crate::services::{Call, TrailResource};

/// A string parameter; empty counts as absent.
pub(crate) fn opt_str(input: &Input, name: &str) -> Result<Option<String>, AwsError> {
    Ok(input.str(name)?.filter(|s| !s.is_empty()))
}

pub(crate) fn req_str(input: &Input, name: &str) -> Result<String, AwsError> {
    opt_str(input, name)?.ok_or_else(|| missing(name))
}

pub(crate) fn int_param(input: &Input, name: &str) -> Result<Option<i64>, AwsError> {
    match opt_str(input, name)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| not_integer(name, &s)),
    }
}

pub(crate) fn bool_param(input: &Input, name: &str) -> Result<Option<bool>, AwsError> {
    match opt_str(input, name)? {
        None => Ok(None),
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(not_boolean(name, &s)),
        },
    }
}

/// `DryRun`: called where the operation has checked everything and would act.
pub(crate) fn dry_run(input: &Input) -> Result<(), AwsError> {
    if bool_param(input, "DryRun")? == Some(true) {
        return Err(dry_run_ok());
    }
    Ok(())
}

/// The non-empty members of the list `name` (`InstanceId.N`, `VolumeId.N`, …).
pub(crate) fn id_list(input: &Input, name: &str) -> Result<Vec<String>, AwsError> {
    Ok(input
        .str_list(name)?
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect())
}

pub(crate) fn check_instance_ids(ids: &[String]) -> Result<(), AwsError> {
    match ids.iter().find(|id| !well_formed(id, "i")) {
        Some(bad) => Err(malformed("InvalidInstanceID.Malformed", bad, "i")),
        None => Ok(()),
    }
}

/// The instance ids of a request (`InstanceId.N`), checked: at least one, well formed.
pub(crate) fn instance_ids(input: &Input) -> Result<Vec<String>, AwsError> {
    let ids = id_list(input, "InstanceId")?;
    if ids.is_empty() {
        return Err(missing("InstanceId"));
    }
    check_instance_ids(&ids)?;
    Ok(ids)
}

/// A visible instance by id.
pub(crate) fn instance<'s>(
    st: &'s Ec2State,
    id: &str,
    now: OffsetDateTime,
) -> Result<&'s Instance, AwsError> {
    if !well_formed(id, "i") {
        return Err(malformed("InvalidInstanceID.Malformed", id, "i"));
    }
    st.instances
        .get(id)
        .filter(|i| i.visible(now))
        .ok_or_else(|| instances_not_found(&[&id.to_string()]))
}

/// `VolumeId`, required and well formed.
pub(crate) fn volume_id(input: &Input) -> Result<String, AwsError> {
    let id = req_str(input, "VolumeId")?;
    check_volume_id(&id)?;
    Ok(id)
}

pub(crate) fn check_volume_id(id: &str) -> Result<(), AwsError> {
    if !well_formed(id, "vol") {
        return Err(malformed("InvalidVolumeID.Malformed", id, "vol"));
    }
    Ok(())
}

/// An instance type as EC2 spells them (`t3.micro`, `m5d.2xlarge`).
pub(crate) fn valid_instance_type(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return false;
    };
    !family.is_empty()
        && !size.is_empty()
        && t.len() <= 32
        && family
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && size
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// One of the region's availability zones (`a` to `f`).
pub(crate) fn valid_az(az: &str, region: &str) -> bool {
    az.strip_prefix(region)
        .is_some_and(|s| s.len() == 1 && matches!(s.as_bytes()[0], b'a'..=b'f'))
}

pub(crate) fn note_instance(cx: &mut Call<'_>, id: &str) {
    cx.resources.push(TrailResource {
        arn: id.to_string(),
        resource_type: "AWS::EC2::Instance".into(),
    });
}

pub(crate) fn note_volume(cx: &mut Call<'_>, id: &str) {
    cx.resources.push(TrailResource {
        arn: id.to_string(),
        resource_type: "AWS::EC2::Volume".into(),
    });
}

/// An instance or a volume, by the prefix of its id.
pub(crate) fn note_resource(cx: &mut Call<'_>, id: &str) {
    if id.starts_with("i-") {
        note_instance(cx, id);
    } else {
        note_volume(cx, id);
    }
}
