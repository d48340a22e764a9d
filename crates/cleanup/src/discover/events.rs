//! EventBridge: the workshop's rules (by their exact name, or recorded in the run's inventory)
//! and, in anyone else's rule, the targets that point at the workshop's topic. A rule that
//! merely targets the workshop's topic among its own targets is someone else's: only that
//! target is taken away (the topic is about to go), and the rule stays. EventBridge's SDK has
//! no paginators: each page is requested from the previous page's token.

use serde::{Deserialize, Serialize};

use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// A rule with targets to remove: all of them and the rule itself when it is the workshop's,
/// only those pointing at the workshop's topics when it is someone else's (`keep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFound {
    pub name: String,
    /// The ids of the targets to remove.
    pub targets: Vec<String>,
    /// Someone else's rule: it stays, without its targets on the workshop's topics.
    #[serde(default)]
    pub keep: bool,
}

/// The rules to change in this region: the workshop's, then other rules targeting one of
/// `topic_arns` (the workshop's topics).
pub(super) async fn rules(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    topic_arns: &[String],
) -> Result<Vec<RuleFound>, AwsFailure> {
    let mut own: Vec<String> = inventory
        .of(ResourceKind::EventsRule, account, &rc.region)
        .map(|i| i.short_id().to_string())
        .collect();
    let named = pages!(
        pace,
        "ListRules",
        rc.events.list_rules().name_prefix(names::RULE),
        next_token,
        one_page
    )
    .await?;
    for r in named.iter().flat_map(|p| p.rules()) {
        if r.name() == Some(names::RULE) && !own.iter().any(|n| n == names::RULE) {
            own.push(names::RULE.to_string());
        }
    }
    let mut others: Vec<String> = Vec::new();
    for arn in topic_arns {
        let request = rc.events.list_rule_names_by_target().target_arn(arn);
        let pages = pages!(
            pace,
            "ListRuleNamesByTarget",
            request.clone(),
            next_token,
            one_page
        )
        .await?;
        for n in pages.iter().flat_map(|p| p.rule_names()) {
            if !own.contains(n) && !others.contains(n) {
                others.push(n.clone());
            }
        }
    }
    let mut out = Vec::new();
    let candidates = own.into_iter().map(|n| (n, false));
    for (name, keep) in candidates.chain(others.into_iter().map(|n| (n, true))) {
        let Some(targets) = targets(rc, pace, &name).await? else {
            continue;
        };
        let targets: Vec<String> = targets
            .into_iter()
            .filter(|(_, arn)| !keep || topic_arns.contains(arn))
            .map(|(id, _)| id)
            .collect();
        if keep && targets.is_empty() {
            continue;
        }
        out.push(RuleFound {
            name,
            targets,
            keep,
        });
    }
    Ok(out)
}

/// Rule `name`'s targets as (id, ARN); `None` when the rule is gone.
async fn targets(
    rc: &Regional,
    pace: &Pace,
    name: &str,
) -> Result<Option<Vec<(String, String)>>, AwsFailure> {
    let request = rc.events.list_targets_by_rule().rule(name);
    let pages = pages!(
        pace,
        "ListTargetsByRule",
        request.clone(),
        next_token,
        one_page
    )
    .await;
    match pages {
        Ok(pages) => Ok(Some(
            pages
                .iter()
                .flat_map(|p| p.targets())
                .map(|t| (t.id().to_string(), t.arn().to_string()))
                .collect(),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
