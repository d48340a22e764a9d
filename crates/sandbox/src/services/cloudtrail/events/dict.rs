//! The history's dictionary: every distinct string (event names, users, ARNs, the JSON text of a
//! record's members), record body and attribute set is kept once and named by its number, so
//! an event is a few numbers however long its record ([`super::partition::Compact`]).
//!
//! Numbers are given in order of first use and never reused, so the binary history on disk
//! ([`super::codec`]) defines each value once, before its first use, and a replay gives every
//! value the number it had when it was written.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};
use serde::{Deserialize, Serialize};

/// A value's number in its [`Interner`].
pub type Id = u32;

/// Values of one kind, each kept once: the values in order of first use, and a hash table of
/// their numbers by content (the table holds numbers only, not a second copy of each value).
pub struct Interner<T> {
    items: Vec<T>,
    table: HashTable<Id>,
    hasher: DefaultHashBuilder,
    /// How many of `items` are on disk already (the rest go with the next write).
    persisted: usize,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            items: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            persisted: 0,
        }
    }
}

impl<T: Hash + Eq> Interner<T> {
    /// The number of a value already kept.
    pub fn get<Q>(&self, q: &Q) -> Option<Id>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(q);
        self.table
            .find(hash, |&id| self.items[id as usize].borrow() == q)
            .copied()
    }

    /// The number of `q`, kept (as `make(q)`) if it is new.
    pub fn intern<Q>(&mut self, q: &Q, make: impl FnOnce(&Q) -> T) -> Id
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(id) = self.get(q) {
            return id;
        }
        self.push(make(q))
    }

    /// Keep `item` as the next number (a replay defines values in their written order).
    pub fn push(&mut self, item: T) -> Id {
        let id = self.items.len() as Id;
        let hash = self.hasher.hash_one(&item);
        let (items, hasher) = (&self.items, &self.hasher);
        self.table
            .insert_unique(hash, id, |&other| hasher.hash_one(&items[other as usize]));
        self.items.push(item);
        id
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get_item(&self, id: Id) -> Option<&T> {
        self.items.get(id as usize)
    }

    /// The values not yet on disk.
    pub fn unpersisted(&self) -> &[T] {
        &self.items[self.persisted..]
    }

    pub fn all(&self) -> &[T] {
        &self.items
    }

    pub fn mark_persisted(&mut self) {
        self.persisted = self.items.len();
    }

    /// Bytes allocated for the values (`own`: what one value holds beyond its own size) and
    /// the table of their numbers.
    pub fn heap_bytes(&self, own: impl Fn(&T) -> usize) -> usize {
        self.items.capacity() * std::mem::size_of::<T>()
            + self.items.iter().map(own).sum::<usize>()
            + self.table.capacity() * (std::mem::size_of::<Id>() + 1)
    }
}

impl<T> std::ops::Index<Id> for Interner<T> {
    type Output = T;
    fn index(&self, id: Id) -> &T {
        &self.items[id as usize]
    }
}

/// What LookupEvents filters and answers by, besides the record: kept once per distinct set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attrs {
    pub name: Id,
    pub source: Id,
    pub username: Id,
    pub access_key_id: Id,
    pub read_only: bool,
    /// (resource type, resource name)
    pub resources: Box<[(Id, Id)]>,
}

/// Every value the history names, by kind.
#[derive(Default)]
pub struct Dict {
    pub strings: Interner<Arc<str>>,
    /// Records' bodies: see [`super::record`].
    pub bodies: Interner<Box<[Id]>>,
    pub attrs: Interner<Attrs>,
}

impl Dict {
    pub fn string(&mut self, s: &str) -> Id {
        self.strings.intern(s, |s| Arc::from(s))
    }

    /// Whether every number in `a` names a kept string.
    pub fn valid_attrs(&self, a: &Attrs) -> bool {
        let n = self.strings.len() as Id;
        [a.name, a.source, a.username, a.access_key_id]
            .iter()
            .chain(a.resources.iter().flat_map(|(t, r)| [t, r]))
            .all(|id| *id < n)
    }

    /// Bytes the dictionary's values and tables have allocated.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // An `Arc<str>`'s allocation is its two counts and the text.
        self.strings
            .heap_bytes(|s| 2 * size_of::<usize>() + s.len())
            + self.bodies.heap_bytes(|b| b.len() * size_of::<Id>())
            + self
                .attrs
                .heap_bytes(|a| a.resources.len() * size_of::<(Id, Id)>())
    }

    pub fn mark_persisted(&mut self) {
        self.strings.mark_persisted();
        self.bodies.mark_persisted();
        self.attrs.mark_persisted();
    }
}
