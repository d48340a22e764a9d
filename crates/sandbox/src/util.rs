//! Small helpers shared by every module: base64, timestamps, ids.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.trim()).ok()
}

pub fn from_epoch_secs(secs: f64) -> Option<OffsetDateTime> {
    if !secs.is_finite() {
        return None;
    }
    // Epoch seconds carry at most millisecond precision on the wire; round to it, since
    // `1795000000.123` is not exact in binary and truncating would lose that millisecond.
    // Far out-of-range values saturate the cast; the checked multiply turns them into None.
    let nanos = ((secs * 1e3).round() as i128).checked_mul(1_000_000)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// A time kept as epoch milliseconds (the event history's, the bus's) as a date; `None` past
/// the dates `time` holds.
pub fn from_epoch_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// [`from_epoch_ms`] held to the dates `time` holds: a time past them (only a corrupt or
/// hand-made state has one; the clock stays within a century of now) reads as the last or the
/// first such date, on the side it was, rather than as 1970 in the middle of a sorted history.
pub fn at_epoch_ms(ms: i64) -> OffsetDateTime {
    from_epoch_ms(ms).unwrap_or(if ms < 0 {
        time::PrimitiveDateTime::MIN.assume_utc()
    } else {
        time::PrimitiveDateTime::MAX.assume_utc()
    })
}

/// Accepts RFC 3339 / ISO-8601 (`2026-11-28T17:00:00Z`, with or without fraction) or epoch seconds.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    if let Ok(secs) = s.parse::<f64>() {
        return from_epoch_secs(secs);
    }
    // `2026-11-28T17:00:00` without an offset, as some clients send: UTC.
    let with_z = format!("{s}Z");
    OffsetDateTime::parse(&with_z, &Rfc3339).ok()
}

/// `2026-11-28T17:00:00.123Z`, the form AWS uses in XML answers.
pub fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `2026-11-28T17:00:00Z`, the form CloudTrail records use.
pub fn iso8601_secs(t: OffsetDateTime) -> String {
    use std::fmt::Write as _;
    let t = t.to_offset(time::UtcOffset::UTC);
    // Sized once: `format!` would grow the string twice on the way (every record has one).
    let mut out = String::with_capacity(20);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    out
}

/// A random (version 4) UUID, hyphenated: request IDs, event IDs, message IDs.
pub fn uuid() -> String {
    // From the thread's CSPRNG: `Uuid::new_v4` asks the kernel for its 16 bytes on every call,
    // a system call each, and every request makes several (its ID, its record's event ID).
    // Encoded into a buffer of the known length rather than through `Display`'s formatter.
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .hyphenated()
        .encode_lower(&mut text)
        .to_owned()
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ (secrets and
/// signatures are compared with it).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// 32 random bytes as 64 hexadecimal digits: a secret no one can guess (admin tokens, the seed
/// of a state's keys).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    hex::encode(bytes)
}

/// A random string over `alphabet` (resource ids such as `AROA…`).
pub fn random_id(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `f`'s result, or what it said if it panicked: a bug in one call or one record is answered
/// or logged alone, instead of taking down the task that runs it and whatever else it carries.
pub fn caught<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// What a caught panic said (its `&str` or `String` payload), for the log.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = parse_time("2026-11-28T17:00:00Z").unwrap();
        assert_eq!(iso8601(t), "2026-11-28T17:00:00.000Z");
        assert_eq!(iso8601_secs(t), "2026-11-28T17:00:00Z");
        assert_eq!(parse_time("2026-11-28T17:00:00").unwrap(), t);
        assert_eq!(parse_time(&t.unix_timestamp().to_string()).unwrap(), t);
        assert!(parse_time("yesterday").is_none());
        assert!(from_epoch_secs(f64::NAN).is_none());
        // 1795000000.123 is 1795000000.12299990… as a double: still millisecond 123.
        assert_eq!(
            from_epoch_secs(1_795_000_000.123).unwrap().millisecond(),
            123
        );
    }

    #[test]
    fn epoch_milliseconds_past_the_dates_time_holds_stay_on_their_side() {
        let t = parse_time("2026-11-28T17:00:00Z").unwrap();
        let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap();
        assert_eq!(at_epoch_ms(ms), t);
        assert_eq!(at_epoch_ms(0), OffsetDateTime::UNIX_EPOCH);
        assert!(from_epoch_ms(i64::MAX).is_none());
        assert_eq!(iso8601_secs(at_epoch_ms(i64::MAX)), "9999-12-31T23:59:59Z");
        assert_eq!(at_epoch_ms(i64::MIN).year(), -9999);
        assert!(at_epoch_ms(i64::MIN) < at_epoch_ms(0));
    }
}
