//! (i) A classroom at scale, as an instructor runs one: `kms-workshop sandbox serve --learners N
//! --state-dir DIR` (the release binary, its own process, the workshop's seed): the time to its
//! first answer and its resident memory (peak and once idle). Then one learner's
//! GenerateDataKey latency (requests one after another through aws-sdk-kms, as a learner's
//! program makes them) while M other learners run the guided run at once (`kms-workshop run
//! --endpoint … --non-interactive`, each as a learner with only their own keys, as
//! `sandbox env --learner K` hands them out), against the same learner's latency with nobody
//! else working. The ratio says what a busy class costs one learner.
//!
//! Every process (server, runners, this one) shares the machine's cores, as they would on an
//! instructor's laptop serving its class.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_sdk_kms::types::DataKeySpec;
use kms_workshop_sandbox::seed;
use serde::Serialize;

use crate::startup::{answered, proc_status_mb, Killed};

/// Latencies of one learner's GenerateDataKey calls over one phase.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassroomRun {
    pub learners: u32,
    /// Process start to the first answered request.
    pub start_ms: f64,
    /// VmHWM and VmRSS of the server half a second after its first answer.
    pub peak_rss_mb: f64,
    pub idle_rss_mb: f64,
    /// The learner measured alone.
    pub alone: Latency,
    /// Guided runs started at once, and how many verified every step.
    pub runners: usize,
    pub runs_ok: usize,
    /// From the runs' start to the last one's end.
    pub runs_wall_seconds: f64,
    /// The same learner while the runs went on.
    pub busy: Latency,
    /// The server's VmHWM once the runs were over.
    pub peak_rss_after_runs_mb: f64,
}

fn latency(mut ms: Vec<f64>, errors: usize) -> Latency {
    ms.sort_by(f64::total_cmp);
    Latency {
        requests: ms.len(),
        errors,
        p50_ms: crate::percentile(&ms, 50.0),
        p99_ms: crate::percentile(&ms, 99.0),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
    }
}

/// GenerateDataKey one after another until `until` says stop.
async fn probe(client: &aws_sdk_kms::Client, until: impl Fn() -> bool) -> Latency {
    let (mut ms, mut errors) = (Vec::new(), 0);
    while !until() {
        let t = Instant::now();
        let r = client
            .generate_data_key()
            .key_id(kms_workshop_names::IMPORTED_ALIAS)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await;
        match r {
            Ok(_) => ms.push(t.elapsed().as_secs_f64() * 1000.0),
            Err(_) => errors += 1,
        }
    }
    latency(ms, errors)
}

/// One learner's guided run, as that learner (no admin token: the data directory is its own).
fn guided_run(
    bin: &Path,
    endpoint: &str,
    env: &std::collections::HashMap<String, String>,
    home: &Path,
    k: u32,
) -> Result<tokio::process::Child> {
    std::fs::create_dir_all(home)?;
    crate::child::workshop(
        bin,
        home,
        (&env["AWS_ACCESS_KEY_ID"], &env["AWS_SECRET_ACCESS_KEY"]),
    )
    .args([
        "run",
        "--endpoint",
        endpoint,
        "--non-interactive",
        "--email",
    ])
    .arg(format!("learner{k}@example.com"))
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .kill_on_drop(true)
    .spawn()
    .with_context(|| format!("starting {}", bin.display()))
}

pub async fn measure(
    learners: u32,
    runners: usize,
    alone_for: Duration,
    bin: &Path,
) -> Result<ClassroomRun> {
    if !(2..=seed::MAX_LEARNERS).contains(&learners) || runners + 1 > learners as usize {
        bail!(
            "--classroom-learners must be 2 to {} and more than --classroom-runners",
            seed::MAX_LEARNERS
        );
    }
    let dir = tempfile::tempdir().context("a scratch directory")?;
    let state = dir.path().join("state");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let server = Killed(
        std::process::Command::new(bin)
            .args(["sandbox", "serve", "--port", &port.to_string()])
            .args(["--learners", &learners.to_string(), "--state-dir"])
            .arg(&state)
            .env("XDG_DATA_HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?,
    );
    while !answered(port) {
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the classroom sandbox did not answer within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let start_ms = started.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = server.0.id();
    let peak_rss_mb = proc_status_mb(pid, "VmHWM:").unwrap_or(f64::NAN);
    let idle_rss_mb = proc_status_mb(pid, "VmRSS:").unwrap_or(f64::NAN);

    // The measured learner is the last of the class (its account is seeded on first use).
    let client = crate::child::learner_client(bin, &state, &endpoint, learners).await?;
    let warm = Instant::now();
    probe(&client, || warm.elapsed() > Duration::from_millis(500)).await;
    let quiet = Instant::now();
    let alone = probe(&client, || quiet.elapsed() > alone_for).await;

    let envs = (1..=runners as u32)
        .map(|k| crate::child::sandbox_env(bin, &state, &endpoint, k).map(|e| (k, e)))
        .collect::<Result<Vec<_>>>()?;
    let runs_began = Instant::now();
    let mut children = Vec::new();
    for (k, env) in &envs {
        let home = dir.path().join(format!("learner{k}"));
        children.push(guided_run(bin, &endpoint, env, &home, *k)?);
    }
    let done = Arc::new(AtomicBool::new(false));
    let waiter = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut ok = 0;
            for mut c in children {
                if matches!(c.wait().await, Ok(s) if s.success()) {
                    ok += 1;
                }
            }
            done.store(true, Ordering::Release);
            ok
        })
    };
    let busy = probe(&client, || done.load(Ordering::Acquire)).await;
    let runs_ok = waiter.await.context("waiting for the guided runs")?;
    let runs_wall_seconds = runs_began.elapsed().as_secs_f64();
    let peak_rss_after_runs_mb = proc_status_mb(pid, "VmHWM:").unwrap_or(f64::NAN);
    drop(server);
    Ok(ClassroomRun {
        learners,
        start_ms,
        peak_rss_mb,
        idle_rss_mb,
        alone,
        runners,
        runs_ok,
        runs_wall_seconds,
        busy,
        peak_rss_after_runs_mb,
    })
}

/// The table of (i).
pub fn print(r: &ClassroomRun) {
    println!(
        "\n(i) Classroom: sandbox serve --learners {} --state-dir (its own process)",
        r.learners
    );
    println!(
        "start to first answer {:.0} ms; resident memory {:.0} MB (peak {:.0} MB; {:.0} MB after the runs)",
        r.start_ms, r.idle_rss_mb, r.peak_rss_mb, r.peak_rss_after_runs_mb
    );
    println!(
        "{} guided runs at once (learners 1–{}): {} verified every step, {:.1} s wall",
        r.runners, r.runners, r.runs_ok, r.runs_wall_seconds
    );
    println!(
        "learner {}'s GenerateDataKey {:>9} {:>7} {:>8} {:>8} {:>8}",
        r.learners, "requests", "errors", "p50 ms", "p99 ms", "max ms"
    );
    for (what, l) in [("alone", &r.alone), ("during the runs", &r.busy)] {
        println!(
            "  {what:<32} {:>9} {:>7} {:>8.2} {:>8.2} {:>8.2}",
            l.requests, l.errors, l.p50_ms, l.p99_ms, l.max_ms
        );
    }
    println!(
        "during/alone: p50 latency x{:.2}, p99 latency x{:.2}",
        r.busy.p50_ms / r.alone.p50_ms,
        r.busy.p99_ms / r.alone.p99_ms
    );
}
