//! SNS and EventBridge for the kms-workshop runner: steps 3 and 4 of the monitoring chapter.
//!
//! - [`validate`]: topic names, the workshop's 10-character display name and email addresses,
//!   checked before AWS is called, with errors that name the field and the limit.
//! - [`topic`]: find or create the topic, subscribe an email address, confirm, and tell a
//!   subscription's state (pending confirmation, confirmed, deleted).
//! - [`policy`]: the topic-policy statement that lets `events.amazonaws.com` publish, merged
//!   into the existing policy without dropping its statements, idempotently.
//! - [`rule`]: the workshop's EventBridge rule (the corrected pattern, in state
//!   `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`), its SNS target, and the check of a rule
//!   a learner made by hand.
//! - [`preflight`](mod@preflight): run a rule's pattern against a sample GenerateDataKey event locally and say
//!   which fields fail and why (the console's `source: aws.cloudtrail` mistake), before anyone
//!   waits minutes for an email that will never come.
//! - [`trail`]: whether a trail is logging management events (EventBridge only sees CloudTrail
//!   events while one is), and creating one with its S3 bucket when the caller decides to.
//!
//! Functions take SDK clients, so the same code runs against AWS and the sandbox. Failures keep
//! AWS's code and message ([`NotifyError::Aws`]).

pub mod error;
pub mod policy;
pub mod preflight;
pub mod rule;
pub mod topic;
pub mod trail;
pub mod validate;

pub use error::NotifyError;
pub use policy::{
    allow_eventbridge_publish, events_publish_statement, merge_statement, policy_with_eventbridge,
    PolicyChange,
};
pub use preflight::{preflight, sample_generate_data_key_event, FieldMismatch, Preflight};
pub use rule::{
    put_rule, put_sns_target, read_rule, verify_rule, workshop_pattern, Check, RuleCheck, RuleSpec,
    RuleView, TargetView, ALL_MANAGEMENT_EVENTS,
};
pub use topic::{
    confirm_subscription, create_topic, find_topic, subscribe_email, subscription_state,
    SubscriptionState, Topic,
};
pub use trail::{
    cloudtrail_bucket_policy, create_logging_trail, create_trail_bucket, ensure_management_trail,
    trail_check, ManagementEvents, TrailCheck, TrailInfo, TrailSetup, SECOND_TRAIL_COST,
};
pub use validate::{
    validate_display_name, validate_email, validate_topic_name, DISPLAY_NAME_LIMIT,
};
