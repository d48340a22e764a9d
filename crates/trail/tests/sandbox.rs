//! The trail crate against the sandbox through the real SDK: lookups by each of the eight
//! attributes, paging, the typed record, and waiting for a call's event.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use kms_workshop_testkit as common;

use std::collections::HashMap;
use std::time::Duration;

use kms_workshop_pace::Limits;
use kms_workshop_sandbox::{seed, Config};
use kms_workshop_trail::{
    lookup, lookup_pace, lookup_paced, wait_for_event, Attribute, LookupQuery, Pace, TrailError,
    WaitFor, WaitProgress,
};

/// The workshop seed, events visible after `delay`, and CloudTrail's 2 lookups a second
/// enforced (`rate_limited`); with a CloudTrail client for it.
async fn sandbox(
    delay: time::Duration,
    rate_limited: bool,
) -> (common::Env, aws_sdk_cloudtrail::Client) {
    let env = common::start(Config {
        cloudtrail_delay: delay,
        lookup_rate_limit: rate_limited,
        ..Config::default()
    })
    .await;
    let ct = aws_sdk_cloudtrail::Client::new(&env.cfg);
    (env, ct)
}

/// Make a GenerateDataKey call on K3 with the workshop's context; its request id.
async fn generate(env: &common::Env) -> String {
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let out = kms
        .generate_data_key()
        .key_id("alias/ImportedCMK")
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .encryption_context("project", "workshop")
        .send()
        .await
        .expect("GenerateDataKey");
    use aws_sdk_kms::operation::RequestId;
    out.request_id().expect("request id").to_string()
}

async fn k3_arn(env: &common::Env) -> String {
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let d = kms
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .expect("DescribeKey");
    d.key_metadata()
        .and_then(|m| m.arn())
        .expect("arn")
        .to_string()
}

#[tokio::test]
async fn lookups_by_each_attribute_find_the_call() {
    let (env, ct) = sandbox(time::Duration::ZERO, false).await;
    let start = env.sb.clock.now() - time::Duration::seconds(2);
    let request_id = generate(&env).await;
    let arn = k3_arn(&env).await;

    let by_name = lookup(
        &ct,
        LookupQuery::by(Attribute::EventName, "GenerateDataKey").since(start),
    )
    .await
    .expect("by EventName");
    assert!(by_name
        .iter()
        .all(|e| e.event_name.as_deref() == Some("GenerateDataKey")));
    let ours = by_name
        .iter()
        .find(|e| e.request_id() == Some(request_id.as_str()))
        .expect("our GenerateDataKey")
        .clone();
    let event_id = ours.event_id.clone().expect("event id");
    let record = ours.record.clone().expect("parsed record");
    assert_eq!(record.event_source.as_deref(), Some("kms.amazonaws.com"));
    assert_eq!(record.key_spec(), Some("AES_256"));
    assert_eq!(record.key_id_parameter(), Some("alias/ImportedCMK"));
    let ctx = record.encryption_context().expect("encryption context");
    assert_eq!(ctx.get("project").map(String::as_str), Some("workshop"));
    assert_eq!(record.resource_arns("AWS::KMS::Key"), vec![arn.as_str()]);
    assert_eq!(record.read_only, Some(true));
    assert_eq!(record.user_identity.kind.as_deref(), Some("IAMUser"));
    assert_eq!(
        record.user_identity.display_name().as_deref(),
        Some(seed::LEARNER_USER)
    );
    assert_eq!(
        record.user_identity.access_key_id.as_deref(),
        Some(seed::LEARNER_ACCESS_KEY)
    );
    assert!(record.source_ip_address.is_some());
    assert!(record.user_agent.as_deref().is_some_and(|u| !u.is_empty()));
    assert!(record.event_time.is_some());
    assert_eq!(record.event_id.as_deref(), Some(event_id.as_str()));
    assert_eq!(ours.username.as_deref(), Some(seed::LEARNER_USER));

    let cases = [
        (Attribute::EventId, event_id.clone()),
        (Attribute::EventName, "GenerateDataKey".to_string()),
        (Attribute::ReadOnly, "true".to_string()),
        (Attribute::Username, seed::LEARNER_USER.to_string()),
        (Attribute::ResourceType, "AWS::KMS::Key".to_string()),
        (Attribute::ResourceName, arn.clone()),
        (Attribute::EventSource, "kms.amazonaws.com".to_string()),
        (Attribute::AccessKeyId, seed::LEARNER_ACCESS_KEY.to_string()),
    ];
    let pace = lookup_pace();
    for (attribute, value) in cases {
        let q = LookupQuery::by(attribute, value.clone()).since(start);
        let found = lookup_paced(&ct, q, &pace)
            .await
            .unwrap_or_else(|e| panic!("lookup by {attribute}: {e}"));
        assert!(
            found
                .iter()
                .any(|e| e.event_id.as_deref() == Some(event_id.as_str())),
            "{attribute}={value} misses the call: {found:#?}"
        );
        for e in &found {
            let holds = match attribute {
                Attribute::EventId => e.event_id.as_deref() == Some(value.as_str()),
                Attribute::EventName => e.event_name.as_deref() == Some(value.as_str()),
                Attribute::ReadOnly => e.read_only == Some(true),
                Attribute::Username => e.username.as_deref() == Some(value.as_str()),
                Attribute::ResourceType => e.resources.iter().any(|(t, _)| *t == value),
                Attribute::ResourceName => e.resources.iter().any(|(_, n)| *n == value),
                Attribute::EventSource => e.event_source.as_deref() == Some(value.as_str()),
                Attribute::AccessKeyId => e.access_key_id.as_deref() == Some(value.as_str()),
            };
            assert!(holds, "{attribute}={value} returned {e:#?}");
        }
        if attribute == Attribute::EventId {
            assert_eq!(found.len(), 1);
        }
    }

    // A filter that matches nothing of ours.
    let none = lookup(
        &ct,
        LookupQuery::by(Attribute::EventName, "ScheduleKeyDeletion").since(start),
    )
    .await
    .expect("empty lookup");
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test]
async fn paging_over_more_than_fifty_events() {
    let (env, ct) = sandbox(time::Duration::ZERO, true).await;
    let start = env.sb.clock.now() - time::Duration::seconds(2);
    let mut ids = Vec::new();
    for _ in 0..63 {
        ids.push(generate(&env).await);
    }
    let q = LookupQuery::by(Attribute::EventName, "GenerateDataKey").since(start);
    let all = lookup(&ct, q.clone()).await.expect("all pages");
    assert_eq!(all.len(), 63, "two pages of 50 and 13");
    let mut seen: Vec<_> = all.iter().filter_map(|e| e.request_id()).collect();
    seen.sort_unstable();
    let mut expected: Vec<_> = ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(seen, expected);
    // Newest first.
    assert!(all.windows(2).all(|w| w[0].event_time >= w[1].event_time));

    let some = lookup(&ct, q.clone().limit(55)).await.expect("55");
    assert_eq!(some.len(), 55);
    assert_eq!(some[..], all[..55]);

    let inverted = LookupQuery {
        start: Some(start),
        end: Some(start - time::Duration::minutes(1)),
        ..LookupQuery::default()
    };
    assert!(matches!(
        lookup(&ct, inverted).await,
        Err(TrailError::InvalidInput {
            field: "StartTime",
            ..
        })
    ));
}

#[tokio::test]
async fn paced_requests_never_trip_the_two_per_second_limit() {
    let (_env, ct) = sandbox(time::Duration::ZERO, true).await;
    let pace = lookup_pace();
    // Raw requests (no retry anywhere): each must be admitted.
    for i in 0..8 {
        pace.ready("LookupEvents").await;
        let r = ct.lookup_events().max_results(1).send().await;
        assert!(r.is_ok(), "request {i} refused: {r:?}");
    }
    // Without pacing the sandbox does throttle, so the check above can fail.
    let mut throttled = false;
    for _ in 0..4 {
        if let Err(e) = ct.lookup_events().max_results(1).send().await {
            let f = kms_workshop_aws_errors::AwsFailure::from_sdk("LookupEvents", e);
            assert_eq!(f.code, "ThrottlingException");
            throttled = true;
        }
    }
    assert!(throttled);
}

#[tokio::test]
async fn wait_finds_the_call_by_request_id() {
    let (env, ct) = sandbox(time::Duration::ZERO, false).await;
    let start = env.sb.clock.now();
    // Other GenerateDataKey calls around ours.
    generate(&env).await;
    let request_id = generate(&env).await;
    generate(&env).await;
    let mut reports = Vec::new();
    let found = wait_for_event(
        &ct,
        WaitFor::new(request_id.clone(), "GenerateDataKey", start)
            .deadline(Duration::from_secs(30)),
        |p| reports.push(p),
    )
    .await
    .expect("found");
    assert_eq!(found.event.request_id(), Some(request_id.as_str()));
    assert_eq!(found.attempts, 1);
    assert!(reports.is_empty());
}

#[tokio::test]
async fn wait_times_out_when_delivery_is_late() {
    let (env, ct) = sandbox(time::Duration::hours(1), true).await;
    let start = env.sb.clock.now();
    let request_id = generate(&env).await;
    let mut reports: Vec<WaitProgress> = Vec::new();
    let wait = WaitFor::new(request_id.clone(), "GenerateDataKey", start)
        .deadline(Duration::from_secs(3))
        .intervals(Duration::from_millis(100), Duration::from_millis(800));
    let err = wait_for_event(&ct, wait, |p| reports.push(p))
        .await
        .expect_err("the event is an hour away");
    let TrailError::Timeout {
        attempts,
        wanted,
        event_name,
        ..
    } = &err
    else {
        panic!("expected a timeout, got {err:?}");
    };
    assert!(err.is_not_there_yet());
    assert_eq!(wanted, &format!("request id {request_id}"));
    assert_eq!(event_name, "GenerateDataKey");
    assert!(*attempts >= 2, "{attempts}");
    assert_eq!(reports.len() as u32, *attempts);
    let numbers: Vec<u32> = reports.iter().map(|r| r.attempt).collect();
    assert_eq!(numbers, (1..=*attempts).collect::<Vec<_>>());
    assert!(reports.iter().all(|r| !r.throttled), "{reports:#?}");
    assert!(reports[..reports.len() - 1]
        .iter()
        .all(|r| r.next_poll.is_some()));
    assert_eq!(reports.last().and_then(|r| r.next_poll), None);
    // Pauses grow (until capped by the maximum or the deadline).
    let pauses: Vec<Duration> = reports.iter().filter_map(|r| r.next_poll).collect();
    assert!(pauses.len() >= 2 && pauses[1] > pauses[0], "{pauses:?}");
}

#[tokio::test]
async fn throttling_slows_the_wait_down_instead_of_failing_it() {
    let (env, ct) = sandbox(time::Duration::seconds(3), true).await;
    let start = env.sb.clock.now();
    let request_id = generate(&env).await;
    let mut reports = Vec::new();
    // No pacing and no pause: the sandbox's limit is bound to answer ThrottlingException.
    let wait = WaitFor::new(request_id.clone(), "GenerateDataKey", start)
        .deadline(Duration::from_secs(60))
        .intervals(Duration::ZERO, Duration::from_secs(2))
        .pacer(Pace::with_limits(Limits {
            spacing: Duration::ZERO,
            ..Limits::default()
        }));
    let found = wait_for_event(&ct, wait, |p| reports.push(p))
        .await
        .expect("found despite throttling");
    assert_eq!(found.event.request_id(), Some(request_id.as_str()));
    assert!(reports.iter().any(|r| r.throttled), "{reports:#?}");
    let after: HashMap<u32, Option<Duration>> = reports
        .iter()
        .filter(|r| r.throttled)
        .map(|r| (r.attempt, r.next_poll))
        .collect();
    assert!(after
        .values()
        .all(|p| p.is_some_and(|p| p >= Duration::from_secs(1))));
}
