//! AWS's time, as the `Date` of its answers says: how far this machine's clock is off. Calls
//! are timed by AWS's clock in CloudTrail, so "since the learner met the step" must be AWS's
//! time too; a machine clock a few minutes fast (common in VMs and WSL) would otherwise look
//! for a call after it was made. (The SDK corrects its own signing the same way.)

use std::sync::{Arc, Mutex};

use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::BoxError;
use time::{Duration, OffsetDateTime};

/// Keeps the `Date` of the answer it sees.
#[derive(Debug, Clone, Default)]
struct DateOf(Arc<Mutex<Option<String>>>);

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
                *slot = Some(d.to_string());
            }
        }
        Ok(())
    }
}

/// How far AWS's clock is from this machine's (AWS's minus ours), from one GetCallerIdentity;
/// zero when it cannot tell or the two agree within the `Date`'s one-second grain.
pub async fn offset(config: &aws_config::SdkConfig) -> Duration {
    let date = DateOf::default();
    let sent = OffsetDateTime::now_utc();
    let answered = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .customize()
        .interceptor(date.clone())
        .send()
        .await;
    let received = OffsetDateTime::now_utc();
    if answered.is_err() {
        return Duration::ZERO;
    }
    let text = date.0.lock().ok().and_then(|d| d.clone());
    let Some(server) = text
        .and_then(|t| httpdate::parse_http_date(&t).ok())
        .map(|t: std::time::SystemTime| OffsetDateTime::from(t))
    else {
        return Duration::ZERO;
    };
    let ours = sent + (received - sent) / 2;
    let off: Duration = server - ours;
    if off.abs() < Duration::seconds(2) {
        Duration::ZERO
    } else {
        off
    }
}
