//! CloudWatch for the kms-workshop runner: step 5 of the monitoring chapter.
//!
//! - [`metrics`]: the `AWS/KMS` metrics of the account (ListMetrics, every page) and the
//!   `SecondsUntilKeyMaterialExpiration` readings of one key (statistic Minimum, 60 s).
//! - [`alarm`]: the alarm the KMS developer guide recommends for expiring imported key material
//!   ([`AlarmSpec::recommended`]), created with `PutMetricAlarm`; its state, reason and history.
//! - [`verify`]: a checklist comparing an existing (hand-made) alarm with the recommendation,
//!   criterion by criterion, each with the reason it passed or failed.
//!
//! Functions take an `aws_sdk_cloudwatch::Client`, so the same code runs against AWS and the
//! sandbox. Failures keep AWS's code and message ([`AlarmsError::Aws`]).

pub mod alarm;
pub mod error;
pub mod metrics;
pub mod verify;

pub use alarm::{
    alarm_history, describe_alarm, put_expiration_alarm, AlarmSpec, AlarmView, HistoryEntry,
    TreatMissingData,
};
pub use error::AlarmsError;
pub use metrics::{
    expiration_readings, kms_metrics, latest_expiration_reading, ExpirationReading, KmsMetric,
    EXPIRATION_METRIC, KMS_NAMESPACE,
};
pub use verify::{check_alarm, verify_alarm, Check, Checklist};

pub(crate) fn to_time(dt: &aws_smithy_types::DateTime) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(dt.as_nanos()).ok()
}

pub(crate) fn to_sdk_time(t: time::OffsetDateTime) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.unix_timestamp())
}
