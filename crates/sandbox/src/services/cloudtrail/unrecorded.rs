//! Records taken down but not yet in the history, and the one order they join it in.
//!
//! A read-only call (GenerateDataKey, Decrypt, Describe…) is answered on the request's own task;
//! writing its record (rendering it, appending it to the history and its file, handing it to
//! EventBridge) is a third of that call's work, and nothing in the answer depends on it. So the
//! record waits here, taken down before the answer goes out, and is written with the records of
//! the calls answered after it, in one batch: by the first read-only call answered
//! [`WRITE_AFTER`] or more after the oldest waiting record was taken down (its task spawns the
//! writer once its own answer is out; see [`wait`]), or by the sandbox's tick within a second
//! when no such call comes. Whatever reads or changes the history settles first
//! ([`crate::Sandbox::events`], the outbox, EventBridge, every change), so a `LookupEvents`, the
//! console's history, a learner's inbox, a reset or an orderly restart never sees the history
//! without a call that was already answered. (A process killed outright between an answer and
//! its record's write loses that record and the others of its batch: five milliseconds' worth or
//! more while calls keep coming, up to the tick's second when they stop, where before the record
//! was on disk first; the sandbox's history is a teaching aid, not an audit log, and the
//! answer's speed is worth that window. What a record causes, a rule's counter or a message,
//! goes to disk after the record; a message to an HTTP endpoint goes out as late as its record
//! is written.)

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::recorder::{self, Deferred};
use crate::Sandbox;

/// The waiting records, oldest first, and the lock that keeps them in that order while they
/// are written (one settling at a time: two at once could write a later call first).
#[derive(Default)]
pub(crate) struct Unrecorded {
    waiting: Mutex<Waiting>,
    /// Held by the one writer; it holds the list the writer swaps with `waiting` and empties,
    /// so the two lists keep their room instead of `waiting` growing from nothing after each
    /// writing.
    writing: Mutex<Vec<Deferred>>,
}

/// The records waiting, and since when the oldest of them has waited unclaimed.
pub(crate) struct Waiting<T = Deferred> {
    list: Vec<T>,
    /// When the oldest record no writer has been started for was taken down; `None` once one
    /// has (it writes the whole list) or the list was taken.
    since: Option<Instant>,
}

impl<T> Default for Waiting<T> {
    fn default() -> Self {
        Waiting {
            list: Vec::new(),
            since: None,
        }
    }
}

impl<T> Waiting<T> {
    /// Add a record taken down at `now`; whether a writer should be started for the list:
    /// the records have waited [`WRITE_AFTER`] since the oldest one no writer was started for.
    fn add(&mut self, record: T, now: Instant) -> bool {
        self.list.push(record);
        match self.since {
            None => {
                self.since = Some(now);
                false
            }
            Some(since) if now.saturating_duration_since(since) >= WRITE_AFTER => {
                self.since = None;
                true
            }
            Some(_) => false,
        }
    }

    /// Hand every record to a writer (its empty `batch` takes the list), and start the wait
    /// again from the next record.
    fn take_into(&mut self, batch: &mut Vec<T>) {
        std::mem::swap(&mut self.list, batch);
        self.since = None;
    }
}

/// How long taken-down records wait for others to join their batch before a call's task
/// starts their writer: one writing (one frame, one write(2)) for every few dozen calls at one
/// request in flight and a hundred or so at sixteen. The writer runs on the thread that has
/// just answered, and the answers right after it are read on the other core (presumably why
/// those calls are slower): five milliseconds instead of one leaves that to about one call in
/// thirty-five rather than one in seven (×1.26–×1.28 the ceiling's median at one request in
/// flight instead of ×1.29–×1.30; docs/BENCHMARKS.md).
pub(crate) const WRITE_AFTER: Duration = Duration::from_millis(5);

/// Take down a record to be written at the next settling. Whether the caller should start a
/// settling now: the records have waited [`WRITE_AFTER`] and no writer has been started for
/// them. Asked of the calls as they come, not of a timer: a timer firing woke the runtime's
/// other thread, and the calls after it then bounced between the two (c8f5fd8's run in
/// docs/BENCHMARKS-HISTORY.md).
/// When the calls stop, the records wait for the tick, or for whoever reads first.
pub(crate) fn wait(sb: &Sandbox, d: Deferred) -> bool {
    sb.unrecorded.waiting.lock().add(d, Instant::now())
}

/// Write every waiting record, in the order the calls were made; when this returns, each
/// record taken down before it was called is in the history.
pub(crate) fn settle(sb: &Sandbox) {
    let mut writing = sb.unrecorded.writing.lock();
    write_waiting(sb, &mut writing);
    drop(writing);
    // A record taken down after the last look, by a task whose try failed while this held
    // the lock, is this one's to write.
    settle_soon(sb);
}

/// Write the waiting records unless another task is writing them already (it writes these
/// too: it looks again once it is done). For the task that answered a call, which must not
/// wait on another's writing.
pub fn settle_soon(sb: &Sandbox) {
    loop {
        let Some(mut writing) = sb.unrecorded.writing.try_lock() else {
            return;
        };
        write_waiting(sb, &mut writing);
        drop(writing);
        // A record taken down while this task held the lock, by a task whose own try failed,
        // is this task's to write.
        if sb.unrecorded.waiting.lock().list.is_empty() {
            return;
        }
    }
}

/// Records' room the writer's list keeps between writings (a burst of calls can leave it
/// thousands long).
const KEPT_ROOM: usize = 256;

/// Write the waiting records, taking them in turns through `batch` (empty, the writer's).
fn write_waiting(sb: &Sandbox, batch: &mut Vec<Deferred>) {
    loop {
        let mut waiting = sb.unrecorded.waiting.lock();
        waiting.take_into(batch);
        if batch.is_empty() {
            // A burst's room is not kept for good, in either list (the one that held it is
            // `waiting` now).
            waiting.list.shrink_to(KEPT_ROOM);
            batch.shrink_to(KEPT_ROOM);
            return;
        }
        drop(waiting);
        let handed: Vec<_> = batch
            .drain(..)
            .filter_map(|d| alone(|| recorder::write(sb, d)).flatten())
            .collect();
        // The batch's events go to disk (in one frame, unless another write took some first)
        // before anyone can see the writing done, and before what they cause: a rule's
        // counter, a message.
        sb.history.flush(|frame| sb.persist_event(frame));
        for h in handed {
            alone(|| recorder::hand_over(sb, h));
        }
    }
}

/// `f`, a part of one record's writing: one that fails (a bug) is logged and lost alone, not
/// with the other calls' records after it.
fn alone<T>(f: impl FnOnce() -> T) -> Option<T> {
    crate::util::caught(f)
        .map_err(|why| tracing::error!(error = %why, "a CloudTrail record could not be written"))
        .ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value as J};

    use super::*;
    use crate::identity::{Caller, Principal};
    use crate::protocol::{Input, Value};
    use crate::services::cloudtrail::events::Query;
    use crate::services::Call;

    fn learner() -> Caller {
        Caller {
            access_key_id: "AKIAUNRECORDED".into(),
            account: "111122223333".into(),
            principal: Principal::IamUser {
                name: "learner".into(),
                user_id: "AIDAUNRECORDED".into(),
            },
            console_since: None,
        }
    }

    /// Take down `op`'s record as the request task does, without writing it; whether the
    /// task should start a writer.
    fn take_down(sb: &Sandbox, op: &str) -> bool {
        let kms = sb.service("kms").expect("kms");
        let cx = Call::direct(sb, &learner(), kms.about().protocol);
        let input = Input::Json(json!({"KeyId": "alias/ImportedCMK"}));
        let (ip, agent) = ("127.0.0.1".to_string(), "t".to_string());
        recorder::defer(cx, kms, op.to_string(), input, &Ok(Value::Null), ip, agent)
    }

    /// A call starts the writer only once records have waited [`WRITE_AFTER`], and only one
    /// call does for them; the records after it, or after a writing took the list, wait again
    /// from their own first.
    #[test]
    fn the_first_call_after_the_wait_starts_the_one_writer() {
        let t0 = Instant::now();
        // In tenths of the wait.
        let at = |tenths: u32| t0 + WRITE_AFTER * tenths / 10;
        let mut w = Waiting::default();
        assert!(!w.add(1, at(0)), "the first record waits");
        assert!(!w.add(2, at(5)), "half the wait");
        assert!(w.add(3, at(10)), "due: this call starts the writer");
        assert!(!w.add(4, at(12)), "one writer is started for them");
        assert!(!w.add(5, at(21)), "the wait started again at 4");
        assert!(w.add(6, at(22)));
        let mut batch = Vec::new();
        w.take_into(&mut batch);
        assert_eq!(batch, [1, 2, 3, 4, 5, 6]);
        assert!(w.list.is_empty());
        assert!(
            !w.add(7, at(100)),
            "after a writing, the wait starts from the next record"
        );
        assert!(!w.add(8, at(109)));
        assert!(w.add(9, at(110)));
        // A clock read out of order (another thread's earlier instant) is no wait at all.
        assert!(!w.add(10, at(115)));
        assert!(!w.add(11, at(110)));
    }

    fn newest(sb: &Sandbox, n: usize) -> Vec<String> {
        let q = Query {
            attribute: None,
            start_ms: 0,
            end_ms: i64::MAX,
            now_ms: i64::MAX,
            max: n,
            before: None,
        };
        let (found, _) = sb.events().lookup("111122223333", "us-east-1", &q);
        found.iter().map(|e| e.event_name.to_string()).collect()
    }

    #[test]
    fn a_reader_of_the_history_finds_every_call_taken_down_in_order() {
        let sb = Sandbox::open(crate::Config::default()).expect("sandbox");
        let before = sb.history.len("111122223333", "us-east-1");
        take_down(&sb, "GenerateDataKey");
        take_down(&sb, "Decrypt");
        assert_eq!(
            sb.history.len("111122223333", "us-east-1"),
            before,
            "taken down, not yet written"
        );
        // A call recorded at once writes the waiting ones first: the order is the calls'.
        let kms = sb.service("kms").expect("kms");
        let cx = Call::direct(&sb, &learner(), kms.about().protocol);
        let input = Input::Json(json!({}));
        recorder::record(&cx, kms, "ListKeys", &input, &Ok(Value::Null), "::1", "t");
        assert_eq!(newest(&sb, 3), ["ListKeys", "Decrypt", "GenerateDataKey"]);
        take_down(&sb, "Encrypt");
        assert_eq!(newest(&sb, 1), ["Encrypt"], "reading settles first");
    }

    /// Tasks that take records down and try to write them at once leave none waiting: a task
    /// whose try fails leaves its record to the writer, which looks again before it stops.
    #[test]
    fn racing_writers_leave_no_record_waiting() {
        let sb = Sandbox::open(crate::Config::default()).expect("sandbox");
        let before = sb.history.len("111122223333", "us-east-1");
        let (threads, each) = (8, 250);
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let sb = Arc::clone(&sb);
                std::thread::spawn(move || {
                    for _ in 0..each {
                        take_down(&sb, "GenerateDataKey");
                        settle_soon(&sb);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a worker");
        }
        assert!(sb.unrecorded.waiting.lock().list.is_empty());
        assert_eq!(
            sb.history.len("111122223333", "us-east-1"),
            before + threads * each
        );
    }
    /// A settled batch is on disk when the settling is done, the batch's records in one
    /// write (one frame), not one write each.
    #[test]
    fn a_settled_batch_is_on_disk_in_one_frame() {
        use crate::services::cloudtrail::events::codec;
        use crate::store::history;
        let dir = tempfile::tempdir().expect("a directory");
        let sb = Sandbox::open(crate::Config {
            state_dir: Some(dir.path().into()),
            ..Default::default()
        })
        .expect("sandbox");
        let file = dir.path().join(history::FILE);
        let frames = || {
            let bytes = history::read(&file).expect("the history file");
            let events: Vec<usize> = history::frames(&bytes)
                .map(|f| {
                    let entries = codec::decode(f).expect("a frame");
                    let is_event = |e: &codec::Entry<'_>| matches!(e, codec::Entry::Event { .. });
                    entries.iter().filter(|e| is_event(e)).count()
                })
                .collect();
            events
        };
        settle(&sb);
        let before = frames();
        for op in ["GenerateDataKey", "Decrypt", "Encrypt"] {
            take_down(&sb, op);
        }
        assert_eq!(frames(), before, "taken down, not yet written");
        settle_soon(&sb);
        let after = frames();
        assert_eq!(after[..before.len()], before[..]);
        assert_eq!(after[before.len()..], [3], "one frame of three events");
    }

    /// An account emptied while its calls' records wait keeps none of them: they join the
    /// history before it is emptied, not after.
    #[test]
    fn an_emptied_account_keeps_no_record_that_waited() {
        let sb = Sandbox::open(crate::Config::default()).expect("sandbox");
        take_down(&sb, "GenerateDataKey");
        take_down(&sb, "Decrypt");
        sb.wipe_account("111122223333").expect("wiped");
        assert!(sb.unrecorded.waiting.lock().list.is_empty());
        assert_eq!(newest(&sb, 10), Vec::<String>::new());
    }

    /// The seed's calls (`prepare`'s plan, made in process) leave the records waiting to the
    /// writer, its changes too: they run on a runtime of their own, dropped when the seed is
    /// done, and a delivery a record started there would be dropped with it.
    #[test]
    fn the_seeds_calls_leave_the_waiting_records_to_the_writer() {
        let sb = Sandbox::open(crate::Config::default()).expect("sandbox");
        take_down(&sb, "GenerateDataKey");
        crate::seed::plan::prepare_account(&sb, "444455556666", "us-east-1")
            .expect("the plan made in a second account");
        assert_eq!(
            sb.unrecorded.waiting.lock().list.len(),
            1,
            "the seed's calls wrote no record that waited"
        );
        assert_eq!(newest(&sb, 1), ["GenerateDataKey"], "the writer's, still");
    }

    /// The account's own trail, logging every management event (the organization's, seen
    /// from a member, logs only writes).
    fn logging_trail(sb: &Sandbox) {
        let trail = crate::services::cloudtrail::state::Trail {
            name: "workshop".into(),
            arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/workshop".into(),
            event_selectors: None,
            organization: false,
            ..crate::services::cloudtrail::organization::trail()
        };
        sb.write::<crate::services::cloudtrail::state::TrailState, _>(
            "111122223333",
            "us-east-1",
            |st| {
                st.trails.insert(trail.name.clone(), trail);
                Ok(())
            },
        )
        .expect("a logging trail");
    }

    /// The rule's counter of `name` in the admin view (which settles first).
    fn matched(sb: &Sandbox, name: &str) -> u64 {
        let view = sb.rules_view();
        let rule = view["rules"].as_array().into_iter().flatten();
        rule.filter(|r| r["name"] == name)
            .find_map(|r| r["MatchedEvents"].as_u64())
            .expect("the rule")
    }

    /// A sandbox whose trail logs every call, with rule `every-kms-call` (every KMS call)
    /// just put: rules propagate in a minute.
    fn with_a_rule_live_in_a_minute() -> Arc<Sandbox> {
        let sb = Sandbox::open(crate::Config {
            realism: crate::realism::Realism {
                rule_propagation: time::Duration::seconds(60),
                ..Default::default()
            },
            ..Default::default()
        })
        .expect("sandbox");
        logging_trail(&sb);
        let events = sb.service("events").expect("events");
        let mut cx = Call::direct(&sb, &learner(), events.about().protocol);
        let rule = json!({
            "Name": "every-kms-call",
            "EventPattern": r#"{"source": ["aws.kms"]}"#,
            "State": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
        });
        events
            .call(&mut cx, "PutRule", &Input::Json(rule))
            .expect("a rule, live within a minute");
        sb
    }

    /// A call answered before the clock moves is routed at its own time: a rule that was not
    /// live yet then does not receive it, however far the clock moves before its record is
    /// written.
    #[test]
    fn a_call_answered_before_the_clock_moves_is_routed_at_its_own_time() {
        let sb = with_a_rule_live_in_a_minute();
        take_down(&sb, "GenerateDataKey");
        sb.advance_clock(time::Duration::minutes(2))
            .expect("the clock moves");
        assert_eq!(matched(&sb, "every-kms-call"), 0, "the rule was not live");
        // Live now: the same call made now is routed to it.
        take_down(&sb, "GenerateDataKey");
        assert_eq!(matched(&sb, "every-kms-call"), 1);
    }

    /// A record written late (by a later call's writer or the tick, while the sandbox's time
    /// went on) is routed at its call's time too: a rule that went live meanwhile does not
    /// receive the call made before it was.
    #[test]
    fn a_record_written_after_its_rule_went_live_is_routed_at_its_calls_time() {
        let sb = with_a_rule_live_in_a_minute();
        take_down(&sb, "GenerateDataKey");
        // Two minutes pass (the clock moved as time moves it, nothing settled), then the
        // record is written.
        sb.clock
            .set_offset(sb.clock.offset() + time::Duration::minutes(2));
        settle(&sb);
        assert_eq!(matched(&sb, "every-kms-call"), 0, "the rule was not live");
        take_down(&sb, "GenerateDataKey");
        settle(&sb);
        assert_eq!(
            matched(&sb, "every-kms-call"),
            1,
            "live for a call made now"
        );
    }

    /// `op` on the awsQuery service `service` (CloudFormation, CloudWatch) with `params`, as
    /// the learner, at the sandbox's time now.
    fn query(sb: &Sandbox, service: &str, op: &str, params: &[(&str, &str)]) -> J {
        let svc = sb.service(service).expect("service");
        let mut cx = Call::direct(sb, &learner(), svc.about().protocol);
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let input = Input::form(params, crate::protocol::input::FormStyle::Query);
        svc.call(&mut cx, op, &input)
            .unwrap_or_else(|e| panic!("{op}: {}", e.message))
            .to_json()
    }

    /// Whether EventBridge reported `Invocations` for rule `name` (a metric CloudWatch keeps
    /// after the rule is gone).
    fn rule_invoked(sb: &Sandbox, name: &str) -> bool {
        let listed = query(
            sb,
            "monitoring",
            "ListMetrics",
            &[("Namespace", "AWS/Events"), ("MetricName", "Invocations")],
        );
        listed["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["Dimensions"][0]["Value"] == name)
    }

    /// A call answered before a stack's due deletion is routed by the stack's rule, which
    /// still exists for it: the waiting records are written before CloudFormation does due
    /// work, in whatever call (a listing here). Two things see to it for a rule: the settling
    /// at the start of every CloudFormation call, and the recording of the rule deletion's
    /// first call (ListTargetsByRule); the test fails only with both gone (checked), so it
    /// holds the behaviour, not one of the two.
    #[test]
    fn a_call_answered_before_a_stack_goes_is_routed_by_its_rule() {
        // Stacks take their time, as on AWS: the deletion waits for a later call.
        let sb = Sandbox::open(crate::Config {
            latency: crate::config::LatencyProfile::Realistic,
            ..Default::default()
        })
        .expect("sandbox");
        logging_trail(&sb);
        let template = json!({"Resources": {"Every": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": "stack-kms-calls",
                "EventPattern": {"source": ["aws.kms"]},
                "State": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
            },
        }}})
        .to_string();
        let stack = [("StackName", "rules")];
        query(
            &sb,
            "cloudformation",
            "CreateStack",
            &[stack[0], ("TemplateBody", &template)],
        );
        sb.advance_clock(time::Duration::minutes(5))
            .expect("the creation is due");
        query(&sb, "cloudformation", "DescribeStacks", &stack);
        assert_eq!(
            matched(&sb, "stack-kms-calls"),
            0,
            "the stack made its rule, which matched nothing yet"
        );
        query(&sb, "cloudformation", "DeleteStack", &stack);
        sb.advance_clock(time::Duration::minutes(5))
            .expect("the deletion is due");
        // (CloudWatch writes the waiting records before it answers: asked before the call.)
        assert!(!rule_invoked(&sb, "stack-kms-calls"), "nothing routed yet");
        take_down(&sb, "GenerateDataKey");
        // Any CloudFormation call does the due work: here a listing.
        let listed = query(&sb, "cloudformation", "ListStacks", &[]);
        let status = listed["StackSummaries"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["StackName"] == "rules")
            .map(|s| s["StackStatus"].clone());
        assert_eq!(
            status,
            Some(J::from("DELETE_COMPLETE")),
            "the deletion was due: {listed}"
        );
        assert!(
            rule_invoked(&sb, "stack-kms-calls"),
            "the call was routed while the stack's rule was there"
        );
    }
}
