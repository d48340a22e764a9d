//! `kms-workshop run` under a pseudo-terminal, as a learner sees it: answer the first prompts,
//! let a step finish, press Ctrl-C at the next prompt, and check that the terminal was given
//! back (cursor shown again), that the progress was saved, and that a new run resumes at the
//! same step.

use crate::common;

use std::process::Command;

use rexpect::process::wait::WaitStatus;
use rexpect::session::spawn_command;

fn command(data: &std::path::Path) -> Command {
    common::run_in_sandbox(data)
}

/// The last cursor-visibility escape in `output` shows the cursor.
fn cursor_visible_at_end(output: &str) -> bool {
    match (output.rfind("\x1b[?25h"), output.rfind("\x1b[?25l")) {
        (Some(show), Some(hide)) => show > hide,
        (_, None) => true,
        (None, Some(_)) => false,
    }
}

#[test]
fn ctrl_c_restores_the_terminal_keeps_progress_and_resumes() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut p = spawn_command(command(data.path()), Some(60_000)).expect("spawn under a pty");
    let mut seen = String::new();
    seen += &p.exp_string("Email address").expect("email prompt");
    p.send_line("learner@example.com").expect("answer");
    seen += &p.exp_string("Step 1/6").expect("first step");
    seen += &p.exp_string("What now?").expect("choice prompt");
    // "Do it for me" is the default.
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    seen += &p.exp_string("Step 2/6").expect("second step");
    seen += &p.exp_string("What now?").expect("choice prompt");
    p.send_control('c').expect("ctrl-c");
    seen += &p.exp_eof().expect("exits");
    let status = p.process.wait().expect("wait");
    assert!(
        matches!(status, WaitStatus::Exited(_, 130)),
        "{status:?}\n{seen}"
    );
    assert!(seen.contains("interrupted"), "{seen}");
    assert!(
        cursor_visible_at_end(&seen),
        "cursor left hidden:\n{seen:?}"
    );

    // Saved: step 1 verified, step 2 next.
    let text = std::fs::read_to_string(data.path().join("kms-workshop/progress.json"))
        .expect("progress file");
    let progress: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(progress["steps"]["generate-data-key"]["status"], "verified");
    assert_eq!(progress["current"], "find-in-cloudtrail");

    // Again: it resumes at step 2.
    let mut p = spawn_command(command(data.path()), Some(60_000)).expect("spawn again");
    let mut seen = String::new();
    seen += &p.exp_string("Email address").expect("email prompt");
    p.send_line("learner@example.com").expect("answer");
    // rexpect reads bytes one by one, so non-ASCII (✔, —) arrives mangled: match ASCII.
    seen += &p
        .exp_string("Step 1/6: Generate a data key with ImportedCMK")
        .expect("step 1 listed");
    seen += &p.exp_string(" done\r\n").expect("step 1 done");
    seen += &p.exp_string("Step 2/6").expect("resumes at step 2");
    seen += &p.exp_string("What now?").expect("choice prompt");
    p.send_control('c').expect("ctrl-c");
    seen += &p.exp_eof().expect("exits");
    assert!(cursor_visible_at_end(&seen), "{seen:?}");
}
