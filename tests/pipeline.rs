//! The monitoring chapter's pipeline through the real `aws` CLI against the sandbox binary:
//! a KMS call becomes a CloudTrail event, a rule matches it, SNS delivers it to the inbox —
//! and each of the workshop's known mistakes delivers nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use kms_workshop_names::{bucket, FIRST_ALIAS, IMPORTED_ALIAS, ROLE, TOPIC};
use serde_json::{json, Value as J};

const KMS_PATTERN: &str = r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["GenerateDataKey"]}}"#;
/// What the console's "Service Name: CloudTrail" choice produces: it never matches a KMS call.
const CONSOLE_PATTERN: &str = r#"{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"]}}"#;
const EMAIL: &str = "learner@example.com";

struct Setup {
    topic_policy: bool,
    pattern: &'static str,
    state: &'static str,
    trail: bool,
    confirm: bool,
}

const GOOD: Setup = Setup {
    topic_policy: true,
    pattern: KMS_PATTERN,
    state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
    trail: true,
    confirm: true,
};

/// The workshop's steps 3–4 as a learner types them, with one thing possibly wrong.
fn build(sb: &SandboxProc, s: &Setup) -> String {
    let ep = &sb.endpoint;
    let topic = create_topic(ep, TOPIC, &["--attributes", "DisplayName=snsworkshp"]);
    let sub = subscribe(ep, &topic, "email", EMAIL);
    assert_eq!(sub["SubscriptionArn"], "pending confirmation");
    let subs =
        run_json(aws(ep).args(["sns", "list-subscriptions-by-topic", "--topic-arn", &topic]));
    assert_eq!(
        subs["Subscriptions"][0]["SubscriptionArn"],
        "PendingConfirmation"
    );
    if s.confirm {
        // Confirm with the token from the confirmation email, through the API.
        let mail = inbox(ep)
            .into_iter()
            .find(|m| m["kind"] == "SubscriptionConfirmation")
            .expect("confirmation email");
        assert_eq!(mail["recipient"], EMAIL);
        let token = mail["document"]["Token"].as_str().unwrap();
        let confirmed = run_json(aws(ep).args([
            "sns",
            "confirm-subscription",
            "--topic-arn",
            &topic,
            "--token",
            token,
        ]));
        assert!(confirmed["SubscriptionArn"]
            .as_str()
            .unwrap()
            .starts_with(&topic));
    }
    if s.trail {
        run_json(aws(ep).args([
            "cloudtrail",
            "create-trail",
            "--name",
            "workshop-trail",
            "--s3-bucket-name",
            &bucket(ACCOUNT),
        ]));
        run_json(aws(ep).args(["cloudtrail", "start-logging", "--name", "workshop-trail"]));
    }
    run_json(aws(ep).args([
        "events",
        "put-rule",
        "--name",
        "kms-generate-data-key",
        "--event-pattern",
        s.pattern,
        "--state",
        s.state,
    ]));
    let targets = run_json(aws(ep).args([
        "events",
        "put-targets",
        "--rule",
        "kms-generate-data-key",
        "--targets",
        &format!("Id={TOPIC},Arn={topic}"),
    ]));
    assert_eq!(targets["FailedEntryCount"], 0);
    if s.topic_policy {
        let policy = json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "AllowEventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic}]});
        // Keep the default statement too, as the console does.
        let attrs = run_json(aws(ep).args(["sns", "get-topic-attributes", "--topic-arn", &topic]));
        let mut existing: J =
            serde_json::from_str(attrs["Attributes"]["Policy"].as_str().unwrap()).unwrap();
        existing["Statement"]
            .as_array_mut()
            .unwrap()
            .push(policy["Statement"][0].clone());
        run_json(aws(ep).args([
            "sns",
            "set-topic-attributes",
            "--topic-arn",
            &topic,
            "--attribute-name",
            "Policy",
            "--attribute-value",
            &existing.to_string(),
        ]));
    }
    topic
}

fn generate_data_key(ep: &str) -> J {
    run_json(aws(ep).args(WORKSHOP_GDK))
}

#[test]
fn generate_data_key_reaches_the_inbox() {
    let sb = SandboxProc::start(&[]);
    let topic = build(&sb, &GOOD);
    let gdk = generate_data_key(&sb.endpoint);
    let notes = notifications(&sb.endpoint);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let n = &notes[0];
    assert_eq!(n["recipient"], EMAIL);
    assert_eq!(n["protocol"], "email");
    assert!(n["from"].as_str().unwrap().starts_with("snsworkshp"));
    assert_eq!(n["document"]["Type"], "Notification");
    assert_eq!(n["document"]["TopicArn"], topic);
    for field in [
        "MessageId",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ] {
        assert!(n["document"][field].is_string(), "missing {field}");
    }
    let event: J = serde_json::from_str(n["document"]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(event["source"], "aws.kms");
    assert_eq!(event["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(event["account"], ACCOUNT);
    assert_eq!(event["detail"]["eventName"], "GenerateDataKey");
    assert_eq!(
        event["detail"]["requestParameters"]["encryptionContext"]["project"],
        "workshop"
    );
    assert_eq!(event["detail"]["resources"][0]["ARN"], gdk["KeyId"]);
    // The email the learner reads carries the same event, and an unsubscribe link.
    assert!(n["body"].as_str().unwrap().contains("GenerateDataKey"));
    let rules = common::http::control_json(&sb.endpoint, "GET", "/_sandbox/rules");
    assert_eq!(rules["rules"][0]["MatchedEvents"], 1);
    assert_eq!(rules["rules"][0]["FailedInvocations"], 0);
    // Other KMS calls do not match the rule.
    run_json(aws(&sb.endpoint).args(["kms", "describe-key", "--key-id", IMPORTED_ALIAS]));
    assert_eq!(notifications(&sb.endpoint).len(), 1);
}

fn assert_nothing_delivered(setup: Setup, why: &str) -> SandboxProc {
    // Without the seeded history, so event counts are this test's own calls.
    let sb = SandboxProc::start(&["--empty-history"]);
    build(&sb, &setup);
    generate_data_key(&sb.endpoint);
    assert!(
        notifications(&sb.endpoint).is_empty(),
        "delivered although {why}"
    );
    sb
}

#[test]
fn no_topic_policy_delivers_nothing_and_counts_a_failed_invocation() {
    let sb = assert_nothing_delivered(
        Setup {
            topic_policy: false,
            ..GOOD
        },
        "the topic policy does not admit EventBridge",
    );
    let rules = common::http::control_json(&sb.endpoint, "GET", "/_sandbox/rules");
    assert_eq!(rules["rules"][0]["MatchedEvents"], 1);
    assert_eq!(rules["rules"][0]["FailedInvocations"], 1);
    assert!(rules["rules"][0]["last_failure"]
        .as_str()
        .unwrap()
        .contains("events.amazonaws.com"));
}

#[test]
fn console_cloudtrail_pattern_delivers_nothing() {
    assert_nothing_delivered(
        Setup {
            pattern: CONSOLE_PATTERN,
            ..GOOD
        },
        "the pattern is the console's aws.cloudtrail one",
    );
}

#[test]
fn rule_state_enabled_misses_read_only_events() {
    let sb = assert_nothing_delivered(
        Setup {
            state: "ENABLED",
            ..GOOD
        },
        "GenerateDataKey is read-only and the rule is only ENABLED",
    );
    // A write event (DisableKey) does reach an ENABLED rule with a matching pattern.
    let write_pattern = r#"{"source":["aws.kms"],"detail":{"eventName":["DisableKey"]}}"#;
    run_json(aws(&sb.endpoint).args([
        "events",
        "put-rule",
        "--name",
        "kms-generate-data-key",
        "--event-pattern",
        write_pattern,
        "--state",
        "ENABLED",
    ]));
    let k2 = run_json(aws(&sb.endpoint).args(["kms", "describe-key", "--key-id", FIRST_ALIAS]))
        ["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    run_json(aws(&sb.endpoint).args(["kms", "disable-key", "--key-id", &k2]));
    assert_eq!(notifications(&sb.endpoint).len(), 1);
}

#[test]
fn no_logging_trail_delivers_nothing() {
    let sb = assert_nothing_delivered(
        Setup {
            trail: false,
            ..GOOD
        },
        "no trail is logging",
    );
    // Event history has the call all the same: it needs no trail.
    let found = run_json(aws(&sb.endpoint).args(common::words("cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GenerateDataKey")));
    assert_eq!(found["Events"].as_array().unwrap().len(), 1);
    // A trail that was logging and stopped delivers nothing either.
    run_json(aws(&sb.endpoint).args([
        "cloudtrail",
        "create-trail",
        "--name",
        "trail-one",
        "--s3-bucket-name",
        &bucket(ACCOUNT),
    ]));
    run_json(aws(&sb.endpoint).args(["cloudtrail", "start-logging", "--name", "trail-one"]));
    run_json(aws(&sb.endpoint).args(["cloudtrail", "stop-logging", "--name", "trail-one"]));
    generate_data_key(&sb.endpoint);
    assert!(notifications(&sb.endpoint).is_empty());
}

/// A trail whose selectors leave out KMS's events hands EventBridge none of them (AWS's
/// `ExcludeManagementEventSources`); selectors that include them again deliver again.
#[test]
fn a_trail_excluding_kms_events_delivers_none_of_them() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    build(&sb, &GOOD);
    let selectors = |excluded: &str| {
        format!(
            r#"[{{"ReadWriteType":"All","IncludeManagementEvents":true,"ExcludeManagementEventSources":[{excluded}]}}]"#
        )
    };
    let put = |excluded: &str| {
        run_json(
            aws(ep)
                .args([
                    "cloudtrail",
                    "put-event-selectors",
                    "--trail-name",
                    "workshop-trail",
                ])
                .args(["--event-selectors", &selectors(excluded)]),
        );
    };
    put(r#""kms.amazonaws.com""#);
    generate_data_key(ep);
    assert!(
        notifications(ep).is_empty(),
        "delivered although the trail leaves out KMS"
    );
    put("");
    generate_data_key(ep);
    assert_eq!(notifications(ep).len(), 1);
}

#[test]
fn unconfirmed_subscription_delivers_nothing_until_confirmed() {
    let sb = assert_nothing_delivered(
        Setup {
            confirm: false,
            ..GOOD
        },
        "the subscription is pending confirmation",
    );
    // Following the link in the email (what `sandbox confirm` does) activates it.
    let out = Command::new(bin())
        .args(["sandbox", "confirm", "--endpoint", &sb.endpoint])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!(
        "confirmed arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}:"
    )));
    generate_data_key(&sb.endpoint);
    assert_eq!(notifications(&sb.endpoint).len(), 1);
}

#[test]
fn delayed_delivery_waits_for_the_sandbox_clock() {
    let sb = SandboxProc::start(&["--cloudtrail-delay", "5m"]);
    build(&sb, &GOOD);
    generate_data_key(&sb.endpoint);
    assert!(
        notifications(&sb.endpoint).is_empty(),
        "delivered before the CloudTrail delay passed"
    );
    let out = Command::new(bin())
        .args([
            "sandbox",
            "clock",
            "advance",
            "6m",
            "--endpoint",
            &sb.endpoint,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(notifications(&sb.endpoint).len(), 1);
}

#[test]
fn test_event_pattern_agrees_with_the_pattern_engine() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let event = json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms", "account": ACCOUNT, "time": "2026-11-28T17:00:00Z", "region": REGION, "resources": [],
        "detail": {"eventSource": "kms.amazonaws.com", "eventName": "GenerateDataKey", "readOnly": true,
                   "userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"userName": ROLE}}},
                   "requestParameters": {"keySpec": "AES_256", "encryptionContext": {"project": "workshop"}}, "sourceIPAddress": "10.0.0.12"}
    });
    let patterns = [
        KMS_PATTERN,
        CONSOLE_PATTERN,
        r#"{"detail":{"eventName":[{"prefix":"Generate"}]}}"#,
        r#"{"detail":{"eventName":[{"anything-but":"GenerateDataKey"}]}}"#,
        r#"{"detail":{"requestParameters":{"encryptionContext":{"project":[{"exists":true}]}}}}"#,
        r#"{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}"#,
        r#"{"detail":{"eventName":[{"wildcard":"*DataKey"}]}}"#,
        r#"{"$or":[{"source":["aws.s3"]},{"detail":{"readOnly":[true]}}]}"#,
    ];
    for p in patterns {
        let answer = run_json(aws(&sb.endpoint).args([
            "events",
            "test-event-pattern",
            "--event-pattern",
            p,
            "--event",
            &event.to_string(),
        ]));
        let local = kms_workshop_patterns::Pattern::parse(p)
            .unwrap()
            .matches(&event);
        assert_eq!(answer["Result"].as_bool(), Some(local), "pattern {p}");
    }
    // An invalid pattern is refused with AWS's exception.
    let bad = run_fail(aws(&sb.endpoint).args([
        "events",
        "test-event-pattern",
        "--event-pattern",
        r#"{"source":"aws.kms"}"#,
        "--event",
        &event.to_string(),
    ]));
    assert!(
        stderr_of(&bad).contains("InvalidEventPatternException"),
        "{}",
        stderr_of(&bad)
    );
    // PutEvents refuses aws.* sources.
    let put = run_json(aws(&sb.endpoint).args(["events", "put-events", "--entries", r#"[{"Source":"aws.kms","DetailType":"x","Detail":"{}"},{"Source":"workshop.app","DetailType":"x","Detail":"{}"}]"#]));
    assert_eq!(put["FailedEntryCount"], 1);
    assert_eq!(
        put["Entries"][0]["ErrorCode"],
        "NotAuthorizedForSourceException"
    );
    assert!(put["Entries"][1]["EventId"].is_string());
}

/// A one-connection-at-a-time HTTP listener on loopback that records what SNS POSTs.
/// What the listener saw of one POST: its headers (lower-cased names) and body.
type Posted = (Vec<(String, String)>, String);

fn listener() -> (String, mpsc::Receiver<Posted>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sns", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap();
            if tx
                .send((headers, String::from_utf8(body).unwrap()))
                .is_err()
            {
                return;
            }
        }
    });
    (url, rx)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[test]
fn http_subscription_gets_the_confirmation_and_notifications() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    let (url, rx) = listener();
    let topic = create_topic(ep, TOPIC, &[]);
    subscribe(ep, &topic, "http", &url);
    let wait = Duration::from_secs(30);
    let (h, body) = rx
        .recv_timeout(wait)
        .expect("SubscriptionConfirmation POST");
    assert_eq!(
        header(&h, "x-amz-sns-message-type"),
        "SubscriptionConfirmation"
    );
    assert_eq!(header(&h, "x-amz-sns-topic-arn"), topic);
    assert!(header(&h, "content-type").starts_with("text/plain"));
    let doc: J = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["Type"], "SubscriptionConfirmation");
    // Confirm the way an HTTP endpoint does: GET the SubscribeURL.
    let url = doc["SubscribeURL"].as_str().unwrap();
    let path = url
        .strip_prefix(ep.as_str())
        .expect("a link to the sandbox");
    let (status, raw) = common::http::raw(ep, "GET", path, &[], b"");
    assert_eq!(status, 200, "{raw}");
    assert!(raw.contains("<SubscriptionArn>"), "{raw}");
    run_json(aws(ep).args([
        "sns",
        "publish",
        "--topic-arn",
        &topic,
        "--subject",
        "Hello",
        "--message",
        "from the workshop",
    ]));
    let (h, body) = rx.recv_timeout(wait).expect("Notification POST");
    assert_eq!(header(&h, "x-amz-sns-message-type"), "Notification");
    assert!(header(&h, "x-amz-sns-subscription-arn").starts_with(&topic));
    assert!(!header(&h, "x-amz-sns-message-id").is_empty());
    let doc: J = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["Type"], "Notification");
    assert_eq!(doc["Subject"], "Hello");
    assert_eq!(doc["Message"], "from the workshop");
}
