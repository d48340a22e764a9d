//! EventBridge event patterns: parsing, validation and matching over [`serde_json::Value`].
//!
//! The KMS workshop routes CloudTrail-via-EventBridge events (for example `GenerateDataKey` calls
//! from `aws.kms`) through EventBridge rules to SNS. This crate is what decides, offline, whether
//! a rule's event pattern matches an event, and — when a pattern is malformed — refuses it with the
//! exact reason text AWS puts in `InvalidEventPatternException`, so a service built on it
//! (`PutRule`, `TestEventPattern`) can answer in AWS's words.
//!
//! It is written by hand because no mature Rust crate implements EventBridge patterns: the
//! reference implementation is AWS's Java library event-ruler. The behaviour here follows
//! event-ruler's compiler and matcher and is checked against 156 cases whose outcomes were
//! recorded from the real `TestEventPattern` API (see `tests/conformance.rs`).
//!
//! ```
//! use kms_workshop_patterns::Pattern;
//! use serde_json::json;
//!
//! let rule = Pattern::parse(r#"{
//!     "source": ["aws.kms"],
//!     "detail-type": ["AWS API Call via CloudTrail"],
//!     "detail": {"eventSource": ["kms.amazonaws.com"], "eventName": ["GenerateDataKey"]}
//! }"#)?;
//! let event = json!({
//!     "source": "aws.kms",
//!     "detail-type": "AWS API Call via CloudTrail",
//!     "detail": {"eventSource": "kms.amazonaws.com", "eventName": "GenerateDataKey"}
//! });
//! assert!(rule.matches(&event));
//!
//! let err = Pattern::parse(r#"{"source": "aws.kms"}"#).unwrap_err();
//! assert_eq!(err.message(), r#"Event pattern is not valid. Reason: "source" must be an object or an array"#);
//! # Ok::<(), kms_workshop_patterns::PatternError>(())
//! ```
//!
//! # Semantics
//!
//! * A pattern is a JSON object; nested objects follow the event's structure, and every leaf is a
//!   non-empty array of alternatives. Fields are AND-ed, alternatives OR-ed; event fields the
//!   pattern does not mention are ignored. Paths are dot-joined, so `{"a.b": [..]}` and
//!   `{"a": {"b": [..]}}` are the same field, in patterns and in events.
//! * Plain values match exactly: strings character by character, numbers numerically as doubles
//!   (`300` matches `300.0`), `true`/`false`/`null` as themselves; a string never matches a number.
//!   A string that is an IP address also matches other spellings of the same address.
//! * An array in the event matches when any element does. Under arrays of objects, all the
//!   pattern's fields must be satisfied by the *same* element (event-ruler's array consistency).
//! * Operators (objects in a value list): `prefix`, `suffix` (each also as
//!   `{"prefix": {"equals-ignore-case": ".."}}`), `equals-ignore-case`, `wildcard` (`*` matches any
//!   run of characters, `\*` a star; `**` is rejected, and so are wildcards AWS deems too complex),
//!   `numeric` (`=`, or a lower bound `>`/`>=` and/or an upper bound `<`/`<=`, compared as doubles;
//!   numbers only), `cidr` (IPv4 and IPv6), `exists` (`true`: some value, `null` included, is
//!   present at the path; `false`: none is), and `anything-but` (a value, a list of strings or of
//!   numbers, or `prefix`/`suffix`/`equals-ignore-case`/`wildcard` forms). `anything-but` matches
//!   any present value, of any type, that is not excluded; a missing field never matches it.
//! * `"$or": [{..}, {..}]` (anywhere in the pattern) matches when any of its sub-patterns does,
//!   together with the surrounding fields.
//!
//! # Known differences from AWS
//!
//! * Text that is not JSON is rejected with `serde_json`'s description of the problem, not
//!   Jackson's.
//! * A pattern whose `$or`s multiply out to more than 1024 combinations is rejected by this crate
//!   (AWS's own limit was not recorded).
//! * Numbers are compared as doubles; event-ruler limits numeric matching to ±5·10⁹ with six
//!   decimal places.
//! * The wildcard complexity limit reproduces event-ruler's evaluator closely enough for the
//!   recorded cases, not byte for byte.
//! * When one field's list mixes IP tests (`cidr` or an IP literal) with string tests such as
//!   `prefix`, event-ruler compares the strings against the address's hex form; here every test
//!   sees the event's string as written.
//!
//! Matching never panics: a malformed pattern is a [`PatternError`], and an event that is not a
//! JSON object, or lacks the fields, simply does not match.

mod cidr;
mod compile;
mod event;
mod matcher;
mod raw;
pub mod samples;
mod wildcard;

use std::str::FromStr;

use serde_json::Value;

use crate::compile::Branch;
use crate::raw::Raw;

/// The prefix of every message AWS returns in `InvalidEventPatternException`.
const MESSAGE_PREFIX: &str = "Event pattern is not valid. Reason: ";

/// A pattern that EventBridge would refuse, carrying AWS's reason.
///
/// [`Display`](std::fmt::Display) and [`message`](PatternError::message) give the full message as
/// AWS words it (`Event pattern is not valid. Reason: Empty arrays are not allowed`); the error code
/// to send with it is [`PatternError::CODE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    message: String,
}

impl PatternError {
    /// The AWS error code for a rejected pattern.
    pub const CODE: &'static str = "InvalidEventPatternException";

    fn from_reason(reason: impl std::fmt::Display) -> Self {
        PatternError {
            message: format!("{MESSAGE_PREFIX}{reason}"),
        }
    }

    /// The full message, exactly as AWS returns it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The part of the message after `Event pattern is not valid. Reason: `.
    pub fn reason(&self) -> &str {
        self.message
            .strip_prefix(MESSAGE_PREFIX)
            .unwrap_or(&self.message)
    }
}

/// A validated EventBridge event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Alternatives (from `$or`); the pattern matches when any branch does.
    branches: Vec<Branch>,
}

impl Pattern {
    /// Parses and validates a pattern from its JSON text (the form `PutRule` and
    /// `TestEventPattern` receive). Objects that repeat a key are read as EventBridge reads them:
    /// every occurrence is validated and a later value replaces an earlier one.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let raw: Raw = serde_json::from_str(text).map_err(PatternError::from_reason)?;
        Self::from_raw(&raw)
    }

    /// Validates a pattern that is already a JSON value.
    pub fn from_value(value: &Value) -> Result<Pattern, PatternError> {
        let raw = Raw::from_value(value)
            .ok_or_else(|| PatternError::from_reason("Pattern nesting is too deep"))?;
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &Raw) -> Result<Pattern, PatternError> {
        let branches = compile::compile(raw).map_err(PatternError::from_reason)?;
        Ok(Pattern { branches })
    }

    /// Whether the event matches. Events that are not JSON objects match nothing.
    pub fn matches(&self, event: &Value) -> bool {
        event.is_object()
            && self
                .branches
                .iter()
                .any(|branch| event::branch_matches(branch, event))
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Pattern::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(pattern: &str) -> String {
        Pattern::parse(pattern).unwrap_err().reason().to_owned()
    }

    #[test]
    fn error_carries_the_aws_message() {
        let err = Pattern::parse(r#"{"resources": []}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Event pattern is not valid. Reason: Empty arrays are not allowed"
        );
        assert_eq!(err.message(), err.to_string());
        assert_eq!(err.reason(), "Empty arrays are not allowed");
        assert_eq!(PatternError::CODE, "InvalidEventPatternException");
    }

    #[test]
    fn structural_rejections() {
        assert_eq!(reason("[1]"), "Filter is not an object");
        assert_eq!(reason("{}"), "Empty objects are not allowed");
        assert_eq!(reason(r#"{"a": {}}"#), "Empty objects are not allowed");
        assert_eq!(
            reason(r#"{"a": true}"#),
            r#""a" must be an object or an array"#
        );
        assert_eq!(
            reason(r#"{"a": [[1]]}"#),
            "Match value must be String, number, true, false, or null"
        );
        assert_eq!(reason(r#"{"a": [{}]}"#), "Match expression name not found");
        assert_eq!(
            reason(r#"{"a": [{"regex": "x"}]}"#),
            "Unrecognized match type regex"
        );
        assert_eq!(
            reason(r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#),
            "Only one key allowed in match expression"
        );
        assert_eq!(
            reason(r#"{"a": [{"exists": "yes"}]}"#),
            "exists match pattern must be either true or false."
        );
    }

    #[test]
    fn or_rejections() {
        assert_eq!(
            reason(r#"{"$or": {"a": [1]}}"#),
            "It must be an Array followed with $or."
        );
        assert_eq!(
            reason(r#"{"$or": [{"a": [1]}]}"#),
            "There must have at least 2 Objects in $or relationship."
        );
        assert_eq!(
            reason(r#"{"$or": [{"a": [1]}, 2]}"#),
            "Only JSON object is allowed in array of $or relationship."
        );
        assert_eq!(
            reason(r#"{"$or": [{"a": [1]}, {"prefix": [2]}]}"#),
            "prefix is Ruler reserved fieldName which cannot be used inside $or."
        );
    }

    #[test]
    fn numeric_rejections() {
        assert_eq!(
            reason(r#"{"a": [{"numeric": []}]}"#),
            "Invalid member in numeric match: ]"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": [5]}]}"#),
            "Invalid member in numeric match: 5"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": ["!=", 5]}]}"#),
            "Unrecognized numeric range operator: !="
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": ["=", "5"]}]}"#),
            "Value of equals must be numeric"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": ["<", 5, ">", 1]}]}"#),
            "Too many elements in numeric expression"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": [">", 5, 6]}]}"#),
            "Bad value in numeric range: 6"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": [">", 5, "<", 9, 1]}]}"#),
            "Too many terms in numeric range expression"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": [">", 5, "<", 5]}]}"#),
            "Bottom must be less than top"
        );
        assert_eq!(
            reason(r#"{"a": [{"numeric": [">", 1], "x": 1}]}"#),
            "Too many elements in numeric expression"
        );
    }

    #[test]
    fn anything_but_rejections() {
        assert_eq!(
            reason(r#"{"a": [{"anything-but": ["a", 1]}]}"#),
            "Inside anything but list, either all values are number or string, mixed type is not supported"
        );
        assert_eq!(
            reason(r#"{"a": [{"anything-but": []}]}"#),
            "Inside anything but list, either all values are number or string, mixed type is not supported"
        );
        assert_eq!(
            reason(r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#),
            "Unsupported anything-but pattern: numeric"
        );
        assert_eq!(
            reason(r#"{"a": [{"anything-but": {}}]}"#),
            "Anything-But expression name not found"
        );
        assert_eq!(
            reason(r#"{"a": [{"anything-but": {"wildcard": "a**"}}]}"#),
            "Consecutive wildcard characters at pos 2"
        );
    }

    #[test]
    fn duplicate_keys_are_validated_and_last_wins() {
        assert_eq!(
            reason(r#"{"a": [], "a": ["x"]}"#),
            "Empty arrays are not allowed"
        );
        let p = Pattern::parse(r#"{"a": ["x"], "a": ["y"]}"#).unwrap();
        assert!(p.matches(&json!({"a": "y"})));
        assert!(!p.matches(&json!({"a": "x"})));
        let nested = Pattern::parse(r#"{"d": {"a": ["x"]}, "d": {"b": ["y"]}}"#).unwrap();
        assert!(nested.matches(&json!({"d": {"a": "x", "b": "y"}})));
        assert!(!nested.matches(&json!({"d": {"b": "y"}})));
    }

    #[test]
    fn or_branches_combine_with_surrounding_fields() {
        let p = Pattern::parse(
            r#"{"source": ["s"], "detail": {"$or": [{"a": [1]}, {"b": [2], "c": [3]}]}}"#,
        )
        .unwrap();
        assert!(p.matches(&json!({"source": "s", "detail": {"a": 1}})));
        assert!(p.matches(&json!({"source": "s", "detail": {"b": 2, "c": 3}})));
        assert!(!p.matches(&json!({"source": "s", "detail": {"b": 2}})));
        assert!(!p.matches(&json!({"source": "t", "detail": {"a": 1}})));
    }

    #[test]
    fn exploding_or_is_refused() {
        let or = r#"{"$or": [{"a": [1]}, {"b": [1]}]}"#;
        let mut pattern = String::from("{");
        for i in 0..12 {
            if i > 0 {
                pattern.push(',');
            }
            pattern.push_str(&format!(r#""k{i}": {or}"#));
        }
        pattern.push('}');
        assert!(reason(&pattern).starts_with("Too many $or combinations"));
    }

    #[test]
    fn non_object_events_do_not_match() {
        let p = Pattern::parse(r#"{"a": [{"exists": false}]}"#).unwrap();
        assert!(p.matches(&json!({})));
        assert!(!p.matches(&json!([])));
        assert!(!p.matches(&json!("a")));
    }

    #[test]
    fn from_value_and_from_str_agree_with_parse() {
        let text = r#"{"detail": {"n": [{"numeric": [">", 1, "<=", 5]}]}}"#;
        let a: Pattern = text.parse().unwrap();
        let b = Pattern::from_value(&serde_json::from_str(text).unwrap()).unwrap();
        for n in [0, 1, 2, 5, 6] {
            let e = json!({"detail": {"n": n}});
            assert_eq!(a.matches(&e), b.matches(&e));
        }
        assert!(a.matches(&json!({"detail": {"n": 5}})));
    }
}
