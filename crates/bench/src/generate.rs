//! (a) `GenerateDataKey` through aws-sdk-kms at several concurrencies against one target (the
//! in-process sandbox, `moto_server`, or the fixed-answer [`crate::ceiling`]): requests per
//! second, p50 and p99 latency; and the sandbox against each peer.
//!
//! The targets take turns: each cell's time is cut into rounds, and every round runs each
//! concurrency on each target in turn, so whatever else the machine does over the run (two
//! shared cores move a 3 s figure by a third) falls on both sides of a ratio alike. A cell's
//! figures pool its rounds: all their requests, all their latencies.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_sdk_kms::types::DataKeySpec;
use kms_workshop_sandbox::Sandbox;
use serde::Serialize;
use serde_json::json;

use crate::{percentile, sandbox_config, sdk_config};

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub target: String,
    pub concurrency: usize,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_error: Option<String>,
    /// Each round's own figures, in the order run.
    pub rounds: Vec<Round>,
}

/// One round of a cell: its throughput and median latency.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Round {
    pub requests_per_second: f64,
    pub p50_ms: f64,
}

#[derive(Clone, Copy)]
pub enum Stop {
    After(Duration),
    Count(u64),
}

/// What one round of one cell measured.
#[derive(Default)]
struct Part {
    latencies: Vec<f64>,
    errors: u64,
    first_error: Option<String>,
    seconds: f64,
    rounds: Vec<Round>,
}

impl Part {
    /// Add `other`, a later round of the same cell, keeping its own figures.
    fn pool_round(&mut self, other: Part) {
        let mut sorted = other.latencies.clone();
        sorted.sort_by(f64::total_cmp);
        self.rounds.push(Round {
            requests_per_second: sorted.len() as f64 / other.seconds,
            p50_ms: percentile(&sorted, 50.0),
        });
        self.pool(other);
    }

    /// Add `other`: another task's requests of the same round, or a later round.
    fn pool(&mut self, other: Part) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.seconds += other.seconds;
    }

    fn cell(mut self, target: &str, concurrency: usize) -> Cell {
        self.latencies.sort_by(f64::total_cmp);
        let requests = self.latencies.len() as u64;
        Cell {
            target: target.to_string(),
            concurrency,
            requests,
            errors: self.errors,
            seconds: self.seconds,
            requests_per_second: requests as f64 / self.seconds,
            p50_ms: percentile(&self.latencies, 50.0),
            p99_ms: percentile(&self.latencies, 99.0),
            first_error: self.first_error,
            rounds: self.rounds,
        }
    }
}

async fn run_cell(target: &Target, concurrency: usize, stop: Stop) -> Part {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = target.client.clone();
        let key_id = target.key_id.clone();
        let issued = issued.clone();
        tasks.push(tokio::spawn(async move {
            let mut part = Part::default();
            loop {
                let go = match stop {
                    Stop::After(d) => started.elapsed() < d,
                    Stop::Count(n) => issued.fetch_add(1, Ordering::Relaxed) < n,
                };
                if !go {
                    break;
                }
                let t = Instant::now();
                let r = client
                    .generate_data_key()
                    .key_id(&key_id)
                    .key_spec(DataKeySpec::Aes256)
                    .send()
                    .await;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                match r {
                    Ok(_) => part.latencies.push(ms),
                    Err(e) => {
                        part.errors += 1;
                        if part.first_error.is_none() {
                            part.first_error =
                                Some(format!("{}", aws_sdk_kms::error::DisplayErrorContext(&e)));
                        }
                    }
                }
            }
            part
        }));
    }
    let mut all = Part::default();
    for t in tasks {
        // A task's part has no time of its own: the cell's is its wall time, below.
        if let Ok(part) = t.await {
            all.pool(part);
        }
    }
    all.seconds = started.elapsed().as_secs_f64();
    all
}

/// `n` GenerateDataKey calls of `key_id` through `client`, `concurrency` in flight, for their
/// effect on the server (no figures): how many failed, and the first failure.
pub(crate) async fn send(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    concurrency: usize,
    n: u64,
) -> (u64, Option<String>) {
    let target = Target {
        name: "served",
        client: client.clone(),
        key_id: key_id.to_string(),
        sandbox: None,
    };
    let part = run_cell(&target, concurrency, Stop::Count(n)).await;
    (part.errors, part.first_error)
}

/// `moto_server` on a free loopback port; killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start(bin: &Path) -> Result<Moto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                bail!("moto_server exited at start-up ({status})");
            }
            if Instant::now() > deadline {
                bail!("moto_server did not listen within 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_version(moto_server: &Path) -> Option<String> {
    let python = moto_server.parent()?.join("python");
    let out = Command::new(python)
        .args(["-c", "import moto; print(moto.__version__)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A target ready to measure: a client for it and a key of its own.
struct Target {
    name: &'static str,
    client: aws_sdk_kms::Client,
    key_id: String,
    /// The in-process sandbox, when this is it: its round ends once its work is on disk.
    sandbox: Option<Arc<Sandbox>>,
}

impl Target {
    /// A key on `endpoint`, and a warm-up (connections, caches, the first-request costs of
    /// both sides) at the highest concurrency.
    async fn ready(name: &'static str, endpoint: &str, concurrency: &[usize]) -> Result<Target> {
        let client = aws_sdk_kms::Client::new(&sdk_config(endpoint).await);
        let key = client
            .create_key()
            .description("kms-workshop-bench")
            .send()
            .await
            .with_context(|| format!("CreateKey on {name}"))?;
        let key_id = key
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .context("CreateKey answered no KeyMetadata")?;
        let target = Target {
            name,
            client,
            key_id,
            sandbox: None,
        };
        let most = concurrency.iter().copied().max().unwrap_or(1);
        run_cell(&target, most, Stop::Count(50)).await;
        Ok(target)
    }
}

/// Measure the sandbox, `moto_server` (when `moto_bin` is given) and the ceiling at each
/// concurrency, taking turns over `rounds` rounds; the cells side by side (each concurrency's
/// sandbox row next to its peers'), and moto's version.
pub async fn run(
    concurrency: &[usize],
    stop: Stop,
    rounds: usize,
    moto_bin: Option<&Path>,
) -> Result<(Vec<Cell>, Option<String>)> {
    // State persisted as `--state-dir` persists it: every call's record reaches the history
    // file (read-only calls' in the frame of their writer's batch).
    let state = tempfile::tempdir().context("a state directory")?;
    let sb = Sandbox::open(kms_workshop_sandbox::Config {
        state_dir: Some(state.path().join("state")),
        ..sandbox_config()
    })
    .context("opening a sandbox")?;
    let running = kms_workshop_testkit::serve(&sb).await;
    let mut targets = vec![Target {
        sandbox: Some(sb.clone()),
        ..Target::ready("sandbox", &running.endpoint(), concurrency).await?
    }];
    let (moto, moto_ver) = match moto_bin {
        Some(bin) => (Some(Moto::start(bin)?), moto_version(bin)),
        None => (None, None),
    };
    if let Some(moto) = &moto {
        targets.push(Target::ready("moto", &moto.endpoint, concurrency).await?);
    }
    let ceiling = crate::ceiling::start().await?;
    targets.push(Target::ready("ceiling", &ceiling.endpoint, concurrency).await?);

    let rounds = rounds.max(1);
    let each = match stop {
        Stop::After(d) => Stop::After(d / rounds as u32),
        // A round sends its share rounded up: a cell sends at least the N asked for.
        Stop::Count(n) => Stop::Count(n.div_ceil(rounds as u64)),
    };
    let mut parts: Vec<Part> = (0..concurrency.len() * targets.len())
        .map(|_| Part::default())
        .collect();
    for _ in 0..rounds {
        for (i, &c) in concurrency.iter().enumerate() {
            for (j, target) in targets.iter().enumerate() {
                let mut part = run_cell(target, c, each).await;
                if let Some(sb) = target.sandbox.clone() {
                    // Its records written and its files synced (what its tick does every
                    // second) in its own time, not in the next target's round.
                    let t = Instant::now();
                    tokio::task::spawn_blocking(move || sb.sync())
                        .await
                        .context("syncing the sandbox")?;
                    part.seconds += t.elapsed().as_secs_f64();
                }
                parts[i * targets.len() + j].pool_round(part);
            }
        }
    }
    let mut cells = Vec::new();
    for (k, part) in parts.into_iter().enumerate() {
        let (c, target) = (concurrency[k / targets.len()], &targets[k % targets.len()]);
        let cell = part.cell(target.name, c);
        eprintln!(
            "  {:<8} concurrency {c:>3}: {:>7} requests, {:>9.0} req/s, p50 {:.2} ms, p99 {:.2} ms{}",
            target.name,
            cell.requests,
            cell.requests_per_second,
            cell.p50_ms,
            cell.p99_ms,
            if cell.errors > 0 { format!(", {} errors", cell.errors) } else { String::new() }
        );
        cells.push(cell);
    }
    drop((moto, ceiling));
    running.shutdown().await;
    Ok((cells, moto_ver))
}

/// The table of (a), the sandbox against each peer, and moto's version.
pub fn print(cells: &[Cell], stop: Stop, rounds: usize, moto_ver: Option<&str>) {
    let how = match stop {
        Stop::After(d) => format!("{:.1} s per cell", d.as_secs_f64()),
        Stop::Count(n) => format!("{n} requests per cell"),
    };
    let how = format!("{how}, in {rounds} rounds taking turns");
    println!("\n(a) GenerateDataKey (AES_256) through aws-sdk-kms, {how}");
    println!(
        "{:<10} {:>11} {:>10} {:>10} {:>9} {:>9} {:>7}",
        "target", "concurrency", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for c in cells {
        println!(
            "{:<10} {:>11} {:>10} {:>10.0} {:>9.2} {:>9.2} {:>7}",
            c.target,
            c.concurrency,
            c.requests,
            c.requests_per_second,
            c.p50_ms,
            c.p99_ms,
            c.errors
        );
    }
    for r in ratios(cells, "moto")
        .into_iter()
        .chain(ratios(cells, "ceiling"))
    {
        println!(
            "sandbox/{:<7} at concurrency {:>2}: throughput x{:.2}, p50 latency x{:.2}, p99 latency x{:.2}",
            r["peer"].as_str().unwrap_or(""),
            r["concurrency"],
            r["throughput_sandbox_over_peer"].as_f64().unwrap_or(f64::NAN),
            r["p50_latency_sandbox_over_peer"].as_f64().unwrap_or(f64::NAN),
            r["p99_latency_sandbox_over_peer"].as_f64().unwrap_or(f64::NAN),
        );
        let spread = |k: &str| {
            let f = |q: &str| r["per_round"][k][q].as_f64().unwrap_or(f64::NAN);
            format!("x{:.2} (x{:.2}-x{:.2})", f("median"), f("min"), f("max"))
        };
        println!(
            "  round by round ({} pairs): throughput {}, p50 latency {}",
            r["per_round"]["pairs"],
            spread("throughput"),
            spread("p50_latency")
        );
    }
    if let Some(v) = moto_ver {
        println!("(moto {v}, moto_server on 127.0.0.1)");
    }
}

/// Per concurrency: the sandbox against `peer` ("moto" or "ceiling").
pub fn ratios(cells: &[Cell], peer: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for s in cells.iter().filter(|c| c.target == "sandbox") {
        if let Some(m) = cells
            .iter()
            .find(|c| c.target == peer && c.concurrency == s.concurrency)
        {
            out.push(json!({
                "concurrency": s.concurrency,
                "peer": peer,
                "throughput_sandbox_over_peer": s.requests_per_second / m.requests_per_second,
                "p50_latency_sandbox_over_peer": s.p50_ms / m.p50_ms,
                "p99_latency_sandbox_over_peer": s.p99_ms / m.p99_ms,
                "per_round": per_round(s, m),
            }));
        }
    }
    out
}

/// The sandbox's rounds against `peer`'s, each against the peer's round of the same turn (run
/// seconds after it): a slow stretch of the machine falls on one or two pairs, where in the
/// pooled figures it moves the whole ratio. Median and range of the pairs' ratios.
fn per_round(sandbox: &Cell, peer: &Cell) -> serde_json::Value {
    let pairs: Vec<(&Round, &Round)> = sandbox.rounds.iter().zip(&peer.rounds).collect();
    let spread = |ratio: &dyn Fn(&Round, &Round) -> f64| {
        // A round without an answer on one side has no ratio to count.
        let r: Vec<f64> = pairs
            .iter()
            .map(|(s, p)| ratio(s, p))
            .filter(|x| x.is_finite())
            .collect();
        let (min, max) = r
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        json!({"median": crate::median(&r), "min": min, "max": max})
    };
    json!({
        "pairs": pairs.len(),
        "throughput": spread(&|s, p| s.requests_per_second / p.requests_per_second),
        "p50_latency": spread(&|s, p| s.p50_ms / p.p50_ms),
    })
}
