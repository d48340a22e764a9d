//! Crash-safe persistence for the sandbox's state.
//!
//! A state directory holds a marker (`sandbox.json`, so a foreign or newer directory is refused
//! rather than overwritten), a snapshot (`state.json`, replaced atomically: temp file, fsync,
//! rename), a write-ahead log (`state.log`) of whole-object writes made since the snapshot, and the
//! CloudTrail history ([`history`]: `events.bin`, append-only binary frames). Every `state.log`
//! line is `<crc32> <json>`; a write is handed to the kernel before the request that made it is
//! answered, so `kill -9` loses nothing acknowledged (but a read-only call's CloudTrail record,
//! written in a batch after its answer, five milliseconds or more later while calls keep coming and
//! up to a second when they stop: [`crate::services::cloudtrail::unrecorded`]). A torn last line or
//! frame (power loss mid-write; a frame may hold a batch of events) is dropped; damage anywhere
//! else is an error that names the file and line, never a silent wipe.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

pub const FORMAT: &str = "kms-workshop-sandbox";
/// 2: the CloudTrail history is binary (`events.bin`); a version-1 directory's JSON-lines
/// history (`events.log`) is written anew on open ([`Store::migrate_history`]).
pub const VERSION: u32 = 2;
const MARKER: &str = "sandbox.json";
const SNAPSHOT: &str = "state.json";
const LOG: &str = "state.log";
/// Past this many bytes of log, the next write folds the log into a new snapshot.
const COMPACT_AT: u64 = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The I/O error is part of the message, not a `source`, so it is not printed twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0} is not a kms-workshop sandbox state directory (it is not empty and has no {MARKER}); choose an empty or new directory with --state-dir")]
    Foreign(PathBuf),
    #[error("{path} was written by a newer kms-workshop (state format {found}, this build reads up to {VERSION}); upgrade, or use another --state-dir")]
    TooNew { path: PathBuf, found: u32 },
    #[error("{path} is corrupt{}: {why}. Nothing was changed; move the directory aside to start fresh, or restore it from a backup", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Corrupt {
        path: PathBuf,
        line: Option<usize>,
        why: String,
    },
    #[error("{0} is in use by another running sandbox (a state directory serves one sandbox at a time); stop that one, or choose another --state-dir")]
    InUse(PathBuf),
}

pub mod history;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.to_path_buf(),
        error,
    }
}

#[derive(Serialize, Deserialize)]
struct Marker {
    format: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    seq: u64,
    world: J,
}

/// A snapshot as written: the world borrowed, in the same form [`Snapshot`] reads.
#[derive(Serialize)]
struct SnapshotRef<'a, W> {
    seq: u64,
    world: &'a W,
}

#[derive(Serialize, Deserialize)]
struct LogRecord {
    seq: u64,
    /// Path of the object in the world's JSON form.
    p: Vec<String>,
    /// The whole new value (`null` removes it).
    v: J,
}

/// What [`Store::open`] found on disk.
pub struct Loaded {
    /// The world as JSON (snapshot with the log replayed), `None` for a new directory.
    pub world: Option<J>,
    /// The CloudTrail history: whole binary frames ([`history::frames`]), oldest first.
    pub events: Vec<u8>,
    /// A version-1 directory's history, JSON lines oldest first, to load and then write anew
    /// with [`Store::migrate_history`]; `None` when the directory has none.
    pub legacy_events: Option<Vec<J>>,
}

struct Files {
    dir: PathBuf,
    /// The directory and the marker, locked exclusively while this store is open (the kernel
    /// drops the locks when the process ends, even on `kill -9`).
    _lock: (File, File),
    log: File,
    log_len: u64,
    events: File,
    /// The length of `events.bin` (this store is its only writer): where a failed append
    /// is cut back to, known without asking the file system on every append.
    events_len: u64,
    seq: u64,
    /// An older version's directory, not yet written to: its marker comes to name this
    /// version when this store first writes (an older build would not see what this one
    /// writes), not when it is read, so a directory refused once read stays the older build's.
    unclaimed: bool,
}

impl Files {
    /// Make the marker this version's before the first write.
    fn claim(&mut self) -> Result<(), StoreError> {
        if self.unclaimed {
            write_marker(&self.dir)?;
            self.unclaimed = false;
        }
        Ok(())
    }
}

/// The persistence handle; `None` directory means memory only.
pub struct Store {
    files: Option<Mutex<Files>>,
}

fn frame(json: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(json);
    let mut line = Vec::with_capacity(json.len() + 10);
    line.extend_from_slice(format!("{crc:08x} ").as_bytes());
    line.extend_from_slice(json);
    line.push(b'\n');
    line
}

/// Read a framed log; a damaged final line without its newline is a torn write and is dropped.
fn read_framed(path: &Path) -> Result<Vec<J>, StoreError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut lineno = 0;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        let complete = buf.last() == Some(&b'\n');
        let parsed = parse_frame(if complete {
            &buf[..buf.len() - 1]
        } else {
            &buf
        });
        match parsed {
            Ok(v) => out.push(v),
            Err(_) if !complete => {
                tracing::warn!(file = %path.display(), line = lineno, "dropping a torn final record");
                break;
            }
            Err(why) => {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    line: Some(lineno),
                    why,
                })
            }
        }
    }
    Ok(out)
}

fn parse_frame(line: &[u8]) -> Result<J, String> {
    if line.len() < 10 || line[8] != b' ' {
        return Err("not a framed record".into());
    }
    let crc = std::str::from_utf8(&line[..8])
        .ok()
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or("bad checksum field")?;
    let body = &line[9..];
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"))
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_with(dir, name, |f| f.write_all(bytes))
}

/// Replace `dir/name` atomically with what `write` writes (temp file, fsync, rename).
fn write_atomic_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::io::BufWriter::new(private_file(&tmp)?);
        write(&mut f).map_err(io(&tmp))?;
        let f = f.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, &path).map_err(io(&path))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn open_append(path: &Path) -> Result<File, StoreError> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    // A file an older build created readable by others is made the owner's alone.
    f.set_permissions(Permissions::from_mode(0o600))
        .map_err(io(path))?;
    Ok(f)
}

/// A new (or truncated) file only the owner can read and write: the state holds key material
/// and every credential.
fn private_file(path: &Path) -> Result<File, StoreError> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.set_permissions(Permissions::from_mode(0o600))
        .map_err(io(path))?;
    Ok(f)
}

/// Make a state directory (known to be ours) and the files in it the owner's alone, also when
/// an older build created them open to others.
fn make_private(dir: &Path) -> Result<(), StoreError> {
    fs::set_permissions(dir, Permissions::from_mode(0o700)).map_err(io(dir))?;
    for name in [
        MARKER,
        SNAPSHOT,
        LOG,
        history::FILE,
        history::LEGACY_FILE,
        crate::access::TOKEN_FILE,
    ] {
        let path = dir.join(name);
        if path.exists() {
            fs::set_permissions(&path, Permissions::from_mode(0o600)).map_err(io(&path))?;
        }
    }
    Ok(())
}

impl Store {
    pub fn memory() -> Self {
        Store { files: None }
    }

    /// Open (or create) a state directory.
    pub fn open(dir: &Path) -> Result<(Store, Loaded), StoreError> {
        // A new directory is the owner's alone from the start; an existing one only once it is
        // known to be a sandbox's (below), never someone else's folder given by mistake.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let marker_path = dir.join(MARKER);
        let mut older = false;
        if marker_path.exists() {
            let raw = fs::read(&marker_path).map_err(io(&marker_path))?;
            let m: Marker = serde_json::from_slice(&raw).map_err(|e| StoreError::Corrupt {
                path: marker_path.clone(),
                line: None,
                why: e.to_string(),
            })?;
            if m.format != FORMAT {
                return Err(StoreError::Foreign(dir.to_path_buf()));
            }
            if m.version > VERSION {
                return Err(StoreError::TooNew {
                    path: marker_path,
                    found: m.version,
                });
            }
            older = m.version < VERSION;
        } else {
            let non_empty = fs::read_dir(dir).map_err(io(dir))?.next().is_some();
            if non_empty {
                return Err(StoreError::Foreign(dir.to_path_buf()));
            }
            write_marker(dir)?;
        }

        make_private(dir)?;

        // Two sandboxes appending to one log would silently drop each other's writes. The
        // directory itself is locked, as it is never replaced (the marker is, by a rename,
        // when it comes to name this version: a lock on it alone would go with the old file);
        // the marker too, which is what builds before this one lock.
        let lock = (
            lock_exclusively(dir, dir)?,
            lock_exclusively(&marker_path, dir)?,
        );
        let snap_path = dir.join(SNAPSHOT);
        let (mut world, mut seq) = match fs::read(&snap_path) {
            Ok(raw) => {
                let s: Snapshot =
                    serde_json::from_slice(&raw).map_err(|e| StoreError::Corrupt {
                        path: snap_path.clone(),
                        line: None,
                        why: e.to_string(),
                    })?;
                (Some(s.world), s.seq)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, 0),
            Err(e) => return Err(io(&snap_path)(e)),
        };
        let log_path = dir.join(LOG);
        let snapshot_seq = seq;
        for (i, rec) in read_framed(&log_path)?.into_iter().enumerate() {
            let rec: LogRecord = serde_json::from_value(rec).map_err(|e| StoreError::Corrupt {
                path: log_path.clone(),
                line: Some(i + 1),
                why: e.to_string(),
            })?;
            // Records already folded into the snapshot (a crash between rename and truncate).
            if rec.seq <= snapshot_seq {
                continue;
            }
            seq = seq.max(rec.seq);
            apply(
                world.get_or_insert_with(|| J::Object(Default::default())),
                &rec.p,
                rec.v,
            );
        }
        let events_path = dir.join(history::FILE);
        // A version-1 history is loaded from its JSON lines (and written anew by the sandbox),
        // whatever a migration cut short left in `events.bin`.
        let legacy_events = if history::legacy_exists(dir) {
            let legacy = dir.join(history::LEGACY_FILE);
            let lines = read_framed(&legacy)?;
            drop_torn_tail(&legacy)?;
            Some(lines)
        } else {
            None
        };
        let events = match legacy_events {
            Some(_) => Vec::new(),
            None => history::read(&events_path)?,
        };
        // Re-write the logs without any torn tail before appending to them.
        let log_len = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let events_file = open_append(&events_path)?;
        let events_len = events_file.metadata().map_err(io(&events_path))?.len();
        let files = Files {
            dir: dir.to_path_buf(),
            _lock: lock,
            log: open_append(&log_path)?,
            log_len,
            events: events_file,
            events_len,
            seq,
            unclaimed: older,
        };
        let store = Store {
            files: Some(Mutex::new(files)),
        };
        drop_torn_tail(&log_path)?;
        Ok((
            store,
            Loaded {
                world,
                events,
                legacy_events,
            },
        ))
    }

    /// Write the whole CloudTrail history anew as `frames` (a version-1 directory's, once
    /// loaded): the new file replaces any other atomically, then the marker says version 2,
    /// then the old history goes (a crash before that only repeats the migration).
    pub fn migrate_history(&self, frames: &[Vec<u8>]) -> Result<(), StoreError> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        let mut f = files.lock();
        let bytes: Vec<u8> = frames.iter().flat_map(|p| history::frame(p)).collect();
        write_atomic(&f.dir, history::FILE, &bytes)?;
        let path = f.dir.join(history::FILE);
        f.events = open_append(&path)?;
        f.events_len = bytes.len() as u64;
        // The marker first: a crash before the old history goes only repeats the migration,
        // where the other order would leave the older build a directory without its history.
        f.claim()?;
        history::remove_legacy(&f.dir)
    }
}

/// `path` (the state directory `dir` or a file in it) opened and locked for this process
/// alone, or `InUse`.
fn lock_exclusively(path: &Path, dir: &Path) -> Result<File, StoreError> {
    let file = File::open(path).map_err(io(path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::InUse(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(io(path)(e)),
    }
}

fn write_marker(dir: &Path) -> Result<(), StoreError> {
    let marker_path = dir.join(MARKER);
    let m = serde_json::to_vec_pretty(&Marker {
        format: FORMAT.into(),
        version: VERSION,
    })
    .map_err(|e| StoreError::Corrupt {
        path: marker_path,
        line: None,
        why: e.to_string(),
    })?;
    write_atomic(dir, MARKER, &m)
}

/// Truncate a file to its last complete line so appends never follow a torn record.
fn drop_torn_tail(path: &Path) -> Result<(), StoreError> {
    let raw = match fs::read(path) {
        Ok(r) => r,
        Err(_) => return Ok(()),
    };
    if raw.is_empty() || raw.last() == Some(&b'\n') {
        return Ok(());
    }
    let keep = raw
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|p| p + 1)
        .unwrap_or(0);
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io(path))?;
    f.set_len(keep as u64).map_err(io(path))?;
    f.sync_all().map_err(io(path))?;
    Ok(())
}

impl Store {
    /// The state directory's admin token ([`crate::access`]), made at random on first use;
    /// `None` for a state in memory.
    pub fn admin_token(&self) -> Result<Option<String>, StoreError> {
        let Some(dir) = self.dir() else {
            return Ok(None);
        };
        let path = dir.join(crate::access::TOKEN_FILE);
        match fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => return Ok(Some(text.trim().to_string())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(StoreError::Io { path, error }),
        }
        let token = crate::access::new_token();
        write_atomic(&dir, crate::access::TOKEN_FILE, token.as_bytes())?;
        Ok(Some(token))
    }

    pub fn dir(&self) -> Option<PathBuf> {
        self.files.as_ref().map(|f| f.lock().dir.clone())
    }

    /// Whether changes are written anywhere (a state directory), so worth serialising.
    pub fn persistent(&self) -> bool {
        self.files.is_some()
    }

    /// Record a whole object at `path` in the world's JSON form. Returns whether the log has
    /// grown enough that the caller should [`Store::snapshot`].
    pub fn put(&self, path: &[&str], value: J) -> Result<bool, StoreError> {
        let Some(files) = &self.files else {
            return Ok(false);
        };
        let mut f = files.lock();
        f.claim()?;
        f.seq += 1;
        let rec = LogRecord {
            seq: f.seq,
            p: path.iter().map(|s| s.to_string()).collect(),
            v: value,
        };
        let json = serde_json::to_vec(&rec).map_err(|e| StoreError::Corrupt {
            path: f.dir.join(LOG),
            line: None,
            why: e.to_string(),
        })?;
        let line = frame(&json);
        let log_path = f.dir.join(LOG);
        f.log.write_all(&line).map_err(io(&log_path))?;
        f.log_len += line.len() as u64;
        Ok(f.log_len > COMPACT_AT)
    }

    /// Append one CloudTrail history frame's payload (one write, so a crash tears at most
    /// this one).
    pub fn append_event(&self, payload: &[u8]) -> Result<(), StoreError> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        let mut f = files.lock();
        f.claim()?;
        let frame = history::frame(payload);
        match f.events.write_all(&frame) {
            Ok(()) => {
                f.events_len += frame.len() as u64;
                Ok(())
            }
            Err(e) => {
                // A frame cut short would stop every later one from being read: take it back
                // (its dictionary values go again with the next write).
                if f.events.set_len(f.events_len).is_err() {
                    // Not cut back: the file's length is what it is, and later frames follow it.
                    if let Ok(m) = f.events.metadata() {
                        f.events_len = m.len();
                    }
                }
                Err(io(&f.dir.join(history::FILE))(e))
            }
        }
    }

    /// Fold the log into a new snapshot of `world`, serialised straight into the file (a
    /// state of many megabytes is never held twice in memory).
    pub fn snapshot(&self, world: &impl Serialize) -> Result<(), StoreError> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        let mut f = files.lock();
        f.claim()?;
        let snap = SnapshotRef { seq: f.seq, world };
        write_atomic_with(&f.dir, SNAPSHOT, |out| {
            serde_json::to_writer(out, &snap).map_err(std::io::Error::from)
        })?;
        let log_path = f.dir.join(LOG);
        f.log.set_len(0).map_err(io(&log_path))?;
        f.log.sync_all().map_err(io(&log_path))?;
        f.log_len = 0;
        Ok(())
    }

    /// Push written data to the disk (power-loss durability; `kill -9` needs no sync).
    pub fn sync(&self) {
        if let Some(files) = &self.files {
            let f = files.lock();
            let _ = f.log.sync_data();
            let _ = f.events.sync_data();
        }
    }
}

fn apply(root: &mut J, path: &[String], value: J) {
    let mut cur = root;
    for (i, seg) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = J::Object(Default::default());
        }
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == path.len() {
            if value.is_null() {
                obj.remove(seg);
            } else {
                obj.insert(seg.clone(), value);
            }
            return;
        }
        cur = obj
            .entry(seg.clone())
            .or_insert_with(|| J::Object(Default::default()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A directory of an older version that this build cannot read is refused as it is: its
    /// marker still names the older version, so the build that wrote it still opens it.
    #[test]
    fn a_refused_older_directory_keeps_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let older = json!({"format": FORMAT, "version": VERSION - 1}).to_string();
        fs::write(dir.path().join(MARKER), &older).unwrap();
        fs::write(dir.path().join(SNAPSHOT), b"{not json").unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::Corrupt { .. })
        ));
        assert_eq!(fs::read_to_string(dir.path().join(MARKER)).unwrap(), older);
        // Read, it stays the older version's until this build writes to it (what opens the
        // store may still refuse what it holds).
        fs::remove_file(dir.path().join(SNAPSHOT)).unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join(MARKER)).unwrap(), older);
        store.put(&["accounts"], json!({})).unwrap();
        let m: Marker =
            serde_json::from_slice(&fs::read(dir.path().join(MARKER)).unwrap()).unwrap();
        assert_eq!(m.version, VERSION);
    }

    #[test]
    fn put_reopen_snapshot_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (s, loaded) = Store::open(dir.path()).unwrap();
        assert!(loaded.world.is_none());
        s.put(&["accounts", "1", "kms"], json!({"k": 1})).unwrap();
        s.put(&["accounts", "1", "kms"], json!({"k": 2})).unwrap();
        s.append_event(b"e1").unwrap();
        drop(s);
        let (s, loaded) = Store::open(dir.path()).unwrap();
        assert_eq!(loaded.world.unwrap()["accounts"]["1"]["kms"]["k"], 2);
        assert_eq!(
            history::frames(&loaded.events).collect::<Vec<_>>(),
            vec![b"e1"]
        );
        s.snapshot(&json!({"accounts": {"1": {"kms": {"k": 3}}}}))
            .unwrap();
        s.put(&["accounts", "2"], json!({"x": true})).unwrap();
        drop(s);
        // A torn final line is dropped, not fatal.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LOG))
            .unwrap();
        f.write_all(b"0000").unwrap();
        let (_s, loaded) = Store::open(dir.path()).unwrap();
        let w = loaded.world.unwrap();
        assert_eq!(w["accounts"]["1"]["kms"]["k"], 3);
        assert_eq!(w["accounts"]["2"]["x"], true);
    }

    #[test]
    fn one_store_per_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = Store::open(dir.path()).unwrap();
        assert!(matches!(Store::open(dir.path()), Err(StoreError::InUse(_))));
        drop(first);
        Store::open(dir.path()).unwrap();
    }

    /// A store that makes an older directory this version's replaces its marker: the
    /// directory stays locked all the same.
    #[test]
    fn a_directory_stays_locked_when_its_marker_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let older = json!({"format": FORMAT, "version": VERSION - 1}).to_string();
        fs::write(dir.path().join(MARKER), older).unwrap();
        let (first, _) = Store::open(dir.path()).unwrap();
        first.put(&["accounts"], json!({})).unwrap();
        assert!(matches!(Store::open(dir.path()), Err(StoreError::InUse(_))));
        drop(first);
        Store::open(dir.path()).unwrap();
    }

    #[test]
    fn corrupt_and_foreign_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::Foreign(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        let (s, _) = Store::open(dir.path()).unwrap();
        s.put(&["a"], json!(1)).unwrap();
        s.put(&["b"], json!(2)).unwrap();
        drop(s);
        let log = dir.path().join(LOG);
        let raw = fs::read_to_string(&log).unwrap();
        fs::write(&log, raw.replacen("\"a\"", "\"x\"", 1)).unwrap();
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::Corrupt { line: Some(1), .. }),
            "{err}"
        );
        assert!(err.to_string().contains("state.log"));

        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(MARKER),
            r#"{"format":"kms-workshop-sandbox","version":99}"#,
        )
        .unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::TooNew { .. })
        ));
    }
}
