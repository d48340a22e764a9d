//! S3 object bytes, kept apart from the state that names them. Each is stored once under its
//! SHA-256 (the same sample file in 500 learner accounts is one blob): in memory, and with a
//! state directory in `blobs/<hash>` (0600, in a 0700 directory), written and synced before
//! any state record names it. The state (and so its log) holds only the hash, so an S3 write
//! costs what it changes, not a copy of every object in the region. Blobs no state names any
//! more are removed when the state is compacted and when it is opened.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::store::StoreError;

/// The directory under a state directory that holds the blobs.
pub const DIR: &str = "blobs";

/// The content-addressed object bytes of one sandbox.
#[derive(Default)]
pub struct Blobs {
    dir: Option<PathBuf>,
    held: Mutex<HashMap<String, Arc<[u8]>>>,
    /// Blobs kept for a state change not made yet, and by how many: never let go meanwhile.
    pending: Mutex<HashMap<String, usize>>,
}

/// A blob kept for a state change that is about to name it: until this is dropped (after the
/// change), the blob is not let go even if no state names it yet.
pub struct Kept<'a> {
    blobs: &'a Blobs,
    pub name: String,
}

impl Drop for Kept<'_> {
    fn drop(&mut self) {
        let mut pending = self.blobs.pending.lock();
        if let Some(n) = pending.get_mut(&self.name) {
            *n -= 1;
            if *n == 0 {
                pending.remove(&self.name);
            }
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.to_path_buf(),
        error,
    }
}

impl Blobs {
    /// The blobs of the state directory `state` (created when missing), or of memory only.
    pub fn open(state: Option<&Path>) -> Result<Blobs, StoreError> {
        let dir = match state {
            Some(s) => {
                let dir = s.join(DIR);
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&dir)
                    .map_err(io(&dir))?;
                Some(dir)
            }
            None => None,
        };
        Ok(Blobs {
            dir,
            held: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Keep `data` for a state change that will name it (hold the answer until the change is
    /// made). On disk before this returns, when there is a disk.
    pub fn keep(&self, data: &[u8]) -> Result<Kept<'_>, StoreError> {
        let name = hex::encode(Sha256::digest(data));
        // Pending first, so that no `retain` in between lets it go.
        *self.pending.lock().entry(name.clone()).or_default() += 1;
        let kept = Kept {
            blobs: self,
            name: name.clone(),
        };
        self.put(&name, data)?;
        Ok(kept)
    }

    /// Keep `data` (named `name`, its hash) in memory and on disk.
    fn put(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        if self.held.lock().contains_key(name) {
            return Ok(());
        }
        if let Some(dir) = &self.dir {
            let path = dir.join(name);
            if !path.exists() {
                let tmp = dir.join(format!(".{name}.{}.tmp", crate::util::random_secret()));
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)
                    .map_err(io(&tmp))?;
                f.write_all(data).map_err(io(&tmp))?;
                f.sync_all().map_err(io(&tmp))?;
                fs::rename(&tmp, &path).map_err(io(&path))?;
                if let Ok(d) = fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        self.held.lock().insert(name.to_string(), Arc::from(data));
        Ok(())
    }

    /// The bytes named `name`, if they are kept (read from disk once, then held).
    pub fn get(&self, name: &str) -> Option<Arc<[u8]>> {
        if let Some(b) = self.held.lock().get(name) {
            return Some(b.clone());
        }
        // Only a name this module made: 64 hexadecimal digits, never a path.
        if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let data = fs::read(self.dir.as_ref()?.join(name)).ok()?;
        if hex::encode(Sha256::digest(&data)) != name {
            tracing::error!(
                blob = name,
                "an object's stored bytes do not match their hash"
            );
            return None;
        }
        let data: Arc<[u8]> = Arc::from(data);
        self.held.lock().insert(name.to_string(), data.clone());
        Some(data)
    }

    /// Forget every blob not in `live` and not pending (in memory and on disk).
    pub fn retain(&self, live: &HashSet<String>) {
        let pending = self.pending.lock();
        let keep = |name: &str| live.contains(name) || pending.contains_key(name);
        self.held.lock().retain(|name, _| keep(name));
        let Some(dir) = &self.dir else { return };
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Dot-files are blobs being written (a leftover one goes once it is an hour old).
            if name.starts_with('.') && !stale(&entry) {
                continue;
            }
            if !keep(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Whether a directory entry was last written more than an hour ago.
fn stale(entry: &fs::DirEntry) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_kept_once_survive_reopening_and_go_when_unnamed() {
        let state = tempfile::tempdir().expect("dir");
        let b = Blobs::open(Some(state.path())).expect("open");
        let a = b.keep(b"sample").expect("put").name.clone();
        assert_eq!(b.keep(b"sample").expect("again").name, a);
        let other = b.keep(b"other").expect("put").name.clone();
        let reopened = Blobs::open(Some(state.path())).expect("reopen");
        assert_eq!(&*reopened.get(&a).expect("kept"), b"sample");
        assert!(reopened.get("../../etc/passwd").is_none());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &fs::metadata(state.path().join(DIR).join(&a))
                .expect("file")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        reopened.retain(&[a.clone()].into_iter().collect());
        assert!(reopened.get(&other).is_none());
        assert!(!state.path().join(DIR).join(&other).exists());
        // While a change is pending, its blob stays whatever the state names.
        let pending = reopened.keep(b"pending").expect("put");
        reopened.retain(&HashSet::new());
        assert!(reopened.get(&pending.name).is_some());
        let name = pending.name.clone();
        drop(pending);
        reopened.retain(&HashSet::new());
        assert!(reopened.get(&name).is_none());
        let memory = Blobs::open(None).expect("memory");
        let m = memory.keep(b"x").expect("put").name.clone();
        assert_eq!(&*memory.get(&m).expect("held"), b"x");
    }
}
