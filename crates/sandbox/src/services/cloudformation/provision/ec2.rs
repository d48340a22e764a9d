//! `AWS::EC2::Instance`: RunInstances with CloudFormation's tags; deleting terminates the
//! instance and waits (`Deleted::Waiting`) until it is gone.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{failed, items, member, prop_str, required, tag_params, text, Deleted, Env, Failed};
use crate::protocol::Value;
use crate::services::cloudformation::template::Made;

pub(super) fn create_instance(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    required(logical_id, props, &["ImageId"])?;
    let mut p = vec![
        (
            "ImageId".to_string(),
            prop_str(props, "ImageId").unwrap_or_default(),
        ),
        ("MinCount".to_string(), "1".to_string()),
        ("MaxCount".to_string(), "1".to_string()),
    ];
    for m in ["InstanceType", "KeyName", "SubnetId"] {
        if let Some(v) = prop_str(props, m) {
            p.push((m.to_string(), v));
        }
    }
    if let Some(profile) = prop_str(props, "IamInstanceProfile") {
        let key = if profile.starts_with("arn:") {
            "IamInstanceProfile.Arn"
        } else {
            "IamInstanceProfile.Name"
        };
        p.push((key.to_string(), profile));
    }
    // EC2 refuses `aws:` keys from callers; CloudFormation's own tags are added as AWS adds
    // them, from the inside, once the instance exists.
    let (system, tags): (Vec<_>, Vec<_>) = env
        .tags(logical_id, props.get("Tags").unwrap_or(&J::Null))
        .into_iter()
        .partition(|(k, _)| k.starts_with("aws:"));
    if !tags.is_empty() {
        p.push(("TagSpecification.1.ResourceType".into(), "instance".into()));
        p.extend(tag_params("TagSpecification.1.Tag", &tags));
    }
    let out = env.query("ec2", "RunInstances", p).map_err(failed(None))?;
    let inst = items(member(&out, "instancesSet"))
        .first()
        .cloned()
        .unwrap_or(Value::Null);
    let id = text(member(&inst, "instanceId")).unwrap_or_default();
    crate::services::ec2::add_instance_tags(
        env.sb,
        (&env.caller.account, &env.region),
        &id,
        system,
    )
    .map_err(|e| Failed {
        physical_id: Some(id.clone()),
        reason: e.message,
    })?;

    let mut attrs = BTreeMap::new();
    for (attr, m) in [
        ("PrivateIp", "privateIpAddress"),
        ("PrivateDnsName", "privateDnsName"),
        ("PublicIp", "ipAddress"),
        ("PublicDnsName", "dnsName"),
    ] {
        if let Some(v) = text(member(&inst, m)) {
            attrs.insert(attr.to_string(), v);
        }
    }
    if let Some(az) = text(member(&inst, "placement").and_then(|p| member(p, "availabilityZone"))) {
        attrs.insert("AvailabilityZone".into(), az);
    }
    Ok(Made {
        physical_id: id,
        attrs,
    })
}

/// The state of the instance a DescribeInstances answer shows (`None`: it shows none).
fn instance_state(out: &Value) -> Option<String> {
    items(member(out, "reservationSet"))
        .iter()
        .flat_map(|r| items(member(r, "instancesSet")).iter())
        .find_map(|i| text(member(i, "instanceState").and_then(|s| member(s, "name"))))
}

pub(super) fn delete_instance(env: &Env<'_>, physical_id: &str) -> Result<Deleted, String> {
    let id = vec![("InstanceId.1".to_string(), physical_id.to_string())];
    let not_found = &["InvalidInstanceID.NotFound"];
    let out = match env.query("ec2", "DescribeInstances", id.clone()) {
        Ok(v) => v,
        Err(e) if e.gone(&["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"]) => {
            return Ok(Deleted::Done)
        }
        Err(e) => return Err(e.reason()),
    };
    match instance_state(&out).as_deref() {
        None | Some("terminated") => return Ok(Deleted::Done),
        Some("shutting-down") => return Ok(Deleted::Waiting),
        Some(_) => {}
    }
    match env.query("ec2", "TerminateInstances", id.clone()) {
        Ok(_) => {}
        Err(e) if e.gone(not_found) => return Ok(Deleted::Done),
        Err(e) => return Err(e.reason()),
    }
    // A termination that takes no time (the instant latency profile) is over already.
    match env.query("ec2", "DescribeInstances", id) {
        Ok(out) => match instance_state(&out).as_deref() {
            None | Some("terminated") => Ok(Deleted::Done),
            Some(_) => Ok(Deleted::Waiting),
        },
        Err(e) if e.gone(not_found) => Ok(Deleted::Done),
        Err(e) => Err(e.reason()),
    }
}
