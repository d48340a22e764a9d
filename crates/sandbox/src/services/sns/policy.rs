//! Topic policies: AWS's default one, and whether a policy lets a service publish (evaluated
//! by the sandbox's one policy evaluator).

use serde_json::json;

use crate::common::policy::{self, Caller, Request};
use crate::services::sns::state::SnsState;
use crate::Sandbox;

/// AWS's default topic policy: only the owner account may use the topic. EventBridge is not
/// covered, which is why a rule target made through the API needs an explicit statement.
pub fn default_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                       "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

/// Whether the topic's policy lets a service principal (e.g. `events.amazonaws.com`) publish,
/// for a request coming from `source_arn` in `source_account`. Deny wins; conditions on
/// `aws:SourceArn`/`aws:SourceAccount` are evaluated, any other condition does not hold for
/// a service principal (so AWS's default policy does not let EventBridge in).
pub fn service_may_publish(
    policy: &str,
    topic_arn: &str,
    service: &str,
    source_arn: &str,
    source_account: &str,
) -> bool {
    service_publish_decision(policy, topic_arn, service, source_arn, source_account).is_allowed()
}

/// What the topic's policy decides about a service principal publishing (see
/// [`service_may_publish`]).
fn service_publish_decision(
    policy: &str,
    topic_arn: &str,
    service: &str,
    source_arn: &str,
    source_account: &str,
) -> policy::Decision {
    policy::evaluate(
        policy,
        &Request {
            caller: Caller::Service(service),
            action: "sns:Publish",
            resource: Some(topic_arn),
            context: &[
                ("aws:SourceArn", Some(source_arn)),
                ("aws:SourceAccount", Some(source_account)),
            ],
        },
    )
}

/// The account, region and resource part (`topic`, or `topic:subscription-id`) of an SNS ARN;
/// `None` for anything else.
pub(crate) fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, resource] => Some((account, region, resource)),
        _ => None,
    }
}

/// The access policy of topic `topic_arn` (in the account and region its ARN names); `None`
/// when there is no such topic.
pub(crate) fn topic_policy(sb: &Sandbox, topic_arn: &str) -> Option<String> {
    let (account, region, _) = arn_parts(topic_arn)?;
    sb.read::<SnsState, _>(account, region, |st| {
        st.topics
            .get(topic_arn)
            .map(|t| t.attributes.get("Policy").cloned().unwrap_or_default())
    })
}

/// Whether `service` (acting for `source_arn` of `source_account`) may publish to topic
/// `topic_arn`, by the topic's access policy; `Err` says why not, in the words a delivery
/// failure reports.
pub(crate) fn may_deliver(
    sb: &Sandbox,
    topic_arn: &str,
    service: &str,
    source_arn: &str,
    source_account: &str,
) -> Result<(), String> {
    let Some(policy) = topic_policy(sb, topic_arn) else {
        return Err(format!("topic {topic_arn} does not exist"));
    };
    if service_may_publish(&policy, topic_arn, service, source_arn, source_account) {
        return Ok(());
    }
    Err(format!(
        "the access policy of topic {topic_arn} does not allow {service} to sns:Publish (add a statement for it)"
    ))
}

/// Whether topic `topic_arn`'s policy explicitly denies `service` publishing for `source_arn`
/// of `source_account`: what stops a delivery within the topic's own account, which the
/// default policy (by `AWS:SourceOwner`) otherwise lets in.
pub(crate) fn denies_delivery(
    sb: &Sandbox,
    topic_arn: &str,
    service: &str,
    source_arn: &str,
    source_account: &str,
) -> bool {
    topic_policy(sb, topic_arn).is_some_and(|p| {
        service_publish_decision(&p, topic_arn, service, source_arn, source_account)
            == policy::Decision::ExplicitDeny
    })
}
