//! The chapter's clean-up by hand in the console, in the workshop's order: schedule the keys'
//! deletion (KMS refuses the key already pending, as AWS does), take the role off the instance,
//! detach the customer policies, terminate the instance, delete the stack. Done exactly as the
//! workshop words it, the stack ends `DELETE_FAILED` (the power-user policy is still attached
//! to its role, its bucket still holds the sample files); the page says why, and after those
//! two are fixed in the console a second Delete finishes. What is not the workshop's (the other
//! project's key) is untouched. Screenshots of every page land in `target/console-screenshots/`.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod common;

use fantoccini::Locator;
use kms_workshop_names as names;
use kms_workshop_sandbox::seed;

use common::{click_through, fill, link, sandbox, sign_in, text, Browser};
use kms_workshop_testkit::console::{
    delete_stack, detach, open_instance, open_key, remove_role, schedule_deletion, terminate,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chapters_clean_up_is_done_by_hand_in_the_workshops_order() {
    let (_sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;

    // 1. The keys. The first one is already pending deletion: KMS says so.
    click_through(&b, Locator::LinkText("KMS")).await;
    let customer = text(&b, "#customer-keys tbody").await;
    assert!(customer.contains(names::IMPORTED_ALIAS), "{customer}");
    assert!(customer.contains("EXTERNAL"), "{customer}");
    b.screenshot("kms-keys").await;
    open_key(&b, "PendingDeletion").await;
    schedule_deletion(&b).await;
    let refused = text(&b, "p.error").await;
    assert!(refused.starts_with("KMSInvalidStateException"), "{refused}");
    b.screenshot("kms-key-already-pending").await;
    for alias in [names::FIRST_ALIAS, names::IMPORTED_ALIAS] {
        open_key(&b, alias).await;
        schedule_deletion(&b).await;
        assert_eq!(text(&b, "#key-state").await, "PendingDeletion", "{alias}");
        assert!(!text(&b, "#deletion-date").await.is_empty());
    }
    b.screenshot("kms-key-pending-deletion").await;

    // 2. The instance no longer holds the role.
    click_through(&b, Locator::LinkText("EC2")).await;
    b.screenshot("ec2-instances").await;
    click_through(&b, Locator::LinkText(seed::INSTANCE_ID)).await;
    assert!(text(&b, "#instance-profile")
        .await
        .ends_with(names::PROFILE));
    remove_role(&b).await;

    // 3. The customer policies come off the role, as the workshop says.
    for policy in names::CUSTOMER_POLICIES {
        detach(&b, policy).await;
    }
    b.screenshot("iam-role").await;

    // 4. The instance goes.
    open_instance(&b, seed::INSTANCE_ID).await;
    terminate(&b).await;
    let state = text(&b, "#instance-state").await;
    assert!(state == "shutting-down" || state == "terminated", "{state}");

    // 5. The stack, as the workshop has it: CloudFormation cannot delete the role (a policy
    // the template does not declare is still attached) nor the bucket (not empty).
    assert_eq!(delete_stack(&b).await, "DELETE_FAILED");
    let events = text(&b, "#stack-events tbody").await;
    assert!(events.contains("DELETE_FAILED"), "{events}");
    let reasons = events.to_lowercase();
    assert!(
        reasons.contains("not empty"),
        "the bucket's reason: {events}"
    );
    assert!(reasons.contains("polic"), "the role's reason: {events}");
    b.screenshot("cloudformation-delete-failed").await;

    // What the workshop leaves out, done in the console too; then the stack goes.
    detach(&b, "AWSKeyManagementServicePowerUser").await;
    // A bucket that has had versioning: its samples are "null" versions, and a new object has
    // two versions; Empty removes every one of them.
    let cfg = kms_workshop_testkit::learner_config(&endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    let bucket = names::bucket(seed::ACCOUNT);
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("versioning on");
    for body in ["one", "two"] {
        s3.put_object()
            .bucket(&bucket)
            .key("notes.txt")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("PutObject");
    }
    click_through(&b, Locator::LinkText("S3")).await;
    click_through(&b, Locator::LinkText(&bucket)).await;
    assert!(!text(&b, "#objects tbody").await.is_empty(), "the samples");
    fill(&b, "confirmation", "delete").await;
    click_through(&b, Locator::Id("empty-bucket")).await;
    assert!(text(&b, "p.error").await.contains("permanently delete"));
    fill(&b, "confirmation", "permanently delete").await;
    click_through(&b, Locator::Id("empty-bucket")).await;
    assert_eq!(text(&b, "#objects caption").await, "Objects (0)");
    let left = s3
        .list_object_versions()
        .bucket(&bucket)
        .send()
        .await
        .expect("ListObjectVersions");
    assert!(
        left.versions().is_empty() && left.delete_markers().is_empty(),
        "{left:?}"
    );
    b.screenshot("s3-bucket-emptied").await;
    assert_eq!(delete_stack(&b).await, "DELETE_COMPLETE");
    b.screenshot("cloudformation-deleted").await;
    click_through(&b, Locator::LinkText("CloudFormation")).await;
    assert!(!text(&b, "table.stacks tbody").await.contains(names::STACK));
    click_through(&b, Locator::LinkText("show deleted stacks")).await;
    assert!(text(&b, "table.stacks tbody").await.contains(names::STACK));
    b.close().await;

    // What the account holds now, through the SDK: the workshop's keys pending deletion, the
    // other project's key untouched, the role gone with the stack, the instance terminated.
    let cfg = kms_workshop_testkit::learner_config(&endpoint).await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    for k in kms.list_keys().send().await.expect("ListKeys").keys() {
        let m = kms
            .describe_key()
            .key_id(k.key_id().unwrap_or_default())
            .send()
            .await
            .expect("DescribeKey")
            .key_metadata
            .expect("metadata");
        let state = m.key_state().map(|s| s.as_str()).unwrap_or_default();
        let workshop = m
            .description()
            .unwrap_or_default()
            .starts_with(names::KEY_DESCRIPTION_PREFIX);
        match (workshop, m.key_manager().map(|k| k.as_str())) {
            (true, _) => assert_eq!(state, "PendingDeletion", "{m:?}"),
            (false, Some("CUSTOMER")) => assert_eq!(state, "Enabled", "{m:?}"),
            _ => {}
        }
    }
    let iam = aws_sdk_iam::Client::new(&cfg);
    assert!(iam.get_role().role_name(names::ROLE).send().await.is_err());
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let out = ec2
        .describe_instances()
        .instance_ids(seed::INSTANCE_ID)
        .send()
        .await
        .expect("DescribeInstances");
    let state = out.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string());
    assert!(matches!(
        state.as_deref(),
        Some("shutting-down" | "terminated")
    ));
}
