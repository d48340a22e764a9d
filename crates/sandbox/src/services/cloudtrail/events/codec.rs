//! The history on disk: a log of binary frames, each one write, each a list of [`Entry`]s:
//! the dictionary values first used by what follows (defined before they are named), then
//! the events (one, or a writer's batch), then perhaps an account's reset. Encoded with postcard; the store frames and checksums
//! each write ([`crate::store`]).
//!
//! Replaying the log defines every value at the number it had when written, so the events on
//! disk are the fixed-size [`Compact`] records the partitions hold: a restart reads about 60
//! bytes per event instead of parsing a 1.2 KB JSON record.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::dict::{Attrs, Dict, Id};
use super::partition::Compact;

#[derive(Debug, Serialize, Deserialize)]
pub enum Entry<'a> {
    /// The next string.
    Str(#[serde(borrow)] Cow<'a, str>),
    /// The next record body.
    Body(Cow<'a, [Id]>),
    /// The next attribute set.
    Attrs(Cow<'a, Attrs>),
    /// An event of the history of (account, region), both dictionary strings.
    Event {
        account: Id,
        region: Id,
        event: Compact,
    },
    /// Every event of the account (a dictionary string) before this entry is gone.
    Reset(Id),
}

/// The dictionary's values as entries, in their order of definition: those not on disk yet,
/// or (`all`) every one (a whole history written anew).
pub fn definitions(dict: &Dict, all: bool) -> Vec<Entry<'_>> {
    let (strings, bodies, attrs) = if all {
        (dict.strings.all(), dict.bodies.all(), dict.attrs.all())
    } else {
        (
            dict.strings.unpersisted(),
            dict.bodies.unpersisted(),
            dict.attrs.unpersisted(),
        )
    };
    let mut out: Vec<Entry<'_>> = Vec::new();
    out.extend(strings.iter().map(|s| Entry::Str(Cow::Borrowed(&**s))));
    out.extend(bodies.iter().map(|b| Entry::Body(Cow::Borrowed(&**b))));
    out.extend(attrs.iter().map(|a| Entry::Attrs(Cow::Borrowed(a))));
    out
}

pub fn encode(entries: &[Entry<'_>]) -> Vec<u8> {
    // Encoding plain data into a vector cannot fail.
    postcard::to_allocvec(entries).unwrap_or_default()
}

pub fn decode(payload: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    postcard::from_bytes(payload).map_err(|e| format!("undecodable history entry: {e}"))
}

/// Define a replayed value in `dict`: numbers are given in the written order, so each gets the
/// number it was written with.
pub fn define(dict: &mut Dict, entry: Entry<'_>) -> Result<(), String> {
    match entry {
        Entry::Str(s) => {
            dict.strings.push(Arc::from(&*s));
        }
        Entry::Body(b) => {
            if !super::record::valid_body(dict, &b) {
                return Err("a record body names an undefined string".into());
            }
            dict.bodies.push(Box::from(&*b));
        }
        Entry::Attrs(a) => {
            if !dict.valid_attrs(&a) {
                return Err("an attribute set names an undefined string".into());
            }
            dict.attrs.push(a.into_owned());
        }
        Entry::Event { .. } | Entry::Reset(_) => {}
    }
    Ok(())
}
