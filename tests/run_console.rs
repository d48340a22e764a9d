//! The whole chapter done in the web console, as the workshop text has it, while the guided
//! run verifies each step: `kms-workshop run` under a pseudo-terminal against its built-in
//! sandbox, "I'll do it myself" at every step, the sign-in link the runner printed opened in
//! a headless Chromium, and each step done on the console's screens (the data key with the
//! CLI command shown, as the workshop does). The runner's verification must agree with what
//! was done there: every step verifies, and after the clean-up as the workshop words it the
//! runner names exactly what the workshop leaves behind, which "Do it for me" then removes.

use crate::run_diy::Learner;

use kms_workshop_names as names;
use kms_workshop_testkit::browser::{sign_in, text, Browser};
use kms_workshop_testkit::console::{
    confirm_from_inbox, expiry_alarm, logging_trail, look_up, rule_to_topic, topic_with_email,
    workshop_cleanup,
};

/// The learner's account and the instance of the hosted sandbox (the workshop seed's).
const ACCOUNT: &str = "111122223333";
const INSTANCE: &str = "i-0a1b2c3d4e5f60718";

/// The console sign-in link the runner printed.
fn console_link(seen: &str) -> String {
    let at = seen
        .find("/console/signin?token=")
        .unwrap_or_else(|| panic!("the runner printed no console link:\n{seen}"));
    let start = seen[..at].rfind("http://").expect("the link's start");
    seen[start..]
        .split_whitespace()
        .next()
        .expect("the link")
        .to_string()
}

#[test]
fn the_whole_chapter_done_in_the_console_verifies_in_the_runner() {
    assert_eq!(names::sandbox::ACCOUNT, ACCOUNT);
    assert_eq!(names::sandbox::INSTANCE_ID, INSTANCE);
    let rt = tokio::runtime::Runtime::new().expect("a runtime for the browser");
    let data = tempfile::tempdir().expect("tempdir");
    let mut l = Learner::begin(data.path(), &[]);

    // 1. The data key, with the CLI command the runner shows (the workshop does it so too).
    let cmds = l.do_it_myself();
    for c in &cmds {
        l.run(c);
    }
    let link = console_link(&l.seen);
    l.verified("Step 2/6");
    let b = rt.block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &link).await;
        b
    });

    // 2. Event history: by event name, then by the user name the event shows.
    l.do_it_myself();
    rt.block_on(async {
        fantoccini_click(&b, "CloudTrail").await;
        look_up(&b, "EventName", "GenerateDataKey").await;
        let rows = text(&b, "table.events tbody").await;
        assert!(rows.contains("GenerateDataKey"), "{rows}");
        look_up(&b, "Username", names::sandbox::LEARNER_USER).await;
        let rows = text(&b, "table.events tbody").await;
        assert!(rows.contains("GenerateDataKey"), "{rows}");
    });
    l.verified("Step 3/6");

    // 3. The topic and its email subscription, confirmed from the console's inbox.
    l.do_it_myself();
    rt.block_on(topic_with_email(
        &b,
        names::TOPIC,
        names::DISPLAY_NAME,
        "learner@example.com",
    ));
    l.send("\r");
    l.expect("to confirm");
    rt.block_on(confirm_from_inbox(&b));
    let (i, _) = l.expect_one(&["Step 4/6", "Not done yet"]);
    assert_eq!(i, 0, "{}", l.tail());

    // 4. A logging trail if the runner asks for one, the rule with its SNS target, then a data
    // key again; the runner waits for its notification.
    let topic = format!(
        "arn:aws:sns:{}:{ACCOUNT}:{}",
        names::sandbox::REGION,
        names::TOPIC
    );
    let cmds = l.do_it_myself();
    rt.block_on(async {
        if cmds.iter().any(|c| c.contains("create-trail")) {
            logging_trail(&b).await;
        }
        rule_to_topic(&b, names::RULE, &topic).await;
    });
    // "Generate a data key again", with the command the runner shows.
    let again: Vec<&String> = cmds
        .iter()
        .filter(|c| c.contains("generate-data-key"))
        .collect();
    assert!(!again.is_empty(), "{cmds:?}");
    for c in again {
        l.run(c);
    }
    l.send("\r");
    l.expect("Subject:");
    let (i, _) = l.expect_one(&["Step 5/6", "Not done yet"]);
    assert_eq!(i, 0, "{}", l.tail());
    rt.block_on(async {
        fantoccini_click(&b, "Inbox").await;
        let inbox = text(&b, "table.inbox tbody").await;
        assert!(inbox.contains("AWS Notification Message"), "{inbox}");
    });

    // 5. The expiry alarm from the metric's page; the runner moves the clock.
    l.do_it_myself();
    rt.block_on(expiry_alarm(&b, names::ALARM, &topic));
    l.send("\r");
    l.expect("Move the sandbox clock");
    l.send("y");
    l.expect("Subject: ALARM");
    l.expect("Step 6/6");

    // 6. The clean-up by hand, in the workshop's order. The runner agrees on what is gone and
    // names what the workshop leaves (the topic, the rule, the alarm…), then removes it.
    l.do_it_myself();
    let bucket = names::bucket(ACCOUNT);
    rt.block_on(workshop_cleanup(&b, INSTANCE, &bucket));
    rt.block_on(b.close());
    l.send("\r");
    let (i, checklist) = l.expect_one(&["Not done yet", "Every step is done"]);
    assert_eq!(i, 0, "the workshop's clean-up leaves things:\n{}", l.tail());
    let left = checklist
        .lines()
        .find(|x| x.contains("still there"))
        .unwrap_or_else(|| panic!("no list of what is left:\n{checklist}"));
    for name in [names::TOPIC, names::RULE, names::ALARM] {
        assert!(left.contains(name), "{name} is not named: {left}");
    }
    for gone in [names::STACK, INSTANCE, names::ROLE] {
        assert!(!left.contains(gone), "{gone} is gone, yet named: {left}");
    }
    l.expect("What now?");
    l.send("\r");
    l.expect("Every step is done and verified");
    let _ = l.p.exp_eof();
}

/// Click the navigation entry `name`.
async fn fantoccini_click(b: &Browser, name: &str) {
    kms_workshop_testkit::browser::click_through(b, fantoccini::Locator::LinkText(name)).await;
}
