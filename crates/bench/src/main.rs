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
//!
//! Prints a table and writes everything to `target/bench/results.json`.

mod ceiling;
mod cleanup;
mod patterns;
mod startup;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_kms::types::DataKeySpec;
use clap::{Parser, Subcommand};
use kms_workshop_sandbox::services::cloudtrail::events::{attribute_index, NewEvent, Query};
use kms_workshop_sandbox::{seed, Config, Sandbox, Seed};
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    seconds: f64,
    /// Send this many GenerateDataKey requests per cell instead of running for --seconds.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
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
    /// A shorter run (about a minute): 1 s cells, 10,000 and 100,000 events, 3 start-ups,
    /// clean-up of 1 and 10 accounts. Explicit options still apply on top.
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
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(seed::REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            seed::LEARNER_ACCESS_KEY,
            seed::LEARNER_SECRET_KEY,
            None,
            None,
            "kms-workshop-bench",
        ))
        // Every request counts once: a failure is reported, not retried.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

fn sandbox_config() -> Config {
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
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ---------------------------------------------------------------------------------------------
// (a) GenerateDataKey
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct Cell {
    target: String,
    concurrency: usize,
    requests: u64,
    errors: u64,
    seconds: f64,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    first_error: Option<String>,
}

#[derive(Clone, Copy)]
enum Stop {
    After(Duration),
    Count(u64),
}

async fn run_cell(
    target: &str,
    client: &aws_sdk_kms::Client,
    key_id: &str,
    concurrency: usize,
    stop: Stop,
) -> Cell {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let key_id = key_id.to_string();
        let issued = issued.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
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
                    Ok(_) => latencies.push(ms),
                    Err(e) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error =
                                Some(format!("{}", aws_sdk_kms::error::DisplayErrorContext(&e)));
                        }
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        if let Ok((l, e, f)) = t.await {
            latencies.extend(l);
            errors += e;
            first_error = first_error.or(f);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let requests = latencies.len() as u64;
    Cell {
        target: target.to_string(),
        concurrency,
        requests,
        errors,
        seconds,
        requests_per_second: requests as f64 / seconds,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        first_error,
    }
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

async fn measure_target(
    target: &str,
    endpoint: &str,
    concurrency: &[usize],
    stop: Stop,
) -> Result<Vec<Cell>> {
    let client = aws_sdk_kms::Client::new(&sdk_config(endpoint).await);
    let key = client
        .create_key()
        .description("kms-workshop-bench")
        .send()
        .await
        .with_context(|| format!("CreateKey on {target}"))?;
    let key_id = key
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .context("CreateKey answered no KeyMetadata")?;
    // Warm-up: connections, caches, the first-request costs of both sides.
    run_cell(
        target,
        &client,
        &key_id,
        concurrency.iter().copied().max().unwrap_or(1),
        Stop::Count(50),
    )
    .await;
    let mut cells = Vec::new();
    for &c in concurrency {
        let cell = run_cell(target, &client, &key_id, c, stop).await;
        eprintln!(
            "  {target:<8} concurrency {c:>3}: {:>7} requests, {:>9.0} req/s, p50 {:.2} ms, p99 {:.2} ms{}",
            cell.requests,
            cell.requests_per_second,
            cell.p50_ms,
            cell.p99_ms,
            if cell.errors > 0 { format!(", {} errors", cell.errors) } else { String::new() }
        );
        cells.push(cell);
    }
    Ok(cells)
}

// ---------------------------------------------------------------------------------------------
// (b) LookupEvents
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LookupResult {
    events: usize,
    matching: usize,
    mean_record_bytes: usize,
    load_seconds: f64,
    rss_before_mb: f64,
    rss_idle_mb: f64,
    rss_after_load_mb: f64,
    sdk_first_page_ms_median: f64,
    /// The page after the first (via NextToken): a full 50-event page from inside the history.
    sdk_next_page_ms_median: f64,
    sdk_next_page_events: usize,
    sdk_first_page_ms: Vec<f64>,
    in_process_ms_median: f64,
    in_process_ms: Vec<f64>,
}

/// A small deterministic generator, so every run loads the same history.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48 & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// (event name, event source, read-only, weight out of 100)
const EVENT_MIX: &[(&str, &str, bool, u64)] = &[
    ("GenerateDataKey", "kms.amazonaws.com", true, 10),
    ("Decrypt", "kms.amazonaws.com", true, 25),
    ("Encrypt", "kms.amazonaws.com", true, 15),
    ("DescribeKey", "kms.amazonaws.com", true, 15),
    ("ListAliases", "kms.amazonaws.com", true, 8),
    ("ListKeys", "kms.amazonaws.com", true, 7),
    ("GetCallerIdentity", "sts.amazonaws.com", true, 8),
    ("LookupEvents", "cloudtrail.amazonaws.com", true, 7),
    ("TagResource", "kms.amazonaws.com", false, 2),
    ("CreateAlias", "kms.amazonaws.com", false, 2),
    ("ScheduleKeyDeletion", "kms.amazonaws.com", false, 1),
];

struct User {
    name: String,
    access_key: String,
    role: bool,
}

fn users() -> Vec<User> {
    let mut u = vec![
        User {
            name: seed::LEARNER_USER.into(),
            access_key: seed::LEARNER_ACCESS_KEY.into(),
            role: false,
        },
        User {
            name: seed::INSTANCE_ID.into(),
            access_key: seed::INSTANCE_ACCESS_KEY.into(),
            role: true,
        },
    ];
    for i in 0..10 {
        u.push(User {
            name: format!("learner-{i:02}"),
            access_key: format!("AKIABENCHLEARNER{i:04}"),
            role: false,
        });
    }
    u
}

/// A CloudTrail record like the sandbox's recorder writes (about 1 KB).
#[allow(clippy::too_many_arguments)]
fn record(
    rng: &mut XorShift,
    name: &str,
    source: &str,
    read_only: bool,
    user: &User,
    key_arn: &str,
    time_ms: i64,
    event_id: &str,
) -> String {
    let account = seed::ACCOUNT;
    let identity = if user.role {
        json!({
            "type": "AssumedRole",
            "principalId": format!("AROAWORKSHOPINSTANCE1:{}", user.name),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{}/{}", seed::INSTANCE_ROLE, user.name),
            "accountId": account,
            "accessKeyId": user.access_key,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAWORKSHOPINSTANCE1", "arn": format!("arn:aws:iam::{account}:role/{}", seed::INSTANCE_ROLE), "accountId": account, "userName": seed::INSTANCE_ROLE},
                "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0"
            }
        })
    } else {
        json!({
            "type": "IAMUser",
            "principalId": "AIDAWORKSHOPLEARNER01",
            "arn": format!("arn:aws:iam::{account}:user/{}", user.name),
            "accountId": account,
            "accessKeyId": user.access_key,
            "userName": user.name,
        })
    };
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let event_time = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let kms = source == "kms.amazonaws.com";
    let request = if kms {
        json!({"keyId": "alias/ImportedCMK", "keySpec": "AES_256", "encryptionContext": {"project": "workshop"}})
    } else {
        serde_json::Value::Null
    };
    let mut r = json!({
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventTime": event_time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": seed::REGION,
        "sourceIPAddress": format!("203.0.113.{}", rng.next() % 250 + 1),
        "userAgent": "aws-cli/1.45.11 md/Botocore#1.46.11 ua/2.1 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/b,Z cfg/retry-mode#legacy botocore/1.46.11",
        "requestParameters": request,
        "responseElements": serde_json::Value::Null,
        "requestID": rng.uuid(),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{}.{}.amazonaws.com", source.split('.').next().unwrap_or("kms"), seed::REGION)}
    });
    if kms {
        r["resources"] = json!([{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}]);
    }
    r.to_string()
}

/// Append `n` synthetic events spread evenly over the last 89 days; returns (matching
/// GenerateDataKey events, mean record size).
fn load(sb: &Sandbox, n: usize) -> (usize, usize) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let users = users();
    let keys: Vec<String> = (0..4)
        .map(|_| {
            format!(
                "arn:aws:kms:{}:{}:key/{}",
                seed::REGION,
                seed::ACCOUNT,
                rng.uuid()
            )
        })
        .collect();
    let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
    let span_ms: i64 = 89 * 86_400_000;
    let start_ms = now_ms - span_ms;
    let step = span_ms / (n.max(1) as i64);
    let (mut matching, mut bytes) = (0usize, 0usize);
    for i in 0..n {
        let t = start_ms + step * i as i64;
        let mut pick = rng.next() % 100;
        let &(name, source, read_only, _) = EVENT_MIX
            .iter()
            .find(|(_, _, _, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(&EVENT_MIX[0]);
        let user = &users[(rng.next() % users.len() as u64) as usize];
        let key = &keys[(rng.next() % keys.len() as u64) as usize];
        let event_id = rng.uuid();
        let rec = record(&mut rng, name, source, read_only, user, key, t, &event_id);
        bytes += rec.len();
        matching += usize::from(name == "GenerateDataKey");
        let resources = if source == "kms.amazonaws.com" {
            vec![("AWS::KMS::Key".to_string(), key.clone())]
        } else {
            Vec::new()
        };
        let new = NewEvent {
            event_id,
            event_name: name.to_string(),
            event_source: source.to_string(),
            username: user.name.clone(),
            access_key_id: user.access_key.clone(),
            read_only,
            resources,
        };
        sb.events
            .append(seed::ACCOUNT, seed::REGION, new, || (t, t), |_| rec, |_| {});
    }
    (matching, bytes / n.max(1))
}

async fn lookup_worker(events: usize, runs: usize) -> Result<LookupResult> {
    let rss_before = rss_kb().unwrap_or(0);
    let sb = Sandbox::open(sandbox_config()).context("opening a sandbox")?;
    let rss_idle = rss_kb().unwrap_or(0);
    let started = Instant::now();
    let (matching, mean_record_bytes) = load(&sb, events);
    let load_seconds = started.elapsed().as_secs_f64();
    let rss_after = rss_kb().unwrap_or(0);

    let running = kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse()?).await?;
    let client = aws_sdk_cloudtrail::Client::new(&sdk_config(&running.endpoint()).await);
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value("GenerateDataKey")
        .build()?;
    let page = || {
        client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .max_results(50)
            .send()
    };
    // Warm-up (connection, first-use costs), and a check that the page is full.
    let first = page().await.context("LookupEvents")?;
    if events >= 1000 && first.events().len() != 50 {
        bail!(
            "LookupEvents returned {} events, expected a full page of 50",
            first.events().len()
        );
    }
    let mut sdk_ms = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = page().await.context("LookupEvents")?;
        sdk_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(out);
    }
    let token = first.next_token().map(str::to_string);
    let mut next_ms = Vec::new();
    let mut next_events = 0;
    if let Some(token) = &token {
        for _ in 0..runs {
            let t = Instant::now();
            let out = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .max_results(50)
                .next_token(token)
                .send()
                .await
                .context("LookupEvents (next page)")?;
            next_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            next_events = out.events().len();
        }
    }
    let idx = attribute_index("EventName").context("EventName is a lookup attribute")?;
    let mut in_process_ms = Vec::new();
    for _ in 0..runs {
        let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        let q = Query {
            attribute: Some((idx, "GenerateDataKey".into())),
            start_ms: now_ms - 90 * 86_400_000,
            end_ms: i64::MAX,
            now_ms,
            max: 50,
            before: None,
        };
        let t = Instant::now();
        let found = sb.events.lookup(seed::ACCOUNT, seed::REGION, &q);
        in_process_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(found);
    }
    running.shutdown().await;
    Ok(LookupResult {
        events,
        matching,
        mean_record_bytes,
        load_seconds,
        rss_before_mb: rss_before as f64 / 1024.0,
        rss_idle_mb: rss_idle as f64 / 1024.0,
        rss_after_load_mb: rss_after as f64 / 1024.0,
        sdk_next_page_ms_median: median(&next_ms),
        sdk_next_page_events: next_events,
        sdk_first_page_ms_median: median(&sdk_ms),
        sdk_first_page_ms: sdk_ms,
        in_process_ms_median: median(&in_process_ms),
        in_process_ms,
    })
}

/// Run one history size in a child process (its own heap, so VmRSS is its own).
fn lookup_in_child(events: usize, runs: usize) -> Result<LookupResult> {
    let exe = std::env::current_exe().context("finding this program")?;
    let out = Command::new(exe)
        .args([
            "lookup-worker",
            "--events",
            &events.to_string(),
            "--runs",
            &runs.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("running the LookupEvents worker")?;
    if !out.status.success() {
        bail!(
            "the LookupEvents worker for {events} events failed ({})",
            out.status
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().context("the worker printed nothing")?;
    serde_json::from_str(line).context("the worker's result")
}

// ---------------------------------------------------------------------------------------------

fn print_generate(cells: &[Cell], stop: Stop) {
    let how = match stop {
        Stop::After(d) => format!("{:.1} s per cell", d.as_secs_f64()),
        Stop::Count(n) => format!("{n} requests per cell"),
    };
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
}

/// Per concurrency: the sandbox against `peer` ("moto" or "ceiling").
fn ratios(cells: &[Cell], peer: &str) -> Vec<serde_json::Value> {
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
            }));
        }
    }
    out
}

async fn bench(mut cli: Cli) -> Result<()> {
    let root = workspace_root();
    if cli.quick {
        cli.seconds = 1.0;
        cli.events = vec![10_000, 100_000];
        cli.runs = 3;
        cli.startup_runs = 3;
        cli.cleanup_accounts = vec![1, 10];
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
    println!(
        "kms-workshop-bench: {cpus} CPUs, {} build; sandbox in-process (memory state, CloudTrail recording on)",
        if cfg!(debug_assertions) { "DEBUG (numbers are not meaningful)" } else { "release" }
    );

    let mut cells = Vec::new();
    let mut moto_ver = None;
    if !cli.skip_generate {
        eprintln!("(a) GenerateDataKey …");
        let sb = Sandbox::open(sandbox_config()).context("opening a sandbox")?;
        let running = kms_workshop_sandbox::serve(sb, "127.0.0.1:0".parse()?).await?;
        let sandbox_cells =
            measure_target("sandbox", &running.endpoint(), &cli.concurrency, stop).await?;
        running.shutdown().await;
        let moto_cells = if use_moto {
            moto_ver = moto_version(&moto_bin);
            let moto = Moto::start(&moto_bin)?;
            let cells = measure_target("moto", &moto.endpoint, &cli.concurrency, stop).await?;
            drop(moto);
            cells
        } else {
            Vec::new()
        };
        let ceiling = ceiling::start().await?;
        let ceiling_cells =
            measure_target("ceiling", &ceiling.endpoint, &cli.concurrency, stop).await?;
        drop(ceiling);
        // Side by side: each concurrency's sandbox row next to its moto row.
        for &c in &cli.concurrency {
            cells.extend(sandbox_cells.iter().filter(|x| x.concurrency == c).cloned());
            cells.extend(moto_cells.iter().filter(|x| x.concurrency == c).cloned());
            cells.extend(ceiling_cells.iter().filter(|x| x.concurrency == c).cloned());
        }
    }

    let mut lookups = Vec::new();
    if !cli.skip_lookup {
        eprintln!("(b) LookupEvents …");
        for &n in &cli.events {
            let r = lookup_in_child(n, cli.runs)?;
            eprintln!(
                "  {n:>9} events: loaded in {:.1} s, RSS {:.0} MB, SDK {:.2} ms, in-process {:.3} ms",
                r.load_seconds, r.rss_after_load_mb, r.sdk_first_page_ms_median, r.in_process_ms_median
            );
            lookups.push(r);
        }
    }

    let mut startups = Vec::new();
    if !cli.skip_startup {
        eprintln!("(d) start-up …");
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let workshop_bin = cli
            .workshop_bin
            .clone()
            .unwrap_or_else(|| target_dir.join("release/kms-workshop"));
        if !workshop_bin.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p kms-workshop` (scripts/bench does), pass --workshop-bin PATH, or --skip-startup",
                workshop_bin.display()
            );
        }
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
        if use_moto || (!cli.no_moto && moto_bin.exists()) {
            let r = startup::measure(
                "moto",
                &moto_bin,
                &["-H", "127.0.0.1", "-p", "{port}"],
                cli.startup_runs,
            )?;
            eprintln!(
                "  moto: {:.0} ms, idle RSS {:.0} MB",
                r.median_ms, r.idle_rss_mb
            );
            startups.push(r);
        }
    }

    let mut matching = Vec::new();
    if !cli.skip_patterns {
        eprintln!("(e) pattern engine …");
        let budget = Duration::from_secs_f64(if cli.quick { 0.3 } else { 1.0 });
        let counts = [1usize, 100, 1000];
        let ours = counts
            .iter()
            .map(|&c| patterns::measure_ours(c, budget))
            .collect::<Result<Vec<_>>>()?;
        let theirs = if !cli.no_moto && moto_bin.exists() {
            patterns::measure_moto(&moto_bin, &counts, budget)?
        } else {
            Vec::new()
        };
        for c in counts {
            matching.extend(ours.iter().filter(|t| t.rules == c).cloned());
            matching.extend(theirs.iter().filter(|t| t.rules == c).cloned());
        }
    }

    let mut cleanups = Vec::new();
    if !cli.skip_cleanup {
        eprintln!("(f) classroom clean-up …");
        if !(cli.time_scale.is_finite() && cli.time_scale > 0.0) {
            bail!("--time-scale must be a positive number");
        }
        for &n in &cli.cleanup_accounts {
            let r = cleanup::measure(n, cli.cleanup_parallel, cli.time_scale).await?;
            eprintln!(
                "  {n:>3} accounts: {:.1} s wall (slowest account {:.1} s), {} changed, {} failures, {} remaining",
                r.wall_seconds, r.slowest_account_seconds, r.actions_changed, r.failures, r.remaining
            );
            cleanups.push(r);
        }
    }

    if !cells.is_empty() {
        print_generate(&cells, stop);
        for r in ratios(&cells, "moto")
            .into_iter()
            .chain(ratios(&cells, "ceiling"))
        {
            println!(
                "sandbox/{:<7} at concurrency {:>2}: throughput x{:.2}, p50 latency x{:.2}, p99 latency x{:.2}",
                r["peer"].as_str().unwrap_or(""),
                r["concurrency"],
                r["throughput_sandbox_over_peer"].as_f64().unwrap_or(f64::NAN),
                r["p50_latency_sandbox_over_peer"].as_f64().unwrap_or(f64::NAN),
                r["p99_latency_sandbox_over_peer"].as_f64().unwrap_or(f64::NAN),
            );
        }
        if let Some(v) = &moto_ver {
            println!("(moto {v}, moto_server on 127.0.0.1)");
        }
    }
    if !lookups.is_empty() {
        println!(
            "\n(b) LookupEvents EventName=GenerateDataKey, first page (MaxResults 50), median of {} runs",
            cli.runs
        );
        println!(
            "{:>10} {:>9} {:>9} {:>7} {:>8} {:>14} {:>13} {:>14}",
            "events",
            "matching",
            "record B",
            "load s",
            "RSS MB",
            "1st page ms",
            "next page ms",
            "in-process ms"
        );
        for r in &lookups {
            println!(
                "{:>10} {:>9} {:>9} {:>7.1} {:>8.0} {:>14.2} {:>13.2} {:>14.3}",
                r.events,
                r.matching,
                r.mean_record_bytes,
                r.load_seconds,
                r.rss_after_load_mb,
                r.sdk_first_page_ms_median,
                r.sdk_next_page_ms_median,
                r.in_process_ms_median
            );
        }
        println!(
            "(RSS: VmRSS of a fresh process after loading; {:.0} MB before the sandbox, {:.0} MB with an idle empty sandbox)",
            lookups[0].rss_before_mb, lookups[0].rss_idle_mb
        );
    }

    if !startups.is_empty() {
        println!(
            "\n(d) Start-up: process start to first answered request, median of {} starts",
            cli.startup_runs
        );
        println!("{:<10} {:>10} {:>14}", "server", "median ms", "idle RSS MB");
        for r in &startups {
            println!(
                "{:<10} {:>10.0} {:>14.0}",
                r.target, r.median_ms, r.idle_rss_mb
            );
        }
        if let [s, m] = &startups[..] {
            println!(
                "sandbox/moto: start-up time x{:.2}, idle memory x{:.2}",
                s.median_ms / m.median_ms,
                s.idle_rss_mb / m.idle_rss_mb
            );
        }
    }
    let pattern_ratios: Vec<serde_json::Value> = matching
        .iter()
        .filter(|t| t.target == "sandbox")
        .filter_map(|s| {
            let m = matching.iter().find(|t| t.target == "moto" && t.rules == s.rules)?;
            Some(json!({"rules": s.rules, "throughput_sandbox_over_moto": s.events_per_second / m.events_per_second}))
        })
        .collect();
    if !matching.is_empty() {
        println!("\n(e) Pattern engine: one CloudTrail-via-EventBridge event against N rules");
        println!(
            "{:<10} {:>6} {:>8} {:>8} {:>14}",
            "matcher", "rules", "loaded", "matched", "events/s"
        );
        for t in &matching {
            println!(
                "{:<10} {:>6} {:>8} {:>8} {:>14.0}",
                t.target, t.rules, t.rules_loaded, t.matched, t.events_per_second
            );
        }
        for r in &pattern_ratios {
            println!(
                "sandbox/moto with {:>4} rules: throughput x{:.0}",
                r["rules"],
                r["throughput_sandbox_over_moto"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
            );
        }
    }
    if !cleanups.is_empty() {
        let single = cleanups
            .iter()
            .find(|r| r.accounts == 1)
            .map(|r| r.wall_seconds);
        println!(
            "\n(f) Classroom clean-up, realistic latency / {}, {} accounts at once",
            cli.time_scale, cli.cleanup_parallel
        );
        println!(
            "{:>8} {:>8} {:>10} {:>14} {:>16} {:>8} {:>8} {:>9}",
            "accounts",
            "seed s",
            "wall s",
            "slowest acct s",
            "wall/1-account",
            "changed",
            "failed",
            "remaining"
        );
        for r in &cleanups {
            println!(
                "{:>8} {:>8.1} {:>10.2} {:>14.2} {:>16} {:>8} {:>8} {:>9}",
                r.accounts,
                r.seed_seconds,
                r.wall_seconds,
                r.slowest_account_seconds,
                single.map_or("-".to_string(), |s| format!("x{:.2}", r.wall_seconds / s)),
                r.actions_changed,
                r.failures,
                r.remaining
            );
        }
    }

    let results = json!({
        "machine": {"cpus": cpus, "os": std::env::consts::OS, "arch": std::env::consts::ARCH},
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "generate_data_key": {
            "stop": match stop { Stop::After(d) => json!({"seconds": d.as_secs_f64()}), Stop::Count(n) => json!({"requests": n}) },
            "moto_version": moto_ver,
            "cells": cells,
            "ratios_moto": ratios(&cells, "moto"),
            "ratios_ceiling": ratios(&cells, "ceiling"),
        },
        "lookup_events": {
            "attribute": "EventName=GenerateDataKey",
            "max_results": 50,
            "runs": cli.runs,
            "results": lookups,
        },
        "startup": startups,
        "patterns": {"results": matching, "ratios": pattern_ratios},
        "cleanup": {
            "time_scale": cli.time_scale,
            "parallel": cli.cleanup_parallel,
            "runs": cleanups,
            "ratios": cleanups.iter().filter_map(|r| {
                let single = cleanups.iter().find(|x| x.accounts == 1)?.wall_seconds;
                Some(json!({"accounts": r.accounts, "wall_over_single_account": r.wall_seconds / single}))
            }).collect::<Vec<_>>(),
        },
    });
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&output, serde_json::to_string_pretty(&results)? + "\n")
        .with_context(|| format!("writing {}", output.display()))?;
    println!("\nresults: {}", output.display());
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.worker {
        Some(Worker::LookupWorker { events, runs }) => {
            let r = rt.block_on(lookup_worker(events, runs))?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        None => rt.block_on(bench(cli)),
    }
}
