//! (b) `LookupEvents` filtered by `EventName` over large stored histories: synthetic records of
//! about 1 KB bulk-loaded with `EventStore::append`, then the first page (`MaxResults` 50)
//! through aws-sdk-cloudtrail over HTTP and the in-process `EventStore::lookup`, and the
//! resident memory after loading. Each history size runs in a fresh child process
//! ([`in_child`]), so its memory figure is its own.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use kms_workshop_names::IMPORTED_ALIAS;
use kms_workshop_sandbox::services::cloudtrail::events::{attribute_index, Query};
use kms_workshop_sandbox::services::cloudtrail::events::{
    record::Members, NewEvent, Record, Written,
};
use kms_workshop_sandbox::{seed, Sandbox};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{median, rss_kb, sandbox_config, sdk_config};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupResult {
    pub events: usize,
    pub matching: usize,
    pub mean_record_bytes: usize,
    pub load_seconds: f64,
    pub rss_before_mb: f64,
    pub rss_idle_mb: f64,
    pub rss_after_load_mb: f64,
    pub sdk_first_page_ms_median: f64,
    /// The page after the first (via NextToken): a full 50-event page from inside the history.
    pub sdk_next_page_ms_median: f64,
    pub sdk_next_page_events: usize,
    pub sdk_first_page_ms: Vec<f64>,
    pub in_process_ms_median: f64,
    pub in_process_ms: Vec<f64>,
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

/// A CloudTrail record like the sandbox's recorder builds (about 1.2 KB as JSON text).
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
) -> serde_json::Value {
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
        json!({"keyId": IMPORTED_ALIAS, "keySpec": "AES_256", "encryptionContext": {"project": "workshop"}})
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
    r
}

/// Append `n` synthetic events spread evenly over the last 89 days (written to the sandbox's
/// state directory when `persist`); returns (matching GenerateDataKey events, mean record size).
pub fn load(sb: &Sandbox, n: usize, persist: bool) -> (usize, usize) {
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
        // Measured on every 64th record: writing each one out only to count it would double
        // the loading time.
        if i % 64 == 0 {
            bytes += rec.to_string().len();
        }
        matching += usize::from(name == "GenerateDataKey");
        let resources = if source == "kms.amazonaws.com" {
            vec![("AWS::KMS::Key".into(), key.as_str().into())]
        } else {
            Vec::new()
        };
        let members = match &rec {
            serde_json::Value::Object(m) => Members::of_map(m),
            _ => Members::default(),
        };
        let new = NewEvent {
            event_id: event_id.into(),
            event_name: name.into(),
            event_source: source.into(),
            username: user.name.as_str().into(),
            access_key_id: user.access_key.as_str().into(),
            read_only,
            resources,
        };
        sb.events().append(
            seed::ACCOUNT,
            seed::REGION,
            new,
            (t, t),
            |_| Record::Members(members.clone()),
            |frame| !persist || sb.persist_event(frame),
            Written::Now,
        );
    }
    (matching, bytes / n.div_ceil(64).max(1))
}

/// The timings of the LookupEvents page through the SDK, over HTTP: the first page `runs`
/// times (after a warm-up), then the page after it; (first page ms, next page ms, events on
/// the next page).
async fn sdk_timings(
    endpoint: &str,
    events: usize,
    runs: usize,
) -> Result<(Vec<f64>, Vec<f64>, usize)> {
    let client = aws_sdk_cloudtrail::Client::new(&sdk_config(endpoint).await);
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value("GenerateDataKey")
        .build()?;
    let page = |token: Option<&str>| {
        client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .max_results(50)
            .set_next_token(token.map(str::to_string))
            .send()
    };
    // Warm-up (connection, first-use costs), and a check that the page is full.
    let first = page(None).await.context("LookupEvents")?;
    if events >= 1000 && first.events().len() != 50 {
        bail!(
            "LookupEvents returned {} events, expected a full page of 50",
            first.events().len()
        );
    }
    let mut sdk_ms = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = page(None).await.context("LookupEvents")?;
        sdk_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(out);
    }
    let mut next_ms = Vec::new();
    let mut next_events = 0;
    if let Some(token) = first.next_token() {
        for _ in 0..runs {
            let t = Instant::now();
            let out = page(Some(token))
                .await
                .context("LookupEvents (next page)")?;
            next_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            next_events = out.events().len();
        }
    }
    Ok((sdk_ms, next_ms, next_events))
}

/// The timings of the same lookup in process, `runs` times (ms).
fn in_process_timings(sb: &Sandbox, runs: usize) -> Result<Vec<f64>> {
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
        let found = sb.events().lookup(seed::ACCOUNT, seed::REGION, &q);
        in_process_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(found);
    }
    Ok(in_process_ms)
}

/// One history size, measured in this (fresh) process.
pub async fn worker(events: usize, runs: usize) -> Result<LookupResult> {
    let rss_before = rss_kb().unwrap_or(0);
    let sb = Sandbox::open(sandbox_config()).context("opening a sandbox")?;
    let rss_idle = rss_kb().unwrap_or(0);
    let started = Instant::now();
    let (matching, mean_record_bytes) = load(&sb, events, false);
    let load_seconds = started.elapsed().as_secs_f64();
    let rss_after = rss_kb().unwrap_or(0);

    let running = kms_workshop_testkit::serve(&sb).await;
    let (sdk_ms, next_ms, next_events) = sdk_timings(&running.endpoint(), events, runs).await?;
    let in_process_ms = in_process_timings(&sb, runs)?;
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
fn in_child(events: usize, runs: usize) -> Result<LookupResult> {
    let (events, runs) = (events.to_string(), runs.to_string());
    crate::worker(
        &["lookup-worker", "--events", &events, "--runs", &runs],
        "the LookupEvents worker",
    )
}

/// Each history size of `events`, each in a child process.
pub fn run(events: &[usize], runs: usize) -> Result<Vec<LookupResult>> {
    let mut lookups = Vec::new();
    for &n in events {
        let r = in_child(n, runs)?;
        eprintln!(
            "  {n:>9} events: loaded in {:.1} s, RSS {:.0} MB, SDK {:.2} ms, in-process {:.3} ms",
            r.load_seconds, r.rss_after_load_mb, r.sdk_first_page_ms_median, r.in_process_ms_median
        );
        lookups.push(r);
    }
    Ok(lookups)
}

/// The table of (b).
pub fn print(lookups: &[LookupResult], runs: usize) {
    println!(
        "\n(b) LookupEvents EventName=GenerateDataKey, first page (MaxResults 50), median of {} runs",
        runs
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
    for r in lookups {
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
