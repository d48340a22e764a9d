//! A classroom's accounts are seeded on their first request: the sandbox answers at once, a
//! learner's first call finds the whole starting state, concurrent first calls seed once, the
//! wait survives a restart, and a reset account waits again.

use crate::common;

use common::{classroom_learner, serve};
use kms_workshop_names::{FIRST_ALIAS, IMPORTED_ALIAS};
use kms_workshop_sandbox::{seed, Config, Sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_account_is_seeded_by_their_first_request_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = Config {
        learners: 3,
        state_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let accounts: Vec<String> = (1..=3).map(|k| seed::learner(k).account).collect();
    let sb = Sandbox::open(cfg.clone()).expect("sandbox");
    for a in &accounts {
        assert!(sb.waits_for_seed(a), "{a} waits for its first request");
        assert_eq!(sb.events.len(a, seed::REGION), 0, "no history yet");
    }
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let two = classroom_learner(&ep, 2).await;
    // Eight first requests at once: each answers from the seeded account.
    let calls = (0..8).map(|_| {
        let kms = aws_sdk_kms::Client::new(&two);
        async move { kms.describe_key().key_id(IMPORTED_ALIAS).send().await }
    });
    let answers = futures_join_all(calls).await;
    let mut ids: Vec<String> = answers
        .into_iter()
        .map(|a| {
            let meta = a.expect("DescribeKey").key_metadata.expect("metadata");
            assert_eq!(meta.origin().map(|o| o.as_str()), Some("EXTERNAL"));
            meta.key_id().to_string()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one key behind the alias: {ids:?}");
    // Seeded once: the workshop's three keys, the managed EBS key and the lookalike.
    let kms = aws_sdk_kms::Client::new(&two);
    let keys = kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(keys.keys().len(), 5, "{:?}", keys.keys());
    kms.describe_key()
        .key_id(FIRST_ALIAS)
        .send()
        .await
        .expect("alias/FirstCMK");
    assert!(!sb.waits_for_seed(&accounts[1]));
    assert!(sb.events.len(&accounts[1], seed::REGION) > 0, "the history");
    assert!(sb.waits_for_seed(&accounts[0]) && sb.waits_for_seed(&accounts[2]));
    // The learner's progress counts from the seeding: the seed's history is not theirs.
    let progress = sb.learner_progress(2, &accounts[1]);
    assert!(
        progress
            .cells
            .iter()
            .all(|c| c.status == kms_workshop_sandbox::progress::Status::NotStarted),
        "{progress:?}"
    );
    running.shutdown().await;
    sb.sync();
    drop(sb);

    // A restart keeps who waits and what was seeded.
    let sb = Sandbox::open(cfg).expect("reopen");
    assert!(!sb.waits_for_seed(&accounts[1]));
    assert!(sb.waits_for_seed(&accounts[0]) && sb.waits_for_seed(&accounts[2]));
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let again = aws_sdk_kms::Client::new(&classroom_learner(&ep, 2).await)
        .list_keys()
        .send()
        .await
        .expect("ListKeys");
    assert_eq!(again.keys().len(), 5, "not seeded twice");
    // A reset account waits again, with nothing left of before.
    sb.reset_learner(2).expect("reset");
    assert!(sb.waits_for_seed(&accounts[1]));
    assert_eq!(sb.events.len(&accounts[1], seed::REGION), 0);
    running.shutdown().await;
}

/// Run the futures concurrently, answers in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
