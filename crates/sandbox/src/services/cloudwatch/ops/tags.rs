//! Tags of alarms: TagResource, UntagResource, ListTagsForResource.

use super::alarm_resource;
use super::parse_tags;
use crate::common::tags;
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudwatch::errors::{alarm_not_found, invalid_value, missing_param, q};
use crate::services::cloudwatch::state::{Alarm, CloudWatchState};
use crate::services::Call;

/// The alarm name in an alarm ARN of this account and region.
fn alarm_from_arn(arn: &str, account: &str, region: &str) -> Result<String, AwsError> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "cloudwatch", r, a, "alarm", name] if !name.is_empty() => {
            if *r != region || *a != account {
                return Err(alarm_not_found(name));
            }
            Ok(name.to_string())
        }
        _ => Err(invalid_value(format!("Invalid ARN: {arn}"))),
    }
}

/// The alarm `ResourceARN` names (listed among the call's resources).
fn alarm_named(cx: &mut Call<'_>, input: &Input) -> Result<String, AwsError> {
    let arn = q(input.req_str("ResourceARN"))?;
    let name = alarm_from_arn(&arn, cx.account(), &cx.region)?;
    cx.resources.push(alarm_resource(arn));
    Ok(name)
}

fn find_mut<'a>(st: &'a mut CloudWatchState, name: &str) -> Result<&'a mut Alarm, AwsError> {
    st.alarms.get_mut(name).ok_or_else(|| alarm_not_found(name))
}

pub(crate) fn list_tags_for_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = alarm_named(cx, input)?;
    cx.sandbox
        .read::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            let a = st.alarms.get(&name).ok_or_else(|| alarm_not_found(&name))?;
            Ok(tags::answer(&a.tags))
        })
}

pub(crate) fn tag_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = alarm_named(cx, input)?;
    if !input.has("Tags") {
        return Err(missing_param("Tags"));
    }
    let tags = parse_tags(input)?;
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            let a = find_mut(st, &name)?;
            let mut merged = a.tags.clone();
            merged.extend(tags);
            if merged.len() > 50 {
                return Err(invalid_value("An alarm can have at most 50 tags."));
            }
            a.tags = merged;
            Ok(Value::obj())
        })
}

pub(crate) fn untag_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = alarm_named(cx, input)?;
    if !input.has("TagKeys") {
        return Err(missing_param("TagKeys"));
    }
    let keys = q(input.str_list("TagKeys"))?;
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            let a = find_mut(st, &name)?;
            for k in &keys {
                a.tags.remove(k);
            }
            Ok(Value::obj())
        })
}
