//! Differential test: the same SNS and EventBridge management requests, sent through the Rust
//! SDK to `moto_server` and to the sandbox binary (`--seed empty`), must get answers of the same
//! shape (members present and their types, map keys, enum values) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore models and the SNS / EventBridge API references), that comparison is skipped with
//! the reason next to it, and the sandbox's answer is checked against AWS's documented answer
//! instead. Every answer of the sandbox is also checked against botocore's model (only members
//! the model defines, no nulls, and for awsQuery the `<OpResult>` element that botocore needs
//! whenever the operation has an output shape). Needs `moto_server` and Python from the test
//! virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod requests;

use crate::common;

use aws_sdk_eventbridge::types::RuleState;
use common::differential::*;
use requests::*;
use serde_json::{json, Value as J};

/// Attributes: the same keys on both sides, except that moto 5.2 lists an empty
/// DeliveryPolicy, which AWS leaves out until a delivery policy is set.
const TOPIC_ATTR_GAPS: &[&str] = &["Attributes.DeliveryPolicy"];

/// A second CreateTopic with the same attributes returns the same topic.
async fn create_topic(sides: &mut [Side; 2], report: &mut Report) {
    let rows = [
        (Sns::CreateTopic("topic"), Check::new("sns:CreateTopic")),
        (
            Sns::CreateTopic("topic again"),
            Check::new("sns:CreateTopic (again, same attributes)"),
        ),
    ];
    run(sides, report, rows).await;
    for side in sides.iter() {
        let (a, b) = (side.id("topic"), side.id("topic again"));
        report.expect(
            "sns:CreateTopic (again)",
            side.name,
            a == b,
            format!("a second topic {b} (first {a})"),
        );
    }
}

/// Topic attributes; the policy as set, modulo the account in its ARNs (moto's is
/// 123456789012).
async fn topic_attributes(sides: &mut [Side; 2], report: &mut Report) {
    let rows = [
        (Sns::ListTopics, Check::new("sns:ListTopics")),
        (
            Sns::GetTopicAttributes,
            Check::new("sns:GetTopicAttributes")
                .ignore(TOPIC_ATTR_GAPS)
                .values(&[
                    "Attributes.DisplayName",
                    "Attributes.SubscriptionsConfirmed",
                    "Attributes.SubscriptionsPending",
                    "Attributes.SubscriptionsDeleted",
                ])
                .json_values(&["Attributes.Policy"]),
        ),
        (
            Sns::SetTopicAttribute("DisplayName", "KMS alerts"),
            Check::new("sns:SetTopicAttributes (DisplayName)"),
        ),
        (
            Sns::SetTopicPolicy,
            Check::new("sns:SetTopicAttributes (Policy)"),
        ),
    ];
    run(sides, report, rows).await;
    let (m, s) = Sns::GetTopicAttributes.send(sides).await;
    report.compare(
        Check::new("sns:GetTopicAttributes (after set)")
            .ignore(TOPIC_ATTR_GAPS)
            .values(&["Attributes.DisplayName"])
            .aws("Attributes.DisplayName", json!("KMS alerts")),
        &m,
        &s,
    );
    for (side, out) in sides.iter().zip([&m, &s]) {
        let arn = side.id("topic");
        let want = serde_json::from_str::<J>(&topic_policy(&arn, &account_of(&arn))).unwrap();
        let got = match out {
            Outcome::Ok(j, _) => {
                as_json_text(values_at(j, "Attributes.Policy").first().copied(), false)
            }
            Outcome::Err(_) => None,
        };
        report.expect(
            "sns:GetTopicAttributes (Policy)",
            side.name,
            got.as_ref() == Some(&want),
            format!("Policy is {got:?}"),
        );
    }
}

/// Subscriptions. moto 5.2 confirms email subscriptions at once; on AWS they stay
/// PendingConfirmation until the link in the email is followed, Subscribe answers "pending
/// confirmation" unless ReturnSubscriptionArn is set, and the listings show
/// "PendingConfirmation" in place of the ARN.
async fn subscriptions(sides: &mut [Side; 2], report: &mut Report) {
    let rows = [
        (
            Sns::Subscribe("email", "learner@example.com", false),
            Check::new("sns:Subscribe (email)")
                .aws("SubscriptionArn", json!("pending confirmation")),
        ),
        (
            Sns::Subscribe("email", "security@example.com", true),
            Check::new("sns:Subscribe (email, ReturnSubscriptionArn)"),
        ),
    ];
    run(sides, report, rows).await;
    for side in sides.iter() {
        let (topic, sub) = (side.id("topic"), side.id("subscription"));
        report.expect(
            "sns:Subscribe (ReturnSubscriptionArn)",
            side.name,
            sub.strip_prefix(&format!("{topic}:"))
                .is_some_and(|id| id.len() == 36),
            format!("{sub} is not <topic ARN>:<uuid>"),
        );
    }
    let pending = |op| {
        Check::new(op).values(&["Subscriptions[].Protocol"]).aws(
            "Subscriptions[].SubscriptionArn",
            json!("PendingConfirmation"),
        )
    };
    let rows = [
        (Sns::ListSubscriptions, pending("sns:ListSubscriptions")),
        (
            Sns::ListSubscriptionsByTopic,
            pending("sns:ListSubscriptionsByTopic"),
        ),
        (
            Sns::GetSubscriptionAttributes,
            Check::new("sns:GetSubscriptionAttributes (pending)")
                .values(&[
                    "Attributes.Protocol",
                    "Attributes.Endpoint",
                    "Attributes.RawMessageDelivery",
                ])
                .aws("Attributes.PendingConfirmation", json!("true"))
                .aws("Attributes.ConfirmationWasAuthenticated", json!("false")),
        ),
        (
            Sns::GetTopicAttributes,
            Check::new("sns:GetTopicAttributes (two pending)")
                .ignore(TOPIC_ATTR_GAPS)
                .aws("Attributes.SubscriptionsPending", json!("2"))
                .aws("Attributes.SubscriptionsConfirmed", json!("0")),
        ),
        (Sns::Publish, Check::new("sns:Publish")),
    ];
    run(sides, report, rows).await;
}

/// Tags, errors, then unsubscribing and deleting the topic.
async fn topic_tags_and_deletion(sides: &mut [Side; 2], report: &mut Report) {
    let rows = [
        (
            Sns::TagResource(&[("project", "kmsworkshop"), ("team", "a")]),
            Check::new("sns:TagResource"),
        ),
        (
            Sns::ListTagsForResource,
            Check::new("sns:ListTagsForResource").values(&["Tags"]),
        ),
        (Sns::UntagResource("team"), Check::new("sns:UntagResource")),
        (
            Sns::ListTagsForResource,
            Check::new("sns:ListTagsForResource (after untag)").values(&["Tags"]),
        ),
        // Errors.
        (
            Sns::GetMissingTopicAttributes,
            Check::new("sns:GetTopicAttributes (missing topic)"),
        ),
        (
            Sns::Subscribe("carrier-pigeon", "learner@example.com", false),
            Check::new("sns:Subscribe (invalid protocol)").moto_differs(
                "moto 5.2 accepts any protocol string; AWS refuses it",
                "InvalidParameter",
            ),
        ),
        (
            Sns::Subscribe("email", "not an email", false),
            Check::new("sns:Subscribe (invalid email)").moto_differs(
                "moto 5.2 does not validate email endpoints; AWS refuses them",
                "InvalidParameter",
            ),
        ),
        // Unsubscribe and delete.
        (Sns::Unsubscribe, Check::new("sns:Unsubscribe")),
        (
            Sns::ListSubscriptionsByTopic,
            Check::new("sns:ListSubscriptionsByTopic (after unsubscribe)")
                // moto also kept the subscriptions with an invalid protocol and email it
                // accepted.
                .aws("Subscriptions[].Endpoint", json!("learner@example.com"))
                .aws(
                    "Subscriptions[].SubscriptionArn",
                    json!("PendingConfirmation"),
                ),
        ),
        (Sns::DeleteTopic, Check::new("sns:DeleteTopic")),
        (
            Sns::DeleteTopic,
            Check::new("sns:DeleteTopic (already deleted)"),
        ),
        (
            Sns::GetTopicAttributes,
            Check::new("sns:GetTopicAttributes (deleted topic)"),
        ),
        (Sns::ListTopics, Check::new("sns:ListTopics (after delete)")),
    ];
    run(sides, report, rows).await;
}

const RULE_VALUES: &[&str] = &["Name", "State", "Description", "EventBusName", "CreatedBy"];
/// moto 5.2 lists each rule with CreatedBy, which botocore's `Rule` shape (ListRules) lacks.
const MOTO_RULE_GAPS: &[&str] = &["Rules[].CreatedBy"];

/// Rules: one ENABLED, one receiving read-only management events as well; disable, enable.
async fn rules(sides: &mut [Side; 2], report: &mut Report) {
    // A topic to point targets at.
    for side in sides.iter_mut() {
        let arn = side
            .sns
            .create_topic()
            .name("differential-target")
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
        side.ids.insert("target topic", arn);
    }
    let describe = |op| {
        Check::new(op)
            .values(RULE_VALUES)
            .json_values(&["EventPattern"])
    };
    let rows = [
        (EventBridge::PutKmsRule, Check::new("events:PutRule")),
        (
            EventBridge::PutRule(
                "differential-management",
                r#"{"source":["aws.kms"]}"#,
                Some(RuleState::EnabledWithAllCloudtrailManagementEvents),
            ),
            Check::new("events:PutRule (ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)"),
        ),
        (
            EventBridge::DescribeRule("differential-kms"),
            describe("events:DescribeRule"),
        ),
        (
            EventBridge::DescribeRule("differential-management"),
            describe("events:DescribeRule (all management events)"),
        ),
        (
            EventBridge::ListRules("differential-"),
            Check::new("events:ListRules (NamePrefix)")
                .ignore(MOTO_RULE_GAPS)
                .values(&["Rules[].Name", "Rules[].State", "Rules[].EventBusName"]),
        ),
        (
            EventBridge::ListRules("nothing-"),
            Check::new("events:ListRules (NamePrefix, no match)").values(&["Rules"]),
        ),
        // Disable and enable.
        (
            EventBridge::DisableRule("differential-kms"),
            Check::new("events:DisableRule"),
        ),
        (
            EventBridge::DescribeRule("differential-kms"),
            Check::new("events:DescribeRule (disabled)")
                .values(RULE_VALUES)
                .aws("State", json!("DISABLED")),
        ),
        (
            EventBridge::EnableRule("differential-kms"),
            Check::new("events:EnableRule"),
        ),
        (
            EventBridge::DescribeRule("differential-kms"),
            Check::new("events:DescribeRule (enabled)")
                .values(RULE_VALUES)
                .aws("State", json!("ENABLED")),
        ),
    ];
    run(sides, report, rows).await;
}

/// Targets, patterns and events.
async fn targets_and_events(sides: &mut [Side; 2], report: &mut Report) {
    // moto 5.2 does not implement TestEventPattern (it answers 200 with an empty body), so the
    // sandbox is checked against AWS's answers only.
    let not_in_moto = "not implemented by moto 5.2 (empty answer)";
    let rows = [
        (
            EventBridge::PutTargets,
            Check::new("events:PutTargets").values(&["FailedEntryCount", "FailedEntries"]),
        ),
        (
            EventBridge::ListTargetsByRule("differential-kms"),
            Check::new("events:ListTargetsByRule").values(&["Targets[].Id", "Targets[].Input"]),
        ),
        (
            EventBridge::ListRuleNamesByTarget,
            Check::new("events:ListRuleNamesByTarget").values(&["RuleNames"]),
        ),
        (
            EventBridge::DeleteRule("differential-kms"),
            Check::new("events:DeleteRule (with targets)"),
        ),
        (
            EventBridge::ListTargetsByRule("differential-missing"),
            Check::new("events:ListTargetsByRule (missing rule)"),
        ),
        (
            EventBridge::TestEventPattern(KMS_PATTERN, "GenerateDataKey"),
            Check::new("events:TestEventPattern (match)")
                .moto_differs(not_in_moto, "ok")
                .aws("Result", json!(true)),
        ),
        (
            EventBridge::TestEventPattern(KMS_PATTERN, "Encrypt"),
            Check::new("events:TestEventPattern (no match)")
                .moto_differs(not_in_moto, "ok")
                .aws("Result", json!(false)),
        ),
        (
            EventBridge::TestEventPattern(r#"{"source":"aws.kms"}"#, "Encrypt"),
            Check::new("events:TestEventPattern (invalid pattern)")
                .moto_differs(not_in_moto, "InvalidEventPatternException"),
        ),
        // PutEvents with a custom source matches no rule (moto 5.2 fails with HTTP 500 when an
        // event reaches a rule with an SNS target, which it cannot deliver to).
        (
            EventBridge::PutEvents("workshop.differential", r#"{"step":1}"#),
            Check::new("events:PutEvents").values(&["FailedEntryCount"]),
        ),
        (
            EventBridge::PutEvents("aws.kms", "{}"),
            Check::new("events:PutEvents (aws.* source)")
                .moto_differs(
                    "moto 5.2 accepts any source; AWS refuses aws.* sources entry by entry",
                    "ok",
                )
                .aws("FailedEntryCount", json!(1))
                .aws(
                    "Entries[].ErrorCode",
                    json!("NotAuthorizedForSourceException"),
                ),
        ),
    ];
    run(sides, report, rows).await;
}

/// Tags, errors, then removing the targets and the rules.
async fn rule_tags_and_deletion(sides: &mut [Side; 2], report: &mut Report) {
    let tags = |op| Check::new(op).values(&["Tags"]);
    let rows = [
        (
            EventBridge::ListTagsForResource,
            tags("events:ListTagsForResource (tags from PutRule)"),
        ),
        (
            EventBridge::TagResource("team", "a"),
            Check::new("events:TagResource"),
        ),
        (
            EventBridge::ListTagsForResource,
            tags("events:ListTagsForResource"),
        ),
        (
            EventBridge::UntagResource("project"),
            Check::new("events:UntagResource"),
        ),
        (
            EventBridge::ListTagsForResource,
            tags("events:ListTagsForResource (after untag)"),
        ),
        // Errors.
        (
            EventBridge::DescribeRule("differential-missing"),
            Check::new("events:DescribeRule (missing rule)"),
        ),
        (
            EventBridge::EnableRule("differential-missing"),
            Check::new("events:EnableRule (missing rule)"),
        ),
        (
            EventBridge::PutRule("differential-bad", r#"{"source":"aws.kms"}"#, None),
            Check::new("events:PutRule (pattern leaf not an array)"),
        ),
        (
            EventBridge::PutRule("differential-bad", "not json", None),
            Check::new("events:PutRule (pattern not JSON)"),
        ),
        // Remove the targets, then the rules.
        (
            EventBridge::RemoveTargets,
            Check::new("events:RemoveTargets").values(&["FailedEntryCount", "FailedEntries"]),
        ),
        (
            EventBridge::ListTargetsByRule("differential-kms"),
            Check::new("events:ListTargetsByRule (after remove)").values(&["Targets"]),
        ),
        (
            EventBridge::ListRuleNamesByTarget,
            Check::new("events:ListRuleNamesByTarget (after remove)").values(&["RuleNames"]),
        ),
        (
            EventBridge::DeleteRule("differential-kms"),
            Check::new("events:DeleteRule"),
        ),
        (
            EventBridge::DeleteRule("differential-kms"),
            Check::new("events:DeleteRule (already deleted)"),
        ),
        (
            EventBridge::DescribeRule("differential-kms"),
            Check::new("events:DescribeRule (deleted rule)"),
        ),
        (
            EventBridge::ListRules("differential-"),
            Check::new("events:ListRules (after delete)")
                .ignore(MOTO_RULE_GAPS)
                .values(&["Rules[].Name"]),
        ),
    ];
    run(sides, report, rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_and_eventbridge_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let sides = &mut Side::pair(&moto_proc.endpoint, &sandbox_proc.endpoint, Dialect::Query).await;
    let report = &mut Report::new(botocore_outputs(&["sns", "events"]));

    create_topic(sides, report).await;
    topic_attributes(sides, report).await;
    subscriptions(sides, report).await;
    topic_tags_and_deletion(sides, report).await;
    rules(sides, report).await;
    targets_and_events(sides, report).await;
    rule_tags_and_deletion(sides, report).await;

    report.finish(
        "differential: moto_server vs the sandbox, SNS and EventBridge (Rust SDK, same requests)",
        (64, 44),
    );
}
