//! The workshop's clean-up, and why its order matters.

use super::*;

#[test]
fn deleting_the_workshop_role_needs_every_policy_detached_first() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let msg = fails(ep, &["delete-role", "--role-name", ROLE], "DeleteConflict");
    assert!(
        msg.contains("must remove roles from instance profile first"),
        "{msg}"
    );
    ok(
        ep,
        &[
            "remove-role-from-instance-profile",
            "--instance-profile-name",
            ROLE,
            "--role-name",
            ROLE,
        ],
    );
    fails(
        ep,
        &[
            "remove-role-from-instance-profile",
            "--instance-profile-name",
            ROLE,
            "--role-name",
            ROLE,
        ],
        "NoSuchEntity",
    );
    assert!(ok(
        ep,
        &["list-instance-profiles-for-role", "--role-name", ROLE]
    )["InstanceProfiles"]
        .as_array()
        .unwrap()
        .is_empty());

    // What the stack declares and what the learner attached, everything except
    // AWSKeyManagementServicePowerUser: the role still cannot go.
    for arn in attached(ep, ROLE) {
        if arn != aws_arn("AWSKeyManagementServicePowerUser") {
            ok(
                ep,
                &[
                    "detach-role-policy",
                    "--role-name",
                    ROLE,
                    "--policy-arn",
                    &arn,
                ],
            );
        }
    }
    assert_eq!(
        attached(ep, ROLE),
        vec![aws_arn("AWSKeyManagementServicePowerUser")]
    );
    let msg = fails(ep, &["delete-role", "--role-name", ROLE], "DeleteConflict");
    assert!(
        msg.contains("Cannot delete entity, must detach all policies first."),
        "{msg}"
    );
    fails(
        ep,
        &[
            "detach-role-policy",
            "--role-name",
            ROLE,
            "--policy-arn",
            &aws_arn("AmazonS3FullAccess"),
        ],
        "NoSuchEntity",
    );
    ok(
        ep,
        &[
            "detach-role-policy",
            "--role-name",
            ROLE,
            "--policy-arn",
            &aws_arn("AWSKeyManagementServicePowerUser"),
        ],
    );
    ok(ep, &["delete-role", "--role-name", ROLE]);
    let msg = fails(ep, &["get-role", "--role-name", ROLE], "NoSuchEntity");
    assert!(
        msg.contains(&format!("The role with name {ROLE} cannot be found.")),
        "{msg}"
    );
    ok(
        ep,
        &["delete-instance-profile", "--instance-profile-name", ROLE],
    );
    fails(
        ep,
        &["get-instance-profile", "--instance-profile-name", ROLE],
        "NoSuchEntity",
    );

    // The detached customer policies remain (the workshop never deletes them) and can go now.
    for name in CUSTOMER_POLICIES {
        let p = ok(ep, &["get-policy", "--policy-arn", &local_arn(name)])["Policy"].clone();
        assert_eq!(p["AttachmentCount"], 0);
        ok(ep, &["delete-policy", "--policy-arn", &local_arn(name)]);
    }
    // The lookalikes are untouched.
    assert_eq!(
        attached(ep, "KMSWorkshop-InstanceInitRole-prod"),
        vec![local_arn("KMSWorkshop-AdditionalPermissions-prod")]
    );
    ok(
        ep,
        &[
            "get-policy",
            "--policy-arn",
            &local_arn("KMSWorkshop-RotationDisableOps-prod"),
        ],
    );
}
