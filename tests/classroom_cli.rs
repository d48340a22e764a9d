//! Classroom mode through the binary and the aws CLI: `sandbox serve --learners N`, each
//! learner's exports from `sandbox env --learner K`, the instructor's role into every account,
//! `sandbox reset --learner K`, each learner's one-time console link (`sandbox env --console`),
//! and clear refusals of bad learner numbers.

use crate::common;

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use common::*;
use kms_workshop_names::sandbox::{CLASSROOM_ROLE, MAX_LEARNERS};
use kms_workshop_names::{IMPORTED_ALIAS, ROLE, TOPIC};

/// The variables `kms-workshop sandbox env …` exports.
fn exports(endpoint: &str, args: &[&str]) -> HashMap<String, String> {
    let out = Command::new(bin())
        .args(["sandbox", "env", "--endpoint", endpoint])
        .args(args)
        .output()
        .expect("run sandbox env");
    assert!(out.status.success(), "{}", stderr_of(&out));
    kms_workshop_testkit::parse_exports(&String::from_utf8_lossy(&out.stdout))
}

fn aws_as(endpoint: &str, env: &HashMap<String, String>) -> Command {
    aws_with(
        endpoint,
        &env["AWS_ACCESS_KEY_ID"],
        &env["AWS_SECRET_ACCESS_KEY"],
        env.get("AWS_SESSION_TOKEN").map(String::as_str),
    )
}

fn sandbox_cmd(endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("sandbox")
        .args(args)
        .args(["--endpoint", endpoint])
        .output()
        .expect("run kms-workshop")
}

#[test]
fn each_learner_has_an_account_and_the_instructor_reaches_all() {
    let sb = SandboxProc::start(&["--learners", "3"]);
    let ep = &sb.endpoint;
    let mut accounts = Vec::new();
    for k in ["1", "2", "3"] {
        let env = exports(ep, &["--learner", k]);
        let who = run_json(aws_as(ep, &env).args(["sts", "get-caller-identity"]));
        accounts.push(who["Account"].as_str().expect("Account").to_string());
        // The instance role's session too.
        let inst = exports(ep, &["--learner", k, "--identity", "instance"]);
        let who = run_json(aws_as(ep, &inst).args(["sts", "get-caller-identity"]));
        assert_eq!(who["Account"].as_str(), accounts.last().map(String::as_str));
        assert!(who["Arn"]
            .as_str()
            .is_some_and(|a| a.contains(&format!(":assumed-role/{ROLE}/"))));
    }
    assert_eq!(accounts[0], ACCOUNT);
    assert_eq!(
        accounts
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        3
    );

    // Learner 2's topic is not learner 3's.
    let two = exports(ep, &["--learner", "2"]);
    let three = exports(ep, &["--learner", "3"]);
    let topic = run_json(aws_as(ep, &two).args(["sns", "create-topic", "--name", TOPIC]));
    let arn = topic["TopicArn"].as_str().expect("TopicArn").to_string();
    assert!(arn.contains(&accounts[1]));
    let listed = run_json(aws_as(ep, &three).args(["sns", "list-topics"]));
    assert!(!listed.to_string().contains(&accounts[1]), "{listed}");

    // The instructor assumes the classroom role in learner 3's account.
    let instructor = exports(ep, &["--identity", "instructor"]);
    let role = format!("arn:aws:iam::{}:role/{CLASSROOM_ROLE}", accounts[2]);
    let assumed = run_json(aws_as(ep, &instructor).args([
        "sts",
        "assume-role",
        "--role-arn",
        &role,
        "--role-session-name",
        "instructor-cleanup",
    ]));
    let c = &assumed["Credentials"];
    let as_role = HashMap::from([
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            c["AccessKeyId"].as_str().unwrap_or_default().to_string(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            c["SecretAccessKey"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        (
            "AWS_SESSION_TOKEN".to_string(),
            c["SessionToken"].as_str().unwrap_or_default().to_string(),
        ),
    ]);
    let who = run_json(aws_as(ep, &as_role).args(["sts", "get-caller-identity"]));
    assert_eq!(who["Account"].as_str(), Some(accounts[2].as_str()));

    // Reset learner 2: the topic is gone; learner 3's account is as it was.
    let out = sandbox_cmd(ep, &["reset", "--learner", "2"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listed = run_json(aws_as(ep, &two).args(["sns", "list-topics"]));
    assert!(
        !listed.to_string().contains(&format!(":{TOPIC}\"")),
        "{listed}"
    );

    // The learners table lists all three.
    let out = sandbox_cmd(ep, &["learners"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for a in &accounts {
        assert!(text.contains(a.as_str()), "{text}");
    }
}

/// The largest classroom starts, and its last learner has an account of their own.
#[test]
fn the_largest_classroom_serves_its_last_learner() {
    let sb = SandboxProc::start(&["--learners", &MAX_LEARNERS.to_string()]);
    let ep = &sb.endpoint;
    let last = exports(ep, &["--learner", &MAX_LEARNERS.to_string()]);
    let who = run_json(aws_as(ep, &last).args(["sts", "get-caller-identity"]));
    let account = who["Account"].as_str().expect("Account");
    let expected = ACCOUNT.parse::<u64>().expect("account") + u64::from(MAX_LEARNERS) - 1;
    assert_eq!(account, format!("{expected:012}"));
    // The account is seeded on this first request: the workshop's key is there.
    let aliases = run_json(aws_as(ep, &last).args(["kms", "list-aliases"]));
    assert!(aliases.to_string().contains(IMPORTED_ALIAS), "{aliases}");
}

/// A learner holds only their own keys, not the admin token: the guided run cannot move the
/// class's clock, so it waits for the alarm's next minute as on AWS and still verifies every
/// step (it used to stop at the alarm, refused the clock).
#[test]
fn a_learner_without_the_admin_token_completes_the_guided_run() {
    let sb = SandboxProc::start(&["--learners", "2"]);
    let ep = &sb.endpoint;
    let second = exports(ep, &["--learner", "2"]);
    let data = tempfile::tempdir().expect("a data directory");
    let mut run = bare_command();
    run.env("HOME", data.path())
        .env("XDG_DATA_HOME", data.path())
        .env("AWS_ACCESS_KEY_ID", &second["AWS_ACCESS_KEY_ID"])
        .env("AWS_SECRET_ACCESS_KEY", &second["AWS_SECRET_ACCESS_KEY"])
        .args(["run", "--endpoint", ep, "--non-interactive"])
        .args(["--email", "learner2@example.com"]);
    let out = output_within(&mut run, Duration::from_secs(300));
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("the class's"), "{text}");
    assert!(!text.contains("refused moving its clock"), "{text}");
}

#[test]
fn bad_learner_numbers_are_refused_clearly() {
    let sb = SandboxProc::start(&["--learners", "2"]);
    let ep = &sb.endpoint;
    let out = Command::new(bin())
        .args(["sandbox", "env", "--endpoint", ep, "--learner", "5"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("no learner 5") && err.contains("1 to 2"),
        "{err}"
    );
    let out = sandbox_cmd(ep, &["reset", "--learner", "3"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("There is no learner 3"),
        "{}",
        stderr_of(&out)
    );
    let above = (MAX_LEARNERS + 1).to_string();
    for bad in ["0", above.as_str(), "many"] {
        let out = output_within(
            Command::new(bin()).args(["sandbox", "serve", "--port", "0", "--learners", bad]),
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(2), "--learners {bad}");
        assert!(
            stderr_of(&out).contains("--learners"),
            "{}",
            stderr_of(&out)
        );
    }
    // Without classroom mode there is no instructor, and the message says how to get one.
    let single = SandboxProc::start(&[]);
    let out = Command::new(bin())
        .args([
            "sandbox",
            "env",
            "--endpoint",
            &single.endpoint,
            "--identity",
            "instructor",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("--learners"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn the_admin_token_comes_from_a_file_or_the_state_dir_and_a_wrong_one_is_refused() {
    let state = tempfile::tempdir().expect("tempdir");
    let dir = state.path().join("class");
    let sb = SandboxProc::start(&[
        "--learners",
        "2",
        "--state-dir",
        dir.to_str().expect("utf-8"),
    ]);
    let ep = &sb.endpoint;
    let learners = |extra: &[&str]| {
        // Without the environment's token or this user's published file: only what is given.
        let mut c = bare_command();
        c.args(["sandbox", "learners", "--endpoint", ep])
            .args(extra);
        c.output().expect("run")
    };
    let file = state.path().join("token");
    std::fs::write(&file, format!("{}\n", sb.token)).expect("write token");
    for extra in [
        vec!["--token-file", file.to_str().expect("utf-8")],
        vec!["--state-dir", dir.to_str().expect("utf-8")],
    ] {
        let out = learners(&extra);
        assert!(out.status.success(), "{extra:?}: {}", output_text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("111122223334"));
    }
    std::fs::write(&file, "0".repeat(64)).expect("write token");
    let out = learners(&["--token-file", file.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(output_text(&out).contains("401"), "{}", output_text(&out));
    // No token at all: the learners' keys are not handed out.
    let out = learners(&[]);
    assert!(!out.status.success(), "{}", output_text(&out));
}

/// The status code of a plain request to `url` (no redirects followed); a form body is
/// posted from the sandbox's own origin, as the link's page posts it.
fn status_of(method: &str, url: &str, form: Option<&str>) -> u16 {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut s = std::net::TcpStream::connect(host).expect("connects");
    let body = form.unwrap_or_default();
    let form_headers = match form {
        Some(_) => {
            format!("Origin: http://{host}\r\nContent-Type: application/x-www-form-urlencoded\r\n")
        }
        None => String::new(),
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{form_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("sent");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("an answer");
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer}"))
}

#[test]
fn each_learner_gets_a_one_time_console_link_of_their_own() {
    let sb = SandboxProc::start(&["--learners", "2"]);
    let ep = &sb.endpoint;
    let out = Command::new(bin())
        .args([
            "sandbox",
            "env",
            "--endpoint",
            ep,
            "--console",
            "--learner",
            "2",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        url.starts_with(&format!("{ep}/console/signin?token=")),
        "{url}"
    );
    let note = stderr_of(&out);
    assert!(
        note.contains("learner 2")
            && note.contains(&kms_workshop_names::sandbox::learner(2).account),
        "{note}"
    );
    assert_eq!(status_of("GET", &url, None), 200, "the link's page");
    assert_eq!(
        status_of("GET", &url, None),
        200,
        "opening it uses nothing up"
    );
    let token = format!("token={}", url.split("token=").nth(1).expect("a token"));
    let form = format!("{ep}/console/signin");
    assert_eq!(
        status_of("POST", &form, Some(&token)),
        303,
        "its form signs in"
    );
    assert_eq!(status_of("POST", &form, Some(&token)), 403, "once");
    let out = sandbox_cmd(ep, &["env", "--console", "--identity", "instance"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("not the instance"),
        "{}",
        stderr_of(&out)
    );
    // The instructor's link (the class view), for the admin token's holder.
    let out = sandbox_cmd(ep, &["env", "--console", "--identity", "instructor"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/console/signin?token="));
    assert!(
        stderr_of(&out).contains("the instructor"),
        "{}",
        stderr_of(&out)
    );
}
