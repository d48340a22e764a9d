//! IAM's paging over [`common::paging::by_key`](crate::common::paging::by_key): `Marker` is
//! opaque to clients (the base64 of the next page's first sort key), `MaxItems` is 1–1000
//! (default 100), and `IsTruncated` is always answered.

use super::errors::bad_marker;
use super::params::int_in;
use crate::common::paging::{by_key, From as Start};
use crate::protocol::{AwsError, Input, Value};
use crate::util::{b64, unb64};

/// One page of a list answer and the `Marker` of the next.
#[derive(Debug)]
pub(super) struct Page<T> {
    pub(super) items: Vec<T>,
    pub(super) marker: Option<String>,
}

impl Page<Value> {
    /// The list answer: the page under `member`, `IsTruncated` and `Marker`.
    pub(super) fn into_value(self, member: &str) -> Value {
        let truncated = self.marker.is_some();
        Value::obj()
            .with(member, Value::List(self.items))
            .with("IsTruncated", truncated)
            .with("Marker", self.marker)
    }
}

pub(super) fn max_items(input: &Input) -> Result<usize, AwsError> {
    let n = int_in(input, "MaxItems", 1, 1000).map_err(|e| e.with_code("ValidationError"))?;
    Ok(n.map_or(100, |n| usize::try_from(n).unwrap_or(100)))
}

/// The page of `items` (any order; paged by key) that the input's `MaxItems` and `Marker` ask
/// for.
pub(super) fn paginate<T>(input: &Input, items: Vec<(String, T)>) -> Result<Page<T>, AwsError> {
    let max = max_items(input)?;
    let marker = match input.str("Marker")? {
        None => None,
        Some(m) => Some(
            unb64(&m)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_marker)?,
        ),
    };
    let from = marker.as_deref().map_or(Start::First, Start::AtOrAfter);
    let page = by_key(items, from, Some(max));
    Ok(Page {
        items: page.items,
        marker: page.more.map(|(_, next)| b64(next.as_bytes())),
    })
}

/// A sort key that keeps the given order.
pub(super) fn ordinal(i: usize) -> String {
    format!("{i:08}")
}
