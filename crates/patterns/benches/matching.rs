//! Matching throughput: one CloudTrail-via-EventBridge event (a KMS `GenerateDataKey` call)
//! against 1, 100 and 1,000 rules. Run with `cargo bench -p kms-workshop-patterns`.
//!
//! The rule sets mix the workshop's rule with rules using every kind of test (exact values,
//! prefix, suffix, anything-but, numeric ranges, wildcards, equals-ignore-case, cidr, exists,
//! `$or`), most of which do not match, as in a real account's rule list.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use kms_workshop_patterns::Pattern;

use kms_workshop_patterns::samples::{event, rule_texts};

fn rules(count: usize) -> Vec<Pattern> {
    rule_texts(count)
        .iter()
        .map(|r| Pattern::parse(r).unwrap())
        .collect()
}

fn main() {
    let event = event();
    println!("matching one CloudTrail-via-EventBridge KMS event (GenerateDataKey)");
    println!();
    println!(
        "{:>6} | {:>7} | {:>12} | {:>10} | {:>8}",
        "rules", "matched", "events/s", "µs/event", "µs/rule"
    );
    println!(
        "{:->6}-+-{:->7}-+-{:->12}-+-{:->10}-+-{:->8}",
        "", "", "", "", ""
    );
    for count in [1usize, 100, 1000] {
        let rules = rules(count);
        let matched = rules.iter().filter(|r| r.matches(&event)).count();
        // Warm up, then run for about a second.
        let budget = Duration::from_millis(1000);
        for _ in 0..10 {
            black_box(
                rules
                    .iter()
                    .filter(|r| r.matches(black_box(&event)))
                    .count(),
            );
        }
        let start = Instant::now();
        let mut events = 0u64;
        while start.elapsed() < budget {
            for _ in 0..16 {
                black_box(
                    rules
                        .iter()
                        .filter(|r| r.matches(black_box(&event)))
                        .count(),
                );
            }
            events += 16;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let per_event_us = elapsed * 1e6 / events as f64;
        println!(
            "{:>6} | {:>7} | {:>12.0} | {:>10.2} | {:>8.3}",
            count,
            matched,
            events as f64 / elapsed,
            per_event_us,
            per_event_us / count as f64
        );
    }
}
