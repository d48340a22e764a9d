//! Wait for the CloudTrail event of one call: poll `LookupEvents` filtered by event name from
//! before the call, until the record with the call's request id (or, for a call made
//! elsewhere, the first record a predicate accepts) appears or a deadline passes.
//!
//! CloudTrail delivers management events in about 5 minutes on average, with no guarantee, and
//! allows 2 `LookupEvents` per second per account and region. So the polls are paced (see
//! [`lookup_pace`](crate::lookup_pace)), their interval grows (capped), a `ThrottlingException`
//! slows the polling down instead of failing it, and the caller sees every attempt through a
//! progress callback.

use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudtrail::types::LookupAttribute;
use kms_workshop_aws_errors::ErrorClass;
use kms_workshop_pace::{Pace, Retry};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::lookup::{lookup_pace, pages, LookupQuery};
use crate::{Attribute, TrailError, TrailEvent};

/// Which event ends the wait.
#[derive(Clone)]
pub enum Wanted {
    /// The call's AWS request id (the SDK's `request_id()`; CloudTrail's `requestID`).
    RequestId(String),
    /// The newest event the predicate accepts: a call made elsewhere (a learner's own CLI),
    /// whose request id nobody here knows. `what` names it in messages.
    Matching {
        what: String,
        accept: Arc<dyn Fn(&TrailEvent) -> bool + Send + Sync>,
    },
}

impl Wanted {
    fn accepts(&self, e: &TrailEvent) -> bool {
        match self {
            Wanted::RequestId(id) => e.request_id() == Some(id.as_str()),
            Wanted::Matching { accept, .. } => accept(e),
        }
    }
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wanted::RequestId(id) => write!(f, "request id {id}"),
            Wanted::Matching { what, .. } => f.write_str(what),
        }
    }
}

impl fmt::Debug for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Wanted({self})")
    }
}

/// How long before the caller's "when" a wait's lookups start. The caller gives its "when" on
/// AWS's clock (the guided run reads it from the `Date` of AWS's answers); the margin covers
/// what is left: event times in whole seconds, a `Date` of one-second grain, and a clock that
/// drifted since.
pub const CLOCK_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Pages of 50 one poll reads at most, newest first: the call looked for is recent, and a busy
/// account's history since the start is not read whole on every poll.
const PAGES_PER_POLL: u32 = 10;

/// What to wait for and how patiently.
#[derive(Debug, Clone)]
pub struct WaitFor {
    /// The event that ends the wait.
    pub wanted: Wanted,
    /// The call's event name, e.g. `GenerateDataKey` (the lookup filter).
    pub event_name: String,
    /// When the call was made, on the service's clock.
    pub start: OffsetDateTime,
    /// Give up this long after the wait begins.
    pub deadline: Duration,
    /// Pause after the first unsuccessful poll.
    pub first_interval: Duration,
    /// Longest pause between polls.
    pub max_interval: Duration,
    /// Each pause is the previous one times this (at least 1).
    pub growth: f64,
    /// `StartTime` is `start` minus this: event times are whole seconds, and the local clock
    /// and AWS's may disagree, by up to [`CLOCK_MARGIN`] (the default).
    pub start_margin: Duration,
    /// Paces every request of the wait; share it with other lookups of the same account.
    pub pacer: Pace,
}

impl WaitFor {
    /// Wait up to 15 minutes, polling after 5 s, then growing by half up to every 30 s.
    pub fn new(
        request_id: impl Into<String>,
        event_name: impl Into<String>,
        start: OffsetDateTime,
    ) -> Self {
        Self::wanted(Wanted::RequestId(request_id.into()), event_name, start)
    }

    /// Wait for the newest `event_name` event since `start` that `accept` takes (`what`
    /// names it in messages): a call made outside this process.
    pub fn matching(
        what: impl Into<String>,
        event_name: impl Into<String>,
        start: OffsetDateTime,
        accept: impl Fn(&TrailEvent) -> bool + Send + Sync + 'static,
    ) -> Self {
        let wanted = Wanted::Matching {
            what: what.into(),
            accept: Arc::new(accept),
        };
        Self::wanted(wanted, event_name, start)
    }

    fn wanted(wanted: Wanted, event_name: impl Into<String>, start: OffsetDateTime) -> Self {
        WaitFor {
            wanted,
            event_name: event_name.into(),
            start,
            deadline: Duration::from_secs(15 * 60),
            first_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            growth: 1.5,
            start_margin: CLOCK_MARGIN,
            pacer: lookup_pace(),
        }
    }

    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Poll first after `first`, growing to at most `max`.
    pub fn intervals(mut self, first: Duration, max: Duration) -> Self {
        self.first_interval = first;
        self.max_interval = max.max(first);
        self
    }

    pub fn pacer(mut self, pacer: Pace) -> Self {
        self.pacer = pacer;
        self
    }

    /// Look back `margin` before `start` (default [`CLOCK_MARGIN`]).
    pub fn start_margin(mut self, margin: Duration) -> Self {
        self.start_margin = margin;
        self
    }
}

/// One unsuccessful poll, as reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitProgress {
    /// 1 for the first poll.
    pub attempt: u32,
    /// Since the wait began.
    pub elapsed: Duration,
    /// When the next poll goes; `None` when this was the last one.
    pub next_poll: Option<Duration>,
    /// CloudTrail answered `ThrottlingException`: the polling slows down.
    pub throttled: bool,
    /// Events with this name seen since `start` (none of them the call's).
    pub events_seen: usize,
}

/// The call's event, found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub event: TrailEvent,
    /// Polls made, including the one that found it.
    pub attempts: u32,
    pub elapsed: Duration,
}

enum Poll {
    Found(Box<TrailEvent>),
    Missing { seen: usize },
    Throttled,
}

/// Poll until the event `wait.wanted` appears (→ [`Found`]) or `wait.deadline` passes
/// (→ [`TrailError::Timeout`]). `progress` hears of every unsuccessful poll. Errors other than
/// throttling end the wait at once.
pub async fn wait_for_event(
    client: &aws_sdk_cloudtrail::Client,
    wait: WaitFor,
    mut progress: impl FnMut(WaitProgress),
) -> Result<Found, TrailError> {
    if matches!(&wait.wanted, Wanted::RequestId(id) if id.trim().is_empty()) {
        return Err(TrailError::InvalidInput {
            field: "request_id",
            reason: "empty: pass the request id the call returned".into(),
        });
    }
    if wait.event_name.trim().is_empty() {
        return Err(TrailError::InvalidInput {
            field: "event_name",
            reason: "empty: pass the call's API name, e.g. GenerateDataKey".into(),
        });
    }
    let margin = time::Duration::try_from(wait.start_margin).unwrap_or(time::Duration::ZERO);
    let query = LookupQuery::by(Attribute::EventName, wait.event_name.clone())
        .since(wait.start.checked_sub(margin).unwrap_or(wait.start));
    let attribute = query.sdk_attribute()?;
    let growth = if wait.growth.is_finite() {
        wait.growth.max(1.0)
    } else {
        1.0
    };
    let began = Instant::now();
    let mut interval = wait.first_interval.min(wait.max_interval);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let (throttled, events_seen) =
            match poll(client, &query, &attribute, &wait.wanted, &wait.pacer).await? {
                Poll::Found(event) => {
                    return Ok(Found {
                        event: *event,
                        attempts: attempt,
                        elapsed: began.elapsed(),
                    })
                }
                Poll::Missing { seen } => (false, seen),
                Poll::Throttled => {
                    // Slow down at once: at least a second, double the current pause.
                    interval = (interval * 2)
                        .max(Duration::from_secs(1))
                        .min(wait.max_interval.max(Duration::from_secs(1)));
                    (true, 0)
                }
            };
        let elapsed = began.elapsed();
        let remaining = wait.deadline.saturating_sub(elapsed);
        if remaining.is_zero() {
            progress(WaitProgress {
                attempt,
                elapsed,
                next_poll: None,
                throttled,
                events_seen,
            });
            return Err(TrailError::Timeout {
                wanted: wait.wanted.to_string(),
                event_name: wait.event_name.clone(),
                attempts: attempt,
                waited: elapsed,
            });
        }
        let pause = interval.min(remaining);
        progress(WaitProgress {
            attempt,
            elapsed,
            next_poll: Some(pause),
            throttled,
            events_seen,
        });
        tokio::time::sleep(pause).await;
        interval = Duration::try_from_secs_f64(interval.as_secs_f64() * growth)
            .unwrap_or(wait.max_interval)
            .min(wait.max_interval);
    }
}

/// One poll: every page of the event name since `start`, until the wanted event turns up. Each
/// page is one paced attempt: throttling is the wait's to answer, by polling less often.
async fn poll(
    client: &aws_sdk_cloudtrail::Client,
    query: &LookupQuery,
    attribute: &Option<LookupAttribute>,
    wanted: &Wanted,
    pace: &Pace,
) -> Result<Poll, TrailError> {
    let mut seen = 0;
    let mut read = 0;
    let mut found = None;
    let listed = pace
        .each_page(
            "LookupEvents",
            Retry::ONCE,
            |token| pages(client, query, attribute, token, 50),
            |page| page.next_token(),
            |page| {
                for e in page.events() {
                    let event = TrailEvent::from_sdk(e);
                    if wanted.accepts(&event) {
                        found = Some(event);
                        return ControlFlow::Break(());
                    }
                    seen += 1;
                }
                read += 1;
                if read >= PAGES_PER_POLL {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .await;
    match listed {
        Ok(()) => Ok(match found {
            Some(event) => Poll::Found(Box::new(event)),
            None => Poll::Missing { seen },
        }),
        Err(e) if e.class == ErrorClass::Throttling => {
            tracing::debug!("LookupEvents throttled while waiting; slowing down");
            Ok(Poll::Throttled)
        }
        Err(e) => Err(e.into()),
    }
}
