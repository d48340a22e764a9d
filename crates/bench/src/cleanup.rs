//! Clean-up of 1, 10 and 50 classroom accounts: a classroom sandbox (one account per learner,
//! each seeded with the workshop's stack, instance, keys, bucket, topic and rule) with the
//! realistic latency profile divided by a time scale, cleaned by `kms-workshop-cleanup` with each
//! account's own credentials, a bounded number of accounts at once. Reported: the wall time
//! against the single-account critical path (the time one account's clean-up takes alone), so
//! the ratio says what running accounts side by side costs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_config::retry::RetryConfig;
use kms_workshop_cleanup::{Clients, ExecOptions, Executor, Inventory, Outcome, Pace};
use kms_workshop_sandbox::{seed, Config, LatencyProfile, Sandbox, Seed};
use serde::Serialize;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Serialize)]
pub struct CleanupRun {
    pub accounts: usize,
    pub parallel: usize,
    pub time_scale: f64,
    pub seed_seconds: f64,
    pub wall_seconds: f64,
    /// The slowest single account's clean-up within this run.
    pub slowest_account_seconds: f64,
    pub median_account_seconds: f64,
    pub actions_changed: usize,
    pub failures: usize,
    pub remaining: usize,
}

async fn one_account(
    endpoint: &str,
    number: u32,
    time_scale: f64,
) -> Result<(f64, usize, usize, usize)> {
    let learner = seed::learner(number);
    // Measured as the clean-up runs for real: with the SDK's standard retries (the tests'
    // configuration has none).
    let conf = kms_workshop_testkit::identity_config(endpoint, &learner.access_key_id)
        .await
        .to_builder()
        .retry_config(RetryConfig::standard())
        .build();
    let clients = Clients::new(&conf, &learner.account, &[seed::REGION.to_string()], true);
    let started = Instant::now();
    let (_plan, report) = Executor::new(
        clients,
        Pace::new(8, 10.0, time_scale),
        ExecOptions::default(),
        None,
    )
    .run(&Inventory::default(), None, 7, false)
    .await
    .with_context(|| format!("clean-up of learner {number}'s account {}", learner.account))?;
    Ok((
        started.elapsed().as_secs_f64(),
        report.count(Outcome::Changed),
        report.failed().count() + report.errors.len(),
        report.remaining.len(),
    ))
}

/// A classroom sandbox of `learners` accounts seeded with `seed`, in memory, with the realistic
/// latency profile divided by `time_scale` and CloudTrail events visible at once.
pub fn classroom(seed: Seed, learners: usize, time_scale: f64) -> Result<Arc<Sandbox>> {
    Sandbox::open(Config {
        state_dir: None,
        seed,
        learners: learners as u32,
        latency: LatencyProfile::Realistic,
        time_scale,
        cloudtrail_delay: time::Duration::ZERO,
        lookup_rate_limit: false,
        ..Config::default()
    })
    .context("opening a classroom sandbox")
}

pub async fn measure(accounts: usize, parallel: usize, time_scale: f64) -> Result<CleanupRun> {
    if accounts == 0 || accounts > seed::MAX_LEARNERS as usize {
        bail!(
            "--cleanup-accounts: each count must be 1 to {}",
            seed::MAX_LEARNERS
        );
    }
    let seeding = Instant::now();
    let sb = classroom(Seed::Workshop, accounts, time_scale)?;
    // A classroom seeds each account on its first request: seed them all here, so the clean-up
    // below is timed alone.
    for (_, account) in sb.learners() {
        sb.ensure_seeded(&account)
            .await
            .with_context(|| format!("seeding account {account}"))?;
    }
    let seed_seconds = seeding.elapsed().as_secs_f64();
    let running = kms_workshop_testkit::serve(&sb).await;
    let endpoint = running.endpoint();
    let gate = Arc::new(Semaphore::new(parallel.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 1..=accounts as u32 {
        let (gate, endpoint) = (gate.clone(), endpoint.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            one_account(&endpoint, k, time_scale).await
        }));
    }
    let mut per_account = Vec::new();
    let (mut changed, mut failures, mut remaining) = (0, 0, 0);
    for t in tasks {
        let (secs, c, f, r) = t.await.context("a clean-up task")??;
        per_account.push(secs);
        changed += c;
        failures += f;
        remaining += r;
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    running.shutdown().await;
    // Let the sandbox's lifecycle timers (instances still "terminating") drain before the next run.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(CleanupRun {
        accounts,
        parallel,
        time_scale,
        seed_seconds,
        wall_seconds,
        slowest_account_seconds: per_account.iter().copied().fold(0.0, f64::max),
        median_account_seconds: crate::median(&per_account),
        actions_changed: changed,
        failures,
        remaining,
    })
}
