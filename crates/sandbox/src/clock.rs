//! The sandbox clock: real time plus an offset that users and tests can advance ("time warp"),
//! so imported key material expires, alarms fire and deletion windows pass without waiting days.
//! It never goes backwards, so CloudTrail's event order follows it.

use parking_lot::Mutex;
use time::{Duration, OffsetDateTime};

#[derive(Debug)]
pub struct Clock {
    inner: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    offset: Duration,
    last: OffsetDateTime,
}

impl Clock {
    pub fn new(offset: Duration) -> Self {
        Clock {
            inner: Mutex::new(ClockState {
                offset,
                last: OffsetDateTime::UNIX_EPOCH,
            }),
        }
    }

    /// The current sandbox time, millisecond precision, monotonic.
    pub fn now(&self) -> OffsetDateTime {
        let mut s = self.inner.lock();
        let real = OffsetDateTime::now_utc() + s.offset;
        let real = real
            .replace_nanosecond((real.nanosecond() / 1_000_000) * 1_000_000)
            .unwrap_or(real);
        if real > s.last {
            s.last = real;
        }
        s.last
    }

    pub fn offset(&self) -> Duration {
        self.inner.lock().offset
    }

    /// Move the clock forward; returns the new offset from real time.
    pub fn advance(&self, by: Duration) -> Duration {
        let mut s = self.inner.lock();
        if by.is_positive() {
            s.offset += by;
        }
        s.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_advances() {
        let c = Clock::new(Duration::ZERO);
        let a = c.now();
        c.advance(Duration::days(11));
        let b = c.now();
        assert!(b - a >= Duration::days(11));
        c.advance(Duration::days(-5));
        assert!(c.now() >= b);
    }
}
