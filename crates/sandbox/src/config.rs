//! How a sandbox is set up ([`Config`]): where its state lives, what it is seeded with, how
//! much like AWS it behaves in time, who may call it; and the durations it derives from that
//! (lifecycles, CloudTrail's delivery, rule propagation), each divided by the time scale.

use std::path::PathBuf;

use time::Duration;

use crate::{realism, seed, Seed};

/// How a sandbox is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where state is persisted; `None` keeps it in memory only.
    pub state_dir: Option<PathBuf>,
    /// What a new state starts with.
    pub seed: Seed,
    /// How long after a call its CloudTrail event becomes visible (AWS: about 5 minutes).
    pub cloudtrail_delay: Duration,
    /// Skip SigV4 verification and accept any access key (LocalStack-style `test`/`test`).
    pub accept_any_credentials: bool,
    /// Enforce CloudTrail's 2 LookupEvents requests per second per account and region.
    pub lookup_rate_limit: bool,
    /// How long lifecycles take (instance launch, stop, start and termination; volume creation,
    /// attachment and detachment; instance profile associations).
    pub latency: LatencyProfile,
    /// Divides the durations of [`LatencyProfile::Realistic`] (10 = ten times faster).
    pub time_scale: f64,
    /// How many learners, each with an account of their own (classroom mode when above 1;
    /// at most [`seed::MAX_LEARNERS`]).
    pub learners: u32,
    /// Whether the `workshop` seed writes the earlier sections' calls into CloudTrail event
    /// history (off: history starts empty, showing only calls made to this sandbox).
    pub seed_history: bool,
    /// Host names (besides IP addresses and `localhost`) that requests may name in their
    /// `Host` header: the names learners on other machines reach a classroom sandbox by.
    pub allowed_hosts: Vec<String>,
    /// AWS's delays (CloudTrail delivery, rule propagation, the trail bucket policy race) and
    /// other principals' activity; all at once by default.
    pub realism: realism::Realism,
    /// How far the sandbox's clock runs behind this machine's (as AWS's does behind a machine
    /// whose clock is fast); its answers' `Date` says its time.
    pub clock_behind: Duration,
    /// The single learner's account id, when not the workshop's `111122223333` (other tools'
    /// tests assume `123456789012` or `000000000000`); checked by [`Config::check_account_id`].
    pub account_id: Option<String>,
}

/// How long resource lifecycles take on the sandbox clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LatencyProfile {
    /// Transitions complete at the next tick or call (tests).
    #[default]
    Instant,
    /// About as long as on AWS: termination 30–60 s, start 15–30 s, volume creation and
    /// attachment a few seconds (demos).
    Realistic,
}

impl std::str::FromStr for LatencyProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "instant" => Ok(LatencyProfile::Instant),
            "realistic" => Ok(LatencyProfile::Realistic),
            other => Err(format!(
                "unknown latency profile '{other}': expected instant or realistic"
            )),
        }
    }
}

impl Config {
    /// How long a transition that takes `lo_secs`–`hi_secs` on AWS takes in this sandbox: zero
    /// when instant, else a random duration in that range divided by the time scale.
    pub fn lifecycle_delay(&self, lo_secs: f64, hi_secs: f64) -> Duration {
        match self.latency {
            LatencyProfile::Instant => Duration::ZERO,
            LatencyProfile::Realistic => {
                use rand::Rng;
                let lo = if lo_secs.is_finite() {
                    lo_secs.max(0.0)
                } else {
                    0.0
                };
                let hi = if hi_secs.is_finite() {
                    hi_secs.max(lo)
                } else {
                    lo
                };
                let secs = if hi > lo {
                    rand::thread_rng().gen_range(lo..=hi)
                } else {
                    lo
                };
                self.scaled(Duration::seconds_f64(secs.min(1e9)))
            }
        }
    }
}

impl Config {
    /// How long after a call, made now, its CloudTrail event shows up.
    pub fn cloudtrail_delivery_delay(&self) -> Duration {
        match self.realism.cloudtrail_delivery {
            Some(range) => realism::scaled(
                Duration::seconds_f64(realism::delivery_draw(range)),
                self.time_scale,
            ),
            None => self.cloudtrail_delay,
        }
    }

    /// How long after a call CloudTrail hands its event to EventBridge: seconds on AWS, well
    /// before the event shows in event history.
    pub fn eventbridge_delivery_delay(&self) -> Duration {
        match self.realism.cloudtrail_delivery {
            Some(_) => realism::scaled(
                Duration::seconds_f64(realism::triangular((1.0, 3.0, 30.0))),
                self.time_scale,
            ),
            None => self.cloudtrail_delay,
        }
    }

    /// How long a rule or target just put waits before it acts on events.
    pub fn rule_propagation_delay(&self) -> Duration {
        let most = self.realism.rule_propagation.as_seconds_f64();
        if most <= 0.0 {
            return Duration::ZERO;
        }
        let secs = realism::triangular((most / 4.0, most / 2.0, most));
        realism::scaled(Duration::seconds_f64(secs), self.time_scale)
    }

    /// The account of learner 1: `--account-id`'s, else the workshop's.
    pub fn first_account(&self) -> String {
        self.account_id
            .clone()
            .unwrap_or_else(|| seed::ACCOUNT.to_string())
    }

    /// Why `account_id` cannot be the single learner's account (`None`: it can): 12 digits,
    /// not another seeded identity's account, and one learner only (classroom learners have
    /// accounts of their own, numbered from the workshop's).
    pub fn check_account_id(&self) -> Option<String> {
        let id = self.account_id.as_deref()?;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("--account-id '{id}' must be 12 digits"));
        }
        if self.learners > 1 {
            return Some("--account-id is for a single learner: classroom learners (--learners N) get accounts of their own".into());
        }
        let base: u64 = seed::ACCOUNT.parse().unwrap_or(111_122_223_333);
        let n: u64 = id.parse().unwrap_or(0);
        let classroom = n > base && n < base + u64::from(seed::MAX_LEARNERS);
        let reserved = [
            kms_workshop_names::sandbox::INSTRUCTOR_ACCOUNT,
            crate::services::cloudtrail::organization::MANAGEMENT_ACCOUNT,
        ];
        if classroom || reserved.contains(&id) {
            return Some(format!("--account-id {id} is one of the sandbox's own accounts (classroom learners, the instructor, the organization's management account); choose another"));
        }
        None
    }

    /// `d` on this sandbox's time scale.
    pub fn scaled(&self, d: Duration) -> Duration {
        realism::scaled(d, self.time_scale)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            state_dir: None,
            seed: Seed::Workshop,
            cloudtrail_delay: Duration::ZERO,
            accept_any_credentials: false,
            lookup_rate_limit: false,
            latency: LatencyProfile::Instant,
            time_scale: 1.0,
            learners: 1,
            seed_history: true,
            allowed_hosts: Vec::new(),
            realism: realism::Realism::default(),
            clock_behind: Duration::ZERO,
            account_id: None,
        }
    }
}
