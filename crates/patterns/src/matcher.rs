//! What one entry of a pattern's value list tests against one leaf value of an event.

use serde_json::Value;

use crate::cidr::{self, IpBytes, IpRange};
use crate::wildcard::Wildcard;

/// One bound of a numeric range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    pub(crate) value: f64,
    pub(crate) inclusive: bool,
}

/// A value test from a pattern's list (the list as a whole is an OR of these).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matcher {
    /// A JSON string, exactly.
    String(String),
    /// A JSON string that is an IP literal: equal strings, or strings naming the same address.
    IpLiteral(String, IpBytes),
    /// A JSON number, compared numerically as doubles.
    Number(f64),
    Bool(bool),
    Null,
    Prefix(String),
    PrefixIgnoreCase(String),
    Suffix(String),
    SuffixIgnoreCase(String),
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    /// `numeric`: numbers only.
    Numeric {
        lower: Option<Bound>,
        upper: Option<Bound>,
    },
    /// `cidr`: strings that are IP addresses inside the range.
    Cidr(IpRange),
    /// `exists: true` (any leaf value, `null` included).
    Exists,
    AnythingBut(AnythingBut),
}

/// The forms of `anything-but`. Every one of them matches any present leaf value (of any JSON
/// type, `null` included) unless it is excluded; only values of the excluded kind can be excluded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AnythingBut {
    Strings(Vec<String>),
    Numbers(Vec<f64>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    IgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

impl Matcher {
    /// Whether this test accepts `leaf` (a string, number, boolean or null from the event).
    pub(crate) fn matches(&self, leaf: &Value) -> bool {
        match self {
            Matcher::String(s) => leaf.as_str() == Some(s.as_str()),
            Matcher::IpLiteral(s, ip) => leaf.as_str().is_some_and(|v| {
                v == s || cidr::event_ip(v).is_some_and(|event_ip| event_ip == *ip)
            }),
            Matcher::Number(n) => leaf.as_f64() == Some(*n),
            Matcher::Bool(b) => leaf.as_bool() == Some(*b),
            Matcher::Null => leaf.is_null(),
            Matcher::Prefix(p) => leaf.as_str().is_some_and(|v| v.starts_with(p.as_str())),
            Matcher::PrefixIgnoreCase(p) => leaf.as_str().is_some_and(|v| prefix_ignore_case(v, p)),
            Matcher::Suffix(p) => leaf.as_str().is_some_and(|v| v.ends_with(p.as_str())),
            Matcher::SuffixIgnoreCase(p) => leaf.as_str().is_some_and(|v| suffix_ignore_case(v, p)),
            Matcher::EqualsIgnoreCase(p) => leaf.as_str().is_some_and(|v| equals_ignore_case(v, p)),
            Matcher::Wildcard(w) => leaf.as_str().is_some_and(|v| w.matches(v)),
            Matcher::Numeric { lower, upper } => leaf.as_f64().is_some_and(|n| {
                lower.is_none_or(|b| {
                    if b.inclusive {
                        n >= b.value
                    } else {
                        n > b.value
                    }
                }) && upper.is_none_or(|b| {
                    if b.inclusive {
                        n <= b.value
                    } else {
                        n < b.value
                    }
                })
            }),
            Matcher::Cidr(range) => leaf
                .as_str()
                .and_then(cidr::event_ip)
                .is_some_and(|ip| range.contains(&ip)),
            Matcher::Exists => true,
            Matcher::AnythingBut(but) => !but.excludes(leaf),
        }
    }
}

impl AnythingBut {
    fn excludes(&self, leaf: &Value) -> bool {
        match self {
            AnythingBut::Strings(values) => {
                leaf.as_str().is_some_and(|v| values.iter().any(|x| x == v))
            }
            AnythingBut::Numbers(values) => leaf.as_f64().is_some_and(|n| values.contains(&n)),
            AnythingBut::Prefixes(values) => leaf
                .as_str()
                .is_some_and(|v| values.iter().any(|p| v.starts_with(p.as_str()))),
            AnythingBut::Suffixes(values) => leaf
                .as_str()
                .is_some_and(|v| values.iter().any(|p| v.ends_with(p.as_str()))),
            AnythingBut::IgnoreCase(values) => leaf
                .as_str()
                .is_some_and(|v| values.iter().any(|p| equals_ignore_case(v, p))),
            AnythingBut::Wildcards(values) => leaf
                .as_str()
                .is_some_and(|v| values.iter().any(|w| w.matches(v))),
        }
    }
}

/// The spellings event-ruler accepts for one pattern character when ignoring case: itself, its
/// lower case and its upper case (each possibly several characters, e.g. `ß` → `SS`).
fn case_variants(c: char) -> [String; 3] {
    [
        c.to_string(),
        c.to_lowercase().collect(),
        c.to_uppercase().collect(),
    ]
}

/// Byte offsets in `value` reachable by matching the characters of `pattern` case-insensitively,
/// starting from offset 0 (forwards) — a small NFA simulation, since variants differ in length.
fn ignore_case_ends(value: &str, pattern: &str) -> Vec<bool> {
    let mut reach = vec![false; value.len() + 1];
    reach[0] = true;
    for c in pattern.chars() {
        let variants = case_variants(c);
        let mut next = vec![false; value.len() + 1];
        for (at, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
            let rest = &value.as_bytes()[at..];
            for v in &variants {
                if rest.starts_with(v.as_bytes()) {
                    next[at + v.len()] = true;
                }
            }
        }
        reach = next;
        if !reach.contains(&true) {
            break;
        }
    }
    reach
}

pub(crate) fn equals_ignore_case(value: &str, pattern: &str) -> bool {
    if value.is_ascii() && pattern.is_ascii() {
        return value.eq_ignore_ascii_case(pattern);
    }
    ignore_case_ends(value, pattern)
        .last()
        .copied()
        .unwrap_or(false)
}

fn prefix_ignore_case(value: &str, pattern: &str) -> bool {
    if value.is_ascii() && pattern.is_ascii() {
        return value.len() >= pattern.len()
            && value.as_bytes()[..pattern.len()].eq_ignore_ascii_case(pattern.as_bytes());
    }
    ignore_case_ends(value, pattern).contains(&true)
}

fn suffix_ignore_case(value: &str, pattern: &str) -> bool {
    if value.is_ascii() && pattern.is_ascii() {
        return value.len() >= pattern.len()
            && value.as_bytes()[value.len() - pattern.len()..]
                .eq_ignore_ascii_case(pattern.as_bytes());
    }
    // Match the reversed strings as a prefix (variants are reversed character-wise too).
    let reversed_value: String = value.chars().rev().collect();
    let mut reach = vec![false; reversed_value.len() + 1];
    reach[0] = true;
    for c in pattern.chars().rev() {
        let variants: Vec<String> = case_variants(c)
            .iter()
            .map(|v| v.chars().rev().collect())
            .collect();
        let mut next = vec![false; reversed_value.len() + 1];
        for (at, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
            let rest = &reversed_value.as_bytes()[at..];
            for v in &variants {
                if rest.starts_with(v.as_bytes()) {
                    next[at + v.len()] = true;
                }
            }
        }
        reach = next;
    }
    reach.contains(&true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignore_case_ascii_and_unicode() {
        assert!(equals_ignore_case("EC2 Instance", "ec2 instance"));
        assert!(!equals_ignore_case("EC2 Instance", "ec2 instances"));
        assert!(equals_ignore_case("ÉTÉ", "été"));
        assert!(equals_ignore_case("STRASSE", "straße"));
        assert!(prefix_ignore_case("EvEnTbridge", "EventB"));
        assert!(!prefix_ignore_case("Event", "EventB"));
        assert!(suffix_ignore_case("image.PNG", ".png"));
        assert!(suffix_ignore_case("ÉCOLE.PNG", "école.png"));
        assert!(!suffix_ignore_case("png", ".png"));
        assert!(equals_ignore_case("", ""));
    }

    #[test]
    fn numbers_compare_as_doubles() {
        let m = Matcher::Number(300.0);
        assert!(m.matches(&json!(300)));
        assert!(m.matches(&json!(300.0)));
        assert!(m.matches(&json!(3.0e2)));
        assert!(!m.matches(&json!("300")));
    }

    #[test]
    fn numeric_ranges() {
        let between = Matcher::Numeric {
            lower: Some(Bound {
                value: 0.0,
                inclusive: false,
            }),
            upper: Some(Bound {
                value: 5.0,
                inclusive: true,
            }),
        };
        assert!(!between.matches(&json!(0)));
        assert!(between.matches(&json!(0.000001)));
        assert!(between.matches(&json!(5)));
        assert!(!between.matches(&json!(5.0000001)));
        assert!(!between.matches(&json!("3")));
        assert!(!between.matches(&json!(null)));
        let at_least = Matcher::Numeric {
            lower: Some(Bound {
                value: -1.5,
                inclusive: true,
            }),
            upper: None,
        };
        assert!(at_least.matches(&json!(-1.5)));
        assert!(at_least.matches(&json!(1e300)));
        assert!(!at_least.matches(&json!(-2)));
    }

    #[test]
    fn anything_but_only_excludes_its_own_kind() {
        let not_123 = Matcher::AnythingBut(AnythingBut::Numbers(vec![123.0]));
        assert!(!not_123.matches(&json!(123)));
        assert!(!not_123.matches(&json!(123.0)));
        assert!(not_123.matches(&json!("123")));
        assert!(not_123.matches(&json!(null)));
        let not_init = Matcher::AnythingBut(AnythingBut::Prefixes(vec!["init".into()]));
        assert!(not_init.matches(&json!(12)));
        assert!(not_init.matches(&json!(null)));
        assert!(!not_init.matches(&json!("init-x")));
    }

    #[test]
    fn ip_literals_compare_as_addresses() {
        let m = Matcher::IpLiteral(
            "2001:db8::1".into(),
            cidr::literal_ip("2001:db8::1").unwrap(),
        );
        assert!(m.matches(&json!("2001:0db8:0000:0000:0000:0000:0000:0001")));
        assert!(!m.matches(&json!("2001:db8::2")));
    }
}
