//! CloudTrail (awsJson1.1, `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*`): the
//! event history (`LookupEvents`, fed by [`recorder`] from every call to every sandbox service,
//! kept in [`events`]) and trails (`CreateTrail`, `StartLogging`, …), which decide whether
//! events reach EventBridge.
//!
//! Layout: `state` (the trails), [`limiter`] (LookupEvents' rate limit), `ops` (one function per operation), `views` (wire shapes),
//! `errors`, [`seed`] (the history of the workshop's earlier sections), [`background`] (other
//! principals' calls, when the sandbox is as busy as a real account), [`organization`] (the
//! trail a member of an organization sees but cannot read).

pub mod background;
mod errors;
pub mod events;
pub mod limiter;
mod ops;
pub mod organization;
pub mod recorder;
pub mod seed;
pub(crate) mod shared;
mod state;
pub(crate) mod unrecorded;
mod views;

#[cfg(test)]
mod tests;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub use ops::trails::logging_in;
/// The seeded history under its earlier name.
pub use seed as history;
pub use state::{EventSelector, ReadWriteType, Trail, TrailState};

pub struct CloudTrail;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new(
    "cloudtrail",
    "cloudtrail.amazonaws.com",
    Protocol::AwsJson11,
)
// CloudTrail answers these with its own exceptions (`InvalidLookupAttributesException`,
// `InvalidMaxResultsException`), not the model's generic one.
.own_checks(&["LookupEvents.LookupAttributes", "LookupEvents.MaxResults"]);

impl Service for CloudTrail {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        use ops::{lookup, selectors, trails};
        match op {
            "LookupEvents" => lookup::lookup_events(cx, input),
            "CreateTrail" => trails::create_trail(cx, input),
            "DescribeTrails" => trails::describe_trails(cx, input),
            "ListTrails" => trails::list_trails(cx, input),
            "GetTrail" => trails::get_trail(cx, input),
            "GetTrailStatus" => trails::get_trail_status(cx, input),
            "StartLogging" => trails::start_logging(cx, input),
            "StopLogging" => trails::stop_logging(cx, input),
            "DeleteTrail" => trails::delete_trail(cx, input),
            "GetEventSelectors" => selectors::get_event_selectors(cx, input),
            "PutEventSelectors" => selectors::put_event_selectors(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}
