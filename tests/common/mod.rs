//! Shared helpers for the end-to-end tests: start the `kms-workshop` binary's sandbox (or
//! `moto_server`) on a free loopback port, and run the real `aws` CLI against it.
//!
//! The Python tools come from the virtual environment that `scripts/test` creates
//! (`.venv/` at the workspace root), or from `KMS_WORKSHOP_AWS` / `KMS_WORKSHOP_MOTO_SERVER`.
#![allow(dead_code)]

pub mod differential;
pub mod http;
pub mod sigv4;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The seeded identities, from the one place that defines them (their secrets are each
/// sandbox's own: [`keys`]).
pub use kms_workshop_names::sandbox::{
    ACCOUNT, INSTANCE_ACCESS_KEY, INSTANCE_ID, LEARNER_ACCESS_KEY, REGION,
};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A tool from the test virtualenv; fails with instructions when it is missing.
pub fn venv_tool(name: &str, env_var: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env_var) {
        return PathBuf::from(p);
    }
    let p = workspace_root().join(".venv/bin").join(name);
    assert!(
        p.exists(),
        "{} not found: run the tests with ./scripts/test, which installs the pinned awscli and moto[server] into .venv (or set {env_var})",
        p.display()
    );
    p
}

pub fn aws_bin() -> PathBuf {
    venv_tool("aws", "KMS_WORKSHOP_AWS")
}

pub fn moto_bin() -> PathBuf {
    venv_tool("moto_server", "KMS_WORKSHOP_MOTO_SERVER")
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kms-workshop"))
}

/// A sandbox started as `kms-workshop sandbox serve --port 0 …`; killed on drop.
pub struct SandboxProc {
    pub child: Child,
    pub endpoint: String,
    /// Its admin token, as `sandbox serve` printed it.
    pub token: String,
}

/// The admin tokens of the sandboxes this test process started, by endpoint.
static TOKENS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// The admin token of the sandbox [`SandboxProc`] started at `endpoint`, if it did.
pub fn token_of(endpoint: &str) -> Option<String> {
    let tokens = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    tokens
        .iter()
        .rev()
        .find(|(e, _)| e == endpoint)
        .map(|(_, t)| t.clone())
}

impl SandboxProc {
    pub fn start(extra: &[&str]) -> SandboxProc {
        let mut child = Command::new(bin())
            .args(["sandbox", "serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kms-workshop sandbox serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut next = || {
            lines
                .next()
                .expect("sandbox printed too little")
                .expect("read stdout")
        };
        let first = next();
        let endpoint = first
            .rsplit(' ')
            .next()
            .filter(|e| e.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected first line from sandbox: {first}"))
            .to_string();
        let second = next();
        let token = second
            .trim()
            .strip_prefix("admin token: ")
            .and_then(|t| t.split_whitespace().next())
            .unwrap_or_else(|| panic!("no admin token line from sandbox: {second}"))
            .to_string();
        TOKENS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((endpoint.clone(), token.clone()));
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SandboxProc {
            child,
            endpoint,
            token,
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stop with SIGTERM (graceful) and wait.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `moto_server` on a free port; killed on drop.
pub struct MotoProc {
    pub child: Child,
    pub endpoint: String,
}

impl MotoProc {
    pub fn start() -> MotoProc {
        MotoProc::start_with_env(&[])
    }

    /// `moto_server` with these environment variables set (moto's options).
    pub fn start_with_env(env: &[(&str, &str)]) -> MotoProc {
        let port = free_port();
        let child = Command::new(moto_bin())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        MotoProc { child, endpoint }
    }
}

impl Drop for MotoProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The `aws` CLI pointed at `endpoint` with explicit credentials and no user config.
/// A command line's words, as a person types them: `words("s3api create-bucket --bucket b")`.
/// Tests write the commands they run the way the runner shows them, one line each.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

pub fn aws_with(endpoint: &str, access_key: &str, secret: &str, token: Option<&str>) -> Command {
    let mut c = Command::new(aws_bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", access_key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(["--output", "json"]);
    if let Some(t) = token {
        c.env("AWS_SESSION_TOKEN", t);
    }
    c
}

/// An identity's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// The seeded identities a test asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Classroom learner K's IAM user (1: the only learner outside classroom mode).
    Learner(u32),
    /// Learner K's workshop instance role session.
    Instance(u32),
    Instructor,
}

/// The keys the sandbox at `endpoint` made for `who`, as `kms-workshop sandbox env` hands them
/// out to the holder of its admin token (fetched once per sandbox and identity).
pub fn keys(endpoint: &str, who: Who) -> Keys {
    // By token, not endpoint: a later sandbox may get a port an earlier one had.
    static CACHE: Mutex<Vec<(String, Who, Keys)>> = Mutex::new(Vec::new());
    let token = token_of(endpoint)
        .unwrap_or_else(|| panic!("no sandbox started at {endpoint} by SandboxProc"));
    if let Some(k) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(t, w, _)| *t == token && *w == who)
    {
        return k.2.clone();
    }
    let (identity, k) = match who {
        Who::Learner(k) => ("learner", k),
        Who::Instance(k) => ("instance", k),
        Who::Instructor => ("instructor", 1),
    };
    let out = Command::new(bin())
        .args(["sandbox", "env", "--endpoint", endpoint, "--token", &token])
        .args(["--identity", identity, "--learner", &k.to_string()])
        .output()
        .expect("run kms-workshop sandbox env");
    assert!(out.status.success(), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let var = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(|v| v.trim_matches('\'').to_string())
    };
    let keys = Keys {
        access_key_id: var("AWS_ACCESS_KEY_ID").expect("an access key id"),
        secret_access_key: var("AWS_SECRET_ACCESS_KEY").expect("a secret access key"),
        session_token: var("AWS_SESSION_TOKEN"),
    };
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((token, who, keys.clone()));
    keys
}

/// The seeded learner's keys for `endpoint`: the sandbox's own when [`SandboxProc`] started
/// it, else made-up ones (`moto_server` and the tests' fake endpoints take any).
pub fn learner_keys(endpoint: &str) -> Keys {
    match token_of(endpoint) {
        Some(_) => keys(endpoint, Who::Learner(1)),
        None => Keys {
            access_key_id: LEARNER_ACCESS_KEY.to_string(),
            secret_access_key: "any-secret-for-a-peer".to_string(),
            session_token: None,
        },
    }
}

/// The SDK configuration (no retries) of the seeded learner at `endpoint`, as [`learner_keys`].
pub async fn learner_sdk(endpoint: &str) -> aws_config::SdkConfig {
    let k = learner_keys(endpoint);
    kms_workshop_testkit::credentials_config(
        endpoint,
        &k.access_key_id,
        &k.secret_access_key,
        k.session_token.as_deref(),
    )
    .await
}

/// The `aws` CLI as `who` of the sandbox at `endpoint`.
pub fn aws_as(endpoint: &str, who: Who) -> Command {
    let k = keys(endpoint, who);
    aws_with(
        endpoint,
        &k.access_key_id,
        &k.secret_access_key,
        k.session_token.as_deref(),
    )
}

/// The `aws` CLI as the seeded learner: of the sandbox at `endpoint` when [`SandboxProc`]
/// started it, else with made-up keys (`moto_server` takes any).
pub fn aws(endpoint: &str) -> Command {
    let k = learner_keys(endpoint);
    aws_with(endpoint, &k.access_key_id, &k.secret_access_key, None)
}

/// The `aws` CLI as the workshop instance's role session.
pub fn aws_instance(endpoint: &str) -> Command {
    aws_as(endpoint, Who::Instance(1))
}

/// Run, expect success, parse stdout as JSON (empty stdout → null).
pub fn run_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "command failed: {:?}\nstdout: {}\nstderr: {}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }
}

/// Run, expect failure; returns the output (stderr holds the AWS error code).
pub fn run_fail(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run command");
    assert!(
        !out.status.success(),
        "command unexpectedly succeeded: {:?}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Run a command that is expected to end by itself, but kill it and fail the test if it is
/// still running after `limit`: a command that should have been refused but started a server
/// instead would otherwise hang the whole suite.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read both pipes on their own threads so a chatty child cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Run, expect failure with `what` (an error code, a message) in stderr; returns stderr.
pub fn fails_with(cmd: &mut Command, what: &str) -> String {
    let err = stderr_of(&run_fail(cmd));
    assert!(err.contains(what), "{cmd:?}: {err}");
    err
}

/// The AWS error code in the CLI's "An error occurred (Code) when calling …" message, if any.
pub fn cli_error_code(stderr: &str) -> Option<&str> {
    stderr
        .split("An error occurred (")
        .nth(1)
        .and_then(|r| r.split(')').next())
}

/// The AWS error code of a failed CLI run; panics when stderr holds none.
pub fn error_code(out: &Output) -> String {
    let s = stderr_of(out);
    cli_error_code(&s)
        .unwrap_or_else(|| panic!("no AWS error in stderr: {s}"))
        .to_string()
}

/// Run, expect the AWS error `code`; returns stderr.
pub fn expect_error(cmd: &mut Command, code: &str) -> String {
    let out = run_fail(cmd);
    assert_eq!(
        error_code(&out),
        code,
        "{cmd:?}\nstderr: {}",
        stderr_of(&out)
    );
    stderr_of(&out)
}

/// The sandbox's inbox (`kms-workshop sandbox inbox --json`): every message it delivered.
pub fn inbox(endpoint: &str) -> Vec<serde_json::Value> {
    let token = token_of(endpoint).expect("a sandbox started by SandboxProc");
    let out = Command::new(bin())
        .args([
            "sandbox",
            "inbox",
            "--json",
            "--endpoint",
            endpoint,
            "--token",
            &token,
        ])
        .output()
        .expect("run kms-workshop sandbox inbox");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 inbox")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON message a line"))
        .collect()
}

/// The notifications in the sandbox's inbox (not the subscription confirmations).
pub fn notifications(endpoint: &str) -> Vec<serde_json::Value> {
    inbox(endpoint)
        .into_iter()
        .filter(|m| m["kind"] == "Notification")
        .collect()
}

/// The workshop's own command (section IV, step 1): a data key of the imported key.
pub const WORKSHOP_GDK: [&str; 8] = [
    "kms",
    "generate-data-key",
    "--key-id",
    kms_workshop_names::IMPORTED_ALIAS,
    "--key-spec",
    "AES_256",
    "--encryption-context",
    "project=workshop",
];

/// `aws sns create-topic --name name` and these extra arguments; the topic's ARN.
pub fn create_topic(endpoint: &str, name: &str, extra: &[&str]) -> String {
    let out = run_json(
        aws(endpoint)
            .args(["sns", "create-topic", "--name", name])
            .args(extra),
    );
    out["TopicArn"].as_str().expect("TopicArn").to_string()
}

/// `aws sns subscribe`: `to` by `protocol` to `topic`; the answer.
pub fn subscribe(endpoint: &str, topic: &str, protocol: &str, to: &str) -> serde_json::Value {
    run_json(aws(endpoint).args([
        "sns",
        "subscribe",
        "--topic-arn",
        topic,
        "--protocol",
        protocol,
        "--notification-endpoint",
        to,
    ]))
}

/// `kms-workshop` with no AWS credentials or configuration from the user's environment.
pub fn bare_command() -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        // No guided run's progress file (and so no inventory) unless a test passes one.
        .env("XDG_DATA_HOME", "/nonexistent/kms-workshop-tests")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", REGION);
    c
}

/// `kms-workshop` with the learner's credentials of the sandbox at `endpoint` in the
/// environment, as `eval "$(kms-workshop sandbox env)"` would set them (less the endpoint),
/// and the sandbox's admin token, as its operator has it.
pub fn learner_command(endpoint: &str) -> Command {
    let k = learner_keys(endpoint);
    let mut c = bare_command();
    c.env("AWS_ACCESS_KEY_ID", k.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", k.secret_access_key)
        .env(
            "KMS_WORKSHOP_SANDBOX_TOKEN",
            token_of(endpoint).unwrap_or_default(),
        );
    c
}

/// `kms-workshop cleanup --endpoint ENDPOINT …` as the learner.
pub fn cleanup_command(endpoint: &str, args: &[&str]) -> Command {
    let mut c = learner_command(endpoint);
    c.args(["cleanup", "--endpoint", endpoint]).args(args);
    c
}

/// A command's output, both streams, for assertion messages.
pub fn output_text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The binary with a private data directory (`data`: its progress, its built-in sandbox's
/// state) and no AWS configuration at all.
pub fn private_binary(data: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", data)
        .env("XDG_DATA_HOME", data)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// `kms-workshop run --sandbox` as a learner at a terminal starts it.
pub fn run_in_sandbox(data: &Path) -> Command {
    let mut c = private_binary(data);
    c.env("TERM", "xterm-256color").args(["run", "--sandbox"]);
    c
}
