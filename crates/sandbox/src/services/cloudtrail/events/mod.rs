//! CloudTrail event history: every recorded management event, per account and region, with
//! an index per lookup attribute so `LookupEvents` stays fast over millions of events.
//!
//! Events are kept in event-time order (an event stamped before the last one of its account
//! and region takes that one's time), so a time range is a binary search and "newest first" is
//! a walk backwards; an attribute filter walks that attribute's posting list instead.
//!
//! An event is kept as 56 bytes ([`partition::Compact`]): its time, IDs and the numbers of its
//! record's body and attribute set in the history's [`dict`]ionary, where every distinct value
//! is kept once; the record's JSON is put back together when a lookup returns it
//! ([`record`]). On disk the history is the same numbers ([`codec`]), so a restart reads them
//! back instead of parsing JSON.

pub mod codec;
pub mod dict;
pub mod partition;
pub mod record;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::Value as J;

use dict::{Attrs, Dict, Id};
use partition::{Compact, Partition};
use record::Own;

/// The eight lookup attributes, in AWS's spelling.
pub const ATTRIBUTES: [&str; 8] = [
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

pub fn attribute_index(name: &str) -> Option<u8> {
    ATTRIBUTES.iter().position(|a| *a == name).map(|i| i as u8)
}

/// An event as a lookup returns it, its record rendered.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub time_ms: i64,
    pub visible_ms: i64,
    pub event_id: Box<str>,
    pub event_name: Arc<str>,
    pub event_source: Arc<str>,
    pub username: Arc<str>,
    pub access_key_id: Arc<str>,
    pub read_only: bool,
    /// (resource type, resource name)
    pub resources: Vec<(Arc<str>, Arc<str>)>,
    /// The full CloudTrail record, as the JSON string `LookupEvents` returns.
    pub record: String,
}

/// What the recorder hands over (before the store stamps the time). Borrowed where the
/// caller has the strings (the recorder's record, written once a call is answered): the store
/// only looks them up in its dictionary.
pub struct NewEvent<'a> {
    pub event_id: Cow<'a, str>,
    pub event_name: Cow<'a, str>,
    pub event_source: Cow<'a, str>,
    pub username: Cow<'a, str>,
    pub access_key_id: Cow<'a, str>,
    pub read_only: bool,
    pub resources: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// A query over one partition.
#[derive(Debug, Clone)]
pub struct Query {
    pub attribute: Option<(u8, String)>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub now_ms: i64,
    pub max: usize,
    /// Exclusive upper bound (a position) from a previous page.
    pub before: Option<u32>,
}

#[derive(Default)]
struct Inner {
    dict: Dict,
    /// By (account, region), both dictionary strings.
    partitions: HashMap<(Id, Id), Partition>,
    /// Events appended [`Written::WithNext`], in memory and not yet on disk:
    /// (account, region, event). They are written, after the dictionary values they use and
    /// before anything else, by the next write (a flush, an append written now, a reset).
    held: Vec<(Id, Id, Compact)>,
    /// The text of the dictionary strings not on disk yet: those the held events were the
    /// first to use, and any a failed write left.
    held_text: usize,
}

/// When an appended event's frame is written to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Before the append returns.
    Now,
    /// With the next write (a flush, an append written now, a reset), or once [`MOST_HELD`]
    /// events or text are held: a writer of many events at a time writes them in one frame,
    /// not one write(2) each.
    WithNext,
}

/// Events, and bytes of new text, past which a held append writes them itself, so a burst's
/// batch is not one huge frame: a frame holds at most this many events, and more text only
/// by its last event's own (a frame of one event was as large before held appends).
/// The torn-write bound of [`crate::store::history`] is four times this text.
const MOST_HELD: (usize, usize) = (256, 256 * 1024);

/// A record as the caller has it: its members as the recorder writes them, a JSON value, or
/// text (a history loaded from elsewhere).
pub enum Record {
    Members(record::Members),
    Json(J),
    Text(String),
}

#[derive(Default)]
pub struct EventStore {
    inner: RwLock<Inner>,
    /// Whether appends hand their frame to `persist` (a state directory is open).
    persisting: AtomicBool,
}

impl EventStore {
    /// From now on, appends and resets hand the bytes to write to their `persist` closure;
    /// what the store holds now is on disk already (replayed, or written anew by [`Self::export`]).
    pub fn set_persisting(&self, on: bool) {
        let mut inner = self.inner.write();
        if on && !self.persisting.load(Ordering::Relaxed) {
            inner.dict.mark_persisted();
        }
        if !on {
            // Nothing is written from now on.
            inner.held.clear();
            inner.held_text = 0;
        }
        self.persisting.store(on, Ordering::Relaxed);
    }

    /// Write the held events, if any ([`Written::WithNext`]).
    pub fn flush(&self, persist: impl FnOnce(&[u8]) -> bool) {
        if !self.persisting.load(Ordering::Relaxed) {
            return;
        }
        let mut guard = self.inner.write();
        if !guard.held.is_empty() {
            self.write(&mut guard, None, persist);
        }
    }

    /// Append an event stamped `(time_ms, visible_ms)` (its time and when it becomes
    /// visible), whose record `render` writes for a time. The record is written before the
    /// store's lock is taken; an event stamped before the partition's last one takes that
    /// one's time (the history stays in time order) and is written again for it. `persist`
    /// gets the bytes to write (when persisting, and when `written` says) and says whether
    /// they were written. In memory the event is there when this returns. Returns the
    /// event's time.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &self,
        account: &str,
        region: &str,
        new: NewEvent<'_>,
        (stamped_ms, visible_ms): (i64, i64),
        render: impl Fn(i64) -> Record,
        persist: impl FnOnce(&[u8]) -> bool,
        written: Written,
    ) -> i64 {
        let mut rendered = render(stamped_ms);
        let mut guard = self.inner.write();
        let inner = &mut *guard;
        let strings_before = inner.dict.strings.len();
        let key = (inner.dict.string(account), inner.dict.string(region));
        let last = inner.partitions.get(&key).and_then(|p| p.events.last());
        let time_ms = stamped_ms.max(last.map_or(i64::MIN, |e| e.time_ms));
        if time_ms != stamped_ms {
            rendered = render(time_ms);
        }
        let own = Own {
            time_ms,
            event_id: record::uuid_bytes(&new.event_id),
            request_id: None,
        };
        let (body, request_id) = match &rendered {
            Record::Members(m) => record::body_of(&mut inner.dict, m, &own),
            Record::Json(J::Object(m)) => {
                record::body_of(&mut inner.dict, &record::Members::of_map(m), &own)
            }
            Record::Json(other) => record::body_of_text(&mut inner.dict, &other.to_string(), &own),
            Record::Text(t) => record::body_of_text(&mut inner.dict, t, &own),
        };
        let d = &mut inner.dict;
        let attrs = Attrs {
            name: d.string(&new.event_name),
            source: d.string(&new.event_source),
            username: d.string(&new.username),
            access_key_id: d.string(&new.access_key_id),
            read_only: new.read_only,
            resources: new
                .resources
                .iter()
                .map(|(t, n)| (d.string(t), d.string(n)))
                .collect(),
        };
        let mut event_id = own.event_id.unwrap_or_default();
        if own.event_id.is_none() {
            event_id[..4].copy_from_slice(&d.string(&new.event_id).to_le_bytes());
        }
        let event = Compact {
            time_ms,
            event_id,
            request_id: request_id.unwrap_or_default(),
            // CloudTrail's delay is minutes; anything past 49 days is as good as never.
            visible_after: u32::try_from(visible_ms.saturating_sub(time_ms).max(0))
                .unwrap_or(u32::MAX),
            body,
            attrs: d.attrs.intern(&attrs, Clone::clone),
            odd_id: own.event_id.is_none(),
        };
        // Written under the lock, so the file keeps the in-memory order.
        if self.persisting.load(Ordering::Relaxed) {
            inner.held.push((key.0, key.1, event));
            let strings = inner.dict.strings.all();
            inner.held_text += strings[strings_before..]
                .iter()
                .map(|s| s.len())
                .sum::<usize>();
            if written == Written::Now
                || inner.held.len() >= MOST_HELD.0
                || inner.held_text >= MOST_HELD.1
            {
                self.write(inner, None, persist);
            }
        }
        let attrs = &inner.dict.attrs[event.attrs];
        inner.partitions.entry(key).or_default().push(event, attrs);
        time_ms
    }

    /// Hand the held events and then `entry`, after the dictionary values they are the
    /// first to use, to `persist` as one frame.
    fn write(
        &self,
        inner: &mut Inner,
        entry: Option<codec::Entry<'_>>,
        persist: impl FnOnce(&[u8]) -> bool,
    ) {
        if !self.persisting.load(Ordering::Relaxed) {
            return;
        }
        let mut entries = codec::definitions(&inner.dict, false);
        entries.extend(
            inner
                .held
                .iter()
                .map(|&(account, region, event)| codec::Entry::Event {
                    account,
                    region,
                    event,
                }),
        );
        entries.extend(entry);
        // Values whose write failed go again with the next one; the events are in memory
        // and not on disk, as a single event's failed write leaves it.
        inner.held_text = 0;
        if persist(&codec::encode(&entries)) {
            inner.dict.mark_persisted();
        } else {
            // They go again with the next write, and count towards its bound.
            let left = inner.dict.strings.unpersisted().iter().map(|s| s.len());
            inner.held_text = left.sum();
        }
        inner.held.clear();
    }

    /// Re-load one line of a history written as JSON lines by an earlier version (at
    /// start-up, before the history is written anew). Malformed lines are skipped with a
    /// warning: the framing checksum already vouched for them.
    pub fn load_json_line(&self, line: J) {
        // A classroom learner's account was reset: its history before this line is gone.
        if let Some(account) = line.get("reset").and_then(J::as_str) {
            self.clear_account(account, |_| true);
            return;
        }
        let s = |k: &str| line.get(k).and_then(J::as_str).unwrap_or("").to_string();
        let (Some(t), Some(v)) = (
            line.get("t").and_then(J::as_i64),
            line.get("v").and_then(J::as_i64),
        ) else {
            tracing::warn!("skipping a CloudTrail history line without times");
            return;
        };
        let resources: Vec<(Cow<'_, str>, Cow<'_, str>)> =
            serde_json::from_value(line.get("res").cloned().unwrap_or(J::Null)).unwrap_or_default();
        let new = NewEvent {
            event_id: s("id").into(),
            event_name: s("n").into(),
            event_source: s("s").into(),
            username: s("u").into(),
            access_key_id: s("k").into(),
            read_only: line.get("ro").and_then(J::as_bool).unwrap_or(false),
            resources,
        };
        let text = super::recorder::scrubbed(s("rec"));
        self.append(
            &s("a"),
            &s("r"),
            new,
            (t, v),
            |_| Record::Text(text.clone()),
            |_| true,
            Written::Now,
        );
    }

    /// Replay a binary history ([`codec`]), frame by frame, into this (empty) store. An error
    /// names the frame (counted from 1) and what is wrong with it.
    pub fn replay<'a>(
        &self,
        frames: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), (usize, String)> {
        let mut guard = self.inner.write();
        let inner = &mut *guard;
        for (i, frame) in frames.into_iter().enumerate() {
            let entries = codec::decode(frame).map_err(|e| (i + 1, e))?;
            for entry in entries {
                inner.replay(entry).map_err(|e| (i + 1, e))?;
            }
        }
        inner.dict.mark_persisted();
        Ok(())
    }

    /// The whole history as frames to write anew: the dictionary, then the events.
    pub fn export(&self) -> Vec<Vec<u8>> {
        let inner = self.inner.read();
        let definitions = codec::definitions(&inner.dict, true);
        let mut frames: Vec<Vec<u8>> = definitions.chunks(1024).map(codec::encode).collect();
        for (&(account, region), p) in &inner.partitions {
            for chunk in p.events.chunks(4096) {
                let entries: Vec<codec::Entry<'_>> = chunk
                    .iter()
                    .map(|&event| codec::Entry::Event {
                        account,
                        region,
                        event,
                    })
                    .collect();
                frames.push(codec::encode(&entries));
            }
        }
        frames
    }

    /// Forget every event of `account`, in every region (and say so to `persist`).
    pub fn clear_account(&self, account: &str, persist: impl FnOnce(&[u8]) -> bool) {
        let mut guard = self.inner.write();
        let inner = &mut *guard;
        let id = inner.dict.string(account);
        inner.partitions.retain(|(a, _), _| *a != id);
        self.write(inner, Some(codec::Entry::Reset(id)), persist);
    }

    pub fn len(&self, account: &str, region: &str) -> usize {
        let inner = self.inner.read();
        inner
            .partition(account, region)
            .map_or(0, |p| p.events.len())
    }

    /// How many events the history holds in all, and the bytes it has allocated for them
    /// (events, indexes and dictionary, by their capacities): its memory without the
    /// allocator's bookkeeping, which a test can bound where a process's resident size is too
    /// coarse a measure.
    pub fn footprint(&self) -> (usize, usize) {
        let inner = self.inner.read();
        let events = inner.partitions.values().map(|p| p.events.len()).sum();
        let slots =
            inner.partitions.capacity() * (std::mem::size_of::<((Id, Id), Partition)>() + 1);
        let partitions: usize = inner.partitions.values().map(Partition::heap_bytes).sum();
        (events, inner.dict.heap_bytes() + slots + partitions)
    }

    pub fn is_empty(&self) -> bool {
        self.inner
            .read()
            .partitions
            .values()
            .all(|p| p.events.is_empty())
    }

    /// Run a query: matching events newest first, and the bound for the next page if any.
    pub fn lookup(
        &self,
        account: &str,
        region: &str,
        q: &Query,
    ) -> (Vec<StoredEvent>, Option<u32>) {
        let inner = self.inner.read();
        let Some(p) = inner.partition(account, region) else {
            return (Vec::new(), None);
        };
        let d = &inner.dict;
        let by_id;
        let list: &[u32] = match &q.attribute {
            None => {
                // No attribute: walk every position without materialising a list.
                let upper = p.events.partition_point(|e| e.time_ms <= q.end_ms) as u32;
                let upper = q.before.map_or(upper, |b| b.min(upper));
                return walk(d, p, (0..upper).rev(), q);
            }
            Some((0, v)) => match record::uuid_bytes(v) {
                Some(bytes) => {
                    by_id = p.with_id(&bytes);
                    &by_id
                }
                None => d
                    .strings
                    .get(v.as_str())
                    .map_or(&[], |id| p.postings(0, id)),
            },
            Some((2, v)) => match v.as_str() {
                "true" => p.read_only(true),
                "false" => p.read_only(false),
                _ => &[],
            },
            Some((k, v)) => d
                .strings
                .get(v.as_str())
                .map_or(&[], |id| p.postings(*k, id)),
        };
        let upper = list.partition_point(|pos| p.events[*pos as usize].time_ms <= q.end_ms);
        let upper = match q.before {
            Some(b) => upper.min(list.partition_point(|pos| *pos < b)),
            None => upper,
        };
        walk(d, p, list[..upper].iter().rev().copied(), q)
    }
}

impl Inner {
    fn partition(&self, account: &str, region: &str) -> Option<&Partition> {
        let key = (
            self.dict.strings.get(account)?,
            self.dict.strings.get(region)?,
        );
        self.partitions.get(&key)
    }

    /// Apply one replayed entry, refusing one that names what was never defined.
    fn replay(&mut self, entry: codec::Entry<'_>) -> Result<(), String> {
        let strings = self.dict.strings.len() as Id;
        match entry {
            codec::Entry::Event {
                account,
                region,
                event,
            } => {
                let valid = account < strings
                    && region < strings
                    && (event.body as usize) < self.dict.bodies.len()
                    && event.odd_id().is_none_or(|id| id < strings);
                let attrs = self.dict.attrs.get_item(event.attrs);
                let (true, Some(attrs)) = (valid, attrs) else {
                    return Err("an event names an undefined value".into());
                };
                let p = self.partitions.entry((account, region)).or_default();
                // Lookups search by time: a history out of order would answer wrongly.
                if p.events.last().is_some_and(|e| e.time_ms > event.time_ms) {
                    return Err("an event is older than the one before it".into());
                }
                p.push(event, attrs);
            }
            codec::Entry::Reset(account) => self.partitions.retain(|(a, _), _| *a != account),
            definition => codec::define(&mut self.dict, definition)?,
        }
        Ok(())
    }
}

/// The event at `e`, its record rendered.
fn materialize(d: &Dict, e: &Compact) -> StoredEvent {
    let a = &d.attrs[e.attrs];
    let s = |id: Id| d.strings[id].clone();
    StoredEvent {
        time_ms: e.time_ms,
        visible_ms: e.visible_ms(),
        event_id: match e.odd_id() {
            Some(id) => Box::from(&*d.strings[id]),
            None => record::uuid_text(&e.event_id).into(),
        },
        event_name: s(a.name),
        event_source: s(a.source),
        username: s(a.username),
        access_key_id: s(a.access_key_id),
        read_only: a.read_only,
        resources: a.resources.iter().map(|(t, n)| (s(*t), s(*n))).collect(),
        // Every number was checked when the event was appended or replayed.
        record: record::render(d, e.body, &e.own()).unwrap_or_default(),
    }
}

fn walk(
    d: &Dict,
    p: &Partition,
    positions: impl Iterator<Item = u32>,
    q: &Query,
) -> (Vec<StoredEvent>, Option<u32>) {
    let mut out = Vec::with_capacity(q.max.min(50));
    let mut last = None;
    for pos in positions {
        let e = &p.events[pos as usize];
        if e.time_ms < q.start_ms {
            break;
        }
        if e.visible_ms() > q.now_ms {
            continue;
        }
        if out.len() == q.max {
            // One more exists: the next page starts below the last one returned.
            return (out, last);
        }
        out.push(materialize(d, e));
        last = Some(pos);
    }
    (out, None)
}

#[cfg(test)]
mod tests;
