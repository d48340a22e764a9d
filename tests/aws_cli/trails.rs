//! CloudTrail: trails

use super::*;

#[test]
fn trail_lifecycle() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let bucket = format!("kmsworkshop-{ACCOUNT}");
    let arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/workshop-trail");

    let empty = run_json(aws(ep).args(["cloudtrail", "describe-trails"]));
    assert_eq!(empty["trailList"], json!([]));

    let t = run_json(aws(ep).args([
        "cloudtrail",
        "create-trail",
        "--name",
        "workshop-trail",
        "--s3-bucket-name",
        &bucket,
    ]));
    assert_eq!(t["Name"], "workshop-trail");
    assert_eq!(t["TrailARN"], arn.as_str());
    assert_eq!(t["S3BucketName"], bucket.as_str());
    let refused: [(&[&str], &str); 2] = [
        (
            &[
                "cloudtrail",
                "create-trail",
                "--name",
                "workshop-trail",
                "--s3-bucket-name",
                &bucket,
            ],
            "TrailAlreadyExistsException",
        ),
        (
            &[
                "cloudtrail",
                "create-trail",
                "--name",
                "bad--name",
                "--s3-bucket-name",
                &bucket,
            ],
            "InvalidTrailNameException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    let status =
        run_json(aws(ep).args(["cloudtrail", "get-trail-status", "--name", "workshop-trail"]));
    assert_eq!(status["IsLogging"], false);

    run_json(aws(ep).args(["cloudtrail", "start-logging", "--name", "workshop-trail"]));
    let status = run_json(aws(ep).args(["cloudtrail", "get-trail-status", "--name", &arn]));
    assert_eq!(status["IsLogging"], true);
    assert!(!status["StartLoggingTime"].is_null(), "{status}");

    let trails = run_json(aws(ep).args(["cloudtrail", "describe-trails"]));
    let list = trails["trailList"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["Name"], "workshop-trail");
    assert_eq!(list[0]["TrailARN"], arn.as_str());
    assert_eq!(list[0]["HomeRegion"], REGION);
    assert_eq!(list[0]["S3BucketName"], bucket.as_str());
    let named = run_json(aws(ep).args(common::words(
        "cloudtrail describe-trails --trail-name-list workshop-trail",
    )));
    assert_eq!(named["trailList"].as_array().unwrap().len(), 1);
    let other = run_json(aws(ep).args(common::words(
        "cloudtrail describe-trails --trail-name-list some-other-trail",
    )));
    assert_eq!(other["trailList"], json!([]));

    run_json(aws(ep).args(["cloudtrail", "stop-logging", "--name", "workshop-trail"]));
    let status =
        run_json(aws(ep).args(["cloudtrail", "get-trail-status", "--name", "workshop-trail"]));
    assert_eq!(status["IsLogging"], false);
    assert!(!status["StopLoggingTime"].is_null(), "{status}");

    run_json(aws(ep).args(["cloudtrail", "delete-trail", "--name", "workshop-trail"]));
    let gone = run_json(aws(ep).args(["cloudtrail", "describe-trails"]));
    assert_eq!(gone["trailList"], json!([]));
    let refused: [(&[&str], &str); 3] = [
        (
            &["cloudtrail", "get-trail-status", "--name", "workshop-trail"],
            "TrailNotFoundException",
        ),
        (
            &["cloudtrail", "start-logging", "--name", "workshop-trail"],
            "TrailNotFoundException",
        ),
        (
            &["cloudtrail", "delete-trail", "--name", "workshop-trail"],
            "TrailNotFoundException",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // Each trail call is a write event on the trail resource.
    let on_trail = lookup(ep, "ResourceName", &arn);
    let mut names: Vec<&str> = on_trail
        .iter()
        .map(|e| str_of(&e["EventName"], "EventName"))
        .collect();
    names.sort();
    names.dedup();
    for op in [
        "CreateTrail",
        "DeleteTrail",
        "GetTrailStatus",
        "StartLogging",
        "StopLogging",
    ] {
        assert!(names.contains(&op), "{op} missing from {names:?}");
    }
    let writes = lookup(ep, "ReadOnly", "false");
    assert!(writes.iter().any(|e| e["EventName"] == "StartLogging"));
    assert!(!writes.iter().any(|e| e["EventName"] == "GetTrailStatus"));
}

// ---------------------------------------------------------------------------------------------
// The seeded account's history

#[test]
fn seeded_history_tells_the_earlier_sections() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let k1 = run_json(aws(ep).args(["kms", "list-keys"]))["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| describe_key(ep, str_of(&k["KeyId"], "KeyId")))
        .find(|md| md["KeyState"] == "PendingDeletion")
        .expect("K1");
    // K1's deletion was scheduled by the instance, with a 7-day window, the day before.
    let scheduled = lookup(ep, "EventName", "ScheduleKeyDeletion");
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!(scheduled[0]["Username"], INSTANCE_ID);
    let rec = record(&scheduled[0]);
    assert_eq!(rec["requestParameters"]["pendingWindowInDays"], 7);
    assert_eq!(rec["resources"][0]["ARN"], k1["Arn"]);
    // The three keys were created, K3 with imported material.
    let created = lookup(ep, "EventName", "CreateKey");
    assert_eq!(created.len(), 3);
    let imported = lookup(ep, "EventName", "ImportKeyMaterial");
    let k3 = describe_key(ep, IMPORTED_ALIAS);
    assert_eq!(
        imported[0]["Resources"][0]["ResourceName"], k3["Arn"],
        "{imported:?}"
    );
    // The failed Decrypt is there with its error code.
    let decrypts = lookup(ep, "EventName", "Decrypt");
    assert!(decrypts
        .iter()
        .any(|e| record(e)["errorCode"] == "InvalidCiphertextException"));
    // `--empty-history` starts without any of it.
    let empty = SandboxProc::start(&["--empty-history"]);
    assert!(lookup(&empty.endpoint, "EventName", "CreateKey").is_empty());
}
