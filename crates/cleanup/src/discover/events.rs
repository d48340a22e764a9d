//! EventBridge: the rules that target the workshop's topic, those the inventory recorded, and
//! their targets. EventBridge's SDK has no paginators: each page is requested from the previous
//! page's token.

use serde::{Deserialize, Serialize};

use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{AwsFailure, Pace};

/// A rule of the workshop's and the ids of its targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFound {
    pub name: String,
    pub targets: Vec<String>,
}

/// The workshop's rules in this region: the inventory's first, then those targeting one of
/// `topic_arns`.
pub(super) async fn rules(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    topic_arns: &[String],
) -> Result<Vec<RuleFound>, AwsFailure> {
    let events = &rc.events;
    let mut rule_names: Vec<String> = inventory
        .of(ResourceKind::EventsRule, account, &rc.region)
        .map(|i| i.short_id().to_string())
        .collect();
    for arn in topic_arns {
        let request = events.list_rule_names_by_target().target_arn(arn);
        let pages = pages!(
            pace,
            "ListRuleNamesByTarget",
            request.clone(),
            next_token,
            one_page
        )
        .await?;
        for n in pages.iter().flat_map(|p| p.rule_names()) {
            if !rule_names.contains(n) {
                rule_names.push(n.clone());
            }
        }
    }
    let mut out = Vec::new();
    for name in rule_names {
        let request = events.list_targets_by_rule().rule(&name);
        let targets = pages!(
            pace,
            "ListTargetsByRule",
            request.clone(),
            next_token,
            one_page
        )
        .await;
        match targets {
            Ok(pages) => out.push(RuleFound {
                targets: pages
                    .iter()
                    .flat_map(|p| p.targets())
                    .map(|t| t.id().to_string())
                    .collect(),
                name,
            }),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
