//! CloudTrail: LookupEvents by attribute, the record's fields, paging and time ranges.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_by_each_attribute() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let trail = env.trail();
    // The workshop's calls: the instance generates a data key, the learner encrypts and
    // creates an alias (a write).
    let as_instance = aws_sdk_kms::Client::new(&env.instance);
    workshop_gdk(&as_instance).send().await.unwrap();
    kms.encrypt()
        .key_id(FIRST_ALIAS)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/Lookup")
        .target_key_id(s.k2.as_str())
        .send()
        .await
        .unwrap();
    aws_sdk_sts::Client::new(&env.learner)
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    let gdk = lookup(
        &trail,
        attr(LookupAttributeKey::EventName, "GenerateDataKey"),
    )
    .await;
    assert_eq!(gdk.len(), 1);
    let ev = &gdk[0];
    assert_eq!(ev.event_name(), Some("GenerateDataKey"));
    assert_eq!(ev.username(), Some(seed::INSTANCE_ID));
    assert_eq!(ev.access_key_id(), Some(seed::INSTANCE_ACCESS_KEY));
    assert_eq!(ev.event_source(), Some("kms.amazonaws.com"));
    assert_eq!(ev.read_only(), Some("true"));
    let event_id = ev.event_id().unwrap().to_string();

    let by_user = lookup(
        &trail,
        attr(LookupAttributeKey::Username, seed::INSTANCE_ID),
    )
    .await;
    assert_eq!(by_user.len(), 1, "the instance made one call");
    assert_eq!(by_user[0].event_id(), Some(event_id.as_str()));
    let learner = lookup(
        &trail,
        attr(LookupAttributeKey::Username, seed::LEARNER_USER),
    )
    .await;
    assert!(learner.len() >= 4);
    assert!(learner
        .iter()
        .all(|e| e.username() == Some(seed::LEARNER_USER)));

    let by_id = lookup(&trail, attr(LookupAttributeKey::EventId, &event_id)).await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].event_name(), Some("GenerateDataKey"));

    let writes = lookup(&trail, attr(LookupAttributeKey::ReadOnly, "false")).await;
    assert!(writes.iter().all(|e| e.read_only() == Some("false")));
    assert!(writes.iter().any(|e| e.event_name() == Some("CreateAlias")));
    assert!(!writes.iter().any(|e| e.event_name() == Some("Encrypt")));
    let reads = lookup(&trail, attr(LookupAttributeKey::ReadOnly, "true")).await;
    assert!(reads.iter().all(|e| e.read_only() == Some("true")));
    assert!(reads.iter().any(|e| e.event_name() == Some("Encrypt")));
    assert!(reads
        .iter()
        .any(|e| e.event_name() == Some("GenerateDataKey")));

    let keys = lookup(
        &trail,
        attr(LookupAttributeKey::ResourceType, "AWS::KMS::Key"),
    )
    .await;
    assert!(keys.iter().all(|e| e
        .resources()
        .iter()
        .any(|r| r.resource_type() == Some("AWS::KMS::Key"))));
    assert!(keys.iter().any(|e| e.event_id() == Some(event_id.as_str())));
    assert!(!keys
        .iter()
        .any(|e| e.event_name() == Some("GetCallerIdentity")));

    let k3_arn = key_arn(s.k3.as_str());
    let k3 = lookup(&trail, attr(LookupAttributeKey::ResourceName, &k3_arn)).await;
    assert!(k3.iter().any(|e| e.event_id() == Some(event_id.as_str())));
    assert!(k3.iter().all(|e| e
        .resources()
        .iter()
        .any(|r| r.resource_name() == Some(k3_arn.as_str()))));
    assert!(
        !k3.iter().any(|e| e.event_name() == Some("Encrypt")),
        "the Encrypt call used K2"
    );

    let kms_events = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "kms.amazonaws.com"),
    )
    .await;
    assert!(kms_events
        .iter()
        .all(|e| e.event_source() == Some("kms.amazonaws.com")));
    assert!(kms_events.len() >= 3);
    let sts_events = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "sts.amazonaws.com"),
    )
    .await;
    assert_eq!(sts_events.len(), 1);
    assert_eq!(sts_events[0].event_name(), Some("GetCallerIdentity"));
    // LookupEvents itself is recorded too.
    let ct_events = lookup(
        &trail,
        attr(LookupAttributeKey::EventSource, "cloudtrail.amazonaws.com"),
    )
    .await;
    assert!(ct_events
        .iter()
        .all(|e| e.event_name() == Some("LookupEvents")));
    assert!(!ct_events.is_empty());

    let by_key = lookup(
        &trail,
        attr(LookupAttributeKey::AccessKeyId, seed::INSTANCE_ACCESS_KEY),
    )
    .await;
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0].event_id(), Some(event_id.as_str()));

    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "NoSuchEvent"))
            .await
            .is_empty()
    );

    // Errors.
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
                .lookup_attributes(attr(LookupAttributeKey::Username, seed::LEARNER_USER))
                .send()
                .await
        ),
        "InvalidLookupAttributesException"
    );
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .lookup_attributes(attr(LookupAttributeKey::from("Region"), "x"))
                .send()
                .await
        ),
        "InvalidLookupAttributesException"
    );
    let refused = [
        (51, "InvalidMaxResultsException"),
        (0, "InvalidMaxResultsException"),
    ];
    refused!(refused, |max_results| trail
        .lookup_events()
        .max_results(max_results)
        .send()
        .await);
    let now = env.sb.clock.now();
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .start_time(sdk_time(now))
                .end_time(sdk_time(now - time::Duration::hours(1)))
                .send()
                .await
        ),
        "InvalidTimeRangeException"
    );
    assert_eq!(
        code!(trail.lookup_events().next_token("garbage").send().await),
        "InvalidNextTokenException"
    );
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_record_fields() {
    let env = start().await;
    let kms = env.kms();
    let s = seeded(&kms).await;
    let trail = env.trail();
    let as_instance = aws_sdk_kms::Client::new(&env.instance);
    workshop_gdk(&as_instance)
        .encryption_context("Department", "IT")
        .send()
        .await
        .unwrap();
    let ev = lookup(
        &trail,
        attr(LookupAttributeKey::EventName, "GenerateDataKey"),
    )
    .await
    .remove(0);
    let k3_arn = key_arn(&s.k3);
    assert_eq!(ev.resources().len(), 1);
    assert_eq!(ev.resources()[0].resource_type(), Some("AWS::KMS::Key"));
    assert_eq!(ev.resources()[0].resource_name(), Some(k3_arn.as_str()));
    let t = ev.event_time().unwrap();
    assert!(secs_from_now(t).abs() < 600);

    let r: J = serde_json::from_str(ev.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(r["eventVersion"], "1.11");
    let ui = &r["userIdentity"];
    assert_eq!(ui["type"], "AssumedRole");
    assert_eq!(
        ui["arn"],
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            seed::ACCOUNT,
            seed::INSTANCE_ROLE,
            seed::INSTANCE_ID
        )
    );
    assert_eq!(ui["accountId"], seed::ACCOUNT);
    assert_eq!(ui["accessKeyId"], seed::INSTANCE_ACCESS_KEY);
    assert!(ui["principalId"]
        .as_str()
        .unwrap()
        .ends_with(seed::INSTANCE_ID));
    assert_eq!(ui["sessionContext"]["sessionIssuer"]["type"], "Role");
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["userName"],
        seed::INSTANCE_ROLE
    );
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["arn"],
        format!(
            "arn:aws:iam::{}:role/{}",
            seed::ACCOUNT,
            seed::INSTANCE_ROLE
        )
    );
    assert!(ui["sessionContext"]["attributes"]["creationDate"].is_string());
    let event_time = r["eventTime"].as_str().unwrap();
    assert!(
        event_time.ends_with('Z') && event_time.len() == 20,
        "{event_time}"
    );
    assert_eq!(r["eventSource"], "kms.amazonaws.com");
    assert_eq!(r["eventName"], "GenerateDataKey");
    assert_eq!(r["awsRegion"], seed::REGION);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(
        r["userAgent"].as_str().unwrap().contains("aws-sdk-rust"),
        "{}",
        r["userAgent"]
    );
    let rp = &r["requestParameters"];
    assert_eq!(
        rp["keyId"], IMPORTED_ALIAS,
        "the key id as the caller passed it"
    );
    assert_eq!(rp["keySpec"], "AES_256");
    // Encryption-context keys are logged as given (not camel-cased like member names).
    assert_eq!(
        rp["encryptionContext"],
        serde_json::json!({"project": "workshop", "Department": "IT"})
    );
    assert!(r["responseElements"].is_null());
    assert!(r["requestID"].is_string());
    assert_eq!(r["eventID"], ev.event_id().unwrap());
    assert_eq!(r["readOnly"], true);
    assert_eq!(
        r["resources"],
        serde_json::json!([{"accountId": seed::ACCOUNT, "type": "AWS::KMS::Key", "ARN": k3_arn}])
    );
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["recipientAccountId"], seed::ACCOUNT);
    assert_eq!(r["eventCategory"], "Management");
    let text = ev.cloud_trail_event().unwrap();
    assert!(
        !text.contains("plaintext") && !text.contains("ciphertextBlob"),
        "no key material logged: {text}"
    );

    // The learner's record, and a failed call's error code.
    let blob = kms
        .encrypt()
        .key_id(FIRST_ALIAS)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let _ = kms
        .decrypt()
        .ciphertext_blob(blob.ciphertext_blob.unwrap())
        .encryption_context("a", "b")
        .send()
        .await;
    let dec = lookup(&trail, attr(LookupAttributeKey::EventName, "Decrypt"))
        .await
        .remove(0);
    let r: J = serde_json::from_str(dec.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(r["userIdentity"]["type"], "IAMUser");
    assert_eq!(r["userIdentity"]["userName"], seed::LEARNER_USER);
    assert_eq!(
        r["userIdentity"]["arn"],
        format!("arn:aws:iam::{}:user/{}", seed::ACCOUNT, seed::LEARNER_USER)
    );
    assert_eq!(r["errorCode"], "InvalidCiphertextException");
    assert_eq!(dec.username(), Some(seed::LEARNER_USER));

    // A write logs its response elements.
    kms.schedule_key_deletion()
        .key_id(&s.k2)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let sched = lookup(
        &trail,
        attr(LookupAttributeKey::EventName, "ScheduleKeyDeletion"),
    )
    .await
    .remove(0);
    let r: J = serde_json::from_str(sched.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(r["readOnly"], false);
    assert_eq!(r["requestParameters"]["pendingWindowInDays"], 7);
    assert_eq!(r["responseElements"]["keyState"], "PendingDeletion");
    assert_eq!(sched.read_only(), Some("false"));
    env.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_paging_and_time_range() {
    let env = start().await;
    let kms = env.kms();
    let trail = env.trail();
    let encrypt = || {
        kms.encrypt()
            .key_id(FIRST_ALIAS)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
    };
    for _ in 0..5 {
        encrypt().await.unwrap();
    }
    // CloudTrail times events to the second: step into a new second before taking a bound, and
    // take bounds as whole seconds.
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(1100));
    let whole_second = |t: time::OffsetDateTime| t.replace_nanosecond(0).unwrap();
    pause().await;
    let t0 = whole_second(env.sb.clock.now());
    for _ in 0..23 {
        encrypt().await.unwrap();
    }
    let t1 = whole_second(env.sb.clock.now());
    pause().await;
    for _ in 0..4 {
        encrypt().await.unwrap();
    }

    let one_page = lookup_all(
        &trail,
        Some(attr(LookupAttributeKey::EventName, "Encrypt")),
        50,
    )
    .await;
    assert_eq!(one_page.len(), 32);
    for size in [1, 7, 16, 32] {
        let paged = lookup_all(
            &trail,
            Some(attr(LookupAttributeKey::EventName, "Encrypt")),
            size,
        )
        .await;
        let a: Vec<_> = paged.iter().map(|e| e.event_id().unwrap()).collect();
        let b: Vec<_> = one_page.iter().map(|e| e.event_id().unwrap()).collect();
        assert_eq!(a, b, "page size {size}");
    }
    // Without an attribute, everything (including the LookupEvents calls themselves).
    let everything = lookup_all(&trail, None, 50).await;
    assert!(everything.len() > 50);
    assert!(
        everything
            .iter()
            .filter(|e| e.event_name() == Some("Encrypt"))
            .count()
            == 32
    );

    // The SDK's paginator walks the same pages (from t0: the seed's history holds an older
    // Encrypt by the instance).
    let via_paginator: Vec<String> = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(aws_sdk_cloudtrail::primitives::DateTime::from_secs(
            t0.unix_timestamp() - 3600,
        ))
        .max_results(10)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|p| {
            p.unwrap()
                .events()
                .iter()
                .map(|e| e.event_id().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(via_paginator.len(), 32);

    // A token belongs to its query.
    let first = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .max_results(5)
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    assert_eq!(
        code!(
            trail
                .lookup_events()
                .lookup_attributes(attr(LookupAttributeKey::Username, seed::LEARNER_USER))
                .max_results(5)
                .next_token(&token)
                .send()
                .await
        ),
        "InvalidNextTokenException"
    );

    // Time range: both ends inclusive.
    let ranged = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(sdk_time(t0))
        .end_time(sdk_time(t1))
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.events().len(), 23);
    let middle = &ranged.events()[10];
    let at = *middle.event_time().unwrap();
    let exact = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(at)
        .end_time(at)
        .send()
        .await
        .unwrap();
    assert!(
        exact
            .events()
            .iter()
            .any(|e| e.event_id() == middle.event_id()),
        "StartTime = EndTime = an event's time includes that event"
    );
    let until_t0 = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(sdk_time(t0 - time::Duration::hours(1)))
        .end_time(sdk_time(t0 - time::Duration::milliseconds(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(until_t0.events().len(), 5);
    let since_t1 = trail
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
        .start_time(sdk_time(t1 + time::Duration::milliseconds(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(since_t1.events().len(), 4);
    // Paging within a time range.
    let mut token = None;
    let mut n = 0;
    loop {
        let p = trail
            .lookup_events()
            .lookup_attributes(attr(LookupAttributeKey::EventName, "Encrypt"))
            .start_time(sdk_time(t0))
            .end_time(sdk_time(t1))
            .max_results(4)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        n += p.events().len();
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(n, 23);
    // Events older than 90 days are out of reach.
    env.sb.advance_clock(time::Duration::days(91)).unwrap();
    assert!(
        lookup(&trail, attr(LookupAttributeKey::EventName, "Encrypt"))
            .await
            .is_empty()
    );
    env.running.shutdown().await;
}
