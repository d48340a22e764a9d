//! Instances: the seeded workshop instance, DescribeInstances' filters, paging and errors, and
//! launching, stopping, modifying and starting.

use super::*;

#[test]
fn seeded_workshop_instance_volumes_and_lookalike() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;

    let ws = describe_instance(ep, INSTANCE_ID);
    assert_eq!(ws["InstanceType"], "t2.micro");
    assert_eq!(ws["State"]["Name"], "running");
    assert_eq!(ws["State"]["Code"], 16);
    assert_eq!(ws["ImageId"], AMI);
    assert_eq!(tag(&ws, "Name"), Some(INSTANCE_NAME_TAG));
    assert_eq!(ws["IamInstanceProfile"]["Arn"], profile_arn().as_str());
    assert!(s(&ws["IamInstanceProfile"]["Id"], "profile id").starts_with("AIPA"));
    assert_eq!(ws["RootDeviceName"], "/dev/xvda");
    let devices: Vec<&str> = ws["BlockDeviceMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(&m["DeviceName"], "DeviceName"))
        .collect();
    assert_eq!(devices, ["/dev/sdf", "/dev/xvda"]);
    let placement = s(&ws["Placement"]["AvailabilityZone"], "AZ");
    assert!(placement.starts_with(REGION));

    // The WorkshopEBS volume: 100 GiB gp2, encrypted with ImportedCMK, attached as /dev/sdf.
    let k3 = run_json(aws(ep).args(["kms", "describe-key", "--key-id", IMPORTED_ALIAS]));
    let ebs = volume_named(ep, VOLUME_NAME_TAG);
    assert_eq!(ebs["Size"], 100);
    assert_eq!(ebs["VolumeType"], "gp2");
    assert_eq!(ebs["Encrypted"], true);
    assert_eq!(ebs["KmsKeyId"], k3["KeyMetadata"]["Arn"]);
    assert_eq!(ebs["State"], "in-use");
    assert_eq!(ebs["Attachments"][0]["InstanceId"], INSTANCE_ID);
    assert_eq!(ebs["Attachments"][0]["Device"], "/dev/sdf");
    assert_eq!(ebs["Attachments"][0]["State"], "attached");
    assert_eq!(ebs["Attachments"][0]["DeleteOnTermination"], false);
    assert!(s(&ebs["VolumeId"], "VolumeId").starts_with("vol-"));
    assert_eq!(s(&ebs["VolumeId"], "VolumeId").len(), 4 + 17);

    // The root volume is deleted on termination.
    let root = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=attachment.instance-id,Values={INSTANCE_ID}"),
            "Name=attachment.device,Values=/dev/xvda",
        ],
    );
    assert_eq!(root["Volumes"].as_array().unwrap().len(), 1, "{root}");
    assert_eq!(
        root["Volumes"][0]["Attachments"][0]["DeleteOnTermination"],
        true
    );

    // The association.
    let assoc = ec2(
        ep,
        &[
            "describe-iam-instance-profile-associations",
            "--filters",
            &format!("Name=instance-id,Values={INSTANCE_ID}"),
        ],
    );
    let list = assoc["IamInstanceProfileAssociations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{assoc}");
    assert_eq!(list[0]["State"], "associated");
    assert_eq!(list[0]["IamInstanceProfile"]["Arn"], profile_arn().as_str());
    let aid = s(&list[0]["AssociationId"], "AssociationId");
    assert!(
        aid.starts_with("iip-assoc-") && aid.len() == "iip-assoc-".len() + 17,
        "{aid}"
    );

    // The lookalike: running, no workshop profile.
    let batch = instances(&ec2(
        ep,
        &common::words("describe-instances --filters Name=tag:Name,Values=billing-batch"),
    ));
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0]["State"]["Name"], "running");
    assert!(batch[0].get("IamInstanceProfile").is_none(), "{}", batch[0]);
    assert_ne!(batch[0]["InstanceId"], INSTANCE_ID);
    let id = s(&batch[0]["InstanceId"], "InstanceId");
    assert!(id.starts_with("i-") && id.len() == 19, "{id}");
    assert!(s(&batch[0]["InstanceId"], "id").starts_with("i-"));

    // Filtering on the workshop's profile finds only the workshop instance.
    let by_profile = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            &format!("Name=iam-instance-profile.arn,Values={}", profile_arn()),
        ],
    ));
    assert_eq!(by_profile.len(), 1);
    assert_eq!(by_profile[0]["InstanceId"], INSTANCE_ID);

    // Instance status: both running instances, checks passed.
    let st = ec2(ep, &["describe-instance-status"]);
    let statuses = st["InstanceStatuses"].as_array().unwrap();
    assert_eq!(statuses.len(), 2, "{st}");
    for x in statuses {
        assert_eq!(x["InstanceState"]["Name"], "running");
        assert_eq!(x["InstanceStatus"]["Status"], "ok");
        assert_eq!(x["SystemStatus"]["Status"], "ok");
    }

    // Tags of the workshop instance.
    let tags = ec2(
        ep,
        &[
            "describe-tags",
            "--filters",
            &format!("Name=resource-id,Values={INSTANCE_ID}"),
        ],
    );
    assert_eq!(
        tags["Tags"],
        serde_json::json!([{"Key": "Name", "ResourceId": INSTANCE_ID, "ResourceType": "instance", "Value": INSTANCE_NAME_TAG}])
    );
}

#[test]
fn describe_instances_filters_paging_and_errors() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;

    let run = run_instance(
        ep,
        &[
            "--count",
            "5",
            "--key-name",
            "workshop-key",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=Name,Value=fleet},{Key=team,Value=kms}]",
        ],
    );
    assert!(s(&run["ReservationId"], "ReservationId").starts_with("r-"));
    assert_eq!(run["OwnerId"], ACCOUNT);
    let launched = run["Instances"].as_array().unwrap();
    assert_eq!(launched.len(), 5);
    for (n, i) in launched.iter().enumerate() {
        assert_eq!(i["State"]["Name"], "pending", "instances start pending");
        assert_eq!(i["AmiLaunchIndex"], n);
        assert_eq!(i["KeyName"], "workshop-key");
    }

    // All seven (two seeded), in pages of five, following NextToken.
    let all = instances(&ec2(ep, &["describe-instances", "--page-size", "5"]));
    assert_eq!(all.len(), 7);
    let unique: std::collections::BTreeSet<&str> =
        all.iter().map(|i| s(&i["InstanceId"], "id")).collect();
    assert_eq!(unique.len(), 7);
    // The CLI counts reservations: billing-batch's, the workshop instance's, then the five.
    let first = ec2(
        ep,
        &["describe-instances", "--max-items", "2", "--page-size", "5"],
    );
    assert_eq!(instances(&first).len(), 2);
    let token = s(&first["NextToken"], "NextToken");
    let rest = ec2(
        ep,
        &[
            "describe-instances",
            "--starting-token",
            token,
            "--page-size",
            "5",
        ],
    );
    assert_eq!(instances(&rest).len(), 5);
    assert!(rest.get("NextToken").is_none());
    // The raw NextToken of one page.
    let page = ec2(
        ep,
        &["describe-instances", "--max-results", "5", "--no-paginate"],
    );
    assert_eq!(instances(&page).len(), 5);
    let raw = s(&page["NextToken"], "NextToken");
    let page2 = ec2(
        ep,
        &[
            "describe-instances",
            "--max-results",
            "5",
            "--next-token",
            raw,
            "--no-paginate",
        ],
    );
    assert_eq!(instances(&page2).len(), 2);
    assert!(page2.get("NextToken").is_none());
    let refused: [(&[&str], &str); 2] = [
        (
            &common::words(
                "ec2 describe-instances --max-results 5 --next-token garbage --no-paginate",
            ),
            "InvalidPaginationToken",
        ),
        // MaxResults below 5 is refused, as EC2 does.
        (
            &common::words("ec2 describe-instances --max-results 2 --no-paginate"),
            "InvalidParameterValue",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }

    // Filters: (the filters, how many instances they match, why).
    let one_id = s(&launched[2]["InstanceId"], "id");
    let (by_image, by_id) = (
        format!("Name=image-id,Values={AMI}"),
        format!("Name=instance-id,Values={one_id},{INSTANCE_ID}"),
    );
    let filtered: [(&[&str], usize, &str); 8] = [
        (
            &["Name=instance-state-name,Values=running"],
            7,
            "the next describe finds launched instances running (instant latency)",
        ),
        (&["Name=tag:Name,Values=fleet"], 5, "the fleet"),
        (
            &["Name=tag-key,Values=team"],
            6,
            "five fleet instances and billing-batch have a team tag",
        ),
        (&["Name=tag:Name,Values=KMS*"], 1, "a wildcard"),
        (&["Name=instance-type,Values=t3.medium"], 1, "by type"),
        (&[&by_image, "Name=tag:team,Values=kms"], 5, "two filters"),
        (&[&by_id], 2, "by id"),
        (
            &["Name=instance-state-name,Values=stopped"],
            0,
            "none stopped",
        ),
    ];
    for (filters, count, why) in filtered {
        let found = instances(&ec2(
            ep,
            &[["describe-instances", "--filters"].as_slice(), filters].concat(),
        ));
        assert_eq!(found.len(), count, "{filters:?}: {why}");
    }
    expect_error(
        aws(ep).args(common::words(
            "ec2 describe-instances --filters Name=no-such-filter,Values=x",
        )),
        "InvalidParameterValue",
    );

    // Errors on ids.
    let err = expect_error(
        aws(ep).args(common::words(
            "ec2 describe-instances --instance-ids i-0123456789abcdef0",
        )),
        "InvalidInstanceID.NotFound",
    );
    assert!(err.contains("i-0123456789abcdef0"), "{err}");
    let refused: [(&[&str], &str); 6] = [
        (
            &common::words("ec2 describe-instances --instance-ids not-an-instance"),
            "InvalidInstanceID.Malformed",
        ),
        (
            &[
                "ec2",
                "describe-instances",
                "--instance-ids",
                INSTANCE_ID,
                "i-0123456789abcdef0",
            ],
            "InvalidInstanceID.NotFound",
        ),
        // RunInstances errors.
        (
            &common::words("ec2 run-instances --image-id ubuntu --instance-type t2.micro"),
            "InvalidAMIID.Malformed",
        ),
        (
            &[
                "ec2",
                "run-instances",
                "--image-id",
                AMI,
                "--instance-type",
                "t2.micro",
                "--count",
                "3:2",
            ],
            "InvalidParameterValue",
        ),
        (
            &[
                "ec2",
                "run-instances",
                "--image-id",
                AMI,
                "--iam-instance-profile",
                "Arn=not-an-arn",
            ],
            "InvalidParameterValue",
        ),
        (
            &["ec2", "run-instances", "--image-id", AMI, "--count", "40"],
            "InstanceLimitExceeded",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
}

#[test]
fn run_with_profile_subnet_and_tags_then_stop_modify_start() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;

    let run = run_instance(
        ep,
        &[
            "--iam-instance-profile",
            &format!("Name={PROFILE}"),
            "--subnet-id",
            "subnet-0123456789abcdef0",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=Name,Value=probe}]",
            "ResourceType=volume,Tags=[{Key=Name,Value=probe-root}]",
        ],
    );
    let id = s(&run["Instances"][0]["InstanceId"], "id").to_string();
    let i = describe_instance(ep, &id);
    assert_eq!(i["State"]["Name"], "running");
    assert_eq!(i["SubnetId"], "subnet-0123456789abcdef0");
    assert_eq!(i["IamInstanceProfile"]["Arn"], profile_arn().as_str());
    let root = volume_named(ep, "probe-root");
    assert_eq!(root["Attachments"][0]["InstanceId"], id.as_str());
    assert_eq!(root["Size"], 8);

    // disableApiTermination protects the instance until it is turned off again.
    ec2(
        ep,
        &[
            "modify-instance-attribute",
            "--instance-id",
            &id,
            "--disable-api-termination",
        ],
    );
    let attr = ec2(
        ep,
        &[
            "describe-instance-attribute",
            "--instance-id",
            &id,
            "--attribute",
            "disableApiTermination",
        ],
    );
    assert_eq!(attr["DisableApiTermination"]["Value"], true);
    assert_eq!(attr["InstanceId"], id.as_str());
    let msg = expect_error(
        aws(ep).args(["ec2", "terminate-instances", "--instance-ids", &id]),
        "OperationNotPermitted",
    );
    assert!(msg.contains("disableApiTermination"), "{msg}");
    ec2(
        ep,
        &[
            "modify-instance-attribute",
            "--instance-id",
            &id,
            "--attribute",
            "disableApiTermination",
            "--value",
            "false",
        ],
    );
    let attr = ec2(
        ep,
        &[
            "describe-instance-attribute",
            "--instance-id",
            &id,
            "--attribute",
            "disableApiTermination",
        ],
    );
    assert_eq!(attr["DisableApiTermination"]["Value"], false);

    // The instance type changes only while stopped.
    expect_error(
        aws(ep).args([
            "ec2",
            "modify-instance-attribute",
            "--instance-id",
            &id,
            "--instance-type",
            "Value=t3.small",
        ]),
        "IncorrectInstanceState",
    );
    let stop = ec2(ep, &["stop-instances", "--instance-ids", &id]);
    assert_eq!(
        stop["StoppingInstances"][0]["PreviousState"]["Name"],
        "running"
    );
    assert_eq!(
        stop["StoppingInstances"][0]["CurrentState"]["Name"],
        "stopping"
    );
    assert_eq!(state_of(ep, &id), "stopped");
    let stopped = describe_instance(ep, &id);
    assert_eq!(
        stopped["StateReason"]["Code"],
        "Client.UserInitiatedShutdown"
    );
    assert!(stopped.get("PublicIpAddress").is_none());
    let status = ec2(ep, &["describe-instance-status", "--instance-ids", &id]);
    assert!(
        status["InstanceStatuses"].as_array().unwrap().is_empty(),
        "only running instances without IncludeAllInstances"
    );
    let status = ec2(
        ep,
        &[
            "describe-instance-status",
            "--instance-ids",
            &id,
            "--include-all-instances",
        ],
    );
    assert_eq!(
        status["InstanceStatuses"][0]["InstanceState"]["Name"],
        "stopped"
    );
    assert_eq!(
        status["InstanceStatuses"][0]["InstanceStatus"]["Status"],
        "not-applicable"
    );

    ec2(
        ep,
        &[
            "modify-instance-attribute",
            "--instance-id",
            &id,
            "--instance-type",
            "Value=t3.small",
        ],
    );
    let attr = ec2(
        ep,
        &[
            "describe-instance-attribute",
            "--instance-id",
            &id,
            "--attribute",
            "instanceType",
        ],
    );
    assert_eq!(attr["InstanceType"]["Value"], "t3.small");
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-instance-attribute",
            "--instance-id",
            &id,
            "--attribute",
            "noSuchThing",
        ]),
        "InvalidParameterValue",
    );

    let start = ec2(ep, &["start-instances", "--instance-ids", &id]);
    assert_eq!(
        start["StartingInstances"][0]["PreviousState"]["Name"],
        "stopped"
    );
    assert_eq!(
        start["StartingInstances"][0]["CurrentState"]["Name"],
        "pending"
    );
    assert_eq!(state_of(ep, &id), "running");
    assert_eq!(describe_instance(ep, &id)["InstanceType"], "t3.small");

    // Terminated instances stay visible, refuse to start, and keep their id.
    let term = ec2(ep, &["terminate-instances", "--instance-ids", &id]);
    assert_eq!(
        term["TerminatingInstances"][0]["CurrentState"]["Name"],
        "shutting-down"
    );
    assert_eq!(term["TerminatingInstances"][0]["CurrentState"]["Code"], 32);
    assert_eq!(state_of(ep, &id), "terminated");
    let refused: [(&[&str], &str); 2] = [
        (
            &["ec2", "start-instances", "--instance-ids", &id],
            "IncorrectInstanceState",
        ),
        (
            &["ec2", "stop-instances", "--instance-ids", &id],
            "IncorrectInstanceState",
        ),
    ];
    for (args, code) in refused {
        expect_error(aws(ep).args(args), code);
    }
    let again = ec2(ep, &["terminate-instances", "--instance-ids", &id]);
    assert_eq!(
        again["TerminatingInstances"][0]["PreviousState"]["Name"],
        "terminated"
    );
    // The root volume went with it (DeleteOnTermination), the association too.
    let vols = ec2(
        ep,
        &common::words("describe-volumes --filters Name=tag:Name,Values=probe-root"),
    );
    assert!(vols["Volumes"].as_array().unwrap().is_empty(), "{vols}");
    let assoc = ec2(
        ep,
        &[
            "describe-iam-instance-profile-associations",
            "--filters",
            &format!("Name=instance-id,Values={id}"),
        ],
    );
    assert!(
        assoc["IamInstanceProfileAssociations"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{assoc}"
    );
    // After an hour it is gone.
    advance_clock(ep, 3700);
    expect_error(
        aws(ep).args(["ec2", "describe-instances", "--instance-ids", &id]),
        "InvalidInstanceID.NotFound",
    );
}
