//! The tables of (d) start-up, (e) the pattern engine and (f) the classroom clean-up, and the
//! results file with every measurement (each other part prints its own table).

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use crate::cleanup::CleanupRun;
use crate::generate::{self, Cell, Stop};
use crate::lookup::LookupResult;
use crate::patterns::Throughput;
use crate::startup::Startup;

/// The table of (d).
pub fn print_startups(startups: &[Startup], runs: usize) {
    println!(
        "\n(d) Start-up: process start to first answered request, median of {} starts",
        runs
    );
    println!("{:<10} {:>10} {:>14}", "server", "median ms", "idle RSS MB");
    for r in startups {
        println!(
            "{:<10} {:>10.0} {:>14.0}",
            r.target, r.median_ms, r.idle_rss_mb
        );
    }
    if let [s, m] = startups {
        println!(
            "sandbox/moto: start-up time x{:.2}, idle memory x{:.2}",
            s.median_ms / m.median_ms,
            s.idle_rss_mb / m.idle_rss_mb
        );
    }
}

/// Per rule count: the sandbox's matcher against moto's.
pub fn pattern_ratios(matching: &[Throughput]) -> Vec<serde_json::Value> {
    matching
        .iter()
        .filter(|t| t.target == "sandbox")
        .filter_map(|s| {
            let m = matching.iter().find(|t| t.target == "moto" && t.rules == s.rules)?;
            Some(json!({"rules": s.rules, "throughput_sandbox_over_moto": s.events_per_second / m.events_per_second}))
        })
        .collect()
}

/// The table of (e).
pub fn print_patterns(matching: &[Throughput]) {
    println!("\n(e) Pattern engine: one CloudTrail-via-EventBridge event against N rules");
    println!(
        "{:<10} {:>6} {:>8} {:>8} {:>14}",
        "matcher", "rules", "loaded", "matched", "events/s"
    );
    for t in matching {
        println!(
            "{:<10} {:>6} {:>8} {:>8} {:>14.0}",
            t.target, t.rules, t.rules_loaded, t.matched, t.events_per_second
        );
    }
    for r in &pattern_ratios(matching) {
        println!(
            "sandbox/moto with {:>4} rules: throughput x{:.0}",
            r["rules"],
            r["throughput_sandbox_over_moto"]
                .as_f64()
                .unwrap_or(f64::NAN)
        );
    }
}

/// The table of (f): `time_scale` and `parallel` as the runs were made.
pub fn print_cleanups(cleanups: &[CleanupRun], time_scale: f64, parallel: usize) {
    let single = cleanups
        .iter()
        .find(|r| r.accounts == 1)
        .map(|r| r.wall_seconds);
    println!(
        "\n(f) Classroom clean-up, realistic latency / {}, {} accounts at once",
        time_scale, parallel
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
    for r in cleanups {
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

/// Everything measured, as written to the results file.
pub struct Results<'a> {
    pub cpus: usize,
    pub stop: Stop,
    /// The rounds each GenerateDataKey cell was cut into.
    pub rounds: u64,
    pub moto_ver: Option<String>,
    pub cells: &'a [Cell],
    pub runs: usize,
    pub lookups: &'a [LookupResult],
    pub startups: &'a [Startup],
    pub matching: &'a [Throughput],
    pub time_scale: f64,
    pub parallel: usize,
    pub cleanups: &'a [CleanupRun],
    pub prepares: &'a [crate::prepare::PrepareRun],
    pub restarts: &'a [crate::restart::RestartResult],
    pub served: Option<&'a crate::served::ServedRestart>,
    pub classrooms: &'a [crate::classroom::ClassroomRun],
}

/// Write `r` as pretty JSON to `output`.
pub fn write(r: &Results<'_>, output: &Path) -> Result<()> {
    let Results {
        cpus,
        stop,
        rounds,
        cells,
        lookups,
        startups,
        matching,
        cleanups,
        prepares,
        restarts,
        served,
        classrooms,
        ..
    } = *r;
    let moto_startup = startups
        .iter()
        .find(|s| s.target == "moto")
        .map(|s| s.median_ms);
    let results = json!({
        "machine": {"cpus": cpus, "os": std::env::consts::OS, "arch": std::env::consts::ARCH},
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "generate_data_key": {
            "rounds": rounds,
            "stop": match stop { Stop::After(d) => json!({"seconds": d.as_secs_f64()}), Stop::Count(n) => json!({"requests": n}) },
            "moto_version": r.moto_ver,
            "cells": cells,
            "ratios_moto": generate::ratios(cells, "moto"),
            "ratios_ceiling": generate::ratios(cells, "ceiling"),
        },
        "lookup_events": {
            "attribute": "EventName=GenerateDataKey",
            "max_results": 50,
            "runs": r.runs,
            "results": lookups,
        },
        "startup": startups,
        "patterns": {"results": matching, "ratios": pattern_ratios(matching)},
        "cleanup": {
            "time_scale": r.time_scale,
            "parallel": r.parallel,
            "runs": cleanups,
            "ratios": cleanups.iter().filter_map(|c| {
                let single = cleanups.iter().find(|x| x.accounts == 1)?.wall_seconds;
                Some(json!({"accounts": c.accounts, "wall_over_single_account": c.wall_seconds / single}))
            }).collect::<Vec<_>>(),
        },
        "prepare": {
            "runs": prepares,
            "ratios": prepares.iter().filter_map(|c| {
                let single = prepares.iter().find(|x| x.accounts == 1)?.wall_seconds;
                Some(json!({"accounts": c.accounts, "wall_over_single_account": c.wall_seconds / single}))
            }).collect::<Vec<_>>(),
        },
        "restart": {
            "runs": restarts,
            "ratios": restarts.iter().map(|r| json!({
                "events": r.written.events,
                "rss_after_over_before": r.rss_ratio(),
                "history_anon_after_over_before": r.history_ratio(),
                "restart_over_moto_empty_startup": moto_startup.map(|m| r.restart_ms_median / m),
            })).collect::<Vec<_>>(),
            "served": served,
            "served_ratios": served.map(|s| json!({
                "calls": s.calls,
                "rss_after_over_before": s.rss_ratio(),
                "anon_after_over_before": s.anon_ratio(),
            })),
        },
        "classroom": {
            "runs": classrooms,
            "ratios": classrooms.iter().map(|c| json!({
                "learners": c.learners,
                "p50_during_runs_over_alone": c.busy.p50_ms / c.alone.p50_ms,
                "p99_during_runs_over_alone": c.busy.p99_ms / c.alone.p99_ms,
            })).collect::<Vec<_>>(),
        },
    });
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(output, serde_json::to_string_pretty(&results)? + "\n")
        .with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}
