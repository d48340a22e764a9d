//! A CloudTrail record as the history keeps it: its *body*, the list of its top-level members
//! as (name, JSON text) pairs of dictionary numbers, with three holes for what every event has
//! of its own (its time, event ID and request ID, kept as numbers in the event). Two calls by
//! one caller with the same parameters share one body, so a record of 1.2 KB costs its event a
//! few bytes; the JSON is put back together, byte for byte, when a lookup returns it.
//!
//! Written here rather than taken from a crate: this is a dictionary coder for one shape of
//! document whose output must equal its input exactly (LookupEvents' `CloudTrailEvent` is the
//! text the call recorded), which general compressors give only at the cost of decompressing
//! blocks on every lookup.

use std::ops::Range;

use serde::Serialize;
use serde_json::{Map, Value as J};
use uuid::Uuid;

use super::dict::{Dict, Id};

/// Body entries standing for the event's own values.
pub const HOLE_TIME: Id = u32::MAX;
pub const HOLE_EVENT_ID: Id = u32::MAX - 1;
pub const HOLE_REQUEST_ID: Id = u32::MAX - 2;
/// A body `[VERBATIM, text]`: a record kept as its whole text (one that is not a JSON object
/// in the compact form this module writes).
pub const VERBATIM: Id = u32::MAX - 3;

/// The canonical (lower-case, hyphenated) UUID `s` as bytes; `None` for any other text.
pub fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    let u = Uuid::try_parse(s).ok()?;
    let mut buf = Uuid::encode_buffer();
    (u.hyphenated().encode_lower(&mut buf) == s).then(|| *u.as_bytes())
}

pub fn uuid_text(bytes: &[u8; 16]) -> String {
    Uuid::from_bytes(*bytes).hyphenated().to_string()
}

fn event_time(time_ms: i64) -> String {
    let t = crate::util::at_epoch_ms(time_ms);
    crate::util::iso8601_secs(t)
}

/// What a body leaves to its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Own {
    pub time_ms: i64,
    /// The event ID when it is a canonical UUID (otherwise the body holds it).
    pub event_id: Option<[u8; 16]>,
    pub request_id: Option<[u8; 16]>,
}

/// A record's top-level members as JSON text, in order: each member's name (quoted) and value,
/// spans of one buffer. The recorder writes a record straight into this form, so nothing is
/// built only to be written out again.
#[derive(Debug, Clone, Default)]
pub struct Members {
    text: Vec<u8>,
    spans: Vec<Span>,
}

/// A member's (quoted name, value) in the text.
type Span = (Range<usize>, Range<usize>);

/// A new record's text room: a workshop call's record is 1–2 KB.
const TEXT_ROOM: usize = 2048;

/// The largest text buffer a thread keeps for its next record (a record with a large request
/// is written in a buffer of its own, let go with it).
const KEPT_TEXT: usize = 16 * 1024;

thread_local! {
    /// The buffers of the last record this thread wrote, for its next one: a record's 2 KB
    /// buffer is beyond the allocator's per-thread cache, so each came from its shared arena,
    /// where the writers on several threads waited on its lock.
    static SPARE: std::cell::Cell<Option<(Vec<u8>, Vec<Span>)>> = const { std::cell::Cell::new(None) };
}

impl Members {
    /// Room for a typical record (a workshop call's is 1–2 KB in about 20 members), so
    /// writing one does not grow its buffer step by step: the thread's last record's buffers
    /// when it has them.
    pub fn for_a_record() -> Members {
        match SPARE.try_with(std::cell::Cell::take).ok().flatten() {
            Some((mut text, mut spans)) => {
                text.clear();
                spans.clear();
                Members { text, spans }
            }
            None => Members {
                text: Vec::with_capacity(TEXT_ROOM),
                spans: Vec::with_capacity(24),
            },
        }
    }

    /// Add member `name` with `value` written as JSON.
    pub fn push(&mut self, name: &str, value: &(impl Serialize + ?Sized)) {
        let key_start = self.text.len();
        // Writing JSON into a Vec fails only for values serde_json cannot write (a map with
        // keys that are not strings); such a member is written as null.
        let _ = serde_json::to_writer(&mut self.text, name);
        let value_start = self.text.len();
        if serde_json::to_writer(&mut self.text, value).is_err() {
            self.text.truncate(value_start);
            self.text.extend_from_slice(b"null");
        }
        self.spans
            .push((key_start..value_start, value_start..self.text.len()));
    }

    /// The members of a JSON object.
    pub fn of_map(record: &Map<String, J>) -> Members {
        let mut m = Members::default();
        for (k, v) in record {
            m.push(k, v);
        }
        m
    }

    /// (quoted name, value) texts, in order.
    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        // serde_json writes UTF-8 only.
        let text = std::str::from_utf8(&self.text).unwrap_or_default();
        self.spans
            .iter()
            .map(move |(k, v)| (&text[k.clone()], &text[v.clone()]))
    }
}

impl Drop for Members {
    /// A record's buffers go back to the thread for its next record (see [`SPARE`]).
    fn drop(&mut self) {
        if !(TEXT_ROOM..=KEPT_TEXT).contains(&self.text.capacity()) {
            return;
        }
        let kept = (
            std::mem::take(&mut self.text),
            std::mem::take(&mut self.spans),
        );
        // A thread that is ending keeps nothing.
        let _ = SPARE.try_with(|spare| spare.set(Some(kept)));
    }
}

/// The string a JSON text is when it is a string with nothing escaped in it.
fn plain_string(json: &str) -> Option<&str> {
    json.strip_prefix('"')?
        .strip_suffix('"')
        .filter(|s| !s.contains(['"', '\\']))
}

/// The body of a record (an event at `own.time_ms` with `own.event_id`), and its request ID
/// when the body leaves it to the event.
pub fn body_of(dict: &mut Dict, record: &Members, own: &Own) -> (Id, Option<[u8; 16]>) {
    let mut body = Vec::with_capacity(record.spans.len() * 2);
    let mut request_id = None;
    let mut time_text = None;
    for (k, v) in record.iter() {
        let hole = match (k, plain_string(v)) {
            ("\"eventTime\"", Some(s)) => {
                let expected = time_text.get_or_insert_with(|| event_time(own.time_ms));
                (s == expected).then_some(HOLE_TIME)
            }
            ("\"eventID\"", Some(s)) => own
                .event_id
                .filter(|b| uuid_bytes(s).as_ref() == Some(b))
                .map(|_| HOLE_EVENT_ID),
            // The nil UUID stays in the body: all zeros is the event's "no request ID".
            ("\"requestID\"", Some(s)) if request_id.is_none() => {
                uuid_bytes(s).filter(|b| *b != [0; 16]).map(|b| {
                    request_id = Some(b);
                    HOLE_REQUEST_ID
                })
            }
            _ => None,
        };
        body.push(dict.string(k));
        body.push(match hole {
            Some(h) => h,
            None => dict.string(v),
        });
    }
    (dict.bodies.intern(&body[..], |b| Box::from(b)), request_id)
}

/// The body of a record given as text, and its request ID: the object's members when writing
/// them back gives the same text, the whole text otherwise.
pub fn body_of_text(dict: &mut Dict, text: &str, own: &Own) -> (Id, Option<[u8; 16]>) {
    if let Ok(J::Object(m)) = serde_json::from_str::<J>(text) {
        let (body, request_id) = body_of(dict, &Members::of_map(&m), own);
        let own = Own { request_id, ..*own };
        if render(dict, body, &own).as_deref() == Some(text) {
            return (body, request_id);
        }
    }
    let verbatim = [VERBATIM, dict.string(text)];
    (dict.bodies.intern(&verbatim[..], |b| Box::from(b)), None)
}

/// The record's text; `None` when the body names something the dictionary does not hold (a
/// damaged history, refused when it is read).
pub fn render(dict: &Dict, body: Id, own: &Own) -> Option<String> {
    let body = dict.bodies.get_item(body)?;
    if let [VERBATIM, text] = **body {
        return dict.strings.get_item(text).map(|t| t.to_string());
    }
    let mut out = String::with_capacity(1280);
    out.push('{');
    for (i, pair) in body.chunks_exact(2).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(dict.strings.get_item(pair[0])?);
        out.push(':');
        match pair[1] {
            HOLE_TIME => {
                out.push('"');
                out.push_str(&event_time(own.time_ms));
                out.push('"');
            }
            HOLE_EVENT_ID | HOLE_REQUEST_ID => {
                let id = if pair[1] == HOLE_EVENT_ID {
                    own.event_id
                } else {
                    own.request_id
                };
                out.push('"');
                out.push_str(&uuid_text(&id?));
                out.push('"');
            }
            v => out.push_str(dict.strings.get_item(v)?),
        }
    }
    out.push('}');
    Some(out)
}

/// Whether every number in body `body` names something the dictionary holds.
pub fn valid_body(dict: &Dict, body: &[Id]) -> bool {
    let n = dict.strings.len() as Id;
    match body {
        [VERBATIM, text] => *text < n,
        _ => {
            body.len().is_multiple_of(2)
                && body.chunks_exact(2).all(|p| {
                    p[0] < n
                        && (p[1] < n || matches!(p[1], HOLE_TIME | HOLE_EVENT_ID | HOLE_REQUEST_ID))
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn own(t: i64) -> Own {
        Own {
            time_ms: t,
            event_id: uuid_bytes("0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"),
            request_id: None,
        }
    }

    #[test]
    fn bodies_are_shared_and_records_come_back_byte_for_byte() {
        let mut dict = Dict::default();
        let t = 1_764_000_000_000;
        let rec = |req: &str| {
            json!({"eventVersion": "1.11", "eventTime": event_time(t), "eventName": "GenerateDataKey",
                   "requestParameters": {"keyId": "alias/ImportedCMK", "encryptionContext": {"project": "workshop \"q\" é"}},
                   "requestID": req, "eventID": "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "readOnly": true, "n": 1.5e300})
        };
        let a = rec("11111111-2222-4333-8444-555555555555");
        let b = rec("66666666-7777-4888-8999-aaaaaaaaaaaa");
        let of = |j: &J| Members::of_map(j.as_object().unwrap());
        let (ba, ra) = body_of(&mut dict, &of(&a), &own(t));
        let (bb, rb) = body_of(&mut dict, &of(&b), &own(t));
        assert_eq!(
            ba, bb,
            "one body for two calls that differ only in their IDs"
        );
        let back = |r| {
            render(
                &dict,
                ba,
                &Own {
                    request_id: r,
                    ..own(t)
                },
            )
            .unwrap()
        };
        assert_eq!(back(ra), a.to_string());
        assert_eq!(back(rb), b.to_string());
        // Another time leaves the time in the body.
        let (bc, rc) = body_of(&mut dict, &of(&a), &own(t + 1000));
        assert_ne!(bc, ba);
        let o = Own {
            request_id: rc,
            ..own(t + 1000)
        };
        assert_eq!(render(&dict, bc, &o).unwrap(), a.to_string());
    }

    #[test]
    fn text_that_does_not_write_back_the_same_is_kept_whole() {
        let mut dict = Dict::default();
        for text in [
            "{\"a\": 1}",
            "{\"a\":1.0}",
            "[1,2]",
            "not json",
            "{\"a\":\"\\u00e9\"}",
            "{\"a\":1,\"a\":2}",
        ] {
            let (body, r) = body_of_text(&mut dict, text, &own(0));
            assert_eq!(
                render(
                    &dict,
                    body,
                    &Own {
                        request_id: r,
                        ..own(0)
                    }
                )
                .unwrap(),
                text
            );
        }
        let compact = "{\"a\":1,\"eventID\":\"0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b\"}";
        let (body, _) = body_of_text(&mut dict, compact, &own(0));
        assert_eq!(dict.bodies[body][3], HOLE_EVENT_ID);
    }

    #[test]
    fn a_nil_request_id_stays_in_the_body() {
        let mut dict = Dict::default();
        let text = "{\"requestID\":\"00000000-0000-0000-0000-000000000000\"}";
        let (body, r) = body_of_text(&mut dict, text, &own(0));
        assert!(r.is_none());
        assert_eq!(render(&dict, body, &own(0)).unwrap(), text);
    }

    #[test]
    fn only_canonical_uuids_are_holes() {
        assert!(uuid_bytes("0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B").is_none());
        assert!(uuid_bytes("0f1e2d3c4b5a49788a6b5c4d3e2f1a0b").is_none());
        assert!(uuid_bytes("x").is_none());
    }

    /// A record written in the buffers of the thread's last one holds only its own members.
    #[test]
    fn a_record_in_reused_buffers_is_its_own() {
        let mut first = Members::for_a_record();
        first.push("eventName", "GenerateDataKey");
        first.push("readOnly", &true);
        drop(first);
        let mut second = Members::for_a_record();
        assert!(
            second.text.capacity() >= TEXT_ROOM,
            "the last record's buffer"
        );
        second.push("eventName", "Decrypt");
        let members: Vec<(&str, &str)> = second.iter().collect();
        assert_eq!(members, [("\"eventName\"", "\"Decrypt\"")]);
    }
}
