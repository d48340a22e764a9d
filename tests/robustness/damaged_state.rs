//! Damaged or foreign state directories

use super::*;

/// A state directory with a few writes in its log, stopped gracefully.
fn used_state_dir(root: &Path) -> std::path::PathBuf {
    let state = root.join("state");
    let mut sb = start_with_state(&state);
    run_json(aws(&sb.endpoint).args(["kms", "create-key", "--description", "one"]));
    run_json(aws(&sb.endpoint).args(["kms", "create-key", "--description", "two"]));
    stop_gracefully(&mut sb);
    for f in ["sandbox.json", "state.json", "state.log", "events.bin"] {
        assert!(
            state.join(f).is_file(),
            "{f} should exist in a used state directory"
        );
    }
    state
}

#[test]
fn garbage_in_state_json_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let state = used_state_dir(dir.path());
    std::fs::write(state.join("state.json"), b"this is not JSON {{{").unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["state.json"]);
    assert_eq!(
        snapshot_dir(&state),
        before,
        "a refused start must not change or delete anything"
    );
}

#[test]
fn damaged_log_lines_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let state = used_state_dir(dir.path());
    let log = state.join("state.log");
    let raw = std::fs::read(&log).unwrap();
    let lines = raw.iter().filter(|b| **b == b'\n').count();
    assert!(lines >= 2, "the log should hold the two CreateKey writes");
    // Flip a byte inside the first (complete) line: its checksum no longer matches.
    let mut damaged = raw.clone();
    damaged[20] ^= 0x20;
    std::fs::write(&log, &damaged).unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["state.log", "line 1"]);
    assert_eq!(snapshot_dir(&state), before);

    // The same for the CloudTrail history.
    std::fs::write(&log, &raw).unwrap();
    let events = state.join("events.bin");
    let events_raw = std::fs::read(&events).unwrap();
    let mut ev = events_raw.clone();
    ev[12] ^= 0x20;
    std::fs::write(&events, &ev).unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["events.bin", "frame 1 "]);
    assert_eq!(snapshot_dir(&state), before);

    // Garbage in the marker file.
    std::fs::write(&events, &events_raw).unwrap();
    std::fs::write(state.join("sandbox.json"), b"\x00\x01 not a marker").unwrap();
    let before = snapshot_dir(&state);
    let out = serve_expecting_refusal(&state_args(&state));
    assert_refused(&out, &["sandbox.json"]);
    assert_eq!(snapshot_dir(&state), before);
}

#[test]
fn foreign_directories_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("my-project");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"precious notes").unwrap();
    std::fs::create_dir(foreign.join("src")).unwrap();
    std::fs::write(foreign.join("src").join("main.rs"), b"fn main() {}").unwrap();
    let before = snapshot_dir(&foreign);
    let out = serve_expecting_refusal(&state_args(&foreign));
    assert_refused(
        &out,
        &[
            &foreign.display().to_string(),
            "not a kms-workshop sandbox state directory",
        ],
    );
    assert_eq!(
        snapshot_dir(&foreign),
        before,
        "nothing created, changed or deleted"
    );
    assert_eq!(
        std::fs::read(foreign.join("src").join("main.rs")).unwrap(),
        b"fn main() {}"
    );

    // A marker from another program is foreign too.
    let other = dir.path().join("other-tool");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(
        other.join("sandbox.json"),
        br#"{"format":"something-else","version":1}"#,
    )
    .unwrap();
    let before = snapshot_dir(&other);
    let out = serve_expecting_refusal(&state_args(&other));
    assert_refused(&out, &[&other.display().to_string()]);
    assert_eq!(snapshot_dir(&other), before);

    // A regular file where the directory should be.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = serve_expecting_refusal(&state_args(&file));
    assert_refused(&out, &[&file.display().to_string()]);
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}
