//! Set-up of a class: a classroom sandbox whose learners' accounts are empty (`--seed empty`),
//! with the realistic latency profile divided by a time scale, prepared by the `kms-workshop`
//! binary as an instructor does it (`prepare --accounts FILE --parallel-accounts N`, assuming the
//! classroom role in each account). Reported: the wall time of a class against one account
//! prepared alone, so the ratio says what preparing accounts side by side costs.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use kms_workshop_sandbox::{seed, Seed};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PrepareRun {
    pub accounts: usize,
    pub parallel: usize,
    pub time_scale: f64,
    pub wall_seconds: f64,
    /// Accounts the run left with the whole starting state.
    pub ready: usize,
}

/// The instructors' file for learners 1 to `n`: each account through its classroom role.
fn accounts_file(n: usize) -> String {
    (1..=n as u32)
        .map(|k| {
            let account = seed::learner(k).account;
            format!(
                "[[account]]\nid = \"{account}\"\nrole_arn = \"arn:aws:iam::{account}:role/{}\"\n\n",
                seed::CLASSROOM_ROLE
            )
        })
        .collect()
}

pub async fn measure(
    accounts: usize,
    parallel: usize,
    time_scale: f64,
    bin: &Path,
) -> Result<PrepareRun> {
    if accounts == 0 || accounts > seed::MAX_LEARNERS as usize {
        bail!(
            "--prepare-accounts: each count must be 1 to {}",
            seed::MAX_LEARNERS
        );
    }
    // Two learners at least: classroom mode (the instructor and the roles) starts at two.
    let sb = crate::cleanup::classroom(Seed::Empty, accounts.max(2), time_scale)?;
    let instructor = sb
        .credential(seed::INSTRUCTOR_ACCESS_KEY)
        .context("the classroom sandbox has no instructor")?;
    let running = kms_workshop_testkit::serve(&sb).await;
    let endpoint = running.endpoint();
    let dir = tempfile::tempdir().context("a scratch directory")?;
    let file = dir.path().join("accounts.toml");
    std::fs::write(&file, accounts_file(accounts)).context("writing the accounts file")?;
    let started = Instant::now();
    let out = crate::child::workshop(
        bin,
        dir.path(),
        (&instructor.access_key_id, &instructor.secret_access_key),
    )
    .args([
        "prepare",
        "--endpoint",
        &endpoint,
        "--yes",
        "--output",
        "json",
    ])
    .arg("--accounts")
    .arg(&file)
    .args(["--expect-accounts", &accounts.to_string()])
    .args(["--parallel-accounts", &parallel.to_string()])
    .args(["--time-scale", &time_scale.to_string()])
    .output()
    .await
    .with_context(|| format!("running {}", bin.display()))?;
    let wall_seconds = started.elapsed().as_secs_f64();
    running.shutdown().await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "kms-workshop prepare printed no JSON report (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let ready = report["accounts"]
        .as_array()
        .map(|a| a.iter().filter(|x| x["ready"] == true).count())
        .unwrap_or(0);
    Ok(PrepareRun {
        accounts,
        parallel,
        time_scale,
        wall_seconds,
        ready,
    })
}

/// The table of set-up runs, each against the one-account run.
pub fn print(runs: &[PrepareRun], time_scale: f64) {
    let single = runs
        .iter()
        .find(|r| r.accounts == 1)
        .map(|r| r.wall_seconds);
    println!("\n(g) Classroom set-up (prepare --accounts), realistic latency / {time_scale}");
    println!(
        "{:>8} {:>9} {:>10} {:>16} {:>6}",
        "accounts", "parallel", "wall s", "wall/1-account", "ready"
    );
    for r in runs {
        println!(
            "{:>8} {:>9} {:>10.2} {:>16} {:>6}",
            r.accounts,
            r.parallel,
            r.wall_seconds,
            single.map_or("-".to_string(), |s| format!("x{:.2}", r.wall_seconds / s)),
            r.ready
        );
    }
}
