//! Fault injection for resilience tests (`POST /_sandbox/faults?throttle=0.2&error5xx=0.1`,
//! `DELETE /_sandbox/faults`): a fraction of AWS calls is refused before the service sees them,
//! the way each service's protocol reports throttling and internal failures, so clients'
//! retries are exercised without any state change behind the refusal. Admin calls are exempt.
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

fn rates(sb: &Arc<Sandbox>) -> Rates {
    table()
        .lock()
        .map(|t| t.get(&key(sb)).copied().unwrap_or_default())
        .unwrap_or_default()
}

pub fn view(sb: &Arc<Sandbox>) -> Rates {
    rates(sb)
}

/// Change the rates named (fractions 0–1 as the request gave them); the others stay.
pub fn set(
    sb: &Arc<Sandbox>,
    throttle: Option<&str>,
    error5xx: Option<&str>,
) -> Result<Rates, String> {
    let mut r = rates(sb);
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
    if let Ok(mut t) = table().lock() {
        t.insert(key(sb), r);
    }
    Ok(r)
}

pub fn clear(sb: &Arc<Sandbox>) -> Rates {
    if let Ok(mut t) = table().lock() {
        t.remove(&key(sb));
    }
    Rates::default()
}

/// The injected failure for this call of `service` (the SigV4 signing name), if any.
pub fn draw(sb: &Arc<Sandbox>, service: &str) -> Option<AwsError> {
    let r = rates(sb);
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
