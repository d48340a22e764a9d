//! The guided run's "I'll do it myself" path, as a learner takes it: `kms-workshop run` under a
//! pseudo-terminal against its built-in sandbox, and every step done in "another terminal" by
//! running, with `sh`, exactly the commands the runner showed (the `aws` CLI, and
//! `kms-workshop cleanup` for the last step) with exactly the settings it printed. The
//! confirmation link is followed from the email the runner shows.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::bin;
use rexpect::process::wait::WaitStatus;
use rexpect::reader::{ReadUntil, Regex};
use rexpect::session::{spawn_command, PtySession};

/// The learner at their terminal: the runner's session, everything it printed so far, and
/// the settings it gave for the AWS CLI.
pub(crate) struct Learner {
    pub(crate) p: PtySession,
    pub(crate) seen: String,
    exports: Vec<String>,
    data: PathBuf,
    elsewhere: tempfile::TempDir,
}

const DOWN: &str = "\x1b[B";

impl Learner {
    pub(crate) fn start(data: &Path, extra: &[&str]) -> Learner {
        let mut c = common::run_in_sandbox(data);
        c.args(["--cloudtrail-timeout", "30s"]).args(extra);
        let p = spawn_command(c, Some(60_000)).expect("spawn under a pty");
        Learner {
            p,
            seen: String::new(),
            exports: Vec::new(),
            data: data.to_path_buf(),
            elsewhere: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Start the runner and answer its email prompt; at step 1's menu next.
    pub(crate) fn begin(data: &Path, extra: &[&str]) -> Learner {
        let mut l = Learner::start(data, extra);
        l.expect("Email address");
        l.send("learner@example.com\r");
        l.expect("Step 1/6");
        l
    }

    /// Read up to `s`; what came before it.
    pub(crate) fn expect(&mut self, s: &str) -> String {
        match self.p.exp_string(s) {
            Ok(before) => {
                self.seen += &before;
                self.seen += s;
                before
            }
            Err(e) => panic!("waiting for {s:?}: {e}\n--- so far:\n{}", self.tail()),
        }
    }

    /// Read up to the first of `options`; which one came, and what came before it.
    pub(crate) fn expect_one(&mut self, options: &[&str]) -> (usize, String) {
        let wanted = options
            .iter()
            .map(|s| ReadUntil::String(s.to_string()))
            .collect();
        match self.p.exp_any(wanted) {
            Ok((before, matched)) => {
                self.seen += &before;
                self.seen += &matched;
                let i = options.iter().position(|o| *o == matched).unwrap_or(0);
                (i, before)
            }
            Err(e) => panic!(
                "waiting for one of {options:?}: {e}\n--- so far:\n{}",
                self.tail()
            ),
        }
    }

    pub(crate) fn tail(&self) -> String {
        let start = self.seen.len().saturating_sub(6000);
        let start = (start..self.seen.len())
            .find(|i| self.seen.is_char_boundary(*i))
            .unwrap_or(0);
        self.seen[start..].to_string()
    }

    pub(crate) fn send(&mut self, s: &str) {
        self.p.send(s).expect("send");
        self.p.flush().expect("flush");
    }

    /// At the step's menu (its heading read already), choose "I'll do it myself"; the
    /// commands the step showed.
    pub(crate) fn do_it_myself(&mut self) -> Vec<String> {
        let intro = self.expect("What now?");
        self.send(DOWN);
        self.send("\r");
        let said = self.expect("Done? Verify now");
        if self.exports.is_empty() {
            self.exports = said
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("export ") || l.starts_with("unset "))
                .map(str::to_string)
                .collect();
        }
        commands(&intro)
    }

    /// Choose "I'll do it myself" and run every command shown, filled in; the commands.
    fn do_step(&mut self) -> Vec<String> {
        let cmds = self.do_it_myself();
        assert_filled(&cmds);
        for c in &cmds {
            self.run(c);
        }
        cmds
    }

    /// Run one shown command in "another terminal": `sh` with the printed settings, from
    /// another directory, the AWS CLI and kms-workshop on the PATH.
    pub(crate) fn run(&self, command: &str) -> String {
        assert!(
            !self.exports.is_empty(),
            "the runner printed no settings for the AWS CLI:\n{}",
            self.tail()
        );
        let aws_dir = common::aws_bin().parent().expect("venv bin").to_path_buf();
        let bin_dir = bin().parent().expect("target dir").to_path_buf();
        let path = std::env::join_paths([aws_dir, bin_dir].into_iter().chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .expect("PATH");
        let script = format!("set -e\n{}\n{command}\n", self.exports.join("\n"));
        let out = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(self.elsewhere.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.data)
            .env("XDG_DATA_HOME", &self.data)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .output()
            .expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "the shown command failed: {command}\nstdout: {stdout}\nstderr: {}\n--- runner:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.tail()
        );
        stdout
    }

    /// Answer "Done? Verify now" and expect the step to verify (the next heading, or the end).
    pub(crate) fn verified(&mut self, next: &str) {
        self.send("\r");
        let (i, _) = self.expect_one(&[next, "Not done yet", "could not run"]);
        assert_eq!(i, 0, "the step did not verify:\n{}", self.tail());
    }
}

/// The `$ …` lines of a step's introduction.
pub(crate) fn commands(intro: &str) -> Vec<String> {
    intro
        .lines()
        .filter_map(|l| l.trim().strip_prefix("$ "))
        .map(|l| l.trim().to_string())
        .collect()
}

/// No `{placeholder}` left in a shown command (a JSON pattern's braces are not one).
fn assert_filled(cmds: &[String]) {
    let re = regex_lite(r"\{[a-z_]+\}");
    for c in cmds {
        assert!(!re.is_match(c), "a placeholder is left in: {c}");
    }
}

fn regex_lite(re: &str) -> Regex {
    Regex::new(re).expect("regex")
}

#[test]
fn every_step_done_by_hand_with_the_commands_shown_verifies() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut l = Learner::begin(data.path(), &[]);

    // 1. The data key.
    let cmds = l.do_it_myself();
    assert_filled(&cmds);
    assert!(
        cmds.iter().any(|c| c.contains("generate-data-key")),
        "{cmds:?}"
    );
    for c in &cmds {
        let out = l.run(c);
        // The plaintext key is the learner's to see when they ask for it.
        assert!(out.contains("Plaintext"), "{out}");
    }
    l.verified("Step 2/6");

    // 2. CloudTrail: the learner's own lookups, then the runner's check finds the call.
    let cmds = l.do_it_myself();
    assert_filled(&cmds);
    assert_eq!(cmds.len(), 4, "{cmds:?}");
    for c in &cmds {
        let out = l.run(c);
        if c.contains("AttributeKey=EventName") {
            assert!(out.contains("GenerateDataKey"), "{c}: {out}");
        }
    }
    l.verified("Step 3/6");

    // 3. The topic and subscription; the confirmation link from the email shown.
    l.do_step();
    l.send("\r");
    l.expect("From:");
    l.expect("Subject:");
    let (_, link) =
        l.p.exp_regex(r"http://127\.0\.0\.1:[0-9]+/\?Action=ConfirmSubscription[^\s]+")
            .unwrap_or_else(|e| panic!("no confirmation link shown: {e}\n{}", l.tail()));
    l.seen += &link;
    l.expect("to confirm");
    let endpoint = link.split("/?").next().unwrap_or_default().to_string();
    let path = &link[endpoint.len()..];
    let (status, body) = common::http::raw(&endpoint, "GET", path, &[], b"");
    assert_eq!(status, 200, "{body}");
    let (i, _) = l.expect_one(&["Step 4/6", "Not done yet"]);
    assert_eq!(i, 0, "{}", l.tail());

    // 4. The rule, the topic policy from the file the runner wrote, the target, a data key.
    let cmds = l.do_step();
    assert!(
        cmds.iter().any(|c| c.contains("file:///")),
        "the policy file is named by its full path: {cmds:?}"
    );
    l.send("\r");
    l.expect("Subject:");
    let (i, _) = l.expect_one(&["Step 5/6", "Not done yet"]);
    assert_eq!(i, 0, "{}", l.tail());

    // 5. The metric and the alarm; the runner moves the clock and shows the alarm email.
    l.do_step();
    l.send("\r");
    l.expect("Move the sandbox clock");
    l.send("y");
    l.expect("Subject: ALARM");
    let checklist = l.expect("Step 6/6");
    // The criteria read the state after the clock moved, not before it.
    assert!(checklist.contains("ALARM"), "{checklist}");
    let metric_line = checklist
        .lines()
        .find(|x| x.contains("until the material expires"))
        .unwrap_or_else(|| panic!("no metric reading:\n{checklist}"));
    assert!(
        !metric_line.contains("(20."),
        "pre-warp reading: {metric_line}"
    );

    // 6. The clean-up, with the command shown.
    let cmds = l.do_step();
    assert!(
        cmds.iter().all(|c| c.starts_with("kms-workshop cleanup")),
        "{cmds:?}"
    );
    l.verified("Every step is done and verified");
    l.seen += &l.p.exp_eof().expect("exits");
    let status = l.p.process.wait().expect("wait");
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "{status:?}\n{}",
        l.tail()
    );
    // The learner can come back to the settings: they are kept in a file.
    assert!(
        l.seen.contains("sandbox.env"),
        "the settings file is named:\n{}",
        l.tail()
    );
}

#[test]
fn step_one_by_hand_then_step_two_for_me_finds_the_learners_call() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut l = Learner::begin(data.path(), &["--keep"]);
    l.do_step();
    l.verified("Step 2/6");
    l.expect("What now?");
    // "Do it for me" (the default).
    l.send("\r");
    let (i, _) = l.expect_one(&["Step 3/6", "Not done yet", "skipped"]);
    assert_eq!(
        i,
        0,
        "step 2 did not find the learner's call:\n{}",
        l.tail()
    );
    l.expect("What now?");
    l.send_control_c();
}

impl Learner {
    fn send_control_c(&mut self) {
        self.p.send_control('c').expect("ctrl-c");
        let _ = self.p.exp_eof();
    }
}
