//! What every step works with: the target and its clients, the learner's answers, the
//! progress (facts each step records for the later ones, the inventory of what the run
//! created) and the UI.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use kms_workshop_cleanup::{InventoryItem, ResourceKind, SealKey};
use time::OffsetDateTime;

use super::state::Progress;
use super::ui::Ui;
use super::{admin, usage, ALARM_NAME, KEY_ALIAS, RULE_NAME};
use crate::target::Target;

/// Everything a step needs.
pub struct Ctx {
    pub target: Target,
    pub admin: Option<admin::Admin>,
    pub progress: Progress,
    pub path: PathBuf,
    pub ui: Ui,
    pub email: String,
    pub topic: String,
    pub display_name: String,
    pub threshold: f64,
    pub cloudtrail_timeout: Duration,
    /// How long to wait for a person to follow the confirmation link (AWS only).
    pub confirm_timeout: Duration,
    /// The target's clock when the current step was introduced (the times in its commands).
    pub now_at: OffsetDateTime,
    /// The key behind the alias, as found when the run began (`None` once cleaned up).
    pub key_id: Option<String>,
    /// The flags that point `kms-workshop cleanup` at this run's target.
    pub target_flags: String,
    /// Whether the learner was shown how to reach the hosted sandbox from another terminal.
    pub settings_shown: bool,
    /// What the target divides AWS's delays by (1 on AWS; a sandbox's `--time-scale`).
    pub time_scale: f64,
    /// The target is a kms-workshop sandbox (even one treated as AWS): it has an inbox.
    pub a_sandbox: bool,
    pub yes: bool,
    pub account_id: Option<String>,
    pub kms: aws_sdk_kms::Client,
    pub trail: aws_sdk_cloudtrail::Client,
    pub sns: aws_sdk_sns::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub cw: aws_sdk_cloudwatch::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Ctx {
    /// Values for the `{placeholders}` of the steps' text.
    pub fn values(&self) -> BTreeMap<String, String> {
        let mut v = BTreeMap::new();
        let mut put = |k: &str, val: &str| {
            v.insert(k.to_string(), val.to_string());
        };
        put("key_alias", KEY_ALIAS);
        put("region", &self.target.region);
        put("account", &self.target.account);
        put("topic", &self.topic);
        put("display_name", &self.display_name);
        put("email", &self.email);
        put("rule", RULE_NAME);
        put("username", &self.target.username());
        if let Some(k) = &self.target.access_key {
            put("access_key", k);
        }
        put("alarm", ALARM_NAME);
        put("threshold", &format!("{}", self.threshold));
        put(
            "pattern",
            &kms_workshop_notify::rule::workshop_pattern().to_string(),
        );
        // Known before the topic exists: AWS builds a topic's ARN from these parts.
        put(
            "topic_arn",
            &format!(
                "arn:{}:sns:{}:{}:{}",
                self.target.partition(),
                self.target.region,
                self.target.account,
                self.topic
            ),
        );
        if let Some(k) = &self.key_id {
            put("key_id", k);
        }
        // The metric's last three hours, in the form the AWS CLI takes.
        let t = |at| crate::util::rfc3339(at);
        put("start", &t(self.now_at - time::Duration::hours(3)));
        put("end", &t(self.now_at));
        put("target_flags", &self.target_flags);
        for rec in self.progress.steps.values() {
            for (k, val) in &rec.facts {
                put(k, val);
            }
        }
        v
    }

    pub fn fact(&self, step: &str, name: &str) -> Option<String> {
        self.progress.fact(step, name).map(str::to_string)
    }

    /// Record a value for later steps (and the placeholders of their text).
    pub fn set_fact(&mut self, step: &str, name: &str, value: impl Into<String>) {
        self.progress
            .steps
            .entry(step.to_string())
            .or_default()
            .facts
            .insert(name.to_string(), value.into());
    }

    /// Add what `step` created to the inventory the clean-up works from.
    pub fn record(&mut self, step: &str, kind: ResourceKind, arn: &str) {
        let mut item = InventoryItem {
            arn: arn.to_string(),
            kind,
            region: self.target.region.clone(),
            account: self.target.account.clone(),
            step: Some(step.to_string()),
            seal: None,
        };
        // Sealed, so that the clean-up trusts it and no hand-written item (crate::teardown).
        match crate::teardown::seal_key_path().map(|p| SealKey::load_or_create(&p)) {
            Some(Ok(key)) => item.seal = Some(key.seal(&item)),
            Some(Err(e)) => tracing::warn!(error = %e, "the inventory item stays unsealed"),
            None => tracing::warn!("no data directory: the inventory item stays unsealed"),
        }
        self.progress.record(item);
    }

    /// Where the files a shown command names are written (beside the progress file).
    pub fn files_dir(&self) -> PathBuf {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Absolute: the learner runs the commands from another directory.
        std::path::absolute(&dir).unwrap_or(dir)
    }

    /// "Now" as the target sees it: the sandbox's clock (which may run ahead of the wall
    /// clock), or AWS's (this machine's, corrected by what AWS's answers say).
    pub async fn now(&self) -> OffsetDateTime {
        let ours = self.target.now();
        match &self.admin {
            Some(a) => a.now().await.unwrap_or(ours),
            None => ours,
        }
    }

    pub fn save(&self) -> Result<()> {
        self.progress
            .save(&self.path)
            .map_err(|e| usage(e.to_string()))
    }

    /// A pause between polls that suits AWS, shortened as much as the target's delays are.
    /// Never below a quarter second, whatever scale a sandbox claims.
    pub fn pause(&self, on_aws: Duration) -> Duration {
        let scale = if self.time_scale.is_finite() {
            self.time_scale.clamp(1.0, 3600.0)
        } else {
            1.0
        };
        on_aws
            .div_f64(scale)
            .max(Duration::from_millis(250).min(on_aws))
    }

    pub fn is_sandbox(&self) -> bool {
        self.admin.is_some()
    }
}
