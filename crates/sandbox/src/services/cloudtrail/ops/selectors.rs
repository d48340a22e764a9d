//! A trail's basic event selectors: which management events it logs (and the data events it
//! selects, kept as put).

use super::{touch, trail_key};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudtrail::errors::{invalid_event_selectors, trail_not_found};
use crate::services::cloudtrail::state::{DataResource, EventSelector, ReadWriteType, TrailState};
use crate::services::cloudtrail::views;
use crate::services::Call;

pub fn get_event_selectors(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    selectors(cx, input, false)
}

pub fn put_event_selectors(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    selectors(cx, input, true)
}

/// The `EventSelectors` of a PutEventSelectors request.
fn parse(input: &Input) -> Result<Vec<EventSelector>, AwsError> {
    if input.has("AdvancedEventSelectors") {
        return Err(AwsError::new(
            400,
            "UnsupportedOperationException",
            "This sandbox supports basic event selectors only.",
        ));
    }
    let list = input.list("EventSelectors")?;
    if list.is_empty() || list.len() > 5 {
        return Err(invalid_event_selectors(
            "You can specify from 1 to 5 event selectors.",
        ));
    }
    let mut out = Vec::new();
    for e in list {
        let rw = e.str("ReadWriteType")?.unwrap_or_else(|| "All".into());
        let read_write_type = ReadWriteType::parse(&rw).ok_or_else(|| {
            invalid_event_selectors(format!(
                "ReadWriteType {rw} is not one of ReadOnly, WriteOnly, All."
            ))
        })?;
        let data_resources = e
            .list("DataResources")?
            .iter()
            .map(|d| {
                Ok(DataResource {
                    kind: d.str("Type")?.unwrap_or_default(),
                    values: d.str_list("Values")?,
                })
            })
            .collect::<Result<_, AwsError>>()?;
        out.push(EventSelector {
            read_write_type,
            include_management_events: e.bool("IncludeManagementEvents")?.unwrap_or(true),
            data_resources,
            exclude_sources: e.str_list("ExcludeManagementEventSources")?,
        });
    }
    Ok(out)
}

/// The selectors of the trail `TrailName` names, after putting the request's (`put`).
fn selectors(cx: &mut Call<'_>, input: &Input, put: bool) -> Result<Value, AwsError> {
    let raw = input.req_str("TrailName")?;
    let (home, name) = trail_key(cx, &raw)?;
    let new = if put { Some(parse(input)?) } else { None };
    let (sb, account) = (cx.sandbox, cx.account().to_string());
    let t = sb.write::<TrailState, _>(&account, &home, |st| {
        let t = st
            .trails
            .get_mut(&name)
            .ok_or_else(|| trail_not_found(cx, &raw))?;
        if let Some(n) = new {
            t.event_selectors = Some(n);
        }
        Ok(t.clone())
    })?;
    touch(cx, &t);
    Ok(views::selectors(&t))
}
