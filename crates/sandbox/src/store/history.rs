//! The CloudTrail history's file, `events.bin`: an append-only log of binary frames, each
//! `<length: u32 LE> <crc32: u32 LE> <payload>`, one frame per write (the payload is the
//! history's own encoding, [`crate::services::cloudtrail::events::codec`]). A frame cut short
//! at the end (power loss mid-write) is dropped; damage anywhere else is an error naming the
//! file and the frame.
//!
//! Histories written by earlier versions are JSON lines in `events.log` (`<crc32> <json>`);
//! [`super::Store::migrate_history`] writes them anew here once they are loaded.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::Path;

use super::{io, StoreError};

pub const FILE: &str = "events.bin";
/// The JSON-lines history of state format 1.
pub const LEGACY_FILE: &str = "events.log";
const HEADER: usize = 8;
/// More than one append writes, but for a record about as large itself (a frame is an event
/// or a reset, or a batch of at most 256 events whose new text passes 256 KB only by the last
/// one's, with the dictionary values they are the first to use; a history written anew is
/// written whole, never appended), so a bad frame further than this from the end is damage,
/// not a torn write.
const MOST_APPENDED: usize = 1 << 20;

/// A payload framed for the file.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payloads of `bytes`, a run of whole, checked frames (as [`read`] returns).
pub fn frames(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let payload = rest.get(HEADER..HEADER + len)?;
        rest = &rest[HEADER + len..];
        Some(payload)
    })
}

/// The file's whole frames (cutting a torn last one off the file), or an error naming the
/// first damaged frame.
pub fn read(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(io(path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(bytes),
        Err(e) => return Err(io(path)(e)),
    }
    let (mut at, mut n) = (0usize, 0usize);
    while at < bytes.len() {
        n += 1;
        let header = bytes.get(at..at + HEADER);
        let len = header.map(|h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize);
        let whole = len.and_then(|len| bytes.get(at + HEADER..at + HEADER + len));
        // No frame is empty (each holds at least one entry): zeros a power loss left at the
        // end are not a frame, though an empty payload's checksum is zero.
        let ok = whole.zip(header).is_some_and(|(payload, h)| {
            !payload.is_empty()
                && crc32fast::hash(payload) == u32::from_le_bytes([h[4], h[5], h[6], h[7]])
        });
        let end = at + HEADER + len.unwrap_or(0);
        if ok {
            at = end;
            continue;
        }
        // Only the last write can be torn: a bad frame with bytes after it is damage, and so
        // is a length far past the end (no write is that long).
        let torn = bytes.len() - at <= MOST_APPENDED
            && (whole.is_none() || end == bytes.len() || bytes[at..].iter().all(|b| *b == 0));
        if !torn {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                line: None,
                why: format!("frame {n} (at byte {at}) is damaged"),
            });
        }
        tracing::warn!(file = %path.display(), frame = n, "dropping a torn final history frame");
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io(path))?;
        f.set_len(at as u64).map_err(io(path))?;
        f.sync_all().map_err(io(path))?;
        bytes.truncate(at);
        break;
    }
    Ok(bytes)
}

/// Whether the directory still has a history in the format of version 1.
pub fn legacy_exists(dir: &Path) -> bool {
    dir.join(LEGACY_FILE).exists()
}

/// Remove the version-1 history (once written anew).
pub fn remove_legacy(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(LEGACY_FILE);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn whole_frames_come_back_a_torn_tail_goes_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut f = File::create(&path).unwrap();
        for p in [&b"one"[..], b"2", b"three"] {
            f.write_all(&frame(p)).unwrap();
        }
        f.write_all(&frame(b"torn")[..6]).unwrap();
        drop(f);
        let bytes = read(&path).unwrap();
        assert_eq!(
            frames(&bytes).collect::<Vec<_>>(),
            vec![&b"one"[..], b"2", b"three"]
        );
        // Zeros after a power loss are a torn tail too.
        let mut zeros = bytes.clone();
        zeros.extend_from_slice(&[0; 16]);
        fs::write(&path, &zeros).unwrap();
        assert_eq!(read(&path).unwrap(), bytes);
        // A length damaged mid-file, pointing past the end, is damage: nothing is cut.
        let mut far = bytes.clone();
        far.extend(std::iter::repeat_n(frame(&[7; 1000]), 2000).flatten());
        far[3] = 0x7f;
        fs::write(&path, &far).unwrap();
        assert!(
            read(&path).is_err(),
            "megabytes after a bad frame are not a torn write"
        );
        assert_eq!(fs::read(&path).unwrap(), far);
        fs::write(&path, &bytes).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len() as usize, bytes.len());

        let mut raw = bytes.clone();
        raw[HEADER] ^= 1;
        fs::write(&path, &raw).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("frame 1 ") && err.contains(FILE), "{err}");
        assert_eq!(fs::read(&path).unwrap(), raw, "nothing changed");
    }
}
