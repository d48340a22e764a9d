//! What happens after a call, across services: the CloudTrail recorder hands the call's event
//! to the event bus ([`bus`]: schedule, match rules, route to targets), which publishes to SNS
//! (today still `impl Sandbox` in `services::sns`: publishing to subscribers, the outbox, HTTP
//! delivery). A service reaches another only through these or a named `pub(crate)` function of
//! that service.

pub mod bus;
