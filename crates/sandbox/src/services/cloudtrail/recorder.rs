//! Turns every authenticated API call into a CloudTrail management-event record (DESIGN.md
//! section 5) and appends it to the event history: a call that changes state before it is
//! answered; a read-only call's record is taken down before the answer and written after it,
//! in a batch with the others taken down meanwhile ([`super::unrecorded`]), where the next
//! reader of the history cannot miss it.

use serde_json::{Map, Value as J};

use super::events::record::Members;
use super::events::{NewEvent, Record, Written};
use crate::identity::{Caller, UserIdentity};
use crate::protocol::{AwsError, Input, Value};
use crate::services::{camel_case, Call, Service, TrailResource};
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

/// A member's value as [`RecordParts::write`] hands it over.
enum Member<'a> {
    Str(&'a str),
    Bool(bool),
    Json(&'a J),
    Identity(&'a UserIdentity<'a>),
    /// The call's resources, in the account.
    Resources(&'a [TrailResource], &'a str),
}

/// A resource as a record lists it.
#[derive(serde::Serialize)]
struct Resource<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    resource_type: &'a str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

impl Member<'_> {
    fn to_json(&self) -> J {
        match self {
            Member::Str(s) => J::String((*s).to_string()),
            Member::Bool(b) => J::Bool(*b),
            Member::Json(j) => (*j).clone(),
            Member::Identity(u) => serde_json::to_value(u).unwrap_or(J::Null),
            Member::Resources(..) => serde_json::to_value(self).unwrap_or(J::Null),
        }
    }
}

impl serde::Serialize for Member<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Member::Str(v) => s.serialize_str(v),
            Member::Bool(b) => s.serialize_bool(*b),
            Member::Json(j) => j.serialize(s),
            Member::Identity(u) => u.serialize(s),
            Member::Resources(resources, account) => {
                s.collect_seq(resources.iter().map(|x| Resource {
                    account_id: account,
                    resource_type: &x.resource_type[..],
                    arn: &x.arn,
                }))
            }
        }
    }
}

impl RecordParts<'_> {
    /// The record as CloudTrail delivers it (DESIGN.md section 5), at `time_ms`, as JSON (what
    /// EventBridge receives).
    pub(crate) fn render(&self, time_ms: i64) -> J {
        let mut r = Map::new();
        self.write(time_ms, |k, v| {
            r.insert(k.to_string(), v.to_json());
        });
        J::Object(r)
    }

    /// The same record as the history keeps it: its members' JSON text.
    pub(crate) fn members(&self, time_ms: i64) -> Members {
        let mut m = Members::for_a_record();
        self.write(time_ms, |k, v| m.push(k, &v));
        m
    }

    /// Hand each member of the record at `time_ms` to `put`, in order: the one list of what
    /// a record says, whichever form it is wanted in.
    fn write(&self, time_ms: i64, mut put: impl FnMut(&'static str, Member<'_>)) {
        let time = crate::util::at_epoch_ms(time_ms);
        let account = &self.caller.account;
        put("eventVersion", Member::Str("1.11"));
        put(
            "userIdentity",
            Member::Identity(&self.caller.user_identity()),
        );
        put("eventTime", Member::Str(&iso8601_secs(time)));
        put("eventSource", Member::Str(self.event_source));
        put("eventName", Member::Str(self.op));
        put("awsRegion", Member::Str(self.region));
        put("sourceIPAddress", Member::Str(self.source_ip));
        // Calls a console page makes are recorded with AWS's agent for its own consoles.
        let agent = match self.caller.console_since {
            Some(_) => CONSOLE_USER_AGENT,
            None => self.user_agent,
        };
        put("userAgent", Member::Str(agent));
        if let Some((code, message)) = self.error {
            put("errorCode", Member::Str(code));
            put("errorMessage", Member::Str(message));
        }
        put("requestParameters", Member::Json(&self.request_parameters));
        put("responseElements", Member::Json(&self.response));
        put("requestID", Member::Str(self.request_id));
        put("eventID", Member::Str(self.event_id));
        put("readOnly", Member::Bool(self.read_only));
        if !self.resources.is_empty() {
            put("resources", Member::Resources(self.resources, account));
        }
        put("eventType", Member::Str("AwsApiCall"));
        put("managementEvent", Member::Bool(true));
        put("recipientAccountId", Member::Str(account));
        put("eventCategory", Member::Str("Management"));
        if self.caller.console_since.is_some() {
            put("sessionCredentialFromConsole", Member::Str("true"));
        }
    }

    /// What the history indexes the record by.
    pub(crate) fn new_event(&self) -> NewEvent<'_> {
        NewEvent {
            event_id: self.event_id.into(),
            event_name: self.op.into(),
            event_source: self.event_source.into(),
            username: self.caller.username().into(),
            access_key_id: self.caller.access_key_id.as_str().into(),
            read_only: self.read_only,
            resources: self
                .resources
                .iter()
                .map(|r| (r.resource_type[..].into(), r.arn.as_str().into()))
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

/// Leave out of `j` every member [`SECRETS`] names, at any depth (names compared
/// camel-cased), in place.
fn strip_secrets(j: &mut J) {
    match j {
        J::Object(m) => {
            m.retain(|k, _| !SECRETS.iter().any(|s| s.eq_ignore_ascii_case(k)));
            for (k, v) in m.iter_mut() {
                if !USER_MAPS.iter().any(|u| u.eq_ignore_ascii_case(k)) {
                    strip_secrets(v);
                }
            }
        }
        J::Array(a) => a.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}

/// A stored record as it may be served: one written before secrets were left out of records
/// (its text names one) loses them now; any other is served as it is.
pub fn scrubbed(record: String) -> String {
    if !SECRETS.iter().any(|s| record.contains(&format!("\"{s}\""))) {
        return record;
    }
    match serde_json::from_str::<J>(&record) {
        Ok(mut j) => {
            strip_secrets(&mut j);
            j.to_string()
        }
        Err(_) => record,
    }
}

/// The output as CloudTrail logs it in `responseElements`: camel-cased, without binary members
/// (plaintext keys, ciphertexts, public keys and tokens are never logged). Its keys are
/// camel-cased as it is built: every object in it is a structure's or a map's.
fn response_elements(v: &Value) -> J {
    fn strip(v: &Value) -> Option<J> {
        match v {
            Value::Blob(_) => None,
            Value::Struct(f) | Value::Map(f) => Some(J::Object(
                f.iter()
                    .filter_map(|(k, v)| strip(v).map(|j| (camel_case(k), j)))
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
        Some(j) => j,
        None => J::Null,
    }
}

/// A call's record as it waits to join the history ([`super::unrecorded`]): what the call
/// said and did, owned, stamped with the call's time.
pub(crate) struct Deferred {
    caller: Caller,
    region: String,
    service: &'static dyn Service,
    op: String,
    read_only: bool,
    source_ip: String,
    user_agent: String,
    /// (errorCode, errorMessage) of a failed call.
    error: Option<(String, String)>,
    /// The call's input: its `requestParameters` are made from it by the writer, after the
    /// answer.
    input: Input,
    response: J,
    request_id: String,
    resources: Vec<TrailResource>,
    /// (eventTime, the time LookupEvents first shows it), in ms.
    stamp: (i64, i64),
    /// When EventBridge gets it, if a trail logs it at the time of the call.
    handed_over_ms: Option<i64>,
}

/// Record a call in CloudTrail: its record has joined the history when this returns.
pub fn record(
    cx: &Call<'_>,
    service: &'static dyn Service,
    op: &str,
    input: &Input,
    result: &Result<Value, AwsError>,
    source_ip: &str,
    user_agent: &str,
) {
    let made = Made {
        caller: cx.caller.clone(),
        region: cx.region.clone(),
        request_id: cx.request_id.clone(),
        resources: cx.resources.clone(),
        response_elements: cx.response_elements.clone(),
        op: op.to_string(),
        source_ip: source_ip.to_string(),
        user_agent: user_agent.to_string(),
    };
    let _ = take_down(cx.sandbox, service, input.clone(), result, made);
    super::unrecorded::settle(cx.sandbox);
}

/// Take down a call's record, to join the history at the next settling: a later call's
/// writer or the sandbox's tick writes it after the answer, and whatever reads the history
/// settles it first ([`crate::Sandbox::events`]), so nothing asked after the answer can miss
/// it. Whether the caller should start a settling now: the waiting records are due
/// ([`super::unrecorded::wait`]). The call is done: the record
/// keeps what it owned (its caller, region, request ID, resources) instead of copies.
#[must_use]
pub fn defer(
    cx: Call<'_>,
    service: &'static dyn Service,
    op: String,
    input: Input,
    result: &Result<Value, AwsError>,
    source_ip: String,
    user_agent: String,
) -> bool {
    let made = Made {
        caller: cx.caller,
        region: cx.region,
        request_id: cx.request_id,
        resources: cx.resources,
        response_elements: cx.response_elements,
        op,
        source_ip,
        user_agent,
    };
    take_down(cx.sandbox, service, input, result, made)
}

/// What a record keeps of the call that made it and of its request, owned.
struct Made {
    caller: Caller,
    region: String,
    request_id: String,
    resources: Vec<TrailResource>,
    response_elements: Option<J>,
    op: String,
    source_ip: String,
    user_agent: String,
}

/// [`defer`]'s work, whoever owns the call's parts.
fn take_down(
    sb: &crate::Sandbox,
    service: &'static dyn Service,
    input: Input,
    result: &Result<Value, AwsError>,
    made: Made,
) -> bool {
    let read_only = service.read_only(&made.op);
    let response = match (result, read_only) {
        (Ok(v), false) => {
            let mut r = made
                .response_elements
                .unwrap_or_else(|| response_elements(v));
            strip_secrets(&mut r);
            r
        }
        _ => J::Null,
    };
    let delay_ms = sb.config.cloudtrail_delivery_delay().whole_milliseconds() as i64;
    let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
    // CloudTrail times events to the second (eventTime and LookupEvents' EventTime agree).
    let time_ms = now_ms - now_ms.rem_euclid(1000);
    // CloudTrail hands management events to EventBridge only while a trail is logging.
    let logging = super::logging_in(
        sb,
        &made.caller.account,
        &made.region,
        read_only,
        service.event_source(),
    );
    let handed_over = sb.config.eventbridge_delivery_delay().whole_milliseconds() as i64;
    super::unrecorded::wait(
        sb,
        Deferred {
            caller: made.caller,
            region: made.region,
            service,
            op: made.op,
            read_only,
            source_ip: made.source_ip,
            user_agent: made.user_agent,
            error: result
                .as_ref()
                .err()
                .map(|e| (e.code.clone(), e.message.clone())),
            input,
            response,
            request_id: made.request_id,
            resources: made.resources,
            stamp: (time_ms, time_ms + delay_ms),
            handed_over_ms: logging.then_some(now_ms + handed_over),
        },
    )
}

/// A written record as EventBridge gets it, if a trail logged the call.
pub(crate) struct HandOver {
    record: J,
    account: String,
    region: String,
    due_ms: i64,
    read_only: bool,
}

/// Write a waiting record into the history; what EventBridge is to get of it. Its frame is
/// written to disk with the next write: the writer of the waiting records ends each batch
/// with [`crate::services::cloudtrail::events::EventStore::flush`], then hands the batch's
/// records over ([`hand_over`]), so what a record causes is never on disk before it.
pub(crate) fn write(sb: &crate::Sandbox, d: Deferred) -> Option<HandOver> {
    let event_id = crate::util::uuid();
    let account = d.caller.account.as_str();
    let mut request_parameters = d.service.request_parameters(&d.op, &d.input);
    strip_secrets(&mut request_parameters);
    if matches!(&request_parameters, J::Object(m) if m.is_empty()) {
        request_parameters = J::Null;
    }
    let parts = RecordParts {
        caller: &d.caller,
        region: &d.region,
        event_source: d.service.event_source(),
        op: &d.op,
        source_ip: &d.source_ip,
        user_agent: &d.user_agent,
        error: d.error.as_ref().map(|(c, m)| (c.as_str(), m.as_str())),
        request_parameters,
        response: d.response,
        request_id: &d.request_id,
        event_id: &event_id,
        read_only: d.read_only,
        resources: &d.resources,
    };
    let time_ms = sb.history.append(
        account,
        &d.region,
        parts.new_event(),
        d.stamp,
        |time_ms| Record::Members(parts.members(time_ms)),
        |frame| sb.persist_event(frame),
        Written::WithNext,
    );
    let due_ms = d.handed_over_ms?;
    let record = parts.render(time_ms);
    Some(HandOver {
        record,
        account: d.caller.account,
        region: d.region,
        due_ms,
        read_only: d.read_only,
    })
}

/// Hand a written record to EventBridge (routed now if its time has come).
pub(crate) fn hand_over(sb: &crate::Sandbox, h: HandOver) {
    sb.schedule_cloudtrail_record(&h.record, (&h.account, &h.region), h.due_ms, h.read_only);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::identity::Principal;
    use crate::services::cloudtrail::events::{dict::Dict, record};

    /// What the history keeps, put back together, is the record EventBridge gets, byte for
    /// byte: the two forms come from one list of members.
    #[test]
    fn the_history_keeps_the_record_eventbridge_gets() {
        let caller = Caller {
            access_key_id: "AKIAEXAMPLE".into(),
            account: "111122223333".into(),
            principal: Principal::IamUser {
                name: "learner".into(),
                user_id: "AIDAEXAMPLE".into(),
            },
            console_since: Some("2026-12-04T00:00:00Z".into()),
        };
        let resources = [TrailResource {
            arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
            resource_type: "AWS::KMS::Key".into(),
        }];
        let event_id = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";
        let parts = RecordParts {
            caller: &caller,
            region: "us-east-1",
            event_source: "kms.amazonaws.com",
            op: "GenerateDataKey",
            source_ip: "192.0.2.1",
            user_agent: "agent \"quoted\" é",
            error: Some(("AccessDeniedException", "not \\ allowed")),
            request_parameters: json!({"keyId": "alias/ImportedCMK",
                                       "encryptionContext": {"project": "workshop"}}),
            response: J::Null,
            request_id: "11111111-2222-4333-8444-555555555555",
            event_id,
            read_only: true,
            resources: &resources,
        };
        let t = 1_764_000_000_000;
        let mut dict = Dict::default();
        let own = record::Own {
            time_ms: t,
            event_id: record::uuid_bytes(event_id),
            request_id: None,
        };
        let (body, request_id) = record::body_of(&mut dict, &parts.members(t), &own);
        assert!(request_id.is_some(), "the request ID is the event's own");
        let own = record::Own { request_id, ..own };
        let text = record::render(&dict, body, &own).expect("renders");
        assert_eq!(text, parts.render(t).to_string());
        let listed = r#""resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k"}]"#;
        assert!(
            text.contains(listed),
            "resources as CloudTrail lists them: {text}"
        );
    }
}
