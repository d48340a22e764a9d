//! Tags of rules and of the default event bus: TagResource, UntagResource,
//! ListTagsForResource.

use std::collections::BTreeMap;

use crate::common::tags;
use crate::protocol::{AwsError, Input, Value};
use crate::services::events::errors::resource_not_found;
use crate::services::events::state::EventsState;
use crate::services::Call;

/// The tags of the resource `arn` names: the default bus's, or a rule's (by its name, the
/// part after the last `/`, and its ARN).
fn tags_of<'a>(
    st: &'a mut EventsState,
    cx: &Call<'_>,
    arn: &str,
) -> Result<&'a mut BTreeMap<String, String>, AwsError> {
    let bus = format!(
        "arn:aws:events:{}:{}:event-bus/default",
        cx.region,
        cx.account()
    );
    if arn == bus {
        return Ok(&mut st.bus_tags);
    }
    let name = arn.rsplit('/').next().unwrap_or_default();
    st.rules
        .get_mut(name)
        .filter(|r| r.arn == arn)
        .map(|r| &mut r.tags)
        .ok_or_else(|| resource_not_found(arn))
}

pub(crate) fn list_tags_for_resource(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = input.req_str("ResourceARN")?;
    // Read through a copy: looking a resource up is the same code for reading and writing.
    let mut st = cx
        .sandbox
        .read::<EventsState, _>(cx.account(), &cx.region, |st| st.clone());
    Ok(tags::answer(&*tags_of(&mut st, cx, &arn)?))
}

pub(crate) fn tag_resource(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = input.req_str("ResourceARN")?;
    let tags = tags::read(input)?;
    cx.sandbox
        .write::<EventsState, _>(cx.account(), &cx.region, |st| {
            tags_of(st, cx, &arn)?.extend(tags);
            Ok(Value::Null)
        })
}

pub(crate) fn untag_resource(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = input.req_str("ResourceARN")?;
    let keys = input.str_list("TagKeys")?;
    cx.sandbox
        .write::<EventsState, _>(cx.account(), &cx.region, |st| {
            let t = tags_of(st, cx, &arn)?;
            for k in &keys {
                t.remove(k);
            }
            Ok(Value::Null)
        })
}
