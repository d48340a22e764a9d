//! Concurrency soak: 32 clients hammer an in-process sandbox through the real AWS SDKs with a mix
//! of KMS, CloudTrail `LookupEvents`, SNS and EventBridge calls while the sandbox clock moves
//! forward, for `KMS_WORKSHOP_SOAK_SECS` seconds (default 5; 60 for the real soak).
//!
//! Checks: no error except the ones the mix asks for (a `DescribeKey` of a key that does not
//! exist must fail with `NotFoundException`, every time); no lost CloudTrail event (every call,
//! failed ones included, is one event in the account's history: the count of events recorded
//! during the run equals the count of calls made); memory flat: resident size grows by no more
//! than the event history itself needs (see [`RSS_BYTES_PER_EVENT`]) plus a fixed allowance.
//! Prints the figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, Target};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use kms_workshop_sandbox::{seed, Config, Sandbox, Seed};

const CLIENTS: usize = 32;

/// Resident bytes one recorded call may add: its CloudTrail record (about 1.5 KB of JSON for
/// these calls), the event's index entry, interned names and allocator slack. Measured on a
/// 2-core machine: 1.6 KB per event over a 60 s run (74,823 calls), 2.3 KB over a 60 s run on a
/// busy machine (12,509 calls), 4.1 KB over a 5 s run (3,074 calls; allocator warm-up weighs
/// more in a short run). The bound leaves room for allocator
/// variance, not for a per-request leak (a leaked connection, request body or task costs far
/// more than this).
const RSS_BYTES_PER_EVENT: u64 = 6 * 1024;
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
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_mixed_clients_lose_nothing_and_hold_memory_flat() {
    let duration = soak_duration();
    let sb = Sandbox::open(Config {
        state_dir: None,
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

    // The workshop's pipeline, so EventBridge matches and SNS delivers under load too.
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
    let topic_arn = clients
        .sns
        .create_topic()
        .name("soak-topic")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("TopicArn")
        .to_string();
    clients
        .events
        .put_rule()
        .name("soak-kms")
        .event_pattern(r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":["GenerateDataKey"]}}"#)
        .send()
        .await
        .expect("PutRule");
    clients
        .events
        .put_targets()
        .rule("soak-kms")
        .targets(
            Target::builder()
                .id("1")
                .arn(&topic_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("PutTargets");

    // Warm-up: connection pools, thread pools and allocator arenas reach their working size
    // before the "before" measurement.
    let warm = Tally::default();
    for i in 0..(8 * CLIENTS as u64) {
        one_call(&clients, i, &key_id, &topic_arn, &warm)
            .await
            .expect("warm-up call");
    }

    let events_before = sb.events.len(seed::ACCOUNT, seed::REGION);
    let rss_before = rss_bytes();
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
    let recorded = sb.events.len(seed::ACCOUNT, seed::REGION) - events_before;
    let rss_after = rss_bytes();
    let growth = rss_after.saturating_sub(rss_before);
    let bound = recorded as u64 * RSS_BYTES_PER_EVENT + RSS_SLACK_BYTES;
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
        "soak: RSS {:.1} MB -> {:.1} MB (+{:.1} MB, {:.0} B per recorded event); bound +{:.1} MB ({} B per event + {} MB)",
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
        growth as f64 / 1048576.0,
        growth as f64 / recorded.max(1) as f64,
        bound as f64 / 1048576.0,
        RSS_BYTES_PER_EVENT,
        RSS_SLACK_BYTES / 1048576
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
    assert!(
        growth <= bound,
        "resident memory grew by {growth} bytes over {recorded} events, more than the bound of {bound}"
    );
    running.shutdown().await;
}
