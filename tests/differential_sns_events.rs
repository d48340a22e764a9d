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

use crate::common;

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::{PutEventsRequestEntry, RuleState, Tag as EbTag, Target};
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::Tag as SnsTag;
use common::differential::{self, *};
use serde_json::{json, Value as J};

struct Side {
    name: &'static str,
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
    capture: Capture,
    /// ARNs and ids this side handed out, by role.
    ids: BTreeMap<&'static str, String>,
}

impl Side {
    async fn new(name: &'static str, endpoint: &str) -> Side {
        let sdk = differential::sdk_config(endpoint, "differential").await;
        let capture = Capture::default();
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        let events = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        Side {
            name,
            sns,
            events,
            capture,
            ids: BTreeMap::new(),
        }
    }

    fn id(&self, role: &str) -> String {
        self.ids
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{}: nothing recorded as '{role}'", self.name))
    }

    /// Turn an SDK result into an outcome: the raw body as JSON, or the error code.
    fn outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        r: &Result<T, SdkError<E, HttpResponse>>,
    ) -> Outcome {
        differential::query_outcome(&self.capture, r)
    }
}

fn sns_tag(k: &str, v: &str) -> SnsTag {
    SnsTag::builder().key(k).value(v).build().unwrap()
}

fn eb_tag(k: &str, v: &str) -> EbTag {
    EbTag::builder().key(k).value(v).build().unwrap()
}

/// A topic policy that also lets EventBridge publish (the workshop's statement).
fn topic_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["SNS:GetTopicAttributes", "SNS:Publish", "SNS:Subscribe"], "Resource": topic_arn,
             "Condition": {"StringEquals": {"AWS:SourceOwner": account}}},
            {"Sid": "AllowEventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": "sns:Publish", "Resource": topic_arn}
        ]
    })
    .to_string()
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

const KMS_PATTERN: &str = r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["GenerateDataKey","Decrypt"]}}"#;

fn kms_event(event_name: &str) -> String {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms", "account": "111122223333", "time": "2026-11-28T17:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"eventSource": "kms.amazonaws.com", "eventName": event_name}
    })
    .to_string()
}

async fn sns_operations(sides: &mut [Side; 2], report: &mut Report) {
    // CreateTopic with a DisplayName; the same request again returns the same topic.
    let (m, s) = both!(sides, |side| {
        let r = side
            .sns
            .create_topic()
            .name("differential")
            .attributes("DisplayName", "Differential")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("topic", o.topic_arn().unwrap_or_default().to_string());
        }
        r
    });
    report.compare(Check::new("sns:CreateTopic"), &m, &s);
    let (m, s) = both!(sides, |side| {
        let r = side
            .sns
            .create_topic()
            .name("differential")
            .attributes("DisplayName", "Differential")
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("topic again", o.topic_arn().unwrap_or_default().to_string());
        }
        r
    });
    report.compare(
        Check::new("sns:CreateTopic (again, same attributes)"),
        &m,
        &s,
    );
    for side in sides.iter() {
        let (a, b) = (side.id("topic"), side.id("topic again"));
        report.expect(
            "sns:CreateTopic (again)",
            side.name,
            a == b,
            format!("a second topic {b} (first {a})"),
        );
    }

    let (m, s) = both!(sides, |side| side.sns.list_topics().send().await);
    report.compare(Check::new("sns:ListTopics"), &m, &s);

    // Attributes: the same keys on both sides, except that moto 5.2 lists an empty
    // DeliveryPolicy, which AWS leaves out until a delivery policy is set.
    const TOPIC_ATTR_GAPS: &[&str] = &["Attributes.DeliveryPolicy"];
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:GetTopicAttributes")
            .ignore(TOPIC_ATTR_GAPS)
            .values(&[
                "Attributes.DisplayName",
                "Attributes.SubscriptionsConfirmed",
                "Attributes.SubscriptionsPending",
                "Attributes.SubscriptionsDeleted",
            ])
            .json_values(&["Attributes.Policy"]),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| {
        side.sns
            .set_topic_attributes()
            .topic_arn(side.id("topic"))
            .attribute_name("DisplayName")
            .attribute_value("KMS alerts")
            .send()
            .await
    });
    report.compare(Check::new("sns:SetTopicAttributes (DisplayName)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        let arn = side.id("topic");
        side.sns
            .set_topic_attributes()
            .topic_arn(&arn)
            .attribute_name("Policy")
            .attribute_value(topic_policy(&arn, &account_of(&arn)))
            .send()
            .await
    });
    report.compare(Check::new("sns:SetTopicAttributes (Policy)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:GetTopicAttributes (after set)")
            .ignore(TOPIC_ATTR_GAPS)
            .values(&["Attributes.DisplayName"])
            .aws("Attributes.DisplayName", json!("KMS alerts")),
        &m,
        &s,
    );
    // The policy as set, modulo the account in its ARNs (moto's is 123456789012).
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

    // Subscriptions. moto 5.2 confirms email subscriptions at once; on AWS they stay
    // PendingConfirmation until the link in the email is followed, Subscribe answers
    // "pending confirmation" unless ReturnSubscriptionArn is set, and the listings show
    // "PendingConfirmation" in place of the ARN.
    let (m, s) = both!(sides, |side| {
        side.sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("email")
            .endpoint("learner@example.com")
            .send()
            .await
    });
    report.compare(
        Check::new("sns:Subscribe (email)").aws("SubscriptionArn", json!("pending confirmation")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        let r = side
            .sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("email")
            .endpoint("security@example.com")
            .return_subscription_arn(true)
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids.insert(
                "subscription",
                o.subscription_arn().unwrap_or_default().to_string(),
            );
        }
        r
    });
    report.compare(
        Check::new("sns:Subscribe (email, ReturnSubscriptionArn)"),
        &m,
        &s,
    );
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

    let (m, s) = both!(sides, |side| side.sns.list_subscriptions().send().await);
    report.compare(
        Check::new("sns:ListSubscriptions")
            .values(&["Subscriptions[].Protocol"])
            .aws(
                "Subscriptions[].SubscriptionArn",
                json!("PendingConfirmation"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListSubscriptionsByTopic")
            .values(&["Subscriptions[].Protocol"])
            .aws(
                "Subscriptions[].SubscriptionArn",
                json!("PendingConfirmation"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.sns
            .get_subscription_attributes()
            .subscription_arn(side.id("subscription"))
            .send()
            .await
    });
    report.compare(
        Check::new("sns:GetSubscriptionAttributes (pending)")
            .values(&[
                "Attributes.Protocol",
                "Attributes.Endpoint",
                "Attributes.RawMessageDelivery",
            ])
            .aws("Attributes.PendingConfirmation", json!("true"))
            .aws("Attributes.ConfirmationWasAuthenticated", json!("false")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:GetTopicAttributes (two pending)")
            .ignore(TOPIC_ATTR_GAPS)
            .aws("Attributes.SubscriptionsPending", json!("2"))
            .aws("Attributes.SubscriptionsConfirmed", json!("0")),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| {
        side.sns
            .publish()
            .topic_arn(side.id("topic"))
            .subject("Differential")
            .message("hello from the test")
            .send()
            .await
    });
    report.compare(Check::new("sns:Publish"), &m, &s);

    // Tags.
    let (m, s) = both!(sides, |side| {
        side.sns
            .tag_resource()
            .resource_arn(side.id("topic"))
            .tags(sns_tag("project", "kmsworkshop"))
            .tags(sns_tag("team", "a"))
            .send()
            .await
    });
    report.compare(Check::new("sns:TagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .list_tags_for_resource()
        .resource_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListTagsForResource").values(&["Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.sns
            .untag_resource()
            .resource_arn(side.id("topic"))
            .tag_keys("team")
            .send()
            .await
    });
    report.compare(Check::new("sns:UntagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .list_tags_for_resource()
        .resource_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListTagsForResource (after untag)").values(&["Tags"]),
        &m,
        &s,
    );

    // Errors.
    let (m, s) = both!(sides, |side| {
        side.sns
            .get_topic_attributes()
            .topic_arn(format!("{}-missing", side.id("topic")))
            .send()
            .await
    });
    report.compare(Check::new("sns:GetTopicAttributes (missing topic)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("carrier-pigeon")
            .endpoint("learner@example.com")
            .send()
            .await
    });
    report.compare(
        Check::new("sns:Subscribe (invalid protocol)").moto_differs(
            "moto 5.2 accepts any protocol string; AWS refuses it",
            "InvalidParameter",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.sns
            .subscribe()
            .topic_arn(side.id("topic"))
            .protocol("email")
            .endpoint("not an email")
            .send()
            .await
    });
    report.compare(
        Check::new("sns:Subscribe (invalid email)").moto_differs(
            "moto 5.2 does not validate email endpoints; AWS refuses them",
            "InvalidParameter",
        ),
        &m,
        &s,
    );

    // Unsubscribe and delete.
    let (m, s) = both!(sides, |side| side
        .sns
        .unsubscribe()
        .subscription_arn(side.id("subscription"))
        .send()
        .await);
    report.compare(Check::new("sns:Unsubscribe"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(
        Check::new("sns:ListSubscriptionsByTopic (after unsubscribe)")
            // moto also kept the subscriptions with an invalid protocol and email it accepted.
            .aws("Subscriptions[].Endpoint", json!("learner@example.com"))
            .aws(
                "Subscriptions[].SubscriptionArn",
                json!("PendingConfirmation"),
            ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .sns
        .delete_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(Check::new("sns:DeleteTopic"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .delete_topic()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(Check::new("sns:DeleteTopic (already deleted)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .sns
        .get_topic_attributes()
        .topic_arn(side.id("topic"))
        .send()
        .await);
    report.compare(Check::new("sns:GetTopicAttributes (deleted topic)"), &m, &s);
    let (m, s) = both!(sides, |side| side.sns.list_topics().send().await);
    report.compare(Check::new("sns:ListTopics (after delete)"), &m, &s);
}

async fn eventbridge_operations(sides: &mut [Side; 2], report: &mut Report) {
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

    // Rules: one ENABLED, one receiving read-only management events as well.
    let (m, s) = both!(sides, |side| {
        let r = side
            .events
            .put_rule()
            .name("differential-kms")
            .event_pattern(KMS_PATTERN)
            .state(RuleState::Enabled)
            .description("KMS data key use")
            .tags(eb_tag("project", "kmsworkshop"))
            .send()
            .await;
        if let Ok(o) = &r {
            side.ids
                .insert("rule", o.rule_arn().unwrap_or_default().to_string());
        }
        r
    });
    report.compare(Check::new("events:PutRule"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.events
            .put_rule()
            .name("differential-management")
            .event_pattern(r#"{"source":["aws.kms"]}"#)
            .state(RuleState::EnabledWithAllCloudtrailManagementEvents)
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutRule (ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)"),
        &m,
        &s,
    );

    const RULE_VALUES: &[&str] = &["Name", "State", "Description", "EventBusName", "CreatedBy"];
    // moto 5.2 lists each rule with CreatedBy, which botocore's `Rule` shape (ListRules) lacks.
    const MOTO_RULE_GAPS: &[&str] = &["Rules[].CreatedBy"];
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule")
            .values(RULE_VALUES)
            .json_values(&["EventPattern"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-management")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule (all management events)")
            .values(RULE_VALUES)
            .json_values(&["EventPattern"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rules()
        .name_prefix("differential-")
        .send()
        .await);
    report.compare(
        Check::new("events:ListRules (NamePrefix)")
            .ignore(MOTO_RULE_GAPS)
            .values(&["Rules[].Name", "Rules[].State", "Rules[].EventBusName"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rules()
        .name_prefix("nothing-")
        .send()
        .await);
    report.compare(
        Check::new("events:ListRules (NamePrefix, no match)").values(&["Rules"]),
        &m,
        &s,
    );

    // Disable and enable.
    let (m, s) = both!(sides, |side| side
        .events
        .disable_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DisableRule"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule (disabled)")
            .values(RULE_VALUES)
            .aws("State", json!("DISABLED")),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .enable_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:EnableRule"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:DescribeRule (enabled)")
            .values(RULE_VALUES)
            .aws("State", json!("ENABLED")),
        &m,
        &s,
    );

    // Targets.
    let (m, s) = both!(sides, |side| {
        side.events
            .put_targets()
            .rule("differential-kms")
            .targets(
                Target::builder()
                    .id("kms-alerts")
                    .arn(side.id("target topic"))
                    .build()
                    .unwrap(),
            )
            .targets(
                Target::builder()
                    .id("fixed-input")
                    .arn(side.id("target topic"))
                    .input(r#"{"alert":"kms"}"#)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutTargets").values(&["FailedEntryCount", "FailedEntries"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_targets_by_rule()
        .rule("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:ListTargetsByRule").values(&["Targets[].Id", "Targets[].Input"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rule_names_by_target()
        .target_arn(side.id("target topic"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListRuleNamesByTarget").values(&["RuleNames"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .delete_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DeleteRule (with targets)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_targets_by_rule()
        .rule("differential-missing")
        .send()
        .await);
    report.compare(
        Check::new("events:ListTargetsByRule (missing rule)"),
        &m,
        &s,
    );

    // Patterns and events. moto 5.2 does not implement TestEventPattern (it answers 200 with an
    // empty body), so the sandbox is checked against AWS's answers only.
    let (m, s) = both!(sides, |side| {
        side.events
            .test_event_pattern()
            .event_pattern(KMS_PATTERN)
            .event(kms_event("GenerateDataKey"))
            .send()
            .await
    });
    report.compare(
        Check::new("events:TestEventPattern (match)")
            .moto_differs("not implemented by moto 5.2 (empty answer)", "ok")
            .aws("Result", json!(true)),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .test_event_pattern()
            .event_pattern(KMS_PATTERN)
            .event(kms_event("Encrypt"))
            .send()
            .await
    });
    report.compare(
        Check::new("events:TestEventPattern (no match)")
            .moto_differs("not implemented by moto 5.2 (empty answer)", "ok")
            .aws("Result", json!(false)),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .test_event_pattern()
            .event_pattern(r#"{"source":"aws.kms"}"#)
            .event(kms_event("Encrypt"))
            .send()
            .await
    });
    report.compare(
        Check::new("events:TestEventPattern (invalid pattern)").moto_differs(
            "not implemented by moto 5.2 (empty answer)",
            "InvalidEventPatternException",
        ),
        &m,
        &s,
    );

    // PutEvents with a custom source matches no rule (moto 5.2 fails with HTTP 500 when an event
    // reaches a rule with an SNS target, which it cannot deliver to).
    let (m, s) = both!(sides, |side| {
        side.events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source("workshop.differential")
                    .detail_type("Differential")
                    .detail(r#"{"step":1}"#)
                    .build(),
            )
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutEvents").values(&["FailedEntryCount"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source("aws.kms")
                    .detail_type("Differential")
                    .detail("{}")
                    .build(),
            )
            .send()
            .await
    });
    report.compare(
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
        &m,
        &s,
    );

    // Tags.
    let (m, s) = both!(sides, |side| side
        .events
        .list_tags_for_resource()
        .resource_arn(side.id("rule"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListTagsForResource (tags from PutRule)").values(&["Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .tag_resource()
            .resource_arn(side.id("rule"))
            .tags(eb_tag("team", "a"))
            .send()
            .await
    });
    report.compare(Check::new("events:TagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_tags_for_resource()
        .resource_arn(side.id("rule"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListTagsForResource").values(&["Tags"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| {
        side.events
            .untag_resource()
            .resource_arn(side.id("rule"))
            .tag_keys("project")
            .send()
            .await
    });
    report.compare(Check::new("events:UntagResource"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_tags_for_resource()
        .resource_arn(side.id("rule"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListTagsForResource (after untag)").values(&["Tags"]),
        &m,
        &s,
    );

    // Errors.
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-missing")
        .send()
        .await);
    report.compare(Check::new("events:DescribeRule (missing rule)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .enable_rule()
        .name("differential-missing")
        .send()
        .await);
    report.compare(Check::new("events:EnableRule (missing rule)"), &m, &s);
    let (m, s) = both!(sides, |side| {
        side.events
            .put_rule()
            .name("differential-bad")
            .event_pattern(r#"{"source":"aws.kms"}"#)
            .send()
            .await
    });
    report.compare(
        Check::new("events:PutRule (pattern leaf not an array)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .put_rule()
        .name("differential-bad")
        .event_pattern("not json")
        .send()
        .await);
    report.compare(Check::new("events:PutRule (pattern not JSON)"), &m, &s);

    // Remove the targets, then the rules.
    let (m, s) = both!(sides, |side| {
        side.events
            .remove_targets()
            .rule("differential-kms")
            .ids("kms-alerts")
            .ids("fixed-input")
            .send()
            .await
    });
    report.compare(
        Check::new("events:RemoveTargets").values(&["FailedEntryCount", "FailedEntries"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_targets_by_rule()
        .rule("differential-kms")
        .send()
        .await);
    report.compare(
        Check::new("events:ListTargetsByRule (after remove)").values(&["Targets"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .list_rule_names_by_target()
        .target_arn(side.id("target topic"))
        .send()
        .await);
    report.compare(
        Check::new("events:ListRuleNamesByTarget (after remove)").values(&["RuleNames"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .events
        .delete_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DeleteRule"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .delete_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DeleteRule (already deleted)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .describe_rule()
        .name("differential-kms")
        .send()
        .await);
    report.compare(Check::new("events:DescribeRule (deleted rule)"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .events
        .list_rules()
        .name_prefix("differential-")
        .send()
        .await);
    report.compare(
        Check::new("events:ListRules (after delete)")
            .ignore(MOTO_RULE_GAPS)
            .values(&["Rules[].Name"]),
        &m,
        &s,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_and_eventbridge_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new("moto", &moto_proc.endpoint).await,
        Side::new("sandbox", &sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_outputs(&["sns", "events"]),
        ..Report::default()
    };

    sns_operations(&mut sides, &mut report).await;
    eventbridge_operations(&mut sides, &mut report).await;

    differential::print_summary(
        "differential: moto_server vs the sandbox, SNS and EventBridge (Rust SDK, same requests)",
        (64, 44),
        &report.rows,
        report.aws_only,
        report.failures.len(),
    );
    assert!(
        report.failures.is_empty(),
        "moto and the sandbox (or AWS) differ:\n  {}",
        report.failures.join("\n  ")
    );
}
