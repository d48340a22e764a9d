//! Where each learner is in the monitoring chapter, read from their account as it is: the
//! instructor's class view (the console's `/console/class`) shows one row per learner and one
//! cell per step.
//!
//! A step is *done*, *in progress* or *not started*, judged by what the chapter asks for, not
//! by what a learner clicked: a GenerateDataKey call in the history; a lookup of it by event
//! name; the topic with a confirmed email subscription; a rule targeting the topic that has
//! delivered a notification; an alarm on the key material's expiry that notifies the topic;
//! the clean-up (the workshop's keys pending deletion, the instance terminated, the stack
//! gone). Only what happened since the account was last seeded counts: the history of the
//! workshop's earlier sections, which the seed writes, is not the learner's doing. Each cell's
//! time is the learner's latest call of that step's kind.

use serde::Serialize;
use serde_json::Value as J;

use crate::services::cloudformation::CfnState;
use crate::services::cloudtrail::events::{attribute_index, Query, StoredEvent};
use crate::services::cloudwatch::CloudWatchState;
use crate::services::ec2::{Ec2State, InstanceState};
use crate::services::events::EventsState;
use crate::services::kms::KmsState;
use crate::services::sns::SnsState;
use crate::Sandbox;
use kms_workshop_names as names;
use kms_workshop_names::starting::{KeyRole, KEY_ROLE_TAG};

/// How far a learner is with one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    NotStarted,
    InProgress,
    Done,
}

impl Status {
    /// As the class view words it.
    pub fn label(self) -> &'static str {
        match self {
            Status::NotStarted => "not started",
            Status::InProgress => "in progress",
            Status::Done => "done",
        }
    }

    fn of(started: bool, done: bool) -> Status {
        match (started, done) {
            (_, true) => Status::Done,
            (true, false) => Status::InProgress,
            _ => Status::NotStarted,
        }
    }
}

/// One step's cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub status: Status,
    /// The learner's latest call of this step's kind (sandbox clock, Unix ms).
    pub last_ms: Option<i64>,
}

/// The chapter's steps, in order: (id, title, the calls that are this step's actions).
pub const STEPS: [(&str, &str, &[&str]); 6] = [
    ("data-key", "Generate a data key", &["GenerateDataKey"]),
    (
        "event-history",
        "Find it in Event history",
        &["LookupEvents"],
    ),
    (
        "topic",
        "Topic and email subscription",
        &["CreateTopic", "Subscribe", "ConfirmSubscription"],
    ),
    (
        "rule",
        "Rule notifies the topic",
        &["PutRule", "PutTargets"],
    ),
    ("alarm", "Expiry alarm", &["PutMetricAlarm"]),
    (
        "cleanup",
        "Clean-up",
        &[
            "ScheduleKeyDeletion",
            "DisassociateIamInstanceProfile",
            "DetachRolePolicy",
            "TerminateInstances",
            "DeleteStack",
        ],
    ),
];

/// One learner's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub number: u32,
    pub account: String,
    /// One per [`STEPS`] entry, in order.
    pub cells: Vec<Cell>,
    /// The latest of the cells' times.
    pub last_ms: Option<i64>,
}

/// Whether a recorded call is the learner's own and succeeded: made as their IAM user (from
/// a terminal or the console) or as the workshop instance, not as the instructor (who works in
/// a learner's account through the classroom role) or anyone else; and answered without an
/// error (a refused GenerateDataKey does not do the step).
fn learners_success(e: &StoredEvent) -> bool {
    let own = &*e.username == names::sandbox::LEARNER_USER || e.username.starts_with("i-");
    own && !e.record.contains("\"errorCode\":")
}

/// The learner's successful calls of one kind since `since`, newest first (at most `max`
/// looked at).
fn calls(sb: &Sandbox, account: &str, name: &str, since: i64, max: usize) -> Vec<StoredEvent> {
    let Some(attribute) = attribute_index("EventName") else {
        return Vec::new();
    };
    let q = Query {
        attribute: Some((attribute, name.to_string())),
        start_ms: since,
        end_ms: i64::MAX,
        now_ms: i64::MAX,
        max,
        before: None,
    };
    let (found, _) = sb.events().lookup(account, names::sandbox::REGION, &q);
    found.into_iter().filter(learners_success).collect()
}

/// How many of a kind's newest calls are looked at for the latest of the learner's.
const LOOK_BACK: usize = 50;

/// The latest call among `kinds` since `since`.
fn latest(sb: &Sandbox, account: &str, kinds: &[&str], since: i64) -> Option<i64> {
    kinds
        .iter()
        .filter_map(|n| {
            calls(sb, account, n, since, LOOK_BACK)
                .first()
                .map(|e| e.time_ms)
        })
        .max()
}

/// How many of the learner's LookupEvents calls are looked through for one by event name.
const LOOKUPS_LOOKED_AT: usize = 1000;

/// Whether one of the learner's LookupEvents calls looked up by event name (the record is read
/// only when its text names the attribute).
fn looked_up_by_name(sb: &Sandbox, account: &str, since: i64) -> bool {
    calls(sb, account, "LookupEvents", since, LOOKUPS_LOOKED_AT)
        .iter()
        .filter(|e| e.record.contains("EventName"))
        .filter_map(|e| serde_json::from_str::<J>(&e.record).ok())
        .any(|r| {
            r["requestParameters"]["lookupAttributes"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["attributeKey"] == "EventName"))
        })
}

/// Whether an SNS message is an EventBridge rule's delivery of a CloudTrail API call event
/// (its message is the event itself, not a text that merely mentions it).
fn rule_delivery(m: &crate::services::sns::OutboxMessage) -> bool {
    m.kind == "Notification"
        && m.document["Message"]
            .as_str()
            .and_then(|text| serde_json::from_str::<J>(text).ok())
            .is_some_and(|event| event["detail-type"] == "AWS API Call via CloudTrail")
}

impl Sandbox {
    /// When learner `number`'s account was last seeded (0 for states from before this was
    /// recorded: their whole history counts).
    fn learner_since(&self, number: u32) -> i64 {
        self.world
            .read()
            .learner_since
            .get(&number)
            .copied()
            .unwrap_or(0)
    }

    /// Every learner's row, in learner order.
    pub fn class_progress(&self) -> Vec<Row> {
        self.learners()
            .into_iter()
            .map(|(number, account)| self.learner_progress(number, &account))
            .collect()
    }

    /// Learner `number`'s row (their account is `account`).
    pub fn learner_progress(&self, number: u32, account: &str) -> Row {
        let since = self.learner_since(number);
        let lasts: Vec<Option<i64>> = STEPS
            .iter()
            .map(|(_, _, kinds)| latest(self, account, kinds, since))
            .collect();
        // The data key step is its call: the first step's latest call is its judgement.
        let done = self.steps_done(account, since, lasts[0].is_some());
        let cells: Vec<Cell> = lasts
            .into_iter()
            .zip(done)
            .map(|(last_ms, (started, done))| Cell {
                status: Status::of(started || last_ms.is_some(), done),
                last_ms,
            })
            .collect();
        Row {
            number,
            account: account.to_string(),
            last_ms: cells.iter().filter_map(|c| c.last_ms).max(),
            cells,
        }
    }

    /// For each step, (started, done) from the account's state; `data_key`: whether the
    /// learner made the chapter's call (the first step's latest call, already looked up).
    fn steps_done(&self, account: &str, since: i64, data_key: bool) -> [(bool, bool); 6] {
        let region = names::sandbox::REGION;
        let lookup = looked_up_by_name(self, account, since);
        let topic_arn = self.read::<SnsState, _>(account, region, |st| {
            st.topics
                .values()
                .find(|t| t.name == names::TOPIC)
                .map(|t| t.arn.clone())
        });
        let confirmed = topic_arn.as_ref().is_some_and(|arn| {
            self.read::<SnsState, _>(account, region, |st| {
                st.subscriptions
                    .values()
                    .any(|s| &s.topic_arn == arn && s.protocol == "email" && s.confirmed)
            })
        });
        let targets_topic = |arns: &[String]| topic_arn.as_ref().is_some_and(|t| arns.contains(t));
        let rule = self.read::<EventsState, _>(account, region, |st| {
            st.rules.values().any(|r| {
                let arns: Vec<String> = r.targets.iter().map(|t| t.arn.clone()).collect();
                targets_topic(&arns)
            })
        });
        let notified = topic_arn.as_ref().is_some_and(|arn| {
            self.outbox_any(account, |m| {
                m.document["TopicArn"].as_str() == Some(arn) && rule_delivery(m)
            })
        });
        let (alarm, alarm_notifies) = self.read::<CloudWatchState, _>(account, region, |st| {
            let on_expiry: Vec<_> = st
                .alarms
                .values()
                .filter(|a| a.metric_name == names::KEY_METRIC)
                .collect();
            (
                !on_expiry.is_empty(),
                on_expiry.iter().any(|a| targets_topic(&a.alarm_actions)),
            )
        });
        let cleaned = self.cleaned(account);
        let cleanup_started = cleaned.iter().any(|c| *c);
        [
            (data_key, data_key),
            (lookup, lookup),
            (topic_arn.is_some(), confirmed),
            (rule, rule && notified),
            (alarm, alarm_notifies),
            (cleanup_started, cleaned.iter().all(|c| *c)),
        ]
    }

    /// The clean-up's parts: the workshop's first and imported keys pending deletion, its
    /// instance terminated, its stack deleted; each only once there was one (an account
    /// seeded empty has nothing to clean up).
    fn cleaned(&self, account: &str) -> [bool; 3] {
        let region = names::sandbox::REGION;
        let keys = self.read::<KmsState, _>(account, region, |st| {
            let roles = [KeyRole::First.as_str(), KeyRole::Imported.as_str()];
            let ours: Vec<_> = st
                .keys
                .values()
                .filter(|k| {
                    k.tags
                        .get(KEY_ROLE_TAG)
                        .is_some_and(|r| roles.contains(&r.as_str()))
                })
                .collect();
            !ours.is_empty() && ours.iter().all(|k| k.deletion_date.is_some())
        });
        let instance = self.read::<Ec2State, _>(account, region, |st| {
            let ours: Vec<_> = st
                .instances
                .values()
                .filter(|i| {
                    i.tags.get("Name").map(String::as_str) == Some(names::INSTANCE_NAME_TAG)
                        || i.id == names::sandbox::INSTANCE_ID
                })
                .collect();
            !ours.is_empty()
                && ours.iter().all(|i| {
                    matches!(
                        i.state,
                        InstanceState::ShuttingDown | InstanceState::Terminated
                    )
                })
        });
        let stack = self.read::<CfnState, _>(account, region, |st| {
            let ours: Vec<_> = st
                .stacks
                .iter()
                .filter(|s| s.name == names::STACK)
                .collect();
            !ours.is_empty() && ours.iter().all(|s| !s.live())
        });
        [keys, instance, stack]
    }

    /// Date the learners of a state made before [`crate::world::World::learner_since`] was
    /// recorded from now: what their history holds already is not counted as their work.
    pub(crate) fn date_undated_learners(&self) -> Result<(), crate::protocol::AwsError> {
        let undated: Vec<u32> = {
            let w = self.world.read();
            w.learners
                .keys()
                .filter(|k| !w.learner_since.contains_key(k))
                .copied()
                .collect()
        };
        let since = self.clock.now().unix_timestamp() * 1000;
        for k in undated {
            let mut w = self.world.write();
            self.persist(
                &mut w,
                &["learner_since", &k.to_string()],
                since.into(),
                |w| {
                    w.learner_since.insert(k, since);
                },
            )?;
        }
        Ok(())
    }
}
