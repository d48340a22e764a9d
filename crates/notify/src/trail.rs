//! Is a trail logging management events? CloudTrail hands events to EventBridge only while a
//! trail is logging (the event history itself needs none), so without one the workshop's rule
//! never fires. And, when the caller has the learner's consent, create one: an S3 bucket with
//! the bucket policy CloudTrail requires, the trail, and `StartLogging`.

use aws_sdk_cloudtrail::Client as CloudTrail;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_s3::Client as S3;
use kms_workshop_aws_errors::{AwsFailure, ErrorClass};
use serde_json::{json, Value};

use crate::NotifyError;

/// KMS's event source, which a selector may leave out.
const KMS_SOURCE: &str = "kms.amazonaws.com";

/// What a trail costs beyond the first: the first copy of management events in each region is
/// free; every further trail that records them is billed per event delivered (AWS CloudTrail
/// pricing), besides its bucket's S3 storage.
pub const SECOND_TRAIL_COST: &str =
    "$2.00 per 100,000 management events delivered, plus the S3 storage of its log files";

/// Which management events a trail records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagementEvents {
    /// Read and write (the default of a new trail).
    All,
    ReadOnly,
    WriteOnly,
    /// The selectors exclude management events.
    None,
    /// `GetEventSelectors` failed (AWS's answer kept): the selectors are not known.
    Unknown(AwsFailure),
}

impl ManagementEvents {
    /// Whether read-only events (GenerateDataKey) are recorded; `None` when unknown.
    pub fn includes_read(&self) -> Option<bool> {
        match self {
            ManagementEvents::All | ManagementEvents::ReadOnly => Some(true),
            ManagementEvents::WriteOnly | ManagementEvents::None => Some(false),
            ManagementEvents::Unknown(_) => None,
        }
    }
}

/// One trail visible in the client's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailInfo {
    pub name: String,
    pub arn: String,
    pub home_region: Option<String>,
    pub multi_region: bool,
    pub bucket: Option<String>,
    pub is_logging: bool,
    pub management: ManagementEvents,
}

impl TrailInfo {
    /// Logging, and known to record read-only management events.
    pub fn delivers_read_management_events(&self) -> bool {
        self.is_logging && self.management.includes_read() == Some(true)
    }
}

/// Every trail and what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailCheck {
    pub trails: Vec<TrailInfo>,
}

impl TrailCheck {
    /// A trail that logs read-only management events, if there is one.
    pub fn ready(&self) -> Option<&TrailInfo> {
        self.trails
            .iter()
            .find(|t| t.delivers_read_management_events())
    }

    /// Trails that log but whose selectors could not be read: probably fine, not verified.
    pub fn unverified(&self) -> impl Iterator<Item = &TrailInfo> {
        self.trails
            .iter()
            .filter(|t| t.is_logging && t.management.includes_read().is_none())
    }
}

/// Every trail visible in the region (multi-region trails of other home regions included),
/// whether it is logging, and its management-event selectors.
pub async fn trail_check(client: &CloudTrail) -> Result<TrailCheck, NotifyError> {
    let out = client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("DescribeTrails", e))?;
    let mut trails = Vec::new();
    for t in out.trail_list() {
        let (Some(name), Some(arn)) = (t.name(), t.trail_arn()) else {
            continue;
        };
        trails.push(
            describe(
                client,
                name,
                arn,
                t.home_region(),
                t.is_multi_region_trail(),
                t.s3_bucket_name(),
            )
            .await?,
        );
    }
    Ok(TrailCheck { trails })
}

async fn describe(
    client: &CloudTrail,
    name: &str,
    arn: &str,
    home_region: Option<&str>,
    multi_region: Option<bool>,
    bucket: Option<&str>,
) -> Result<TrailInfo, NotifyError> {
    // One trail whose status cannot be read (another account's organization trail, a
    // shadow of a trail being deleted) says nothing about the others: it counts as not
    // logging, and the check goes on.
    let is_logging = match client.get_trail_status().name(arn).send().await {
        Ok(status) => status.is_logging().unwrap_or(false),
        Err(e) => {
            let f = AwsFailure::from_sdk("GetTrailStatus", e);
            if f.class.is_infrastructure() {
                return Err(f.into());
            }
            tracing::warn!(trail = arn, error = %f, "trail status unknown");
            false
        }
    };
    let management = match client.get_event_selectors().trail_name(arn).send().await {
        Ok(sel) => classify_selectors(&sel),
        Err(e) => {
            let f = AwsFailure::from_sdk("GetEventSelectors", e);
            // Throttling, network and credential failures say nothing about the trail.
            if matches!(
                f.class,
                ErrorClass::Throttling
                    | ErrorClass::Network
                    | ErrorClass::Credentials
                    | ErrorClass::Transient
            ) {
                return Err(f.into());
            }
            tracing::warn!(trail = arn, error = %f, "event selectors unknown");
            ManagementEvents::Unknown(f)
        }
    };
    Ok(TrailInfo {
        name: name.to_string(),
        arn: arn.to_string(),
        home_region: home_region.map(str::to_string),
        multi_region: multi_region.unwrap_or(false),
        bucket: bucket.map(str::to_string),
        is_logging,
        management,
    })
}

fn classify_selectors(
    sel: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> ManagementEvents {
    let (mut read, mut write) = (false, false);
    for s in sel.event_selectors() {
        // A selector that leaves out KMS's events records none of the workshop's.
        let excludes_kms = s
            .exclude_management_event_sources()
            .iter()
            .any(|src| src == KMS_SOURCE);
        if s.include_management_events() == Some(false) || excludes_kms {
            continue;
        }
        match s.read_write_type().map(|r| r.as_str()) {
            Some("ReadOnly") => read = true,
            Some("WriteOnly") => write = true,
            // `All` is also the default when the member is absent.
            _ => {
                read = true;
                write = true;
            }
        }
    }
    for a in sel.advanced_event_selectors() {
        let fields = a.field_selectors();
        let management = fields
            .iter()
            .any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"));
        let excludes_kms = fields.iter().any(|f| {
            f.field() == "eventSource"
                && (f.not_equals().iter().any(|v| v == KMS_SOURCE)
                    || (!f.equals().is_empty() && !f.equals().iter().any(|v| v == KMS_SOURCE)))
        });
        if !management || excludes_kms {
            continue;
        }
        let only = fields
            .iter()
            .find(|f| f.field() == "readOnly")
            .map(|f| f.equals().to_vec());
        match only.as_deref() {
            Some([v]) if v == "true" => read = true,
            Some([v]) if v == "false" => write = true,
            _ => {
                read = true;
                write = true;
            }
        }
    }
    match (read, write) {
        (true, true) => ManagementEvents::All,
        (true, false) => ManagementEvents::ReadOnly,
        (false, true) => ManagementEvents::WriteOnly,
        (false, false) => ManagementEvents::None,
    }
}

/// What a new trail needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailSetup {
    pub trail_name: String,
    /// The S3 bucket the trail writes log files to (created if missing).
    pub bucket: String,
    pub account_id: String,
    pub region: String,
    /// `aws`, `aws-cn` or `aws-us-gov`: the caller's (every ARN here is built in it).
    pub partition: String,
}

impl TrailSetup {
    fn trail_arn(&self) -> String {
        format!(
            "arn:{}:cloudtrail:{}:{}:trail/{}",
            self.partition, self.region, self.account_id, self.trail_name
        )
    }

    /// The bucket's ARN (or of `suffix` in it).
    fn bucket_arn(&self, suffix: &str) -> String {
        format!("arn:{}:s3:::{}{suffix}", self.partition, self.bucket)
    }
}

/// The bucket policy CloudTrail requires to write log files (AWS's documented policy: ACL check
/// and PutObject under `AWSLogs/<account>/`, both bound to this trail by `aws:SourceArn`).
pub fn cloudtrail_bucket_policy(setup: &TrailSetup) -> Value {
    let source = setup.trail_arn();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": setup.bucket_arn(""),
                "Condition": {"StringEquals": {"aws:SourceArn": source}}
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": setup.bucket_arn(&format!("/AWSLogs/{}/*", setup.account_id)),
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": source
                }}
            }
        ]
    })
}

/// Create the trail's bucket (kept if this account already owns it) and put the CloudTrail
/// bucket policy on it.
pub async fn create_trail_bucket(s3: &S3, setup: &TrailSetup) -> Result<(), NotifyError> {
    let mut req = s3.create_bucket().bucket(&setup.bucket);
    if setup.region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(setup.region.as_str()))
                .build(),
        );
    }
    if let Err(e) = req.send().await {
        let f = AwsFailure::from_sdk("CreateBucket", e);
        if f.code != "BucketAlreadyOwnedByYou" {
            return Err(f.into());
        }
    }
    s3.put_bucket_policy()
        .bucket(&setup.bucket)
        .policy(cloudtrail_bucket_policy(setup).to_string())
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("PutBucketPolicy", e))?;
    Ok(())
}

/// Create the trail on an existing bucket (or take the existing trail of that name) and start
/// logging.
pub async fn create_logging_trail(
    client: &CloudTrail,
    setup: &TrailSetup,
) -> Result<TrailInfo, NotifyError> {
    create_trail_when_policy_visible(client, setup).await?;
    client
        .start_logging()
        .name(&setup.trail_name)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("StartLogging", e))?;
    let t = client
        .get_trail()
        .name(&setup.trail_name)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("GetTrail", e))?;
    let trail = t.trail().ok_or(NotifyError::IncompleteAnswer {
        operation: "GetTrail",
        member: "Trail",
    })?;
    let arn = trail
        .trail_arn()
        .map(str::to_string)
        .unwrap_or_else(|| setup.trail_arn());
    describe(
        client,
        &setup.trail_name,
        &arn,
        trail.home_region(),
        trail.is_multi_region_trail(),
        trail.s3_bucket_name(),
    )
    .await
}

/// How long CloudTrail may take to see a bucket policy just put: until then `CreateTrail`
/// answers `InsufficientS3BucketPolicyException` (a known race on AWS).
pub const POLICY_VISIBLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// `CreateTrail`, asked again (1 s, 2 s, 4 s … apart) while CloudTrail does not see the bucket
/// policy yet, for up to [`POLICY_VISIBLE_WITHIN`]; a trail of that name already there is fine.
async fn create_trail_when_policy_visible(
    client: &CloudTrail,
    setup: &TrailSetup,
) -> Result<(), NotifyError> {
    let began = std::time::Instant::now();
    let mut pause = std::time::Duration::from_secs(1);
    loop {
        let sent = client
            .create_trail()
            .name(&setup.trail_name)
            .s3_bucket_name(&setup.bucket)
            .send()
            .await;
        let Err(e) = sent else {
            return Ok(());
        };
        let f = AwsFailure::from_sdk("CreateTrail", e);
        match f.code.as_str() {
            "TrailAlreadyExistsException" => return Ok(()),
            "InsufficientS3BucketPolicyException" if began.elapsed() < POLICY_VISIBLE_WITHIN => {
                tracing::debug!(bucket = %setup.bucket, "CloudTrail does not see the bucket policy yet");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(10));
            }
            _ => return Err(f.into()),
        }
    }
}

/// [`create_trail_bucket`] then [`create_logging_trail`]: what to do, with consent, when
/// [`trail_check`] finds no trail that logs management events.
pub async fn ensure_management_trail(
    s3: &S3,
    client: &CloudTrail,
    setup: &TrailSetup,
) -> Result<TrailInfo, NotifyError> {
    create_trail_bucket(s3, setup).await?;
    create_logging_trail(client, setup).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
    use aws_sdk_cloudtrail::types::{
        AdvancedEventSelector, AdvancedFieldSelector, EventSelector, ReadWriteType,
    };

    fn basic(rw: ReadWriteType, management: bool) -> GetEventSelectorsOutput {
        GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .read_write_type(rw)
                    .include_management_events(management)
                    .build(),
            )
            .build()
    }

    fn advanced(fields: &[(&str, &str)]) -> GetEventSelectorsOutput {
        let mut sel = AdvancedEventSelector::builder().name("s");
        for (field, value) in fields {
            sel = sel.field_selectors(
                AdvancedFieldSelector::builder()
                    .field(*field)
                    .equals(*value)
                    .build()
                    .expect("field is set"),
            );
        }
        GetEventSelectorsOutput::builder()
            .advanced_event_selectors(sel.build().expect("selectors are set"))
            .build()
    }

    #[test]
    fn basic_selectors() {
        assert_eq!(
            classify_selectors(&basic(ReadWriteType::All, true)),
            ManagementEvents::All
        );
        assert_eq!(
            classify_selectors(&basic(ReadWriteType::ReadOnly, true)),
            ManagementEvents::ReadOnly
        );
        assert_eq!(
            classify_selectors(&basic(ReadWriteType::WriteOnly, true)),
            ManagementEvents::WriteOnly
        );
        assert_eq!(
            classify_selectors(&basic(ReadWriteType::All, false)),
            ManagementEvents::None
        );
        assert_eq!(
            ManagementEvents::WriteOnly.includes_read(),
            Some(false),
            "GenerateDataKey is a read-only event"
        );
    }

    #[test]
    fn advanced_selectors() {
        assert_eq!(
            classify_selectors(&advanced(&[("eventCategory", "Management")])),
            ManagementEvents::All
        );
        assert_eq!(
            classify_selectors(&advanced(&[
                ("eventCategory", "Management"),
                ("readOnly", "false")
            ])),
            ManagementEvents::WriteOnly
        );
        assert_eq!(
            classify_selectors(&advanced(&[("eventCategory", "Data")])),
            ManagementEvents::None
        );
    }

    #[test]
    fn selectors_that_leave_out_kms_record_none_of_its_events() {
        let basic_excluding = GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .read_write_type(ReadWriteType::All)
                    .include_management_events(true)
                    .exclude_management_event_sources("kms.amazonaws.com")
                    .build(),
            )
            .build();
        assert_eq!(classify_selectors(&basic_excluding), ManagementEvents::None);
        let not_kms = AdvancedEventSelector::builder()
            .name("no kms")
            .field_selectors(
                AdvancedFieldSelector::builder()
                    .field("eventCategory")
                    .equals("Management")
                    .build()
                    .expect("field"),
            )
            .field_selectors(
                AdvancedFieldSelector::builder()
                    .field("eventSource")
                    .not_equals("kms.amazonaws.com")
                    .build()
                    .expect("field"),
            )
            .build()
            .expect("selector");
        let out = GetEventSelectorsOutput::builder()
            .advanced_event_selectors(not_kms)
            .build();
        assert_eq!(classify_selectors(&out), ManagementEvents::None);
        assert_eq!(
            classify_selectors(&advanced(&[
                ("eventCategory", "Management"),
                ("eventSource", "kms.amazonaws.com")
            ])),
            ManagementEvents::All
        );
        assert_eq!(
            classify_selectors(&advanced(&[
                ("eventCategory", "Management"),
                ("eventSource", "s3.amazonaws.com")
            ])),
            ManagementEvents::None
        );
    }

    #[test]
    fn bucket_policy_binds_the_trail() {
        let setup = TrailSetup {
            trail_name: "t".into(),
            bucket: "b".into(),
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
        };
        let p = cloudtrail_bucket_policy(&setup);
        assert_eq!(
            p["Statement"][1]["Resource"],
            "arn:aws:s3:::b/AWSLogs/111122223333/*"
        );
        assert_eq!(
            p["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"],
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t"
        );
        // In China's partition every ARN is in aws-cn.
        let cn = TrailSetup {
            region: "cn-north-1".into(),
            partition: "aws-cn".into(),
            ..setup
        };
        let p = cloudtrail_bucket_policy(&cn).to_string();
        assert!(!p.contains("arn:aws:"), "{p}");
        assert!(
            p.contains("arn:aws-cn:s3:::b/AWSLogs/111122223333/*"),
            "{p}"
        );
        assert!(
            p.contains("arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/t"),
            "{p}"
        );
    }
}
