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

use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Capability, StackStatus};
use common::differential::{self, *};
use serde_json::json;

struct Side {
    cfn: aws_sdk_cloudformation::Client,
    capture: Capture,
}

impl Side {
    async fn new(endpoint: &str) -> Side {
        let sdk = differential::sdk_config(endpoint, "differential").await;
        let capture = Capture::default();
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::config::Builder::from(&sdk)
                .interceptor(capture.clone())
                .build(),
        );
        Side { cfn, capture }
    }

    fn outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        r: &Result<T, SdkError<E, HttpResponse>>,
    ) -> Outcome {
        differential::query_outcome(&self.capture, r)
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudformation_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let mut sides = [
        Side::new(&moto_proc.endpoint).await,
        Side::new(&sandbox_proc.endpoint).await,
    ];
    let mut report = Report {
        model: botocore_outputs(&["cloudformation"]),
        ..Report::default()
    };

    let (m, s) = both!(sides, |side| side
        .cfn
        .create_stack()
        .stack_name("diff")
        .template_body(TEMPLATE)
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await);
    report.compare(Check::new("cloudformation:CreateStack"), &m, &s);
    let (m, s) = both!(sides, |side| side
        .cfn
        .create_stack()
        .stack_name("diff")
        .template_body(TEMPLATE)
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await);
    report.compare(Check::new("cloudformation:CreateStack (duplicate)"), &m, &s);

    let (m, s) = both!(sides, |side| side
        .cfn
        .describe_stacks()
        .stack_name("diff")
        .send()
        .await);
    report.compare(
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
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side.cfn.list_stacks().send().await);
    report.compare(
        Check::new("cloudformation:ListStacks")
            .ignore(&[
                "StackSummaries[].DriftInformation",
                "StackSummaries[].TemplateDescription",
            ])
            .values(&["StackSummaries[].StackName", "StackSummaries[].StackStatus"]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .cfn
        .list_stack_resources()
        .stack_name("diff")
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:ListStackResources")
            .ignore(MOTO_RESOURCE_GAPS)
            .values(&[
                "StackResourceSummaries[].LogicalResourceId",
                "StackResourceSummaries[].ResourceType",
                "StackResourceSummaries[].ResourceStatus",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .cfn
        .describe_stack_resources()
        .stack_name("diff")
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:DescribeStackResources")
            .ignore(MOTO_RESOURCE_GAPS)
            .values(&[
                "StackResources[].LogicalResourceId",
                "StackResources[].ResourceType",
                "StackResources[].ResourceStatus",
                "StackResources[].StackName",
            ]),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .cfn
        .get_template()
        .stack_name("diff")
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:GetTemplate")
            .values(&["TemplateBody"])
            // moto leaves StagesAvailable out; AWS answers ["Original", "Processed"].
            .ignore(&["StagesAvailable"]),
        &m,
        &s,
    );

    let (m, s) = both!(sides, |side| side
        .cfn
        .delete_stack()
        .stack_name("diff")
        .send()
        .await);
    report.compare(Check::new("cloudformation:DeleteStack"), &m, &s);
    // Gone by name, on both.
    let (m, s) = both!(sides, |side| side
        .cfn
        .describe_stacks()
        .stack_name("diff")
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:DescribeStacks (deleted, by name)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .cfn
        .list_stacks()
        .stack_status_filter(StackStatus::DeleteComplete)
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:ListStacks (DELETE_COMPLETE)")
            // moto leaves DeletionTime out of deleted stacks; AWS answers it.
            .ignore(&[
                "StackSummaries[].DeletionTime",
                "StackSummaries[].DriftInformation",
                "StackSummaries[].TemplateDescription",
            ])
            .values(&["StackSummaries[].StackName", "StackSummaries[].StackStatus"]),
        &m,
        &s,
    );
    // Deleting a stack that does not exist succeeds, on AWS and on both.
    let (m, s) = both!(sides, |side| side
        .cfn
        .delete_stack()
        .stack_name("never-was")
        .send()
        .await);
    report.compare(Check::new("cloudformation:DeleteStack (missing)"), &m, &s);

    // Errors (last: moto creates stacks AWS refuses, which would show up in the listings above).
    let (m, s) = both!(sides, |side| side
        .cfn
        .describe_stacks()
        .stack_name("no-such-stack")
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:DescribeStacks (missing)"),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .cfn
        .create_stack()
        .stack_name("bad")
        .template_body("{\"Resources\": {}}")
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:CreateStack (no resources)").moto_differs(
            "moto accepts a template without resources; AWS answers \"Template format error: At least one Resources member must be defined.\"",
            "ValidationError",
        ),
        &m,
        &s,
    );
    let (m, s) = both!(sides, |side| side
        .cfn
        .create_stack()
        .stack_name("nocaps")
        .template_body(NAMED_ROLE_ONLY)
        .send()
        .await);
    report.compare(
        Check::new("cloudformation:CreateStack (without capabilities)").moto_differs(
            "moto does not check capabilities; AWS refuses named IAM resources without CAPABILITY_NAMED_IAM",
            "InsufficientCapabilitiesException",
        ),
        &m,
        &s,
    );

    differential::print_summary(
        "differential: moto_server vs the sandbox, CloudFormation (Rust SDK, same requests)",
        (56, 44),
        &report.rows,
        report.aws_only,
        report.failures.len(),
    );
    assert!(
        report.failures.is_empty(),
        "moto and the sandbox (or AWS) differ:\n  {}",
        report.failures.join("\n  ")
    );
}
