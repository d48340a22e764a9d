//! `LookupEvents`: the event history, one lookup attribute, a time range within the last 90
//! days, newest first, with `NextToken`s bound to the query they belong to.

use std::hash::{Hash, Hasher};

use time::{Duration, OffsetDateTime};

use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudtrail::errors::{invalid_lookup_attributes, invalid_next_token};
use crate::services::cloudtrail::events::{attribute_index, Query, ATTRIBUTES};
use crate::services::cloudtrail::views;
use crate::services::Call;

/// The hash that binds a `NextToken` to its query.
pub(crate) fn query_hash(attr: &Option<(u8, String)>, start: i64, end: Option<i64>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (attr, start, end).hash(&mut h);
    h.finish()
}

/// The `NextToken` of LookupEvents: the query it belongs to and where the next page starts.
pub(crate) fn encode_token(hash: u64, before: u32) -> String {
    crate::util::b64(format!("kws1:{hash:016x}:{before}").as_bytes())
}

pub(crate) fn decode_token(token: &str, hash: u64) -> Result<u32, AwsError> {
    let raw = crate::util::unb64(token).ok_or_else(invalid_next_token)?;
    let s = String::from_utf8(raw).map_err(|_| invalid_next_token())?;
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        ["kws1", h, pos] if *h == format!("{hash:016x}") => {
            pos.parse().map_err(|_| invalid_next_token())
        }
        _ => Err(invalid_next_token()),
    }
}

/// The one lookup attribute (index, value), if any.
fn attribute(input: &Input) -> Result<Option<(u8, String)>, AwsError> {
    let attrs = input.list("LookupAttributes")?;
    if attrs.len() > 1 {
        return Err(invalid_lookup_attributes(
            "You can specify only one lookup attribute per request.",
        ));
    }
    let Some(a) = attrs.first() else {
        return Ok(None);
    };
    let key = a.str("AttributeKey")?.unwrap_or_default();
    let idx = attribute_index(&key).ok_or_else(|| {
        invalid_lookup_attributes(format!(
            "Invalid AttributeKey '{key}'. Valid keys: {}",
            ATTRIBUTES.join(", ")
        ))
    })?;
    let value = a.str("AttributeValue")?.ok_or_else(|| {
        invalid_lookup_attributes(format!(
            "AttributeValue is required for AttributeKey {key}."
        ))
    })?;
    // AWS counts '_', ' ', ',' and '\n' twice towards the 2000-character limit.
    let weight: usize = value
        .chars()
        .map(|c| if "_ ,\n".contains(c) { 2 } else { 1 })
        .sum();
    if value.is_empty() || weight > 2000 {
        return Err(invalid_lookup_attributes(
            "AttributeValue must be 1 to 2000 characters long.",
        ));
    }
    Ok(Some((idx, value)))
}

fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `StartTime` and `EndTime`, in order.
fn time_range(input: &Input) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), AwsError> {
    let start = input.time("StartTime")?;
    let end = input.time("EndTime")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(AwsError::new(
                400,
                "InvalidTimeRangeException",
                "StartTime must be before or equal to EndTime.",
            ));
        }
    }
    Ok((start, end))
}

fn max_results(input: &Input) -> Result<usize, AwsError> {
    let max = input.int("MaxResults")?.unwrap_or(50);
    if !(1..=50).contains(&max) {
        return Err(AwsError::new(
            400,
            "InvalidMaxResultsException",
            format!("MaxResults must be between 1 and 50; got {max}."),
        ));
    }
    Ok(max as usize)
}

/// Whether the query asks for Insights events, which the sandbox has none of.
fn insights(input: &Input) -> Result<bool, AwsError> {
    match input.str("EventCategory")?.as_deref() {
        None => Ok(false),
        Some("insight") => Ok(true),
        Some(other) => Err(AwsError::new(
            400,
            "InvalidEventCategoryException",
            format!("Invalid EventCategory '{other}'; the only valid value is insight."),
        )),
    }
}

pub fn lookup_events(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let sb = cx.sandbox;
    if sb.config.lookup_rate_limit && !sb.lookup_limiter.admit(cx.account(), &cx.region, 2) {
        return Err(AwsError::new(400, "ThrottlingException", "Rate exceeded"));
    }
    let attribute = attribute(input)?;
    let now = cx.now;
    let (start, end) = time_range(input)?;
    let floor = now - Duration::days(90);
    let max = max_results(input)?;
    if insights(input)? {
        return Ok(Value::obj().with("Events", Value::List(Vec::new())));
    }
    let hash = query_hash(&attribute, start.map_or(0, to_ms), end.map(to_ms));
    let before = match input.str("NextToken")? {
        Some(t) => Some(decode_token(&t, hash)?),
        None => None,
    };
    let q = Query {
        attribute,
        start_ms: to_ms(start.map_or(floor, |s| s.max(floor))),
        end_ms: end.map_or(i64::MAX, to_ms),
        now_ms: to_ms(now),
        max,
        before,
    };
    let (found, next) = sb.events().lookup(cx.account(), &cx.region, &q);
    let events = found.iter().map(|e| views::event(e, now)).collect();
    Ok(Value::obj()
        .with("Events", Value::List(events))
        .with("NextToken", next.map(|b| encode_token(hash, b))))
}
