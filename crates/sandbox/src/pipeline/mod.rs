//! What happens after a call: the CloudTrail recorder hands the call's event to the event bus
//! ([`bus`]: schedule, match rules, route to targets), which hands it to delivery
//! ([`delivery`]: SNS publish, the outbox of emails, HTTP endpoints). These are the
//! `impl Sandbox` blocks that several services share; a service reaches another only through
//! them or a named `pub(crate)` function of that service.

pub mod bus;
pub mod delivery;
