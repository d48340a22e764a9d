//! (h) Restart of a persisted history: a state directory holding N synthetic CloudTrail events
//! (written by a child process through the sandbox's own persistence, as the recorder writes
//! them), then the release `kms-workshop sandbox serve --state-dir` started on it: time to its
//! first answered request and its resident memory then, against the writer's resident memory
//! with the same history (what the history cost before the restart).
//!
//! The two are different programs (this one writes, `kms-workshop` restarts), so their whole
//! resident sizes differ by more than the history: each maps its own program file, and the
//! server runs its HTTP stack. The history's own cost is therefore also compared as each
//! process's anonymous memory above its own baseline: the writer's before it wrote, and the
//! server's restarted on a state with no events.
//!
//! Then like for like ([`served`]): `kms-workshop sandbox serve --state-dir` makes its history
//! itself, from GenerateDataKey calls through aws-sdk-kms with a learner's keys, as a class
//! makes it; its memory is taken once its records are on disk, then it is stopped as Ctrl-C
//! stops it and restarted on that state. Before and after are the same program, so their whole
//! resident sizes compare as they are.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kms_workshop_sandbox::{Config, Sandbox};
use serde::{Deserialize, Serialize};

use crate::startup::{Killed, Resident};
use crate::{median, sandbox_config};

/// What the writer child reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Written {
    pub events: usize,
    pub write_seconds: f64,
    /// The writer's memory with the sandbox open and empty, then with the history loaded.
    pub empty: Resident,
    pub loaded: Resident,
}

impl Written {
    /// The history's anonymous memory in the writer, in MB.
    pub fn history_anon_mb(&self) -> f64 {
        self.loaded.anon_mb - self.empty.anon_mb
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RestartResult {
    pub written: Written,
    /// Size of the history file on disk.
    pub history_mb: f64,
    pub restart_ms: Vec<f64>,
    pub restart_ms_median: f64,
    /// The restarted server's memory half a second after its first answer (medians).
    pub after: Resident,
    /// The same, restarted on a state with no events: the server's own baseline.
    pub baseline: Resident,
}

impl RestartResult {
    /// The history's anonymous memory in the restarted server, in MB.
    pub fn history_anon_mb(&self) -> f64 {
        self.after.anon_mb - self.baseline.anon_mb
    }

    /// Resident memory after the restart over the writer's with the same history.
    pub fn rss_ratio(&self) -> f64 {
        self.after.rss_mb / self.written.loaded.rss_mb
    }

    /// The history's own memory after the restart over before it.
    pub fn history_ratio(&self) -> f64 {
        self.history_anon_mb() / self.written.history_anon_mb()
    }
}

/// The writer: `events` synthetic events into a sandbox persisted in `dir`.
pub fn writer(events: usize, dir: &Path) -> Result<Written> {
    let sb = Sandbox::open(Config {
        state_dir: Some(dir.to_path_buf()),
        ..sandbox_config()
    })
    .context("opening a sandbox on the state directory")?;
    let empty = Resident::own();
    let started = Instant::now();
    crate::lookup::load(&sb, events, true);
    sb.sync();
    let write_seconds = started.elapsed().as_secs_f64();
    Ok(Written {
        events,
        write_seconds,
        empty,
        loaded: Resident::own(),
    })
}

fn write_in_child(events: usize, dir: &Path) -> Result<Written> {
    let (events, dir) = (events.to_string(), dir.display().to_string());
    crate::worker(
        &["history-writer", "--events", &events, "--state-dir", &dir],
        "the history writer",
    )
}

/// The server restarted `runs` times on `state`: the median time to its first answer and the
/// median of its memory then.
fn restarts(state: &Path, runs: usize, workshop_bin: &Path) -> Result<(Vec<f64>, Resident)> {
    let state_arg = state.display().to_string();
    let args = serve_args(&state_arg);
    let (mut ms, mut rss, mut anon) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (t, r) = crate::startup::once(workshop_bin, &args)?;
        ms.push(t);
        rss.push(r.rss_mb);
        anon.push(r.anon_mb);
    }
    let resident = Resident {
        rss_mb: median(&rss),
        anon_mb: median(&anon),
    };
    Ok((ms, resident))
}

/// `kms-workshop sandbox serve` on `state`, on the port [`crate::startup`] picks.
fn serve_args(state: &str) -> [&str; 6] {
    ["sandbox", "serve", "--state-dir", state, "--port", "{port}"]
}

/// The size of the history file in `state`, in MB.
fn history_mb(state: &Path) -> f64 {
    std::fs::metadata(state.join("events.bin"))
        .map(|m| m.len() as f64 / 1_048_576.0)
        .unwrap_or(f64::NAN)
}

/// Each history size: write it, then restart the server on it `runs` times (and on a state
/// with no events, for the server's baseline).
pub fn run(sizes: &[usize], runs: usize, workshop_bin: &Path) -> Result<Vec<RestartResult>> {
    let empty = tempfile::tempdir().context("a temporary state directory")?;
    let empty_state = empty.path().join("state");
    write_in_child(0, &empty_state)?;
    let (_, baseline) = restarts(&empty_state, runs, workshop_bin)?;
    let mut out = Vec::new();
    for &n in sizes {
        let dir = tempfile::tempdir().context("a temporary state directory")?;
        let state = dir.path().join("state");
        let written = write_in_child(n, &state)?;
        let history_mb = history_mb(&state);
        let (ms, after) = restarts(&state, runs, workshop_bin)?;
        let r = RestartResult {
            written,
            history_mb,
            restart_ms_median: median(&ms),
            restart_ms: ms,
            after,
            baseline,
        };
        eprintln!(
            "  {n:>9} events: {:.0} MB on disk, restart {:.0} ms to the first answer, RSS {:.0} MB (writer {:.0} MB), history {:.0} MB anonymous (writer {:.0} MB)",
            r.history_mb,
            r.restart_ms_median,
            r.after.rss_mb,
            r.written.loaded.rss_mb,
            r.history_anon_mb(),
            r.written.history_anon_mb()
        );
        out.push(r);
    }
    Ok(out)
}

/// The like-for-like restart: the server that made its history against the same server
/// restarted on it.
#[derive(Debug, Clone, Serialize)]
pub struct ServedRestart {
    /// GenerateDataKey calls made, and how many were in flight at once.
    pub calls: u64,
    pub concurrency: usize,
    pub calls_seconds: f64,
    pub history_mb: f64,
    /// The server that made the history, once its records were on disk.
    pub before: Resident,
    pub restart_ms: Vec<f64>,
    pub restart_ms_median: f64,
    /// The server restarted on that state, half a second after its first answer (medians).
    pub after: Resident,
}

impl ServedRestart {
    /// Resident memory after the restart over before it.
    pub fn rss_ratio(&self) -> f64 {
        self.after.rss_mb / self.before.rss_mb
    }

    /// Anonymous memory (heap and stacks) after the restart over before it.
    pub fn anon_ratio(&self) -> f64 {
        self.after.anon_mb / self.before.anon_mb
    }
}

/// `kms-workshop sandbox serve --state-dir` given `calls` GenerateDataKey calls (`concurrency`
/// in flight) as learner 1, its memory once they are on disk; then stopped, and restarted on
/// its state `runs` times.
pub async fn served(
    calls: u64,
    concurrency: usize,
    runs: usize,
    bin: &Path,
) -> Result<ServedRestart> {
    let dir = tempfile::tempdir().context("a temporary state directory")?;
    let state = dir.path().join("state");
    let state_arg = state.display().to_string();
    let (server, port, _) = crate::startup::start(bin, &serve_args(&state_arg))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let keys = crate::child::sandbox_env(bin, &state, &endpoint, 1)?;
    let config = kms_workshop_testkit::credentials_config(
        &endpoint,
        &keys["AWS_ACCESS_KEY_ID"],
        &keys["AWS_SECRET_ACCESS_KEY"],
        None,
    )
    .await;
    let client = aws_sdk_kms::Client::new(&config);
    let started = Instant::now();
    // In tenths, each reported: a million calls take a minute and more.
    let (step, mut sent) = (calls.div_ceil(10).max(1), 0);
    while sent < calls {
        let n = step.min(calls - sent);
        let (errors, first) =
            crate::generate::send(&client, kms_workshop_names::IMPORTED_ALIAS, concurrency, n)
                .await;
        if errors > 0 {
            bail!(
                "{errors} of {n} GenerateDataKey calls to the served sandbox failed; the first: {}",
                first.unwrap_or_default()
            );
        }
        sent += n;
        eprintln!(
            "  {sent:>9} of {calls} calls made ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    let calls_seconds = started.elapsed().as_secs_f64();
    // The server writes what waits and syncs its files every second: after two of them the
    // history is on disk, and what the server holds is what it keeps.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = Resident::of(server.0.id());
    stop(server)?;
    let history_mb = history_mb(&state);
    let (ms, after) = restarts(&state, runs, bin)?;
    let r = ServedRestart {
        calls,
        concurrency,
        calls_seconds,
        history_mb,
        before,
        restart_ms_median: median(&ms),
        restart_ms: ms,
        after,
    };
    eprintln!(
        "  served {calls} calls: {:.0} MB on disk, restart {:.0} ms, RSS {:.0} MB after against {:.0} MB before",
        r.history_mb, r.restart_ms_median, r.after.rss_mb, r.before.rss_mb
    );
    Ok(r)
}

/// Stop `server` as Ctrl-C or a service manager stops it (SIGTERM), and wait for it to finish
/// writing and exit.
fn stop(mut server: Killed) -> Result<()> {
    let pid = server.0.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .context("running kill -TERM")?;
    if !sent.success() {
        bail!("kill -TERM {pid} failed ({sent})");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.0.try_wait().context("waiting for the sandbox")? {
            if !status.success() {
                bail!("the sandbox stopped with {status}");
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the sandbox had not stopped 60 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The tables of (h); `moto_ms` is moto's start-up on an empty state, from (d).
pub fn print(
    results: &[RestartResult],
    served: Option<&ServedRestart>,
    runs: usize,
    moto_ms: Option<f64>,
) {
    println!(
        "\n(h) Restart on a persisted history: process start to first answered request, median of {runs}"
    );
    println!(
        "{:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>12} {:>13} {:>8}",
        "events",
        "disk MB",
        "restart ms",
        "RSS after",
        "RSS before",
        "ratio",
        "history after",
        "history before",
        "ratio"
    );
    for r in results {
        println!(
            "{:>10} {:>8.0} {:>10.0} {:>10.0} {:>10.0} {:>8.2} {:>12.0} {:>13.0} {:>8.2}",
            r.written.events,
            r.history_mb,
            r.restart_ms_median,
            r.after.rss_mb,
            r.written.loaded.rss_mb,
            r.rss_ratio(),
            r.history_anon_mb(),
            r.written.history_anon_mb(),
            r.history_ratio()
        );
    }
    if let Some(moto) = moto_ms {
        for r in results {
            println!(
                "restart with {} events / moto's start-up on an empty state: x{:.2}",
                r.written.events,
                r.restart_ms_median / moto
            );
        }
    }
    println!("(MB. RSS before: the writer process holding the same history in memory. History: anonymous");
    println!(
        " memory above each process's own baseline, the writer's before it wrote and the server's"
    );
    println!(" restarted on a state with no events; the whole RSS also counts each program's file pages.)");
    if let Some(s) = served {
        print_served(s);
    }
}

/// The like-for-like table of (h).
fn print_served(s: &ServedRestart) {
    println!(
        "the same program before and after: sandbox serve --state-dir given {} GenerateDataKey calls",
        s.calls
    );
    println!(
        "({} in flight, {:.0} s), then stopped (SIGTERM) and restarted on its state",
        s.concurrency, s.calls_seconds
    );
    println!(
        "{:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>12} {:>13} {:>8}",
        "calls",
        "disk MB",
        "restart ms",
        "RSS after",
        "RSS before",
        "ratio",
        "anon after",
        "anon before",
        "ratio"
    );
    println!(
        "{:>10} {:>8.0} {:>10.0} {:>10.0} {:>10.0} {:>8.2} {:>12.0} {:>13.0} {:>8.2}",
        s.calls,
        s.history_mb,
        s.restart_ms_median,
        s.after.rss_mb,
        s.before.rss_mb,
        s.rss_ratio(),
        s.after.anon_mb,
        s.before.anon_mb,
        s.anon_ratio()
    );
    println!("(MB. Before: the server that made the history, its records on disk. Anon: its heap and stacks.)");
}
