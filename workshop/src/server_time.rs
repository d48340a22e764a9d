//! AWS's time, as the `Date` of its answers says: how far this machine's clock is off. Calls
//! are timed by AWS's clock in CloudTrail, so "since the learner met the step" must be AWS's
//! time too; a machine clock a few minutes fast (common in VMs and WSL) would otherwise look
//! for a call after it was made. (The SDK corrects its own signing the same way.) Read from
//! the run's first call, GetCallerIdentity, rather than a call of its own.

use std::sync::{Arc, Mutex};

use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_sdk_sts::error::BoxError;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use kms_workshop_aws_errors::AwsFailure;
use time::{Duration, OffsetDateTime};

/// Keeps the `Date` of the last answer it sees and when (on this machine's clock) it came.
#[derive(Debug, Clone, Default)]
struct DateOf(Arc<Mutex<Option<(String, OffsetDateTime)>>>);

impl Intercept for DateOf {
    fn name(&self) -> &'static str {
        "DateOf"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(d) = context.response().headers().get("date") {
            if let Ok(mut slot) = self.0.lock() {
                *slot = Some((d.to_string(), OffsetDateTime::now_utc()));
            }
        }
        Ok(())
    }
}

/// Who the credentials are, and how far AWS's clock is from this machine's (AWS's minus
/// ours; zero when it cannot tell or the two agree within the `Date`'s one-second grain).
pub async fn identity_and_offset(
    config: &aws_config::SdkConfig,
) -> Result<(GetCallerIdentityOutput, Duration), AwsFailure> {
    let date = DateOf::default();
    let who = kms_workshop_cleanup::aws::caller_identity_heard(
        config,
        Some(SharedInterceptor::new(date.clone())),
    )
    .await?;
    let heard = date.0.lock().ok().and_then(|d| d.clone());
    let offset = heard
        .and_then(|(text, at)| {
            let server = OffsetDateTime::from(httpdate::parse_http_date(&text).ok()?);
            Some(server - at)
        })
        .filter(|off| off.abs() >= Duration::seconds(2))
        .unwrap_or(Duration::ZERO);
    Ok((who, offset))
}
