//! Unit tests of CloudTrail's trail names, lookup tokens and persisted selectors.

use super::ops::lookup::{decode_token, encode_token, query_hash};
use super::ops::trails::valid_trail_name;
use super::state::{EventSelector, ReadWriteType};

#[test]
fn trail_names() {
    assert!(valid_trail_name("workshop-trail"));
    assert!(valid_trail_name("a.b_c"));
    assert!(!valid_trail_name("ab"));
    assert!(!valid_trail_name("my--trail"));
    assert!(!valid_trail_name("-trail"));
    assert!(!valid_trail_name("192.168.5.4"));
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
    assert!(s.logs(false) && !s.logs(true));
    assert_eq!(serde_json::to_value(&s).unwrap(), old);
}
