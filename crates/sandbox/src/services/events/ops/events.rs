//! Events: PutEvents (custom events onto the default bus) and TestEventPattern.

use serde_json::{json, Value as J};

use super::parse_pattern;
use crate::protocol::{AwsError, Input, Value};
use crate::services::Call;

pub(crate) fn test_event_pattern(input: &Input) -> Result<Value, AwsError> {
    let pattern = parse_pattern(&input.req_str("EventPattern")?)?;
    let event_text = input.req_str("Event")?;
    let event: J = serde_json::from_str(&event_text)
        .map_err(|_| AwsError::validation("Parameter Event is not valid."))?;
    for field in ["id", "account", "source", "time", "region", "detail-type"] {
        if event.get(field).is_none() {
            return Err(AwsError::validation(format!(
                "Parameter Event is not valid: the event has no '{field}'."
            )));
        }
    }
    Ok(Value::obj().with("Result", pattern.matches(&event)))
}

/// How an entry of PutEvents fares: its event id, or the entry's error code and message.
type Outcome = Result<String, (&'static str, &'static str)>;

/// Check one entry of PutEvents; an accepted one's event is added to `accepted`.
fn accept(cx: &Call<'_>, e: &Input, accepted: &mut Vec<J>) -> Result<Outcome, AwsError> {
    let source = e.str("Source")?;
    let detail_type = e.str("DetailType")?;
    let detail = e.str("Detail")?;
    Ok(match (source, detail_type, detail) {
        (Some(s), _, _) if s.starts_with("aws.") => Err((
            "NotAuthorizedForSourceException",
            "Not authorized for the source.",
        )),
        (Some(_), Some(dt), Some(_)) if dt.is_empty() => Err((
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        )),
        (Some(s), Some(dt), Some(d)) => match serde_json::from_str::<J>(&d) {
            Ok(detail @ J::Object(_)) => {
                let id = crate::util::uuid();
                let time = e.time("Time")?.unwrap_or(cx.now);
                let resources = e.str_list("Resources")?;
                accepted.push(json!({
                    "version": "0", "id": id, "detail-type": dt, "source": s, "account": cx.account(),
                    "time": crate::util::iso8601_secs(time), "region": cx.region, "resources": resources, "detail": detail,
                }));
                Ok(id)
            }
            _ => Err(("MalformedDetail", "Detail is malformed.")),
        },
        _ => Err((
            "InvalidArgument",
            "Parameters Source, DetailType and Detail are required.",
        )),
    })
}

pub(crate) fn put_events(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    // From 1 to 10 entries: the model's constraint, checked before.
    let entries = input.list("Entries")?;
    let mut results = Vec::new();
    let mut failed = 0i64;
    let mut accepted = Vec::new();
    for e in entries {
        match accept(cx, &e, &mut accepted)? {
            Ok(id) => results.push(Value::obj().with("EventId", id)),
            Err((code, msg)) => {
                failed += 1;
                results.push(
                    Value::obj()
                        .with("ErrorCode", code)
                        .with("ErrorMessage", msg),
                );
            }
        }
    }
    for ev in &accepted {
        cx.sandbox
            .route_event(cx.account(), &cx.region, ev, None, cx.now);
    }
    Ok(Value::obj()
        .with("FailedEntryCount", failed)
        .with("Entries", Value::List(results)))
}
