//! The history's index, paging, and its binary form on disk.

use std::cell::RefCell;

use serde_json::json;

use super::*;

fn new<'a>(t: i64, name: &'a str, user: &'a str, id: String) -> NewEvent<'a> {
    NewEvent {
        event_id: id.into(),
        event_name: name.into(),
        event_source: "kms.amazonaws.com".into(),
        username: user.into(),
        access_key_id: "AKIA".into(),
        read_only: t % 2000 != 0,
        resources: vec![("AWS::KMS::Key".into(), "arn:k".into())],
    }
}

fn id(t: i64) -> String {
    format!("00000000-0000-4000-8000-{t:012}")
}

fn record(t: i64, name: &str) -> J {
    json!({"eventVersion": "1.11", "eventTime": record_time(t), "eventName": name,
           "requestID": format!("11111111-0000-4000-8000-{t:012}"), "eventID": id(t)})
}

fn record_time(t: i64) -> String {
    crate::util::iso8601_secs(
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t) * 1_000_000).unwrap(),
    )
}

fn add(store: &EventStore, frames: &RefCell<Vec<Vec<u8>>>, account: &str, t: i64, name: &str) {
    store.append(
        account,
        "r",
        new(t, name, "u", id(t)),
        (t, t),
        |t| Record::Json(record(t, name)),
        kept(frames),
        Written::Now,
    );
}

/// A `persist` that keeps what it is given in `frames`.
fn kept(frames: &RefCell<Vec<Vec<u8>>>) -> impl Fn(&[u8]) -> bool + '_ {
    move |bytes| {
        frames.borrow_mut().push(bytes.to_vec());
        true
    }
}

fn q(attr: Option<(u8, &str)>, max: usize, before: Option<u32>) -> Query {
    Query {
        attribute: attr.map(|(k, v)| (k, v.to_string())),
        start_ms: 0,
        end_ms: i64::MAX,
        now_ms: i64::MAX,
        max,
        before,
    }
}

fn times(events: &[StoredEvent]) -> Vec<i64> {
    events.iter().map(|e| e.time_ms).collect()
}

fn ten(store: &EventStore, frames: &RefCell<Vec<Vec<u8>>>) {
    for t in 1..=10 {
        let name = if t % 2 == 0 {
            "GenerateDataKey"
        } else {
            "Decrypt"
        };
        add(store, frames, "1", t * 1000, name);
    }
}

#[test]
fn newest_first_paging_and_filters() {
    let s = EventStore::default();
    let frames = RefCell::default();
    ten(&s, &frames);
    assert!(
        frames.borrow().is_empty(),
        "nothing to write unless persisting"
    );
    let (page1, next) = s.lookup("1", "r", &q(Some((1, "GenerateDataKey")), 3, None));
    assert_eq!(times(&page1), vec![10000, 8000, 6000]);
    let (page2, next2) = s.lookup("1", "r", &q(Some((1, "GenerateDataKey")), 3, next));
    assert_eq!(times(&page2), vec![4000, 2000]);
    assert!(next2.is_none());
    let (all, next) = s.lookup("1", "r", &q(None, 50, None));
    assert_eq!(all.len(), 10);
    assert!(next.is_none());
    assert_eq!(all[0].record, record(10000, "GenerateDataKey").to_string());
    assert_eq!(&*all[0].event_id, id(10000));
    // Exactly a full page leaves no token.
    let (five, next) = s.lookup("1", "r", &q(Some((1, "Decrypt")), 5, None));
    assert_eq!(five.len(), 5);
    assert!(next.is_none());
    let mut range = q(None, 50, None);
    range.start_ms = 3000;
    range.end_ms = 5000;
    assert_eq!(s.lookup("1", "r", &range).0.len(), 3);
    let mut early = q(None, 50, None);
    early.now_ms = 4500;
    assert_eq!(s.lookup("1", "r", &early).0.len(), 4);
    assert_eq!(
        s.lookup("1", "r", &q(Some((5, "arn:k")), 50, None)).0.len(),
        10
    );
    assert_eq!(
        times(&s.lookup("1", "r", &q(Some((0, &id(3000))), 50, None)).0),
        vec![3000]
    );
    assert_eq!(
        times(&s.lookup("1", "r", &q(Some((2, "false")), 50, None)).0),
        vec![10000, 8000, 6000, 4000, 2000]
    );
    assert!(s
        .lookup("1", "r", &q(Some((2, "TRUE")), 50, None))
        .0
        .is_empty());
    assert!(s
        .lookup("1", "r", &q(Some((3, "nobody")), 50, None))
        .0
        .is_empty());
    assert!(s.lookup("2", "r", &q(None, 50, None)).0.is_empty());
}

#[test]
fn an_event_id_that_is_not_a_uuid_is_found_and_returned_as_it_was() {
    let s = EventStore::default();
    s.append(
        "1",
        "r",
        new(5, "X", "u", "my-id".into()),
        (5, 5),
        |_| Record::Text("{\"a\": 1}".into()),
        |_| true,
        Written::Now,
    );
    let (found, _) = s.lookup("1", "r", &q(Some((0, "my-id")), 50, None));
    assert_eq!(found.len(), 1);
    assert_eq!(&*found[0].event_id, "my-id");
    assert_eq!(found[0].record, "{\"a\": 1}");
}

#[test]
fn the_written_frames_replay_to_the_same_history_and_resets_hold() {
    let s = EventStore::default();
    s.set_persisting(true);
    let frames = RefCell::default();
    ten(&s, &frames);
    add(&s, &frames, "2", 50_000, "Encrypt");
    s.clear_account("2", kept(&frames));
    add(&s, &frames, "2", 60_000, "ListKeys");
    let replayed = EventStore::default();
    let written = frames.borrow();
    replayed.replay(written.iter().map(Vec::as_slice)).unwrap();
    for (account, query) in [
        ("1", q(None, 50, None)),
        ("2", q(None, 50, None)),
        ("1", q(Some((1, "Decrypt")), 50, None)),
    ] {
        let (a, b) = (
            s.lookup(account, "r", &query).0,
            replayed.lookup(account, "r", &query).0,
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.time_ms, &x.event_id, &x.record),
                (y.time_ms, &y.event_id, &y.record)
            );
        }
    }
    assert_eq!(
        times(&replayed.lookup("2", "r", &q(None, 50, None)).0),
        vec![60_000]
    );
    // The whole history written anew replays to the same.
    let fresh = EventStore::default();
    let export = replayed.export();
    fresh.replay(export.iter().map(Vec::as_slice)).unwrap();
    assert_eq!(fresh.len("1", "r"), 10);
    assert_eq!(
        fresh.lookup("1", "r", &q(None, 1, None)).0[0].record,
        record(10000, "GenerateDataKey").to_string()
    );
}

fn add_held(store: &EventStore, frames: &RefCell<Vec<Vec<u8>>>, account: &str, t: i64) {
    store.append(
        account,
        "r",
        new(t, "Decrypt", "u", id(t)),
        (t, t),
        |t| Record::Json(record(t, "Decrypt")),
        kept(frames),
        Written::WithNext,
    );
}

/// Held events are in memory at once and on disk with the next write, in one frame, in the
/// order they were appended and before the write that takes them (a reset stays after the
/// events it removes); a burst is written at the bound, not held whole.
#[test]
fn held_events_are_written_together_in_their_order() {
    let s = EventStore::default();
    s.set_persisting(true);
    let frames = RefCell::default();
    for t in 1..=3 {
        add_held(&s, &frames, "1", t * 1000);
    }
    add_held(&s, &frames, "2", 4000);
    assert_eq!(s.len("1", "r"), 3, "in memory at once");
    assert!(frames.borrow().is_empty(), "not on disk yet");
    s.clear_account("2", kept(&frames));
    assert_eq!(
        frames.borrow().len(),
        1,
        "the held events and the reset, one frame"
    );
    add_held(&s, &frames, "1", 5000);
    add_held(&s, &frames, "2", 6000);
    s.flush(kept(&frames));
    s.flush(|_| panic!("nothing is held"));
    assert_eq!(frames.borrow().len(), 2);
    // A frame that cannot be written loses its events from the disk only; what they first
    // used goes again.
    add_held(&s, &frames, "3", 7000);
    s.flush(|_| false);
    add_held(&s, &frames, "3", 8000);
    s.flush(kept(&frames));
    let replayed = EventStore::default();
    replayed
        .replay(frames.borrow().iter().map(Vec::as_slice))
        .unwrap();
    for (account, expected) in [
        ("1", vec![5000, 3000, 2000, 1000]),
        ("2", vec![6000]),
        ("3", vec![8000]),
    ] {
        assert_eq!(
            times(&replayed.lookup(account, "r", &q(None, 50, None)).0),
            expected
        );
    }
    assert_eq!(s.len("3", "r"), 2, "both are in memory");
    let before = frames.borrow().len();
    for t in 0..(MOST_HELD.0 as i64 + 10) {
        add_held(&s, &frames, "4", 10_000 + t);
    }
    assert_eq!(frames.borrow().len(), before + 1, "written at the bound");
    // An append written at once takes the held events with it.
    add(&s, &frames, "4", 20_000, "Encrypt");
    assert_eq!(frames.borrow().len(), before + 2);
    s.flush(|_| panic!("nothing is held"));
    // New text counts too: events naming long new values are written before 256 of them
    // (each name is two new strings: the attribute, and the record's member as JSON).
    let long = |t: i64| "x".repeat(MOST_HELD.1 / 6) + &t.to_string();
    for t in 0..4 {
        s.append(
            "5",
            "r",
            new(30_000 + t, &long(t), "u", id(30_000 + t)),
            (30_000 + t, 30_000 + t),
            |at| Record::Json(record(at, &long(t))),
            kept(&frames),
            Written::WithNext,
        );
    }
    assert_eq!(frames.borrow().len(), before + 3, "written at the third");
    s.flush(kept(&frames));
    let replayed = EventStore::default();
    replayed
        .replay(frames.borrow().iter().map(Vec::as_slice))
        .unwrap();
    assert_eq!(replayed.len("4", "r"), MOST_HELD.0 + 11);
    assert_eq!(replayed.len("5", "r"), 4);
}

#[test]
fn a_failed_write_sends_its_definitions_again() {
    let s = EventStore::default();
    s.set_persisting(true);
    let kept = RefCell::new(Vec::new());
    s.append(
        "1",
        "r",
        new(1000, "A", "u", id(1000)),
        (1000, 1000),
        |t| Record::Json(record(t, "A")),
        |_| false,
        Written::Now,
    );
    s.append(
        "1",
        "r",
        new(2000, "A", "u", id(2000)),
        (2000, 2000),
        |t| Record::Json(record(t, "A")),
        |b| {
            kept.borrow_mut().push(b.to_vec());
            true
        },
        Written::Now,
    );
    let replayed = EventStore::default();
    replayed
        .replay(kept.borrow().iter().map(Vec::as_slice))
        .unwrap();
    assert_eq!(
        times(&replayed.lookup("1", "r", &q(None, 50, None)).0),
        vec![2000]
    );
}

#[test]
fn damaged_frames_are_errors_not_panics() {
    let s = EventStore::default();
    let event = partition::Compact {
        time_ms: 0,
        event_id: [0; 16],
        request_id: [0; 16],
        visible_after: 0,
        body: 0,
        attrs: 0,
        odd_id: false,
    };
    let undefined = codec::encode(&[codec::Entry::Event {
        account: 0,
        region: 0,
        event,
    }]);
    assert_eq!(s.replay([&undefined[..]]).unwrap_err().0, 1);
    let bad_body = codec::encode(&[codec::Entry::Body(vec![7, 8].into())]);
    assert!(s.replay([&bad_body[..]]).is_err());
    assert!(s.replay([&b"\xff\xff\xff"[..]]).is_err());
}

#[test]
fn appends_after_a_history_written_anew_replay_with_it() {
    let s = EventStore::default();
    let unused = RefCell::default();
    ten(&s, &unused);
    let mut written = s.export();
    s.set_persisting(true);
    let frames = RefCell::default();
    add(&s, &frames, "1", 20_000, "ListAliases");
    written.extend(frames.take());
    let replayed = EventStore::default();
    replayed.replay(written.iter().map(Vec::as_slice)).unwrap();
    let (a, b) = (
        s.lookup("1", "r", &q(None, 50, None)).0,
        replayed.lookup("1", "r", &q(None, 50, None)).0,
    );
    assert_eq!(a.len(), 11);
    let records = |v: &[StoredEvent]| v.iter().map(|e| e.record.clone()).collect::<Vec<_>>();
    assert_eq!(records(&a), records(&b));
}

/// The footprint counts what the history allocates: at least an event's 56 bytes each, and no
/// more per event than its bound once the same kinds of calls repeat (their records' values
/// kept once), whatever the number of events.
#[test]
fn the_footprint_is_the_events_and_their_distinct_values() {
    let (store, frames) = (EventStore::default(), RefCell::new(Vec::new()));
    let mut per_event = Vec::new();
    for t in 1..=20_000 {
        let name = ["GenerateDataKey", "Decrypt", "Publish"][t as usize % 3];
        add(&store, &frames, "111122223333", t, name);
        if t % 5_000 == 0 {
            let (events, bytes) = store.footprint();
            assert_eq!(events, t as usize);
            per_event.push(bytes / events);
        }
    }
    for b in &per_event {
        assert!(
            (56..=300).contains(b),
            "{b} bytes per event ({per_event:?})"
        );
    }
}
