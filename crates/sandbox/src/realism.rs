//! How much like AWS the sandbox behaves in time: by default everything happens at once (what
//! tests want); `Realism::aws()` brings back the delays and limits a learner meets on AWS, each
//! a knob of its own, every duration divided by the config's time scale.
//!
//! - CloudTrail: an event shows up in event history half a minute to 15 minutes after the
//!   call, about 5 on average (AWS: "an average of about 5 minutes", without a guarantee), and
//!   reaches EventBridge within seconds;
//! - EventBridge: a rule or target just put takes some seconds to act on events;
//! - CloudTrail's `CreateTrail` just after `PutBucketPolicy` can answer
//!   `InsufficientS3BucketPolicyException` (the policy is not visible to CloudTrail yet);
//! - other principals and AWS services use the account, so event history is never only the
//!   learner's calls;
//! - S3 answers a request for a bucket of another region `301 PermanentRedirect`;
//! - STS cannot assume a role for some seconds after IAM created it;
//! - a trail that stops delivers its last log file after its bucket was emptied;
//! - CloudFormation's `DescribeStacks` shows a stack's previous status for some seconds after
//!   `DeleteStack` (a stack whose deletion failed still reads `DELETE_FAILED`);
//! - the account belongs to an organization whose trail it sees but cannot read.
//!
//! (`LookupEvents`' 2 requests per second and realistic lifecycles are [`crate::Config`]'s own
//! `lookup_rate_limit` and `latency`, which `aws()` also turns on.)

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::Duration;

/// The named presets of `sandbox serve --realism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Everything at once.
    #[default]
    Instant,
    /// AWS's delays and limits.
    Aws,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Instant => "instant",
            Profile::Aws => "aws",
        }
    }
}

/// The time-related behaviours, each on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Realism {
    pub profile: Profile,
    /// CloudTrail delivery drawn per event: (least, most likely, most) seconds at time scale
    /// 1. `None`: the config's fixed `cloudtrail_delay`.
    pub cloudtrail_delivery: Option<(f64, f64, f64)>,
    /// A rule or its targets act on events only this long (at most; drawn from a quarter of it
    /// up) after `PutRule` / `PutTargets`.
    pub rule_propagation: Duration,
    /// `CreateTrail` within this long of the bucket's `PutBucketPolicy` is refused.
    pub trail_policy_race: Duration,
    /// Other principals and AWS services call the account (about one call every
    /// `background_every`, on the sandbox clock); `None`: nobody but the callers.
    pub background_every: Option<Duration>,
    /// A request to a bucket signed for another region than the bucket's is answered
    /// `301 PermanentRedirect` (GetBucketLocation answers from anywhere).
    pub s3_region_redirect: bool,
    /// STS refuses to assume a role this long after it was created (IAM is eventually
    /// consistent).
    pub iam_propagation: Duration,
    /// A trail that stops logging delivers its last log file to its bucket late: it lands
    /// when the bucket is about to be deleted.
    pub trail_last_log_file: bool,
    /// `DescribeStacks` and `ListStacks` show a stack's previous status this long after
    /// `DeleteStack` (CloudFormation's reads are eventually consistent).
    pub stack_status_lag: Duration,
    /// The account is a member of an organization: `DescribeTrails` lists the management
    /// account's trail, whose status the member cannot read
    /// (`services::cloudtrail::organization`).
    pub organization_trail: bool,
}

impl Default for Realism {
    fn default() -> Self {
        Realism {
            profile: Profile::Instant,
            cloudtrail_delivery: None,
            rule_propagation: Duration::ZERO,
            trail_policy_race: Duration::ZERO,
            background_every: None,
            s3_region_redirect: false,
            iam_propagation: Duration::ZERO,
            trail_last_log_file: false,
            stack_status_lag: Duration::ZERO,
            organization_trail: false,
        }
    }
}

impl Realism {
    /// As on AWS.
    pub fn aws() -> Realism {
        Realism {
            profile: Profile::Aws,
            // A mean of about 5 minutes, as AWS documents; `delivery_draw` adds the rare
            // late one, up to 15.
            cloudtrail_delivery: Some((30.0, 200.0, 700.0)),
            rule_propagation: Duration::seconds(60),
            trail_policy_race: Duration::seconds(10),
            background_every: Some(Duration::seconds(5)),
            s3_region_redirect: true,
            iam_propagation: Duration::seconds(10),
            trail_last_log_file: true,
            stack_status_lag: Duration::seconds(5),
            organization_trail: true,
        }
    }

    /// Whether a client must treat the sandbox as AWS: a rule that is not live at once
    /// misses a single trigger, so the sandbox's conveniences (read the inbox, move the
    /// clock, trigger once) no longer verify anything.
    pub fn like_aws(&self) -> bool {
        self.profile == Profile::Aws || self.rule_propagation > Duration::ZERO
    }

    pub fn for_profile(p: Profile) -> Realism {
        match p {
            Profile::Instant => Realism::default(),
            Profile::Aws => Realism::aws(),
        }
    }
}

/// `d` divided by `scale` (a scale that is not a positive number leaves it alone).
pub fn scaled(d: Duration, scale: f64) -> Duration {
    if scale.is_finite() && scale > 0.0 {
        Duration::seconds_f64((d.as_seconds_f64() / scale).min(1e9))
    } else {
        d
    }
}

/// A CloudTrail delivery delay in seconds: mostly from the triangular distribution over
/// `range`, and one time in thirty late, up to 15 minutes (AWS: "not guaranteed").
pub fn delivery_draw(range: (f64, f64, f64)) -> f64 {
    let late: f64 = rand::thread_rng().gen_range(0.0..1.0);
    if late < 1.0 / 30.0 {
        let hi = range.2.max(range.0);
        rand::thread_rng().gen_range(hi..=hi.max(900.0))
    } else {
        triangular(range)
    }
}

/// A draw from the triangular distribution over `(lo, mode, hi)` seconds.
pub fn triangular((lo, mode, hi): (f64, f64, f64)) -> f64 {
    let (lo, hi) = (lo.min(hi), hi.max(lo));
    let mode = mode.clamp(lo, hi);
    if hi <= lo {
        return lo;
    }
    let u: f64 = rand::thread_rng().gen_range(0.0..1.0);
    let cut = (mode - lo) / (hi - lo);
    if u < cut {
        lo + (u * (hi - lo) * (mode - lo)).sqrt()
    } else {
        hi - ((1.0 - u) * (hi - lo) * (hi - mode)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangular_draws_stay_in_range() {
        for _ in 0..1000 {
            let x = triangular((60.0, 300.0, 900.0));
            assert!((60.0..=900.0).contains(&x), "{x}");
        }
        assert_eq!(triangular((5.0, 5.0, 5.0)), 5.0);
        // Bounds given the wrong way round are put right, not a panic.
        let x = triangular((9.0, 1.0, 2.0));
        assert!((2.0..=9.0).contains(&x), "{x}");
    }

    #[test]
    fn scaling() {
        assert_eq!(scaled(Duration::seconds(60), 60.0), Duration::seconds(1));
        assert_eq!(scaled(Duration::seconds(60), 0.0), Duration::seconds(60));
        assert_eq!(
            scaled(Duration::seconds(60), f64::NAN),
            Duration::seconds(60)
        );
    }
}
