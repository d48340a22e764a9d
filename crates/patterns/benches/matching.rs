//! Matching throughput: one CloudTrail-via-EventBridge event (a KMS `GenerateDataKey` call)
//! against 1, 100 and 1,000 rules. Run with `cargo bench -p kms-workshop-patterns`.
//!
//! The rule sets mix the workshop's rule with rules using every kind of test (exact values,
//! prefix, suffix, anything-but, numeric ranges, wildcards, equals-ignore-case, cidr, exists,
//! `$or`), most of which do not match, as in a real account's rule list.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use kms_workshop_patterns::Pattern;
use serde_json::{json, Value};

const WORKSHOP_RULE: &str = r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["GenerateDataKey"]}}"#;

fn event() -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms",
        "account": "111122223333",
        "time": "2026-03-02T10:15:30Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.11",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLEPRINCIPAL",
                "arn": "arn:aws:iam::111122223333:user/workshop-admin",
                "accountId": "111122223333",
                "accessKeyId": "AKIAEXAMPLEKEY000001",
                "userName": "workshop-admin"
            },
            "eventTime": "2026-03-02T10:15:30Z",
            "eventSource": "kms.amazonaws.com",
            "eventName": "GenerateDataKey",
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "192.0.2.10",
            "userAgent": "aws-cli/2.15.0 Python/3.11 Linux/6.1 exe/x86_64",
            "requestParameters": {
                "keyId": "alias/workshop",
                "keySpec": "AES_256",
                "encryptionContext": {"project": "kms-workshop", "stage": "dev"}
            },
            "responseElements": null,
            "requestID": "b1f0c1de-5a55-4bb3-9e5e-0a1f2f3e4d5c",
            "eventID": "0f6e2d4c-7b8a-4c3d-9e1f-2a3b4c5d6e7f",
            "readOnly": true,
            "resources": [{
                "accountId": "111122223333",
                "type": "AWS::KMS::Key",
                "ARN": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            }],
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "111122223333",
            "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": "kms.eu-west-1.amazonaws.com"},
            "bytes": 32
        }
    })
}

/// The `i`-th filler rule: varied operators, mostly not matching the event.
fn other_rule(i: usize) -> String {
    let names = [
        "Encrypt",
        "Decrypt",
        "CreateKey",
        "ScheduleKeyDeletion",
        "ImportKeyMaterial",
    ];
    let name = names[i % names.len()];
    match i % 10 {
        0 => format!(r#"{{"source":["aws.kms"],"detail":{{"eventName":["{name}"]}}}}"#),
        1 => format!(
            r#"{{"source":[{{"prefix":"aws.ec{i}"}}],"detail-type":["EC2 Instance State-change Notification"]}}"#
        ),
        2 => format!(
            r#"{{"detail":{{"eventName":[{{"anything-but":["GenerateDataKey","{name}"]}}],"userIdentity":{{"type":["Root"]}}}}}}"#
        ),
        3 => format!(
            r#"{{"detail":{{"bytes":[{{"numeric":[">",{i},"<=",{}]}}]}}}}"#,
            i + 10
        ),
        4 => format!(
            r#"{{"detail":{{"userIdentity":{{"arn":[{{"wildcard":"arn:aws:iam::*:user/team-{i}-*"}}]}}}}}}"#
        ),
        5 => format!(
            r#"{{"detail":{{"requestParameters":{{"keyId":[{{"equals-ignore-case":"ALIAS/OTHER-{i}"}}]}}}}}}"#
        ),
        6 => format!(
            r#"{{"detail":{{"sourceIPAddress":[{{"cidr":"10.{}.0.0/16"}}]}}}}"#,
            i % 250
        ),
        7 => format!(
            r#"{{"source":["aws.kms"],"detail":{{"errorCode":[{{"exists":true}}],"eventName":["{name}"]}}}}"#
        ),
        8 => format!(
            r#"{{"detail":{{"$or":[{{"eventName":["{name}"]}},{{"requestParameters":{{"keySpec":["RSA_{i}"]}}}}]}}}}"#
        ),
        _ => format!(
            r#"{{"region":[{{"suffix":"-{i}"}}],"detail":{{"resources":{{"type":["AWS::KMS::Key"]}}}}}}"#
        ),
    }
}

fn rules(count: usize) -> Vec<Pattern> {
    let mut rules = vec![Pattern::parse(WORKSHOP_RULE).unwrap()];
    rules.extend((1..count).map(|i| Pattern::parse(&other_rule(i)).unwrap()));
    rules
}

fn main() {
    let event = event();
    println!("matching one CloudTrail-via-EventBridge KMS event (GenerateDataKey)");
    println!();
    println!(
        "{:>6} | {:>7} | {:>12} | {:>10} | {:>8}",
        "rules", "matched", "events/s", "µs/event", "µs/rule"
    );
    println!(
        "{:->6}-+-{:->7}-+-{:->12}-+-{:->10}-+-{:->8}",
        "", "", "", "", ""
    );
    for count in [1usize, 100, 1000] {
        let rules = rules(count);
        let matched = rules.iter().filter(|r| r.matches(&event)).count();
        // Warm up, then run for about a second.
        let budget = Duration::from_millis(1000);
        for _ in 0..10 {
            black_box(
                rules
                    .iter()
                    .filter(|r| r.matches(black_box(&event)))
                    .count(),
            );
        }
        let start = Instant::now();
        let mut events = 0u64;
        while start.elapsed() < budget {
            for _ in 0..16 {
                black_box(
                    rules
                        .iter()
                        .filter(|r| r.matches(black_box(&event)))
                        .count(),
                );
            }
            events += 16;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let per_event_us = elapsed * 1e6 / events as f64;
        println!(
            "{:>6} | {:>7} | {:>12.0} | {:>10.2} | {:>8.3}",
            count,
            matched,
            events as f64 / elapsed,
            per_event_us,
            per_event_us / count as f64
        );
    }
}
