//! `LookupEvents`: the event history over a time range and at most one attribute, every page,
//! paced to CloudTrail's 2 requests per second.

use std::ops::ControlFlow;
use std::time::Duration;

use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
use aws_sdk_cloudtrail::types::{Event, LookupAttribute};
use aws_sdk_cloudtrail::Client;
use aws_smithy_types::DateTime;
use kms_workshop_pace::{Limits, Pace, PageSource, Retry};
use time::OffsetDateTime;

use crate::{Attribute, CloudTrailRecord, TrailError};

/// CloudTrail allows 2 `LookupEvents` per second per account and region, and answers
/// `ThrottlingException` beyond that. 2 a second is one every 500 ms; the margin keeps network
/// jitter from landing two requests inside one server-side second.
pub const LOOKUP_SPACING: Duration = Duration::from_millis(550);

/// A page that meets throttling or a 5xx is asked for again, 5 times at most.
const LOOKUP_RETRY: Retry = Retry::answers(6);

/// The pace of `LookupEvents`: one request every [`LOOKUP_SPACING`]. Clones share one
/// schedule: lookups made through clones of one pace stay under the limit together.
pub fn lookup_pace() -> Pace {
    Pace::with_limits(Limits {
        spacing: LOOKUP_SPACING,
        backoff_base: Duration::from_millis(500),
        backoff_cap: Duration::from_secs(10),
        ..Limits::default()
    })
}

/// What to look up. `start`/`end` are inclusive; without them AWS covers the last 90 days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupQuery {
    /// At most one attribute and its value (AWS accepts one per request).
    pub attribute: Option<(Attribute, String)>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    /// Stop after this many events (pages of 50 are followed until then); `None`: all.
    pub max_events: Option<usize>,
}

impl LookupQuery {
    /// Events whose `attribute` equals `value`.
    pub fn by(attribute: Attribute, value: impl Into<String>) -> Self {
        LookupQuery {
            attribute: Some((attribute, value.into())),
            ..Default::default()
        }
    }

    pub fn between(mut self, start: OffsetDateTime, end: OffsetDateTime) -> Self {
        self.start = Some(start);
        self.end = Some(end);
        self
    }

    pub fn since(mut self, start: OffsetDateTime) -> Self {
        self.start = Some(start);
        self
    }

    pub fn limit(mut self, max_events: usize) -> Self {
        self.max_events = Some(max_events);
        self
    }

    fn check(&self) -> Result<(), TrailError> {
        if let Some((_, value)) = &self.attribute {
            if value.is_empty() {
                return Err(TrailError::InvalidInput {
                    field: "AttributeValue",
                    reason: "empty: AWS requires 1 to 2000 characters".into(),
                });
            }
        }
        if let (Some(s), Some(e)) = (self.start, self.end) {
            if s > e {
                return Err(TrailError::InvalidInput {
                    field: "StartTime",
                    reason: format!("{s} is after EndTime {e}"),
                });
            }
        }
        if self.max_events == Some(0) {
            return Err(TrailError::InvalidInput {
                field: "max_events",
                reason: "0: ask for at least one event".into(),
            });
        }
        Ok(())
    }

    /// The request's `LookupAttributes`: at most one.
    pub(crate) fn sdk_attribute(&self) -> Result<Option<LookupAttribute>, TrailError> {
        let Some((a, v)) = &self.attribute else {
            return Ok(None);
        };
        LookupAttribute::builder()
            .attribute_key(a.sdk())
            .attribute_value(v)
            .build()
            .map(Some)
            .map_err(|e| TrailError::InvalidInput {
                field: "LookupAttributes",
                reason: e.to_string(),
            })
    }
}

/// One event of the history, as `LookupEvents` lists it, with its record parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailEvent {
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub read_only: Option<bool>,
    pub access_key_id: Option<String>,
    pub event_time: Option<OffsetDateTime>,
    pub event_source: Option<String>,
    pub username: Option<String>,
    /// `(ResourceType, ResourceName)` pairs.
    pub resources: Vec<(String, String)>,
    /// The parsed `CloudTrailEvent`; `None` when it was absent or not JSON.
    pub record: Option<CloudTrailRecord>,
    /// The `CloudTrailEvent` text as CloudTrail returned it.
    pub raw: Option<String>,
}

impl TrailEvent {
    pub(crate) fn from_sdk(e: &Event) -> Self {
        let raw = e.cloud_trail_event().map(str::to_string);
        TrailEvent {
            event_id: e.event_id().map(str::to_string),
            event_name: e.event_name().map(str::to_string),
            read_only: e.read_only().and_then(|r| match r {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }),
            access_key_id: e.access_key_id().map(str::to_string),
            event_time: e.event_time().and_then(to_time),
            event_source: e.event_source().map(str::to_string),
            username: e.username().map(str::to_string),
            resources: e
                .resources()
                .iter()
                .map(|r| {
                    (
                        r.resource_type().unwrap_or_default().to_string(),
                        r.resource_name().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            record: raw.as_deref().and_then(|t| CloudTrailRecord::parse(t).ok()),
            raw,
        }
    }

    /// The record's `requestID`: AWS's request id of the call.
    pub fn request_id(&self) -> Option<&str> {
        self.record.as_ref()?.request_id.as_deref()
    }
}

fn to_time(dt: &DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(dt.as_nanos()).ok()
}

pub(crate) fn to_sdk_time(t: OffsetDateTime) -> DateTime {
    DateTime::from_nanos(t.unix_timestamp_nanos())
        .unwrap_or(DateTime::from_secs(t.unix_timestamp()))
}

/// Look events up (newest first), following every page, with a fresh [`lookup_pace`].
pub async fn lookup(client: &Client, query: LookupQuery) -> Result<Vec<TrailEvent>, TrailError> {
    lookup_paced(client, query, &lookup_pace()).await
}

/// [`lookup`] sharing `pace` with other lookups, so together they stay within CloudTrail's
/// 2 requests per second. A page that meets throttling or a 5xx is retried after a backoff.
pub async fn lookup_paced(
    client: &Client,
    query: LookupQuery,
    pace: &Pace,
) -> Result<Vec<TrailEvent>, TrailError> {
    query.check()?;
    let attribute = query.sdk_attribute()?;
    let page_size = query.max_events.map_or(50, |m| m.min(50)) as i32;
    let mut out = Vec::new();
    pace.each_page(
        "LookupEvents",
        LOOKUP_RETRY,
        |token| pages(client, &query, &attribute, token, page_size),
        |page| page.next_token(),
        |page| {
            out.extend(page.events().iter().map(TrailEvent::from_sdk));
            if query.max_events.is_some_and(|m| out.len() >= m) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .await?;
    if let Some(m) = query.max_events {
        out.truncate(m);
    }
    Ok(out)
}

/// The pages of `query` from `token` on (`None`: the first), `page_size` events each, by the
/// SDK's paginator; `attribute` is built from `query`.
pub(crate) fn pages(
    client: &Client,
    query: &LookupQuery,
    attribute: &Option<LookupAttribute>,
    token: Option<String>,
    page_size: i32,
) -> impl PageSource<Page = LookupEventsOutput> {
    client
        .lookup_events()
        .set_lookup_attributes(attribute.clone().map(|a| vec![a]))
        .set_start_time(query.start.map(to_sdk_time))
        .set_end_time(query.end.map(to_sdk_time))
        .set_next_token(token)
        .into_paginator()
        .page_size(page_size)
        .send()
}

#[cfg(test)]
mod tests;
