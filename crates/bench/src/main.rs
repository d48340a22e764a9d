//! Benchmarks of the kms-workshop sandbox, run with `scripts/bench` (they are measurements, not
//! tests: nothing here passes or fails on a number).
//!
//! (a) `GenerateDataKey` through aws-sdk-kms at several concurrencies, against an in-process
//!     sandbox and against `moto_server` (from the project's pinned virtualenv) on the same
//!     machine, side by side in the same run: requests per second, p50 and p99 latency, and the
//!     sandbox/moto ratio.
//! (b) `LookupEvents` filtered by `EventName` over histories of 10,000 to 1,000,000 stored
//!     events (synthetic records of about 1 KB, bulk-loaded with `EventStore::append`): the
//!     first page (`MaxResults` 50) through aws-sdk-cloudtrail over HTTP and the in-process
//!     `EventStore::lookup`, median of several runs, and the resident memory after loading.
//!     Each history size runs in a fresh child process, so its memory figure is its own.
//!
//! (c) The ceiling: the same GenerateDataKey client against a minimal fixed-answer HTTP server
//!     ([`ceiling`]), the best any emulator could do with this client.
//! (d) Start-up: process start to first answered request, `kms-workshop sandbox serve` against
//!     `moto_server`, and each one's resident memory once idle ([`startup`]).
//! (e) Pattern engine: events per second against 1, 100 and 1,000 rules, against moto's
//!     matcher ([`patterns`]).
//! (f) Clean-up of 1, 10 and 50 classroom accounts under the realistic latency profile,
//!     time-scaled, against the single-account critical path ([`cleanup`]).
//! (g) Set-up (`prepare --accounts`) of 1 and 20 empty classroom accounts ([`prepare`]).
//! (h) Restart on a persisted history of 1,000,000 events: time to the first answer and
//!     resident memory, against the memory the same history took before ([`restart`]); and
//!     like for like, the served sandbox given 1,000,000 calls, then restarted on its state
//!     ([`served`]).
//! (i) A classroom of 2,000 learners: start-up and memory, and one learner's GenerateDataKey
//!     latency while 50 others run the guided run, against the same learner alone
//!     ([`classroom`]).
//!
//! Prints a table and writes everything to `target/bench/results.json`.

mod ceiling;
mod child;
mod classroom;
mod cleanup;
mod generate;
mod lookup;
mod patterns;
mod prepare;
mod report;
mod restart;
mod served;
mod startup;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use kms_workshop_sandbox::{Config, Seed};

use generate::Stop;

#[derive(Parser)]
#[command(
    name = "kms-workshop-bench",
    about = "Benchmark the kms-workshop sandbox: GenerateDataKey against moto_server, LookupEvents over large histories.",
    long_about = "Benchmark the kms-workshop sandbox.\n\n\
        (a) GenerateDataKey through aws-sdk-kms at each --concurrency, against an in-process sandbox and \
        against moto_server on this machine, side by side: requests/second, p50/p99 latency, sandbox/moto ratio.\n\
        (b) LookupEvents with an EventName filter over each --events history size (synthetic ~1 KB records): \
        first page (MaxResults 50) through the SDK over HTTP and in-process, median of --runs, resident memory.\n\n\
        Prints a table and writes target/bench/results.json. Run it as scripts/bench, which creates the \
        Python virtualenv with the pinned moto first."
)]
struct Cli {
    /// Seconds each GenerateDataKey cell (one target at one concurrency) runs, after a warm-up.
    #[arg(long, default_value_t = 6.0, value_name = "SECONDS")]
    seconds: f64,
    /// Send this many GenerateDataKey requests per cell instead of running for --seconds (each
    /// round its share, rounded up).
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Rounds each GenerateDataKey cell is cut into: every round runs each concurrency on each
    /// target in turn, so the machine's own ups and downs fall on both sides of a ratio.
    #[arg(long, default_value_t = 6, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000))]
    rounds: u64,
    /// Concurrency levels (requests in flight) for GenerateDataKey, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 16], value_name = "N,N")]
    concurrency: Vec<usize>,
    /// Event-history sizes for LookupEvents, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000usize, 100_000, 1_000_000], value_name = "N,N")]
    events: Vec<usize>,
    /// LookupEvents timings per history size (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 9, value_name = "N")]
    runs: usize,
    /// The moto_server to compare against [default: .venv/bin/moto_server in the workspace].
    #[arg(long, env = "KMS_WORKSHOP_MOTO_SERVER", value_name = "PATH")]
    moto_server: Option<PathBuf>,
    /// Measure the sandbox only (no moto_server).
    #[arg(long)]
    no_moto: bool,
    /// Skip (a), the GenerateDataKey comparison.
    #[arg(long)]
    skip_generate: bool,
    /// Skip (b), the LookupEvents measurements.
    #[arg(long)]
    skip_lookup: bool,
    /// A shorter run (about two and a half minutes): 1 s cells in 2 rounds, 10,000 and 100,000
    /// events, 3 runs and 3 start-ups, the pattern engine 0.3 s a rule set, clean-up of 1 and
    /// 10 accounts, a restart on 100,000 events and after 20,000 calls, the classroom's learner
    /// alone for 2 s. An option given on the command line keeps its value.
    #[arg(long)]
    quick: bool,
    /// Skip (d), the start-up comparison.
    #[arg(long)]
    skip_startup: bool,
    /// Skip (e), the pattern engine.
    #[arg(long)]
    skip_patterns: bool,
    /// Skip (f), the classroom clean-up.
    #[arg(long)]
    skip_cleanup: bool,
    /// Skip (g), the classroom set-up.
    #[arg(long)]
    skip_prepare: bool,
    /// Classroom sizes for (g), comma-separated (1 is the single-account reference).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 20], value_name = "N,N")]
    prepare_accounts: Vec<usize>,
    /// Accounts prepared at once in (g) (`prepare --parallel-accounts`).
    #[arg(long, default_value_t = 20, value_name = "N")]
    prepare_parallel: usize,
    /// History sizes for (h), the restart on a persisted history, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000usize], value_name = "N,N")]
    restart_events: Vec<usize>,
    /// GenerateDataKey calls the served sandbox of (h) makes its own history from, before it is
    /// restarted on it (the same program before and after); 0 leaves that part out.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    restart_calls: u64,
    /// Skip (h), the restart on a persisted history.
    #[arg(long)]
    skip_restart: bool,
    /// Skip (i), the classroom at scale.
    #[arg(long)]
    skip_classroom: bool,
    /// Learners of the classroom sandbox in (i).
    #[arg(long, default_value_t = 2000, value_name = "N")]
    classroom_learners: u32,
    /// Learners running the guided run at once in (i).
    #[arg(long, default_value_t = 50, value_name = "N")]
    classroom_runners: usize,
    /// Seconds (i) measures its learner alone, before the runs start.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    classroom_alone_seconds: f64,
    /// Start-ups per server for (d); the median is reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    startup_runs: usize,
    /// The kms-workshop binary for (d) [default: the release build in the target directory].
    #[arg(long, env = "KMS_WORKSHOP_BIN", value_name = "PATH")]
    workshop_bin: Option<PathBuf>,
    /// Classroom sizes for (f), comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 10, 50], value_name = "N,N")]
    cleanup_accounts: Vec<usize>,
    /// Accounts cleaned at once in (f).
    #[arg(long, default_value_t = 16, value_name = "N")]
    cleanup_parallel: usize,
    /// Divides the realistic latency profile's durations in (f) (20: an instance terminates in
    /// 1.5–3 s instead of 30–60 s).
    #[arg(long, default_value_t = 20.0, value_name = "X")]
    time_scale: f64,
    /// Where to write the results [default: target/bench/results.json in the workspace].
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
    #[command(subcommand)]
    worker: Option<Worker>,
}

#[derive(Subcommand)]
enum Worker {
    /// One LookupEvents measurement in this (fresh) process; prints its result as JSON.
    #[command(hide = true)]
    LookupWorker {
        #[arg(long)]
        events: usize,
        #[arg(long)]
        runs: usize,
    },
    /// Write a synthetic history into a state directory; prints what it took as JSON.
    #[command(hide = true)]
    HistoryWriter {
        #[arg(long)]
        events: usize,
        #[arg(long)]
        state_dir: PathBuf,
    },
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// The seeded learner's SDK configuration for `endpoint` (no retries: every request counts
/// once, a failure is reported, not retried), with a generous operation timeout. The peers
/// (`moto_server`, the ceiling) take any keys; a sandbox its learner's own.
pub(crate) async fn sdk_config(endpoint: &str) -> SdkConfig {
    let base = match kms_workshop_testkit::try_served(endpoint) {
        Some(_) => kms_workshop_testkit::learner_config(endpoint).await,
        None => {
            let key = kms_workshop_sandbox::seed::LEARNER_ACCESS_KEY;
            kms_workshop_testkit::credentials_config(endpoint, key, "any-secret", None).await
        }
    };
    base.to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build()
}

pub(crate) fn sandbox_config() -> Config {
    Config {
        state_dir: None,
        seed: Seed::Empty,
        cloudtrail_delay: time::Duration::ZERO,
        accept_any_credentials: false,
        lookup_rate_limit: false,
        ..Config::default()
    }
}

/// Resident memory of this process, from /proc/self/status (kB).
pub(crate) fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    startup::status_mb(&status, "VmRSS:").map(|mb| (mb * 1024.0) as u64)
}

/// Run this program as the hidden worker `args` in a child process (its own heap, so its
/// VmRSS is its own) and read the JSON result it prints last.
pub(crate) fn worker<T: serde::de::DeserializeOwned>(args: &[&str], what: &str) -> Result<T> {
    use anyhow::Context;
    let exe = std::env::current_exe().context("finding this program")?;
    let out = std::process::Command::new(exe)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!("{what} failed ({}): {}", out.status, args.join(" "));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .last()
        .with_context(|| format!("{what} printed nothing"))?;
    serde_json::from_str(line).with_context(|| format!("{what}'s result"))
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the options settle before anything runs.
struct Plan {
    output: PathBuf,
    stop: Stop,
    cpus: usize,
    moto_bin: PathBuf,
    /// Compare GenerateDataKey with moto.
    use_moto: bool,
    target_dir: PathBuf,
}

/// Apply `--quick` to the options not given on the command line (`matches`), and check the
/// options.
fn plan(cli: &mut Cli, matches: &ArgMatches) -> Result<Plan> {
    let root = workspace_root();
    if cli.quick {
        // Each field's clap id is its name (an id clap does not know panics in a debug build).
        macro_rules! quick {
            ($($field:ident = $value:expr),* $(,)?) => {
                $(if matches.value_source(stringify!($field)) != Some(ValueSource::CommandLine) {
                    cli.$field = $value;
                })*
            };
        }
        quick!(
            seconds = 1.0,
            rounds = 2,
            events = vec![10_000, 100_000],
            runs = 3,
            startup_runs = 3,
            cleanup_accounts = vec![1, 10],
            restart_events = vec![100_000],
            restart_calls = 20_000,
            classroom_alone_seconds = 2.0,
        );
    }
    let output = cli
        .output
        .clone()
        .unwrap_or_else(|| root.join("target/bench/results.json"));
    let stop = match cli.requests {
        Some(n) => Stop::Count(n),
        None if cli.seconds > 0.0 && cli.seconds.is_finite() => {
            Stop::After(Duration::from_secs_f64(cli.seconds))
        }
        None => bail!("--seconds must be a positive number"),
    };
    if cli.concurrency.contains(&0) {
        bail!("--concurrency levels must be at least 1");
    }
    if cli.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let moto_bin = cli
        .moto_server
        .clone()
        .unwrap_or_else(|| root.join(".venv/bin/moto_server"));
    let use_moto = !cli.no_moto && !cli.skip_generate;
    if use_moto && !moto_bin.exists() {
        bail!(
            "{} not found: run scripts/bench (it creates the virtualenv with the pinned moto), pass --moto-server PATH, or --no-moto",
            moto_bin.display()
        );
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(Plan {
        output,
        stop,
        cpus,
        moto_bin,
        use_moto,
        target_dir,
    })
}

/// (d): the sandbox's start-up, and moto's when it is there.
fn startups(cli: &Cli, plan: &Plan) -> Result<Vec<startup::Startup>> {
    let workshop_bin = cli
        .workshop_bin
        .clone()
        .unwrap_or_else(|| plan.target_dir.join("release/kms-workshop"));
    if !workshop_bin.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p kms-workshop` (scripts/bench does), pass --workshop-bin PATH, or --skip-startup",
            workshop_bin.display()
        );
    }
    let mut startups = Vec::new();
    let r = startup::measure(
        "sandbox",
        &workshop_bin,
        &["sandbox", "serve", "--port", "{port}"],
        cli.startup_runs,
    )?;
    eprintln!(
        "  sandbox: {:.0} ms, idle RSS {:.0} MB",
        r.median_ms, r.idle_rss_mb
    );
    startups.push(r);
    if plan.use_moto || (!cli.no_moto && plan.moto_bin.exists()) {
        let r = startup::measure(
            "moto",
            &plan.moto_bin,
            &["-H", "127.0.0.1", "-p", "{port}"],
            cli.startup_runs,
        )?;
        eprintln!(
            "  moto: {:.0} ms, idle RSS {:.0} MB",
            r.median_ms, r.idle_rss_mb
        );
        startups.push(r);
    }
    Ok(startups)
}

/// (e): our matcher against 1, 100 and 1,000 rules, side by side with moto's when it is there.
fn matching(cli: &Cli, plan: &Plan) -> Result<Vec<patterns::Throughput>> {
    let budget = Duration::from_secs_f64(if cli.quick { 0.3 } else { 1.0 });
    let counts = [1usize, 100, 1000];
    let ours = counts
        .iter()
        .map(|&c| patterns::measure_ours(c, budget))
        .collect::<Result<Vec<_>>>()?;
    let theirs = if !cli.no_moto && plan.moto_bin.exists() {
        patterns::measure_moto(&plan.moto_bin, &counts, budget)?
    } else {
        Vec::new()
    };
    let mut matching = Vec::new();
    for c in counts {
        matching.extend(ours.iter().filter(|t| t.rules == c).cloned());
        matching.extend(theirs.iter().filter(|t| t.rules == c).cloned());
    }
    Ok(matching)
}

/// (f): each classroom size.
async fn cleanups(cli: &Cli) -> Result<Vec<cleanup::CleanupRun>> {
    if !(cli.time_scale.is_finite() && cli.time_scale > 0.0) {
        bail!("--time-scale must be a positive number");
    }
    let mut cleanups = Vec::new();
    for &n in &cli.cleanup_accounts {
        let r = cleanup::measure(n, cli.cleanup_parallel, cli.time_scale).await?;
        eprintln!(
            "  {n:>3} accounts: {:.1} s wall (slowest account {:.1} s), {} changed, {} failures, {} remaining",
            r.wall_seconds, r.slowest_account_seconds, r.actions_changed, r.failures, r.remaining
        );
        cleanups.push(r);
    }
    Ok(cleanups)
}

/// (i): the classroom at scale.
async fn classroom(cli: &Cli, bin: &Path) -> Result<classroom::ClassroomRun> {
    eprintln!(
        "(i) a classroom of {} with {} guided runs at once …",
        cli.classroom_learners, cli.classroom_runners
    );
    let alone = Duration::try_from_secs_f64(cli.classroom_alone_seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .context("--classroom-alone-seconds must be a positive number")?;
    classroom::measure(cli.classroom_learners, cli.classroom_runners, alone, bin).await
}

async fn bench(mut cli: Cli, matches: ArgMatches) -> Result<()> {
    let plan = plan(&mut cli, &matches)?;
    let release_bin = cli
        .workshop_bin
        .clone()
        .unwrap_or_else(|| plan.target_dir.join("release/kms-workshop"));
    println!(
        "kms-workshop-bench: {} CPUs, {} build; sandbox in-process (state on disk, SigV4 verified, CloudTrail recording on)",
        plan.cpus,
        if cfg!(debug_assertions) { "DEBUG (numbers are not meaningful)" } else { "release" }
    );

    let (mut cells, mut moto_ver) = (Vec::new(), None);
    if !cli.skip_generate {
        eprintln!("(a) GenerateDataKey …");
        let moto = plan.use_moto.then_some(plan.moto_bin.as_path());
        (cells, moto_ver) =
            generate::run(&cli.concurrency, plan.stop, cli.rounds as usize, moto).await?;
    }
    let mut lookups = Vec::new();
    if !cli.skip_lookup {
        eprintln!("(b) LookupEvents …");
        lookups = lookup::run(&cli.events, cli.runs)?;
    }
    let mut startups = Vec::new();
    if !cli.skip_startup {
        eprintln!("(d) start-up …");
        startups = self::startups(&cli, &plan)?;
    }
    let mut matching = Vec::new();
    if !cli.skip_patterns {
        eprintln!("(e) pattern engine …");
        matching = self::matching(&cli, &plan)?;
    }
    let mut cleanups = Vec::new();
    if !cli.skip_cleanup {
        eprintln!("(f) classroom clean-up …");
        cleanups = self::cleanups(&cli).await?;
    }
    let mut prepares = Vec::new();
    if !cli.skip_prepare {
        eprintln!("(g) classroom set-up …");
        for &n in &cli.prepare_accounts {
            let r = prepare::measure(n, cli.prepare_parallel, cli.time_scale, &release_bin).await?;
            eprintln!(
                "  {n:>3} accounts: {:.1} s wall, {} ready",
                r.wall_seconds, r.ready
            );
            prepares.push(r);
        }
    }
    let (mut restarts, mut served) = (Vec::new(), None);
    if !cli.skip_restart {
        eprintln!("(h) restart on a persisted history …");
        restarts = restart::run(&cli.restart_events, cli.startup_runs, &release_bin)?;
        if cli.restart_calls > 0 {
            served =
                Some(served::measure(cli.restart_calls, cli.startup_runs, &release_bin).await?);
        }
    }
    let mut classrooms = Vec::new();
    if !cli.skip_classroom {
        classrooms.push(classroom(&cli, &release_bin).await?);
    }

    if !cells.is_empty() {
        generate::print(&cells, plan.stop, cli.rounds as usize, moto_ver.as_deref());
    }
    if !lookups.is_empty() {
        lookup::print(&lookups, cli.runs);
    }
    if !startups.is_empty() {
        report::print_startups(&startups, cli.startup_runs);
    }
    if !matching.is_empty() {
        report::print_patterns(&matching);
    }
    if !cleanups.is_empty() {
        report::print_cleanups(&cleanups, cli.time_scale, cli.cleanup_parallel);
    }
    if !prepares.is_empty() {
        prepare::print(&prepares, cli.time_scale);
    }
    if !restarts.is_empty() || served.is_some() {
        let moto = startups
            .iter()
            .find(|s| s.target == "moto")
            .map(|s| s.median_ms);
        restart::print(&restarts, served.as_ref(), cli.startup_runs, moto);
    }
    for r in &classrooms {
        classroom::print(r);
    }
    let results = report::Results {
        cpus: plan.cpus,
        stop: plan.stop,
        rounds: cli.rounds,
        moto_ver,
        cells: &cells,
        runs: cli.runs,
        lookups: &lookups,
        startups: &startups,
        matching: &matching,
        time_scale: cli.time_scale,
        parallel: cli.cleanup_parallel,
        cleanups: &cleanups,
        prepares: &prepares,
        restarts: &restarts,
        served: served.as_ref(),
        classrooms: &classrooms,
    };
    report::write(&results, &plan.output)?;
    println!("\nresults: {}", plan.output.display());
    Ok(())
}

fn main() -> Result<()> {
    let matches = Cli::command().get_matches();
    let cli =
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut Cli::command()).exit());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.worker {
        Some(Worker::LookupWorker { events, runs }) => {
            let r = rt.block_on(lookup::worker(events, runs))?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Some(Worker::HistoryWriter { events, state_dir }) => {
            let r = restart::writer(events, &state_dir)?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        None => rt.block_on(bench(cli, matches)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options as `args` give them, after [`plan`].
    fn planned(args: &[&str]) -> Cli {
        let matches = Cli::command()
            .try_get_matches_from(args)
            .expect("the options parse");
        let mut cli = Cli::from_arg_matches(&matches).expect("the options read");
        plan(&mut cli, &matches).expect("the options make a plan");
        cli
    }

    /// What `--quick` sets, as (seconds, rounds, events, runs, start-ups, accounts, restart
    /// events, restart calls, the learner alone's seconds).
    type Shortened = (
        f64,
        u64,
        Vec<usize>,
        usize,
        usize,
        Vec<usize>,
        Vec<usize>,
        u64,
        f64,
    );

    fn shortened(cli: &Cli) -> Shortened {
        (
            cli.seconds,
            cli.rounds,
            cli.events.clone(),
            cli.runs,
            cli.startup_runs,
            cli.cleanup_accounts.clone(),
            cli.restart_events.clone(),
            cli.restart_calls,
            cli.classroom_alone_seconds,
        )
    }

    #[test]
    fn quick_shortens_every_option_the_command_line_left_alone() {
        let cli = planned(&["kms-workshop-bench", "--no-moto", "--quick"]);
        assert_eq!(
            shortened(&cli),
            (
                1.0,
                2,
                vec![10_000, 100_000],
                3,
                3,
                vec![1, 10],
                vec![100_000],
                20_000,
                2.0
            )
        );
    }

    #[test]
    fn quick_keeps_every_option_given_on_the_command_line() {
        let cli = planned(&[
            "kms-workshop-bench",
            "--no-moto",
            "--quick",
            "--seconds=5",
            "--rounds=4",
            "--events=50,60",
            "--runs=7",
            "--startup-runs=2",
            "--cleanup-accounts=3",
            "--restart-events=200",
            "--restart-calls=0",
            "--classroom-alone-seconds=9",
        ]);
        assert_eq!(
            shortened(&cli),
            (5.0, 4, vec![50, 60], 7, 2, vec![3], vec![200], 0, 9.0)
        );
    }

    #[test]
    fn without_quick_the_defaults_stand() {
        let cli = planned(&["kms-workshop-bench", "--no-moto"]);
        assert_eq!(
            (cli.seconds, cli.rounds, cli.restart_calls),
            (6.0, 6, 1_000_000)
        );
    }
}
