//! CloudTrail event history: every recorded management event, per account and region, with
//! an index per lookup attribute so `LookupEvents` stays fast over millions of events.
//!
//! Events are appended in event-time order (the recorder stamps them under the partition lock
//! from the monotonic sandbox clock), so a time range is a binary search and "newest first" is
//! a walk backwards; an attribute filter walks that attribute's posting list instead.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{json, Value as J};

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
    pub resources: Vec<(Arc<str>, Box<str>)>,
    /// The full CloudTrail record, as the JSON string `LookupEvents` returns.
    pub record: Box<str>,
}

/// What the recorder hands over (before the store stamps the time).
pub struct NewEvent {
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub username: String,
    pub access_key_id: String,
    pub read_only: bool,
    pub resources: Vec<(String, String)>,
}

#[derive(Default)]
struct Partition {
    events: Vec<StoredEvent>,
    index: HashMap<(u8, Box<str>), Vec<u32>>,
    strings: HashSet<Arc<str>>,
}

impl Partition {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(a.clone());
        a
    }

    fn push(&mut self, e: StoredEvent) {
        let pos = self.events.len() as u32;
        let mut keys: Vec<(u8, Box<str>)> = vec![
            (0, e.event_id.clone()),
            (1, Box::from(&*e.event_name)),
            (2, Box::from(if e.read_only { "true" } else { "false" })),
            (3, Box::from(&*e.username)),
            (6, Box::from(&*e.event_source)),
            (7, Box::from(&*e.access_key_id)),
        ];
        for (t, n) in &e.resources {
            keys.push((4, Box::from(&**t)));
            keys.push((5, n.clone()));
        }
        keys.sort();
        keys.dedup();
        for k in keys {
            self.index.entry(k).or_default().push(pos);
        }
        self.events.push(e);
    }
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
pub struct EventStore {
    partitions: RwLock<HashMap<(String, String), Partition>>,
}

impl EventStore {
    /// Append an event; `stamp` is called under the partition lock to get the event time, and
    /// `render` builds the record with it. Returns the stored line for persistence.
    pub fn append(
        &self,
        account: &str,
        region: &str,
        new: NewEvent,
        stamp: impl FnOnce() -> (i64, i64),
        render: impl FnOnce(i64) -> String,
        persist: impl FnOnce(&J),
    ) {
        let mut parts = self.partitions.write();
        let p = parts
            .entry((account.to_string(), region.to_string()))
            .or_default();
        let (time_ms, visible_ms) = stamp();
        let time_ms = time_ms.max(p.events.last().map(|e| e.time_ms).unwrap_or(i64::MIN));
        let record = render(time_ms);
        let line = json!({
            "a": account, "r": region, "t": time_ms, "v": visible_ms,
            "id": new.event_id, "n": new.event_name, "s": new.event_source, "u": new.username,
            "k": new.access_key_id, "ro": new.read_only, "res": new.resources, "rec": record,
        });
        let e = StoredEvent {
            time_ms,
            visible_ms,
            event_id: new.event_id.into(),
            event_name: p.intern(&new.event_name),
            event_source: p.intern(&new.event_source),
            username: p.intern(&new.username),
            access_key_id: p.intern(&new.access_key_id),
            read_only: new.read_only,
            resources: new
                .resources
                .iter()
                .map(|(t, n)| (p.intern(t), Box::from(n.as_str())))
                .collect(),
            record: record.into(),
        };
        // Persisted under the lock, so the file keeps the in-memory order.
        persist(&line);
        p.push(e);
    }

    /// Re-load one persisted line (at start-up). Malformed lines are skipped with a warning:
    /// the framing checksum already vouched for them, so this only happens across versions.
    pub fn load_line(&self, line: J) {
        // A classroom learner's account was reset: its history before this line is gone.
        if let Some(account) = line.get("reset").and_then(J::as_str) {
            self.clear_account(account);
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
        let resources: Vec<(String, String)> =
            serde_json::from_value(line.get("res").cloned().unwrap_or(J::Null)).unwrap_or_default();
        let new = NewEvent {
            event_id: s("id"),
            event_name: s("n"),
            event_source: s("s"),
            username: s("u"),
            access_key_id: s("k"),
            read_only: line.get("ro").and_then(J::as_bool).unwrap_or(false),
            resources,
        };
        let record = super::recorder::scrubbed(s("rec"));
        self.append(&s("a"), &s("r"), new, || (t, v), |_| record, |_| {});
    }

    /// Forget every event of `account`, in every region.
    pub fn clear_account(&self, account: &str) {
        self.partitions.write().retain(|(a, _), _| a != account);
    }

    pub fn len(&self, account: &str, region: &str) -> usize {
        self.partitions
            .read()
            .get(&(account.to_string(), region.to_string()))
            .map_or(0, |p| p.events.len())
    }

    pub fn is_empty(&self) -> bool {
        self.partitions.read().values().all(|p| p.events.is_empty())
    }

    /// Run a query: matching events newest first, and the bound for the next page if any.
    pub fn lookup(
        &self,
        account: &str,
        region: &str,
        q: &Query,
    ) -> (Vec<StoredEvent>, Option<u32>) {
        let parts = self.partitions.read();
        let Some(p) = parts.get(&(account.to_string(), region.to_string())) else {
            return (Vec::new(), None);
        };
        let list: &[u32] = match &q.attribute {
            Some((k, v)) => match p.index.get(&(*k, Box::from(v.as_str()))) {
                Some(l) => l,
                None => return (Vec::new(), None),
            },
            None => {
                // No attribute: walk every position without materialising a list.
                let upper = p.events.partition_point(|e| e.time_ms <= q.end_ms) as u32;
                let upper = q.before.map_or(upper, |b| b.min(upper));
                return walk(p, (0..upper).rev(), q);
            }
        };
        let upper = list.partition_point(|pos| p.events[*pos as usize].time_ms <= q.end_ms);
        let upper = match q.before {
            Some(b) => upper.min(list.partition_point(|pos| *pos < b)),
            None => upper,
        };
        walk(p, list[..upper].iter().rev().copied(), q)
    }
}

fn walk(
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
        if e.visible_ms > q.now_ms {
            continue;
        }
        if out.len() == q.max {
            // One more exists: the next page starts below the last one returned.
            return (out, last);
        }
        out.push(e.clone());
        last = Some(pos);
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(store: &EventStore, t: i64, name: &str, user: &str) {
        let new = NewEvent {
            event_id: format!("id-{t}"),
            event_name: name.into(),
            event_source: "kms.amazonaws.com".into(),
            username: user.into(),
            access_key_id: "AKIA".into(),
            read_only: true,
            resources: vec![("AWS::KMS::Key".into(), "arn:k".into())],
        };
        store.append(
            "1",
            "r",
            new,
            || (t, t),
            |t| format!("{{\"t\":{t}}}"),
            |_| {},
        );
    }

    fn q(attr: Option<(u8, &str)>, max: usize, before: Option<u32>) -> Query {
        Query {
            attribute: attr.map(|(k, v)| (k, v.to_string())),
            start_ms: 0,
            end_ms: i64::MAX,
            now_ms: 1000,
            max,
            before,
        }
    }

    #[test]
    fn newest_first_paging_and_filters() {
        let s = EventStore::default();
        for t in 1..=10 {
            add(
                &s,
                t * 10,
                if t % 2 == 0 {
                    "GenerateDataKey"
                } else {
                    "Decrypt"
                },
                "u",
            );
        }
        let (page1, next) = s.lookup("1", "r", &q(Some((1, "GenerateDataKey")), 3, None));
        assert_eq!(
            page1.iter().map(|e| e.time_ms).collect::<Vec<_>>(),
            vec![100, 80, 60]
        );
        let (page2, next2) = s.lookup("1", "r", &q(Some((1, "GenerateDataKey")), 3, next));
        assert_eq!(
            page2.iter().map(|e| e.time_ms).collect::<Vec<_>>(),
            vec![40, 20]
        );
        assert!(next2.is_none());
        let (all, next) = s.lookup("1", "r", &q(None, 50, None));
        assert_eq!(all.len(), 10);
        assert!(next.is_none());
        // Exactly a full page leaves no token.
        let (five, next) = s.lookup("1", "r", &q(Some((1, "Decrypt")), 5, None));
        assert_eq!(five.len(), 5);
        assert!(next.is_none());
        let mut range = q(None, 50, None);
        range.start_ms = 30;
        range.end_ms = 50;
        assert_eq!(s.lookup("1", "r", &range).0.len(), 3);
        let mut early = q(None, 50, None);
        early.now_ms = 45;
        assert_eq!(s.lookup("1", "r", &early).0.len(), 4);
        assert_eq!(
            s.lookup("1", "r", &q(Some((5, "arn:k")), 50, None)).0.len(),
            10
        );
        assert!(s.lookup("2", "r", &q(None, 50, None)).0.is_empty());
    }
}

/// CloudTrail's LookupEvents limit: at most `per_second` requests in any one-second window per
/// account and region (real time: it protects the service, not the sandbox clock).
#[derive(Default)]
pub struct RateLimiter {
    windows: parking_lot::Mutex<
        HashMap<(String, String), std::collections::VecDeque<std::time::Instant>>,
    >,
}

impl RateLimiter {
    pub fn admit(&self, account: &str, region: &str, per_second: usize) -> bool {
        let now = std::time::Instant::now();
        let mut w = self.windows.lock();
        let q = w
            .entry((account.to_string(), region.to_string()))
            .or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            q.pop_front();
        }
        if q.len() >= per_second {
            return false;
        }
        q.push_back(now);
        true
    }
}
