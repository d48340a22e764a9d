//! CloudTrail's LookupEvents rate limit (two requests a second per account and region).

use std::collections::HashMap;

/// CloudTrail's LookupEvents limit: at most `per_second` requests in any one-second window per
/// account and region (real time: it protects the service, not the sandbox clock).
#[derive(Default)]
pub struct RateLimiter {
    windows: parking_lot::Mutex<
        HashMap<(String, String), std::collections::VecDeque<std::time::Instant>>,
    >,
}

impl RateLimiter {
    pub fn admit(&self, account: &str, region: &str, per_second: usize) -> bool {
        let now = std::time::Instant::now();
        let mut w = self.windows.lock();
        let q = w
            .entry((account.to_string(), region.to_string()))
            .or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            q.pop_front();
        }
        if q.len() >= per_second {
            return false;
        }
        q.push_back(now);
        true
    }
}
