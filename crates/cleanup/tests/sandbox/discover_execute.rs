//! Discovery and execution against the in-process sandbox's workshop seed: the lookalikes are
//! never in the plan, a run leaves nothing of the workshop's, and a journal makes a second
//! attempt of a finished plan a no-op.

use kms_workshop_cleanup::{
    Action, Event, ExecOptions, Executor, Inventory, InventoryItem, Journal, Node, Outcome, Pace,
    Plan, ResourceKind,
};
use kms_workshop_sandbox::seed;

use crate::account::Account;

/// A plan of `actions` in this order, each after the one before when `chained`.
fn plan_of(actions: Vec<Action>, chained: bool) -> Plan {
    let mut nodes: Vec<Node> = Vec::new();
    for action in actions {
        let after = match nodes.last() {
            Some(prev) if chained => vec![prev.id.clone()],
            _ => vec![],
        };
        nodes.push(Node {
            id: action.id(),
            action,
            after,
        });
    }
    Plan {
        account: seed::ACCOUNT.into(),
        nodes,
    }
}

#[tokio::test]
async fn lookalikes_are_never_in_the_plan() {
    let a = Account::seeded().await;
    // Even an inventory cannot bring in what it does not name exactly.
    let found = a.discover(&Inventory::default()).await;
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
    a.shutdown().await;
}

#[tokio::test]
async fn inventory_items_are_the_workshops_and_others_are_not() {
    let a = Account::seeded().await;
    let (_, recorded_arn) = a.create_key("created by a guided run").await;
    let (stranger_id, _) = a.create_key("somebody else's").await;
    let inventory = Inventory {
        account: None,
        items: vec![InventoryItem {
            arn: recorded_arn.clone(),
            kind: ResourceKind::KmsKey,
            region: seed::REGION.into(),
            account: seed::ACCOUNT.into(),
            step: Some("IV.1".into()),
            seal: None,
        }],
    };
    let found = a.discover(&inventory).await;
    let keys: Vec<&str> = found.regions[0]
        .keys
        .iter()
        .map(|k| k.arn.as_str())
        .collect();
    assert!(keys.contains(&recorded_arn.as_str()), "{keys:?}");
    assert!(!keys.iter().any(|k| k.ends_with(&stranger_id)), "{keys:?}");
    a.shutdown().await;
}

#[tokio::test]
async fn a_run_leaves_nothing_and_a_journalled_rerun_repeats_nothing() {
    let a = Account::seeded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), seed::ACCOUNT).expect("journal");
    let exec = a.executor(None);
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
    a.shutdown().await;
}

#[tokio::test]
async fn the_key_window_is_checked() {
    let a = Account::seeded().await;
    let exec = Executor::new(
        a.clients.clone(),
        Pace::new(1, 10.0, 1.0),
        ExecOptions::default(),
        None,
    );
    let err = exec
        .run(&Inventory::default(), None, 6, true)
        .await
        .expect_err("6 days is too short");
    assert!(err.to_string().contains("7 to 30"), "{err}");
    a.shutdown().await;
}

#[tokio::test]
async fn a_stack_that_fails_to_delete_is_reported_fixed_and_deleted() {
    let a = Account::seeded().await;
    let stack_id = aws_sdk_cloudformation::Client::new(a.config())
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
    let plan = plan_of(
        vec![Action::DeleteStack {
            region: seed::REGION.into(),
            stack: "KMSWorkshop-Stack".into(),
            stack_id: stack_id.clone(),
        }],
        false,
    );
    let results = a
        .executor(None)
        .execute(&plan, None, "r", &[])
        .await
        .expect("execute");
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
    a.shutdown().await;
}

#[tokio::test]
async fn access_denied_is_reported_once_and_blocks_what_depends_on_it() {
    let a = Account::seeded().await;
    // The AWS-managed EBS key: KMS refuses to schedule its deletion (AccessDeniedException).
    let managed = a.key_id("alias/aws/ebs").await;
    let plan = plan_of(
        vec![
            Action::ScheduleKeyDeletion {
                region: seed::REGION.into(),
                key_id: managed,
                window_days: 7,
            },
            Action::DeleteAlarms {
                region: seed::REGION.into(),
                names: vec!["anything".into()],
            },
        ],
        true,
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let exec = a.executor(Some(tx));
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
        if matches!(e, Event::Retrying { .. }) {
            retries += 1;
        }
    }
    assert_eq!(retries, 0, "access denied is not retried");
    a.shutdown().await;
}

#[tokio::test]
async fn an_interrupted_run_resumes_its_journalled_plan() {
    let a = Account::seeded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), seed::ACCOUNT).expect("journal");
    let found = a.discover(&Inventory::default()).await;
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
    let exec = a.executor(None);
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
    a.shutdown().await;
}

#[tokio::test]
async fn an_alarm_on_a_key_already_pending_deletion_is_still_found() {
    let a = Account::seeded().await;
    let k3 = a.key_id("alias/ImportedCMK").await;
    aws_sdk_cloudwatch::Client::new(a.config())
        .put_metric_alarm()
        .alarm_name(kms_workshop_cleanup::names::ALARM)
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
    a.kms()
        .schedule_key_deletion()
        .key_id(&k3)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");
    let found = a.discover(&Inventory::default()).await;
    assert_eq!(
        found.regions[0].alarms,
        vec![kms_workshop_cleanup::names::ALARM.to_string()]
    );
    assert!(found.regions[0].keys.iter().all(|k| k.id != k3));
    a.shutdown().await;
}

/// A logging trail `name` writing to `bucket`: its ARN.
async fn create_trail(a: &Account, name: &str, bucket: &str, multi_region: bool) -> String {
    let ct = a.cloudtrail();
    let created = ct
        .create_trail()
        .name(name)
        .s3_bucket_name(bucket)
        .set_is_multi_region_trail(multi_region.then_some(true))
        .send()
        .await
        .expect("create trail");
    ct.start_logging()
        .name(name)
        .send()
        .await
        .expect("start logging");
    created.trail_arn().expect("trail arn").to_string()
}

/// What the guided run does when no trail logs management events: a log bucket with
/// CloudTrail's files in it, and a logging trail `KMSWorkshop-Trail` writing to it. Returns the
/// trail's ARN and the bucket's name.
async fn create_run_trail(a: &Account) -> (String, String) {
    let s3 = a.s3();
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
    let arn = create_trail(a, kms_workshop_cleanup::names::TRAIL, &bucket, false).await;
    (arn, bucket)
}

/// The learner's (or their organisation's) own trail, which no clean-up may touch.
async fn create_lookalike_trail(a: &Account) {
    a.s3()
        .create_bucket()
        .bucket("org-audit-logs-111")
        .send()
        .await
        .expect("create bucket");
    for name in ["org-audit-trail", "KMSWorkshop-Trail-prod"] {
        create_trail(a, name, "org-audit-logs-111", true).await;
    }
}

async fn trail_names(a: &Account) -> Vec<String> {
    let mut names: Vec<String> = a
        .cloudtrail()
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
    let a = Account::seeded().await;
    let (trail_arn, bucket) = create_run_trail(&a).await;
    create_lookalike_trail(&a).await;
    let item = |arn: String, kind| InventoryItem {
        arn,
        kind,
        region: seed::REGION.into(),
        account: seed::ACCOUNT.into(),
        step: Some("eventbridge-rule".into()),
        seal: None,
    };
    let inventory = Inventory {
        account: None,
        items: vec![
            item(format!("arn:aws:s3:::{bucket}"), ResourceKind::S3Bucket),
            item(trail_arn.clone(), ResourceKind::CloudTrailTrail),
        ],
    };
    // The inventory names the trail by ARN; without one, only the exact name counts.
    let found = a.discover(&inventory).await;
    let trails: Vec<(&str, &str)> = found.regions[0]
        .trails
        .iter()
        .map(|t| (t.arn.as_str(), t.why.as_str()))
        .collect();
    assert_eq!(trails, vec![(trail_arn.as_str(), "inventory")]);
    let bare = a.discover(&Inventory::default()).await;
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
    let exec = a.executor(None);
    let (plan, report) = exec
        .run(&inventory, Some(&journal), 7, false)
        .await
        .expect("run");
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(report.remaining.is_empty(), "{:?}", report.remaining);
    let delete_trail = Action::DeleteTrail {
        region: seed::REGION.into(),
        name: kms_workshop_cleanup::names::TRAIL.into(),
    }
    .id();
    let empty = Action::EmptyBucket {
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
        trail_names(&a).await,
        vec![
            "KMSWorkshop-Trail-prod".to_string(),
            "org-audit-trail".to_string()
        ]
    );
    let head = a.s3().head_bucket().bucket(&bucket).send().await;
    assert!(head.is_err(), "the trail's bucket is gone");
    let status = a
        .cloudtrail()
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
    a.shutdown().await;
}
