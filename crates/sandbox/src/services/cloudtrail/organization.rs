//! The organization trail a member account sees (`realism.organization_trail`): accounts
//! in an AWS Organization (Control Tower's landing zone, say) list their management
//! account's trail in `DescribeTrails`, with `IsOrganizationTrail`, but it is not theirs:
//! `GetTrailStatus` and `GetEventSelectors` on its ARN answer `TrailNotFoundException` ("…
//! for the user: <member>"), as the sandbox already answers for another account's ARN.
//!
//! Its selectors record write-only management events (a common way to keep an organization
//! trail's cost down), so it hands this account's write calls to EventBridge and never a
//! read-only one such as GenerateDataKey: a member still needs a trail of its own for the
//! workshop's rule.

use time::OffsetDateTime;

use super::state::{EventSelector, ReadWriteType, Trail};

/// The organization's management account (not one of the sandbox's accounts).
pub const MANAGEMENT_ACCOUNT: &str = "210987654321";
/// Control Tower's name for the organization trail.
pub const NAME: &str = "aws-controltower-BaselineCloudTrail";
/// The management account's home region for it.
const HOME_REGION: &str = "us-east-1";

/// The organization trail as members see it.
pub fn trail() -> Trail {
    Trail {
        name: NAME.into(),
        arn: format!("arn:aws:cloudtrail:{HOME_REGION}:{MANAGEMENT_ACCOUNT}:trail/{NAME}"),
        home_region: HOME_REGION.into(),
        s3_bucket: format!("aws-controltower-logs-{MANAGEMENT_ACCOUNT}-{HOME_REGION}"),
        s3_prefix: Some("o-a1b2c3d4e5".into()),
        sns_topic: None,
        include_global: true,
        multi_region: true,
        log_file_validation: true,
        kms_key_id: None,
        logging: true,
        start_logging: Some(OffsetDateTime::UNIX_EPOCH),
        stop_logging: None,
        tags: Default::default(),
        event_selectors: Some(vec![EventSelector {
            read_write_type: ReadWriteType::WriteOnly,
            ..EventSelector::all_management()
        }]),
        organization: true,
    }
}
