//! How fast the kms-workshop crates call AWS, shared by the clean-up and CloudTrail's lookups.
//!
//! A [`Pace`] is one schedule for every call made through it (clones share it): each API has
//! its own rate limit (calls of one API are spaced at least [`Limits::spacing`] apart), at
//! most [`Limits::max_in_flight`] calls run at once, and a failed call is tried again under a
//! [`Retry`] policy: throttling and 5xx answers (and, for the default policy, failures without
//! an answer) after an exponential backoff with full jitter, up to an attempt limit. Access
//! denied, "not found", conflicts and invalid input come back at once for the caller to judge.
//!
//! [`paging`] lists every page of a listing through the same schedule and retries.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use kms_workshop_aws_errors::{AwsFailure, ErrorClass};
use rand::Rng;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

pub mod paging;

pub use paging::{one_page, OnePage, PageSource};

/// The numbers a [`Pace`] keeps to.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Calls running at once, over every API.
    pub max_in_flight: usize,
    /// Least time between two calls of one API (the per-API rate limit), in real time.
    pub spacing: Duration,
    /// Waits and backoffs are divided by this (1 = real time; tests speed runs up).
    pub time_scale: f64,
    /// Attempts at one call under [`Pace::call`]'s default policy.
    pub max_attempts: u32,
    /// The backoff ceiling before attempt `n + 1` is `backoff_base * 2^n`, at most `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 8,
            spacing: Duration::from_millis(100),
            time_scale: 1.0,
            max_attempts: 10,
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(20),
        }
    }
}

/// Which failures of a call are worth another attempt, and how many attempts in all.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub max_attempts: u32,
    pub retry_if: fn(&AwsFailure) -> bool,
}

impl Retry {
    /// One attempt: the caller judges every failure itself.
    pub const ONCE: Retry = Retry {
        max_attempts: 1,
        retry_if: never,
    };

    /// Throttling, 5xx and failures without an answer (network), up to `max_attempts`.
    pub const fn failures(max_attempts: u32) -> Retry {
        Retry {
            max_attempts,
            retry_if: AwsFailure::is_retryable,
        }
    }

    /// Throttling and 5xx answers only: an endpoint that does not answer at all is reported at
    /// once (a pre-flight must not sit through backoffs to say the endpoint is unreachable).
    pub const fn answers(max_attempts: u32) -> Retry {
        Retry {
            max_attempts,
            retry_if: throttled_or_5xx,
        }
    }
}

fn never(_: &AwsFailure) -> bool {
    false
}

fn throttled_or_5xx(e: &AwsFailure) -> bool {
    matches!(e.class, ErrorClass::Throttling | ErrorClass::Transient)
}

/// Shared pacing of the AWS calls made through it (and its clones).
#[derive(Clone)]
pub struct Pace {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Limits,
    in_flight: Semaphore,
    next_slot: Mutex<std::collections::HashMap<&'static str, Instant>>,
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl Pace {
    /// `max_in_flight` calls at once, at most `per_api_rps` calls a second of any one API (10
    /// when not a positive number), and waits divided by `time_scale`.
    pub fn new(max_in_flight: usize, per_api_rps: f64, time_scale: f64) -> Pace {
        let rps = if per_api_rps.is_finite() && per_api_rps > 0.0 {
            per_api_rps
        } else {
            10.0
        };
        Pace::with_limits(Limits {
            max_in_flight,
            spacing: Duration::from_secs_f64(1.0 / rps),
            time_scale,
            ..Limits::default()
        })
    }

    /// A pace keeping to `limits` (a time scale that is not a positive number is taken as 1).
    pub fn with_limits(mut limits: Limits) -> Pace {
        if !(limits.time_scale.is_finite() && limits.time_scale > 0.0) {
            limits.time_scale = 1.0;
        }
        limits.max_in_flight = limits.max_in_flight.max(1);
        limits.max_attempts = limits.max_attempts.max(1);
        Pace {
            inner: Arc::new(Inner {
                in_flight: Semaphore::new(limits.max_in_flight),
                next_slot: Mutex::new(Default::default()),
                limits,
            }),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The time scale (1 = real time).
    pub fn time_scale(&self) -> f64 {
        self.inner.limits.time_scale
    }

    /// [`Pace::call`]'s policy: [`Retry::failures`] with the pace's attempt limit.
    pub fn retry(&self) -> Retry {
        Retry::failures(self.inner.limits.max_attempts)
    }

    /// Sleep for `d` on the pace's clock.
    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(self.scaled(d)).await;
    }

    /// `d` on the pace's clock, in real time.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.div_f64(self.inner.limits.time_scale)
    }

    /// Wait for the next slot of `api` under its rate limit, and claim it. Calls made through
    /// the pace do this themselves; a caller sending a request by other means can too.
    pub async fn ready(&self, api: &'static str) {
        let wait_until = {
            let mut slots = self.inner.next_slot.lock().await;
            let now = Instant::now();
            let slot = slots.get(api).copied().filter(|s| *s > now).unwrap_or(now);
            slots.insert(api, slot + self.inner.limits.spacing);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// Backoff before attempt `attempt + 1` (`attempt` is 1-based): full jitter under an
    /// exponential ceiling, never below a quarter of `base`.
    pub fn backoff(&self, attempt: u32, base: Duration, cap: Duration) -> Duration {
        let ceiling = base
            .saturating_mul(1u32 << attempt.min(16))
            .min(cap)
            .as_secs_f64();
        let jittered = rand::thread_rng().gen_range(0.0..=ceiling.max(0.001));
        Duration::from_secs_f64(jittered.max(base.as_secs_f64() / 4.0))
    }

    /// Make one AWS call through the limits under the pace's own policy ([`Pace::retry`]).
    pub async fn call<T, F, Fut>(&self, api: &'static str, f: F) -> Result<T, AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsFailure>>,
    {
        self.call_with(api, self.retry(), f).await
    }

    /// [`Pace::call`] for an SDK request: `send` makes it (`|| client.op().send()`), and its
    /// error is described as a failure of `api`.
    pub async fn send<T, E, F, Fut>(&self, api: &'static str, mut send: F) -> Result<T, AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.call(api, || {
            let sent = send();
            async move { sent.await.map_err(|e| AwsFailure::from_sdk(api, e)) }
        })
        .await
    }

    /// Make one AWS call through the limits, trying again as `retry` says after a backoff.
    pub async fn call_with<T, F, Fut>(
        &self,
        api: &'static str,
        retry: Retry,
        mut f: F,
    ) -> Result<T, AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsFailure>>,
    {
        let limits = &self.inner.limits;
        self.retrying(
            retry,
            (limits.backoff_base, limits.backoff_cap),
            |e, attempt| tracing::debug!(api, attempt, code = %e.code, "retrying"),
            || {
                let call = f();
                async move {
                    self.ready(api).await;
                    let _permit = self.inner.in_flight.acquire().await.map_err(|_| {
                        AwsFailure::new(api, "Cancelled", "run stopped", ErrorClass::Network)
                    })?;
                    call.await
                }
            },
        )
        .await
    }

    /// The retry loop: run `attempt` until it succeeds, fails in a way `retry` does not retry,
    /// or has had `retry.max_attempts`; before each retry `before_retry` hears of the failure
    /// and the attempt it ended, and the loop sleeps [`Pace::backoff`] under `(base, cap)` on
    /// the pace's clock. The loop itself claims no rate slot: the calls `attempt` makes do
    /// (a whole action retried on a conflict makes several).
    pub async fn retrying<T, F, Fut>(
        &self,
        retry: Retry,
        (base, cap): (Duration, Duration),
        mut before_retry: impl FnMut(&AwsFailure, u32),
        mut attempt: F,
    ) -> Result<T, AwsFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsFailure>>,
    {
        let mut n = 0u32;
        loop {
            n += 1;
            match attempt().await {
                Err(e) if (retry.retry_if)(&e) && n < retry.max_attempts => {
                    before_retry(&e, n);
                    self.sleep(self.backoff(n, base, cap)).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests;
