//! How fast a run goes: the clock its waits and backoffs use (which tests speed up), the bound
//! on calls in flight, per-API rate limits, and retries with exponential backoff and full jitter.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kms_workshop_aws_errors::{AwsFailure, ErrorClass};
use rand::Rng;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

/// Shared pacing of every AWS call a run makes.
#[derive(Clone)]
pub struct Pace {
    inner: Arc<Inner>,
}

struct Inner {
    /// Waits and backoffs are divided by this (1 = real time).
    time_scale: f64,
    in_flight: Semaphore,
    per_api_interval: Duration,
    next_slot: Mutex<HashMap<&'static str, Instant>>,
    max_attempts: u32,
}

impl Pace {
    /// `max_in_flight` calls at once, at most `per_api_rps` calls a second of any one API,
    /// and waits divided by `time_scale`.
    pub fn new(max_in_flight: usize, per_api_rps: f64, time_scale: f64) -> Pace {
        let rps = if per_api_rps.is_finite() && per_api_rps > 0.0 {
            per_api_rps
        } else {
            10.0
        };
        Pace {
            inner: Arc::new(Inner {
                time_scale: if time_scale.is_finite() && time_scale > 0.0 {
                    time_scale
                } else {
                    1.0
                },
                in_flight: Semaphore::new(max_in_flight.max(1)),
                per_api_interval: Duration::from_secs_f64(1.0 / rps),
                next_slot: Mutex::new(HashMap::new()),
                max_attempts: 10,
            }),
        }
    }

    /// Sleep for `d` on the run's clock.
    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(self.scaled(d)).await;
    }

    /// `d` on the run's clock, in real time.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.div_f64(self.inner.time_scale)
    }

    /// The time scale (1 = real time).
    pub fn time_scale(&self) -> f64 {
        self.inner.time_scale
    }

    async fn rate_slot(&self, api: &'static str) {
        let wait_until = {
            let mut slots = self.inner.next_slot.lock().await;
            let now = Instant::now();
            let slot = slots.get(api).copied().filter(|s| *s > now).unwrap_or(now);
            slots.insert(api, slot + self.inner.per_api_interval);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// Backoff before attempt `attempt` (1-based): full jitter over an exponential ceiling.
    pub fn backoff(&self, attempt: u32, base: Duration, cap: Duration) -> Duration {
        let ceiling = base
            .saturating_mul(1u32 << attempt.min(16))
            .min(cap)
            .as_secs_f64();
        let jittered = rand::thread_rng().gen_range(0.0..=ceiling.max(0.001));
        Duration::from_secs_f64(jittered.max(base.as_secs_f64() / 4.0))
    }

    /// Make one AWS call through the limits, retrying throttling, 5xx and network failures.
    /// Other failures come back at once for the caller to judge (not found, conflict, denied).
    pub async fn call<T, F, Fut>(&self, api: &'static str, f: F) -> Result<T, AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsFailure>>,
    {
        self.call_retrying(api, self.inner.max_attempts, AwsFailure::is_retryable, f)
            .await
    }

    /// [`Pace::call`] with its own attempt limit and its own judgement of which failures are
    /// worth another attempt: a pre-flight call retries throttling and 5xx but reports an
    /// unreachable endpoint at once.
    pub async fn call_retrying<T, F, Fut>(
        &self,
        api: &'static str,
        max_attempts: u32,
        retry_if: impl Fn(&AwsFailure) -> bool,
        mut f: F,
    ) -> Result<T, AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsFailure>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.rate_slot(api).await;
            let result = {
                let _permit = self.inner.in_flight.acquire().await.map_err(|_| {
                    AwsFailure::new(api, "Cancelled", "run stopped", ErrorClass::Network)
                })?;
                f().await
            };
            match result {
                Err(e) if retry_if(&e) && attempt < max_attempts => {
                    let wait =
                        self.backoff(attempt, Duration::from_millis(200), Duration::from_secs(20));
                    tracing::debug!(api, attempt, code = %e.code, ?wait, "retrying");
                    self.sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_throttling_but_not_access_denied() {
        let pace = Pace::new(2, 1000.0, 1000.0);
        let n = AtomicU32::new(0);
        let ok: Result<u32, _> = pace
            .call("Op", || async {
                let i = n.fetch_add(1, Ordering::SeqCst);
                if i < 3 {
                    Err(AwsFailure::new(
                        "Op",
                        "ThrottlingException",
                        "slow",
                        ErrorClass::Throttling,
                    ))
                } else {
                    Ok(i)
                }
            })
            .await;
        assert_eq!(ok.expect("succeeds after retries"), 3);

        let m = AtomicU32::new(0);
        let denied: Result<(), _> = pace
            .call("Op", || async {
                m.fetch_add(1, Ordering::SeqCst);
                Err(AwsFailure::new(
                    "Op",
                    "AccessDenied",
                    "no",
                    ErrorClass::AccessDenied,
                ))
            })
            .await;
        assert_eq!(denied.expect_err("denied").class, ErrorClass::AccessDenied);
        assert_eq!(
            m.load(Ordering::SeqCst),
            1,
            "access denied is never retried"
        );
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        let pace = Pace::new(1, 1.0, 1.0);
        for attempt in 1..40 {
            let d = pace.backoff(attempt, Duration::from_millis(100), Duration::from_secs(5));
            assert!(d <= Duration::from_secs(5), "{d:?}");
        }
    }
}
