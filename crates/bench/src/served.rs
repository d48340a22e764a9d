//! (h), like for like: the same program before and after a restart. `kms-workshop sandbox serve
//! --state-dir` makes its history itself, from GenerateDataKey calls through aws-sdk-kms with a
//! learner's keys (`sandbox env`), as a class makes it; it is stopped as Ctrl-C stops it
//! (SIGTERM) and started again on that state, several times. Each restarted server answers a
//! burst of the same calls before its memory is read, so both sides are a server that has been
//! serving (connections, buffers, the allocator's spare room), and both are read the same time
//! after their last call.
//!
//! The history file's size is taken just before the stop and after it: the same size says the
//! server's memory was read with every record already on disk.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::restart::{history_mb, serve_args};
use crate::startup::{Killed, Resident};

/// GenerateDataKey calls in flight while the history is made, and in each restart's burst.
pub const CONCURRENCY: usize = 16;

/// Calls each restarted server answers before its memory is read.
const BURST: u64 = 10_000;

/// From a server's last call to its memory's reading: it writes waiting records and syncs its
/// files every second, so after two of those the history is on disk.
const SETTLE: Duration = Duration::from_millis(2500);

/// Readings of a server's memory, a fifth of a second apart; their median is reported.
const READINGS: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct ServedRestart {
    /// GenerateDataKey calls the server made its history from.
    pub calls: u64,
    /// Calls in flight at once, for the history and in each restart's burst.
    pub concurrency: usize,
    /// How long the history's calls took.
    pub calls_seconds: f64,
    /// Calls each restarted server answered before its memory was read.
    pub burst: u64,
    /// Seconds from a server's last call to the first reading of its memory.
    pub settle_seconds: f64,
    /// The history file's size just before the stop, and once the server had stopped.
    pub history_mb: f64,
    pub history_mb_after_stop: f64,
    /// The server that made the history (median of its readings).
    pub before: Resident,
    /// Each restart's time to its first answer, and their median.
    pub restart_ms: Vec<f64>,
    pub restart_ms_median: f64,
    /// The restarted servers after their bursts (medians over the restarts).
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

/// A `kms-workshop sandbox serve --state-dir` of this benchmark's, at home in its own
/// directory, its standard error kept in a file there.
struct Served {
    server: Killed,
    client: aws_sdk_kms::Client,
    log: PathBuf,
    /// Process start to its first answer.
    start_ms: f64,
}

impl Served {
    /// Start it on `state` (in `dir`, its home too) and make a client as learner 1.
    async fn start(bin: &Path, dir: &Path, state: &Path) -> Result<Served> {
        let home = dir.join("home");
        std::fs::create_dir_all(&home).context("a home directory for the sandbox")?;
        let log = dir.join("serve.log");
        let stderr = std::fs::File::create(&log).context("a log file for the sandbox")?;
        let state_arg = state.display().to_string();
        let (server, port, start_ms) =
            crate::startup::start(bin, &serve_args(&state_arg), |c: &mut Command| {
                crate::child::at_home(c, &home);
                c.stderr(stderr);
            })?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = crate::child::learner_client(bin, state, &endpoint, 1).await?;
        Ok(Served {
            server,
            client,
            log,
            start_ms,
        })
    }

    /// `calls` GenerateDataKey calls, in tenths each reported when `report`.
    async fn call(&mut self, calls: u64, report: bool) -> Result<f64> {
        let started = Instant::now();
        let step = if report {
            calls.div_ceil(10).max(1)
        } else {
            calls
        };
        let mut made = 0;
        while made < calls {
            let n = step.min(calls - made);
            let (errors, first) = crate::generate::send(
                &self.client,
                kms_workshop_names::IMPORTED_ALIAS,
                CONCURRENCY,
                n,
            )
            .await;
            if errors > 0 {
                bail!(
                    "{errors} GenerateDataKey calls to the served sandbox failed after {made} of {calls}; the first: {}{}",
                    first.unwrap_or_default(),
                    self.exited()
                );
            }
            made += n;
            if report {
                eprintln!(
                    "  {made:>9} of {calls} calls made ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(started.elapsed().as_secs_f64())
    }

    /// Its memory once its records are on disk: the median of [`READINGS`] after [`SETTLE`].
    async fn settled(&self) -> Resident {
        tokio::time::sleep(SETTLE).await;
        let (mut rss, mut anon) = (Vec::new(), Vec::new());
        for i in 0..READINGS {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let r = Resident::of(self.server.0.id());
            rss.push(r.rss_mb);
            anon.push(r.anon_mb);
        }
        Resident {
            rss_mb: crate::median(&rss),
            anon_mb: crate::median(&anon),
        }
    }

    /// "; the sandbox exited (…), its last words: …" when it is no longer running.
    fn exited(&mut self) -> String {
        match self.server.0.try_wait() {
            Ok(Some(status)) => format!("; the sandbox exited ({status}){}", self.last_words()),
            _ => String::new(),
        }
    }

    /// The end of its standard error, for an error message.
    fn last_words(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        if tail.is_empty() {
            return String::new();
        }
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            ", its last words ({}): {}",
            self.log.display(),
            tail.join(" | ")
        )
    }

    /// Stop it as Ctrl-C or a service manager does (SIGTERM), and wait for it to finish writing
    /// and exit.
    fn stop(mut self) -> Result<()> {
        let pid = self.server.0.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .context("running kill -TERM")?;
        if !sent.success() {
            bail!("kill -TERM {pid} failed ({sent})");
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self
                .server
                .0
                .try_wait()
                .context("waiting for the sandbox")?
            {
                if !status.success() {
                    bail!("the sandbox stopped with {status}{}", self.last_words());
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "the sandbox had not stopped 60 s after SIGTERM{}",
                    self.last_words()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The served sandbox given `calls` GenerateDataKey calls, its memory once they are on disk;
/// then stopped, and restarted on its state `runs` times, each given a burst of calls.
pub async fn measure(calls: u64, runs: usize, bin: &Path) -> Result<ServedRestart> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let state = dir.path().join("state");
    let mut first = Served::start(bin, dir.path(), &state).await?;
    let calls_seconds = first.call(calls, true).await?;
    let before = first.settled().await;
    let history = history_mb(&state);
    first.stop()?;
    let history_mb_after_stop = history_mb(&state);
    let (mut ms, mut rss, mut anon) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        // Its burst's records join the history, so each restart loads a few more.
        let mut again = Served::start(bin, dir.path(), &state).await?;
        ms.push(again.start_ms);
        again.call(BURST, false).await?;
        let after = again.settled().await;
        rss.push(after.rss_mb);
        anon.push(after.anon_mb);
        again.stop()?;
    }
    let r = ServedRestart {
        calls,
        concurrency: CONCURRENCY,
        calls_seconds,
        burst: BURST,
        settle_seconds: SETTLE.as_secs_f64(),
        history_mb: history,
        history_mb_after_stop,
        before,
        restart_ms_median: crate::median(&ms),
        restart_ms: ms,
        after: Resident {
            rss_mb: crate::median(&rss),
            anon_mb: crate::median(&anon),
        },
    };
    eprintln!(
        "  served {calls} calls: {:.0} MB on disk, restart {:.0} ms, RSS {:.0} MB after against {:.0} MB before",
        r.history_mb, r.restart_ms_median, r.after.rss_mb, r.before.rss_mb
    );
    Ok(r)
}

/// The like-for-like table of (h), `runs` restarts.
pub fn print(s: &ServedRestart, runs: usize) {
    println!(
        "\n(h) The same program before and after: sandbox serve --state-dir given {} GenerateDataKey",
        s.calls
    );
    println!(
        "calls ({} in flight, {:.0} s), stopped (SIGTERM) and restarted on its state; each restart answers",
        s.concurrency, s.calls_seconds
    );
    println!(
        "{} calls before its memory is read; memory read {:.1} s after the last call; medians of {runs}",
        s.burst, s.settle_seconds
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
    let grew = (s.history_mb_after_stop - s.history_mb) * 1024.0;
    println!(
        "(MB. Before: the server that made the history; anon: heap and stacks. The history file {})",
        if grew.abs() < 0.5 {
            "was the same size before and after the stop".to_string()
        } else {
            format!("grew by {grew:.0} KB at the stop")
        }
    );
}
