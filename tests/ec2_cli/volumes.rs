//! Volumes: create, attach, detach, delete.

use super::*;

#[test]
fn volumes_create_attach_detach_delete() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let first_cmk = run_json(aws(ep).args(["kms", "describe-key", "--key-id", FIRST_ALIAS]));
    let first_arn = s(&first_cmk["KeyMetadata"]["Arn"], "Arn").to_string();

    let created = ec2(
        ep,
        &[
            "create-volume",
            "--size",
            "20",
            "--volume-type",
            "gp3",
            "--availability-zone",
            &format!("{REGION}a"),
            "--encrypted",
            "--kms-key-id",
            FIRST_ALIAS,
            "--tag-specifications",
            "ResourceType=volume,Tags=[{Key=Name,Value=scratch}]",
        ],
    );
    let vol = s(&created["VolumeId"], "VolumeId").to_string();
    assert_eq!(created["State"], "creating");
    assert_eq!(
        created["KmsKeyId"],
        first_arn.as_str(),
        "the key ARN, whatever form the caller gave"
    );
    assert_eq!(created["Iops"], 3000);
    assert_eq!(created["Throughput"], 125);
    assert_eq!(tag(&created, "Name"), Some("scratch"));
    let v = describe_volume(ep, &vol);
    assert_eq!(v["State"], "available");
    assert_eq!(v["Size"], 20);

    // Default EBS key when encrypted without a key.
    let default_key = ec2(
        ep,
        &[
            "create-volume",
            "--size",
            "1",
            "--availability-zone",
            &format!("{REGION}a"),
            "--encrypted",
        ],
    );
    let ebs_key = run_json(aws(ep).args(["kms", "describe-key", "--key-id", "alias/aws/ebs"]));
    assert_eq!(default_key["KmsKeyId"], ebs_key["KeyMetadata"]["Arn"]);
    assert_eq!(default_key["VolumeType"], "gp2");
    assert_eq!(default_key["Iops"], 100);

    // Errors.
    let refused: [(&[&str], &str); 4] = [
        (
            &["ec2", "create-volume", "--size", "10"],
            "MissingParameter",
        ),
        (
            &common::words("ec2 create-volume --size 10 --availability-zone eu-west-1a"),
            "InvalidZone.NotFound",
        ),
        (
            &[
                "ec2",
                "create-volume",
                "--size",
                "10",
                "--availability-zone",
                &format!("{REGION}a"),
                "--kms-key-id",
                FIRST_ALIAS,
            ],
            "InvalidParameterDependency",
        ),
        (
            &[
                "ec2",
                "create-volume",
                "--size",
                "99999",
                "--availability-zone",
                &format!("{REGION}a"),
            ],
            "InvalidParameterValue",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
    // An unknown key fails the creation asynchronously: the volume goes away.
    let bad = ec2(
        ep,
        &[
            "create-volume",
            "--size",
            "1",
            "--availability-zone",
            &format!("{REGION}a"),
            "--encrypted",
            "--kms-key-id",
            "alias/nope",
        ],
    );
    assert_eq!(bad["State"], "creating");
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-volumes",
            "--volume-ids",
            s(&bad["VolumeId"], "id"),
        ]),
        "InvalidVolume.NotFound",
    );

    // Attach to the workshop instance.
    let att = ec2(
        ep,
        &[
            "attach-volume",
            "--volume-id",
            &vol,
            "--instance-id",
            INSTANCE_ID,
            "--device",
            "/dev/sdg",
        ],
    );
    assert_eq!(att["State"], "attaching");
    assert_eq!(att["Device"], "/dev/sdg");
    let v = describe_volume(ep, &vol);
    assert_eq!(v["State"], "in-use");
    assert_eq!(v["Attachments"][0]["State"], "attached");
    let ws = describe_instance(ep, INSTANCE_ID);
    let devices: Vec<&str> = ws["BlockDeviceMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(&m["DeviceName"], "d"))
        .collect();
    assert_eq!(devices, ["/dev/sdf", "/dev/sdg", "/dev/xvda"]);
    let by_instance = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=attachment.instance-id,Values={INSTANCE_ID}"),
        ],
    );
    assert_eq!(by_instance["Volumes"].as_array().unwrap().len(), 3);
    let in_use = ec2(
        ep,
        &["describe-volumes", "--filters", "Name=status,Values=in-use"],
    );
    assert_eq!(
        in_use["Volumes"].as_array().unwrap().len(),
        4,
        "three on the workshop instance, billing-batch's root"
    );
    let by_id = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=volume-id,Values={vol}"),
        ],
    );
    assert_eq!(by_id["Volumes"][0]["VolumeId"], vol.as_str());

    // Attach errors.
    expect_error(
        aws(ep).args([
            "ec2",
            "attach-volume",
            "--volume-id",
            &vol,
            "--instance-id",
            INSTANCE_ID,
            "--device",
            "/dev/sdh",
        ]),
        "VolumeInUse",
    );
    let other = ec2(
        ep,
        &[
            "create-volume",
            "--size",
            "1",
            "--availability-zone",
            &format!("{REGION}a"),
        ],
    );
    let other_id = s(&other["VolumeId"], "id").to_string();
    expect_error(
        aws(ep).args([
            "ec2",
            "attach-volume",
            "--volume-id",
            &other_id,
            "--instance-id",
            INSTANCE_ID,
            "--device",
            "/dev/sdf",
        ]),
        "InvalidParameterValue",
    );
    let far = ec2(
        ep,
        &[
            "create-volume",
            "--size",
            "1",
            "--availability-zone",
            &format!("{REGION}b"),
        ],
    );
    let refused: [(&[&str], &str); 2] = [
        (
            &[
                "ec2",
                "attach-volume",
                "--volume-id",
                s(&far["VolumeId"], "id"),
                "--instance-id",
                INSTANCE_ID,
                "--device",
                "/dev/sdk",
            ],
            "InvalidVolume.ZoneMismatch",
        ),
        (
            &[
                "ec2",
                "attach-volume",
                "--volume-id",
                "vol-0123456789abcdef0",
                "--instance-id",
                INSTANCE_ID,
                "--device",
                "/dev/sdk",
            ],
            "InvalidVolume.NotFound",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // Delete while attached: VolumeInUse.
    let msg = expect_error(
        aws(ep).args(["ec2", "delete-volume", "--volume-id", &vol]),
        "VolumeInUse",
    );
    assert!(msg.contains(INSTANCE_ID), "{msg}");
    let workshop_ebs = s(&volume_named(ep, VOLUME_NAME_TAG)["VolumeId"], "id").to_string();
    let refused: [(&[&str], &str); 2] = [
        (
            &["ec2", "delete-volume", "--volume-id", &workshop_ebs],
            "VolumeInUse",
        ),
        // Detach, then delete.
        (
            &[
                "ec2",
                "detach-volume",
                "--volume-id",
                &vol,
                "--instance-id",
                "i-0123456789abcdef0",
            ],
            "InvalidAttachment.NotFound",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
    let det = ec2(ep, &["detach-volume", "--volume-id", &vol]);
    assert_eq!(det["State"], "detaching");
    assert_eq!(det["InstanceId"], INSTANCE_ID);
    assert_eq!(describe_volume(ep, &vol)["State"], "available");
    expect_error(
        aws(ep).args(["ec2", "detach-volume", "--volume-id", &vol]),
        "IncorrectState",
    );
    ec2(ep, &["delete-volume", "--volume-id", &vol]);
    let refused: [(&[&str], &str); 3] = [
        (
            &["ec2", "describe-volumes", "--volume-ids", &vol],
            "InvalidVolume.NotFound",
        ),
        (
            &["ec2", "delete-volume", "--volume-id", &vol],
            "InvalidVolume.NotFound",
        ),
        (
            &["ec2", "describe-volumes", "--volume-ids", "vol-xyz"],
            "InvalidVolumeID.Malformed",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // Paging volumes.
    let all = ec2(ep, &["describe-volumes", "--page-size", "5"]);
    let n = all["Volumes"].as_array().unwrap().len();
    assert_eq!(n, 6, "{all}");
}
