//! CloudTrail for the kms-workshop runner: step 2 of the monitoring chapter (event history and
//! its eight filters) and the wait for the event of a call the learner just made.
//!
//! - [`attribute`]: the eight `LookupEvents` attributes, parsed and named as AWS spells them.
//! - [`lookup`](mod@lookup): `LookupEvents` over a time range and at most one attribute,
//!   following every page, paced to CloudTrail's 2 requests per second ([`lookup_pace`]: a
//!   [`Pace`] shared with the clean-up's calls, one pacing and retry loop for both).
//! - [`record`]: a typed, forgiving view of the CloudTrail record (`CloudTrailEvent` JSON):
//!   who, what, how, when.
//! - [`wait`]: poll for the event of one request id until it appears or a deadline passes, with
//!   growing intervals, throttling taken as a reason to slow down, and progress reports.
//!
//! Functions take an `aws_sdk_cloudtrail::Client`, so the same code runs against AWS and the
//! sandbox. Failures keep AWS's code and message ([`TrailError::Aws`]).

pub mod attribute;
pub mod error;
pub mod lookup;
pub mod record;
pub mod wait;

pub use attribute::Attribute;
pub use error::TrailError;
/// The pacing of lookups (rate limit, retries), shared with the other crates that call AWS.
pub use kms_workshop_pace::Pace;
pub use lookup::{lookup, lookup_pace, lookup_paced, LookupQuery, TrailEvent, LOOKUP_SPACING};
pub use record::{CloudTrailRecord, RecordResource, SessionIssuer, UserIdentity};
pub use wait::{wait_for_event, Found, WaitFor, WaitProgress, Wanted, CLOCK_MARGIN};
