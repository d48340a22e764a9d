//! The KMS keys encrypted volumes use: resolving the key a caller names, and the account's
//! AWS-managed EBS key. These are EC2's only reads and writes of another service's state, kept
//! in this one file.

use time::OffsetDateTime;

use crate::protocol::AwsError;
use crate::services::kms::{Alias, Key, KmsState};
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
    let key = key.trim();
    let local = key
        .strip_prefix(&format!("arn:aws:kms:{region}:{account}:"))
        .unwrap_or(key);
    sb.read::<KmsState, _>(account, region, |st| {
        let id = if local.starts_with("alias/") {
            st.aliases.get(local).map(|a| a.target.clone())?
        } else {
            local.strip_prefix("key/").unwrap_or(local).to_string()
        };
        st.keys
            .get(&id)
            .filter(|k| k.state(now) == "Enabled")
            .map(|k| k.arn.clone())
    })
}

/// The account's AWS-managed EBS key (`alias/aws/ebs`), created on first use as AWS does.
pub(crate) fn default_ebs_key(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<String, AwsError> {
    if let Some(arn) = resolve_kms_key(sb, account, region, "alias/aws/ebs", now) {
        return Ok(arn);
    }
    let id = crate::util::uuid();
    let arn = format!("arn:aws:kms:{region}:{account}:key/{id}");
    let created = crate::util::iso8601(now);
    let key: Key = serde_json::from_value(serde_json::json!({
        "id": id, "arn": arn, "account": account, "created": created,
        "description": "Default key that protects my EBS volumes when no other key is defined",
        "origin": "AWS_KMS", "manager": "AWS",
        "materials": [crate::util::b64(&crate::services::kms::crypto::random_bytes(32))],
        "policy": serde_json::json!({"Version": "2012-10-17", "Id": "auto-ebs-2", "Statement": [{
            "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
            "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": format!("ec2.{region}.amazonaws.com")}}
        }]}).to_string(),
    }))
    .map_err(|e| AwsError::internal(format!("cannot create the default EBS key: {e}")))?;
    let alias: Alias = serde_json::from_value(serde_json::json!({
        "name": "alias/aws/ebs", "arn": format!("arn:aws:kms:{region}:{account}:alias/aws/ebs"),
        "target": id, "created": created, "updated": created,
    }))
    .map_err(|e| AwsError::internal(format!("cannot create the default EBS key alias: {e}")))?;
    sb.write::<KmsState, _>(account, region, |st| {
        st.keys.insert(key.id.clone(), key);
        st.aliases.insert(alias.name.clone(), alias);
        Ok(())
    })?;
    Ok(arn)
}
