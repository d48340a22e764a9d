//! Tags, and the workshop's clean-up path under realistic latency.

use super::*;

#[test]
fn tags_create_describe_delete() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let ebs = s(&volume_named(ep, VOLUME_NAME_TAG)["VolumeId"], "id").to_string();

    ec2(
        ep,
        &[
            "create-tags",
            "--resources",
            INSTANCE_ID,
            &ebs,
            "--tags",
            "Key=project,Value=kmsworkshop",
            "Key=owner,Value=learner",
        ],
    );
    let t = ec2(
        ep,
        &["describe-tags", "--filters", "Name=key,Values=project"],
    );
    let list = t["Tags"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{t}");
    let types: Vec<&str> = list.iter().map(|x| s(&x["ResourceType"], "type")).collect();
    assert_eq!(types, ["instance", "volume"]);
    let t = ec2(
        ep,
        &common::words(
            "describe-tags --filters Name=resource-type,Values=volume Name=value,Values=learner",
        ),
    );
    assert_eq!(t["Tags"].as_array().unwrap().len(), 1);
    assert_eq!(t["Tags"][0]["ResourceId"], ebs.as_str());
    let t = ec2(
        ep,
        &[
            "describe-tags",
            "--filters",
            &format!("Name=resource-id,Values={ebs}"),
        ],
    );
    assert_eq!(
        t["Tags"].as_array().unwrap().len(),
        3,
        "Name, project, owner"
    );
    let paged = ec2(ep, &["describe-tags", "--page-size", "5"]);
    assert_eq!(paged["Tags"].as_array().unwrap().len(), 8, "{paged}");

    // The new tags filter instances and volumes.
    let by_tag = instances(&ec2(
        ep,
        &common::words("describe-instances --filters Name=tag:project,Values=kmsworkshop"),
    ));
    assert_eq!(by_tag.len(), 1);
    let vols = ec2(
        ep,
        &common::words("describe-volumes --filters Name=tag:owner,Values=learner"),
    );
    assert_eq!(vols["Volumes"].as_array().unwrap().len(), 1);

    // DeleteTags: a value that does not match leaves the tag; no value deletes it.
    ec2(
        ep,
        &[
            "delete-tags",
            "--resources",
            &ebs,
            "--tags",
            "Key=project,Value=other",
        ],
    );
    assert_eq!(
        tag(&describe_volume(ep, &ebs), "project"),
        Some("kmsworkshop")
    );
    ec2(
        ep,
        &["delete-tags", "--resources", &ebs, "--tags", "Key=project"],
    );
    assert_eq!(tag(&describe_volume(ep, &ebs), "project"), None);
    assert_eq!(tag(&describe_volume(ep, &ebs), "owner"), Some("learner"));

    // Errors.
    let refused: [(&[&str], &str); 4] = [
        (
            &common::words("ec2 create-tags --resources i-0123456789abcdef0 --tags Key=a,Value=b"),
            "InvalidInstanceID.NotFound",
        ),
        (
            &common::words(
                "ec2 create-tags --resources vol-0123456789abcdef0 --tags Key=a,Value=b",
            ),
            "InvalidVolume.NotFound",
        ),
        (
            &[
                "ec2",
                "create-tags",
                "--resources",
                INSTANCE_ID,
                "--tags",
                "Key=aws:x,Value=b",
            ],
            "InvalidParameterValue",
        ),
        (
            &common::words("ec2 create-tags --resources ami-12345678 --tags Key=a,Value=b"),
            "InvalidID",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
}

/// The workshop's clean-up (DESIGN.md section 6) under realistic latency: each transition takes
/// time on the sandbox clock, and advancing the clock completes it.
#[test]
fn cleanup_path_under_realistic_latency() {
    // A time scale below 1 stretches the realistic durations (termination 300–600 s here), so the
    // transitional states are observed however slowly this test runs.
    let sb = SandboxProc::start(&["--latency", "realistic", "--time-scale", "0.1"]);
    let ep = &sb.endpoint;
    let ebs = s(&volume_named(ep, VOLUME_NAME_TAG)["VolumeId"], "id").to_string();
    let batch = instances(&ec2(
        ep,
        &common::words("describe-instances --filters Name=tag:Name,Values=billing-batch"),
    ));
    let batch_id = s(&batch[0]["InstanceId"], "id").to_string();

    // 1. Disassociate the instance profile.
    let assoc = ec2(
        ep,
        &[
            "describe-iam-instance-profile-associations",
            "--filters",
            &format!("Name=instance-id,Values={INSTANCE_ID}"),
        ],
    );
    let aid = s(
        &assoc["IamInstanceProfileAssociations"][0]["AssociationId"],
        "id",
    )
    .to_string();
    let d = ec2(
        ep,
        &[
            "disassociate-iam-instance-profile",
            "--association-id",
            &aid,
        ],
    );
    assert_eq!(
        d["IamInstanceProfileAssociation"]["State"],
        "disassociating"
    );
    let pending = ec2(
        ep,
        &[
            "describe-iam-instance-profile-associations",
            "--association-ids",
            &aid,
        ],
    );
    assert_eq!(
        pending["IamInstanceProfileAssociations"][0]["State"],
        "disassociating"
    );
    advance_clock(ep, 60);
    let gone = ec2(
        ep,
        &[
            "describe-iam-instance-profile-associations",
            "--filters",
            &format!("Name=instance-id,Values={INSTANCE_ID}"),
        ],
    );
    assert!(
        gone["IamInstanceProfileAssociations"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{gone}"
    );

    // 2. Terminate: shutting-down, the volume still attached.
    let term = ec2(ep, &["terminate-instances", "--instance-ids", INSTANCE_ID]);
    assert_eq!(
        term["TerminatingInstances"][0]["PreviousState"]["Name"],
        "running"
    );
    assert_eq!(
        term["TerminatingInstances"][0]["CurrentState"]["Name"],
        "shutting-down"
    );
    assert_eq!(state_of(ep, INSTANCE_ID), "shutting-down");
    assert_eq!(describe_volume(ep, &ebs)["State"], "in-use");
    expect_error(
        aws(ep).args(["ec2", "delete-volume", "--volume-id", &ebs]),
        "VolumeInUse",
    );
    let stopping = ec2(
        ep,
        &common::words(
            "describe-instances --filters Name=instance-state-name,Values=shutting-down",
        ),
    );
    assert_eq!(instances(&stopping).len(), 1);

    // 3. Time passes: terminated; WorkshopEBS (DeleteOnTermination false) is available, the root
    //    volume is gone.
    advance_clock(ep, 900);
    assert_eq!(state_of(ep, INSTANCE_ID), "terminated");
    let ws = describe_instance(ep, INSTANCE_ID);
    assert!(
        ws["BlockDeviceMappings"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "{ws}"
    );
    let v = describe_volume(ep, &ebs);
    assert_eq!(v["State"], "available");
    assert!(
        v["Attachments"].as_array().is_none_or(|a| a.is_empty()),
        "{v}"
    );
    let roots = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=attachment.instance-id,Values={INSTANCE_ID}"),
        ],
    );
    assert!(roots["Volumes"].as_array().unwrap().is_empty(), "{roots}");

    // 4. Delete the volume.
    ec2(ep, &["delete-volume", "--volume-id", &ebs]);
    expect_error(
        aws(ep).args(["ec2", "describe-volumes", "--volume-ids", &ebs]),
        "InvalidVolume.NotFound",
    );

    // The lookalike was never touched.
    let b = describe_instance(ep, &batch_id);
    assert_eq!(b["State"]["Name"], "running");
    let bvols = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=attachment.instance-id,Values={batch_id}"),
        ],
    );
    assert_eq!(bvols["Volumes"].as_array().unwrap().len(), 1);

    // A new volume under realistic latency is `creating` until the clock moves on; attaching it
    // then goes through `attaching`.
    let created = ec2(
        ep,
        &[
            "create-volume",
            "--size",
            "1",
            "--availability-zone",
            &format!("{REGION}a"),
        ],
    );
    let vol = s(&created["VolumeId"], "id").to_string();
    assert_eq!(describe_volume(ep, &vol)["State"], "creating");
    advance_clock(ep, 120);
    assert_eq!(describe_volume(ep, &vol)["State"], "available");
    let att = ec2(
        ep,
        &[
            "attach-volume",
            "--volume-id",
            &vol,
            "--instance-id",
            &batch_id,
            "--device",
            "/dev/sdf",
        ],
    );
    assert_eq!(att["State"], "attaching");
    assert_eq!(
        describe_volume(ep, &vol)["Attachments"][0]["State"],
        "attaching"
    );
    advance_clock(ep, 120);
    assert_eq!(
        describe_volume(ep, &vol)["Attachments"][0]["State"],
        "attached"
    );
}
