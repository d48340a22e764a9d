//! CloudTrail: event history

use super::*;

#[test]
fn lookup_events_by_each_of_the_eight_attributes() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let k3_arn = str_of(&describe_key(ep, IMPORTED_ALIAS)["Arn"], "Arn").to_string();
    let k2_arn = str_of(&describe_key(ep, FIRST_ALIAS)["Arn"], "Arn").to_string();
    run_json(aws(ep).args(WORKSHOP_GDK));

    let by_name = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(by_name.len(), 1, "{by_name:?}");
    let e = &by_name[0];
    let id = str_of(&e["EventId"], "EventId").to_string();
    assert_eq!(e["EventName"], "GenerateDataKey");
    assert_eq!(e["EventSource"], "kms.amazonaws.com");
    assert_eq!(e["ReadOnly"], "true", "ReadOnly is a string");
    assert_eq!(e["Username"], LEARNER_USER);
    assert_eq!(e["AccessKeyId"], LEARNER_ACCESS_KEY);
    assert_eq!(
        e["Resources"],
        json!([{ "ResourceType": "AWS::KMS::Key", "ResourceName": k3_arn }])
    );
    assert!(!e["EventTime"].is_null());

    let by_id = lookup(ep, "EventId", &id);
    assert_eq!(
        ids(&by_id),
        vec![id.clone()],
        "EventId finds exactly that event"
    );

    let matching = [
        ("ReadOnly", "true"),
        ("Username", LEARNER_USER),
        ("ResourceType", "AWS::KMS::Key"),
        ("ResourceName", k3_arn.as_str()),
        ("EventSource", "kms.amazonaws.com"),
        ("AccessKeyId", LEARNER_ACCESS_KEY),
    ];
    for (key, value) in matching {
        let found = lookup(ep, key, value);
        assert!(
            ids(&found).contains(&id),
            "{key}={value} should find the GenerateDataKey event"
        );
        for f in &found {
            match key {
                "ReadOnly" => assert_eq!(f["ReadOnly"], "true"),
                "Username" => assert_eq!(f["Username"], value),
                "EventSource" => assert_eq!(f["EventSource"], value),
                "AccessKeyId" => assert_eq!(f["AccessKeyId"], value),
                "ResourceType" | "ResourceName" => {
                    let field = if key == "ResourceType" {
                        "ResourceType"
                    } else {
                        "ResourceName"
                    };
                    assert!(
                        f["Resources"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|r| r[field] == value),
                        "{f}"
                    );
                }
                _ => unreachable!(),
            }
        }
    }

    let not_matching = [
        ("EventName", "Decrypt"),
        ("ReadOnly", "false"),
        ("Username", INSTANCE_ID),
        ("ResourceType", "AWS::CloudTrail::Trail"),
        ("ResourceName", k2_arn.as_str()),
        ("EventSource", "cloudtrail.amazonaws.com"),
        ("AccessKeyId", INSTANCE_ACCESS_KEY),
        ("EventId", "00000000-0000-0000-0000-000000000000"),
    ];
    for (key, value) in not_matching {
        assert!(
            !ids(&lookup(ep, key, value)).contains(&id),
            "{key}={value} must not find the GenerateDataKey event"
        );
    }
    // Attribute values match exactly (case-sensitive).
    assert!(lookup(ep, "EventName", "generatedatakey").is_empty());
    // No attribute: every event, including the lookups themselves.
    let all = run_json(aws(ep).args(["cloudtrail", "lookup-events"]));
    let all = all["Events"].as_array().unwrap();
    assert!(ids(all).contains(&id));
    assert!(all.iter().any(|e| e["EventName"] == "LookupEvents"));
}

#[test]
fn lookup_events_shows_the_instance_role_as_the_instance_id() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let instance = || aws_instance(ep);
    run_json(instance().args(WORKSHOP_GDK));
    run_json(aws(ep).args(WORKSHOP_GDK));

    let by_user = lookup(ep, "Username", INSTANCE_ID);
    let gdk: Vec<&Value> = by_user
        .iter()
        .filter(|e| e["EventName"] == "GenerateDataKey")
        .collect();
    assert_eq!(gdk.len(), 1, "{by_user:?}");
    let e = gdk[0];
    assert_eq!(e["Username"], INSTANCE_ID);
    assert_eq!(e["AccessKeyId"], INSTANCE_ACCESS_KEY);
    let r = record(e);
    let ui = &r["userIdentity"];
    assert_eq!(ui["type"], "AssumedRole");
    assert_eq!(ui["accessKeyId"], INSTANCE_ACCESS_KEY);
    assert_eq!(ui["accountId"], ACCOUNT);
    assert_eq!(
        ui["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/{INSTANCE_ID}")
    );
    assert!(str_of(&ui["principalId"], "principalId").ends_with(&format!(":{INSTANCE_ID}")));
    assert_eq!(ui["sessionContext"]["sessionIssuer"]["type"], "Role");
    assert_eq!(ui["sessionContext"]["sessionIssuer"]["userName"], ROLE);
    assert_eq!(
        ui["sessionContext"]["sessionIssuer"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}")
    );
    assert!(
        ui.get("userName").is_none(),
        "a role session has sessionContext, not userName: {ui}"
    );

    // Filtering by the learner or the learner's key does not show the instance's call.
    let id = str_of(&e["EventId"], "EventId").to_string();
    assert!(!ids(&lookup(ep, "Username", LEARNER_USER)).contains(&id));
    assert!(ids(&lookup(ep, "AccessKeyId", INSTANCE_ACCESS_KEY)).contains(&id));
    assert_eq!(lookup(ep, "EventName", "GenerateDataKey").len(), 2);
}

#[test]
fn lookup_events_validation_errors() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    run_json(aws(ep).args(WORKSHOP_GDK));
    run_json(aws(ep).args(WORKSHOP_GDK));

    let two = json!([
        { "AttributeKey": "EventName", "AttributeValue": "GenerateDataKey" },
        { "AttributeKey": "Username", "AttributeValue": LEARNER_USER },
    ])
    .to_string();
    expect_error(
        aws(ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &two]),
        "InvalidLookupAttributesException",
    );
    let bogus = json!([{ "AttributeKey": "UserName", "AttributeValue": LEARNER_USER }]).to_string();
    expect_error(
        aws(ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &bogus]),
        "InvalidLookupAttributesException",
    );

    let now = sandbox_now(ep);
    let (earlier, later) = (
        iso(now - time::Duration::hours(2)),
        iso(now - time::Duration::hours(1)),
    );
    expect_error(
        aws(ep).args([
            "cloudtrail",
            "lookup-events",
            "--start-time",
            &later,
            "--end-time",
            &earlier,
        ]),
        "InvalidTimeRangeException",
    );
    // Start equal to end is a valid (inclusive) range.
    run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--start-time",
        &later,
        "--end-time",
        &later,
    ]));
    // A range around now finds the calls; one that ended before them does not.
    let around = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--start-time",
        &iso(now - time::Duration::minutes(10)),
        "--end-time",
        &iso(now + time::Duration::minutes(10)),
    ]));
    assert_eq!(around["Events"].as_array().unwrap().len(), 2);
    let before = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--end-time",
        &earlier,
    ]));
    assert!(before["Events"].as_array().unwrap().is_empty());

    expect_error(
        aws(ep).args(common::words(
            "cloudtrail lookup-events --max-results 51 --no-paginate",
        )),
        "InvalidMaxResultsException",
    );
    let fifty = run_json(aws(ep).args(common::words(
        "cloudtrail lookup-events --max-results 50 --no-paginate",
    )));
    assert!(!fifty["Events"].as_array().unwrap().is_empty());

    // A NextToken belongs to the query that issued it.
    let page = run_json(aws(ep).args(common::words("cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GenerateDataKey --max-results 1 --no-paginate")));
    let token = str_of(&page["NextToken"], "NextToken").to_string();
    let refused: [(&[&str], &str); 3] = [
        (
            &[
                "cloudtrail",
                "lookup-events",
                "--lookup-attributes",
                "AttributeKey=EventName,AttributeValue=Decrypt",
                "--max-results",
                "1",
                "--next-token",
                &token,
                "--no-paginate",
            ],
            "InvalidNextTokenException",
        ),
        (
            &[
                "cloudtrail",
                "lookup-events",
                "--next-token",
                &token,
                "--no-paginate",
            ],
            "InvalidNextTokenException",
        ),
        (
            &common::words("cloudtrail lookup-events --next-token bm90LWEtdG9rZW4= --no-paginate"),
            "InvalidNextTokenException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
    // With the same query it continues.
    let next = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--max-results",
        "1",
        "--next-token",
        &token,
        "--no-paginate",
    ]));
    assert_eq!(next["Events"].as_array().unwrap().len(), 1);
    assert_ne!(next["Events"][0]["EventId"], page["Events"][0]["EventId"]);
}

#[test]
fn lookup_events_pages_newest_first_without_duplicates() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    const CALLS: usize = 7;
    for _ in 0..CALLS {
        run_json(aws(ep).args(WORKSHOP_GDK));
    }
    let attr = "AttributeKey=EventName,AttributeValue=GenerateDataKey";

    let one_page = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--max-results",
        "50",
        "--no-paginate",
    ]));
    assert!(
        one_page.get("NextToken").is_none_or(Value::is_null),
        "everything fits one page: {one_page}"
    );
    let reference = one_page["Events"].as_array().unwrap().clone();
    assert_eq!(reference.len(), CALLS);

    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut cmd = aws(ep);
        cmd.args([
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            attr,
            "--max-results",
            "3",
            "--no-paginate",
        ]);
        if let Some(t) = &token {
            cmd.args(["--next-token", t]);
        }
        let page = run_json(&mut cmd);
        let events = page["Events"].as_array().unwrap();
        assert!(events.len() <= 3);
        paged.extend(events.iter().cloned());
        pages += 1;
        assert!(pages <= CALLS, "paging does not end");
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "7 events in pages of 3");
    let paged_ids = ids(&paged);
    let mut unique = paged_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        CALLS,
        "no duplicates across pages: {paged_ids:?}"
    );
    assert_eq!(
        paged_ids,
        ids(&reference),
        "pages concatenate to the single-page answer"
    );
    let times: Vec<OffsetDateTime> = paged.iter().map(|e| timestamp(&e["EventTime"])).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    // The CLI's own pagination (page size 2) sees the same events in the same order.
    let auto = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--page-size",
        "2",
    ]));
    assert_eq!(ids(auto["Events"].as_array().unwrap()), paged_ids);
    // --max-items stops early and hands back a token that resumes where it stopped.
    let first = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--page-size",
        "2",
        "--max-items",
        "3",
    ]));
    let first_ids = ids(first["Events"].as_array().unwrap());
    assert_eq!(first_ids, paged_ids[..3].to_vec());
    let resume = str_of(&first["NextToken"], "NextToken").to_string();
    let rest = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--page-size",
        "2",
        "--starting-token",
        &resume,
    ]));
    assert_eq!(
        ids(rest["Events"].as_array().unwrap()),
        paged_ids[3..].to_vec()
    );

    // Events that arrive while a client is paging do not shift the pages it has yet to read.
    let page1 = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--max-results",
        "4",
        "--no-paginate",
    ]));
    let token = str_of(&page1["NextToken"], "NextToken").to_string();
    run_json(aws(ep).args(WORKSHOP_GDK));
    run_json(aws(ep).args(WORKSHOP_GDK));
    let page2 = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        attr,
        "--max-results",
        "4",
        "--next-token",
        &token,
        "--no-paginate",
    ]));
    let mut seen = ids(page1["Events"].as_array().unwrap());
    seen.extend(ids(page2["Events"].as_array().unwrap()));
    assert_eq!(
        seen, paged_ids,
        "the pages read during new activity are the old listing"
    );
    assert!(page2.get("NextToken").is_none_or(Value::is_null));
    let now_all = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(now_all.len(), CALLS + 2);
    assert_eq!(
        ids(&now_all)[2..].to_vec(),
        paged_ids,
        "the new events come first"
    );
}

/// CloudTrail times events to the second (`eventTime` "…:43Z", LookupEvents `EventTime`
/// 1795890043.0) and StartTime/EndTime are inclusive, so a range of exactly an event's second
/// finds it; the aws CLI sends whole seconds.
#[test]
fn lookup_events_time_range_is_inclusive_at_second_resolution() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    run_json(aws(ep).args(WORKSHOP_GDK));
    let events = lookup(ep, "EventName", "GenerateDataKey");
    let e = &events[0];
    let t = timestamp(&e["EventTime"]);
    let recorded =
        OffsetDateTime::parse(str_of(&record(e)["eventTime"], "eventTime"), &Rfc3339).unwrap();
    assert_eq!(
        t, recorded,
        "EventTime is the record's eventTime, whole seconds"
    );
    let second = t.unix_timestamp().to_string();
    let found = run_json(aws(ep).args([
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=GenerateDataKey",
        "--start-time",
        &second,
        "--end-time",
        &second,
    ]));
    assert_eq!(ids(found["Events"].as_array().unwrap()), ids(&events));
}

#[test]
fn cloudtrail_delay_hides_events_until_the_sandbox_clock_passes_it() {
    let sb = SandboxProc::start(&["--empty-history", "--cloudtrail-delay", "5m"]);
    let ep = &sb.endpoint;
    run_json(aws(ep).args(WORKSHOP_GDK));
    assert!(
        lookup(ep, "EventName", "GenerateDataKey").is_empty(),
        "not delivered yet"
    );
    advance_clock(ep, "4m");
    assert!(lookup(ep, "EventName", "GenerateDataKey").is_empty());
    advance_clock(ep, "61s");
    let events = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(events.len(), 1, "delivered once the delay has passed");
    // The event keeps the time of the call, not the time it became visible.
    let at = timestamp(&events[0]["EventTime"]);
    assert!(
        sandbox_now(ep) - at >= time::Duration::minutes(5),
        "EventTime {at} is the time of the call"
    );
}

#[test]
fn cloudtrail_record_has_the_documented_fields() {
    let sb = SandboxProc::start(&["--empty-history"]);
    let ep = &sb.endpoint;
    let k3_arn = str_of(&describe_key(ep, IMPORTED_ALIAS)["Arn"], "Arn").to_string();
    run_json(aws(ep).args(WORKSHOP_GDK));
    let events = lookup(ep, "EventName", "GenerateDataKey");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    let r = record(e);

    assert_eq!(r["eventVersion"], "1.11");
    let ui = &r["userIdentity"];
    assert_eq!(ui["type"], "IAMUser");
    assert_eq!(ui["userName"], LEARNER_USER);
    assert_eq!(ui["accessKeyId"], LEARNER_ACCESS_KEY);
    assert_eq!(ui["accountId"], ACCOUNT);
    assert_eq!(
        ui["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/{LEARNER_USER}")
    );
    assert!(ui["principalId"].is_string());
    let event_time = OffsetDateTime::parse(str_of(&r["eventTime"], "eventTime"), &Rfc3339).unwrap();
    assert_eq!(
        event_time.unix_timestamp(),
        timestamp(&e["EventTime"]).unix_timestamp()
    );
    assert_eq!(r["eventSource"], "kms.amazonaws.com");
    assert_eq!(r["eventName"], "GenerateDataKey");
    assert_eq!(r["awsRegion"], REGION);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(
        str_of(&r["userAgent"], "userAgent").contains("aws-cli/"),
        "{}",
        r["userAgent"]
    );

    let rp = &r["requestParameters"];
    assert_eq!(rp["keyId"], IMPORTED_ALIAS, "keyId as the caller passed it");
    assert_eq!(rp["keySpec"], "AES_256");
    assert_eq!(rp["encryptionContext"], json!({ "project": "workshop" }));
    assert!(
        r.get("responseElements").is_some_and(Value::is_null),
        "responseElements is present and null: {r}"
    );
    assert!(r["requestID"].is_string());
    assert_eq!(r["eventID"], e["EventId"]);
    assert_eq!(r["readOnly"], true);
    assert_eq!(
        r["resources"],
        json!([{ "accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": k3_arn }])
    );
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["recipientAccountId"], ACCOUNT);
    assert_eq!(r["eventCategory"], "Management");
    assert!(
        r.get("errorCode").is_none(),
        "a successful call has no errorCode: {r}"
    );
    let text = str_of(&e["CloudTrailEvent"], "CloudTrailEvent");
    for secret in ["Plaintext", "plaintext", "CiphertextBlob", "ciphertextBlob"] {
        assert!(
            !text.contains(secret),
            "the record never carries {secret}: {text}"
        );
    }

    // Failed calls are recorded too, with their error code.
    let dir = tempfile::tempdir().unwrap();
    let v = run_json(aws(ep).args(WORKSHOP_GDK));
    let blob = write(dir.path(), "k.enc", &b64d(&v["CiphertextBlob"]));
    expect_error(
        aws(ep).args([
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &fileb(&blob),
            "--encryption-context",
            "project=other",
        ]),
        "InvalidCiphertextException",
    );
    let failed = lookup(ep, "EventName", "Decrypt");
    assert_eq!(failed.len(), 1);
    let fr = record(&failed[0]);
    assert_eq!(fr["errorCode"], "InvalidCiphertextException");
    assert!(fr.get("errorMessage").is_some(), "{fr}");
    assert_eq!(fr["readOnly"], true);
    assert_eq!(
        fr["requestParameters"]["encryptionContext"],
        json!({ "project": "other" })
    );
    assert!(fr.get("responseElements").is_some_and(Value::is_null));

    // A failed write (an alias is not accepted by ScheduleKeyDeletion).
    expect_error(
        aws(ep).args(common::words(
            "kms schedule-key-deletion --key-id alias/NoSuchKey",
        )),
        "NotFoundException",
    );
    let sched = lookup(ep, "EventName", "ScheduleKeyDeletion");
    assert_eq!(sched.len(), 1);
    assert_eq!(sched[0]["ReadOnly"], "false");
    let sr = record(&sched[0]);
    assert_eq!(sr["errorCode"], "NotFoundException");
    assert_eq!(sr["readOnly"], false);
    assert_eq!(sr["requestParameters"]["keyId"], "alias/NoSuchKey");
    assert!(lookup(ep, "ReadOnly", "false")
        .iter()
        .any(|x| x["EventName"] == "ScheduleKeyDeletion"));
}
