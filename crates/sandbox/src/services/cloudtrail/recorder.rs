//! Turns every authenticated API call into a CloudTrail management-event record (DESIGN.md
//! section 5) and appends it to the event history, before the call is answered.

use serde_json::{json, Map, Value as J};

use super::events::NewEvent;
use crate::protocol::{AwsError, Input, Value};
use crate::services::{Call, Service};
use crate::util::iso8601_secs;

/// The output as CloudTrail logs it in `responseElements`: camel-cased, without binary members
/// (plaintext keys, ciphertexts, public keys and tokens are never logged).
fn response_elements(v: &Value) -> J {
    fn strip(v: &Value) -> Option<J> {
        match v {
            Value::Blob(_) => None,
            Value::Struct(f) | Value::Map(f) => Some(J::Object(
                f.iter()
                    .filter_map(|(k, v)| strip(v).map(|j| (k.clone(), j)))
                    .collect(),
            )),
            Value::List(l) | Value::NamedList(_, l) | Value::FlatList(l) => {
                Some(J::Array(l.iter().filter_map(strip).collect()))
            }
            other => Some(other.to_json()),
        }
    }
    match strip(v) {
        Some(J::Object(m)) if m.is_empty() => J::Null,
        Some(j) => crate::services::camel_case_keys(&j, &[]),
        None => J::Null,
    }
}

pub fn record(
    cx: &Call<'_>,
    service: &dyn Service,
    op: &str,
    input: &Input,
    result: &Result<Value, AwsError>,
    source_ip: &str,
    user_agent: &str,
) {
    let sb = cx.sandbox;
    let read_only = service.read_only(op);
    let event_id = crate::util::uuid();
    let request_parameters = match service.request_parameters(op, input) {
        J::Object(m) if m.is_empty() => J::Null,
        other => other,
    };
    let response = match (result, read_only) {
        (Ok(v), false) => cx
            .response_elements
            .clone()
            .unwrap_or_else(|| response_elements(v)),
        _ => J::Null,
    };
    let account = cx.account().to_string();
    let new = NewEvent {
        event_id: event_id.clone(),
        event_name: op.to_string(),
        event_source: service.event_source().to_string(),
        username: cx.caller.username(),
        access_key_id: cx.caller.access_key_id.clone(),
        read_only,
        resources: cx
            .resources
            .iter()
            .map(|r| (r.resource_type.clone(), r.arn.clone()))
            .collect(),
    };
    let delay_ms = sb.config.cloudtrail_delay.whole_milliseconds() as i64;
    let mut rendered: Option<J> = None;
    let render = |time_ms: i64| {
        let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
            .unwrap_or(cx.now);
        let mut r = Map::new();
        r.insert("eventVersion".into(), json!("1.11"));
        r.insert("userIdentity".into(), cx.caller.user_identity());
        r.insert("eventTime".into(), json!(iso8601_secs(time)));
        r.insert("eventSource".into(), json!(service.event_source()));
        r.insert("eventName".into(), json!(op));
        r.insert("awsRegion".into(), json!(cx.region));
        r.insert("sourceIPAddress".into(), json!(source_ip));
        r.insert("userAgent".into(), json!(user_agent));
        if let Err(e) = result {
            r.insert("errorCode".into(), json!(e.code));
            r.insert("errorMessage".into(), json!(e.message));
        }
        r.insert("requestParameters".into(), request_parameters);
        r.insert("responseElements".into(), response);
        r.insert("requestID".into(), json!(cx.request_id));
        r.insert("eventID".into(), json!(event_id));
        r.insert("readOnly".into(), json!(read_only));
        if !cx.resources.is_empty() {
            let res: Vec<J> = cx
                .resources
                .iter()
                .map(|x| json!({"accountId": account, "type": x.resource_type, "ARN": x.arn}))
                .collect();
            r.insert("resources".into(), J::Array(res));
        }
        r.insert("eventType".into(), json!("AwsApiCall"));
        r.insert("managementEvent".into(), json!(true));
        r.insert("recipientAccountId".into(), json!(account));
        r.insert("eventCategory".into(), json!("Management"));
        let record = J::Object(r);
        let text = record.to_string();
        rendered = Some(record);
        text
    };
    let stamp = || {
        let t = sb.clock.now();
        let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
        // CloudTrail times events to the second (eventTime and LookupEvents' EventTime agree).
        let ms = ms - ms.rem_euclid(1000);
        (ms, ms + delay_ms)
    };
    sb.events
        .append(&account, &cx.region, new, stamp, render, |line| {
            sb.persist_event(line)
        });

    // CloudTrail hands management events to EventBridge only while a trail is logging.
    if let Some(record) = rendered {
        if super::logging_in(sb, &account, &cx.region) {
            let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
            sb.schedule_event(crate::services::events::PendingEvent {
                due_ms: now_ms + delay_ms,
                account: account.clone(),
                region: cx.region.clone(),
                event: crate::services::events::cloudtrail_envelope(&record, &account, &cx.region),
                read_only,
            });
        }
    }
}
