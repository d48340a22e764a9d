//! Resources that only *reference* the workshop's are someone else's. A rule that targets the
//! workshop's topic among others, an alarm that notifies it among others: the clean-up takes
//! away only what points at the workshop's topic from the rule and keeps the rule, leaves the
//! alarm as it is and says so. A rule or an alarm is the workshop's only by its exact name or
//! the run's inventory.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_eventbridge::types::Target;
use kms_workshop_cleanup::{names, Action, Inventory, Plan};

use crate::account::Account;

const FOREIGN_RULE: &str = "prod-key-alerts";
const FOREIGN_ALARM: &str = "prod-billing-alarm";

/// A topic named `name`: its ARN.
async fn topic(a: &Account, name: &str) -> String {
    aws_sdk_sns::Client::new(a.config())
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("create topic")
        .topic_arn()
        .expect("arn")
        .to_string()
}

/// A rule on KMS events named `name`, with `targets` as (id, ARN).
async fn rule(a: &Account, name: &str, targets: &[(&str, &str)]) {
    let events = aws_sdk_eventbridge::Client::new(a.config());
    events
        .put_rule()
        .name(name)
        .event_pattern(r#"{"source":["aws.kms"]}"#)
        .send()
        .await
        .expect("put rule");
    let mut put = events.put_targets().rule(name);
    for (id, arn) in targets {
        put = put.targets(Target::builder().id(*id).arn(*arn).build().expect("target"));
    }
    let out = put.send().await.expect("put targets");
    assert_eq!(out.failed_entry_count(), 0, "{out:?}");
}

/// An alarm named `name` on the account's estimated charges, notifying `topics`.
async fn alarm(a: &Account, name: &str, topics: &[&str]) {
    let mut put = aws_sdk_cloudwatch::Client::new(a.config())
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/Billing")
        .metric_name("EstimatedCharges")
        .statistic(Statistic::Maximum)
        .period(21600)
        .evaluation_periods(1)
        .threshold(100.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold);
    for t in topics {
        put = put.alarm_actions(*t);
    }
    put.send().await.expect("put alarm");
}

async fn target_ids(a: &Account, rule: &str) -> Vec<String> {
    aws_sdk_eventbridge::Client::new(a.config())
        .list_targets_by_rule()
        .rule(rule)
        .send()
        .await
        .expect("list targets")
        .targets()
        .iter()
        .map(|t| t.id().to_string())
        .collect()
}

async fn alarm_actions(a: &Account, name: &str) -> Option<Vec<String>> {
    let out = aws_sdk_cloudwatch::Client::new(a.config())
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("describe alarms");
    out.metric_alarms()
        .first()
        .map(|m| m.alarm_actions().to_vec())
}

fn has(plan: &Plan, pred: impl Fn(&Action) -> bool) -> bool {
    plan.nodes.iter().any(|n| pred(&n.action))
}

#[tokio::test]
async fn a_foreign_rule_loses_only_its_workshop_target_and_a_foreign_alarm_stays() {
    let a = Account::seeded().await;
    let ws = topic(&a, names::TOPIC).await;
    let pager = topic(&a, "prod-pager").await;
    rule(&a, FOREIGN_RULE, &[("pager", &pager), ("ws", &ws)]).await;
    alarm(&a, FOREIGN_ALARM, &[&pager, &ws]).await;
    // The workshop's own rule and alarm, by their exact names.
    rule(&a, names::RULE, &[("ws", &ws)]).await;
    alarm(&a, names::ALARM, &[&ws]).await;

    let found = a.discover(&Inventory::default()).await;
    let plan = Plan::build(&found, 7);
    let text = plan.render_tree();
    assert!(
        has(
            &plan,
            |x| matches!(x, Action::RemoveTargets { rule, ids, .. }
            if rule == FOREIGN_RULE && ids == &["ws".to_string()])
        ),
        "only the workshop's target leaves the foreign rule:\n{text}"
    );
    assert!(
        !has(
            &plan,
            |x| matches!(x, Action::DeleteRule { rule, .. } if rule == FOREIGN_RULE)
        ),
        "the foreign rule stays:\n{text}"
    );
    assert!(
        !has(&plan, |x| matches!(x, Action::DeleteAlarms { names, .. }
            if names.iter().any(|n| n == FOREIGN_ALARM))),
        "the foreign alarm stays:\n{text}"
    );
    assert!(
        found.skipped.iter().any(|s| s.what.contains(FOREIGN_ALARM)
            && s.why.contains(names::TOPIC)
            && s.why.contains("being deleted")),
        "the foreign alarm is reported: {:?}",
        found.skipped
    );
    assert!(
        has(
            &plan,
            |x| matches!(x, Action::DeleteRule { rule, .. } if rule == names::RULE)
        ),
        "the workshop's rule goes:\n{text}"
    );
    assert!(
        has(&plan, |x| matches!(x, Action::DeleteAlarms { names: n, .. }
            if n == &[names::ALARM.to_string()])),
        "the workshop's alarm goes:\n{text}"
    );

    let (_, report) = a
        .executor(None)
        .run(&Inventory::default(), None, 7, false)
        .await
        .expect("run");
    assert!(report.is_clean(), "{}", report.render_text());
    assert_eq!(target_ids(&a, FOREIGN_RULE).await, ["pager"]);
    assert_eq!(
        alarm_actions(&a, FOREIGN_ALARM).await,
        Some(vec![pager.clone(), ws.clone()]),
        "the foreign alarm is untouched"
    );
    assert_eq!(alarm_actions(&a, names::ALARM).await, None);
    a.shutdown().await;
}

#[tokio::test]
async fn a_rule_or_alarm_is_the_workshops_by_its_inventory_entry() {
    let a = Account::seeded().await;
    let ws = topic(&a, names::TOPIC).await;
    rule(&a, "renamed-by-the-learner", &[("ws", &ws)]).await;
    let rule_arn = format!(
        "arn:aws:events:{}:{}:rule/renamed-by-the-learner",
        kms_workshop_sandbox::seed::REGION,
        kms_workshop_sandbox::seed::ACCOUNT
    );
    let inventory = Inventory {
        account: None,
        items: vec![kms_workshop_cleanup::InventoryItem {
            arn: rule_arn,
            kind: kms_workshop_cleanup::ResourceKind::EventsRule,
            region: kms_workshop_sandbox::seed::REGION.into(),
            account: kms_workshop_sandbox::seed::ACCOUNT.into(),
            step: Some("rule".into()),
            seal: None,
        }],
    };
    let found = a.discover(&inventory).await;
    let plan = Plan::build(&found, 7);
    assert!(
        has(&plan, |x| matches!(x, Action::DeleteRule { rule, .. }
            if rule == "renamed-by-the-learner")),
        "{}",
        plan.render_tree()
    );
    a.shutdown().await;
}
