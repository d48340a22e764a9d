//! The console in a real browser (headless Chromium through chromedriver): signing in with a
//! one-time link, CloudTrail Event history as the workshop has the learner use it, the inbox
//! with a working "Confirm subscription" link, and one learner's session against another's
//! pages. Every page visited is saved as a screenshot in `target/console-screenshots/`.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod common;

use aws_sdk_kms::types::DataKeySpec;
use fantoccini::Locator;
use kms_workshop_sandbox::seed;

use common::{click_through, fill, link, sandbox, sign_in, text, Browser};
use kms_workshop_testkit::console::look_up;

/// The learner's `aws kms generate-data-key` of the chapter's first step, as the SDK sends it.
async fn generate_data_key(endpoint: &str) {
    let cfg = kms_workshop_testkit::learner_config(endpoint).await;
    aws_sdk_kms::Client::new(&cfg)
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .expect("GenerateDataKey as the learner");
}

/// The chapter's topic `snsworkshop` with an email subscription, made by learner 1 (the SNS
/// client and the topic's ARN).
async fn subscribe_email(endpoint: &str, address: &str) -> (aws_sdk_sns::Client, String) {
    let cfg = kms_workshop_testkit::learner_config(endpoint).await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let topic = sns
        .create_topic()
        .name("snsworkshop")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("a topic ARN");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint(address)
        .send()
        .await
        .expect("Subscribe");
    (sns, topic)
}

/// [`subscribe_email`] to learner@example.com, confirmed with the token of the email it sent;
/// the topic's ARN.
async fn confirmed_email_topic(sb: &kms_workshop_sandbox::Sandbox, endpoint: &str) -> String {
    let (sns, topic) = subscribe_email(endpoint, "learner@example.com").await;
    let token = sb
        .outbox(0)
        .last()
        .and_then(|m| m.document["Token"].as_str().map(str::to_string))
        .expect("the confirmation's token");
    sns.confirm_subscription()
        .topic_arn(&topic)
        .token(token)
        .send()
        .await
        .expect("ConfirmSubscription");
    topic
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_signs_in_and_finds_their_generate_data_key_call_by_name_and_user() {
    let (sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    generate_data_key(&endpoint).await;
    let b = Browser::start().await;
    let url = link(&endpoint, 1).await;
    b.client.goto(&url).await.expect("the link opens");
    assert!(text(&b, "main").await.contains("learner 1"));
    b.screenshot("sign-in").await;
    click_through(&b, Locator::Id("sign-in")).await;
    let here = b.client.current_url().await.expect("a URL");
    assert_eq!(
        here.path(),
        "/console/",
        "signed in and sent to the console home"
    );
    assert!(
        here.query().is_none(),
        "the token left the address bar: {here}"
    );
    assert!(text(&b, "main").await.contains(seed::ACCOUNT));
    b.screenshot("home").await;

    click_through(&b, Locator::LinkText("CloudTrail")).await;
    assert_eq!(text(&b, "h1").await, "Event history");
    look_up(&b, "EventName", "GenerateDataKey").await;
    let table = text(&b, "table.events tbody").await;
    assert!(table.contains("GenerateDataKey"), "{table}");
    assert!(table.contains(seed::LEARNER_USER), "{table}");
    assert!(table.contains("kms.amazonaws.com"), "{table}");
    b.screenshot("event-history-by-event-name").await;

    look_up(&b, "Username", seed::LEARNER_USER).await;
    let by_user = text(&b, "table.events tbody").await;
    assert!(by_user.contains("GenerateDataKey"), "{by_user}");

    look_up(&b, "EventName", "GenerateDataKey").await;
    click_through(&b, Locator::LinkText("GenerateDataKey")).await;
    let record = text(&b, "pre.json").await;
    assert!(record.contains("\"encryptionContext\""), "{record}");
    assert!(record.contains("\"project\": \"workshop\""), "{record}");
    assert!(record.contains("\"keySpec\": \"AES_256\""), "{record}");
    b.screenshot("event-record").await;

    // A value the form cannot look up gets CloudTrail's own answer, not a blank page.
    look_up_by_url(
        &b,
        &endpoint,
        "attribute=EventName&value=GenerateDataKey&start=yesterday",
    )
    .await;
    let problem = text(&b, ".error").await;
    assert!(problem.contains("Start time"), "{problem}");

    // Sign out is a form post: it must pass the sandbox's Origin check from a real browser.
    click_through(&b, Locator::Css("form[action='/console/signout'] button")).await;
    assert!(text(&b, "main").await.contains("You are signed out"));
    assert!(
        sb.credentials().iter().all(|c| c.console_since.is_none()),
        "signing out forgot the session's keys"
    );
    b.client
        .goto(&format!("{endpoint}/console/inbox"))
        .await
        .expect("opens");
    assert_eq!(text(&b, "h1").await, "Sign in to the sandbox console");
    b.close().await;
}

async fn look_up_by_url(b: &Browser, endpoint: &str, query: &str) {
    b.client
        .goto(&format!("{endpoint}/console/cloudtrail/events?{query}"))
        .await
        .expect("the page opens");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_own_calls_are_recorded_as_console_calls_of_the_learner() {
    let (_sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;
    look_up_by_url(&b, &endpoint, "attribute=EventName&value=GenerateDataKey").await;
    b.close().await;
    let cfg = kms_workshop_testkit::learner_config(&endpoint).await;
    let out = aws_sdk_cloudtrail::Client::new(&cfg)
        .lookup_events()
        .lookup_attributes(
            aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                .attribute_value("LookupEvents")
                .build()
                .expect("an attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    let console: Vec<serde_json::Value> = out
        .events()
        .iter()
        .filter_map(|e| e.cloud_trail_event())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .filter(|r| r["sessionCredentialFromConsole"] == "true")
        .collect();
    let r = console
        .first()
        .expect("the console's LookupEvents is in the history");
    assert_eq!(r["userAgent"], "AWS Internal");
    assert_eq!(r["userIdentity"]["type"], "IAMUser");
    assert_eq!(r["userIdentity"]["userName"], seed::LEARNER_USER);
    assert!(r["userIdentity"]["accessKeyId"]
        .as_str()
        .is_some_and(|k| k.starts_with("ASIA")));
    assert!(r["userIdentity"]["sessionContext"]["attributes"]["creationDate"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_and_email_subscription_are_made_in_the_console_and_confirmed_from_the_inbox() {
    let (_sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;
    click_through(&b, Locator::LinkText("SNS")).await;
    assert_eq!(text(&b, "h1").await, "Topics");
    // SNS's own check of the display name, as its console shows it.
    fill(&b, "name", "snsworkshop").await;
    b.client
        .execute(
            "document.getElementById('display_name').removeAttribute('maxlength')",
            vec![],
        )
        .await
        .expect("the form's own limit lifted");
    fill(&b, "display_name", &"x".repeat(101)).await;
    click_through(&b, Locator::Css("form.stacked button")).await;
    let problem = text(&b, ".error").await;
    assert!(problem.contains("DisplayName"), "{problem}");
    fill(&b, "display_name", "KMS workshop").await;
    b.screenshot("sns-create-topic").await;
    click_through(&b, Locator::Css("form.stacked button")).await;
    assert_eq!(text(&b, "h1").await, "snsworkshop");
    assert!(text(&b, "dl.details").await.contains("KMS workshop"));
    fill(&b, "endpoint", "learner@example.com").await;
    click_through(&b, Locator::Css("form.stacked button")).await;
    let subs = text(&b, "table.subscriptions tbody").await;
    assert!(subs.contains("Pending confirmation"), "{subs}");
    b.screenshot("sns-topic-pending").await;

    click_through(&b, Locator::LinkText("Inbox")).await;
    let list = text(&b, "table.inbox tbody").await;
    assert!(
        list.contains("AWS Notification - Subscription Confirmation"),
        "{list}"
    );
    assert!(
        list.contains("KMS workshop"),
        "the display name is the sender: {list}"
    );
    b.screenshot("inbox").await;
    click_through(
        &b,
        Locator::LinkText("AWS Notification - Subscription Confirmation"),
    )
    .await;
    b.screenshot("inbox-confirmation").await;
    click_through(&b, Locator::LinkText("Confirm subscription")).await;
    b.client
        .goto(&format!("{endpoint}/console/sns/subscriptions"))
        .await
        .expect("opens");
    let subs = text(&b, "table.subscriptions tbody").await;
    assert!(
        subs.contains("Confirmed") && subs.contains("snsworkshop"),
        "{subs}"
    );
    b.screenshot("sns-subscriptions").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_learners_session_cannot_read_anothers_events_or_mail() {
    let (sb, running) = sandbox(2).await;
    let endpoint = running.endpoint();
    // Learner 1's GenerateDataKey and confirmation email.
    generate_data_key(&endpoint).await;
    subscribe_email(&endpoint, "a@example.com").await;
    let cfg = kms_workshop_testkit::learner_config(&endpoint).await;
    let seq = sb.outbox(0).last().expect("learner 1's email").seq;
    let event_id = {
        let ct = aws_sdk_cloudtrail::Client::new(&cfg);
        let out = ct.lookup_events().send().await.expect("LookupEvents");
        out.events()
            .iter()
            .find(|e| e.event_name() == Some("GenerateDataKey"))
            .and_then(|e| e.event_id())
            .expect("learner 1's event")
            .to_string()
    };
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 2).await).await;
    // Learner 2 has GenerateDataKey calls of their own (the seeded history): not learner 1's.
    look_up_by_url(&b, &endpoint, "attribute=EventName&value=GenerateDataKey").await;
    let source = b.client.source().await.expect("the page's HTML");
    assert!(
        source.contains("GenerateDataKey"),
        "learner 2's own events are listed"
    );
    assert!(!source.contains(&event_id), "learner 1's event is not");
    b.client
        .goto(&format!("{endpoint}/console/cloudtrail/events/{event_id}"))
        .await
        .expect("opens");
    assert!(text(&b, "main")
        .await
        .contains(&format!("There is no event {event_id}")));
    b.screenshot("isolation-event").await;
    b.client
        .goto(&format!("{endpoint}/console/inbox/{seq}"))
        .await
        .expect("opens");
    assert!(text(&b, "main")
        .await
        .contains(&format!("There is no message {seq}")));
    b.client
        .goto(&format!("{endpoint}/console/inbox"))
        .await
        .expect("opens");
    assert!(text(&b, "main").await.contains("No messages yet"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_uploaded_to_s3_cannot_read_the_console_of_whoever_opens_it() {
    let (_sb, running) = sandbox(2).await;
    let endpoint = running.endpoint();
    // Learner 2 uploads a page that reads the console with the visitor's cookie.
    let attacker = kms_workshop_testkit::identity_config(
        &endpoint,
        &kms_workshop_sandbox::seed::learner(2).access_key_id,
    )
    .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&attacker)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("kmsworkshop-{}", seed::learner(2).account);
    let page = "<!DOCTYPE html><title>waiting</title><script>\
        fetch('/console/inbox').then(r => r.text())\
        .then(t => { document.title = 'stolen:' + t.length; })\
        .catch(e => { document.title = 'blocked'; });</script>";
    s3.put_object()
        .bucket(&bucket)
        .key("page.html")
        .content_type("text/html")
        .body(page.as_bytes().to_vec().into())
        .send()
        .await
        .expect("PutObject");
    let presigned = s3
        .get_object()
        .bucket(&bucket)
        .key("page.html")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                600,
            ))
            .expect("a presigning configuration"),
        )
        .await
        .expect("a presigned URL");
    // Learner 1 is signed in to the console and opens the link they were sent.
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;
    b.client
        .goto(presigned.uri())
        .await
        .expect("the page opens");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let title = b.client.title().await.expect("a title");
    assert!(
        !title.starts_with("stolen"),
        "the page read the console: {title}"
    );
    b.close().await;
}

/// A logging trail into the workshop's bucket, as the chapter's account has (CloudTrail hands
/// EventBridge only what a trail logs in the sandbox, as the workshop's set-up assumes).
async fn logging_trail(endpoint: &str) {
    let cfg = kms_workshop_testkit::learner_config(endpoint).await;
    let ct = aws_sdk_cloudtrail::Client::new(&cfg);
    ct.create_trail()
        .name("workshop-trail")
        .s3_bucket_name(format!("kmsworkshop-{}", seed::ACCOUNT))
        .send()
        .await
        .expect("CreateTrail");
    ct.start_logging()
        .name("workshop-trail")
        .send()
        .await
        .expect("StartLogging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rule_is_built_by_service_and_its_sns_target_mails_the_learner() {
    let (sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    logging_trail(&endpoint).await;
    let topic = confirmed_email_topic(&sb, &endpoint).await;
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;
    click_through(&b, Locator::LinkText("CloudWatch Events")).await;
    click_through(&b, Locator::LinkText("Create rule")).await;
    // The workshop text's trap: Service Name CloudTrail.
    let service = b
        .client
        .find(Locator::Id("service"))
        .await
        .expect("Service Name");
    service
        .select_by_value("cloudtrail")
        .await
        .expect("CloudTrail");
    fill(&b, "operations", "GenerateDataKey").await;
    click_through(&b, Locator::Id("show-pattern")).await;
    assert!(text(&b, "#pattern").await.contains("aws.cloudtrail"));
    assert!(text(&b, "#sample-result").await.contains("does not match"));
    assert!(text(&b, "main").await.contains("never matches"));
    b.screenshot("rule-builder-cloudtrail").await;
    let service = b
        .client
        .find(Locator::Id("service"))
        .await
        .expect("Service Name");
    service.select_by_value("kms").await.expect("KMS");
    click_through(&b, Locator::Id("show-pattern")).await;
    assert!(text(&b, "#sample-result")
        .await
        .contains("matches a GenerateDataKey"));
    assert!(text(&b, "main")
        .await
        .contains("read-only management events"));
    let target = b
        .client
        .find(Locator::Id("topic"))
        .await
        .expect("the target");
    target.select_by_value(&topic).await.expect("the topic");
    fill(&b, "name", "kmsworkshop-rule").await;
    let state = b.client.find(Locator::Id("state")).await.expect("State");
    state
        .select_by_value("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
        .await
        .expect("the state");
    b.screenshot("rule-builder-kms").await;
    click_through(&b, Locator::Id("create-rule")).await;
    assert_eq!(text(&b, "h1").await, "kmsworkshop-rule");
    let details = text(&b, "dl.details").await;
    assert!(details.contains(&topic), "{details}");
    b.screenshot("rule").await;

    // The chapter's test: a GenerateDataKey reaches the inbox.
    generate_data_key(&endpoint).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !sb
        .outbox_of(seed::ACCOUNT)
        .iter()
        .any(|m| m.kind == "Notification")
    {
        assert!(std::time::Instant::now() < deadline, "no notification came");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    b.client
        .goto(&format!("{endpoint}/console/inbox"))
        .await
        .expect("opens");
    let inbox = text(&b, "table.inbox tbody").await;
    assert!(inbox.contains("AWS Notification Message"), "{inbox}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expiry_metric_is_charted_and_its_alarm_mails_the_learner_when_the_clock_moves() {
    let (sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let topic = confirmed_email_topic(&sb, &endpoint).await;
    let cfg = kms_workshop_testkit::learner_config(&endpoint).await;
    let key_id = aws_sdk_kms::Client::new(&cfg)
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata
        .expect("metadata")
        .key_id;
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;
    click_through(&b, Locator::LinkText("Metrics")).await;
    let table = text(&b, "table.metrics tbody").await;
    assert!(table.contains(&key_id), "{table}");
    click_through(&b, Locator::LinkText("SecondsUntilKeyMaterialExpiration")).await;
    let latest = text(&b, "#latest").await;
    assert!(
        latest.starts_with("19.") || latest.starts_with("20.0"),
        "{latest}"
    );
    b.client
        .find(Locator::Css("svg#chart polyline"))
        .await
        .expect("the chart's line");
    b.screenshot("metric-chart").await;

    click_through(&b, Locator::LinkText("Create alarm")).await;
    let topics = b
        .client
        .find(Locator::Id("topic"))
        .await
        .expect("the topic list");
    topics.select_by_value(&topic).await.expect("the topic");
    b.screenshot("alarm-create").await;
    click_through(&b, Locator::Id("create-alarm")).await;
    assert_eq!(text(&b, "h1").await, "KMSWorkshop-ImportedCMK-expiry");
    let state = text(&b, "#state").await;
    assert_ne!(state, "ALARM", "20 days left is above the 10-day threshold");

    click_through(&b, Locator::LinkText("Alarms")).await;
    fill(&b, "days", "11").await;
    click_through(&b, Locator::Id("advance")).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let alarms = text(&b, "table.alarms tbody").await;
        if alarms.contains("ALARM") && !alarms.contains("INSUFFICIENT") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the alarm did not fire: {alarms}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        b.client.refresh().await.expect("reloaded");
    }
    b.screenshot("alarms-in-alarm").await;
    b.client
        .goto(&format!("{endpoint}/console/inbox"))
        .await
        .expect("opens");
    let inbox = text(&b, "table.inbox tbody").await;
    assert!(inbox.contains("ALARM"), "the alarm's email: {inbox}");
    b.close().await;
}
