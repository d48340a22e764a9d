//! The flags of `kms-workshop sandbox serve` and the sandbox configuration they make: where it
//! listens, what it starts with, and how much like AWS it behaves in time (`--realism aws`, or
//! each of AWS's delays and limits on its own, every one divided by `--time-scale`).

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use kms_workshop_sandbox::realism::{Profile, Realism};
use kms_workshop_sandbox::{Config, LatencyProfile, Seed};

use crate::sandbox_cmd::DEFAULT_PORT;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on (0.0.0.0: every interface, for learners on other machines).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// A host name learners reach the sandbox by, besides its IP addresses and localhost
    /// (requests naming any other host are refused, so web pages cannot reach it).
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Keep state (keys, event history, clock) in this directory across restarts; without
    /// it the state lives in memory and is gone when the sandbox stops.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// What a new state starts with.
    #[arg(long, value_enum, default_value_t = SeedArg::Workshop)]
    pub seed: SeedArg,
    /// How much like AWS the sandbox behaves in time: `instant` (everything at once, for
    /// tests) or `aws` (CloudTrail delivery in 0.5–15 minutes, 5 on average; LookupEvents at 2
    /// per second; rules live up to a minute after PutRule/PutTargets; CreateTrail refused
    /// for 10 s after PutBucketPolicy; other principals using the account; AWS's lifecycle
    /// durations). The flags below change one behaviour each.
    #[arg(long, value_enum, default_value_t = RealismArg::Instant)]
    pub realism: RealismArg,
    /// A fixed delay before a call shows up in CloudTrail event history, not divided by
    /// --time-scale (AWS: about 5 minutes; default: per --realism).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub cloudtrail_delay: Option<std::time::Duration>,
    /// How long after PutRule/PutTargets a rule acts on events, at most (default: per
    /// --realism).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub rule_propagation: Option<std::time::Duration>,
    /// How long after PutBucketPolicy CreateTrail answers InsufficientS3BucketPolicyException
    /// (default: per --realism).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub trail_policy_race: Option<std::time::Duration>,
    /// Other principals call the account about once per DURATION (0s: nobody; default: per
    /// --realism).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub background_activity: Option<std::time::Duration>,
    /// STS refuses to assume a role this long after it was created (default: per --realism;
    /// AWS: some seconds).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub iam_propagation: Option<std::time::Duration>,
    /// DescribeStacks shows a stack's previous status this long after DeleteStack (default:
    /// per --realism).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub stack_status_lag: Option<std::time::Duration>,
    /// Make every account a member of an organization: DescribeTrails lists the management
    /// account's trail, whose status a member cannot read (on with --realism aws).
    #[arg(long)]
    pub organization_trail: bool,
    /// A trail that stops logging delivers its last log file after its bucket was emptied
    /// (DeleteBucket answers BucketNotEmpty once; on with --realism aws).
    #[arg(long)]
    pub trail_last_log_file: bool,
    /// Answer a request for a bucket of another region than the request's `301
    /// PermanentRedirect`, as S3 does (on with --realism aws).
    #[arg(long)]
    pub s3_region_redirect: bool,
    /// The account id of the single learner (12 digits; default 111122223333): other tools'
    /// tests assume 123456789012 or 000000000000. A state keeps the account it was made with.
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// Run the sandbox's clock this far behind this machine's (at most 10m), as AWS's is
    /// behind a machine whose clock is fast (VMs, WSL); the answers' `Date` says so.
    #[arg(long, value_name = "DURATION", value_parser = crate::util::parse_duration)]
    pub clock_behind: Option<std::time::Duration>,
    /// Accept any access key without checking signatures (LocalStack-style test/test).
    #[arg(long)]
    pub accept_any_credentials: bool,
    /// Enforce CloudTrail's limit of 2 LookupEvents requests per second (on with --realism aws).
    #[arg(long)]
    pub lookup_rate_limit: bool,
    /// How long lifecycles take (instance termination and start, volume creation and
    /// attachment): at once, or about as long as on AWS (default: per --realism).
    #[arg(long, value_enum)]
    pub latency: Option<LatencyArg>,
    /// Divide every realistic duration by N (e.g. 60: CloudTrail's 5 minutes take 5 s).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Classroom mode: seed N learners, each with an account, keys and CloudTrail history
    /// of their own (1 to 2000; each account is seeded on its first request); an instructor
    /// identity can assume a role in every one.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(kms_workshop_names::sandbox::MAX_LEARNERS)))]
    pub learners: u32,
    /// Start with an empty CloudTrail event history instead of the calls of the workshop's
    /// earlier sections (only calls made to this sandbox show up).
    #[arg(long)]
    pub empty_history: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SeedArg {
    /// The learner's account at the start of the monitoring chapter.
    Workshop,
    /// Identities only.
    Empty,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LatencyArg {
    /// Transitions complete at once (tests).
    Instant,
    /// Transitions take about as long as on AWS (demos).
    Realistic,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RealismArg {
    /// Everything at once (the default: tests).
    Instant,
    /// AWS's delays and limits.
    Aws,
}

fn parse_time_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a time scale: give a number greater than 0, e.g. 1 or 60"
        )),
    }
}

fn duration(d: std::time::Duration, flag: &str) -> Result<time::Duration> {
    time::Duration::try_from(d).with_context(|| format!("{flag} is too long"))
}

impl ServeArgs {
    /// The sandbox configuration: the preset of `--realism`, then each flag given.
    pub fn config(&self) -> Result<Config> {
        let aws = self.realism == RealismArg::Aws;
        let mut realism = Realism::for_profile(if aws { Profile::Aws } else { Profile::Instant });
        if let Some(d) = self.cloudtrail_delay {
            // A fixed delay replaces the drawn one.
            realism.cloudtrail_delivery = None;
            let _ = duration(d, "--cloudtrail-delay")?;
        }
        if let Some(d) = self.rule_propagation {
            realism.rule_propagation = duration(d, "--rule-propagation")?;
        }
        if let Some(d) = self.trail_policy_race {
            realism.trail_policy_race = duration(d, "--trail-policy-race")?;
        }
        if let Some(d) = self.background_activity {
            realism.background_every =
                Some(duration(d, "--background-activity")?).filter(|d| d.is_positive());
        }
        realism.s3_region_redirect |= self.s3_region_redirect;
        realism.trail_last_log_file |= self.trail_last_log_file;
        realism.organization_trail |= self.organization_trail;
        if let Some(d) = self.iam_propagation {
            realism.iam_propagation = duration(d, "--iam-propagation")?;
        }
        if let Some(d) = self.stack_status_lag {
            realism.stack_status_lag = duration(d, "--stack-status-lag")?;
        }
        let latency = match self.latency {
            Some(LatencyArg::Realistic) => LatencyProfile::Realistic,
            Some(LatencyArg::Instant) => LatencyProfile::Instant,
            None if aws => LatencyProfile::Realistic,
            None => LatencyProfile::Instant,
        };
        Ok(Config {
            state_dir: self.state_dir.clone(),
            seed: match self.seed {
                SeedArg::Workshop => Seed::Workshop,
                SeedArg::Empty => Seed::Empty,
            },
            cloudtrail_delay: match self.cloudtrail_delay {
                Some(d) => duration(d, "--cloudtrail-delay")?,
                None => time::Duration::ZERO,
            },
            accept_any_credentials: self.accept_any_credentials,
            lookup_rate_limit: self.lookup_rate_limit || aws,
            latency,
            time_scale: self.time_scale,
            learners: self.learners,
            seed_history: !self.empty_history,
            allowed_hosts: self.allow_host.clone(),
            realism,
            clock_behind: match self.clock_behind {
                Some(d) if d > std::time::Duration::from_secs(600) => {
                    anyhow::bail!("--clock-behind {}: at most 10m (signatures are checked by this machine's clock, which allows 15 minutes)", humantime::format_duration(d))
                }
                Some(d) => duration(d, "--clock-behind")?,
                None => time::Duration::ZERO,
            },
            account_id: self.account_id.clone(),
        })
    }
}
