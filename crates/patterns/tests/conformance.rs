//! Runs every EventBridge pattern case recorded against the real `TestEventPattern` API and
//! fails listing each case that does not behave as AWS did.
//!
//! The 156 cases live in `tests/eventbridge-patterns/` of this crate (with their licence and
//! provenance in its README): `<name>.json5` must match, `<name>_NEG.json5` must be valid but not
//! match, `<name>_EXC.json5` must be rejected with exactly the message AWS gave
//! (from `aws-responses.snapshot.json`).

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::PathBuf;

use kms_workshop_patterns::Pattern;
use serde_json::Value;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/eventbridge-patterns")
}

/// AWS's message for an `_EXC` case, from the snapshot.
fn recorded_message(snapshot: &Value, case: &str) -> Option<String> {
    let suffix = format!("test_event_pattern[{case}]");
    let (_, entry) = snapshot
        .as_object()?
        .iter()
        .find(|(key, _)| key.ends_with(&suffix))?;
    entry
        .pointer(&format!(
            "/recorded-content/{case}/exception_message/Error/Message"
        ))?
        .as_str()
        .map(str::to_owned)
}

enum Expect {
    Match,
    NoMatch,
    Reject(String),
}

fn check(
    name: &str,
    pattern: Result<Pattern, String>,
    event: &Value,
    expect: &Expect,
) -> Option<String> {
    match (expect, pattern) {
        (Expect::Reject(want), Err(got)) if *want == got => None,
        (Expect::Reject(want), Err(got)) => {
            Some(format!("{name}: rejected with {got:?}, AWS said {want:?}"))
        }
        (Expect::Reject(want), Ok(_)) => {
            Some(format!("{name}: accepted, AWS rejected it with {want:?}"))
        }
        (_, Err(got)) => Some(format!("{name}: rejected with {got:?}, AWS accepted it")),
        (Expect::Match, Ok(p)) if p.matches(event) => None,
        (Expect::Match, Ok(_)) => Some(format!("{name}: no match, AWS matched")),
        (Expect::NoMatch, Ok(p)) if !p.matches(event) => None,
        (Expect::NoMatch, Ok(_)) => Some(format!("{name}: matched, AWS did not")),
    }
}

#[test]
fn every_recorded_case_behaves_as_aws_did() {
    let dir = cases_dir();
    let snapshot: Value = serde_json::from_str(
        &fs::read_to_string(dir.join("aws-responses.snapshot.json"))
            .unwrap_or_else(|e| panic!("reading the snapshot in {}: {e}", dir.display())),
    )
    .unwrap();

    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|file| file.strip_suffix(".json5").map(str::to_owned))
        .collect();
    names.sort();

    let mut failures = Vec::new();
    let mut passed = 0;
    for name in &names {
        let text = fs::read_to_string(dir.join(format!("{name}.json5"))).unwrap();
        let case: Value = match json5::from_str(&text) {
            Ok(case) => case,
            Err(e) => {
                failures.push(format!("{name}: unreadable case file: {e}"));
                continue;
            }
        };
        let event = &case["Event"];
        let pattern = match &case["EventPattern"] {
            Value::String(text) => Pattern::parse(text),
            other => Pattern::from_value(other),
        }
        .map_err(|e| e.message().to_owned());
        let expect = if name.ends_with("_EXC") {
            match recorded_message(&snapshot, name) {
                Some(message) => Expect::Reject(message),
                None => {
                    failures.push(format!("{name}: no recorded message in the snapshot"));
                    continue;
                }
            }
        } else if name.ends_with("_NEG") {
            Expect::NoMatch
        } else {
            Expect::Match
        };
        match check(name, pattern, event, &expect) {
            None => passed += 1,
            Some(failure) => failures.push(failure),
        }
    }

    // The extra large case: an event and a pattern (with a repeated key) that match.
    let event: Value = serde_json::from_str(
        &fs::read_to_string(dir.join("complex_multi_key_event.json")).unwrap(),
    )
    .unwrap();
    let pattern_text =
        fs::read_to_string(dir.join("complex_multi_key_event_pattern.json")).unwrap();
    match check(
        "complex_multi_key_event",
        Pattern::parse(&pattern_text).map_err(|e| e.message().to_owned()),
        &event,
        &Expect::Match,
    ) {
        None => passed += 1,
        Some(failure) => failures.push(failure),
    }

    // Snapshot entries with no case file (the snapshot also records `exists_list_empty`, whose
    // file is named `exists_list_empty_NEG`): reported, not run.
    let orphans: Vec<&str> = snapshot
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|key| key.split("::test_event_pattern[").nth(1)?.strip_suffix(']'))
        .filter(|case| !names.iter().any(|n| n == case))
        .collect();
    println!(
        "{passed} of {} conformance cases behave as AWS did",
        names.len() + 1
    );
    if !orphans.is_empty() {
        println!(
            "snapshot entries without a case file (not run): {}",
            orphans.join(", ")
        );
    }
    // 155 case files and the extra large case: all 156 must have run.
    assert_eq!(
        names.len() + 1,
        156,
        "expected the 155 .json5 cases in {} and the extra large one",
        dir.display()
    );
    assert_eq!(
        passed + failures.len(),
        156,
        "every case is either passed or listed as a failure"
    );
    assert!(
        failures.is_empty(),
        "{} case(s) differ from AWS:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
