//! Step 2: find step 1's GenerateDataKey in CloudTrail's event history, show who, what, how
//! and when, and find it again through each lookup attribute the workshop teaches.

use anyhow::Result;
use kms_workshop_names::{CONTEXT_KEY, CONTEXT_VALUE};
use kms_workshop_trail::{Attribute, LookupQuery, TrailEvent, WaitFor};
use time::OffsetDateTime;

use super::{context, generate_data_key, Step};
use crate::run::checks::{criteria, Checks};
use crate::run::Ctx;

pub struct FindInCloudtrail;

criteria! {
    pub enum Check {
        EventFound = "event-found",
        EventContext = "event-context",
        ByUsername = "by-username",
        ByEventSource = "by-event-source",
        ByAccessKey = "by-access-key",
    }
}

impl Step for FindInCloudtrail {
    const ID: &'static str = "find-in-cloudtrail";
    type Criterion = Check;

    async fn perform(cx: &mut Ctx) -> Result<()> {
        // Verification does the finding; doing it "for" the learner is the same wait.
        let _ = cx;
        Ok(())
    }

    async fn verify(cx: &mut Ctx, checks: &mut Checks<Check>) {
        let Some(ev) = wait_for_the_event(cx, checks).await else {
            return;
        };
        let rec = ev.record.clone();
        show_event(cx, &ev);
        let username = ev.username.clone().unwrap_or_default();
        let access_key = ev.access_key_id.clone().unwrap_or_default();
        cx.set_fact(
            Self::ID,
            "event_id",
            ev.event_id.clone().unwrap_or_default(),
        );
        cx.set_fact(Self::ID, "username", username.clone());
        cx.set_fact(Self::ID, "access_key", access_key.clone());
        let recorded = rec.as_ref().and_then(|r| r.encryption_context());
        if recorded == Some(context()) {
            checks.pass(
                Check::EventContext,
                format!("requestParameters.encryptionContext = {{{CONTEXT_KEY}: {CONTEXT_VALUE}}}"),
            );
        } else {
            checks.fail(
                Check::EventContext,
                format!("the record's encryption context is {recorded:?}"),
            );
        }
        // The user name and access key just found fill the next criteria's text.
        checks.refill(&cx.values());
        let event_id = ev.event_id.clone().unwrap_or_default();
        // Bounded by the event's own time: minutes later the runner's calls and anyone
        // else's would push it past the first page of a query that runs up to now.
        let around = ev.event_time.map(|t| {
            (
                t - time::Duration::minutes(1),
                t + time::Duration::minutes(1),
            )
        });
        for (id, attr, value) in [
            (Check::ByUsername, Attribute::Username, username),
            (
                Check::ByEventSource,
                Attribute::EventSource,
                "kms.amazonaws.com".to_string(),
            ),
            (Check::ByAccessKey, Attribute::AccessKeyId, access_key),
        ] {
            find_by(cx, checks, id, (attr, value), around, &event_id).await;
        }
    }
}

/// Wait (on AWS, minutes) for the event of step 1's request to show up.
async fn wait_for_the_event(cx: &Ctx, checks: &mut Checks<Check>) -> Option<TrailEvent> {
    let Some(request_id) = generate_data_key::request_id(cx) else {
        checks.fail(
            Check::EventFound,
            "no data key request to look for: do step 1 first",
        );
        return None;
    };
    // From when the learner met step 1 (the call, by the runner or by them, is not older),
    // less the wait's wide margin for a machine clock ahead of AWS's.
    let start = generate_data_key::started(cx)
        .unwrap_or_else(|| OffsetDateTime::now_utc() - time::Duration::hours(1));
    let wait = WaitFor::new(request_id.clone(), "GenerateDataKey", start)
        .deadline(cx.cloudtrail_timeout)
        .intervals(super::first_poll(cx), super::max_poll(cx));
    let found = cx
        .ui
        .wait(
            &format!(
                "waiting for CloudTrail to show request {request_id} (about 5 minutes on AWS)"
            ),
            kms_workshop_trail::wait_for_event(&cx.trail, wait, |_| {}),
        )
        .await;
    match found {
        None => {
            checks.fail(Check::EventFound, "skipped the wait: verify again later");
            None
        }
        Some(Err(e)) => {
            checks.aws(Check::EventFound, &e);
            None
        }
        Some(Ok(f)) => {
            checks.pass(
                Check::EventFound,
                format!(
                    "after {} lookups in {:.1} s",
                    f.attempts,
                    f.elapsed.as_secs_f64()
                ),
            );
            Some(f.event)
        }
    }
}

/// The most events one filter check pages through (20 pages, 10 s at CloudTrail's pace).
const FILTER_EVENTS: usize = 1000;

/// Look the events up by one attribute in the minutes around the call, page by page, and
/// check ours is among them.
async fn find_by(
    cx: &Ctx,
    checks: &mut Checks<Check>,
    id: Check,
    (attr, value): (Attribute, String),
    around: Option<(OffsetDateTime, OffsetDateTime)>,
    event_id: &str,
) {
    let q = LookupQuery {
        attribute: Some((attr, value.clone())),
        start: around.map(|a| a.0),
        end: around.map(|a| a.1),
        max_events: Some(FILTER_EVENTS),
    };
    let list = match kms_workshop_trail::lookup(&cx.trail, q).await {
        Ok(list) => list,
        Err(e) => return checks.aws(id, &e),
    };
    let hit = list.iter().any(|e| e.event_id.as_deref() == Some(event_id));
    cx.ui.say(format!(
        "\n  Filtered by {attr} = {value}: {} event(s) within a minute of the call",
        list.len()
    ));
    for e in list.iter().take(5) {
        cx.ui.say(format!(
            "    {}  {:<24} {:<22} {}",
            e.event_time.map(crate::util::rfc3339).unwrap_or_default(),
            e.event_name.as_deref().unwrap_or(""),
            e.username.as_deref().unwrap_or(""),
            e.event_source.as_deref().unwrap_or("")
        ));
    }
    if hit {
        checks.pass(id, format!("{} event(s), ours among them", list.len()));
    } else {
        checks.fail(id, "our event is not among the results");
    }
}

/// Who, what, how, when of one event.
fn show_event(cx: &Ctx, ev: &TrailEvent) {
    let Some(r) = &ev.record else {
        return;
    };
    let u = &r.user_identity;
    let rows: Vec<(&str, String)> = vec![
        (
            "Who",
            format!(
                "{} ({}), {}",
                ev.username.clone().unwrap_or_default(),
                u.kind.clone().unwrap_or_default(),
                u.arn.clone().unwrap_or_default()
            ),
        ),
        ("  access key", u.access_key_id.clone().unwrap_or_default()),
        (
            "What",
            format!(
                "{} on {}",
                r.event_name.clone().unwrap_or_default(),
                r.event_source.clone().unwrap_or_default()
            ),
        ),
        ("  key", r.resource_arns("AWS::KMS::Key").join(", ")),
        ("  key spec", r.key_spec().unwrap_or("").to_string()),
        (
            "  encryption context",
            r.encryption_context()
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        ),
        (
            "  read-only",
            r.read_only.map(|b| b.to_string()).unwrap_or_default(),
        ),
        (
            "How",
            format!(
                "from {} with {}",
                r.source_ip_address.clone().unwrap_or_default(),
                r.user_agent.clone().unwrap_or_default()
            ),
        ),
        (
            "When",
            r.event_time.map(crate::util::rfc3339).unwrap_or_default(),
        ),
        ("  request id", r.request_id.clone().unwrap_or_default()),
        ("  event id", r.event_id.clone().unwrap_or_default()),
    ];
    cx.ui.say("\n  The event you caused:");
    for (k, v) in rows {
        cx.ui.say(format!("    {k:<22} {v}"));
    }
}
