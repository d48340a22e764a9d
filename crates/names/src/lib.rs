//! The KMS workshop's names, defined once.
//!
//! A leaf crate with no dependencies: the sandbox seeds these names, the guided runner creates
//! and verifies them, and the clean-up recognises them (always by exact match, never by
//! prefix). Changing one here changes it everywhere.
//!
//! - the crate root: the workshop's resources (stack, role, keys, topic, rule, alarm, …);
//! - [`sandbox`]: the identities and accounts the offline sandbox seeds;
//! - [`starting`]: the state the monitoring chapter starts from, as data.

pub mod sandbox;
pub mod starting;

/// The CloudFormation stack of the workshop's template.
pub const STACK: &str = "KMSWorkshop-Stack";
/// The role the stack creates for the workshop instance.
pub const ROLE: &str = "KMSWorkshop-InstanceInitRole";
/// The instance profile of [`ROLE`] (same name, as the template makes it).
pub const PROFILE: &str = "KMSWorkshop-InstanceInitRole";
/// The first key's alias (section I).
pub const FIRST_ALIAS: &str = "alias/FirstCMK";
/// The key with imported material the monitoring chapter uses.
pub const IMPORTED_ALIAS: &str = "alias/ImportedCMK";
/// The tag the workshop's resources carry.
pub const TAG_KEY: &str = "project";
pub const TAG_VALUE: &str = "kmsworkshop";
/// The `Name` tag of the encrypted EBS volume.
pub const VOLUME_NAME_TAG: &str = "WorkshopEBS";
/// The `Name` tag of the workshop instance.
pub const INSTANCE_NAME_TAG: &str = "KMSWorkshop-Instance";
/// The SNS topic of the monitoring chapter.
pub const TOPIC: &str = "snsworkshop";
/// The topic's default display name (SNS email senders show at most 10 characters of it).
pub const DISPLAY_NAME: &str = "KMSAlerts";
/// The EventBridge rule that notifies the topic of GenerateDataKey calls.
pub const RULE: &str = "KMSWorkshop-GenerateDataKey";
/// The alarm on the imported key material's expiry.
pub const ALARM: &str = "KMSWorkshop-ImportedCMK-Expiration";
/// The trail a guided run creates when no trail logs management events (EventBridge sees
/// KMS calls only through one).
pub const TRAIL: &str = "KMSWorkshop-Trail";
/// The customer-managed policies the learner creates and attaches by hand.
pub const CUSTOMER_POLICIES: [&str; 3] = [
    "KMS-Workshop-ImportMaterialPermissions",
    "KMSWorkshop-RotationDisableOps",
    "KMSWorkshop-AdditionalPermissions",
];
/// The policy that allows scheduling key deletion: it stays attached until the keys are done.
pub const ROTATION_POLICY: &str = "KMSWorkshop-RotationDisableOps";
/// AWS-managed policies the stack's template declares on the role (the stack detaches them).
pub const TEMPLATE_POLICIES: [&str; 3] = [
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/AWSCloudTrailReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
];
/// The AWS-managed policy the learner attaches to [`ROLE`] by hand.
pub const KMS_POWER_USER_POLICY: &str = "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser";
pub const KEY_METRIC_NAMESPACE: &str = "AWS/KMS";
pub const KEY_METRIC: &str = "SecondsUntilKeyMaterialExpiration";
/// Descriptions the workshop's keys were created with; only used to name a key that is
/// already pending deletion (never to choose a key to act on).
pub const KEY_DESCRIPTION_PREFIX: &str = "KMS Workshop";
/// The encryption context of the chapter's data keys.
pub const CONTEXT_KEY: &str = "project";
pub const CONTEXT_VALUE: &str = "workshop";

/// The stack's bucket in `account`.
pub fn bucket(account: &str) -> String {
    format!("kmsworkshop-{account}")
}

/// The log bucket a guided run creates for [`TRAIL`] in `account` and `region`.
pub fn trail_bucket(account: &str, region: &str) -> String {
    format!("kmsworkshop-trail-{account}-{region}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_named_after_account_and_region() {
        assert_eq!(bucket("111122223333"), "kmsworkshop-111122223333");
        assert_eq!(
            trail_bucket("111122223333", "eu-west-1"),
            "kmsworkshop-trail-111122223333-eu-west-1"
        );
    }
}
