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
//! [`crate::served`] compares the same program before and after instead.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use kms_workshop_sandbox::{Config, Sandbox};
use serde::{Deserialize, Serialize};

use crate::startup::Resident;
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
    let home = state.with_file_name("home");
    let (mut ms, mut rss, mut anon) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (t, r) =
            crate::startup::once(workshop_bin, &args, |c| crate::child::at_home(c, &home))?;
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
pub(crate) fn serve_args(state: &str) -> [&str; 6] {
    ["sandbox", "serve", "--state-dir", state, "--port", "{port}"]
}

/// The size of the history file in `state`, in MB.
pub(crate) fn history_mb(state: &Path) -> f64 {
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

/// The tables of (h); `moto_ms` is moto's start-up on an empty state, from (d).
pub fn print(
    results: &[RestartResult],
    served: Option<&crate::served::ServedRestart>,
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
        crate::served::print(s, runs);
    }
}
