//! What every Describe operation shares: EC2's `Filter.N` (values with `*`, `?` and `\`
//! wildcards, the `tag:` filters) and its paging (`MaxResults`, and a `NextToken` that resumes
//! after the previous page's last key).

use std::collections::BTreeMap;

use super::{int_param, opt_str};
use crate::common::paging::{by_key, From};
use crate::common::wildcard::{matches, EC2_FILTER};
use crate::protocol::{AwsError, Input};
use crate::services::ec2::errors::{
    bad_page_token, invalid_filter, max_results_too_small, missing,
};

pub(crate) struct Filter {
    name: String,
    values: Vec<String>,
}

pub(crate) fn filters(input: &Input) -> Result<Vec<Filter>, AwsError> {
    let mut out = Vec::new();
    for f in input.list("Filter")? {
        let name = f
            .str("Name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing("Filter.Name"))?;
        out.push(Filter {
            name,
            values: f.str_list("Value")?,
        });
    }
    Ok(out)
}

/// Whether a resource passes every filter; `values(name)` gives the resource's values for a
/// filter name, or `None` when EC2 has no such filter for this resource.
pub(crate) fn passes(
    filters: &[Filter],
    values: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<bool, AwsError> {
    for f in filters {
        let have = values(&f.name).ok_or_else(|| invalid_filter(&f.name))?;
        if !f
            .values
            .iter()
            .any(|want| have.iter().any(|h| matches(EC2_FILTER, want, h)))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The values of the tag filters (`tag:<key>`, `tag-key`, `tag-value`), `None` for others.
pub(crate) fn tag_values(tags: &BTreeMap<String, String>, name: &str) -> Option<Vec<String>> {
    if let Some(key) = name.strip_prefix("tag:") {
        return Some(tags.get(key).cloned().into_iter().collect());
    }
    match name {
        "tag-key" => Some(tags.keys().cloned().collect()),
        "tag-value" => Some(tags.values().cloned().collect()),
        _ => None,
    }
}

/// A filter with exactly one value.
pub(crate) fn one(s: impl Into<String>) -> Option<Vec<String>> {
    Some(vec![s.into()])
}

/// A filter with a value when there is one.
pub(crate) fn maybe(s: Option<impl Into<String>>) -> Option<Vec<String>> {
    Some(s.map(Into::into).into_iter().collect())
}

/// `MaxResults` (`min` to `max`; larger values are capped, as EC2 does) and `NextToken`.
pub(crate) struct Page {
    pub(crate) max: Option<usize>,
    pub(crate) after: Option<String>,
}

pub(crate) fn page_params(input: &Input, min: i64, max: i64) -> Result<Page, AwsError> {
    let max_results = match int_param(input, "MaxResults")? {
        None => None,
        Some(n) if n < min => return Err(max_results_too_small(n, min)),
        Some(n) => Some(n.min(max) as usize),
    };
    let after = match opt_str(input, "NextToken")? {
        None => None,
        Some(t) => Some(key_of_token(&t).ok_or_else(bad_page_token)?),
    };
    Ok(Page {
        max: max_results,
        after,
    })
}

/// EC2's `NextToken`: base64 of `ec2:` and the last key of the page before.
pub(crate) fn token_of_key(key: &str) -> String {
    crate::util::b64(format!("ec2:{key}").as_bytes())
}

pub(crate) fn key_of_token(token: &str) -> Option<String> {
    crate::util::unb64(token)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("ec2:").map(str::to_string))
}

/// One page of keyed `items` (in key order) and the token of the next one.
pub(crate) fn paginate<T>(items: Vec<(String, T)>, page: &Page) -> (Vec<T>, Option<String>) {
    let from = match &page.after {
        Some(after) => From::After(after),
        None => From::First,
    };
    let p = by_key(items, from, page.max);
    (p.items, p.more.map(|(last, _)| token_of_key(&last)))
}
