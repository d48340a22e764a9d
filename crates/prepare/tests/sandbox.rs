//! The set-up against an in-process sandbox with an empty account: it makes the whole starting
//! state, a second run changes nothing, a run stopped half-way and resumed makes each part once,
//! and what exists and is wrong stops a run before it changes anything.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use kms_workshop_cleanup::{Clients, ExecOptions, Executor, Outcome, Pace, Report};
use kms_workshop_prepare::{open_journal, run, Options, PrepareError};
use kms_workshop_sandbox::{seed, Config};
use kms_workshop_testkit as testkit;

async fn empty() -> testkit::Env {
    testkit::start(Config {
        seed: seed::Seed::Empty,
        ..Config::default()
    })
    .await
}

fn executor(env: &testkit::Env) -> Executor {
    let clients = Clients::new(&env.cfg, seed::ACCOUNT, &[seed::REGION.to_string()], true);
    Executor::new(
        clients,
        Pace::new(8, 1000.0, 1000.0),
        ExecOptions::default(),
        None,
    )
}

fn count(report: &Report, o: Outcome) -> usize {
    report.count(o)
}

#[tokio::test]
async fn an_empty_account_is_prepared_and_a_second_run_changes_nothing() {
    let env = empty().await;
    let ex = executor(&env);
    let (plan, report, after) = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect("prepare");
    assert_eq!(plan.nodes.len(), 16, "{}", plan.render_tree());
    assert!(
        report.is_clean(),
        "{}",
        kms_workshop_prepare::report::render_text(&report)
    );
    assert_eq!(count(&report, Outcome::Changed), 16);
    // What the account holds now: every part, with what the chapter needs of it.
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let imported = kms
        .describe_key()
        .key_id("alias/ImportedCMK")
        .send()
        .await
        .expect("alias/ImportedCMK")
        .key_metadata
        .expect("metadata");
    assert_eq!(imported.origin().map(|o| o.as_str()), Some("EXTERNAL"));
    assert_eq!(imported.key_state().map(|s| s.as_str()), Some("Enabled"));
    assert_eq!(
        imported.expiration_model().map(|m| m.as_str()),
        Some("KEY_MATERIAL_EXPIRES")
    );
    let after = after.expect("the survey after the run");
    assert!(after.resources().len() >= 12, "{:?}", after.resources());

    let (plan2, report2, _) = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect("prepare again");
    assert!(plan2.is_empty(), "{}", plan2.render_tree());
    assert_eq!(count(&report2, Outcome::Changed), 0);
    assert!(report2.is_clean());
    env.running.shutdown().await;
}

#[tokio::test]
async fn a_run_stopped_half_way_resumes_and_makes_each_part_once() {
    let env = empty().await;
    let ex = executor(&env);
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path(), seed::ACCOUNT).expect("journal");
    // A run that stops after its first few steps: its journal has the plan and those steps.
    let opts = Options::default();
    let survey = kms_workshop_prepare::survey::survey(&ex, &env.cfg, &opts)
        .await
        .expect("survey");
    let plan = kms_workshop_prepare::plan::build(&survey, "r1");
    journal
        .append(&kms_workshop_cleanup::journal::Record::Plan {
            run: "r1".into(),
            at: "t".into(),
            found: Box::new(survey),
            plan: plan.clone(),
        })
        .expect("journal the plan");
    let first: Vec<_> = plan
        .nodes
        .iter()
        .filter(|n| n.after.is_empty())
        .take(3)
        .cloned()
        .collect();
    let partial = kms_workshop_cleanup::Plan {
        account: plan.account.clone(),
        nodes: first.clone(),
    };
    ex.execute(&partial, Some(&journal), "r1", &[])
        .await
        .expect("first steps");
    let (_, report, _) = run(&ex, &env.cfg, &opts, Some(&journal), false)
        .await
        .expect("resume");
    // The same run, planned afresh: what the first steps made is found in place.
    assert!(report.resumed);
    assert_eq!(
        count(&report, Outcome::Changed),
        plan.nodes.len() - first.len(),
        "{}",
        kms_workshop_prepare::report::render_text(&report)
    );
    assert!(
        report.is_clean(),
        "{}",
        kms_workshop_prepare::report::render_text(&report)
    );
    let keys = aws_sdk_kms::Client::new(&env.cfg)
        .list_keys()
        .send()
        .await
        .expect("keys");
    // Three workshop keys and the EBS default key the volume's creation made, nothing twice.
    assert!(keys.keys().len() <= 4, "{:?}", keys.keys());
    env.running.shutdown().await;
}

#[tokio::test]
async fn an_imported_alias_on_a_key_without_imported_material_stops_before_any_change() {
    let env = empty().await;
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let key = kms.create_key().send().await.expect("key");
    let id = key
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("id");
    kms.create_alias()
        .alias_name("alias/ImportedCMK")
        .target_key_id(&id)
        .send()
        .await
        .expect("alias");
    let ex = executor(&env);
    let err = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect_err("a wrong alias stops the run");
    let text = err.to_string();
    assert!(matches!(err, PrepareError::Wrong { .. }), "{text}");
    assert!(
        text.contains("alias/ImportedCMK")
            && text.contains("AWS_KMS")
            && text.contains("nothing was changed"),
        "{text}"
    );
    let stacks = aws_sdk_cloudformation::Client::new(&env.cfg)
        .list_stacks()
        .send()
        .await
        .expect("stacks");
    assert!(stacks.stack_summaries().is_empty(), "nothing was made");
    env.running.shutdown().await;
}

#[tokio::test]
async fn a_foreign_key_tagged_like_the_workshops_is_never_adopted() {
    let env = empty().await;
    let kms = aws_sdk_kms::Client::new(&env.cfg);
    let tag = |k: &str, v: &str| {
        aws_sdk_kms::types::Tag::builder()
            .tag_key(k)
            .tag_value(v)
            .build()
            .expect("tag")
    };
    // Someone else's key, tagged as a set-up tags the key it has not named yet.
    let foreign = kms
        .create_key()
        .description("someone else's key")
        .tags(tag("project", "kmsworkshop"))
        .tags(tag("kmsworkshop-key", "first"))
        .tags(tag("kmsworkshop-run", "not-this-run"))
        .send()
        .await
        .expect("key")
        .key_metadata
        .expect("metadata")
        .key_id;
    let ex = executor(&env);
    let (_, report, _) = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect("prepare");
    assert!(report.is_clean());
    let first = kms
        .describe_key()
        .key_id("alias/FirstCMK")
        .send()
        .await
        .expect("alias/FirstCMK")
        .key_metadata
        .expect("metadata");
    assert_ne!(first.key_id, foreign, "the foreign key was adopted");
    let theirs = kms
        .describe_key()
        .key_id(&foreign)
        .send()
        .await
        .expect("their key")
        .key_metadata
        .expect("metadata");
    assert_eq!(theirs.key_state().map(|s| s.as_str()), Some("Enabled"));
    env.running.shutdown().await;
}

#[tokio::test]
async fn a_policy_of_a_workshop_name_with_another_document_stops_before_any_change() {
    let env = empty().await;
    let iam = aws_sdk_iam::Client::new(&env.cfg);
    iam.create_policy()
        .policy_name("KMSWorkshop-AdditionalPermissions")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("policy");
    let ex = executor(&env);
    let err = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect_err("a policy with another document stops the run");
    let text = err.to_string();
    assert!(
        text.contains("KMSWorkshop-AdditionalPermissions") && text.contains("kms:*"),
        "{text}"
    );
    let keys = aws_sdk_kms::Client::new(&env.cfg)
        .list_keys()
        .send()
        .await
        .expect("keys");
    assert!(keys.keys().is_empty(), "nothing was made");
    env.running.shutdown().await;
}

#[tokio::test]
async fn a_role_of_the_templates_name_outside_the_stack_stops_before_any_change() {
    let env = empty().await;
    aws_sdk_iam::Client::new(&env.cfg)
        .create_role()
        .role_name("KMSWorkshop-InstanceInitRole")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("role");
    let ex = executor(&env);
    let err = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect_err("a role outside the stack stops the run");
    assert!(
        err.to_string()
            .contains("role KMSWorkshop-InstanceInitRole"),
        "{err}"
    );
    env.running.shutdown().await;
}

fn name_tag(
    kind: aws_sdk_ec2::types::ResourceType,
    name: &str,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(kind)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Name")
                .value(name)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn a_foreign_volume_tagged_like_the_workshops_is_never_attached() {
    let env = empty().await;
    let ec2 = aws_sdk_ec2::Client::new(&env.cfg);
    let foreign = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .tag_specifications(name_tag(
            aws_sdk_ec2::types::ResourceType::Volume,
            "WorkshopEBS",
        ))
        .send()
        .await
        .expect("volume")
        .volume_id
        .expect("id");
    let ex = executor(&env);
    let (_, report, _) = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect("prepare");
    assert!(
        report.is_clean(),
        "{}",
        kms_workshop_prepare::report::render_text(&report)
    );
    let theirs = ec2
        .describe_volumes()
        .volume_ids(&foreign)
        .send()
        .await
        .expect("their volume");
    let v = theirs.volumes().first().expect("still there");
    assert!(
        v.attachments().is_empty(),
        "the foreign volume was attached: {v:?}"
    );
    env.running.shutdown().await;
}

#[tokio::test]
async fn two_instances_tagged_as_the_workshops_stop_before_any_change() {
    let env = empty().await;
    let ec2 = aws_sdk_ec2::Client::new(&env.cfg);
    for _ in 0..2 {
        ec2.run_instances()
            .image_id("ami-0c02fb55956c7d316")
            .instance_type(aws_sdk_ec2::types::InstanceType::T2Micro)
            .min_count(1)
            .max_count(1)
            .tag_specifications(name_tag(
                aws_sdk_ec2::types::ResourceType::Instance,
                "KMSWorkshop-Instance",
            ))
            .send()
            .await
            .expect("instance");
    }
    let ex = executor(&env);
    let err = run(&ex, &env.cfg, &Options::default(), None, false)
        .await
        .expect_err("two workshop instances stop the run");
    assert!(err.to_string().contains("2 instances are tagged"), "{err}");
    env.running.shutdown().await;
}
