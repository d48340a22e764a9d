//! Other people's calls: with `realism.background_every` set, each learner's account is used by
//! more than the learner, as a real account is: an application decrypting and generating data
//! keys under the workshop's first key, an operator signing in to the console and listing
//! instances, AWS services reading the keys. Their events land in event history, so a lookup
//! by event source or event name returns far more than one page and a learner's own call has
//! to be found among them, and (while a trail logs) on the event bus, where the workshop's rule
//! matches the application's data keys too.

use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::Mutex;
use serde_json::{json, Value as J};
use time::{Duration, OffsetDateTime};

use super::events::{Record, Written};
use super::recorder::RecordParts;
use crate::identity::{Caller, Principal};
use crate::services::kms::shared;
use crate::services::TrailResource;
use crate::Sandbox;
use kms_workshop_names::FIRST_ALIAS;

/// At most this many events per account per tick: a clock moved days ahead does not make the
/// sandbox write days of activity at once (the rest is skipped, as nobody watched it).
const MOST_PER_TICK: i64 = 50;

/// A sandbox's first tick writes the activity of this long before it (an account is busy
/// before anyone looks), at most [`MOST_AT_START`] calls.
const BUSY_BEFORE: Duration = Duration::minutes(5);
const MOST_AT_START: i64 = 600;

/// No more activity in an account whose history holds this many events: a sandbox left running
/// for weeks does not grow without end (event history keeps every event).
const MOST_IN_HISTORY: usize = 200_000;

/// Where one sandbox's activity stands: when it was last generated up to, and how many calls
/// so far (which call comes next).
#[derive(Clone, Copy)]
struct Progress {
    until: OffsetDateTime,
    calls: i64,
}

/// Each sandbox's progress, by its admin token (random per sandbox, unlike its address).
/// Process-local on purpose: after a restart activity starts again from "now" instead of
/// filling the gap.
fn progress() -> &'static Mutex<HashMap<String, Progress>> {
    static ALL: OnceLock<Mutex<HashMap<String, Progress>>> = OnceLock::new();
    ALL.get_or_init(Default::default)
}

/// The tick: the calls due since the last one, in every learner's account.
pub fn generate_due(sb: &Sandbox) {
    let Some(every) = sb.config.realism.background_every else {
        return;
    };
    let every = sb.config.scaled(every).max(Duration::milliseconds(10));
    let now = sb.clock.now();
    let (first, due) = {
        let mut all = progress().lock();
        let mut most = MOST_PER_TICK;
        let p = all.entry(sb.admin_token().to_string()).or_insert_with(|| {
            most = MOST_AT_START;
            Progress {
                until: now - BUSY_BEFORE,
                calls: 0,
            }
        });
        let due = ((now - p.until).as_seconds_f64() / every.as_seconds_f64()).floor() as i64;
        let mut first = *p;
        if due > most {
            // A jump of the clock: skip what nobody watched; the last few calls stand.
            first.until = now - every * most as f64;
            p.until = now;
        } else if due > 0 {
            // Whole intervals only: the remainder counts towards the next tick.
            p.until += every * due as f64;
        }
        p.calls += due.clamp(0, most);
        (first, due.clamp(0, most))
    };
    let region = kms_workshop_names::sandbox::REGION;
    for (_, account) in sb.learners() {
        // An account waiting for its seed gets its history from the seed first (history is
        // kept in time order: later calls would date the seed's as now).
        if sb.waits_for_seed(&account) || sb.events().len(&account, region) >= MOST_IN_HISTORY {
            continue;
        }
        for i in 0..due {
            let at = (first.until + every * (i + 1) as f64).min(now);
            one_call(sb, &account, region, at, first.calls + i);
        }
    }
}

/// Someone else's principal in `account`.
fn role_session(account: &str, role: &str, session: &str) -> Caller {
    Caller {
        access_key_id: format!("ASIA{:0>16}", role.len() * 7919 + session.len()),
        account: account.to_string(),
        principal: Principal::AssumedRole {
            role_name: role.to_string(),
            role_id: format!("AROA{:0>17}", role.len() * 104_729),
            session_name: session.to_string(),
            created: String::new(),
        },
        console_since: None,
    }
}

fn one_call(sb: &Sandbox, account: &str, region: &str, at: OffsetDateTime, n: i64) {
    let first_key = shared::resolve(sb, account, region, FIRST_ALIAS, None).map(|k| k.arn);
    let key = |arn: &Option<String>| -> Vec<TrailResource> {
        arn.iter()
            .map(|a| TrailResource {
                arn: a.clone(),
                resource_type: "AWS::KMS::Key".into(),
            })
            .collect()
    };
    let app = role_session(account, "orders-app", "i-0a1b2c3d4e5f60718");
    let ops = role_session(account, "OpsAdmin", "ops.person");
    let service = role_session(account, "AWSServiceRoleForConfig", "AWSConfig-Describe");
    let (caller, source, op, read_only, params, resources, agent) = match n % 5 {
        0 => (
            &app,
            "kms.amazonaws.com",
            "Decrypt",
            true,
            json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"service": "orders"}}),
            key(&first_key),
            "aws-sdk-java/2.25.6 Linux/5.10 OpenJDK_64-Bit_Server_VM/17",
        ),
        1 => (
            &app,
            "kms.amazonaws.com",
            "GenerateDataKey",
            true,
            json!({"keyId": FIRST_ALIAS, "keySpec": "AES_256", "encryptionContext": {"service": "orders"}}),
            key(&first_key),
            "aws-sdk-java/2.25.6 Linux/5.10 OpenJDK_64-Bit_Server_VM/17",
        ),
        2 => (
            &service,
            "kms.amazonaws.com",
            "ListAliases",
            true,
            J::Null,
            Vec::new(),
            "config.amazonaws.com",
        ),
        3 => (
            &ops,
            "ec2.amazonaws.com",
            "DescribeInstances",
            true,
            J::Null,
            Vec::new(),
            "AWS Internal",
        ),
        _ => (
            &ops,
            "signin.amazonaws.com",
            "ConsoleLogin",
            false,
            J::Null,
            Vec::new(),
            "Mozilla/5.0 (X11; Linux x86_64)",
        ),
    };
    let request_id = crate::util::uuid();
    let event_id = crate::util::uuid();
    let parts = RecordParts {
        caller,
        region,
        event_source: source,
        op,
        source_ip: "192.0.2.44",
        user_agent: agent,
        error: None,
        request_parameters: params,
        response: J::Null,
        request_id: &request_id,
        event_id: &event_id,
        read_only,
        resources: &resources,
    };
    let ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
    let time_ms = sb.events().append(
        account,
        region,
        parts.new_event(),
        (ms, ms),
        |t| Record::Members(parts.members(t)),
        |frame| sb.persist_event(frame),
        Written::Now,
    );
    // Others' calls reach EventBridge like anyone's while a trail logs: the workshop's rule
    // matches the application's GenerateDataKey too, as it would on AWS.
    if super::logging_in(sb, account, region, read_only, parts.event_source) {
        let due = ms + sb.config.eventbridge_delivery_delay().whole_milliseconds() as i64;
        let record = parts.render(time_ms);
        sb.schedule_cloudtrail_record(&record, (account, region), due, read_only);
    }
}
