//! A dry run changes nothing and plans no lookalike; a real run removes the workshop and
//! nothing else, and a second run has nothing to do.

use super::*;

#[test]
fn dry_run_changes_nothing_and_plans_no_lookalike() {
    let sb = SandboxProc::start(&[]);
    add_monitoring(&sb.endpoint);
    let before = snapshot(&sb.endpoint);
    let out = run(&mut cleanup_command(&sb.endpoint, &["--dry-run"]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("clean-up plan for account 111122223333"),
        "{stdout}"
    );
    assert!(
        stdout.contains("delete stack KMSWorkshop-Stack"),
        "{stdout}"
    );
    assert!(
        stdout.contains("already scheduled for deletion"),
        "{stdout}"
    );
    let json = run(&mut cleanup_command(
        &sb.endpoint,
        &["--dry-run", "--output", "json"],
    ));
    assert_eq!(json.status.code(), Some(0), "{}", output_text(&json));
    let v: Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    let plan = v["plan"].to_string();
    for lookalike in ["-prod", "archive", "billing", "alias/aws/"] {
        assert!(!plan.contains(lookalike), "{lookalike} in plan: {plan}");
    }
    let ops: Vec<&str> = v["plan"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["action"]["op"].as_str())
        .collect();
    for op in [
        "ScheduleKeyDeletion",
        "DeleteAlias",
        "DetachRolePolicy",
        "DisassociateInstanceProfile",
        "TerminateInstance",
        "DeleteVolume",
        "EmptyBucket",
        "DeleteStack",
        "RemoveTargets",
        "DeleteRule",
        "Unsubscribe",
        "DeleteTopic",
        "DeleteAlarms",
        "DeletePolicy",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    let after = snapshot(&sb.endpoint);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, v) in &before {
        assert_eq!(Some(v), after.get(k), "{k} changed by a dry run");
    }
}

#[test]
fn cleanup_removes_the_workshop_and_nothing_else_then_has_nothing_to_do() {
    let sb = SandboxProc::start(&[]);
    let added = add_monitoring(&sb.endpoint);
    let keys = workshop_keys(&sb.endpoint);
    let out = run(&mut cleanup_command(&sb.endpoint, &["--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("nothing left"), "{stdout}");
    assert_workshop_gone(&sb.endpoint, &added, &keys);
    assert_lookalikes_untouched(&sb.endpoint, &added);

    let again = run(&mut cleanup_command(
        &sb.endpoint,
        &["--yes", "--output", "json"],
    ));
    assert_eq!(again.status.code(), Some(0), "{}", output_text(&again));
    let v: Value = serde_json::from_slice(&again.stdout).expect("JSON report");
    assert_eq!(
        v["report"]["actions"].as_array().map(Vec::len),
        Some(0),
        "{v}"
    );
    assert_eq!(v["clean"], true);
    assert_lookalikes_untouched(&sb.endpoint, &added);
}
