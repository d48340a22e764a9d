//! Unit tests of CloudTrail's trail names, lookup tokens and persisted selectors.

use super::ops::lookup::{decode_token, encode_token, query_hash};
use super::ops::trails::trail_name_error;
use super::state::{EventSelector, ReadWriteType};

#[test]
fn trail_names() {
    assert!(trail_name_error("workshop-trail").is_none());
    assert!(trail_name_error("a.b_c").is_none());
    let why = |n: &str| trail_name_error(n).map(|e| e.message).unwrap_or_default();
    assert_eq!(why("ab"), "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters.");
    assert!(why("my--trail").contains("adjacent"));
    assert_eq!(
        why("-trail"),
        "Trail name must starts with a letter or number."
    );
    assert_eq!(
        why("trail-"),
        "Trail name must ends with a letter or number."
    );
    assert!(why("my trail").starts_with("Trail name or ARN can only contain"));
    assert!(why("192.168.5.4").contains("IP address"));
    assert!(why(&"t".repeat(129)).starts_with("Trail name too long."));
}

#[test]
fn tokens_are_bound_to_the_query() {
    let h = query_hash(&Some((1, "GenerateDataKey".into())), 0, None);
    let t = encode_token(h, 42);
    assert_eq!(decode_token(&t, h).unwrap(), 42);
    let other = query_hash(&Some((3, "alice".into())), 0, None);
    assert_eq!(
        decode_token(&t, other).unwrap_err().code,
        "InvalidNextTokenException"
    );
    assert!(decode_token("!!!", h).is_err());
}

#[test]
fn selectors_keep_their_persisted_strings() {
    for t in [
        ReadWriteType::ReadOnly,
        ReadWriteType::WriteOnly,
        ReadWriteType::All,
    ] {
        assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        assert_eq!(ReadWriteType::parse(t.as_str()), Some(t));
    }
    let old =
        serde_json::json!({"read_write_type": "WriteOnly", "include_management_events": true});
    let s: EventSelector = serde_json::from_value(old.clone()).unwrap();
    assert!(s.logs(false, "kms.amazonaws.com") && !s.logs(true, "kms.amazonaws.com"));
    assert_eq!(serde_json::to_value(&s).unwrap(), old);
}
