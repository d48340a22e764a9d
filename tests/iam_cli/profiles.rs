//! Instance profiles.

use super::*;

#[test]
fn instance_profile_lifecycle() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "r1",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
    );
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "r2",
            "--assume-role-policy-document",
            EC2_TRUST,
        ],
    );
    let p = ok(
        ep,
        &common::words("create-instance-profile --instance-profile-name prof --path /x/"),
    )["InstanceProfile"]
        .clone();
    assert_eq!(
        p["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/x/prof")
    );
    assert_eq!(p["Roles"], json!([]));
    let msg = fails(
        ep,
        &["create-instance-profile", "--instance-profile-name", "prof"],
        "EntityAlreadyExists",
    );
    assert!(
        msg.contains("Instance Profile prof already exists."),
        "{msg}"
    );
    ok(
        ep,
        &common::words("add-role-to-instance-profile --instance-profile-name prof --role-name r1"),
    );
    let msg = fails(
        ep,
        &common::words("add-role-to-instance-profile --instance-profile-name prof --role-name r2"),
        "LimitExceeded",
    );
    assert!(
        msg.contains("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
        "{msg}"
    );
    let refused: [(&[&str], &str); 2] = [
        (
            &common::words(
                "add-role-to-instance-profile --instance-profile-name nope --role-name r2",
            ),
            "NoSuchEntity",
        ),
        (
            &common::words(
                "add-role-to-instance-profile --instance-profile-name prof --role-name nope",
            ),
            "NoSuchEntity",
        ),
    ];
    for (args, code) in refused {
        fails(ep, args, code);
    }
    let got = ok(
        ep,
        &["get-instance-profile", "--instance-profile-name", "prof"],
    )["InstanceProfile"]
        .clone();
    assert_eq!(names(&got["Roles"], "RoleName"), vec!["r1"]);
    ok(
        ep,
        &common::words("create-instance-profile --instance-profile-name other"),
    );
    assert_eq!(
        names(
            &ok(ep, &["list-instance-profiles"])["InstanceProfiles"],
            "InstanceProfileName"
        ),
        vec!["other", "prof"]
    );
    assert_eq!(
        names(
            &ok(ep, &["list-instance-profiles", "--path-prefix", "/x/"])["InstanceProfiles"],
            "InstanceProfileName"
        ),
        vec!["prof"]
    );
    let for_role = ok(
        ep,
        &["list-instance-profiles-for-role", "--role-name", "r1"],
    )["InstanceProfiles"]
        .clone();
    assert_eq!(names(&for_role, "InstanceProfileName"), vec!["prof"]);
    assert_eq!(
        ok(
            ep,
            &["list-instance-profiles-for-role", "--role-name", "r2"]
        )["InstanceProfiles"],
        json!([])
    );
    fails(
        ep,
        &["list-instance-profiles-for-role", "--role-name", "nope"],
        "NoSuchEntity",
    );
    let msg = fails(
        ep,
        &["delete-instance-profile", "--instance-profile-name", "prof"],
        "DeleteConflict",
    );
    assert!(
        msg.contains("must remove roles from instance profile first"),
        "{msg}"
    );
    fails(ep, &["delete-role", "--role-name", "r1"], "DeleteConflict");
    ok(
        ep,
        &common::words(
            "remove-role-from-instance-profile --instance-profile-name prof --role-name r1",
        ),
    );
    ok(
        ep,
        &["delete-instance-profile", "--instance-profile-name", "prof"],
    );
    let msg = fails(
        ep,
        &["get-instance-profile", "--instance-profile-name", "prof"],
        "NoSuchEntity",
    );
    assert!(
        msg.contains("Instance Profile prof cannot be found."),
        "{msg}"
    );
    fails(
        ep,
        &["delete-instance-profile", "--instance-profile-name", "prof"],
        "NoSuchEntity",
    );
    ok(ep, &["delete-role", "--role-name", "r1"]);
}
