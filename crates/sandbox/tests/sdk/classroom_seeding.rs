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
        assert_eq!(sb.events().len(a, seed::REGION), 0, "no history yet");
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
    assert!(
        sb.events().len(&accounts[1], seed::REGION) > 0,
        "the history"
    );
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
    assert_eq!(sb.events().len(&accounts[1], seed::REGION), 0);
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

/// A classroom of `n` learners in memory with `realism`.
fn classroom(n: u32, realism: kms_workshop_sandbox::realism::Realism) -> Config {
    Config {
        learners: n,
        realism,
        ..Config::default()
    }
}

/// Days from `t` to the sandbox's clock (negative: `t` is in the future).
fn days_ago(sb: &Sandbox, t: &aws_smithy_types::DateTime) -> f64 {
    (sb.clock.now().unix_timestamp() - t.secs()) as f64 / 86_400.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_request_given_up_or_a_reset_half_way_never_seeds_twice() {
    let sb = Sandbox::open(classroom(2, Default::default())).expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let two = classroom_learner(&ep, 2).await;
    // A first request the client gives up on at once (a timeout, a refreshed page), then a
    // reset while the seeding may still run, then requests: one account, seeded once, from its
    // reset.
    let impatient = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&two)
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_millis(20))
                    .build(),
            )
            .build(),
    );
    let _ = impatient.list_keys().send().await;
    sb.reset_learner(2).expect("reset");
    let _ = impatient.list_keys().send().await;
    let calls = (0..4).map(|_| {
        let kms = aws_sdk_kms::Client::new(&two);
        async move { kms.list_keys().send().await }
    });
    for keys in futures_join_all(calls).await {
        let keys = keys.expect("ListKeys");
        assert_eq!(keys.keys().len(), 5, "seeded once: {:?}", keys.keys());
    }
    let aliases = aws_sdk_kms::Client::new(&two)
        .list_aliases()
        .send()
        .await
        .expect("ListAliases");
    let names: Vec<&str> = aliases
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == IMPORTED_ALIAS).count(),
        1,
        "{names:?}"
    );
    let instances = aws_sdk_ec2::Client::new(&two)
        .describe_instances()
        .send()
        .await
        .expect("DescribeInstances");
    let count: usize = instances
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(count, 2, "the workshop's instance and the lookalike");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_learner_cannot_take_the_buckets_an_account_is_seeded_with() {
    let sb = Sandbox::open(classroom(2, Default::default())).expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let a2 = seed::learner(2).account;
    let one = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&classroom_learner(&ep, 1).await)
            .force_path_style(true)
            .build(),
    );
    for name in [
        kms_workshop_names::bucket(&a2),
        format!("kmsworkshop-archive-{a2}"),
    ] {
        let err = one
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .expect_err("another learner's seed's bucket");
        assert_eq!(
            err.into_service_error().meta().code(),
            Some("BucketAlreadyExists"),
            "{name}"
        );
    }
    // Learner 2's account is seeded whole.
    let stacks = aws_sdk_cloudformation::Client::new(&classroom_learner(&ep, 2).await)
        .describe_stacks()
        .stack_name(kms_workshop_names::STACK)
        .send()
        .await
        .expect("DescribeStacks");
    assert_eq!(
        stacks.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_seed_keeps_its_days_whatever_happened_in_the_account_before() {
    // Other principals call every account meanwhile (AWS's background activity).
    let realism = kms_workshop_sandbox::realism::Realism {
        background_every: Some(time::Duration::milliseconds(50)),
        ..Default::default()
    };
    let sb = Sandbox::open(classroom(2, realism)).expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let two = classroom_learner(&ep, 2).await;
    let kms = aws_sdk_kms::Client::new(&two);
    let imported = kms
        .describe_key()
        .key_id(IMPORTED_ALIAS)
        .send()
        .await
        .expect("alias/ImportedCMK")
        .key_metadata
        .expect("metadata");
    // The days the earlier sections' history tells: keys three days ago, material for 20
    // days, K1's deletion (scheduled a day ago, a 7-day window) in six.
    let created = days_ago(&sb, imported.creation_date().expect("CreationDate"));
    assert!((2.9..3.1).contains(&created), "created {created} days ago");
    let valid_to = -days_ago(&sb, imported.valid_to().expect("ValidTo"));
    assert!(
        (19.9..20.1).contains(&valid_to),
        "valid for {valid_to} days"
    );
    let keys = kms.list_keys().send().await.expect("ListKeys");
    let mut deletions = Vec::new();
    for k in keys.keys() {
        let meta = kms
            .describe_key()
            .key_id(k.key_id().expect("KeyId"))
            .send()
            .await
            .expect("DescribeKey")
            .key_metadata
            .expect("metadata");
        if let Some(d) = meta.deletion_date() {
            deletions.push(-days_ago(&sb, d));
        }
    }
    assert!(
        matches!(deletions.as_slice(), [d] if (5.9..6.1).contains(d)),
        "{deletions:?}"
    );
    let stack = aws_sdk_cloudformation::Client::new(&two)
        .describe_stacks()
        .stack_name(kms_workshop_names::STACK)
        .send()
        .await
        .expect("DescribeStacks");
    let stack_age = days_ago(
        &sb,
        stack.stacks()[0].creation_time().expect("CreationTime"),
    );
    assert!(
        (3.9..4.1).contains(&stack_age),
        "stack {stack_age} days old"
    );
    // The history of the earlier sections kept its days: the first CreateKey three days ago,
    // although the background's calls came first.
    let trail = aws_sdk_cloudtrail::Client::new(&two);
    let creates = trail
        .lookup_events()
        .lookup_attributes(
            aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                .attribute_value("CreateKey")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    let oldest = creates
        .events()
        .iter()
        .filter_map(|e| e.event_time())
        .map(|t| days_ago(&sb, t))
        .fold(0.0, f64::max);
    assert!(oldest > 2.9, "the first CreateKey {oldest} days ago");
    running.shutdown().await;
}
