//! `kms-workshop status` and `kms-workshop reset`: read and forget the guided run's progress.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;

use super::state::{self, Progress};
use super::{text, usage};

/// `kms-workshop status`.
pub fn status(state: Option<PathBuf>, json: bool) -> Result<()> {
    let path = state
        .or_else(state::default_path)
        .ok_or_else(|| usage("no data directory (HOME is unset): give --state FILE"))?;
    let p = Progress::load(&path).map_err(|e| usage(e.to_string()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(());
    }
    println!("Progress file: {}", path.display());
    match &p.target {
        Some(t) => println!(
            "Target: {} account {} in {}{}",
            t.kind.describe(),
            t.account,
            t.region,
            t.endpoint
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
        None => println!("Not started: `kms-workshop run` begins."),
    }
    let all = text::steps().map_err(|e| anyhow::anyhow!(e))?;
    for (i, s) in all.iter().enumerate() {
        let st = p
            .steps
            .get(&s.id)
            .map(|r| r.status.as_str())
            .unwrap_or("to do");
        let here = if p.current.as_deref() == Some(s.id.as_str()) {
            "  ← next"
        } else {
            ""
        };
        println!("  {}. {:<48} {st}{here}", i + 1, s.title);
    }
    println!("Created by the run ({}):", p.inventory.items.len());
    for item in &p.inventory.items {
        println!(
            "  {:<26} {}  ({}, step {})",
            item.kind.as_str(),
            item.arn,
            item.region,
            item.step.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

/// `kms-workshop reset [STEP | --all]`.
pub fn reset(state: Option<PathBuf>, step: Option<String>, all: bool, yes: bool) -> Result<()> {
    let path = state
        .or_else(state::default_path)
        .ok_or_else(|| usage("no data directory (HOME is unset): give --state FILE"))?;
    let ids: Vec<String> = text::steps()
        .map_err(|e| anyhow::anyhow!(e))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let what = match (&step, all) {
        (Some(_), true) | (None, false) => {
            return Err(usage(format!(
                "give one step to forget, or --all; steps: {}",
                ids.join(", ")
            )))
        }
        (Some(s), false) if !ids.contains(s) => {
            return Err(usage(format!(
                "unknown step '{s}'; steps: {}",
                ids.join(", ")
            )))
        }
        (Some(s), false) => format!("step '{s}'"),
        (None, true) => "all progress".to_string(),
    };
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(usage(format!(
                "no terminal to confirm on: add --yes to forget {what}"
            )));
        }
        let ok = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Forget {what} in {}? (resources in the account are not touched; `kms-workshop cleanup` removes them)",
                path.display()
            ))
            .default(false)
            .interact_opt()
            .map_err(|_| usage("interrupted"))?
            .unwrap_or(false);
        if !ok {
            println!("Nothing changed.");
            return Ok(());
        }
    }
    if all {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(usage(format!("cannot remove {}: {e}", path.display()))),
        }
        println!("Forgot all progress ({}).", path.display());
        return Ok(());
    }
    let mut p = match Progress::load(&path) {
        Ok(p) => p,
        Err(e) => return Err(usage(e.to_string())),
    };
    if let Some(s) = &step {
        p.reset_step(s);
        p.current = Some(s.clone());
    }
    p.save(&path).map_err(|e| usage(e.to_string()))?;
    println!("Forgot {what}; `kms-workshop run` does it again.");
    Ok(())
}
