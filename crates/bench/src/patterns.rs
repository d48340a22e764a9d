//! Pattern engine throughput: one CloudTrail-via-EventBridge event (a KMS `GenerateDataKey`
//! call) matched against 1, 100 and 1,000 rules, with `kms-workshop-patterns` in process and,
//! side by side, with moto's `EventPattern` (the matcher behind moto's EventBridge) in the
//! pinned virtualenv's Python. The rule sets are those of `cargo bench -p kms-workshop-patterns`:
//! the workshop's rule plus rules using every kind of test, most of which do not match.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kms_workshop_patterns::Pattern;
use serde::{Deserialize, Serialize};
use serde_json::json;

use kms_workshop_patterns::samples::{event, rule_texts};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Throughput {
    pub target: String,
    pub rules: usize,
    /// Rules the matcher accepted (moto refuses none here but may not implement every test).
    pub rules_loaded: usize,
    pub matched: usize,
    pub events_per_second: f64,
}

/// Events per second matching every rule against the event, for about `budget`.
pub fn measure_ours(count: usize, budget: Duration) -> Result<Throughput> {
    let event = event();
    let rules = rule_texts(count)
        .iter()
        .map(|t| Pattern::parse(t).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<Result<Vec<_>>>()
        .context("parsing the benchmark's rules")?;
    let matched = rules.iter().filter(|r| r.matches(&event)).count();
    let start = Instant::now();
    let mut events = 0u64;
    while start.elapsed() < budget {
        for _ in 0..8 {
            black_box(
                rules
                    .iter()
                    .filter(|r| r.matches(black_box(&event)))
                    .count(),
            );
        }
        events += 8;
    }
    Ok(Throughput {
        target: "sandbox".into(),
        rules: count,
        rules_loaded: rules.len(),
        matched,
        events_per_second: events as f64 / start.elapsed().as_secs_f64(),
    })
}

const MOTO_SCRIPT: &str = r#"
import json, sys, time
from moto.events.models import EventPattern
spec = json.load(sys.stdin)
event = spec["event"]
out = []
for texts in spec["sets"]:
    rules = []
    for t in texts:
        try:
            rules.append(EventPattern.load(t))
        except Exception:
            pass
    def matches(r):
        try:
            return r.matches_event(event)
        except Exception:
            return False
    matched = sum(1 for r in rules if matches(r))
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < spec["budget"]:
        for r in rules:
            matches(r)
        n += 1
    out.append({"target": "moto", "rules": len(texts), "rules_loaded": len(rules),
                "matched": matched, "events_per_second": n / (time.perf_counter() - start)})
print(json.dumps(out))
"#;

/// The same measurement with moto's matcher, in the virtualenv next to `moto_server`.
pub fn measure_moto(
    moto_server: &Path,
    counts: &[usize],
    budget: Duration,
) -> Result<Vec<Throughput>> {
    let python = moto_server
        .parent()
        .map(|d| d.join("python"))
        .context("moto_server has no directory")?;
    let spec = json!({
        "event": event(),
        "sets": counts.iter().map(|&c| rule_texts(c)).collect::<Vec<_>>(),
        "budget": budget.as_secs_f64(),
    });
    let mut child = Command::new(&python)
        .args(["-c", MOTO_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", python.display()))?;
    child
        .stdin
        .take()
        .context("python's stdin")?
        .write_all(spec.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "moto's pattern matcher failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("moto's pattern results")
}
