//! Turns every authenticated API call into a CloudTrail management-event record (DESIGN.md
//! section 5) and appends it to the event history, before the call is answered.

use serde_json::{json, Map, Value as J};

use super::events::{NewEvent, Record};
use crate::identity::Caller;
use crate::protocol::{AwsError, Input, Value};
use crate::services::{Call, Service, TrailResource};
use crate::util::iso8601_secs;

/// The `userAgent` CloudTrail records for calls made from the AWS Management Console.
pub const CONSOLE_USER_AGENT: &str = "AWS Internal";

/// Everything a CloudTrail record says, but its time.
pub(crate) struct RecordParts<'a> {
    pub caller: &'a Caller,
    pub region: &'a str,
    pub event_source: &'a str,
    pub op: &'a str,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    /// (errorCode, errorMessage) of a failed call.
    pub error: Option<(&'a str, &'a str)>,
    pub request_parameters: J,
    pub response: J,
    pub request_id: &'a str,
    pub event_id: &'a str,
    pub read_only: bool,
    pub resources: &'a [TrailResource],
}

impl RecordParts<'_> {
    /// The record as CloudTrail delivers it (DESIGN.md section 5), at `time_ms`.
    pub(crate) fn render(&self, time_ms: i64) -> J {
        let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let account = &self.caller.account;
        let mut r = Map::new();
        r.insert("eventVersion".into(), json!("1.11"));
        r.insert("userIdentity".into(), self.caller.user_identity());
        r.insert("eventTime".into(), json!(iso8601_secs(time)));
        r.insert("eventSource".into(), json!(self.event_source));
        r.insert("eventName".into(), json!(self.op));
        r.insert("awsRegion".into(), json!(self.region));
        r.insert("sourceIPAddress".into(), json!(self.source_ip));
        // Calls a console page makes are recorded with AWS's agent for its own consoles.
        let agent = match self.caller.console_since {
            Some(_) => CONSOLE_USER_AGENT,
            None => self.user_agent,
        };
        r.insert("userAgent".into(), json!(agent));
        if let Some((code, message)) = self.error {
            r.insert("errorCode".into(), json!(code));
            r.insert("errorMessage".into(), json!(message));
        }
        r.insert("requestParameters".into(), self.request_parameters.clone());
        r.insert("responseElements".into(), self.response.clone());
        r.insert("requestID".into(), json!(self.request_id));
        r.insert("eventID".into(), json!(self.event_id));
        r.insert("readOnly".into(), json!(self.read_only));
        if !self.resources.is_empty() {
            let res: Vec<J> = self
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
        if self.caller.console_since.is_some() {
            r.insert("sessionCredentialFromConsole".into(), json!("true"));
        }
        J::Object(r)
    }

    /// What the history indexes the record by.
    pub(crate) fn new_event(&self) -> NewEvent {
        NewEvent {
            event_id: self.event_id.to_string(),
            event_name: self.op.to_string(),
            event_source: self.event_source.to_string(),
            username: self.caller.username(),
            access_key_id: self.caller.access_key_id.clone(),
            read_only: self.read_only,
            resources: self
                .resources
                .iter()
                .map(|r| (r.resource_type.clone(), r.arn.clone()))
                .collect(),
        }
    }
}

/// Members that hold a secret, whatever the service or operation: CloudTrail never logs them
/// (AssumeRole's and CreateAccessKey's secret keys, data-key plaintexts). The session token is
/// among them: AWS logs AssumeRole's, but in the sandbox the event history is read by every
/// principal of the account, and on a classroom sandbox by the instructor too.
const SECRETS: &[&str] = &[
    "secretAccessKey",
    "sessionToken",
    "plaintext",
    "privateKeyPlaintext",
];

/// Members whose keys are the caller's own data, not the API's (an encryption context may
/// well have a key named `plaintext`): logged as they are.
const USER_MAPS: &[&str] = &["encryptionContext", "tags"];

/// `j` without any member [`SECRETS`] names, at any depth (names compared camel-cased).
fn without_secrets(j: J) -> J {
    match j {
        J::Object(m) => J::Object(
            m.into_iter()
                .filter(|(k, _)| !SECRETS.iter().any(|s| s.eq_ignore_ascii_case(k)))
                .map(|(k, v)| {
                    if USER_MAPS.iter().any(|u| u.eq_ignore_ascii_case(&k)) {
                        (k, v)
                    } else {
                        (k, without_secrets(v))
                    }
                })
                .collect(),
        ),
        J::Array(a) => J::Array(a.into_iter().map(without_secrets).collect()),
        other => other,
    }
}

/// A stored record as it may be served: one written before secrets were left out of records
/// (its text names one) loses them now; any other is served as it is.
pub fn scrubbed(record: String) -> String {
    if !SECRETS.iter().any(|s| record.contains(&format!("\"{s}\""))) {
        return record;
    }
    match serde_json::from_str::<J>(&record) {
        Ok(j) => without_secrets(j).to_string(),
        Err(_) => record,
    }
}

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
    let request_parameters = match without_secrets(service.request_parameters(op, input)) {
        J::Object(m) if m.is_empty() => J::Null,
        other => other,
    };
    let response = match (result, read_only) {
        (Ok(v), false) => without_secrets(
            cx.response_elements
                .clone()
                .unwrap_or_else(|| response_elements(v)),
        ),
        _ => J::Null,
    };
    let account = cx.account().to_string();
    let delay_ms = sb.config.cloudtrail_delivery_delay().whole_milliseconds() as i64;
    let parts = RecordParts {
        caller: &cx.caller,
        region: &cx.region,
        event_source: service.event_source(),
        op,
        source_ip,
        user_agent,
        error: result
            .as_ref()
            .err()
            .map(|e| (e.code.as_str(), e.message.as_str())),
        request_parameters,
        response,
        request_id: &cx.request_id,
        event_id: &event_id,
        read_only,
        resources: &cx.resources,
    };

    let stamp = || {
        let t = sb.clock.now();
        let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
        // CloudTrail times events to the second (eventTime and LookupEvents' EventTime agree).
        let ms = ms - ms.rem_euclid(1000);
        (ms, ms + delay_ms)
    };
    let new = parts.new_event();
    let rendered = sb.events.append(
        &account,
        &cx.region,
        new,
        stamp,
        |time_ms| Record::Json(parts.render(time_ms)),
        |frame| sb.persist_event(frame),
    );

    // CloudTrail hands management events to EventBridge only while a trail is logging.
    if let Record::Json(record) = rendered {
        if super::logging_in(sb, &account, &cx.region, read_only, service.event_source()) {
            let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
            let handed_over = sb.config.eventbridge_delivery_delay().whole_milliseconds() as i64;
            sb.schedule_cloudtrail_record(
                &record,
                (&account, &cx.region),
                now_ms + handed_over,
                read_only,
            );
        }
    }
}
