//! What SNS contributes to the workshop seed.

use std::collections::BTreeMap;

use super::policy::default_policy;
use super::state::{SnsState, Subscription, Topic};
use crate::protocol::AwsError;
use crate::Sandbox;

/// The workshop seed's SNS state: no workshop topic yet (the learner creates `snsworkshop` in
/// the monitoring chapter), but a lookalike `snsworkshop-billing` with a confirmed
/// subscription that belongs to another team and that no clean-up may touch.
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let arn = format!("arn:aws:sns:{region}:{account}:snsworkshop-billing");
    let sub_arn = format!("{arn}:{}", crate::util::uuid());
    let mut attributes = BTreeMap::new();
    attributes.insert("DisplayName".to_string(), "Billing".to_string());
    attributes.insert("Policy".to_string(), default_policy(&arn, account));
    let topic = Topic {
        name: "snsworkshop-billing".into(),
        arn: arn.clone(),
        owner: account.to_string(),
        attributes,
        tags: [("team".to_string(), "billing".to_string())]
            .into_iter()
            .collect(),
        deleted_subscriptions: 0,
    };
    let sub = Subscription {
        arn: sub_arn.clone(),
        topic_arn: arn.clone(),
        owner: account.to_string(),
        protocol: "email".into(),
        endpoint: "billing-alerts@example.com".into(),
        confirmed: true,
        token: String::new(),
        token_expires: sb.clock.now() - time::Duration::days(30),
        attributes: BTreeMap::new(),
    };
    sb.write::<SnsState, _>(account, region, |st| {
        st.topics.insert(arn, topic);
        st.subscriptions.insert(sub_arn, sub);
        Ok(())
    })
}
