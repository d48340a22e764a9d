//! Discovery and execution against the in-process sandbox's workshop seed: the lookalikes are
//! never in the plan, a run leaves nothing of the workshop's, and a journal makes a second
//! attempt of a finished plan a no-op.

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use kms_workshop_cleanup::{
    discover, Clients, ExecOptions, Executor, Inventory, InventoryItem, Journal, Outcome, Pace,
    Plan, ResourceKind,
};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox};

async fn start() -> (Arc<Sandbox>, Running, SdkConfig) {
    let sb = Sandbox::open(Config::default()).expect("open sandbox");
    let running = kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve");
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(running.endpoint())
        .region(Region::new(seed::REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            seed::LEARNER_ACCESS_KEY,
            seed::LEARNER_SECRET_KEY,
            None,
            None,
            "sandbox",
        ))
        .load()
        .await;
    (sb, running, config)
}

fn clients(config: &SdkConfig) -> Clients {
    Clients::new(config, seed::ACCOUNT, &[seed::REGION.to_string()], true)
}

#[tokio::test]
async fn lookalikes_are_never_in_the_plan() {
    let (_sb, running, config) = start().await;
    let c = clients(&config);
    let pace = Pace::new(8, 1000.0, 1000.0);
    // Even an inventory cannot bring in what it does not name exactly.
    let found = discover(&c, &pace, &Inventory::default())
        .await
        .expect("discover");
    let plan = Plan::build(&found, 7);
    let text = serde_json::to_string(&plan).expect("serialises");
    for lookalike in [
        "KMSWorkshop-InstanceInitRole-prod",
        "-prod",
        "kmsworkshop-archive",
        "billing",
        "alias/aws/",
    ] {
        assert!(!text.contains(lookalike), "{lookalike} in {text}");
    }
    assert!(text.contains("alias/FirstCMK") && text.contains("alias/ImportedCMK"));
    assert!(found.regions[0].stack.is_some(), "the stack is found");
    assert!(
        found
            .skipped
            .iter()
            .any(|s| s.why.contains("already scheduled for deletion")),
        "K1 is reported as already scheduled: {:?}",
        found.skipped
    );
    assert_eq!(found.regions[0].keys.len(), 2, "K2 and K3 only");
    running.shutdown().await;
}

#[tokio::test]
async fn inventory_items_are_the_workshops_and_others_are_not() {
    let (_sb, running, config) = start().await;
    let c = clients(&config);
    let pace = Pace::new(8, 1000.0, 1000.0);
    let kms = aws_sdk_kms::Client::new(&config);
    let recorded = kms
        .create_key()
        .description("created by a guided run")
        .send()
        .await
        .expect("create key");
    let recorded_arn = recorded
        .key_metadata()
        .map(|m| m.arn().unwrap_or_default().to_string())
        .expect("metadata");
    let stranger = kms
        .create_key()
        .description("somebody else's")
        .send()
        .await
        .expect("create key");
    let stranger_id = stranger
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("metadata");
    let inventory = Inventory {
        items: vec![InventoryItem {
            arn: recorded_arn.clone(),
            kind: ResourceKind::KmsKey,
            region: seed::REGION.into(),
            account: seed::ACCOUNT.into(),
            step: Some("IV.1".into()),
        }],
    };
    let found = discover(&c, &pace, &inventory).await.expect("discover");
    let keys: Vec<&str> = found.regions[0]
        .keys
        .iter()
        .map(|k| k.arn.as_str())
        .collect();
    assert!(keys.contains(&recorded_arn.as_str()), "{keys:?}");
    assert!(!keys.iter().any(|k| k.ends_with(&stranger_id)), "{keys:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn a_run_leaves_nothing_and_a_journalled_rerun_repeats_nothing() {
    let (_sb, running, config) = start().await;
    let c = clients(&config);
    let pace = Pace::new(8, 1000.0, 1000.0);
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), seed::ACCOUNT).expect("journal");
    let exec = Executor::new(c.clone(), pace.clone(), ExecOptions::default(), None);
    let (plan, report) = exec
        .run(&Inventory::default(), Some(&journal), 7, false)
        .await
        .expect("run");
    assert!(!plan.is_empty());
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(report.remaining.is_empty());
    assert_eq!(report.count(Outcome::Changed), plan.nodes.len());

    // Executing the same plan again with the journal's record: nothing is attempted.
    let done: Vec<(String, String)> = plan
        .nodes
        .iter()
        .map(|n| (n.id.clone(), "changed".to_string()))
        .collect();
    let again = exec
        .execute(&plan, None, "replay", &done)
        .await
        .expect("execute");
    assert!(again.iter().all(|a| a.outcome == Outcome::DoneEarlier));

    // And a fresh run finds nothing to do.
    let (plan2, report2) = exec
        .run(&Inventory::default(), Some(&journal), 7, false)
        .await
        .expect("second run");
    assert!(plan2.is_empty(), "{}", plan2.render_tree());
    assert!(report2.is_clean());
    running.shutdown().await;
}

#[tokio::test]
async fn the_key_window_is_checked() {
    let (_sb, running, config) = start().await;
    let exec = Executor::new(
        clients(&config),
        Pace::new(1, 10.0, 1.0),
        ExecOptions::default(),
        None,
    );
    let err = exec
        .run(&Inventory::default(), None, 6, true)
        .await
        .expect_err("6 days is too short");
    assert!(err.to_string().contains("7 to 30"), "{err}");
    running.shutdown().await;
}

#[tokio::test]
async fn a_stack_that_fails_to_delete_is_reported_fixed_and_deleted() {
    let (_sb, running, config) = start().await;
    let c = clients(&config);
    let exec = Executor::new(
        c.clone(),
        Pace::new(8, 1000.0, 1000.0),
        ExecOptions::default(),
        None,
    );
    let stack_id = aws_sdk_cloudformation::Client::new(&config)
        .describe_stacks()
        .stack_name("KMSWorkshop-Stack")
        .send()
        .await
        .expect("describe stack")
        .stacks()
        .first()
        .and_then(|s| s.stack_id().map(str::to_string))
        .expect("stack id");
    // Only the stack, without emptying its bucket or detaching the role's extra policies
    // first: CloudFormation ends DELETE_FAILED, and the executor must repair and retry.
    let plan = Plan {
        account: seed::ACCOUNT.into(),
        nodes: vec![kms_workshop_cleanup::Node {
            id: "stack".into(),
            action: kms_workshop_cleanup::Action::DeleteStack {
                region: seed::REGION.into(),
                stack: "KMSWorkshop-Stack".into(),
                stack_id: stack_id.clone(),
            },
            after: vec![],
        }],
    };
    let results = exec.execute(&plan, None, "r", &[]).await.expect("execute");
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Changed, "{r:?}");
    assert!(r.detail.contains("DELETE_FAILED"), "{}", r.detail);
    assert!(r.detail.contains("emptied bucket"), "{}", r.detail);
    assert!(
        r.detail.contains("AWS::S3::Bucket"),
        "the failing resource is named: {}",
        r.detail
    );
    assert!(r.detail.ends_with("DELETE_COMPLETE"), "{}", r.detail);
    running.shutdown().await;
}

#[tokio::test]
async fn access_denied_is_reported_once_and_blocks_what_depends_on_it() {
    let (_sb, running, config) = start().await;
    let kms = aws_sdk_kms::Client::new(&config);
    // The AWS-managed EBS key: KMS refuses to schedule its deletion (AccessDeniedException).
    let managed = kms
        .describe_key()
        .key_id("alias/aws/ebs")
        .send()
        .await
        .expect("describe")
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("metadata");
    let first = kms_workshop_cleanup::Action::ScheduleKeyDeletion {
        region: seed::REGION.into(),
        key_id: managed,
        window_days: 7,
    };
    let second = kms_workshop_cleanup::Action::DeleteAlarms {
        region: seed::REGION.into(),
        names: vec!["anything".into()],
    };
    let plan = Plan {
        account: seed::ACCOUNT.into(),
        nodes: vec![
            kms_workshop_cleanup::Node {
                id: first.id(),
                action: first.clone(),
                after: vec![],
            },
            kms_workshop_cleanup::Node {
                id: second.id(),
                action: second,
                after: vec![first.id()],
            },
        ],
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let exec = Executor::new(
        clients(&config),
        Pace::new(4, 1000.0, 1000.0),
        ExecOptions::default(),
        Some(tx),
    );
    let results = exec.execute(&plan, None, "r", &[]).await.expect("execute");
    drop(exec);
    assert_eq!(results[0].outcome, Outcome::Failed, "{:?}", results[0]);
    assert_eq!(results[0].class.as_deref(), Some("access denied"));
    assert!(
        results[0].detail.contains("AccessDeniedException"),
        "{:?}",
        results[0]
    );
    assert_eq!(results[1].outcome, Outcome::Blocked, "{:?}", results[1]);
    let mut retries = 0;
    while let Some(e) = rx.recv().await {
        if matches!(e, kms_workshop_cleanup::Event::Retrying { .. }) {
            retries += 1;
        }
    }
    assert_eq!(retries, 0, "access denied is not retried");
    running.shutdown().await;
}

#[tokio::test]
async fn an_interrupted_run_resumes_its_journalled_plan() {
    let (_sb, running, config) = start().await;
    let c = clients(&config);
    let pace = Pace::new(8, 1000.0, 1000.0);
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), seed::ACCOUNT).expect("journal");
    let found = discover(&c, &pace, &Inventory::default())
        .await
        .expect("discover");
    let plan = Plan::build(&found, 7);
    // The first run recorded its plan and finished the keys' branch before it was killed.
    journal
        .append(&kms_workshop_cleanup::journal::Record::Plan {
            run: "first".into(),
            at: "then".into(),
            found: Box::new(found.clone()),
            plan: plan.clone(),
        })
        .expect("append");
    let keys = Plan {
        account: plan.account.clone(),
        nodes: plan
            .nodes
            .iter()
            .filter(|n| n.action.branch() == "keys")
            .cloned()
            .collect(),
    };
    assert!(!keys.nodes.is_empty());
    let exec = Executor::new(c.clone(), pace.clone(), ExecOptions::default(), None);
    exec.execute(&keys, Some(&journal), "first", &[])
        .await
        .expect("first part");

    let (resumed_plan, report) = exec
        .run(&Inventory::default(), Some(&journal), 7, false)
        .await
        .expect("resume");
    assert!(report.resumed);
    assert_eq!(
        resumed_plan, plan,
        "the journalled plan is reused, not re-scanned"
    );
    assert_eq!(report.count(Outcome::DoneEarlier), keys.nodes.len());
    assert_eq!(
        report.count(Outcome::Changed),
        plan.nodes.len() - keys.nodes.len()
    );
    assert!(report.is_clean(), "{}", report.render_text());
    // Finished: the next run starts afresh and finds nothing.
    assert!(journal.unfinished().expect("read").is_none());
    running.shutdown().await;
}

#[tokio::test]
async fn an_alarm_on_a_key_already_pending_deletion_is_still_found() {
    let (_sb, running, config) = start().await;
    let kms = aws_sdk_kms::Client::new(&config);
    let k3 = kms
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .expect("describe")
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("metadata");
    aws_sdk_cloudwatch::Client::new(&config)
        .put_metric_alarm()
        .alarm_name("expiry")
        .namespace("AWS/KMS")
        .metric_name("SecondsUntilKeyMaterialExpiration")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("KeyId")
                .value(&k3)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(864000.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::LessThanOrEqualToThreshold,
        )
        .send()
        .await
        .expect("alarm");
    // An earlier, interrupted clean-up already scheduled the key.
    kms.schedule_key_deletion()
        .key_id(&k3)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");
    let found = discover(
        &clients(&config),
        &Pace::new(8, 1000.0, 1000.0),
        &Inventory::default(),
    )
    .await
    .expect("discover");
    assert_eq!(found.regions[0].alarms, vec!["expiry".to_string()]);
    assert!(found.regions[0].keys.iter().all(|k| k.id != k3));
    running.shutdown().await;
}

/// What the guided run does when no trail logs management events: a log bucket with
/// CloudTrail's files in it, and a logging trail `KMSWorkshop-Trail` writing to it. Returns the
/// trail's ARN and the bucket's name.
async fn create_run_trail(config: &SdkConfig) -> (String, String) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    let ct = aws_sdk_cloudtrail::Client::new(config);
    let bucket = kms_workshop_cleanup::names::trail_bucket(seed::ACCOUNT, seed::REGION);
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create trail bucket");
    s3.put_object()
        .bucket(&bucket)
        .key(format!(
            "AWSLogs/{}/CloudTrail/{}/log.json.gz",
            seed::ACCOUNT,
            seed::REGION
        ))
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
        .send()
        .await
        .expect("a log file");
    let created = ct
        .create_trail()
        .name(kms_workshop_cleanup::names::TRAIL)
        .s3_bucket_name(&bucket)
        .send()
        .await
        .expect("create trail");
    ct.start_logging()
        .name(kms_workshop_cleanup::names::TRAIL)
        .send()
        .await
        .expect("start logging");
    (created.trail_arn().expect("trail arn").to_string(), bucket)
}

/// The learner's (or their organisation's) own trail, which no clean-up may touch.
async fn create_lookalike_trail(config: &SdkConfig) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    let ct = aws_sdk_cloudtrail::Client::new(config);
    s3.create_bucket()
        .bucket("org-audit-logs-111")
        .send()
        .await
        .expect("create bucket");
    for name in ["org-audit-trail", "KMSWorkshop-Trail-prod"] {
        ct.create_trail()
            .name(name)
            .s3_bucket_name("org-audit-logs-111")
            .is_multi_region_trail(true)
            .send()
            .await
            .expect("create trail");
        ct.start_logging()
            .name(name)
            .send()
            .await
            .expect("start logging");
    }
}

async fn trail_names(config: &SdkConfig) -> Vec<String> {
    let mut names: Vec<String> = aws_sdk_cloudtrail::Client::new(config)
        .describe_trails()
        .send()
        .await
        .expect("describe trails")
        .trail_list()
        .iter()
        .filter_map(|t| t.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_runs_trail_and_its_bucket_go_and_other_trails_stay() {
    let (_sb, running, config) = start().await;
    let c = clients(&config);
    let pace = Pace::new(8, 1000.0, 1000.0);
    let (trail_arn, bucket) = create_run_trail(&config).await;
    create_lookalike_trail(&config).await;
    let item = |arn: String, kind| InventoryItem {
        arn,
        kind,
        region: seed::REGION.into(),
        account: seed::ACCOUNT.into(),
        step: Some("eventbridge-rule".into()),
    };
    let inventory = Inventory {
        items: vec![
            item(format!("arn:aws:s3:::{bucket}"), ResourceKind::S3Bucket),
            item(trail_arn.clone(), ResourceKind::CloudTrailTrail),
        ],
    };
    // The inventory names the trail by ARN; without one, only the exact name counts.
    let found = discover(&c, &pace, &inventory).await.expect("discover");
    let trails: Vec<(&str, &str)> = found.regions[0]
        .trails
        .iter()
        .map(|t| (t.arn.as_str(), t.why.as_str()))
        .collect();
    assert_eq!(trails, vec![(trail_arn.as_str(), "inventory")]);
    let bare = discover(&c, &pace, &Inventory::default())
        .await
        .expect("discover");
    assert_eq!(bare.regions[0].trails.len(), 1, "{:?}", bare.regions[0]);
    assert_eq!(bare.regions[0].trails[0].why, "workshop name");
    assert!(
        bare.buckets.iter().any(|b| b.name == bucket),
        "the trail's log bucket, by its exact name: {:?}",
        bare.buckets
    );
    let text = serde_json::to_string(&Plan::build(&bare, 7)).expect("serialises");
    assert!(!text.contains("org-audit"), "{text}");
    assert!(!text.contains("KMSWorkshop-Trail-prod"), "{text}");

    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), seed::ACCOUNT).expect("journal");
    let exec = Executor::new(c.clone(), pace.clone(), ExecOptions::default(), None);
    let (plan, report) = exec
        .run(&inventory, Some(&journal), 7, false)
        .await
        .expect("run");
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(report.remaining.is_empty(), "{:?}", report.remaining);
    let delete_trail = kms_workshop_cleanup::Action::DeleteTrail {
        region: seed::REGION.into(),
        name: kms_workshop_cleanup::names::TRAIL.into(),
    }
    .id();
    let empty = kms_workshop_cleanup::Action::EmptyBucket {
        bucket: bucket.clone(),
    }
    .id();
    assert!(
        plan.node(&empty)
            .is_some_and(|n| n.after.contains(&delete_trail)),
        "{}",
        plan.render_tree()
    );
    assert_eq!(
        trail_names(&config).await,
        vec![
            "KMSWorkshop-Trail-prod".to_string(),
            "org-audit-trail".to_string()
        ]
    );
    let head = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
    .head_bucket()
    .bucket(&bucket)
    .send()
    .await;
    assert!(head.is_err(), "the trail's bucket is gone");
    let status = aws_sdk_cloudtrail::Client::new(&config)
        .get_trail_status()
        .name("org-audit-trail")
        .send()
        .await
        .expect("the lookalike trail is still there");
    assert_eq!(status.is_logging(), Some(true), "and still logging");

    // A second run has nothing to do; deleting the trail again is "already gone".
    let (plan2, report2) = exec
        .run(&inventory, Some(&journal), 7, false)
        .await
        .expect("second run");
    assert!(plan2.is_empty(), "{}", plan2.render_tree());
    assert!(report2.is_clean());
    let again = exec
        .execute(
            &Plan {
                account: seed::ACCOUNT.into(),
                nodes: vec![plan.node(&delete_trail).expect("trail node").clone()],
            },
            None,
            "again",
            &[],
        )
        .await
        .expect("execute");
    assert_eq!(again[0].outcome, Outcome::AlreadyGone, "{:?}", again[0]);
    running.shutdown().await;
}
