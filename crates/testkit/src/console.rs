//! The chapter's steps as a learner does them in the sandbox's web console, in a [`Browser`]
//! already signed in: look up events, make the topic and its email subscription and confirm it
//! from the inbox, build the rule with its SNS target, make the expiry alarm, and the clean-up
//! in the workshop's order. Each helper leaves the browser on the page its action ends on.
//!
//! # Panics
//! When the console does not show what the step needs: a test cannot go on.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use kms_workshop_names as names;

use crate::browser::{click_through, fill, text, Browser};

/// Tick the checkbox `id`.
pub async fn tick(b: &Browser, id: &str) {
    b.client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no checkbox #{id}: {e}"))
        .click()
        .await
        .expect("ticked");
}

/// Choose `value` in the list `id`.
pub async fn choose(b: &Browser, id: &str, value: &str) {
    b.client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no list #{id}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("no {value} in #{id}: {e}"));
}

/// Reload until `css`'s text is one of `want` (what runs on the sandbox's clock); the text it
/// ended with.
pub async fn reload_until(b: &Browser, css: &str, want: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = text(b, css).await;
        if want.contains(&now.as_str()) {
            return now;
        }
        assert!(Instant::now() < deadline, "{css} stayed {now}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.client.refresh().await.expect("reloaded");
    }
}

/// On Event history, look up events by attribute and value with the page's form.
pub async fn look_up(b: &Browser, attribute: &str, value: &str) {
    choose(b, "attribute", attribute).await;
    fill(b, "value", value).await;
    click_through(b, Locator::Css("form.filters button")).await;
}

/// SNS: create topic `name` with `display_name`, then an email subscription to `address`;
/// ends on the topic's page.
pub async fn topic_with_email(b: &Browser, name: &str, display_name: &str, address: &str) {
    click_through(b, Locator::LinkText("SNS")).await;
    fill(b, "name", name).await;
    fill(b, "display_name", display_name).await;
    click_through(b, Locator::Css("form.stacked button")).await;
    assert_eq!(text(b, "h1").await, name);
    fill(b, "endpoint", address).await;
    click_through(b, Locator::Css("form.stacked button")).await;
}

/// Inbox: open the newest subscription confirmation and follow its "Confirm subscription"
/// (SNS's own page); ends back in the console, on Subscriptions, the subscription confirmed.
pub async fn confirm_from_inbox(b: &Browser) {
    click_through(b, Locator::LinkText("Inbox")).await;
    click_through(
        b,
        Locator::LinkText("AWS Notification - Subscription Confirmation"),
    )
    .await;
    let console = b.client.current_url().await.expect("the console's address");
    click_through(b, Locator::LinkText("Confirm subscription")).await;
    let subscriptions = console
        .join("/console/sns/subscriptions")
        .expect("a console address");
    b.client
        .goto(subscriptions.as_str())
        .await
        .expect("Subscriptions opens");
    let subs = text(b, "table.subscriptions tbody").await;
    assert!(subs.contains("Confirmed"), "{subs}");
}

/// CloudTrail > Trails: create the workshop's trail with the form's defaults (its bucket and
/// policy made, logging started).
pub async fn logging_trail(b: &Browser) {
    click_through(b, Locator::LinkText("CloudTrail")).await;
    click_through(b, Locator::LinkText("Trails")).await;
    click_through(b, Locator::Id("create-trail-button")).await;
    let trails = text(b, "#trails tbody").await;
    assert!(trails.contains("Logging"), "{trails}");
    b.screenshot("cloudtrail-trails").await;
}

/// CloudWatch Events: the rule `name` from the "Events by Service" builder (KMS,
/// GenerateDataKey), in the state read-only events need, targeting `topic_arn`.
pub async fn rule_to_topic(b: &Browser, name: &str, topic_arn: &str) {
    click_through(b, Locator::LinkText("CloudWatch Events")).await;
    click_through(b, Locator::LinkText("Create rule")).await;
    choose(b, "service", "kms").await;
    fill(b, "operations", "GenerateDataKey").await;
    click_through(b, Locator::Id("show-pattern")).await;
    choose(b, "topic", topic_arn).await;
    fill(b, "name", name).await;
    choose(b, "state", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS").await;
    click_through(b, Locator::Id("create-rule")).await;
    assert_eq!(text(b, "h1").await, name);
}

/// CloudWatch Metrics: the expiry metric's chart, then "Create alarm" named `name` notifying
/// `topic_arn`, with the KMS guide's values; ends on the alarm's page.
pub async fn expiry_alarm(b: &Browser, name: &str, topic_arn: &str) {
    click_through(b, Locator::LinkText("Metrics")).await;
    click_through(b, Locator::LinkText(names::KEY_METRIC)).await;
    click_through(b, Locator::LinkText("Create alarm")).await;
    fill(b, "name", name).await;
    choose(b, "topic", topic_arn).await;
    click_through(b, Locator::Id("create-alarm")).await;
    assert_eq!(text(b, "h1").await, name);
}

/// KMS: open the customer managed key whose row contains `cell`.
pub async fn open_key(b: &Browser, cell: &str) {
    click_through(b, Locator::LinkText("KMS")).await;
    let row = format!("//table[@id='customer-keys']//tr[td[contains(., '{cell}')]]//a");
    click_through(b, Locator::XPath(&row)).await;
}

/// On a key's page, schedule its deletion after 7 days, confirmed.
pub async fn schedule_deletion(b: &Browser) {
    fill(b, "days", "7").await;
    tick(b, "confirm").await;
    click_through(b, Locator::Id("schedule-deletion")).await;
}

/// EC2: open instance `id`.
pub async fn open_instance(b: &Browser, id: &str) {
    click_through(b, Locator::LinkText("EC2")).await;
    click_through(b, Locator::LinkText(id)).await;
    b.screenshot("ec2-instance").await;
}

/// On an instance's page: Modify IAM role → No IAM role.
pub async fn remove_role(b: &Browser) {
    choose(b, "profile", "").await;
    click_through(b, Locator::Id("update-role")).await;
    assert_eq!(text(b, "#instance-profile").await, "–");
}

/// On an instance's page: terminate it, confirmed.
pub async fn terminate(b: &Browser) {
    tick(b, "confirm-terminate").await;
    click_through(b, Locator::Id("terminate-instance")).await;
}

/// IAM: detach the policy named `policy` from the workshop's role.
pub async fn detach(b: &Browser, policy: &str) {
    click_through(b, Locator::LinkText("IAM")).await;
    b.screenshot("iam-roles").await;
    click_through(b, Locator::LinkText(names::ROLE)).await;
    let button = format!("button[data-policy='{policy}']");
    click_through(b, Locator::Css(&button)).await;
    let attached = text(b, "#attached-policies tbody").await;
    assert!(
        !attached.contains(policy),
        "{policy} is still attached: {attached}"
    );
}

/// S3: empty `bucket`, confirmed as S3's console asks.
pub async fn empty_bucket(b: &Browser, bucket: &str) {
    click_through(b, Locator::LinkText("S3")).await;
    b.screenshot("s3-buckets").await;
    click_through(b, Locator::LinkText(bucket)).await;
    fill(b, "confirmation", "permanently delete").await;
    click_through(b, Locator::Id("empty-bucket")).await;
    assert_eq!(text(b, "#objects caption").await, "Objects (0)");
}

/// CloudFormation: delete the workshop's stack, confirmed; the status the deletion ends with.
pub async fn delete_stack(b: &Browser) -> String {
    click_through(b, Locator::LinkText("CloudFormation")).await;
    b.screenshot("cloudformation-stacks").await;
    click_through(b, Locator::LinkText(names::STACK)).await;
    tick(b, "confirm-delete").await;
    click_through(b, Locator::Id("delete-stack")).await;
    reload_until(b, "#stack-status", &["DELETE_FAILED", "DELETE_COMPLETE"]).await
}

/// The clean-up as the workshop words it: the aliased keys' deletion scheduled, the role off
/// instance `instance`, the customer policies detached, the instance terminated, the stack
/// deleted; then what the workshop leaves out so the stack goes (the power-user policy, the
/// bucket's objects) and the stack deleted again.
pub async fn workshop_cleanup(b: &Browser, instance: &str, bucket: &str) {
    for alias in [names::FIRST_ALIAS, names::IMPORTED_ALIAS] {
        open_key(b, alias).await;
        schedule_deletion(b).await;
        assert_eq!(text(b, "#key-state").await, "PendingDeletion", "{alias}");
    }
    open_instance(b, instance).await;
    remove_role(b).await;
    for policy in names::CUSTOMER_POLICIES {
        detach(b, policy).await;
    }
    open_instance(b, instance).await;
    terminate(b).await;
    if delete_stack(b).await == "DELETE_FAILED" {
        detach(b, "AWSKeyManagementServicePowerUser").await;
        empty_bucket(b, bucket).await;
        assert_eq!(delete_stack(b).await, "DELETE_COMPLETE");
    }
}
