//! Timestamps as the runner shows and stores them (RFC 3339, whole seconds, UTC), the
//! durations every command's flags take, and files written for this user only.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A duration flag (`90s`, `15m`, `11days`): the one parser of every command's durations.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); examples: 0s, 300ms, 90s, 15m, 15d"))
}

/// Write `bytes` to `path` readable by this user only, never through a file or link someone
/// else put there: a new file under a random name beside it (`create_new` refuses an existing
/// one, a link included), synced, then renamed over `path`.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("{}.tmp", kms_workshop_sandbox::access::new_token()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `s` as one shell word: as it is when it holds only characters no shell treats specially,
/// else in single quotes (a quote inside written `'\''`).
pub fn shell_word(s: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(format!("'{}'", s.replace('\'', "'\\''")))
    }
}
