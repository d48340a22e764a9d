//! Paging of list answers, written once for every service.
//!
//! Underneath, every AWS list operation pages the same way: a sorted list, a position, a page
//! size. What differs between services is the form of the token and the error for a bad one,
//! so those are the caller's: [`by_offset`] for services whose token is an opaque position
//! (KMS, SNS, EventBridge, CloudWatch, CloudFormation), [`by_key`] for those that resume after a
//! key (IAM's `Marker`, EC2's `NextToken`), so that a page stays right when items are added or
//! removed between calls.

use crate::protocol::AwsError;

/// One page of `items` starting at the position `token` names (`None`: the first page), at
/// most `size` long, and the token of the next page. A token that is not a position within
/// the list answers `bad_token()`.
pub fn by_offset<T: Clone>(
    items: &[T],
    token: Option<&str>,
    size: usize,
    bad_token: impl FnOnce() -> AwsError,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match token {
        None => 0,
        Some(t) => match t.parse::<usize>() {
            Ok(s) if s <= items.len() => s,
            _ => return Err(bad_token()),
        },
    };
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

/// Where a keyed page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From<'a> {
    First,
    /// At the first key not less than this one (IAM: the marker is the next page's first key).
    AtOrAfter(&'a str),
    /// After this key (EC2: the token is the previous page's last key).
    After(&'a str),
}

/// A page of keyed items.
#[derive(Debug)]
pub struct KeyedPage<T> {
    pub items: Vec<T>,
    /// When truncated: the key of the last item returned and of the first one left out.
    pub more: Option<(String, String)>,
}

/// One page of `items` (any order; sorted here by key) from `from`, at most `max` long
/// (`None`: all of them).
pub fn by_key<T>(mut items: Vec<(String, T)>, from: From<'_>, max: Option<usize>) -> KeyedPage<T> {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match from {
        From::First => 0,
        From::AtOrAfter(k) => items.partition_point(|(key, _)| key.as_str() < k),
        From::After(k) => items.partition_point(|(key, _)| key.as_str() <= k),
    };
    let mut rest: Vec<(String, T)> = items.into_iter().skip(start).collect();
    let more = match max {
        Some(max) if rest.len() > max => {
            let first_left_out = rest[max].0.clone();
            rest.truncate(max);
            rest.last().map(|(k, _)| (k.clone(), first_left_out))
        }
        _ => None,
    };
    KeyedPage {
        items: rest.into_iter().map(|(_, t)| t).collect(),
        more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad() -> AwsError {
        AwsError::validation("bad token")
    }

    #[test]
    fn offsets_walk_the_list_and_refuse_foreign_tokens() {
        let items: Vec<u32> = (0..5).collect();
        let (p1, t1) = by_offset(&items, None, 2, bad).expect("first");
        assert_eq!((p1, t1.as_deref()), (vec![0, 1], Some("2")));
        let (p3, t3) = by_offset(&items, Some("4"), 2, bad).expect("last");
        assert_eq!((p3, t3), (vec![4], None));
        assert!(by_offset(&items, Some("6"), 2, bad).is_err());
        assert!(by_offset(&items, Some("x"), 2, bad).is_err());
        assert!(by_offset(&items, Some("2"), usize::MAX, bad).is_ok());
    }

    #[test]
    fn keys_resume_at_or_after() {
        let items = vec![
            ("c".to_string(), 3),
            ("a".to_string(), 1),
            ("b".to_string(), 2),
        ];
        let p = by_key(items.clone(), From::First, Some(2));
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.more, Some(("b".to_string(), "c".to_string())));
        assert_eq!(
            by_key(items.clone(), From::AtOrAfter("b"), None).items,
            vec![2, 3]
        );
        assert_eq!(by_key(items.clone(), From::After("b"), None).items, vec![3]);
        assert!(by_key(items, From::First, Some(3)).more.is_none());
    }
}
