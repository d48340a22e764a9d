//! The SNS and EventBridge requests the differential test sends, as data: each variant one
//! operation with what it names. The topic and the rule are the ones each side recorded as
//! `topic` and `rule` (moto and the sandbox hand out different ARNs).

use aws_sdk_eventbridge::types::{PutEventsRequestEntry, RuleState, Tag as EbTag, Target};
use aws_sdk_sns::types::Tag as SnsTag;
use serde_json::json;

use crate::common::differential::{both, Outcome, Request, Side};
use crate::common::{ACCOUNT, REGION};

pub const KMS_PATTERN: &str = r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["GenerateDataKey","Decrypt"]}}"#;

fn sns_tag(k: &str, v: &str) -> SnsTag {
    SnsTag::builder().key(k).value(v).build().unwrap()
}

fn eb_tag(k: &str, v: &str) -> EbTag {
    EbTag::builder().key(k).value(v).build().unwrap()
}

/// A topic policy that also lets EventBridge publish (the workshop's statement).
pub fn topic_policy(topic_arn: &str, account: &str) -> String {
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

pub fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

/// A CloudTrail-via-EventBridge event of KMS's `event_name`.
pub fn kms_event(event_name: &str) -> String {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms", "account": ACCOUNT, "time": "2026-11-28T17:00:00Z", "region": REGION,
        "resources": [], "detail": {"eventSource": "kms.amazonaws.com", "eventName": event_name}
    })
    .to_string()
}

/// `$op` of the recorded topic, sent to both `$sides`.
macro_rules! on_topic {
    ($sides:ident, $op:ident) => {
        both!($sides, |side| side
            .sns
            .$op()
            .topic_arn(side.id("topic"))
            .send()
            .await)
    };
}

/// `$op` of the rule `$name` (a `&&str` bound by a match arm), sent to both `$sides`.
macro_rules! by_rule_name {
    ($sides:ident, $op:ident, $name:expr) => {
        both!($sides, |side| side.events.$op().name(*$name).send().await)
    };
}

/// SNS requests.
pub enum Sns {
    /// CreateTopic `differential` with a DisplayName; keeps its ARN under the role given.
    CreateTopic(&'static str),
    ListTopics,
    GetTopicAttributes,
    /// GetTopicAttributes of a topic next to the recorded one that does not exist.
    GetMissingTopicAttributes,
    SetTopicAttribute(&'static str, &'static str),
    /// SetTopicAttributes Policy: [`topic_policy`] for the topic.
    SetTopicPolicy,
    /// Subscribe: protocol, endpoint; with ReturnSubscriptionArn (kept as `subscription`).
    Subscribe(&'static str, &'static str, bool),
    ListSubscriptions,
    ListSubscriptionsByTopic,
    GetSubscriptionAttributes,
    Publish,
    TagResource(&'static [(&'static str, &'static str)]),
    ListTagsForResource,
    UntagResource(&'static str),
    Unsubscribe,
    DeleteTopic,
}

impl Request for Sns {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            Sns::CreateTopic(role) => both!(sides, |side| {
                let r = side
                    .sns
                    .create_topic()
                    .name("differential")
                    .attributes("DisplayName", "Differential")
                    .send()
                    .await;
                let arn = r.as_ref().ok().map(|o| o.topic_arn().unwrap_or_default());
                side.keep(role, arn);
                r
            }),
            Sns::ListTopics => both!(sides, |side| side.sns.list_topics().send().await),
            Sns::GetTopicAttributes => on_topic!(sides, get_topic_attributes),
            Sns::GetMissingTopicAttributes => both!(sides, |side| side
                .sns
                .get_topic_attributes()
                .topic_arn(format!("{}-missing", side.id("topic")))
                .send()
                .await),
            Sns::SetTopicAttribute(name, value) => both!(sides, |side| side
                .sns
                .set_topic_attributes()
                .topic_arn(side.id("topic"))
                .attribute_name(*name)
                .attribute_value(*value)
                .send()
                .await),
            Sns::SetTopicPolicy => both!(sides, |side| {
                let arn = side.id("topic");
                side.sns
                    .set_topic_attributes()
                    .topic_arn(&arn)
                    .attribute_name("Policy")
                    .attribute_value(topic_policy(&arn, &account_of(&arn)))
                    .send()
                    .await
            }),
            Sns::Subscribe(protocol, endpoint, return_arn) => both!(sides, |side| {
                let r = side
                    .sns
                    .subscribe()
                    .topic_arn(side.id("topic"))
                    .protocol(*protocol)
                    .endpoint(*endpoint)
                    .set_return_subscription_arn(return_arn.then_some(true))
                    .send()
                    .await;
                if *return_arn {
                    let arn = r
                        .as_ref()
                        .ok()
                        .map(|o| o.subscription_arn().unwrap_or_default());
                    side.keep("subscription", arn);
                }
                r
            }),
            Sns::ListSubscriptions => {
                both!(sides, |side| side.sns.list_subscriptions().send().await)
            }
            Sns::ListSubscriptionsByTopic => on_topic!(sides, list_subscriptions_by_topic),
            Sns::GetSubscriptionAttributes => both!(sides, |side| side
                .sns
                .get_subscription_attributes()
                .subscription_arn(side.id("subscription"))
                .send()
                .await),
            Sns::Publish => both!(sides, |side| side
                .sns
                .publish()
                .topic_arn(side.id("topic"))
                .subject("Differential")
                .message("hello from the test")
                .send()
                .await),
            Sns::TagResource(tags) => both!(sides, |side| side
                .sns
                .tag_resource()
                .resource_arn(side.id("topic"))
                .set_tags(Some(tags.iter().map(|(k, v)| sns_tag(k, v)).collect()))
                .send()
                .await),
            Sns::ListTagsForResource => both!(sides, |side| side
                .sns
                .list_tags_for_resource()
                .resource_arn(side.id("topic"))
                .send()
                .await),
            Sns::UntagResource(key) => both!(sides, |side| side
                .sns
                .untag_resource()
                .resource_arn(side.id("topic"))
                .tag_keys(*key)
                .send()
                .await),
            Sns::Unsubscribe => both!(sides, |side| side
                .sns
                .unsubscribe()
                .subscription_arn(side.id("subscription"))
                .send()
                .await),
            Sns::DeleteTopic => on_topic!(sides, delete_topic),
        }
    }
}

/// EventBridge requests.
pub enum EventBridge {
    /// PutRule `differential-kms`: [`KMS_PATTERN`], ENABLED, a description and a tag; keeps
    /// its ARN as `rule`.
    PutKmsRule,
    /// PutRule: name, pattern, state.
    PutRule(&'static str, &'static str, Option<RuleState>),
    DescribeRule(&'static str),
    ListRules(&'static str),
    DisableRule(&'static str),
    EnableRule(&'static str),
    DeleteRule(&'static str),
    /// PutTargets on `differential-kms`: the target topic, plain and with a fixed input.
    PutTargets,
    ListTargetsByRule(&'static str),
    ListRuleNamesByTarget,
    /// RemoveTargets of `differential-kms`: both [`EventBridge::PutTargets`] put.
    RemoveTargets,
    /// TestEventPattern: pattern, and the KMS event name of the event.
    TestEventPattern(&'static str, &'static str),
    /// PutEvents of one entry: source, detail.
    PutEvents(&'static str, &'static str),
    TagResource(&'static str, &'static str),
    ListTagsForResource,
    UntagResource(&'static str),
}

impl Request for EventBridge {
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            EventBridge::PutKmsRule => both!(sides, |side| {
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
                let arn = r.as_ref().ok().map(|o| o.rule_arn().unwrap_or_default());
                side.keep("rule", arn);
                r
            }),
            EventBridge::PutRule(name, pattern, state) => both!(sides, |side| side
                .events
                .put_rule()
                .name(*name)
                .event_pattern(*pattern)
                .set_state(state.clone())
                .send()
                .await),
            EventBridge::DescribeRule(name) => by_rule_name!(sides, describe_rule, name),
            EventBridge::ListRules(prefix) => both!(sides, |side| side
                .events
                .list_rules()
                .name_prefix(*prefix)
                .send()
                .await),
            EventBridge::DisableRule(name) => by_rule_name!(sides, disable_rule, name),
            EventBridge::EnableRule(name) => by_rule_name!(sides, enable_rule, name),
            EventBridge::DeleteRule(name) => by_rule_name!(sides, delete_rule, name),
            other => other.send_targets_events_tags(sides).await,
        }
    }
}

impl EventBridge {
    /// [`Request::send`] for targets, patterns, events and tags.
    async fn send_targets_events_tags(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome) {
        match self {
            EventBridge::PutTargets => both!(sides, |side| {
                let topic = side.id("target topic");
                let plain = Target::builder().id("kms-alerts").arn(&topic);
                let fixed = Target::builder()
                    .id("fixed-input")
                    .arn(&topic)
                    .input(r#"{"alert":"kms"}"#);
                side.events
                    .put_targets()
                    .rule("differential-kms")
                    .targets(plain.build().unwrap())
                    .targets(fixed.build().unwrap())
                    .send()
                    .await
            }),
            EventBridge::ListTargetsByRule(rule) => both!(sides, |side| side
                .events
                .list_targets_by_rule()
                .rule(*rule)
                .send()
                .await),
            EventBridge::ListRuleNamesByTarget => both!(sides, |side| side
                .events
                .list_rule_names_by_target()
                .target_arn(side.id("target topic"))
                .send()
                .await),
            EventBridge::RemoveTargets => both!(sides, |side| side
                .events
                .remove_targets()
                .rule("differential-kms")
                .ids("kms-alerts")
                .ids("fixed-input")
                .send()
                .await),
            EventBridge::TestEventPattern(pattern, event) => both!(sides, |side| side
                .events
                .test_event_pattern()
                .event_pattern(*pattern)
                .event(kms_event(event))
                .send()
                .await),
            EventBridge::PutEvents(source, detail) => both!(sides, |side| {
                let entry = PutEventsRequestEntry::builder()
                    .source(*source)
                    .detail_type("Differential")
                    .detail(*detail);
                side.events.put_events().entries(entry.build()).send().await
            }),
            EventBridge::TagResource(k, v) => both!(sides, |side| side
                .events
                .tag_resource()
                .resource_arn(side.id("rule"))
                .tags(eb_tag(k, v))
                .send()
                .await),
            EventBridge::ListTagsForResource => both!(sides, |side| side
                .events
                .list_tags_for_resource()
                .resource_arn(side.id("rule"))
                .send()
                .await),
            EventBridge::UntagResource(key) => both!(sides, |side| side
                .events
                .untag_resource()
                .resource_arn(side.id("rule"))
                .tag_keys(*key)
                .send()
                .await),
            _ => unreachable!("a rule request: see Request::send"),
        }
    }
}
