//! The AWS-managed policies: the ones the workshop uses and a few common ones, with their
//! documents as AWS publishes them (older versions are not kept, except where noted). They are
//! read-only and present in every account, under `arn:aws:iam::aws:policy/…`.

use std::sync::OnceLock;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::state::{ManagedPolicy, PolicyVersion};

struct AwsPolicyDef {
    name: &'static str,
    id: &'static str,
    description: &'static str,
    created: &'static str,
    /// (version id, created, document), oldest first; the last one is the default.
    versions: &'static [(&'static str, &'static str, &'static str)],
}

const S3_FULL_V1: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*"
        }
    ]
}"#;

const S3_FULL_V2: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:*",
                "s3-object-lambda:*"
            ],
            "Resource": "*"
        }
    ]
}"#;

const CLOUDTRAIL_READ_ONLY_LEGACY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetBucketLocation"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "cloudtrail:GetTrail",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:DescribeTrails",
                "cloudtrail:ListTrails",
                "cloudtrail:LookupEvents",
                "cloudtrail:ListTags",
                "cloudtrail:ListPublicKeys",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:GetInsightSelectors",
                "s3:ListAllMyBuckets",
                "kms:ListAliases",
                "lambda:ListFunctions"
            ],
            "Resource": "*"
        }
    ]
}"#;

const CLOUDTRAIL_READ_ONLY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "cloudtrail:Get*",
                "cloudtrail:Describe*",
                "cloudtrail:List*",
                "cloudtrail:LookupEvents"
            ],
            "Resource": "*"
        }
    ]
}"#;

const EC2_FULL: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": "ec2:*",
            "Effect": "Allow",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "elasticloadbalancing:*",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "cloudwatch:*",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "autoscaling:*",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "autoscaling.amazonaws.com",
                        "ec2scheduled.amazonaws.com",
                        "elasticloadbalancing.amazonaws.com",
                        "spot.amazonaws.com",
                        "spotfleet.amazonaws.com",
                        "transitgateway.amazonaws.com"
                    ]
                }
            }
        }
    ]
}"#;

const KMS_POWER_USER: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "kms:CreateAlias",
                "kms:CreateKey",
                "kms:DeleteAlias",
                "kms:Describe*",
                "kms:GenerateRandom",
                "kms:Get*",
                "kms:List*",
                "kms:TagResource",
                "kms:UntagResource",
                "iam:ListGroups",
                "iam:ListRoles",
                "iam:ListUsers"
            ],
            "Resource": "*"
        }
    ]
}"#;

const ADMINISTRATOR: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}"#;

const IAM_READ_ONLY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy"
            ],
            "Resource": "*"
        }
    ]
}"#;

const SNS_FULL: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "SNSFullAccess",
            "Effect": "Allow",
            "Action": "sns:*",
            "Resource": "*"
        },
        {
            "Sid": "SMSAccessViaSNS",
            "Effect": "Allow",
            "Action": [
                "sms-voice:DescribeVerifiedDestinationNumbers",
                "sms-voice:CreateVerifiedDestinationNumber",
                "sms-voice:SendDestinationNumberVerificationCode",
                "sms-voice:SendTextMessage",
                "sms-voice:DeleteVerifiedDestinationNumber",
                "sms-voice:VerifyDestinationNumber",
                "sms-voice:DescribeAccountAttributes",
                "sms-voice:DescribeSpendLimits",
                "sms-voice:DescribePhoneNumbers",
                "sms-voice:SetTextMessageSpendLimitOverride",
                "sms-voice:DescribeOptedOutNumbers",
                "sms-voice:DeleteOptedOutNumber"
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:CalledViaLast": "sns.amazonaws.com"
                }
            }
        }
    ]
}"#;

const SSM_CORE: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ssm:DescribeAssociation",
                "ssm:GetDeployablePatchSnapshotForInstance",
                "ssm:GetDocument",
                "ssm:DescribeDocument",
                "ssm:GetManifest",
                "ssm:GetParameter",
                "ssm:GetParameters",
                "ssm:ListAssociations",
                "ssm:ListInstanceAssociations",
                "ssm:PutInventory",
                "ssm:PutComplianceItems",
                "ssm:PutConfigurePackageResult",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:UpdateInstanceInformation"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "ec2messages:AcknowledgeMessage",
                "ec2messages:DeleteMessage",
                "ec2messages:FailMessage",
                "ec2messages:GetEndpoint",
                "ec2messages:GetMessages",
                "ec2messages:SendReply"
            ],
            "Resource": "*"
        }
    ]
}"#;

const AWS_POLICIES: &[AwsPolicyDef] = &[
    AwsPolicyDef {
        name: "AdministratorAccess",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        created: "2015-02-06T18:39:46Z",
        versions: &[("v1", "2015-02-06T18:39:46Z", ADMINISTRATOR)],
    },
    AwsPolicyDef {
        name: "AmazonEC2FullAccess",
        id: "ANPAI3VAJF5ZCRZ7MCQE6",
        description: "Provides full access to Amazon EC2 via the AWS Management Console.",
        created: "2015-02-06T18:40:15Z",
        versions: &[("v5", "2018-11-27T02:16:56Z", EC2_FULL)],
    },
    AwsPolicyDef {
        name: "AmazonS3FullAccess",
        id: "ANPAIFIR6V6BVTRAHWINE",
        description: "Provides full access to all buckets via the AWS Management Console.",
        created: "2015-02-06T18:40:58Z",
        versions: &[("v1", "2015-02-06T18:40:58Z", S3_FULL_V1), ("v2", "2021-09-27T20:16:37Z", S3_FULL_V2)],
    },
    AwsPolicyDef {
        name: "AmazonSNSFullAccess",
        id: "ANPAJWEKLCXXUNT2SOLSG",
        description: "Provides full access to Amazon SNS via the AWS Management Console.",
        created: "2015-02-06T18:41:05Z",
        versions: &[("v2", "2024-09-24T22:32:05Z", SNS_FULL)],
    },
    AwsPolicyDef {
        name: "AmazonSSMManagedInstanceCore",
        id: "ANPAIXSHM2BNB2D3AXXRU",
        description: "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.",
        created: "2019-03-15T17:22:12Z",
        versions: &[("v2", "2019-05-23T16:54:21Z", SSM_CORE)],
    },
    // The workshop's name for CloudTrail read-only access; AWS has since replaced it with
    // AWSCloudTrail_ReadOnlyAccess (below). Both exist.
    AwsPolicyDef {
        name: "AWSCloudTrailReadOnlyAccess",
        id: "ANPAJDU7KJADWBSEQ3E7S",
        description: "Provides read only access to AWS CloudTrail.",
        created: "2015-02-06T18:39:58Z",
        versions: &[("v7", "2021-11-08T21:15:57Z", CLOUDTRAIL_READ_ONLY_LEGACY)],
    },
    AwsPolicyDef {
        name: "AWSCloudTrail_ReadOnlyAccess",
        id: "ANPAZKAPJZG4IV6FHD2UE",
        description: "Provides read only access to AWS CloudTrail.",
        created: "2022-06-14T17:19:05Z",
        versions: &[("v1", "2022-06-14T17:19:05Z", CLOUDTRAIL_READ_ONLY)],
    },
    AwsPolicyDef {
        name: "AWSKeyManagementServicePowerUser",
        id: "ANPAJNPP7PPPPMJRV2SA4",
        description: "Provides access to AWS Key Management Service (KMS).",
        created: "2015-02-06T18:40:40Z",
        versions: &[("v2", "2017-03-07T00:55:11Z", KMS_POWER_USER)],
    },
    AwsPolicyDef {
        name: "IAMReadOnlyAccess",
        id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM via the AWS Management Console.",
        created: "2015-02-06T18:40:39Z",
        versions: &[("v4", "2018-01-25T19:11:27Z", IAM_READ_ONLY)],
    },
];

fn parse_static_time(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The AWS-managed policies, as [`ManagedPolicy`] values (ARNs `arn:aws:iam::aws:policy/…`).
pub fn aws_managed_policies() -> &'static [ManagedPolicy] {
    static POLICIES: OnceLock<Vec<ManagedPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        AWS_POLICIES
            .iter()
            .map(|d| {
                let versions: Vec<PolicyVersion> = d
                    .versions
                    .iter()
                    .map(|(id, at, doc)| PolicyVersion {
                        id: id.to_string(),
                        document: doc.to_string(),
                        created: parse_static_time(at),
                    })
                    .collect();
                let arn = format!("arn:aws:iam::aws:policy/{}", d.name);
                let created = parse_static_time(d.created);
                let mut p = ManagedPolicy::new(d.name, d.id.to_string(), arn, created, versions);
                p.description = Some(d.description.to_string());
                p
            })
            .collect()
    })
}
