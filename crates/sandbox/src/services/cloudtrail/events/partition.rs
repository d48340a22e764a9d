//! One account and region's history: its events in time order as fixed-size [`Compact`]
//! records, a posting list per lookup attribute value, and a hash table of positions by event
//! ID (the one attribute every event has its own value of).

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use serde::{Deserialize, Serialize};

use super::dict::{Attrs, Id};
use super::record::Own;

/// One event: 56 bytes, whatever its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compact {
    pub time_ms: i64,
    /// The event ID's bytes when it is a canonical UUID; otherwise the first four are the
    /// little-endian number of its text in the dictionary (and `odd_id` says so).
    pub event_id: [u8; 16],
    /// The request ID's bytes when the body leaves it to the event (all zero otherwise).
    pub request_id: [u8; 16],
    /// Milliseconds from the event's time until LookupEvents shows it (CloudTrail's delay).
    pub visible_after: u32,
    pub body: Id,
    pub attrs: Id,
    pub odd_id: bool,
}

impl Compact {
    pub fn visible_ms(&self) -> i64 {
        self.time_ms.saturating_add(i64::from(self.visible_after))
    }

    /// The event ID's dictionary number, for an ID that is not a canonical UUID.
    pub fn odd_id(&self) -> Option<Id> {
        self.odd_id.then(|| {
            let b = self.event_id;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    }

    /// What the record's body leaves to the event.
    pub fn own(&self) -> Own {
        Own {
            time_ms: self.time_ms,
            event_id: (!self.odd_id).then_some(self.event_id),
            request_id: (self.request_id != [0; 16]).then_some(self.request_id),
        }
    }
}

/// The index of the ReadOnly attribute's "true", which has no dictionary number of its own.
const READ_ONLY: [Id; 2] = [0, 1];

#[derive(Default)]
pub struct Partition {
    pub events: Vec<Compact>,
    /// Positions by (attribute index, value's dictionary number), ascending.
    postings: HashMap<(u8, Id), Vec<u32>>,
    /// Positions by canonical event ID (hashed by its bytes).
    ids: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Partition {
    pub fn push(&mut self, e: Compact, attrs: &Attrs) {
        let pos = self.events.len() as u32;
        let mut keys: Vec<(u8, Id)> = Vec::with_capacity(6 + 2 * attrs.resources.len());
        keys.extend([
            (1, attrs.name),
            (2, READ_ONLY[usize::from(attrs.read_only)]),
            (3, attrs.username),
            (6, attrs.source),
            (7, attrs.access_key_id),
        ]);
        for (t, n) in attrs.resources.iter() {
            keys.push((4, *t));
            keys.push((5, *n));
        }
        match e.odd_id() {
            Some(id) => keys.push((0, id)),
            None => {
                let hash = self.hasher.hash_one(e.event_id);
                let (events, hasher) = (&self.events, &self.hasher);
                self.ids.insert_unique(hash, pos, |&p| {
                    // The one being pushed is not in `events` yet.
                    events
                        .get(p as usize)
                        .map_or(hash, |x| hasher.hash_one(x.event_id))
                });
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            self.postings.entry(k).or_default().push(pos);
        }
        self.events.push(e);
    }

    /// Positions of the events with attribute `attr` equal to dictionary value `value`.
    pub fn postings(&self, attr: u8, value: Id) -> &[u32] {
        self.postings.get(&(attr, value)).map_or(&[], Vec::as_slice)
    }

    /// Positions of the events whose canonical ID is `id`, ascending.
    pub fn with_id(&self, id: &[u8; 16]) -> Vec<u32> {
        let hash = self.hasher.hash_one(id);
        let mut found: Vec<u32> = self
            .ids
            .iter_hash(hash)
            .copied()
            .filter(|p| {
                let e = &self.events[*p as usize];
                !e.odd_id && &e.event_id == id
            })
            .collect();
        found.sort_unstable();
        found
    }

    /// Bytes its vectors and tables have allocated (by their capacities; the allocator's own
    /// bookkeeping not counted).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let lists: usize = self
            .postings
            .values()
            .map(|v| v.capacity() * size_of::<u32>())
            .sum();
        // A hash table's slot is its entry and one control byte.
        self.events.capacity() * size_of::<Compact>()
            + self.postings.capacity() * (size_of::<((u8, Id), Vec<u32>)>() + 1)
            + lists
            + self.ids.capacity() * (size_of::<u32>() + 1)
    }

    /// Positions of the events with ReadOnly `read_only`.
    pub fn read_only(&self, read_only: bool) -> &[u32] {
        self.postings(2, READ_ONLY[usize::from(read_only)])
    }
}
