//! (h) Restart of a persisted history: a state directory holding N synthetic CloudTrail events
//! (written by a child process through the sandbox's own persistence, as the recorder writes
//! them), then the release `kms-workshop sandbox serve --state-dir` started on it: time to its
//! first answered request and its resident memory then, against the writer's resident memory
//! with the same history (what the history cost before the restart).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use kms_workshop_sandbox::{Config, Sandbox};
use serde::{Deserialize, Serialize};

use crate::{median, rss_kb, sandbox_config};

/// What the writer child reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Written {
    pub events: usize,
    pub write_seconds: f64,
    /// VmRSS of the writer with the sandbox open and empty, then with the history loaded.
    pub rss_empty_mb: f64,
    pub rss_loaded_mb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestartResult {
    pub written: Written,
    /// Size of the history file on disk.
    pub history_mb: f64,
    pub restart_ms: Vec<f64>,
    pub restart_ms_median: f64,
    /// VmRSS of the restarted server half a second after its first answer (median).
    pub restart_rss_mb: f64,
}

/// The writer: `events` synthetic events into a sandbox persisted in `dir`.
pub fn writer(events: usize, dir: &Path) -> Result<Written> {
    let sb = Sandbox::open(Config {
        state_dir: Some(dir.to_path_buf()),
        ..sandbox_config()
    })
    .context("opening a sandbox on the state directory")?;
    let rss_empty = rss_kb().unwrap_or(0);
    let started = Instant::now();
    crate::lookup::load(&sb, events, true);
    sb.sync();
    let write_seconds = started.elapsed().as_secs_f64();
    Ok(Written {
        events,
        write_seconds,
        rss_empty_mb: rss_empty as f64 / 1024.0,
        rss_loaded_mb: rss_kb().unwrap_or(0) as f64 / 1024.0,
    })
}

fn write_in_child(events: usize, dir: &Path) -> Result<Written> {
    let (events, dir) = (events.to_string(), dir.display().to_string());
    crate::worker(
        &["history-writer", "--events", &events, "--state-dir", &dir],
        "the history writer",
    )
}

/// Each history size: write it, then restart the server on it `runs` times.
pub fn run(sizes: &[usize], runs: usize, workshop_bin: &Path) -> Result<Vec<RestartResult>> {
    let mut out = Vec::new();
    for &n in sizes {
        let dir = tempfile::tempdir().context("a temporary state directory")?;
        let state = dir.path().join("state");
        let written = write_in_child(n, &state)?;
        let history_mb = std::fs::metadata(state.join("events.bin"))
            .map(|m| m.len() as f64 / 1_048_576.0)
            .unwrap_or(f64::NAN);
        let state_arg = state.display().to_string();
        let args = [
            "sandbox",
            "serve",
            "--state-dir",
            &state_arg,
            "--port",
            "{port}",
        ];
        let (mut ms, mut rss) = (Vec::new(), Vec::new());
        for _ in 0..runs.max(1) {
            let (t, r) = crate::startup::once(workshop_bin, &args)?;
            ms.push(t);
            rss.push(r);
        }
        let r = RestartResult {
            written,
            history_mb,
            restart_ms_median: median(&ms),
            restart_ms: ms,
            restart_rss_mb: median(&rss),
        };
        eprintln!(
            "  {n:>9} events: {:.0} MB on disk, restart {:.0} ms to the first answer, RSS {:.0} MB (writer {:.0} MB)",
            r.history_mb, r.restart_ms_median, r.restart_rss_mb, r.written.rss_loaded_mb
        );
        out.push(r);
    }
    Ok(out)
}

/// The table of (h); `moto_ms` is moto's start-up on an empty state, from (d).
pub fn print(results: &[RestartResult], runs: usize, moto_ms: Option<f64>) {
    println!(
        "\n(h) Restart on a persisted history: process start to first answered request, median of {runs}"
    );
    println!(
        "{:>10} {:>9} {:>11} {:>12} {:>14} {:>12}",
        "events", "disk MB", "restart ms", "RSS after MB", "RSS before MB", "after/before"
    );
    for r in results {
        println!(
            "{:>10} {:>9.0} {:>11.0} {:>12.0} {:>14.0} {:>12.2}",
            r.written.events,
            r.history_mb,
            r.restart_ms_median,
            r.restart_rss_mb,
            r.written.rss_loaded_mb,
            r.restart_rss_mb / r.written.rss_loaded_mb
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
    println!("(RSS before: the writer process holding the same history in memory)");
}
