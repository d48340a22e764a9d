//! SNS: the workshop's topic (by its exact name or the inventory) and its confirmed
//! subscriptions.

use serde::{Deserialize, Serialize};

use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// A topic of the workshop's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicFound {
    pub arn: String,
    /// Confirmed subscriptions (pending ones have no ARN and go with the topic).
    pub subscriptions: Vec<String>,
}

/// The workshop's topics in this region.
pub(super) async fn topics(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
) -> Result<Vec<TopicFound>, AwsFailure> {
    let sns = &rc.sns;
    let pages = pages!(pace, "ListTopics", sns.list_topics(), next_token).await?;
    let arns: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.topics())
        .filter_map(|t| t.topic_arn())
        .filter(|arn| {
            let name = arn.rsplit(':').next().unwrap_or_default();
            name == names::TOPIC || inventory.has_arn(ResourceKind::SnsTopic, arn)
        })
        .collect();
    let mut out = Vec::new();
    for arn in arns {
        let request = sns.list_subscriptions_by_topic().topic_arn(arn);
        let subscriptions = pages!(
            pace,
            "ListSubscriptionsByTopic",
            request.clone(),
            next_token
        )
        .await?
        .iter()
        .flat_map(|p| p.subscriptions())
        .filter_map(|s| s.subscription_arn())
        .filter(|a| a.starts_with("arn:"))
        .map(str::to_string)
        .collect();
        out.push(TopicFound {
            arn: arn.to_string(),
            subscriptions,
        });
    }
    Ok(out)
}
