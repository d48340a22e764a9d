//! Concurrency soak: 32 clients hammer an in-process sandbox through the real AWS SDKs with a mix
//! of KMS, CloudTrail `LookupEvents`, SNS and EventBridge calls while the sandbox clock moves
//! forward, for `KMS_WORKSHOP_SOAK_SECS` seconds (default 5; 60 for the real soak).
//!
//! The account holds the workshop's whole pipeline, with its state on disk: a trail that logs
//! (so CloudTrail events reach EventBridge), a rule for GenerateDataKey in the state read-only
//! events need, a topic whose policy lets EventBridge publish, and a confirmed email
//! subscription.
//!
//! Checks: no error except the ones the mix asks for (a `DescribeKey` of a key that does not
//! exist must fail with `NotFoundException`, every time); no lost CloudTrail event (every call,
//! failed ones included, is one event in the account's history: the count of events recorded
//! during the run equals the count of calls made, and `LookupEvents` pages through exactly one
//! GenerateDataKey event per GenerateDataKey call); no lost or doubled delivery (the inbox gets
//! exactly one rule notification per GenerateDataKey call and one message per Publish); memory
//! flat: the live heap (every allocation of the process is counted) grows by no more than the
//! history and the inbox need ([`HEAP_BYTES_PER_EVENT`]), resident size by no more than
//! [`RSS_BYTES_PER_EVENT`], each plus a fixed allowance, and the history itself allocates no more
//! than [`HISTORY_BYTES_PER_EVENT`] an event (the process's resident size is too coarse to
//! catch a history grown back to a kilobyte an event). Prints the figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use kms_workshop_sandbox::{seed, Config, Sandbox, Seed};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

/// Every allocation of this test's process is counted, so that the soak can bound the bytes
/// live on the heap: resident size also holds what the allocator keeps of freed memory, in as
/// many arenas as threads have allocated in, and moves with them.
#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, in the whole process.
fn live_heap_bytes() -> i64 {
    let s = GLOBAL.stats();
    // A reallocation's growth or shrinking is in these two already.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

const CLIENTS: usize = 32;

/// Resident bytes one recorded call may add, a coarse guard: resident size is mostly what the
/// allocator keeps of freed memory (a 20 s run's heap peaked at 22 MB while its resident size
/// grew by 35 MB; heaptrack). Measured on a 2-core machine with the whole pipeline: 6.1 KB per
/// event over 60 s (10,091 calls), 7.0 KB over 20 s (4,744 calls), within the bound through the
/// allowance. [`HEAP_BYTES_PER_EVENT`] is the tight one.
const RSS_BYTES_PER_EVENT: u64 = 6 * 1024;
/// Live heap bytes one recorded call may add: its share of the history, of the inbox's
/// messages (a quarter of the calls deliver one) and of the pipeline's
/// bookkeeping. Measured on a 2-core machine: 2.0 KB per event over 60 s (10,091 calls, +19.2
/// MB), 2.5 KB over 20 s (4,744 calls, +11.2 MB); 1.6 KB at the margin. A per-request leak of a
/// few kilobytes (a request body, a connection's buffers, a task) fails this.
const HEAP_BYTES_PER_EVENT: i64 = 2560;
/// Fixed allowance of the live heap: caches and connection pools warming up.
const HEAP_SLACK_BYTES: i64 = 8 * 1024 * 1024;
/// What the history may allocate per event it holds (its events, indexes and dictionary, by
/// their capacities: `EventStore::footprint`). An event is 56 bytes and a few index entries,
/// its record's distinct values kept once; vectors grow by doubling, so up to half of what they
/// hold can be room not yet used. Measured: see docs/BENCHMARKS.md (the soak). A history that
/// kept each record's text again (1.2 KB and more an event) fails this.
const HISTORY_BYTES_PER_EVENT: usize = 300;
/// Fixed allowance: allocator arenas of the tokio and blocking-pool threads warming up.
const RSS_SLACK_BYTES: u64 = 48 * 1024 * 1024;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

fn soak_duration() -> Duration {
    let secs = match std::env::var("KMS_WORKSHOP_SOAK_SECS") {
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or_else(|| {
                panic!("KMS_WORKSHOP_SOAK_SECS must be a positive number of seconds, got '{v}'")
            }),
        Err(_) => 5.0,
    };
    Duration::from_secs_f64(secs)
}

#[derive(Clone)]
struct Clients {
    kms: aws_sdk_kms::Client,
    trail: aws_sdk_cloudtrail::Client,
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
}

#[derive(Default)]
struct Tally {
    calls: AtomicU64,
    expected_errors: AtomicU64,
    data_keys: AtomicU64,
    publishes: AtomicU64,
}

/// One call of the mix; `Err` is an unexpected outcome, described.
async fn one_call(
    c: &Clients,
    i: u64,
    key_id: &str,
    topic_arn: &str,
    tally: &Tally,
) -> Result<(), String> {
    let r: Result<(), String> = match i % 8 {
        0 => c
            .kms
            .generate_data_key()
            .key_id(key_id)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "GenerateDataKey: {}",
                    aws_sdk_kms::error::DisplayErrorContext(&e)
                )
            }),
        1 => c
            .kms
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(format!("soak {i}")))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("Encrypt: {}", aws_sdk_kms::error::DisplayErrorContext(&e))),
        2 => c
            .trail
            .lookup_events()
            .lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(LookupAttributeKey::EventName)
                    .attribute_value("GenerateDataKey")
                    .build()
                    .expect("attribute key and value are set"),
            )
            .max_results(5)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "LookupEvents: {}",
                    aws_sdk_cloudtrail::error::DisplayErrorContext(&e)
                )
            }),
        3 => c
            .sns
            .publish()
            .topic_arn(topic_arn)
            .message(format!("soak message {i}"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("Publish: {}", aws_sdk_sns::error::DisplayErrorContext(&e))),
        4 => c
            .events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source("soak.app")
                    .detail_type("Soak")
                    .detail(format!(r#"{{"n":{i}}}"#))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                format!(
                    "PutEvents: {}",
                    aws_sdk_eventbridge::error::DisplayErrorContext(&e)
                )
            })
            .and_then(|o| match o.failed_entry_count() {
                0 => Ok(()),
                n => Err(format!("PutEvents: {n} failed entries")),
            }),
        5 => c.events.list_rules().send().await.map(|_| ()).map_err(|e| {
            format!(
                "ListRules: {}",
                aws_sdk_eventbridge::error::DisplayErrorContext(&e)
            )
        }),
        6 => {
            // The error the mix asks for.
            match c
                .kms
                .describe_key()
                .key_id("alias/soak-does-not-exist")
                .send()
                .await
            {
                Ok(_) => Err("DescribeKey of a missing alias succeeded".into()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_not_found_exception()) =>
                {
                    tally.expected_errors.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(e) => Err(format!(
                    "DescribeKey: expected NotFoundException, got {}",
                    aws_sdk_kms::error::DisplayErrorContext(&e)
                )),
            }
        }
        _ => c.sns.list_topics().send().await.map(|_| ()).map_err(|e| {
            format!(
                "ListTopics: {}",
                aws_sdk_sns::error::DisplayErrorContext(&e)
            )
        }),
    };
    tally.calls.fetch_add(1, Ordering::Relaxed);
    if r.is_ok() {
        match i % 8 {
            0 => tally.data_keys.fetch_add(1, Ordering::Relaxed),
            3 => tally.publishes.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
    r
}

/// The inbox's notifications from `topic_arn`: (rule deliveries of a CloudTrail API call,
/// other messages).
fn delivered(sb: &Sandbox, topic_arn: &str) -> (u64, u64) {
    let (mut rule, mut other) = (0, 0);
    for m in sb.outbox_of(seed::ACCOUNT) {
        if m.kind != "Notification" || m.document["TopicArn"].as_str() != Some(topic_arn) {
            continue;
        }
        let event = m.document["Message"]
            .as_str()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
        match event {
            Some(e) if e["detail-type"] == "AWS API Call via CloudTrail" => rule += 1,
            _ => other += 1,
        }
    }
    (rule, other)
}

/// Wait until the inbox holds `want` (rule, other) notifications (deliveries are asynchronous),
/// or 60 s have passed; what it holds then.
async fn settled(sb: &Sandbox, topic_arn: &str, want: (u64, u64)) -> (u64, u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = delivered(sb, topic_arn);
        if now == want || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GenerateDataKey events `LookupEvents` returns, every page.
async fn looked_up_data_keys(c: &Clients) -> u64 {
    let mut pages = c
        .trail
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value("GenerateDataKey")
                .build()
                .expect("attribute key and value are set"),
        )
        .into_paginator()
        .send();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        n += page.expect("LookupEvents page").events().len() as u64;
    }
    n
}

/// The workshop's pipeline in the account: a logging trail, the topic allowing EventBridge
/// with a confirmed email subscription, the GenerateDataKey rule targeting it.
async fn pipeline(sb: &Sandbox, endpoint: &str, c: &Clients) -> String {
    let conf = kms_workshop_testkit::learner_config(endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let setup = kms_workshop_notify::TrailSetup {
        trail_name: "soak-trail".into(),
        bucket: format!("soak-trail-{}", seed::ACCOUNT),
        account_id: seed::ACCOUNT.into(),
        region: seed::REGION.into(),
        partition: "aws".into(),
    };
    kms_workshop_notify::ensure_management_trail(&s3, &c.trail, &setup)
        .await
        .expect("a logging trail");
    let topic_arn = c
        .sns
        .create_topic()
        .name("soak-topic")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("TopicArn")
        .to_string();
    kms_workshop_notify::subscribe_email(&c.sns, &topic_arn, "soak@example.com")
        .await
        .expect("Subscribe");
    let token = sb
        .outbox_of(seed::ACCOUNT)
        .iter()
        .rev()
        .find(|m| m.kind == "SubscriptionConfirmation")
        .and_then(|m| m.document["Token"].as_str().map(str::to_string))
        .expect("the confirmation's token");
    kms_workshop_notify::confirm_subscription(&c.sns, &topic_arn, &token)
        .await
        .expect("ConfirmSubscription");
    kms_workshop_notify::allow_eventbridge_publish(&c.sns, &topic_arn)
        .await
        .expect("the topic policy");
    kms_workshop_notify::put_rule(
        &c.events,
        &kms_workshop_notify::RuleSpec::workshop("soak-kms"),
    )
    .await
    .expect("PutRule");
    kms_workshop_notify::put_sns_target(&c.events, "soak-kms", "1", &topic_arn)
        .await
        .expect("PutTargets");
    topic_arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_mixed_clients_lose_nothing_and_hold_memory_flat() {
    let duration = soak_duration();
    let dir = tempfile::tempdir().expect("a state directory");
    let sb = Sandbox::open(Config {
        state_dir: Some(dir.path().to_path_buf()),
        seed: Seed::Empty,
        cloudtrail_delay: time::Duration::ZERO,
        lookup_rate_limit: false,
        ..Config::default()
    })
    .expect("opening a sandbox");
    let running = kms_workshop_testkit::serve(&sb).await;
    // One call, one request, one CloudTrail event: the configuration has no retries, which
    // would make the counts disagree.
    let conf = kms_workshop_testkit::learner_config(&running.endpoint()).await;
    let clients = Clients {
        kms: aws_sdk_kms::Client::new(&conf),
        trail: aws_sdk_cloudtrail::Client::new(&conf),
        sns: aws_sdk_sns::Client::new(&conf),
        events: aws_sdk_eventbridge::Client::new(&conf),
    };
    let key_id = clients
        .kms
        .create_key()
        .description("soak")
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_string();
    let topic_arn = pipeline(&sb, &running.endpoint(), &clients).await;

    // Warm-up: connection pools, thread pools and allocator arenas reach their working size
    // before the "before" measurement.
    let warm = Tally::default();
    for i in 0..(8 * CLIENTS as u64) {
        one_call(&clients, i, &key_id, &topic_arn, &warm)
            .await
            .expect("warm-up call");
    }

    let warm_keys = warm.data_keys.load(Ordering::Relaxed);
    let warm_publishes = warm.publishes.load(Ordering::Relaxed);
    let before = settled(&sb, &topic_arn, (warm_keys, warm_publishes)).await;
    assert_eq!(
        before,
        (warm_keys, warm_publishes),
        "the warm-up's deliveries (rule, publish)"
    );
    let events_before = sb.events().len(seed::ACCOUNT, seed::REGION);
    let rss_before = rss_bytes();
    let heap_before = live_heap_bytes();
    let clock_before = sb.clock.now();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let started = Instant::now();

    let ticker = {
        let sb = sb.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut ticks = 0u64;
            while !stop.load(Ordering::Relaxed) {
                sb.advance_clock(time::Duration::minutes(1))
                    .expect("advancing the clock");
                ticks += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ticks
        })
    };
    let mut workers = Vec::new();
    for w in 0..CLIENTS as u64 {
        let (clients, key_id, topic_arn, tally) = (
            clients.clone(),
            key_id.clone(),
            topic_arn.clone(),
            tally.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            let mut i = w;
            while started.elapsed() < duration {
                if let Err(e) = one_call(&clients, i, &key_id, &topic_arn, &tally).await {
                    errors.push(e);
                }
                i += 1;
            }
            errors
        }));
    }
    let mut unexpected = Vec::new();
    for w in workers {
        unexpected.extend(w.await.expect("a client task panicked"));
    }
    stop.store(true, Ordering::Relaxed);
    let ticks = ticker.await.expect("the clock task panicked");
    let elapsed = started.elapsed().as_secs_f64();

    let calls = tally.calls.load(Ordering::Relaxed);
    let expected_errors = tally.expected_errors.load(Ordering::Relaxed);
    let recorded = sb.events().len(seed::ACCOUNT, seed::REGION) - events_before;
    let (data_keys, publishes) = (
        tally.data_keys.load(Ordering::Relaxed),
        tally.publishes.load(Ordering::Relaxed),
    );
    let want = (before.0 + data_keys, before.1 + publishes);
    let after = settled(&sb, &topic_arn, want).await;
    let looked_up = looked_up_data_keys(&clients).await;
    let rss_after = rss_bytes();
    let heap_growth = live_heap_bytes() - heap_before;
    let (held, history_bytes) = sb.events().footprint();
    let growth = rss_after.saturating_sub(rss_before);
    let bound = recorded as u64 * RSS_BYTES_PER_EVENT + RSS_SLACK_BYTES;
    let heap_bound = recorded as i64 * HEAP_BYTES_PER_EVENT + HEAP_SLACK_BYTES;
    let clock_moved = sb.clock.now() - clock_before;
    println!(
        "soak: {CLIENTS} clients, {elapsed:.1} s: {calls} calls ({:.0}/s), {expected_errors} expected errors, {} unexpected",
        calls as f64 / elapsed,
        unexpected.len()
    );
    println!(
        "soak: CloudTrail events recorded during the run: {recorded} (calls made: {calls}); clock advanced {ticks} times, {} min",
        clock_moved.whole_minutes()
    );
    println!(
        "soak: deliveries: {} rule notifications for {data_keys} GenerateDataKey calls, {} messages for {publishes} publishes; LookupEvents pages through {looked_up} GenerateDataKey events ({warm_keys} of the warm-up)",
        after.0 - before.0,
        after.1 - before.1
    );
    println!(
        "soak: RSS {:.1} MB -> {:.1} MB (+{:.1} MB, {:.0} B per recorded event); bound +{:.1} MB ({} B per event + {} MB)",
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
        growth as f64 / 1048576.0,
        growth as f64 / recorded.max(1) as f64,
        bound as f64 / 1048576.0,
        RSS_BYTES_PER_EVENT,
        RSS_SLACK_BYTES / 1048576
    );
    println!(
        "soak: live heap +{:.1} MB, {} B per recorded event; bound +{:.1} MB ({HEAP_BYTES_PER_EVENT} B per event + {} MB)",
        heap_growth as f64 / 1048576.0,
        heap_growth / recorded.max(1) as i64,
        heap_bound as f64 / 1048576.0,
        HEAP_SLACK_BYTES / 1048576
    );
    println!(
        "soak: the history holds {held} events in {:.1} MB, {} B per event (bound {HISTORY_BYTES_PER_EVENT} B)",
        history_bytes as f64 / 1048576.0,
        history_bytes / held.max(1)
    );

    assert!(
        unexpected.is_empty(),
        "{} unexpected errors, first: {}",
        unexpected.len(),
        unexpected[0]
    );
    assert!(calls > 0, "no call completed");
    assert!(
        expected_errors > 0,
        "the mix's DescribeKey of a missing key never ran"
    );
    assert_eq!(
        recorded as u64, calls,
        "every call is one CloudTrail event: {calls} calls, {recorded} events"
    );
    assert_eq!(
        after, want,
        "every GenerateDataKey is one rule notification and every Publish one message: (rule, publish) delivered {after:?}, expected {want:?}"
    );
    assert_eq!(
        looked_up,
        warm_keys + data_keys,
        "LookupEvents returns one GenerateDataKey event per call (warm-up and run)"
    );
    assert!(
        heap_growth <= heap_bound,
        "the live heap grew by {heap_growth} bytes over {recorded} events, more than the bound of {heap_bound}"
    );
    assert!(
        history_bytes <= held * HISTORY_BYTES_PER_EVENT,
        "the history holds {held} events in {history_bytes} bytes, more than {HISTORY_BYTES_PER_EVENT} B per event"
    );
    assert!(
        growth <= bound,
        "resident memory grew by {growth} bytes over {recorded} events, more than the bound of {bound}"
    );
    running.shutdown().await;
}
