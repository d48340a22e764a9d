//! The run's journal: append-only JSON lines, each fsynced before the run goes on, so a run
//! killed at any point can resume with the same plan (no re-scan) and without repeating the
//! actions it finished. A torn last line (the kill landed mid-write) is ignored.
//!
//! The clean-up journals what it found and its [`Action`]s; another kind of run (the set-up of
//! an account) journals its own survey and steps in a file of its own ([`Journal::open_as`]).

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::discover::Found;
use crate::plan::{Action, Plan};
use crate::CleanupError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[serde(bound(deserialize = "F: DeserializeOwned, A: DeserializeOwned"))]
pub enum Record<F = Found, A = Action> {
    /// A run starts: what it found and what it will do.
    Plan {
        run: String,
        at: String,
        found: Box<F>,
        plan: Plan<A>,
    },
    /// An action finished: `outcome` is `changed` or `already_gone`.
    Done {
        run: String,
        action: String,
        outcome: String,
        detail: String,
    },
    /// An action failed (it is attempted again by the next run).
    Failed {
        run: String,
        action: String,
        error: String,
    },
    /// Every action was done or failed; a later run starts afresh.
    Finished { run: String, clean: bool },
}

/// A run to pick up again.
#[derive(Debug, Clone)]
pub struct Resume<F = Found, A = Action> {
    pub run: String,
    pub found: F,
    pub plan: Plan<A>,
    /// Actions done by the earlier attempt(s), with their outcome.
    pub done: Vec<(String, String)>,
}

/// An open journal file of runs that found `F` and planned steps `A`.
pub struct Journal<F = Found, A = Action> {
    path: PathBuf,
    file: Mutex<File>,
    kind: PhantomData<fn() -> (F, A)>,
}

impl Journal {
    /// The clean-up journal of `account` under `dir` (created if needed).
    pub fn open(dir: &Path, account: &str) -> Result<Journal, CleanupError> {
        Journal::open_as(dir, "cleanup", account)
    }
}

impl<F: Serialize + DeserializeOwned + Clone, A: Serialize + DeserializeOwned + Clone>
    Journal<F, A>
{
    /// The journal of `kind` runs (`cleanup`, `prepare`) of `account` under `dir` (created if
    /// needed).
    pub fn open_as(dir: &Path, kind: &str, account: &str) -> Result<Journal<F, A>, CleanupError> {
        let err = |path: &Path, source| CleanupError::Journal {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        let path = dir.join(format!("{kind}-{account}.jsonl"));
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(|e| err(&path, e))?;
        // A kill mid-write leaves a torn last line: end it so the next record stands alone.
        let torn = std::fs::read(&path)
            .map_err(|e| err(&path, e))?
            .last()
            .is_some_and(|b| *b != b'\n');
        if torn {
            file.write_all(b"\n")
                .and_then(|_| file.sync_data())
                .map_err(|e| err(&path, e))?;
        }
        Ok(Journal {
            path,
            file: Mutex::new(file),
            kind: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every readable record, oldest first.
    pub fn records(&self) -> Result<Vec<Record<F, A>>, CleanupError> {
        let f = File::open(&self.path).map_err(|source| CleanupError::Journal {
            path: self.path.clone(),
            source,
        })?;
        let mut out = Vec::new();
        for line in BufReader::new(f).lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<Record<F, A>>(&line) {
                Ok(r) => out.push(r),
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "skipping an unreadable journal line")
                }
            }
        }
        Ok(out)
    }

    /// The latest run if it did not finish.
    pub fn unfinished(&self) -> Result<Option<Resume<F, A>>, CleanupError> {
        let records = self.records()?;
        let Some(start) = records
            .iter()
            .rposition(|r| matches!(r, Record::Plan { .. }))
        else {
            return Ok(None);
        };
        let Record::Plan {
            run, found, plan, ..
        } = &records[start]
        else {
            return Ok(None);
        };
        let mut done = Vec::new();
        let mut seen = BTreeSet::new();
        for r in &records[start..] {
            match r {
                Record::Finished { run: r2, .. } if r2 == run => return Ok(None),
                Record::Done {
                    run: r2,
                    action,
                    outcome,
                    ..
                } if r2 == run && seen.insert(action.clone()) => {
                    done.push((action.clone(), outcome.clone()));
                }
                _ => {}
            }
        }
        Ok(Some(Resume {
            run: run.clone(),
            found: (**found).clone(),
            plan: plan.clone(),
            done,
        }))
    }

    /// Append one record and fsync it before returning.
    pub fn append(&self, record: &Record<F, A>) -> Result<(), CleanupError> {
        self.write(record)
    }

    fn write<T: Serialize>(&self, record: &T) -> Result<(), CleanupError> {
        let mut line = serde_json::to_vec(record).map_err(|e| CleanupError::Journal {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        let mut f = self.file.lock().map_err(|_| CleanupError::Journal {
            path: self.path.clone(),
            source: std::io::Error::other("journal lock poisoned"),
        })?;
        f.write_all(&line)
            .and_then(|_| f.sync_data())
            .map_err(|source| CleanupError::Journal {
                path: self.path.clone(),
                source,
            })
    }
}

/// Where an execution records each finished step: the journal of any kind of run (the step
/// records name no survey and no plan, so one executor serves every kind).
pub trait StepLog: Sync {
    /// Append a `Done` or `Failed` record, fsynced.
    fn append_step(&self, record: &Record<(), ()>) -> Result<(), CleanupError>;
}

impl<F, A> StepLog for Journal<F, A>
where
    F: Serialize + DeserializeOwned + Clone,
    A: Serialize + DeserializeOwned + Clone,
{
    fn append_step(&self, record: &Record<(), ()>) -> Result<(), CleanupError> {
        self.write(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_the_unfinished_run_and_ignores_a_torn_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open(dir.path(), "111122223333").expect("open");
        let plan = Plan {
            account: "111122223333".into(),
            nodes: vec![],
        };
        j.append(&Record::Plan {
            run: "r1".into(),
            at: "t".into(),
            found: Box::default(),
            plan: plan.clone(),
        })
        .expect("append");
        j.append(&Record::Done {
            run: "r1".into(),
            action: "a".into(),
            outcome: "changed".into(),
            detail: String::new(),
        })
        .expect("append");
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .and_then(|mut f| f.write_all(b"{\"type\":\"done\",\"run\":\"r1\",\"act"))
            .expect("torn write");
        let r = j.unfinished().expect("read").expect("unfinished run");
        assert_eq!(r.run, "r1");
        assert_eq!(r.done, vec![("a".to_string(), "changed".to_string())]);
        let j = Journal::open(dir.path(), "111122223333").expect("reopen");
        j.append(&Record::Finished {
            run: "r1".into(),
            clean: true,
        })
        .expect("append");
        assert!(
            j.unfinished().expect("read").is_none(),
            "a finished run is not resumed"
        );
    }
}
