//! The `AWS/KMS` metrics and the readings of `SecondsUntilKeyMaterialExpiration`.

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use aws_sdk_cloudwatch::Client;
use kms_workshop_aws_errors::AwsFailure;
use time::{Duration, OffsetDateTime};

use crate::{to_sdk_time, to_time, AlarmsError};

pub const KMS_NAMESPACE: &str = "AWS/KMS";
/// Published for EXTERNAL keys whose imported material expires; dimension `KeyId`, unit Seconds.
pub const EXPIRATION_METRIC: &str = "SecondsUntilKeyMaterialExpiration";

/// One metric of the `AWS/KMS` namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsMetric {
    pub name: String,
    /// `(name, value)` pairs, e.g. `("KeyId", "…")`.
    pub dimensions: Vec<(String, String)>,
}

impl KmsMetric {
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One minute's reading: the fewest seconds left in that minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpirationReading {
    pub timestamp: OffsetDateTime,
    pub seconds: f64,
}

impl ExpirationReading {
    pub fn time_left(&self) -> Duration {
        Duration::seconds_f64(self.seconds.clamp(0.0, 1e12))
    }
}

/// Every metric of the `AWS/KMS` namespace (all pages).
pub async fn kms_metrics(client: &Client) -> Result<Vec<KmsMetric>, AlarmsError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_metrics()
        .namespace(KMS_NAMESPACE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsFailure::from_sdk("ListMetrics", e))?;
        out.extend(page.metrics().iter().map(|m| {
            KmsMetric {
                name: m.metric_name().unwrap_or_default().to_string(),
                dimensions: m
                    .dimensions()
                    .iter()
                    .map(|d| {
                        (
                            d.name().unwrap_or_default().to_string(),
                            d.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            }
        }));
    }
    Ok(out)
}

fn check_key(key_id: &str) -> Result<(), AlarmsError> {
    if key_id.trim().is_empty() || key_id.starts_with("alias/") {
        return Err(AlarmsError::InvalidInput {
            field: "KeyId",
            reason: format!(
                "'{key_id}': the metric's KeyId dimension is the key id (not an alias or ARN)"
            ),
        });
    }
    Ok(())
}

/// The per-minute Minimum of `SecondsUntilKeyMaterialExpiration` for `key_id` (the key id,
/// as the metric's `KeyId` dimension holds it) over `lookback` before `now` (the service's
/// clock), oldest first.
pub async fn expiration_readings(
    client: &Client,
    key_id: &str,
    now: OffsetDateTime,
    lookback: Duration,
) -> Result<Vec<ExpirationReading>, AlarmsError> {
    check_key(key_id)?;
    let out = client
        .get_metric_statistics()
        .namespace(KMS_NAMESPACE)
        .metric_name(EXPIRATION_METRIC)
        .dimensions(Dimension::builder().name("KeyId").value(key_id).build())
        .start_time(to_sdk_time(now - lookback))
        .end_time(to_sdk_time(now))
        .period(60)
        .statistics(Statistic::Minimum)
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk("GetMetricStatistics", e))?;
    let mut readings: Vec<ExpirationReading> = out
        .datapoints()
        .iter()
        .filter_map(|d| {
            Some(ExpirationReading {
                timestamp: d.timestamp().and_then(to_time)?,
                seconds: d.minimum()?,
            })
        })
        .collect();
    readings.sort_by_key(|r| r.timestamp);
    Ok(readings)
}

/// The newest reading of the last 15 minutes, if the metric has one.
pub async fn latest_expiration_reading(
    client: &Client,
    key_id: &str,
    now: OffsetDateTime,
) -> Result<Option<ExpirationReading>, AlarmsError> {
    Ok(
        expiration_readings(client, key_id, now, Duration::minutes(15))
            .await?
            .pop(),
    )
}
