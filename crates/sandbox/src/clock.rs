//! The sandbox clock: real time plus an offset that users and tests can advance ("time warp"),
//! so imported key material expires, alarms fire and deletion windows pass without waiting days.
//! It never goes backwards, so CloudTrail's event order follows it.

use parking_lot::Mutex;
use time::{Duration, OffsetDateTime};

/// How far behind this machine's clock the sandbox's may run: ten minutes, inside the 15 that
/// SigV4 allows a signature's time to be off (the sandbox checks signatures by this machine's
/// clock), and more than a drifting VM is.
pub const MAX_BEHIND: Duration = Duration::minutes(10);

/// How far the sandbox clock may run ahead of real time, in all: a century, far beyond any
/// deletion window or key-material expiry, and far inside what a timestamp can hold.
pub const MAX_OFFSET: Duration = Duration::days(36_525);

#[derive(Debug)]
pub struct Clock {
    inner: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    offset: Duration,
    /// How far behind this machine's clock the sandbox's runs, for good (the way AWS's clock
    /// is behind a machine whose clock is fast); not part of the offset the API moves.
    behind: Duration,
    last: OffsetDateTime,
}

impl Clock {
    pub fn new(offset: Duration) -> Self {
        Self::behind_by(offset, Duration::ZERO)
    }

    /// A clock `behind` behind this machine's (before any offset).
    pub fn behind_by(offset: Duration, behind: Duration) -> Self {
        Clock {
            inner: Mutex::new(ClockState {
                offset,
                behind: behind.max(Duration::ZERO).min(MAX_BEHIND),
                last: OffsetDateTime::UNIX_EPOCH,
            }),
        }
    }

    /// Whether `offset` is one the clock can run with (`Err`: why not, naming the limit).
    pub fn check_offset(offset: Duration) -> Result<(), String> {
        if offset.is_negative() || offset > MAX_OFFSET {
            return Err(format!(
                "a clock offset of {} seconds is outside 0 to {} seconds (a century)",
                offset.whole_seconds(),
                MAX_OFFSET.whole_seconds()
            ));
        }
        Ok(())
    }

    /// The current sandbox time, millisecond precision, monotonic.
    pub fn now(&self) -> OffsetDateTime {
        let mut s = self.inner.lock();
        // The offset is bounded, so this cannot overflow; if it did, time would stand still
        // rather than the process abort.
        let real = OffsetDateTime::now_utc()
            .checked_add(s.offset - s.behind)
            .unwrap_or(s.last);
        let real = real
            .replace_nanosecond((real.nanosecond() / 1_000_000) * 1_000_000)
            .unwrap_or(real);
        if real > s.last {
            s.last = real;
        }
        s.last
    }

    /// The time the sandbox's answers carry in `Date`: this machine's, less how far the
    /// sandbox runs behind it, and not moved by the offset (a time warp the clients must not
    /// sign by: the SDKs set their signing clock from `Date`).
    pub fn wire_now(&self) -> OffsetDateTime {
        let behind = self.inner.lock().behind;
        OffsetDateTime::now_utc() - behind
    }

    pub fn offset(&self) -> Duration {
        self.inner.lock().offset
    }

    /// The offset an advance by `by` would give, without moving the clock (a negative `by`
    /// gives the offset as it is: the clock never goes back); or why it cannot move that far.
    /// `Sandbox::advance_clock` persists the offset, then sets it.
    pub fn advanced(&self, by: Duration) -> Result<Duration, String> {
        let s = self.inner.lock();
        if !by.is_positive() {
            return Ok(s.offset);
        }
        s.offset
            .checked_add(by)
            .filter(|o| Self::check_offset(*o).is_ok())
            .ok_or_else(|| {
                format!(
                    "cannot advance by {} seconds: the clock may run at most {} seconds \
                         (a century) ahead of real time, and is {} seconds ahead",
                    by.whole_seconds(),
                    MAX_OFFSET.whole_seconds(),
                    s.offset.whole_seconds()
                )
            })
    }

    /// Set the offset (one [`Clock::advanced`] gave: bounded); it never decreases.
    pub fn set_offset(&self, offset: Duration) {
        let mut s = self.inner.lock();
        if offset > s.offset && Self::check_offset(offset).is_ok() {
            s.offset = offset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_behind_the_machine_stays_behind() {
        let c = Clock::behind_by(Duration::ZERO, Duration::minutes(8));
        let lag = OffsetDateTime::now_utc() - c.now();
        assert!(lag >= Duration::minutes(8) - Duration::seconds(1), "{lag}");
        assert!(lag < Duration::minutes(9), "{lag}");
        // The `Date` it answers with is as far behind, and ignores a time warp.
        c.set_offset(c.advanced(Duration::days(11)).unwrap());
        let wire_lag = OffsetDateTime::now_utc() - c.wire_now();
        assert!(
            wire_lag >= Duration::minutes(8) - Duration::seconds(1),
            "{wire_lag}"
        );
        assert!(wire_lag < Duration::minutes(9), "{wire_lag}");
        // Never more than MAX_BEHIND.
        let far = Clock::behind_by(Duration::ZERO, Duration::hours(5));
        assert!(OffsetDateTime::now_utc() - far.now() <= MAX_BEHIND + Duration::seconds(1));
    }

    #[test]
    fn monotonic_and_advances() {
        let c = Clock::new(Duration::ZERO);
        let a = c.now();
        c.set_offset(c.advanced(Duration::days(11)).unwrap());
        let b = c.now();
        assert!(b - a >= Duration::days(11));
        c.set_offset(c.advanced(Duration::days(-5)).unwrap());
        assert!(c.now() >= b);
    }
}
