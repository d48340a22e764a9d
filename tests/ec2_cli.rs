//! The real `aws` CLI (`aws ec2 …`, the pinned awscli from `.venv`) against a sandbox started by
//! each test: the workshop's seeded instance, volumes and instance profile association; every
//! EC2 operation the sandbox serves with its filters, paging and errors; and the workshop's
//! clean-up path (disassociate → terminate → terminated → volume available → delete) under the
//! realistic latency profile, completed by advancing the sandbox clock.
//!
//! Every test has its own sandbox, so they run in parallel and in any order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{Read, Write};
use std::process::{Command, Output};

use serde_json::Value;

use common::*;

const PROFILE: &str = "KMSWorkshop-InstanceInitRole";
const AMI: &str = "ami-0c02fb55956c7d316";

fn profile_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:instance-profile/{PROFILE}")
}

/// The AWS error code from the CLI's "An error occurred (Code) when calling …" message.
fn error_code(out: &Output) -> String {
    let s = stderr_of(out);
    s.split("An error occurred (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no AWS error in stderr: {s}"))
        .to_string()
}

/// Run, expect the AWS error `code`; returns stderr.
fn expect_error(cmd: &mut Command, code: &str) -> String {
    let out = run_fail(cmd);
    assert_eq!(
        error_code(&out),
        code,
        "{cmd:?}\nstderr: {}",
        stderr_of(&out)
    );
    stderr_of(&out)
}

fn ec2(ep: &str, args: &[&str]) -> Value {
    run_json(aws(ep).arg("ec2").args(args))
}

fn s<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {v}"))
}

/// Every instance of a describe-instances answer, across reservations.
fn instances(v: &Value) -> Vec<Value> {
    v["Reservations"]
        .as_array()
        .unwrap_or_else(|| panic!("no Reservations in {v}"))
        .iter()
        .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn describe_instance(ep: &str, id: &str) -> Value {
    let all = instances(&ec2(ep, &["describe-instances", "--instance-ids", id]));
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

fn state_of(ep: &str, id: &str) -> String {
    s(&describe_instance(ep, id)["State"]["Name"], "State.Name").to_string()
}

fn describe_volume(ep: &str, id: &str) -> Value {
    let v = ec2(ep, &["describe-volumes", "--volume-ids", id]);
    v["Volumes"][0].clone()
}

/// The id of the single volume with tag Name=`name`.
fn volume_named(ep: &str, name: &str) -> Value {
    let v = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=tag:Name,Values={name}"),
        ],
    );
    let vols = v["Volumes"].as_array().unwrap();
    assert_eq!(vols.len(), 1, "{v}");
    vols[0].clone()
}

fn tag<'a>(resource: &'a Value, key: &str) -> Option<&'a str> {
    resource["Tags"]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == key)
        .and_then(|t| t["Value"].as_str())
}

/// POST /_sandbox/clock/advance?seconds=N on the test's sandbox.
fn advance_clock(ep: &str, seconds: u64) {
    let addr = ep.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).expect("connect to the sandbox");
    write!(
        conn,
        "POST /_sandbox/clock/advance?seconds={seconds} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "clock advance failed: {answer}"
    );
}

fn run_instance(ep: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "run-instances",
        "--image-id",
        AMI,
        "--instance-type",
        "t2.micro",
    ];
    args.extend_from_slice(extra);
    ec2(ep, &args)
}

// ---------------------------------------------------------------------------------------------

#[test]
fn seeded_workshop_instance_volumes_and_lookalike() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;

    let ws = describe_instance(ep, INSTANCE_ID);
    assert_eq!(ws["InstanceType"], "t2.micro");
    assert_eq!(ws["State"]["Name"], "running");
    assert_eq!(ws["State"]["Code"], 16);
    assert_eq!(ws["ImageId"], AMI);
    assert_eq!(tag(&ws, "Name"), Some("KMSWorkshop-Instance"));
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
    let k3 = run_json(aws(ep).args(["kms", "describe-key", "--key-id", "alias/ImportedCMK"]));
    let ebs = volume_named(ep, "WorkshopEBS");
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
        &[
            "describe-instances",
            "--filters",
            "Name=tag:Name,Values=billing-batch",
        ],
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
        serde_json::json!([{"Key": "Name", "ResourceId": INSTANCE_ID, "ResourceType": "instance", "Value": "KMSWorkshop-Instance"}])
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
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-instances",
            "--max-results",
            "5",
            "--next-token",
            "garbage",
            "--no-paginate",
        ]),
        "InvalidPaginationToken",
    );
    // MaxResults below 5 is refused, as EC2 does.
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-instances",
            "--max-results",
            "2",
            "--no-paginate",
        ]),
        "InvalidParameterValue",
    );

    // Filters.
    let running = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=instance-state-name,Values=running",
        ],
    ));
    assert_eq!(
        running.len(),
        7,
        "the next describe finds launched instances running (instant latency)"
    );
    let fleet = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=tag:Name,Values=fleet",
        ],
    ));
    assert_eq!(fleet.len(), 5);
    let by_key = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=tag-key,Values=team",
        ],
    ));
    assert_eq!(
        by_key.len(),
        6,
        "five fleet instances and billing-batch have a team tag"
    );
    let wild = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=tag:Name,Values=KMS*",
        ],
    ));
    assert_eq!(wild.len(), 1);
    let by_type = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=instance-type,Values=t3.medium",
        ],
    ));
    assert_eq!(by_type.len(), 1);
    let by_image = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            &format!("Name=image-id,Values={AMI}"),
            "Name=tag:team,Values=kms",
        ],
    ));
    assert_eq!(by_image.len(), 5);
    let one_id = s(&launched[2]["InstanceId"], "id");
    let by_id = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            &format!("Name=instance-id,Values={one_id},{INSTANCE_ID}"),
        ],
    ));
    assert_eq!(by_id.len(), 2);
    let none = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=instance-state-name,Values=stopped",
        ],
    ));
    assert!(none.is_empty());
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-instances",
            "--filters",
            "Name=no-such-filter,Values=x",
        ]),
        "InvalidParameterValue",
    );

    // Errors on ids.
    let err = expect_error(
        aws(ep).args([
            "ec2",
            "describe-instances",
            "--instance-ids",
            "i-0123456789abcdef0",
        ]),
        "InvalidInstanceID.NotFound",
    );
    assert!(err.contains("i-0123456789abcdef0"), "{err}");
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-instances",
            "--instance-ids",
            "not-an-instance",
        ]),
        "InvalidInstanceID.Malformed",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "describe-instances",
            "--instance-ids",
            INSTANCE_ID,
            "i-0123456789abcdef0",
        ]),
        "InvalidInstanceID.NotFound",
    );

    // RunInstances errors.
    expect_error(
        aws(ep).args([
            "ec2",
            "run-instances",
            "--image-id",
            "ubuntu",
            "--instance-type",
            "t2.micro",
        ]),
        "InvalidAMIID.Malformed",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "run-instances",
            "--image-id",
            AMI,
            "--instance-type",
            "t2.micro",
            "--count",
            "3:2",
        ]),
        "InvalidParameterValue",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "run-instances",
            "--image-id",
            AMI,
            "--iam-instance-profile",
            "Arn=not-an-arn",
        ]),
        "InvalidParameterValue",
    );
    expect_error(
        aws(ep).args(["ec2", "run-instances", "--image-id", AMI, "--count", "40"]),
        "InstanceLimitExceeded",
    );
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
    expect_error(
        aws(ep).args(["ec2", "start-instances", "--instance-ids", &id]),
        "IncorrectInstanceState",
    );
    expect_error(
        aws(ep).args(["ec2", "stop-instances", "--instance-ids", &id]),
        "IncorrectInstanceState",
    );
    let again = ec2(ep, &["terminate-instances", "--instance-ids", &id]);
    assert_eq!(
        again["TerminatingInstances"][0]["PreviousState"]["Name"],
        "terminated"
    );
    // The root volume went with it (DeleteOnTermination), the association too.
    let vols = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            "Name=tag:Name,Values=probe-root",
        ],
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
        &[
            "describe-iam-instance-profile-associations",
            "--filters",
            "Name=state,Values=associated",
        ],
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
        aws(ep).args([
            "ec2",
            "associate-iam-instance-profile",
            "--instance-id",
            "i-0123456789abcdef0",
            "--iam-instance-profile",
            "Name=x",
        ]),
        "InvalidInstanceID.NotFound",
    );
}

#[test]
fn volumes_create_attach_detach_delete() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let first_cmk = run_json(aws(ep).args(["kms", "describe-key", "--key-id", "alias/FirstCMK"]));
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
            "alias/FirstCMK",
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
    expect_error(
        aws(ep).args(["ec2", "create-volume", "--size", "10"]),
        "MissingParameter",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "create-volume",
            "--size",
            "10",
            "--availability-zone",
            "eu-west-1a",
        ]),
        "InvalidZone.NotFound",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "create-volume",
            "--size",
            "10",
            "--availability-zone",
            &format!("{REGION}a"),
            "--kms-key-id",
            "alias/FirstCMK",
        ]),
        "InvalidParameterDependency",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "create-volume",
            "--size",
            "99999",
            "--availability-zone",
            &format!("{REGION}a"),
        ]),
        "InvalidParameterValue",
    );
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
    expect_error(
        aws(ep).args([
            "ec2",
            "attach-volume",
            "--volume-id",
            s(&far["VolumeId"], "id"),
            "--instance-id",
            INSTANCE_ID,
            "--device",
            "/dev/sdk",
        ]),
        "InvalidVolume.ZoneMismatch",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "attach-volume",
            "--volume-id",
            "vol-0123456789abcdef0",
            "--instance-id",
            INSTANCE_ID,
            "--device",
            "/dev/sdk",
        ]),
        "InvalidVolume.NotFound",
    );

    // Delete while attached: VolumeInUse.
    let msg = expect_error(
        aws(ep).args(["ec2", "delete-volume", "--volume-id", &vol]),
        "VolumeInUse",
    );
    assert!(msg.contains(INSTANCE_ID), "{msg}");
    let workshop_ebs = s(&volume_named(ep, "WorkshopEBS")["VolumeId"], "id").to_string();
    expect_error(
        aws(ep).args(["ec2", "delete-volume", "--volume-id", &workshop_ebs]),
        "VolumeInUse",
    );

    // Detach, then delete.
    expect_error(
        aws(ep).args([
            "ec2",
            "detach-volume",
            "--volume-id",
            &vol,
            "--instance-id",
            "i-0123456789abcdef0",
        ]),
        "InvalidAttachment.NotFound",
    );
    let det = ec2(ep, &["detach-volume", "--volume-id", &vol]);
    assert_eq!(det["State"], "detaching");
    assert_eq!(det["InstanceId"], INSTANCE_ID);
    assert_eq!(describe_volume(ep, &vol)["State"], "available");
    expect_error(
        aws(ep).args(["ec2", "detach-volume", "--volume-id", &vol]),
        "IncorrectState",
    );
    ec2(ep, &["delete-volume", "--volume-id", &vol]);
    expect_error(
        aws(ep).args(["ec2", "describe-volumes", "--volume-ids", &vol]),
        "InvalidVolume.NotFound",
    );
    expect_error(
        aws(ep).args(["ec2", "delete-volume", "--volume-id", &vol]),
        "InvalidVolume.NotFound",
    );
    expect_error(
        aws(ep).args(["ec2", "describe-volumes", "--volume-ids", "vol-xyz"]),
        "InvalidVolumeID.Malformed",
    );

    // Paging volumes.
    let all = ec2(ep, &["describe-volumes", "--page-size", "5"]);
    let n = all["Volumes"].as_array().unwrap().len();
    assert_eq!(n, 6, "{all}");
}

#[test]
fn tags_create_describe_delete() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let ebs = s(&volume_named(ep, "WorkshopEBS")["VolumeId"], "id").to_string();

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
        &[
            "describe-tags",
            "--filters",
            "Name=resource-type,Values=volume",
            "Name=value,Values=learner",
        ],
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
        &[
            "describe-instances",
            "--filters",
            "Name=tag:project,Values=kmsworkshop",
        ],
    ));
    assert_eq!(by_tag.len(), 1);
    let vols = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            "Name=tag:owner,Values=learner",
        ],
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
    expect_error(
        aws(ep).args([
            "ec2",
            "create-tags",
            "--resources",
            "i-0123456789abcdef0",
            "--tags",
            "Key=a,Value=b",
        ]),
        "InvalidInstanceID.NotFound",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "create-tags",
            "--resources",
            "vol-0123456789abcdef0",
            "--tags",
            "Key=a,Value=b",
        ]),
        "InvalidVolume.NotFound",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "create-tags",
            "--resources",
            INSTANCE_ID,
            "--tags",
            "Key=aws:x,Value=b",
        ]),
        "InvalidParameterValue",
    );
    expect_error(
        aws(ep).args([
            "ec2",
            "create-tags",
            "--resources",
            "ami-12345678",
            "--tags",
            "Key=a,Value=b",
        ]),
        "InvalidID",
    );
}

/// The workshop's clean-up (DESIGN.md section 6) under realistic latency: each transition takes
/// time on the sandbox clock, and advancing the clock completes it.
#[test]
fn cleanup_path_under_realistic_latency() {
    // A time scale below 1 stretches the realistic durations (termination 300–600 s here), so the
    // transitional states are observed however slowly this test runs.
    let sb = SandboxProc::start(&["--latency", "realistic", "--time-scale", "0.1"]);
    let ep = &sb.endpoint;
    let ebs = s(&volume_named(ep, "WorkshopEBS")["VolumeId"], "id").to_string();
    let batch = instances(&ec2(
        ep,
        &[
            "describe-instances",
            "--filters",
            "Name=tag:Name,Values=billing-batch",
        ],
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
        &[
            "describe-instances",
            "--filters",
            "Name=instance-state-name,Values=shutting-down",
        ],
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
