//! The service clients one run uses: regional ones per region, IAM and S3 once. The SDK's own
//! retries are turned off so the executor's pacing (limits, backoff, journal) owns every retry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_smithy_types::retry::RetryConfig;
use kms_workshop_pace::Retry;

use crate::{AwsFailure, Pace};

/// Clients for one region.
#[derive(Clone, Debug)]
pub struct Regional {
    pub region: String,
    pub kms: aws_sdk_kms::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub sns: aws_sdk_sns::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
}

/// Every client a run needs in one account.
#[derive(Clone, Debug)]
pub struct Clients {
    pub account: String,
    /// The first region: IAM, S3 and STS calls go there.
    pub home: String,
    pub regions: BTreeMap<String, Regional>,
    pub iam: aws_sdk_iam::Client,
    /// S3 in the home region: GetBucketLocation, and the buckets there.
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    /// What a client of another region is made from.
    s3_base: SdkConfig,
    path_style: bool,
    /// Each bucket's S3 client, by the bucket's region: the SDK does not follow S3's redirect
    /// to another region, so a bucket is only reached through a client of its own region.
    s3_by_bucket: Arc<Mutex<BTreeMap<String, aws_sdk_s3::Client>>>,
}

impl Clients {
    /// Clients for `regions` (the first is home) from `config`. `path_style` is for endpoints
    /// that serve S3 path-style only (the sandbox).
    pub fn new(config: &SdkConfig, account: &str, regions: &[String], path_style: bool) -> Clients {
        let no_retry = RetryConfig::disabled();
        let region_cfg = |r: &str| {
            config
                .to_builder()
                .region(aws_config::Region::new(r.to_string()))
                .retry_config(no_retry.clone())
                .build()
        };
        let home = regions
            .first()
            .cloned()
            .or_else(|| config.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string());
        let mut all = regions.to_vec();
        if all.is_empty() {
            all.push(home.clone());
        }
        let regional = all
            .iter()
            .map(|r| {
                let c = region_cfg(r);
                (
                    r.clone(),
                    Regional {
                        region: r.clone(),
                        kms: aws_sdk_kms::Client::new(&c),
                        ec2: aws_sdk_ec2::Client::new(&c),
                        sns: aws_sdk_sns::Client::new(&c),
                        events: aws_sdk_eventbridge::Client::new(&c),
                        cloudwatch: aws_sdk_cloudwatch::Client::new(&c),
                        cloudformation: aws_sdk_cloudformation::Client::new(&c),
                        cloudtrail: aws_sdk_cloudtrail::Client::new(&c),
                    },
                )
            })
            .collect();
        let h = region_cfg(&home);
        let s3_conf = aws_sdk_s3::config::Builder::from(&h)
            .force_path_style(path_style)
            .build();
        Clients {
            account: account.to_string(),
            home,
            regions: regional,
            iam: aws_sdk_iam::Client::new(&h),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            sts: aws_sdk_sts::Client::new(&h),
            s3_base: config.to_builder().retry_config(no_retry).build(),
            path_style,
            s3_by_bucket: Arc::default(),
        }
    }

    /// The S3 client for `bucket`: of the region GetBucketLocation names (which answers
    /// from any region), made once per bucket.
    pub async fn s3_for(
        &self,
        pace: &Pace,
        bucket: &str,
    ) -> Result<aws_sdk_s3::Client, AwsFailure> {
        if let Some(c) = self
            .s3_by_bucket
            .lock()
            .ok()
            .and_then(|m| m.get(bucket).cloned())
        {
            return Ok(c);
        }
        let out = pace
            .send("GetBucketLocation", || {
                self.s3
                    .get_bucket_location()
                    .bucket(bucket)
                    .expected_bucket_owner(&self.account)
                    .send()
            })
            .await?;
        let region = match out.location_constraint().map(|l| l.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            // The oldest buckets of Ireland answer their region's old name.
            Some("EU") => "eu-west-1".to_string(),
            Some(r) => r.to_string(),
        };
        let client = if region == self.home {
            self.s3.clone()
        } else {
            let conf = aws_sdk_s3::config::Builder::from(&self.s3_base)
                .region(aws_config::Region::new(region))
                .force_path_style(self.path_style)
                .build();
            aws_sdk_s3::Client::from_conf(conf)
        };
        if let Ok(mut m) = self.s3_by_bucket.lock() {
            m.insert(bucket.to_string(), client.clone());
        }
        Ok(client)
    }

    pub fn region(&self, r: &str) -> Option<&Regional> {
        self.regions.get(r)
    }
}

/// Who the credentials in `config` are (STS GetCallerIdentity): the pre-flight of the clean-up
/// and of the guided run. Throttling and 5xx are retried with backoff, as every call of a run
/// is: a busy or flaky endpoint must not stop a command before it starts. An unreachable
/// endpoint or bad credentials come back at once.
pub async fn caller_identity(
    config: &SdkConfig,
) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput, crate::AwsFailure>
{
    caller_identity_heard(config, None).await
}

/// [`caller_identity`], with `hear` seeing each answer as it arrives (the guided run reads
/// AWS's clock from its `Date`, without a call of its own).
pub async fn caller_identity_heard(
    config: &SdkConfig,
    hear: Option<aws_sdk_sts::config::SharedInterceptor>,
) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput, crate::AwsFailure>
{
    let sts = aws_sdk_sts::Client::new(config);
    crate::Pace::new(1, 10.0, 1.0)
        .call_with("GetCallerIdentity", Retry::answers(8), || async {
            let mut call = sts.get_caller_identity().customize();
            if let Some(h) = &hear {
                call = call.interceptor(h.clone());
            }
            call.send()
                .await
                .map_err(|e| crate::AwsFailure::from_sdk("GetCallerIdentity", e))
        })
        .await
}

/// The account of the credentials in `config` ([`caller_identity`]).
pub async fn caller_account(config: &SdkConfig) -> Result<String, crate::AwsFailure> {
    let who = caller_identity(config).await?;
    Ok(who.account().unwrap_or_default().to_string())
}
