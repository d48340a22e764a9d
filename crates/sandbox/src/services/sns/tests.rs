//! Unit tests of SNS's topic policies and name checks.

use serde_json::json;

use super::ops::subscriptions::valid_email;
use super::ops::topics::topic_name_ok;
use super::policy::{default_policy, service_may_publish};

#[test]
fn default_policy_does_not_admit_eventbridge() {
    let arn = "arn:aws:sns:us-east-1:111122223333:snsworkshop";
    let rule = "arn:aws:events:us-east-1:111122223333:rule/r";
    assert!(!service_may_publish(
        &default_policy(arn, "111122223333"),
        arn,
        "events.amazonaws.com",
        rule,
        "111122223333"
    ));
    let with_events = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn}
    ]})
    .to_string();
    assert!(service_may_publish(
        &with_events,
        arn,
        "events.amazonaws.com",
        rule,
        "111122223333"
    ));
    let conditioned = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "SNS:*", "Resource": "arn:aws:sns:*",
         "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/other"}}}
    ]})
    .to_string();
    assert!(!service_may_publish(
        &conditioned,
        arn,
        "events.amazonaws.com",
        rule,
        "111122223333"
    ));
    let denied = json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn}
    ]})
    .to_string();
    assert!(!service_may_publish(
        &denied,
        arn,
        "events.amazonaws.com",
        rule,
        "111122223333"
    ));
}

#[test]
fn emails_and_names() {
    assert!(valid_email("learner@example.com"));
    assert!(!valid_email("learner@example"));
    assert!(!valid_email("not an email"));
    assert!(topic_name_ok("snsworkshop"));
    assert!(!topic_name_ok("bad name"));
}
