//! Tags on instances and volumes: CreateTags, DeleteTags, DescribeTags, and the
//! `TagSpecification.N` of the operations that create resources.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::filters::{filters, one, page_params, paginate, passes};
use super::{check_volume_id, dry_run, instance, note_resource, opt_str};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::{empty_tag_key, err, missing, volume_not_found};
use crate::services::ec2::state::Ec2State;
use crate::services::Call;

/// The tag limit per resource.
const TAG_LIMIT: usize = 50;

/// `TagSpecification.N` for the resource types an operation creates.
pub(crate) fn tag_specs(
    input: &Input,
    allowed: &[&str],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, AwsError> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for spec in input.list("TagSpecification")? {
        let rt = opt_str(&spec, "ResourceType")?
            .ok_or_else(|| missing("TagSpecification.ResourceType"))?;
        if !allowed.contains(&rt.as_str()) {
            return Err(err(
                "InvalidParameterValue",
                format!("'{rt}' is not a valid taggable resource type for this operation."),
            ));
        }
        let tags = parse_tags(&spec, "Tag")?;
        if tags.is_empty() {
            return Err(err(
                "InvalidParameterValue",
                "Tag specification must have at least one tag",
            ));
        }
        out.entry(rt).or_default().extend(tags);
    }
    Ok(out)
}

fn parse_tags(input: &Input, member: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    for t in input.list(member)? {
        let key = t.str("Key")?.unwrap_or_default();
        let value = t.str("Value")?.unwrap_or_default();
        check_tag(&key, &value)?;
        out.push((key, value));
    }
    Ok(out)
}

fn check_tag(key: &str, value: &str) -> Result<(), AwsError> {
    if key.is_empty() {
        return Err(empty_tag_key());
    }
    if key.chars().count() > 128 {
        return Err(err(
            "InvalidParameterValue",
            format!("Tag key exceeds the maximum length of 128 characters: '{key}'"),
        ));
    }
    if value.chars().count() > 256 {
        return Err(err(
            "InvalidParameterValue",
            format!("Tag value exceeds the maximum length of 256 characters: '{value}'"),
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(err(
            "InvalidParameterValue",
            "Tag keys starting with 'aws:' are reserved for internal use",
        ));
    }
    Ok(())
}

/// `ResourceId.N`, every one an existing instance or volume.
fn taggable(st: &Ec2State, input: &Input, now: OffsetDateTime) -> Result<Vec<String>, AwsError> {
    let ids = input.str_list("ResourceId")?;
    if ids.is_empty() {
        return Err(missing("ResourceId"));
    }
    for id in &ids {
        if id.starts_with("i-") {
            instance(st, id, now)?;
        } else if id.starts_with("vol-") {
            check_volume_id(id)?;
            if !st.volumes.contains_key(id) {
                return Err(volume_not_found(id));
            }
        } else {
            return Err(err("InvalidID", format!("The ID '{id}' is not valid")));
        }
    }
    Ok(ids)
}

fn tags_mut<'s>(st: &'s mut Ec2State, id: &str) -> Option<&'s mut BTreeMap<String, String>> {
    if id.starts_with("i-") {
        st.instances.get_mut(id).map(|i| &mut i.tags)
    } else {
        st.volumes.get_mut(id).map(|v| &mut v.tags)
    }
}

pub(crate) fn create_tags(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let ids = taggable(st, input, cx.now)?;
    let tags = parse_tags(input, "Tag")?;
    if tags.is_empty() {
        return Err(missing("Tag"));
    }
    for id in &ids {
        let current = tags_mut(st, id).cloned().unwrap_or_default();
        let keys: BTreeSet<&String> = current.keys().chain(tags.iter().map(|(k, _)| k)).collect();
        if keys.len() > TAG_LIMIT {
            return Err(err(
                "TagLimitExceeded",
                "The maximum number of Tags for a resource has been reached.",
            ));
        }
    }
    dry_run(input)?;
    for id in &ids {
        if let Some(t) = tags_mut(st, id) {
            t.extend(tags.iter().cloned());
        }
        note_resource(cx, id);
    }
    Ok(Value::obj().with("return", true))
}

pub(crate) fn delete_tags(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let ids = taggable(st, input, cx.now)?;
    // A tag with a value deletes the key only when the value matches; without one, any value;
    // no tags at all deletes every tag.
    let mut wanted: Vec<(String, Option<String>)> = Vec::new();
    for t in input.list("Tag")? {
        let key = t.str("Key")?.unwrap_or_default();
        if key.is_empty() {
            return Err(empty_tag_key());
        }
        wanted.push((key, t.str("Value")?));
    }
    dry_run(input)?;
    for id in &ids {
        if let Some(tags) = tags_mut(st, id) {
            if wanted.is_empty() {
                tags.retain(|k, _| k.to_ascii_lowercase().starts_with("aws:"));
            }
            for (k, v) in &wanted {
                if v.as_ref().is_none_or(|v| tags.get(k) == Some(v)) {
                    tags.remove(k);
                }
            }
        }
        note_resource(cx, id);
    }
    Ok(Value::obj().with("return", true))
}

pub(crate) fn describe_tags(
    _cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let page = page_params(input, 5, 1000)?;
    let fs = filters(input)?;
    let mut items = Vec::new();
    let resources = st
        .instances
        .values()
        .map(|i| (&i.id, "instance", &i.tags))
        .chain(st.volumes.values().map(|v| (&v.id, "volume", &v.tags)));
    for (id, kind, tags) in resources {
        for (k, v) in tags {
            let ok = passes(&fs, |n| match n {
                "resource-id" => one(id),
                "resource-type" => one(kind),
                "key" => one(k),
                "value" => one(v),
                other => other.strip_prefix("tag:").map(|want| {
                    if want == k {
                        vec![v.clone()]
                    } else {
                        Vec::new()
                    }
                }),
            })?;
            if ok {
                let value = Value::obj()
                    .with("resourceId", id.clone())
                    .with("resourceType", kind)
                    .with("key", k.clone())
                    .with("value", v.clone());
                items.push((format!("{kind}/{id}/{k}"), value));
            }
        }
    }
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("tagSet", Value::List(list))
        .with("nextToken", next))
}
