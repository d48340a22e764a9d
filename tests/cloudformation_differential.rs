//! Differential test: the same CloudFormation requests, sent through the Rust SDK
//! (aws-sdk-cloudformation) to `moto_server` and to the sandbox binary (`--seed empty`), must get
//! answers of the same shape (members present and their types, statuses, names) and the same
//! error codes: CreateStack with a template of an S3 bucket, an IAM role, an instance profile
//! and an SNS topic, DescribeStacks, ListStacks, ListStackResources, DescribeStackResources,
//! GetTemplate, DeleteStack, and the errors.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore model and the CloudFormation API reference), that comparison is skipped with the
//! reason next to it, and the sandbox's answer is checked against AWS's documented answer
//! instead. Every answer of the sandbox is also checked against botocore's model. Needs
//! `moto_server` and Python from the test virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use aws_sdk_cloudformation::types::{Capability, StackStatus};
use common::differential::*;
use serde_json::json;

const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Description: differential stack
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "diff-bucket-${AWS::AccountId}"
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: diff-cfn-role
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: [ec2.amazonaws.com] }
            Action: ["sts:AssumeRole"]
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      InstanceProfileName: diff-cfn-profile
      Roles: [!Ref Role]
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: diff-cfn-topic
      DisplayName: diff
Outputs:
  TopicArn:
    Value: !Ref Topic
"#;

/// A named IAM resource alone (for the capabilities check, which moto does not make: its stack
/// must not collide with the names above).
const NAMED_ROLE_ONLY: &str = r#"{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "nocaps-role", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}}}"#;

/// moto leaves DriftInformation, NotificationARNs and Tags (when empty) out of stacks; AWS's
/// documented DescribeStacks answer has them.
const MOTO_STACK_GAPS: &[&str] = &[
    "Stacks[].DriftInformation",
    "Stacks[].NotificationARNs",
    "Stacks[].Tags",
    "Stacks[].EnableTerminationProtection",
    "Stacks[].DisableRollback",
    "Stacks[].Capabilities",
    "Stacks[].Outputs",
    "Stacks[].RollbackConfiguration",
    "Stacks[].StackStatusReason",
    "Stacks[].LastUpdatedTime",
    "Stacks[].Parameters",
];

/// Resource listings: moto leaves out DriftInformation (and ResourceStatusReason), and
/// LastUpdatedTimestamp from summaries, which AWS answers (botocore's model requires it).
const MOTO_RESOURCE_GAPS: &[&str] = &[
    "StackResourceSummaries[].LastUpdatedTimestamp",
    "StackResourceSummaries[].DriftInformation",
    "StackResourceSummaries[].ResourceStatusReason",
    "StackResources[].DriftInformation",
    "StackResources[].ResourceStatusReason",
    "StackResources[].Description",
];

/// The stack requests compared by stack name alone.
#[derive(Clone, Copy)]
enum ByName {
    DescribeStacks,
    ListStackResources,
    DescribeStackResources,
    GetTemplate,
    DeleteStack,
}

/// Send `call` for stack `name` to both sides and compare the answers under `check`.
async fn by_name(
    sides: &mut [Side; 2],
    report: &mut Report,
    call: ByName,
    name: &str,
    check: Check<'_>,
) {
    // The same request but for the operation: `$op` of stack `name` on each side.
    macro_rules! with_name {
        ($op:ident) => {
            both!(sides, |side| side.cfn.$op().stack_name(name).send().await)
        };
    }
    let (m, s) = match call {
        ByName::DescribeStacks => with_name!(describe_stacks),
        ByName::ListStackResources => with_name!(list_stack_resources),
        ByName::DescribeStackResources => with_name!(describe_stack_resources),
        ByName::GetTemplate => with_name!(get_template),
        ByName::DeleteStack => with_name!(delete_stack),
    };
    report.compare(check, &m, &s);
}

/// CreateStack `name` from `template` on both sides (with CAPABILITY_NAMED_IAM when
/// `named_iam`), compared under `check`.
async fn create_stack(
    sides: &mut [Side; 2],
    report: &mut Report,
    (name, template, named_iam): (&str, &str, bool),
    check: Check<'_>,
) {
    let capabilities = named_iam.then(|| vec![Capability::CapabilityNamedIam]);
    compare!(report, sides, check, |side| side
        .cfn
        .create_stack()
        .stack_name(name)
        .template_body(template)
        .set_capabilities(capabilities.clone())
        .send()
        .await);
}

/// ListStacks (only `filter`'s status when given), compared under `check`.
async fn list_stacks(
    sides: &mut [Side; 2],
    report: &mut Report,
    filter: Option<StackStatus>,
    check: Check<'_>,
) {
    let filter = filter.map(|f| vec![f]);
    compare!(report, sides, check, |side| side
        .cfn
        .list_stacks()
        .set_stack_status_filter(filter.clone())
        .send()
        .await);
}

/// CreateStack, and the stack as the describe and list operations show it.
async fn create_and_describe(sides: &mut [Side; 2], report: &mut Report) {
    for check in [
        Check::new("cloudformation:CreateStack"),
        Check::new("cloudformation:CreateStack (duplicate)"),
    ] {
        create_stack(sides, report, ("diff", TEMPLATE, true), check).await;
    }
    by_name(
        sides,
        report,
        ByName::DescribeStacks,
        "diff",
        Check::new("cloudformation:DescribeStacks")
            .ignore(MOTO_STACK_GAPS)
            .values(&[
                "Stacks[].StackName",
                "Stacks[].StackStatus",
                "Stacks[].Description",
            ])
            .aws(
                "Stacks[].DriftInformation.StackDriftStatus",
                json!("NOT_CHECKED"),
            )
            .aws("Stacks[].Capabilities[]", json!("CAPABILITY_NAMED_IAM"))
            .aws("Stacks[].EnableTerminationProtection", json!("false")),
    )
    .await;
    list_stacks(
        sides,
        report,
        None,
        Check::new("cloudformation:ListStacks")
            .ignore(&[
                "StackSummaries[].DriftInformation",
                "StackSummaries[].TemplateDescription",
            ])
            .values(&["StackSummaries[].StackName", "StackSummaries[].StackStatus"]),
    )
    .await;
    let steps = [
        (
            ByName::ListStackResources,
            "diff",
            Check::new("cloudformation:ListStackResources")
                .ignore(MOTO_RESOURCE_GAPS)
                .values(&[
                    "StackResourceSummaries[].LogicalResourceId",
                    "StackResourceSummaries[].ResourceType",
                    "StackResourceSummaries[].ResourceStatus",
                ]),
        ),
        (
            ByName::DescribeStackResources,
            "diff",
            Check::new("cloudformation:DescribeStackResources")
                .ignore(MOTO_RESOURCE_GAPS)
                .values(&[
                    "StackResources[].LogicalResourceId",
                    "StackResources[].ResourceType",
                    "StackResources[].ResourceStatus",
                    "StackResources[].StackName",
                ]),
        ),
        (
            ByName::GetTemplate,
            "diff",
            Check::new("cloudformation:GetTemplate")
                .values(&["TemplateBody"])
                // moto leaves StagesAvailable out; AWS answers ["Original", "Processed"].
                .ignore(&["StagesAvailable"]),
        ),
        (
            ByName::DeleteStack,
            "diff",
            Check::new("cloudformation:DeleteStack"),
        ),
        // Gone by name, on both.
        (
            ByName::DescribeStacks,
            "diff",
            Check::new("cloudformation:DescribeStacks (deleted, by name)"),
        ),
    ];
    for (call, name, check) in steps {
        by_name(sides, report, call, name, check).await;
    }
}

/// The deleted stack, then the errors (last: moto creates stacks AWS refuses, which would show
/// up in the listings before).
async fn deleted_and_refused(sides: &mut [Side; 2], report: &mut Report) {
    list_stacks(
        sides,
        report,
        Some(StackStatus::DeleteComplete),
        Check::new("cloudformation:ListStacks (DELETE_COMPLETE)")
            // moto leaves DeletionTime out of deleted stacks; AWS answers it.
            .ignore(&[
                "StackSummaries[].DeletionTime",
                "StackSummaries[].DriftInformation",
                "StackSummaries[].TemplateDescription",
            ])
            .values(&["StackSummaries[].StackName", "StackSummaries[].StackStatus"]),
    )
    .await;
    let steps = [
        // Deleting a stack that does not exist succeeds, on AWS and on both.
        (
            ByName::DeleteStack,
            "never-was",
            Check::new("cloudformation:DeleteStack (missing)"),
        ),
        (
            ByName::DescribeStacks,
            "no-such-stack",
            Check::new("cloudformation:DescribeStacks (missing)"),
        ),
    ];
    for (call, name, check) in steps {
        by_name(sides, report, call, name, check).await;
    }
    let refused = [
        (
            ("bad", "{\"Resources\": {}}", false),
            Check::new("cloudformation:CreateStack (no resources)").moto_differs(
                "moto accepts a template without resources; AWS answers \"Template format error: At least one Resources member must be defined.\"",
                "ValidationError",
            ),
        ),
        (
            ("nocaps", NAMED_ROLE_ONLY, false),
            Check::new("cloudformation:CreateStack (without capabilities)").moto_differs(
                "moto does not check capabilities; AWS refuses named IAM resources without CAPABILITY_NAMED_IAM",
                "InsufficientCapabilitiesException",
            ),
        ),
    ];
    for (request, check) in refused {
        create_stack(sides, report, request, check).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudformation_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let sides = &mut Side::pair(&moto_proc.endpoint, &sandbox_proc.endpoint, Dialect::Query).await;
    let report = &mut Report::new(botocore_outputs(&["cloudformation"]));
    create_and_describe(sides, report).await;
    deleted_and_refused(sides, report).await;
    report.finish(
        "differential: moto_server vs the sandbox, CloudFormation (Rust SDK, same requests)",
        (56, 44),
    );
}
