//! The steps file and the steps' code agree: every step and criterion the code can report
//! has its text in `monitoring.toml`, and everything the file lists is reported by some step.

use std::collections::BTreeSet;

use super::{AnyStep, ALL};
use crate::run::text::{steps, StepText};

/// Every disagreement between the file's steps and criteria and the code's, in words.
fn mismatches(text: &[StepText], code: &[&dyn AnyStep]) -> Vec<String> {
    let mut out = Vec::new();
    let file_order: Vec<&str> = text.iter().map(|s| s.id.as_str()).collect();
    let code_order: Vec<&str> = code.iter().map(|s| s.id()).collect();
    if file_order != code_order {
        out.push(format!(
            "steps in the file {file_order:?} differ from the code's {code_order:?}"
        ));
    }
    for step in code {
        let Some(t) = text.iter().find(|t| t.id == step.id()) else {
            out.push(format!("step '{}' has no text in the file", step.id()));
            continue;
        };
        let in_code: Vec<&str> = step.criteria();
        let in_file: Vec<&str> = t.verify.iter().map(|c| c.id.as_str()).collect();
        for id in &in_code {
            if !in_file.contains(id) {
                out.push(format!(
                    "criterion '{id}' of step '{}' has no text in the file",
                    step.id()
                ));
            }
        }
        for id in &in_file {
            if !in_code.contains(id) {
                out.push(format!(
                    "criterion '{id}' of step '{}' is in the file but no code reports it",
                    step.id()
                ));
            }
        }
        let unique: BTreeSet<&str> = in_file.iter().copied().collect();
        if unique.len() != in_file.len() {
            out.push(format!("step '{}' lists a criterion twice", step.id()));
        }
    }
    for t in text {
        if !code.iter().any(|s| s.id() == t.id) {
            out.push(format!("step '{}' in the file has no code", t.id));
        }
    }
    out
}

#[test]
fn the_steps_file_and_the_code_name_the_same_steps_and_criteria() {
    let text = steps().expect("steps file");
    assert_eq!(mismatches(&text, &ALL), Vec::<String>::new());
}

#[test]
fn a_criterion_missing_from_the_file_is_caught() {
    let mut text = steps().expect("steps file");
    let rule = text
        .iter_mut()
        .find(|s| s.id == "eventbridge-rule")
        .expect("rule step");
    rule.verify.retain(|c| c.id != "notified");
    let found = mismatches(&text, &ALL);
    assert_eq!(
        found,
        ["criterion 'notified' of step 'eventbridge-rule' has no text in the file"]
    );
}

#[test]
fn a_criterion_no_step_reports_is_caught() {
    let mut text = steps().expect("steps file");
    let mut extra = text[0].verify[0].clone();
    extra.id = "made-up".into();
    text[0].verify.push(extra);
    let found = mismatches(&text, &ALL);
    assert_eq!(
        found,
        ["criterion 'made-up' of step 'generate-data-key' is in the file but no code reports it"]
    );
}

#[test]
fn a_step_without_code_or_text_is_caught() {
    let mut text = steps().expect("steps file");
    text.retain(|s| s.id != "cleanup");
    let found = mismatches(&text, &ALL);
    assert!(
        found
            .iter()
            .any(|m| m == "step 'cleanup' has no text in the file"),
        "{found:?}"
    );
    let found = mismatches(&steps().expect("steps file"), &ALL[..5]);
    assert!(
        found
            .iter()
            .any(|m| m == "step 'cleanup' in the file has no code"),
        "{found:?}"
    );
}
