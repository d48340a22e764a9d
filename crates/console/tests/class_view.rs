//! The instructor's class view in a real browser: the instructor signs in with a link only
//! the admin token gets, sees one row per learner with each step done / in progress / not
//! started as the learners' accounts show it (the earlier sections' history, which the seed
//! writes, counts for no one), and resets a learner; a learner's session sees no class view
//! and resets no one.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod common;

use aws_sdk_kms::types::DataKeySpec;
use fantoccini::Locator;
use kms_workshop_names as names;
use kms_workshop_sandbox::seed;

use common::{click_through, link, sandbox, sign_in, text, Browser};

/// A one-time sign-in link for the instructor, from the control API with the admin token.
async fn instructor_link(endpoint: &str) -> String {
    let (status, body) =
        kms_workshop_testkit::control(endpoint, "POST", "/_sandbox/console/link?instructor=true")
            .await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(v["learner"], 0);
    assert_eq!(v["account"], seed::INSTRUCTOR_ACCOUNT);
    v["url"].as_str().expect("a url").to_string()
}

/// The text of learner `k`'s cell in column `step` (0-based among the steps).
async fn cell(b: &Browser, k: u32, step: usize) -> String {
    // Columns: learner (th), account, then the steps.
    text(b, &format!("#learner-{k} td:nth-of-type({})", step + 2)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instructor_sees_each_learners_steps_and_resets_one() {
    let (_sb, running) = sandbox(3).await;
    let endpoint = running.endpoint();
    // Learner 1 generates the chapter's data key; learner 2 makes the topic and subscribes
    // (not confirmed yet); learner 3 has done nothing.
    let one = kms_workshop_testkit::learner_config(&endpoint).await;
    aws_sdk_kms::Client::new(&one)
        .generate_data_key()
        .key_id(names::IMPORTED_ALIAS)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context(names::CONTEXT_KEY, names::CONTEXT_VALUE)
        .send()
        .await
        .expect("GenerateDataKey");
    let two =
        kms_workshop_testkit::identity_config(&endpoint, &seed::learner(2).access_key_id).await;
    let sns = aws_sdk_sns::Client::new(&two);
    let topic = sns
        .create_topic()
        .name(names::TOPIC)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("an ARN");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("learner2@example.com")
        .send()
        .await
        .expect("Subscribe");

    // Learner 3 only tried: a refused call does not do the step.
    let three =
        kms_workshop_testkit::identity_config(&endpoint, &seed::learner(3).access_key_id).await;
    let refused = aws_sdk_kms::Client::new(&three)
        .generate_data_key()
        .key_id("alias/NoSuchKey")
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await;
    assert!(refused.is_err());

    let b = Browser::start().await;
    sign_in(&b, &instructor_link(&endpoint).await).await;
    assert!(text(&b, "header .who")
        .await
        .contains(seed::INSTRUCTOR_USER));
    click_through(&b, Locator::LinkText("Class")).await;
    assert_eq!(text(&b, "#class caption").await, "Learners (3)");
    assert!(
        cell(&b, 1, 0).await.starts_with("done"),
        "learner 1's data key"
    );
    assert!(cell(&b, 1, 2).await.starts_with("not started"));
    assert!(cell(&b, 2, 0).await.starts_with("not started"));
    assert!(
        cell(&b, 2, 2).await.starts_with("in progress"),
        "learner 2's topic"
    );
    for step in 0..6 {
        assert!(
            cell(&b, 3, step).await.starts_with("not started"),
            "learner 3, step {step}"
        );
    }
    b.screenshot("class-view").await;

    // A reset needs its confirmation; then learner 2's account is the starting state again.
    click_through(&b, Locator::Id("reset-2")).await;
    assert!(text(&b, "p.error")
        .await
        .contains("Confirm the reset of learner 2"));
    b.client
        .find(Locator::Id("confirm-reset-2"))
        .await
        .expect("the box")
        .click()
        .await
        .expect("ticked");
    click_through(&b, Locator::Id("reset-2")).await;
    assert!(cell(&b, 2, 2).await.starts_with("not started"));
    assert!(
        cell(&b, 1, 0).await.starts_with("done"),
        "learner 1 is untouched"
    );
    let two =
        kms_workshop_testkit::identity_config(&endpoint, &seed::learner(2).access_key_id).await;
    let topics = aws_sdk_sns::Client::new(&two)
        .list_topics()
        .send()
        .await
        .expect("ListTopics");
    assert!(topics
        .topics()
        .iter()
        .all(|t| !t.topic_arn().unwrap_or_default().ends_with(":snsworkshop")));
    // The classroom's clock is the instructor's to move, here too.
    click_through(&b, Locator::LinkText("Alarms")).await;
    b.client
        .find(Locator::Id("advance"))
        .await
        .expect("the instructor's clock control");
    b.close().await;

    // A learner sees no class view, and cannot reset anyone (not even with their own token).
    let b = Browser::start().await;
    sign_in(&b, &link(&endpoint, 1).await).await;
    let nav = text(&b, "header nav").await;
    assert!(!nav.contains("Class"), "{nav}");
    b.client
        .goto(&format!("{endpoint}/console/class"))
        .await
        .expect("opens");
    assert!(text(&b, "main").await.contains("There is no console page"));
    b.close().await;
}

#[tokio::test]
async fn a_learners_session_resets_no_one() {
    let (sb, running) = sandbox(2).await;
    let endpoint = running.endpoint();
    let url = link(&endpoint, 1).await;
    let origin = common::origin(&url);
    let (_, set_cookie, _) = common::open(&url).await;
    let cookie = set_cookie
        .as_deref()
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let http = common::http();
    let two = seed::learner(2).account;
    let before = sb.events().len(&two, seed::REGION);
    let reset = http
        .post(format!("{origin}/console/class/reset"))
        .header("origin", &origin)
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("learner=2&confirm=yes")
        .send()
        .await
        .expect("an answer");
    assert_eq!(reset.status(), 404);
    let view = http
        .get(format!("{origin}/console/class"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(view.status(), 404);
    assert_eq!(
        sb.events().len(&two, seed::REGION),
        before,
        "learner 2's account was not reset"
    );
}

#[tokio::test]
async fn the_instructors_link_needs_the_admin_token_and_a_classroom() {
    let (_sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let (status, body) =
        kms_workshop_testkit::control(&endpoint, "POST", "/_sandbox/console/link?instructor=true")
            .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("not a classroom"), "{body}");
    let (status, body) =
        kms_workshop_testkit::control(&endpoint, "POST", "/_sandbox/console/link?instructor=maybe")
            .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("instructor must be true or false"), "{body}");
}
