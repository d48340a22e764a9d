//! EventBridge pattern parsing, and matching of every accepted pattern against a fixed
//! CloudTrail-via-EventBridge event and against the input itself read as an event.
#![no_main]

use std::sync::OnceLock;

use kms_workshop_patterns::Pattern;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn event() -> &'static Value {
    static EVENT: OnceLock<Value> = OnceLock::new();
    EVENT.get_or_init(|| {
        json!({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "AWS API Call via CloudTrail", "source": "aws.kms",
            "account": "111122223333", "time": "2026-03-02T10:15:30Z", "region": "eu-west-1",
            "resources": [],
            "detail": {
                "eventSource": "kms.amazonaws.com", "eventName": "GenerateDataKey",
                "sourceIPAddress": "192.0.2.10", "readOnly": true, "bytes": 32,
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/workshop-admin"},
                "requestParameters": {"keyId": "alias/workshop", "encryptionContext": {"project": "kms-workshop"}},
                "responseElements": null,
                "resources": [{"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"}]
            }
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Pattern::parse(text) {
        let _ = p.matches(event());
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            let _ = p.matches(&v);
        }
    }
});
