//! Tags of rules: TagResource, UntagResource, ListTagsForResource.

use crate::common::tags;
use crate::protocol::{AwsError, Input, Value};
use crate::services::events::errors::resource_not_found;
use crate::services::events::state::{EventsState, Rule};
use crate::services::Call;

/// The rule `ResourceARN` names (by its name, the part after the last `/`, and its ARN).
fn rule_named(input: &Input) -> Result<(String, String), AwsError> {
    let arn = input.req_str("ResourceARN")?;
    let name = arn.rsplit('/').next().unwrap_or_default().to_string();
    Ok((arn, name))
}

fn find_mut<'a>(st: &'a mut EventsState, arn: &str, name: &str) -> Result<&'a mut Rule, AwsError> {
    st.rules
        .get_mut(name)
        .filter(|r| r.arn == arn)
        .ok_or_else(|| resource_not_found(arn))
}

pub(crate) fn list_tags_for_resource(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (arn, name) = rule_named(input)?;
    cx.sandbox
        .read::<EventsState, _>(cx.account(), &cx.region, |st| {
            let r = st
                .rules
                .get(&name)
                .filter(|r| r.arn == arn)
                .ok_or_else(|| resource_not_found(&arn))?;
            Ok(tags::answer(&r.tags))
        })
}

pub(crate) fn tag_resource(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (arn, name) = rule_named(input)?;
    let tags = tags::read(input)?;
    cx.sandbox
        .write::<EventsState, _>(cx.account(), &cx.region, |st| {
            find_mut(st, &arn, &name)?.tags.extend(tags);
            Ok(Value::Null)
        })
}

pub(crate) fn untag_resource(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (arn, name) = rule_named(input)?;
    let keys = input.str_list("TagKeys")?;
    cx.sandbox
        .write::<EventsState, _>(cx.account(), &cx.region, |st| {
            let r = find_mut(st, &arn, &name)?;
            for k in &keys {
                r.tags.remove(k);
            }
            Ok(Value::Null)
        })
}
