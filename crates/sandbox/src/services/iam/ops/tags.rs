//! Tags on roles (the other resources take theirs only when created). Keys ignore case.

use super::{change_role, read_logged};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::errors::{missing, quota};
use crate::services::iam::paging::paginate;
use crate::services::iam::params::{name_param, parse_tags, tag_keys_param};
use crate::services::iam::trail::role_resource;
use crate::services::iam::views::tag_value;
use crate::services::Call;

/// Add tags, replacing the values of keys that are already there (keys ignore case).
fn merge_tags(
    tags: &mut Vec<(String, String)>,
    new: Vec<(String, String)>,
) -> Result<(), AwsError> {
    let mut merged = tags.clone();
    for (k, v) in new {
        match merged
            .iter_mut()
            .find(|(have, _)| have.eq_ignore_ascii_case(&k))
        {
            Some(slot) => *slot = (k, v),
            None => merged.push((k, v)),
        }
    }
    if merged.len() > 50 {
        return Err(quota("TagsPerRole", 50));
    }
    *tags = merged;
    Ok(())
}

pub(crate) fn tag_role(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    if !input.has("Tags") {
        return Err(missing("Tags"));
    }
    let tags = parse_tags(input)?;
    change_role(cx, &name, |r| merge_tags(&mut r.tags, tags))
}

pub(crate) fn untag_role(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let keys = tag_keys_param(input)?;
    change_role(cx, &name, |r| {
        r.tags
            .retain(|(k, _)| !keys.iter().any(|x| x.eq_ignore_ascii_case(k)));
        Ok(())
    })
}

pub(crate) fn list_role_tags(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "RoleName", 64)?;
    let items = read_logged(cx, role_resource, |st| {
        let r = st.role(&name)?;
        // By key.
        let items: Vec<(String, Value)> = r
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), tag_value(k, v)))
            .collect();
        Ok((items, r.arn.clone()))
    })?;
    Ok(paginate(input, items)?.into_value("Tags"))
}
