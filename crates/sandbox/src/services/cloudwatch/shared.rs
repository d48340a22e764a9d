//! What CloudWatch offers other parts of the sandbox (through these functions only): the
//! metrics AWS services publish about themselves, which the pipeline reports as it delivers
//! (AWS/Events `Invocations` and `FailedInvocations` per rule, AWS/SNS
//! `NumberOfNotificationsDelivered` and `NumberOfNotificationsFailed` per topic), so that a
//! client checks delivery in the sandbox as it would on AWS: through GetMetricStatistics.

use time::OffsetDateTime;

use super::state::{CloudWatchState, Sample};
use crate::Sandbox;

/// Count `value` in the minute of `at` of `namespace`/`name` with one dimension.
pub(crate) fn service_metric(
    sb: &Sandbox,
    (account, region): (&str, &str),
    (namespace, name): (&str, &str),
    dimension: (&str, &str),
    value: f64,
    at: OffsetDateTime,
) {
    let sample = Sample {
        t: at,
        count: 1.0,
        sum: value,
        min: value,
        max: value,
        unit: Some("Count".into()),
    };
    let dims = vec![(dimension.0.to_string(), dimension.1.to_string())];
    let result = sb.write::<CloudWatchState, _>(account, region, |st| {
        st.add_to_minute(namespace, name.to_string(), dims, sample);
        Ok(())
    });
    if let Err(e) = result {
        tracing::error!(error = %e.message, "cannot record a service metric");
    }
}
