//! CloudTrail: the rate limit, delivery delay and trails.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_is_rate_limited_to_two_per_second() {
    let env = start_with(Config {
        lookup_rate_limit: true,
        ..config()
    })
    .await;
    let trail = env.trail();
    // Three requests sent back to back: the third exceeds 2 per second. (If the machine is so
    // slow that the three took a second or more, the window moved on; try again.)
    let mut throttled = None;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let a = trail.lookup_events().max_results(1).send().await;
        let b = trail.lookup_events().max_results(1).send().await;
        let c = trail.lookup_events().max_results(1).send().await;
        if started.elapsed() < std::time::Duration::from_millis(900) {
            throttled = Some((a.is_ok(), b.is_ok(), c));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let (a_ok, b_ok, c) = throttled.expect("three requests within a second");
    assert!(a_ok && b_ok, "the first two are admitted");
    assert_eq!(code!(c), "ThrottlingException");
    // Other services are not limited.
    for _ in 0..5 {
        env.kms().list_keys().send().await.unwrap();
    }
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_delivery_delay_follows_the_sandbox_clock() {
    let env = start_with(Config {
        cloudtrail_delay: time::Duration::minutes(5),
        ..config()
    })
    .await;
    let kms = env.kms();
    let trail = env.trail();
    kms.encrypt()
        .key_id(FIRST_ALIAS)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt"))
            .await
            .is_empty()
    );
    env.sb.advance_clock(time::Duration::minutes(4)).unwrap();
    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt"))
            .await
            .is_empty()
    );
    env.sb.advance_clock(time::Duration::minutes(2)).unwrap();
    let found = lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt")).await;
    assert_eq!(found.len(), 1);
    // The event keeps the time of the call, not of its delivery.
    let age = -secs_from_now(found[0].event_time().unwrap());
    assert!(
        age < 120,
        "event time is when the call was made ({age} s ago in real time)"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trails_lifecycle() {
    let env = start().await;
    let trail = env.trail();
    let bucket = kms_workshop_names::bucket(seed::ACCOUNT);
    let created = trail
        .create_trail()
        .name("workshop-trail")
        .s3_bucket_name(&bucket)
        .send()
        .await
        .unwrap();
    let arn = format!(
        "arn:aws:cloudtrail:{}:{}:trail/workshop-trail",
        seed::REGION,
        seed::ACCOUNT
    );
    assert_eq!(created.name(), Some("workshop-trail"));
    assert_eq!(created.trail_arn(), Some(arn.as_str()));
    assert_eq!(created.s3_bucket_name(), Some(bucket.as_str()));
    let refused = [
        ("workshop-trail", "TrailAlreadyExistsException"),
        ("-bad", "InvalidTrailNameException"),
    ];
    refused!(refused, |name| trail
        .create_trail()
        .name(name)
        .s3_bucket_name(&bucket)
        .send()
        .await);

    let st = trail
        .get_trail_status()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(st.is_logging(), Some(false));
    trail
        .start_logging()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    let st = trail.get_trail_status().name(&arn).send().await.unwrap();
    assert_eq!(st.is_logging(), Some(true));
    assert!(st.start_logging_time().is_some());

    let all = trail.describe_trails().send().await.unwrap();
    assert_eq!(all.trail_list().len(), 1);
    let t = &all.trail_list()[0];
    assert_eq!(t.name(), Some("workshop-trail"));
    assert_eq!(t.trail_arn(), Some(arn.as_str()));
    assert_eq!(t.home_region(), Some(seed::REGION));
    assert_eq!(t.s3_bucket_name(), Some(bucket.as_str()));
    let named = trail
        .describe_trails()
        .trail_name_list("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(named.trail_list().len(), 1);
    let none = trail
        .describe_trails()
        .trail_name_list("other")
        .send()
        .await
        .unwrap();
    assert!(none.trail_list().is_empty());
    let got = trail
        .get_trail()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(got.trail().unwrap().trail_arn(), Some(arn.as_str()));

    trail
        .stop_logging()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    let st = trail
        .get_trail_status()
        .name("workshop-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(st.is_logging(), Some(false));
    assert!(st.stop_logging_time().is_some());

    trail.delete_trail().name(&arn).send().await.unwrap();
    assert_eq!(
        code!(trail.get_trail_status().name("workshop-trail").send().await),
        "TrailNotFoundException"
    );
    assert_eq!(
        code!(trail.delete_trail().name("workshop-trail").send().await),
        "TrailNotFoundException"
    );
    assert_eq!(
        code!(trail.start_logging().name("workshop-trail").send().await),
        "TrailNotFoundException"
    );
    assert_eq!(
        code!(trail.stop_logging().name("missing-trail").send().await),
        "TrailNotFoundException"
    );
    assert!(trail
        .describe_trails()
        .send()
        .await
        .unwrap()
        .trail_list()
        .is_empty());
    // The trail calls are in the event history.
    let ct = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "cloudtrail.amazonaws.com"),
    )
    .await;
    for op in ["CreateTrail", "StartLogging", "StopLogging", "DeleteTrail"] {
        assert!(
            ct.iter().any(|e| e.event_name() == Some(op)),
            "{op} recorded"
        );
    }
    let ct = lookup(
        &trail,
        attr(LookupAttributeKey::ResourceType, "AWS::CloudTrail::Trail"),
    )
    .await;
    assert!(ct.iter().any(|e| e.event_name() == Some("StartLogging")));
    env.running.shutdown().await;
}
