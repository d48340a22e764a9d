//! Differential test: the same EC2 requests (instances, instance profile associations, instance
//! attributes, volumes, tags), sent through the Rust SDK to `moto_server` and to the sandbox
//! binary (`--seed empty`), must get answers of the same shape (members present and their
//! types, enum values) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore model and the EC2 API reference), that member or comparison is skipped with the
//! reason next to it, and the sandbox's answer is checked against AWS's documented answer
//! instead. Every answer of the sandbox is also checked against botocore's model: each member
//! path (by the model's `locationName`s, nested through structures and `<item>` lists) must be
//! one the model defines. Needs `moto_server` and Python from the test virtualenv
//! (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod requests;

use crate::common;

use aws_sdk_ec2::types::InstanceAttributeName;
use common::differential::*;
use requests::*;
use serde_json::json;

/// Instance members moto 5.2 writes that the sandbox does not model.
const MOTO_INSTANCE_EXTRAS: &[&str] = &[
    // The sandbox models no network interfaces (AWS lists the primary ENI here).
    "networkInterfaceSet",
    // Hardware details AWS reports for some instance types only; moto writes them always.
    "sriovNetSupport",
    "kernelId",
];

/// Instance members the sandbox writes as AWS does and moto 5.2 leaves out.
const AWS_INSTANCE_EXTRAS: &[&str] = &[
    // AWS lists an instance's security groups (the default VPC's `default` group here).
    "groupSet",
    "platformDetails",
    "usageOperation",
    "usageOperationUpdateTime",
    "maintenanceOptions",
    "currentInstanceBootMode",
    "enclaveOptions",
    "cpuOptions",
    "enaSupport",
    // AWS answers `configured: false`; moto writes the element empty.
    "hibernationOptions",
];

/// moto keeps a `stateReason` on running instances; AWS shows one after a stop or termination
/// (compared there).
const MOTO_RUNNING_STATE_REASON: &[&str] = &["reservationSet[].instancesSet[].stateReason"];

fn prefixed(prefix: &str, members: &[&str]) -> Vec<String> {
    members.iter().map(|m| format!("{prefix}{m}")).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The member paths of an instance, below `prefix`, that are not compared.
struct InstanceGaps {
    run: Vec<String>,
    describe: Vec<String>,
}

impl InstanceGaps {
    fn new() -> InstanceGaps {
        let gaps = |prefix| {
            [
                prefixed(prefix, MOTO_INSTANCE_EXTRAS),
                prefixed(prefix, AWS_INSTANCE_EXTRAS),
            ]
            .concat()
        };
        InstanceGaps {
            run: gaps("instancesSet[]."),
            describe: gaps("reservationSet[].instancesSet[]."),
        }
    }
}

const INSTANCE_ENUMS: &[&str] = &[
    "reservationSet[].instancesSet[].instanceState.name",
    "reservationSet[].instancesSet[].instanceState.code",
    "reservationSet[].instancesSet[].instanceType",
    "reservationSet[].instancesSet[].imageId",
    "reservationSet[].instancesSet[].keyName",
    "reservationSet[].instancesSet[].tagSet",
];

const STATE_VALUES: &[&str] = &[
    "instancesSet[].currentState.name",
    "instancesSet[].previousState.name",
    "instancesSet[].currentState.code",
];

const A: Ref = Ref::Kept("a");
const B: Ref = Ref::Kept("b");
const VOL: Ref = Ref::Kept("vol");
const MISSING_INSTANCE: Ref = Ref::Fixed("i-0123456789abcdef0");

/// RunInstances, and the instances as DescribeInstances lists them.
async fn instances(sides: &mut [Side; 2], report: &mut Report, gaps: &InstanceGaps) {
    let (run_gaps, describe_gaps) = (refs(&gaps.run), refs(&gaps.describe));
    let running = |op| {
        Check::new(op)
            .ignore(&describe_gaps)
            .ignore(MOTO_RUNNING_STATE_REASON)
            .values(INSTANCE_ENUMS)
    };
    let rows = [
        // Two instances with a key pair, tags, and an instance profile.
        (
            Ec2::RunInstances,
            Check::new("RunInstances")
                .ignore(&run_gaps)
                .ignore(&["instancesSet[].stateReason"])
                .values(&[
                    "instancesSet[].instanceState.name",
                    "instancesSet[].instanceType",
                    "instancesSet[].tagSet",
                ]),
        ),
        (
            Ec2::DescribeInstances(&[A], &[], None),
            running("DescribeInstances (InstanceIds)"),
        ),
        (
            Ec2::DescribeInstances(&[], &[("tag:Name", Ref::Fixed("differential"))], None),
            running("DescribeInstances (tag filter)"),
        ),
        (
            Ec2::DescribeInstances(&[], &[("instance-state-name", Ref::Fixed("stopped"))], None),
            Check::new("DescribeInstances (no match)"),
        ),
        (
            Ec2::DescribeInstances(&[MISSING_INSTANCE], &[], None),
            Check::new("DescribeInstances (missing id)"),
        ),
        (
            Ec2::DescribeInstances(&[Ref::Fixed("not-an-id")], &[], None),
            Check::new("DescribeInstances (malformed id)").moto_differs(
                "moto does not check the id format",
                "InvalidInstanceID.Malformed",
            ),
        ),
        (
            Ec2::DescribeInstances(&[], &[], Some(5)),
            running("DescribeInstances (MaxResults)"),
        ),
        (
            Ec2::DescribeInstanceStatus(A),
            Check::new("DescribeInstanceStatus")
                // moto's status details are `reachability: passed` too, but it leaves out the
                // availability zone id and the attached-EBS status that AWS added in 2024.
                .ignore(&[
                    "instanceStatusSet[].availabilityZoneId",
                    "instanceStatusSet[].attachedEbsStatus",
                ])
                .values(&[
                    "instanceStatusSet[].instanceState.name",
                    "instanceStatusSet[].instanceStatus.status",
                ]),
        ),
    ];
    run(sides, report, rows).await;
}

/// Instance profile associations.
async fn associations(sides: &mut [Side; 2], report: &mut Report) {
    // AWS answers `associating` / `disassociating` (the change takes a moment); moto
    // `associated` / `disassociated`.
    let changing = |op, state| {
        Check::new(op)
            .ignore(&[
                "iamInstanceProfileAssociation.state",
                "iamInstanceProfileAssociation.timestamp",
            ])
            .aws("iamInstanceProfileAssociation.state", json!(state))
    };
    let rows = [
        (
            Ec2::DescribeAssociations(A),
            Check::new("DescribeIamInstanceProfileAssociations")
                // moto 5.2 leaves out each association's `timestamp`; AWS sends it.
                .ignore(&["iamInstanceProfileAssociationSet[].timestamp"])
                .values(&["iamInstanceProfileAssociationSet[].state"]),
        ),
        (
            Ec2::Associate(A, PROFILE),
            Check::new("AssociateIamInstanceProfile (already associated)"),
        ),
        (
            Ec2::ReplaceAssociation(Ref::Kept("assoc")),
            changing("ReplaceIamInstanceProfileAssociation", "associating"),
        ),
        (
            Ec2::Disassociate(Ref::Kept("assoc2")),
            changing("DisassociateIamInstanceProfile", "disassociating"),
        ),
        (
            Ec2::Disassociate(Ref::Fixed("iip-assoc-0123456789abcdef0")),
            Check::new("DisassociateIamInstanceProfile (unknown)"),
        ),
        (
            Ec2::Associate(B, OTHER_PROFILE),
            Check::new("AssociateIamInstanceProfile (second instance)").moto_differs(
                "moto associates RunInstances' profile with the first instance only; AWS with each one",
                "IncorrectState",
            ),
        ),
    ];
    run(sides, report, rows).await;
}

/// Instance attributes and termination protection; stop, change the type, start.
async fn attributes(sides: &mut [Side; 2], report: &mut Report, gaps: &InstanceGaps) {
    let describe_gaps = refs(&gaps.describe);
    let no_return = |op| Check::new(op).ignore(&["return"]);
    let rows = [
        (
            Ec2::ModifyAttribute(A, Modify::DisableApiTermination(true)),
            no_return("ModifyInstanceAttribute (disableApiTermination)"),
        ),
        (
            Ec2::DescribeAttribute(A, InstanceAttributeName::DisableApiTermination),
            Check::new("DescribeInstanceAttribute (disableApiTermination)")
                .values(&["disableApiTermination.value"]),
        ),
        (
            Ec2::TerminateInstances(&[A]),
            Check::new("TerminateInstances (protected)"),
        ),
        (
            Ec2::ModifyAttribute(A, Modify::DisableApiTermination(false)),
            no_return("ModifyInstanceAttribute (unprotect)"),
        ),
        (
            Ec2::StopInstances(B),
            Check::new("StopInstances").values(STATE_VALUES),
        ),
        (
            Ec2::DescribeInstances(&[B], &[], None),
            Check::new("DescribeInstances (stopped)")
                .ignore(&describe_gaps)
                .values(INSTANCE_ENUMS),
        ),
        (
            Ec2::ModifyAttribute(B, Modify::InstanceType("t3.micro")),
            no_return("ModifyInstanceAttribute (instanceType)"),
        ),
        (
            Ec2::DescribeAttribute(B, InstanceAttributeName::InstanceType),
            Check::new("DescribeInstanceAttribute (instanceType)").values(&["instanceType.value"]),
        ),
        (
            Ec2::StartInstances(B),
            Check::new("StartInstances").values(STATE_VALUES),
        ),
    ];
    run(sides, report, rows).await;
}

/// Volumes.
async fn volumes(sides: &mut [Side; 2], report: &mut Report) {
    let volume_gaps: &[&str] = &[
        // moto writes `sseType`, `fastRestored`, `volumeInitializationRate`; not modelled.
        "sseType",
        "fastRestored",
        "volumeInitializationRate",
        "availabilityZoneId",
        "sourceVolumeId",
        "operator",
    ];
    let volume_set_gaps = prefixed("volumeSet[].", volume_gaps);
    let volume_set_gaps = refs(&volume_set_gaps);
    // moto adds `deleteOnTermination` to the answer; AWS's Attach/DetachVolume answer has none.
    let attachment = |op| {
        Check::new(op)
            .ignore(&[
                "deleteOnTermination",
                "associatedResource",
                "instanceOwningService",
                "ebsCardIndex",
            ])
            .values(&["status", "device"])
    };
    let rows = [
        (
            Ec2::CreateVolume,
            Check::new("CreateVolume")
                .ignore(volume_gaps)
                // moto leaves out `multiAttachEnabled` and gp2's baseline `iops`; AWS sends both.
                .ignore(&["multiAttachEnabled", "iops"])
                .values(&["size", "volumeType", "encrypted", "tagSet"])
                // AWS answers `creating` (the volume is available a moment later); moto
                // `available`.
                .aws("status", json!("creating")),
        ),
        (
            Ec2::DescribeVolumes(&[VOL], &[]),
            Check::new("DescribeVolumes (VolumeIds)")
                .ignore(&volume_set_gaps)
                .ignore(&["volumeSet[].multiAttachEnabled", "volumeSet[].iops"])
                .values(&[
                    "volumeSet[].status",
                    "volumeSet[].size",
                    "volumeSet[].volumeType",
                ]),
        ),
        (
            Ec2::AttachVolume(VOL, A, "/dev/sdf"),
            attachment("AttachVolume"),
        ),
        (
            Ec2::DescribeVolumes(
                &[],
                &[
                    ("attachment.instance-id", A),
                    ("tag:Name", Ref::Fixed("differential")),
                ],
            ),
            Check::new("DescribeVolumes (attachment filter)")
                .ignore(&volume_set_gaps)
                .ignore(&["volumeSet[].multiAttachEnabled", "volumeSet[].iops"])
                // AWS lists `deleteOnTermination` with each attachment; moto 5.2 leaves it out.
                .ignore(&["volumeSet[].attachmentSet[].deleteOnTermination"])
                .values(&[
                    "volumeSet[].status",
                    "volumeSet[].attachmentSet[].status",
                    "volumeSet[].attachmentSet[].device",
                ]),
        ),
        (
            Ec2::DeleteVolume(VOL),
            Check::new("DeleteVolume (attached)"),
        ),
        // moto 5.2 needs the instance id (it answers 500 without it; AWS does not need it).
        (Ec2::DetachVolume(VOL, A), attachment("DetachVolume")),
        (
            Ec2::DeleteVolume(VOL),
            Check::new("DeleteVolume").ignore(&["return"]),
        ),
        (
            Ec2::DescribeVolumes(&[VOL], &[]),
            Check::new("DescribeVolumes (deleted)"),
        ),
    ];
    run(sides, report, rows).await;
}

/// Tags, then terminating both instances.
async fn tags_and_termination(sides: &mut [Side; 2], report: &mut Report, gaps: &InstanceGaps) {
    let describe_gaps = refs(&gaps.describe);
    let tag_values: &[&str] = &["tagSet[].key", "tagSet[].value", "tagSet[].resourceType"];
    let rows = [
        (
            Ec2::CreateTags(A, &[("project", "kmsworkshop"), ("stage", "iv")]),
            Check::new("CreateTags").ignore(&["return"]),
        ),
        (
            Ec2::DescribeTags(&[("resource-id", A)]),
            Check::new("DescribeTags (resource-id)").values(tag_values),
        ),
        (
            Ec2::DeleteTags(A, "stage"),
            Check::new("DeleteTags").ignore(&["return"]),
        ),
        (
            Ec2::DescribeTags(&[("key", Ref::Fixed("project"))]),
            Check::new("DescribeTags (key)").values(tag_values),
        ),
        (
            Ec2::CreateTags(MISSING_INSTANCE, &[("a", "b")]),
            Check::new("CreateTags (missing instance)").moto_differs(
                "moto tags ids that do not exist; AWS refuses",
                "InvalidInstanceID.NotFound",
            ),
        ),
        // Terminate both.
        (
            Ec2::TerminateInstances(&[A, B]),
            Check::new("TerminateInstances").values(STATE_VALUES),
        ),
        (
            Ec2::DescribeInstances(
                &[],
                &[("instance-state-name", Ref::Fixed("terminated"))],
                None,
            ),
            Check::new("DescribeInstances (terminated)")
                .ignore(&describe_gaps)
                // Terminated instances keep no network placement on AWS; moto keeps it.
                .ignore(&[
                    "reservationSet[].instancesSet[].subnetId",
                    "reservationSet[].instancesSet[].vpcId",
                    "reservationSet[].instancesSet[].privateIpAddress",
                    "reservationSet[].instancesSet[].privateDnsName",
                    "reservationSet[].instancesSet[].sourceDestCheck",
                    "reservationSet[].instancesSet[].groupSet",
                ])
                .values(&["reservationSet[].instancesSet[].instanceState.name"]),
        ),
    ];
    run(sides, report, rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let sides = &mut Side::pair(&moto_proc.endpoint, &sandbox_proc.endpoint, Dialect::Ec2).await;
    let report = &mut Report::new(botocore_ec2_paths());

    // moto checks that instance profiles exist in its IAM; the sandbox's EC2 does not look
    // them up, but its IAM takes the same requests.
    for side in sides.iter_mut() {
        for name in [PROFILE, OTHER_PROFILE] {
            let _ = side
                .iam
                .create_instance_profile()
                .instance_profile_name(name)
                .send()
                .await;
        }
    }
    let gaps = InstanceGaps::new();
    instances(sides, report, &gaps).await;
    associations(sides, report).await;
    attributes(sides, report, &gaps).await;
    volumes(sides, report).await;
    tags_and_termination(sides, report, &gaps).await;

    report.finish(
        "differential: moto_server vs the sandbox, EC2 (Rust SDK, same requests)",
        (52, 48),
    );
}
