//! Fault injection for resilience tests (`POST /_sandbox/faults?throttle=0.2&error5xx=0.1`,
//! `DELETE /_sandbox/faults`): a fraction of AWS calls is refused before the service sees them,
//! the way each service's protocol reports throttling and internal failures, so clients'
//! retries are exercised without any state change behind the refusal. Admin calls are exempt.
//! `&count=N` limits the rates to the next N AWS calls, so `error5xx=1&count=N` fails exactly N
//! calls in a row: a retry test can then assert what a bounded retry does, where a fraction
//! only makes a failure likely.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rand::Rng;

use super::admin_api::FaultRates as Rates;
use crate::protocol::AwsError;
use crate::Sandbox;

/// Keyed by the sandbox's address: tests run several sandboxes in one process.
fn table() -> &'static Mutex<HashMap<usize, Rates>> {
    static T: OnceLock<Mutex<HashMap<usize, Rates>>> = OnceLock::new();
    T.get_or_init(Default::default)
}

fn key(sb: &Arc<Sandbox>) -> usize {
    Arc::as_ptr(sb) as usize
}

/// The rates in force, without counting a call against them.
pub fn view(sb: &Arc<Sandbox>) -> Rates {
    table()
        .lock()
        .map(|t| t.get(&key(sb)).copied().unwrap_or_default())
        .unwrap_or_default()
}

/// Change what is named (rates as fractions 0–1, as the request gave them); the rest stays, a
/// count still being spent among it. `count` (a whole number from 1) limits the rates to the
/// next that many AWS calls; rates set without one ever hold until cleared. Read and written
/// under the table's one lock, so a call spending the last of a count cannot be undone by it.
pub fn set(
    sb: &Arc<Sandbox>,
    throttle: Option<&str>,
    error5xx: Option<&str>,
    count: Option<&str>,
) -> Result<Rates, String> {
    let mut t = table()
        .lock()
        .map_err(|_| "the fault switch is unavailable".to_string())?;
    let mut r = t.get(&key(sb)).copied().unwrap_or_default();
    if let Some(v) = count {
        let n =
            v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!("count must be a whole number of calls from 1, not '{v}'")
            })?;
        r.remaining = Some(n);
    }
    for (name, given, slot) in [
        ("throttle", throttle, &mut r.throttle),
        ("error5xx", error5xx, &mut r.error5xx),
    ] {
        if let Some(v) = given {
            *slot = v
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| format!("{name} must be a fraction between 0 and 1, not '{v}'"))?;
        }
    }
    if r.throttle + r.error5xx > 1.0 {
        return Err("throttle + error5xx must not exceed 1".into());
    }
    t.insert(key(sb), r);
    Ok(r)
}

pub fn clear(sb: &Arc<Sandbox>) -> Rates {
    if let Ok(mut t) = table().lock() {
        t.remove(&key(sb));
    }
    Rates::default()
}

/// The rates for one AWS call, counted against `remaining` when the rates have one (the last
/// counted call clears them), under the one lock so concurrent calls spend the count exactly.
fn rates_for_a_call(sb: &Arc<Sandbox>) -> Rates {
    let Ok(mut t) = table().lock() else {
        return Rates::default();
    };
    let k = key(sb);
    let Some(r) = t.get_mut(&k) else {
        return Rates::default();
    };
    let now = *r;
    if let Some(n) = r.remaining.as_mut() {
        *n = n.saturating_sub(1);
        if *n == 0 {
            t.remove(&k);
        }
    }
    now
}

/// The injected failure for this call of `service` (the SigV4 signing name), if any.
pub fn draw(sb: &Arc<Sandbox>, service: &str) -> Option<AwsError> {
    let r = rates_for_a_call(sb);
    if r.throttle <= 0.0 && r.error5xx <= 0.0 {
        return None;
    }
    let x: f64 = rand::thread_rng().gen();
    if x < r.throttle {
        Some(match service {
            "ec2" => AwsError::new(503, "RequestLimitExceeded", "Request limit exceeded."),
            "s3" => AwsError::new(503, "SlowDown", "Please reduce your request rate."),
            "kms" | "cloudtrail" | "events" => {
                AwsError::new(400, "ThrottlingException", "Rate exceeded")
            }
            _ => AwsError::new(400, "Throttling", "Rate exceeded"),
        })
    } else if x < r.throttle + r.error5xx {
        Some(match service {
            "s3" => AwsError::new(
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
            "ec2" => AwsError::new(500, "InternalError", "An internal error has occurred."),
            _ => AwsError::internal("An internal failure occurred (injected by the sandbox)."),
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls drawn at once from several threads spend a count exactly: `error5xx=1&count=N`
    /// fails N calls, never one more or less, and then clears itself.
    #[test]
    fn a_count_fails_exactly_that_many_calls_however_they_race() {
        let sb = Sandbox::open(crate::Config::default()).expect("sandbox");
        let set_to = set(&sb, None, Some("1"), Some("50")).expect("rates");
        assert_eq!(set_to.remaining, Some(50));
        let failed: usize = std::thread::scope(|s| {
            let calls: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..30).filter(|_| draw(&sb, "kms").is_some()).count()))
                .collect();
            calls.into_iter().map(|c| c.join().expect("thread")).sum()
        });
        assert_eq!(failed, 50);
        assert_eq!(
            view(&sb),
            Rates::default(),
            "the spent count cleared the rates"
        );

        set(&sb, Some("0.5"), None, None).expect("rates");
        assert_eq!(view(&sb).remaining, None, "rates set without a count hold");
        set(&sb, None, None, Some("4")).expect("rates");
        set(&sb, None, Some("0.25"), None).expect("rates");
        assert_eq!(
            view(&sb),
            Rates {
                throttle: 0.5,
                error5xx: 0.25,
                remaining: Some(4)
            },
            "a change without a count keeps the count being spent"
        );
        for bad in ["0", "-3", "x", "2.5", ""] {
            let err = set(&sb, None, Some("1"), Some(bad)).expect_err(bad);
            assert!(err.starts_with("count must be a whole number"), "{err}");
        }
        assert_eq!(
            view(&sb).remaining,
            Some(4),
            "a refused change changes nothing"
        );
        clear(&sb);
    }
}
