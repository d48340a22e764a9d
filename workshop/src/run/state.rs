//! The guided run's progress file: which steps are finished, what each recorded (request ids,
//! ARNs; never a plaintext data key), and an inventory of every resource the run created, for
//! `status`, for resuming, and for the clean-up. Versioned, and rewritten atomically (a
//! temporary file in the same directory, fsynced, then renamed) after every step, so a crash
//! or Ctrl-C leaves either the old or the new file, never half of one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use kms_workshop_cleanup::{Inventory, InventoryItem};
use serde::{Deserialize, Serialize};

use crate::target::TargetKind;

/// The format this version writes (and the newest it reads).
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the progress file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the progress file {path} is damaged ({why}); move it away or delete it to start over (`kms-workshop reset --all` does that after asking)")]
    Corrupt { path: PathBuf, why: String },
    #[error("the progress file {path} was written by a newer kms-workshop (format {found}, this one reads up to {FORMAT}); upgrade, or use --state FILE for a new one")]
    Newer { path: PathBuf, found: u32 },
    #[error("cannot save the progress file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the run happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub kind: TargetKind,
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// Where a step stands. The serialized names are the ones progress files have always held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepStatus {
    /// Begun (it may have recorded facts) but neither verified nor skipped yet.
    #[default]
    #[serde(rename = "")]
    Open,
    #[serde(rename = "verified")]
    Verified,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "skipped")]
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Open => "",
            StepStatus::Verified => "verified",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// One step's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepRecord {
    pub status: StepStatus,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<time::OffsetDateTime>,
    /// Values later steps and `status` use (request id, topic ARN, …).
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
    /// The last verification, criterion by criterion.
    #[serde(default)]
    pub criteria: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    pub format: u32,
    #[serde(default)]
    pub target: Option<TargetRecord>,
    /// The step to run next (none: all done).
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub steps: BTreeMap<String, StepRecord>,
    #[serde(default)]
    pub inventory: Inventory,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            format: FORMAT,
            ..Default::default()
        }
    }

    /// Read `path`; a missing file is a fresh start.
    pub fn load(path: &Path) -> Result<Progress, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::new()),
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
                path: path.to_path_buf(),
                why: format!("not JSON: {e}"),
            })?;
        let found = value
            .get("format")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| StateError::Corrupt {
                path: path.to_path_buf(),
                why: "no format version".into(),
            })?;
        if found > u64::from(FORMAT) {
            return Err(StateError::Newer {
                path: path.to_path_buf(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_value(value).map_err(|e| StateError::Corrupt {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
    }

    /// Write atomically: temporary file in the same directory, fsync, rename, fsync the
    /// directory.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let err = |source| StateError::Write {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(err)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(err)?;
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| err(std::io::Error::other(e.to_string())))?;
        tmp.write_all(&text).map_err(err)?;
        tmp.write_all(b"\n").map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(path).map_err(|e| err(e.error))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.steps
            .get(step)
            .is_some_and(|s| s.status == StepStatus::Verified)
    }

    pub fn fact(&self, step: &str, name: &str) -> Option<&str> {
        self.steps
            .get(step)
            .and_then(|s| s.facts.get(name))
            .map(String::as_str)
    }

    /// Record a created resource once (by ARN).
    pub fn record(&mut self, item: InventoryItem) {
        if !self.inventory.items.iter().any(|i| i.arn == item.arn) {
            self.inventory.items.push(item);
        }
    }

    /// Forget a step's outcome (and what it created, from the inventory) so it runs again.
    pub fn reset_step(&mut self, step: &str) {
        self.steps.remove(step);
        self.inventory
            .items
            .retain(|i| i.step.as_deref() != Some(step));
    }
}

/// The default progress file: `<data dir>/progress.json`.
pub fn default_path() -> Option<PathBuf> {
    crate::target::data_dir().map(|d| d.join("progress.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.json");
        assert!(Progress::load(&path)
            .expect("missing is fresh")
            .steps
            .is_empty());
        let mut p = Progress::new();
        p.steps.insert(
            "sns-topic".into(),
            StepRecord {
                status: StepStatus::Verified,
                at: None,
                facts: [("topic_arn".to_string(), "arn:aws:sns:x".to_string())].into(),
                criteria: Vec::new(),
            },
        );
        p.save(&path).expect("save");
        let back = Progress::load(&path).expect("load");
        assert!(back.is_done("sns-topic"));
        assert_eq!(back.fact("sns-topic", "topic_arn"), Some("arn:aws:sns:x"));

        // Every status earlier versions wrote still loads, and is written back the same.
        let old = br#"{"format": 1, "steps": {"a": {"status": ""}, "b": {"status": "verified"}, "c": {"status": "skipped"}, "d": {"status": "failed"}}}"#;
        std::fs::write(&path, old).expect("write");
        let back = Progress::load(&path).expect("old statuses");
        assert!(back.is_done("b") && !back.is_done("a"));
        assert_eq!(back.steps["c"].status, StepStatus::Skipped);
        let again = serde_json::to_value(&back).expect("json");
        assert_eq!(again["steps"]["a"]["status"], "");
        assert_eq!(again["steps"]["d"]["status"], "failed");

        std::fs::write(&path, b"{\"format\": 1, \"steps\": [").expect("write");
        let e = Progress::load(&path).expect_err("damaged");
        assert!(e.to_string().contains("damaged"), "{e}");
        std::fs::write(&path, b"{\"format\": 99}").expect("write");
        assert!(matches!(
            Progress::load(&path),
            Err(StateError::Newer { found: 99, .. })
        ));
        std::fs::write(&path, b"{\"steps\": {}}").expect("write");
        assert!(matches!(
            Progress::load(&path),
            Err(StateError::Corrupt { .. })
        ));
    }
}
