//! CloudTrail **Event history**, laid out as the console's: a lookup attribute chosen from
//! AWS's eight and a value, a time range, a table of events (event name, event time, user
//! name, event source, resource type and name), pages of 50, and an event's record as
//! formatted JSON. Every lookup is a `LookupEvents` call signed as the signed-in learner, so a
//! learner sees their own account's history and nothing else, as on AWS.

use askama::Template;
use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey};
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::{missing, Chrome};
use crate::aws::Failure;
use crate::session::SignedIn;
use crate::web::{page, query_fields};

/// AWS's lookup attributes: the API's key and the console's label.
pub const ATTRIBUTES: [(&str, &str); 8] = [
    ("ReadOnly", "Read-only"),
    ("EventName", "Event name"),
    ("Username", "User name"),
    ("ResourceType", "Resource type"),
    ("ResourceName", "Resource name"),
    ("EventSource", "Event source"),
    ("AccessKeyId", "AWS access key"),
    ("EventId", "Event ID"),
];

/// Events per page (the console's largest page size).
const PAGE_SIZE: i32 = 50;

/// The form's `datetime-local` values (UTC), with or without seconds.
const MINUTES: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]");
const SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");

/// One row of the table.
pub struct Row {
    pub id: String,
    pub name: String,
    pub time: String,
    pub user: String,
    pub source: String,
    pub resource_type: String,
    pub resource_name: String,
}

/// What the filter form holds, as the learner typed it.
#[derive(Default)]
pub struct Filter {
    pub attribute: String,
    pub value: String,
    pub start: String,
    pub end: String,
}

#[derive(Template)]
#[template(path = "event_history.html")]
struct List {
    chrome: Chrome,
    attributes: &'static [(&'static str, &'static str)],
    filter: Filter,
    rows: Vec<Row>,
    problem: Option<String>,
    /// The query string of the next page, when there is one.
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "event_record.html")]
struct Record {
    chrome: Chrome,
    row: Row,
    access_key: String,
    read_only: String,
    json: String,
}

/// `GET /console/cloudtrail/events?attribute=A&value=V&start=T&end=T&next=TOKEN`.
pub async fn list(s: SignedIn, RawQuery(q): RawQuery) -> Response {
    let mut fields = query_fields(q.as_deref());
    let mut take = |k: &str| fields.remove(k).unwrap_or_default();
    let filter = Filter {
        attribute: take("attribute"),
        value: take("value"),
        start: take("start"),
        end: take("end"),
    };
    let next_token = take("next");
    let (rows, next, problem) = match lookup(&s, &filter, &next_token).await {
        Ok((rows, token)) => (rows, token.map(|t| next_query(&filter, &t)), None),
        Err(problem) => (Vec::new(), None, Some(problem)),
    };
    let status = crate::web::status_for(&problem);
    page(
        status,
        &List {
            chrome: Chrome::of(&s, "events"),
            attributes: &ATTRIBUTES,
            filter,
            rows,
            problem,
            next,
        },
    )
}

/// `GET /console/cloudtrail/events/{id}`: one event's record.
pub async fn record(s: SignedIn, Path(id): Path<String>) -> Response {
    let client = aws_sdk_cloudtrail::Client::new(&s.session.sdk);
    let found = match attribute("EventId", &id) {
        Ok(a) => {
            client
                .lookup_events()
                .lookup_attributes(a)
                .max_results(1)
                .send()
                .await
        }
        Err(why) => return missing(&s, "events", why),
    };
    let event = match found {
        Ok(out) => out.events.unwrap_or_default().into_iter().next(),
        Err(e) => {
            let f = Failure::from_sdk("LookupEvents", e);
            return missing(&s, "events", format!("{}: {}", f.code, f.message));
        }
    };
    let Some(event) = event else {
        return missing(
            &s,
            "events",
            format!("There is no event {id} in this account's event history."),
        );
    };
    let json = event
        .cloud_trail_event()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default();
    let access_key = event.access_key_id().unwrap_or_default().to_string();
    let read_only = event.read_only().unwrap_or_default().to_string();
    page(
        StatusCode::OK,
        &Record {
            chrome: Chrome::of(&s, "events"),
            row: row(&event),
            access_key,
            read_only,
            json,
        },
    )
}

/// One page of events for the filter, and the next page's token.
async fn lookup(
    s: &SignedIn,
    filter: &Filter,
    next: &str,
) -> Result<(Vec<Row>, Option<String>), String> {
    let client = aws_sdk_cloudtrail::Client::new(&s.session.sdk);
    let mut call = client.lookup_events().max_results(PAGE_SIZE);
    if !filter.attribute.is_empty() {
        if !ATTRIBUTES.iter().any(|(k, _)| *k == filter.attribute) {
            let allowed: Vec<&str> = ATTRIBUTES.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "Lookup attribute must be one of {}, not '{}'.",
                allowed.join(", "),
                filter.attribute
            ));
        }
        if filter.value.trim().is_empty() {
            return Err("Enter a value to look up (the lookup attribute needs one).".into());
        }
        call = call.lookup_attributes(attribute(&filter.attribute, filter.value.trim())?);
    }
    let start = time_field("Start time", &filter.start)?;
    let end = time_field("End time", &filter.end)?;
    if let (Some(a), Some(b)) = (start, end) {
        if a > b {
            return Err("Start time must be before end time.".into());
        }
    }
    call = call
        .set_start_time(start.map(smithy_time))
        .set_end_time(end.map(smithy_time));
    if !next.is_empty() {
        call = call.next_token(next);
    }
    let out = call.send().await.map_err(|e| {
        let f = Failure::from_sdk("LookupEvents", e);
        format!("{}: {}", f.code, f.message)
    })?;
    let rows = out.events().iter().map(row).collect();
    Ok((rows, out.next_token))
}

fn attribute(key: &str, value: &str) -> Result<LookupAttribute, String> {
    LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::from(key))
        .attribute_value(value)
        .build()
        .map_err(|e| format!("Bad lookup attribute: {e}"))
}

/// A `datetime-local` field as a UTC time, or the error naming the field.
fn time_field(name: &str, text: &str) -> Result<Option<OffsetDateTime>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    PrimitiveDateTime::parse(text, MINUTES)
        .or_else(|_| PrimitiveDateTime::parse(text, SECONDS))
        .map(|t| Some(t.assume_utc()))
        .map_err(|_| {
            format!("{name} must be a date and time such as 2026-12-03T09:30 (UTC), not '{text}'.")
        })
}

fn smithy_time(t: OffsetDateTime) -> aws_sdk_cloudtrail::primitives::DateTime {
    aws_sdk_cloudtrail::primitives::DateTime::from_secs(t.unix_timestamp())
}

fn row(e: &Event) -> Row {
    let resources = e.resources();
    let join = |f: fn(&aws_sdk_cloudtrail::types::Resource) -> Option<&str>| {
        resources
            .iter()
            .filter_map(f)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Row {
        id: e.event_id().unwrap_or_default().to_string(),
        name: e.event_name().unwrap_or_default().to_string(),
        time: e
            .event_time()
            .and_then(|t| {
                t.fmt(aws_sdk_cloudtrail::primitives::DateTimeFormat::DateTime)
                    .ok()
            })
            .unwrap_or_default(),
        user: e.username().unwrap_or_default().to_string(),
        source: e.event_source().unwrap_or_default().to_string(),
        resource_type: join(|r| r.resource_type()),
        resource_name: join(|r| r.resource_name()),
    }
}

/// The query string of the page after this one: the same filter and the next token.
fn next_query(f: &Filter, token: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("attribute", &f.attribute)
        .append_pair("value", &f.value)
        .append_pair("start", &f.start)
        .append_pair("end", &f.end)
        .append_pair("next", token)
        .finish()
}
