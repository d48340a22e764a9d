//! DescribeInstanceAttribute and ModifyInstanceAttribute. The sandbox models three attributes
//! as changeable (`disableApiTermination`, `instanceType`,
//! `instanceInitiatedShutdownBehavior`); the others read as a default instance's.

use super::{dry_run, instance, note_instance, opt_str, req_str, valid_instance_type};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::{
    cannot_be, err, invalid_instance_type, invalid_value, missing, unknown_attribute,
    unmodelled_attribute,
};
use crate::services::ec2::state::{Ec2State, InstanceState};
use crate::services::ec2::views::{block_devices, group_set};
use crate::services::Call;

pub(crate) fn describe(cx: &mut Call<'_>, st: &Ec2State, input: &Input) -> Result<Value, AwsError> {
    let id = req_str(input, "InstanceId")?;
    let attribute = req_str(input, "Attribute")?;
    let i = instance(st, &id, cx.now)?;
    let boolean = |b: bool| Value::obj().with("value", b);
    let string = |s: &str| Value::obj().with("value", s);
    let out = Value::obj().with("instanceId", id.clone());
    Ok(match attribute.as_str() {
        "instanceType" => out.with("instanceType", string(&i.instance_type)),
        "disableApiTermination" => {
            out.with("disableApiTermination", boolean(i.disable_api_termination))
        }
        "disableApiStop" => out.with("disableApiStop", boolean(false)),
        "instanceInitiatedShutdownBehavior" => out.with(
            "instanceInitiatedShutdownBehavior",
            string(&i.shutdown_behavior),
        ),
        "rootDeviceName" => out.with("rootDeviceName", string(&i.root_device_name)),
        "blockDeviceMapping" => {
            out.with("blockDeviceMapping", Value::List(block_devices(st, &i.id)))
        }
        "sourceDestCheck" => out.with("sourceDestCheck", boolean(true)),
        "ebsOptimized" => out.with("ebsOptimized", boolean(false)),
        "enaSupport" => out.with("enaSupport", boolean(true)),
        "groupSet" => out.with("groupSet", group_set(i)),
        "productCodes" => out.with("productCodes", Value::List(Vec::new())),
        "userData" | "kernel" | "ramdisk" | "sriovNetSupport" => out.with(&attribute, Value::obj()),
        "enclaveOptions" => out.with("enclaveOptions", Value::obj().with("enabled", false)),
        other => return Err(unknown_attribute(other)),
    })
}

/// The one change a ModifyInstanceAttribute request asks for: either `Attribute` + `Value`, or
/// one `<Attribute>.Value` structure; as (attribute name, value).
fn requested_change(input: &Input) -> Result<(String, String), AwsError> {
    let mut changes: Vec<(String, String)> = Vec::new();
    if let Some(attribute) = opt_str(input, "Attribute")? {
        let value = opt_str(input, "Value")?.ok_or_else(|| missing("Value"))?;
        changes.push((attribute, value));
    }
    for name in [
        "DisableApiTermination",
        "InstanceType",
        "InstanceInitiatedShutdownBehavior",
        "SourceDestCheck",
        "EbsOptimized",
        "DisableApiStop",
        "EnaSupport",
    ] {
        if let Some(c) = input.child(name) {
            let value = opt_str(&c, "Value")?.ok_or_else(|| missing(&format!("{name}.Value")))?;
            let mut attr = name.to_string();
            if let Some(first) = attr.get_mut(0..1) {
                first.make_ascii_lowercase();
            }
            changes.push((attr, value));
        }
    }
    match changes.len() {
        0 => Err(missing("Attribute")),
        1 => Ok(changes.swap_remove(0)),
        _ => Err(err(
            "InvalidParameterCombination",
            "Fields for multiple attribute types specified",
        )),
    }
}

pub(crate) fn modify(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let id = req_str(input, "InstanceId")?;
    let state = instance(st, &id, cx.now)?.state;
    let (attribute, value) = requested_change(input)?;
    let parse_bool = |v: &str| match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_value(&attribute, v)),
    };
    if state.ending() {
        return Err(cannot_be(&id, "modified"));
    }
    let Some(i) = st.instances.get_mut(&id) else {
        return Err(cannot_be(&id, "modified"));
    };
    match attribute.as_str() {
        "disableApiTermination" => {
            let b = parse_bool(&value)?;
            dry_run(input)?;
            i.disable_api_termination = b;
        }
        "instanceType" => {
            if !valid_instance_type(&value) {
                return Err(invalid_instance_type(&value));
            }
            if state != InstanceState::Stopped {
                return Err(err(
                    "IncorrectInstanceState",
                    format!("The instance '{id}' is not in the 'stopped' state."),
                ));
            }
            dry_run(input)?;
            i.instance_type = value;
        }
        "instanceInitiatedShutdownBehavior" => {
            if value != "stop" && value != "terminate" {
                return Err(invalid_value("instanceInitiatedShutdownBehavior", &value));
            }
            dry_run(input)?;
            i.shutdown_behavior = value;
        }
        "sourceDestCheck" | "ebsOptimized" | "disableApiStop" | "enaSupport" => {
            parse_bool(&value)?;
            return Err(unmodelled_attribute(&attribute));
        }
        "kernel" | "ramdisk" | "userData" | "rootDeviceName" | "blockDeviceMapping"
        | "productCodes" | "groupSet" | "sriovNetSupport" => {
            return Err(unmodelled_attribute(&attribute))
        }
        other => return Err(unknown_attribute(other)),
    }
    note_instance(cx, &id);
    Ok(Value::obj().with("return", true))
}
