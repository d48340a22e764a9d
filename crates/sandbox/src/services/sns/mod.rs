//! SNS (awsQuery): topics with attributes and policies, subscriptions that start
//! `PendingConfirmation` and are confirmed with the token AWS mails out, and publishing.
//! Delivery — email and email-json to the sandbox outbox (persisted, read with
//! `kms-workshop sandbox inbox`), http to listeners on loopback with the real SNS headers and
//! JSON documents, signed (SignatureVersion 1, RSA-SHA1) with the sandbox's own key — is
//! [`crate::pipeline::delivery`]'s.

mod errors;
mod ops;
mod policy;
mod seed;
pub(crate) mod signing;
mod state;
mod views;

#[cfg(test)]
mod tests;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};
use ops::{publish, subscriptions, tags, topics};

pub use crate::pipeline::delivery::{urlencode, HttpJob, Publication};
pub(crate) use errors::not_found;
pub use ops::subscriptions::follow_link;
pub(crate) use policy::{arn_parts, denies_delivery, may_deliver};
pub use policy::{default_policy, service_may_publish};
pub use seed::seed_workshop;
pub use signing::signing_public_pem;
pub use state::{Outbox, OutboxMessage, SnsState, Subscription, Topic};

pub struct Sns;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("sns", "sns.amazonaws.com", Protocol::AwsQuery)
    .xmlns("http://sns.amazonaws.com/doc/2010-03-31/");

impl Service for Sns {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        match op {
            "CreateTopic" => topics::create_topic(cx, input),
            "DeleteTopic" => topics::delete_topic(cx, input),
            "ListTopics" => topics::list_topics(cx, input),
            "GetTopicAttributes" => topics::get_topic_attributes(cx, input),
            "SetTopicAttributes" => topics::set_topic_attributes(cx, input),
            "Subscribe" => subscriptions::subscribe(cx, input),
            "ConfirmSubscription" => subscriptions::confirm_subscription(cx, input),
            "Unsubscribe" => subscriptions::unsubscribe(cx, input),
            "ListSubscriptions" => subscriptions::list_subscriptions(cx, input),
            "ListSubscriptionsByTopic" => subscriptions::list_subscriptions_by_topic(cx, input),
            "GetSubscriptionAttributes" => subscriptions::get_subscription_attributes(cx, input),
            "SetSubscriptionAttributes" => subscriptions::set_subscription_attributes(cx, input),
            "Publish" => publish::publish(cx, input),
            "TagResource" => tags::tag_resource(cx, input),
            "UntagResource" => tags::untag_resource(cx, input),
            "ListTagsForResource" => tags::list_tags_for_resource(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}
