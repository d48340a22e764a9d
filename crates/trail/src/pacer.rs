//! Client-side pacing of `LookupEvents`: CloudTrail allows 2 requests per second per account
//! and region, and answers `ThrottlingException` beyond that.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests at least `spacing` apart. Clones share one schedule, so every lookup made
/// through clones of one pacer stays under the limit together.
#[derive(Debug, Clone)]
pub struct Pacer {
    spacing: Duration,
    last: Arc<Mutex<Option<Instant>>>,
}

/// 2 requests per second is one every 500 ms; the margin keeps network jitter from landing
/// two requests inside one server-side second.
pub const CLOUDTRAIL_SPACING: Duration = Duration::from_millis(550);

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(CLOUDTRAIL_SPACING)
    }
}

impl Pacer {
    /// A pacer allowing one request every `spacing`.
    pub fn new(spacing: Duration) -> Self {
        Pacer {
            spacing,
            last: Arc::new(Mutex::new(None)),
        }
    }

    pub fn spacing(&self) -> Duration {
        self.spacing
    }

    /// Wait until the next request may go, and claim that slot.
    pub async fn ready(&self) {
        let mut last = self.last.lock().await;
        if let Some(next) = last.and_then(|prev| prev.checked_add(self.spacing)) {
            tokio::time::sleep_until(next).await;
        }
        *last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced() {
        let p = Pacer::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            p.ready().await;
        }
        // Four gaps of 550 ms on the paused clock.
        assert_eq!(Instant::now() - t0, CLOUDTRAIL_SPACING * 4);
    }
}
