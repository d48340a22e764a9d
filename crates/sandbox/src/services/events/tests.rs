//! Unit tests of EventBridge's JSONPaths, schedules, envelopes and rule states.

use serde_json::json;

use super::*;

#[test]
fn json_paths() {
    let v = json!({"detail": {"eventName": "GenerateDataKey", "list": [1, {"a": "b"}]}});
    assert_eq!(
        json_path(&v, "$.detail.eventName"),
        Some(&json!("GenerateDataKey"))
    );
    assert_eq!(json_path(&v, "$.detail.list[1].a"), Some(&json!("b")));
    assert_eq!(
        json_path(&v, "$['detail']['eventName']"),
        Some(&json!("GenerateDataKey"))
    );
    assert_eq!(json_path(&v, "$"), Some(&v));
    assert_eq!(json_path(&v, "$.nope"), None);
    assert_eq!(json_path(&v, "detail"), None);
}

#[test]
fn envelope_of_a_kms_record() {
    let rec = json!({"eventSource": "kms.amazonaws.com", "eventName": "GenerateDataKey", "eventTime": "2026-11-28T17:00:00Z"});
    let env = cloudtrail_envelope(&rec, "111122223333", "us-east-1");
    assert_eq!(env["source"], "aws.kms");
    assert_eq!(env["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(env["detail"]["eventName"], "GenerateDataKey");
    assert_eq!(env["time"], "2026-11-28T17:00:00Z");
}

#[test]
fn rule_states_keep_their_aws_names() {
    for s in ["ENABLED", "DISABLED", ALL_MANAGEMENT] {
        let state = RuleState::parse(s).expect("a known state");
        assert_eq!(state.as_str(), s);
        assert_eq!(serde_json::to_value(state).ok(), Some(json!(s)));
        assert_eq!(
            serde_json::from_value::<RuleState>(json!(s)).ok(),
            Some(state)
        );
    }
    assert!(RuleState::parse("enabled").is_none());
    assert!(!RuleState::Enabled.receives(Some(true)));
    assert!(RuleState::Enabled.receives(None));
    assert!(RuleState::EnabledWithAllCloudtrailManagementEvents.receives(Some(true)));
    assert!(!RuleState::Disabled.receives(Some(false)));
}
