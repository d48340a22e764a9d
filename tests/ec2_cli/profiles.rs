//! Instance profile associations.

use super::*;

#[test]
fn instance_profile_associations() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;

    let assoc = ec2(ep, &["describe-iam-instance-profile-associations"]);
    let current = assoc["IamInstanceProfileAssociations"][0].clone();
    let aid = s(&current["AssociationId"], "AssociationId").to_string();

    // One association per instance.
    let msg = expect_error(
        aws(ep).args([
            "ec2",
            "associate-iam-instance-profile",
            "--instance-id",
            INSTANCE_ID,
            "--iam-instance-profile",
            &format!("Name={PROFILE}"),
        ]),
        "IncorrectState",
    );
    assert!(msg.contains(INSTANCE_ID), "{msg}");

    // Replace with another profile: a new association.
    let replaced = ec2(
        ep,
        &[
            "replace-iam-instance-profile-association",
            "--association-id",
            &aid,
            "--iam-instance-profile",
            "Name=OtherProfile",
        ],
    );
    let new_id = s(
        &replaced["IamInstanceProfileAssociation"]["AssociationId"],
        "id",
    )
    .to_string();
    assert_ne!(new_id, aid);
    assert_eq!(
        replaced["IamInstanceProfileAssociation"]["State"],
        "associating"
    );
    assert_eq!(
        replaced["IamInstanceProfileAssociation"]["IamInstanceProfile"]["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/OtherProfile").as_str()
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-iam-instance-profile-associations",
            "--association-ids",
            &aid,
        ]),
        "InvalidAssociationID.NotFound",
    );
    let by_state = ec2(
        ep,
        &common::words(
            "describe-iam-instance-profile-associations --filters Name=state,Values=associated",
        ),
    );
    assert_eq!(
        by_state["IamInstanceProfileAssociations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        by_state["IamInstanceProfileAssociations"][0]["AssociationId"],
        new_id.as_str()
    );

    // Disassociate: disassociating, then gone; the instance no longer shows a profile.
    let d = ec2(
        ep,
        &[
            "disassociate-iam-instance-profile",
            "--association-id",
            &new_id,
        ],
    );
    assert_eq!(
        d["IamInstanceProfileAssociation"]["State"],
        "disassociating"
    );
    assert_eq!(
        d["IamInstanceProfileAssociation"]["InstanceId"],
        INSTANCE_ID
    );
    let after = ec2(ep, &["describe-iam-instance-profile-associations"]);
    assert!(
        after["IamInstanceProfileAssociations"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{after}"
    );
    assert!(describe_instance(ep, INSTANCE_ID)
        .get("IamInstanceProfile")
        .is_none());
    expect_error(
        aws(ep).args([
            "ec2",
            "disassociate-iam-instance-profile",
            "--association-id",
            &new_id,
        ]),
        "InvalidAssociationID.NotFound",
    );

    // Associate again by ARN.
    let a = ec2(
        ep,
        &[
            "associate-iam-instance-profile",
            "--instance-id",
            INSTANCE_ID,
            "--iam-instance-profile",
            &format!("Arn={}", profile_arn()),
        ],
    );
    assert_eq!(a["IamInstanceProfileAssociation"]["State"], "associating");
    let ws = describe_instance(ep, INSTANCE_ID);
    assert_eq!(ws["IamInstanceProfile"]["Arn"], profile_arn().as_str());
    expect_error(
        aws(ep).args(common::words("ec2 associate-iam-instance-profile --instance-id i-0123456789abcdef0 --iam-instance-profile Name=x")),
        "InvalidInstanceID.NotFound",
    );
}
