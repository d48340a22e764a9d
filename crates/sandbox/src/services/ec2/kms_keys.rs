//! The KMS keys encrypted volumes use: resolving the key a caller names, and the account's
//! AWS-managed EBS key. EC2 reaches KMS only through
//! `kms::shared`, from this one file.

use time::OffsetDateTime;

use crate::protocol::AwsError;
use crate::services::kms::shared;
use crate::Sandbox;

/// The ARN of the KMS key a volume uses, resolved from any of the forms EC2 accepts (key id,
/// key ARN, alias name, alias ARN); `None` when the key does not exist or cannot be used.
pub(crate) fn resolve_kms_key(
    sb: &Sandbox,
    account: &str,
    region: &str,
    key: &str,
    now: OffsetDateTime,
) -> Option<String> {
    shared::resolve(sb, account, region, key, Some(now)).map(|k| k.arn)
}

/// The account's AWS-managed EBS key (`alias/aws/ebs`), created on first use as AWS does.
pub(crate) fn default_ebs_key(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<String, AwsError> {
    let policy = serde_json::json!({"Version": "2012-10-17", "Id": "auto-ebs-2", "Statement": [{
        "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
        "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": format!("ec2.{region}.amazonaws.com")}}
    }]});
    let description = "Default key that protects my EBS volumes when no other key is defined";
    shared::aws_managed_key(
        sb,
        account,
        region,
        "alias/aws/ebs",
        (description, policy),
        now,
    )
}
