//! Key tags: TagResource, UntagResource, ListResourceTags.

use super::{customer_key, key, read, write};
use crate::common::tags;
use crate::protocol::{AwsError, Input, Value};
use crate::services::kms::errors::{pending_deletion, tag_error};
use crate::services::Call;

/// The `Tags` member (`TagKey`, `TagValue`), checked as KMS checks tags beyond what its model
/// says (lengths are the model's, checked before).
pub(super) fn parse(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    let list = input.list("Tags")?;
    if list.len() > 50 {
        return Err(tag_error("Too many tags"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for t in list {
        let k = t.req_str("TagKey")?;
        let v = t.str("TagValue")?.unwrap_or_default();
        if k.starts_with("aws:") {
            return Err(tag_error("Tags beginning with aws: are reserved"));
        }
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(tag_error("Duplicate tag keys"));
        }
        out.push((k, v));
    }
    Ok(out)
}

pub fn tag_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let tags = parse(input)?;
        let k = customer_key(cx, st, "TagResource", input)?;
        if k.deletion_date.is_some() {
            return Err(pending_deletion(&k.arn));
        }
        k.tags.extend(tags);
        if k.tags.len() > 50 {
            return Err(AwsError::new(
                400,
                "LimitExceededException",
                "A key can have at most 50 tags.",
            ));
        }
        Ok(Value::Null)
    })
}

pub fn untag_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let keys = input.str_list("TagKeys")?;
        let k = customer_key(cx, st, "UntagResource", input)?;
        for t in keys {
            k.tags.remove(&t);
        }
        Ok(Value::Null)
    })
}

pub fn list_resource_tags(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        let k = key(cx, st, "ListResourceTags", input)?;
        Ok(Value::obj()
            .with("Tags", tags::list(&k.tags, "TagKey", "TagValue"))
            .with("Truncated", false))
    })
}
