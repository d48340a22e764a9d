//! Time from process start to the first answered request, and resident memory once idle:
//! `kms-workshop sandbox serve` (the release binary, default seed) against `moto_server`, each
//! started several times; the median is reported.
//!
//! "Answered" is an HTTP status line in reply to a plain request on the port: the moment a
//! client could start working. Polling is every 2 ms, so that is the resolution.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Startup {
    pub target: String,
    pub runs_ms: Vec<f64>,
    pub median_ms: f64,
    /// VmRSS of the server process a moment after its first answer (median over the runs).
    pub idle_rss_mb: f64,
}

pub(crate) fn answered(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    buf.starts_with(b"HTTP/1.")
}

/// A memory figure of process `pid` from /proc (`key`: "VmRSS:", "VmHWM:"), in MB.
pub(crate) fn proc_status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_mb(&status, key)
}

/// A memory figure (`key`: "VmRSS:", "VmHWM:", "RssAnon:") of a /proc `status` text, in MB.
pub(crate) fn status_mb(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A child process killed (and reaped) when dropped.
pub(crate) struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a process holds in memory, in MB: all resident pages, and the anonymous part of them
/// (its heap and stacks; the rest is the program file's pages, which differ between programs).
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct Resident {
    #[serde(deserialize_with = "null_as_nan")]
    pub rss_mb: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub anon_mb: f64,
}

/// A figure /proc did not have is NaN, which JSON writes as `null` (a worker's result comes
/// back as JSON): read back as NaN, not refused.
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v: Option<f64> = serde::Deserialize::deserialize(d)?;
    Ok(v.unwrap_or(f64::NAN))
}

impl Resident {
    /// Process `pid`'s figures (NaN where /proc does not have them).
    pub fn of(pid: u32) -> Resident {
        Self::from_status(&format!("/proc/{pid}/status"))
    }

    /// This process's figures.
    pub fn own() -> Resident {
        Self::from_status("/proc/self/status")
    }

    fn from_status(path: &str) -> Resident {
        let status = std::fs::read_to_string(path).unwrap_or_default();
        let mb = |key: &str| status_mb(&status, key).unwrap_or(f64::NAN);
        Resident {
            rss_mb: mb("VmRSS:"),
            anon_mb: mb("RssAnon:"),
        }
    }
}

/// One start: spawn `program args…` (with `{port}` in args replaced; `prepare` sets up the
/// rest of the command), poll until it answers; the milliseconds that took, and what the
/// process holds half a second later.
pub fn once(
    program: &Path,
    args: &[&str],
    prepare: impl FnOnce(&mut Command),
) -> Result<(f64, Resident)> {
    let (child, _, ms) = start(program, args, prepare)?;
    // Let start-up work that follows the first answer (if any) settle before the idle figure.
    std::thread::sleep(Duration::from_millis(500));
    Ok((ms, Resident::of(child.0.id())))
}

/// Spawn `program args…` (with `{port}` in args replaced by a free loopback port; `prepare`
/// sets up the rest of the command: its environment, where its standard error goes) and poll
/// until it answers: the running process, its port, and the milliseconds to its first answer.
pub fn start(
    program: &Path,
    args: &[&str],
    prepare: impl FnOnce(&mut Command),
) -> Result<(Killed, u16, f64)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect();
    let mut command = Command::new(program);
    command
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    prepare(&mut command);
    let started = Instant::now();
    let mut child = Killed(
        command
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?,
    );
    let deadline = started + Duration::from_secs(120);
    loop {
        if answered(port) {
            return Ok((child, port, started.elapsed().as_secs_f64() * 1000.0));
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            bail!("{} exited at start-up ({status})", program.display());
        }
        if Instant::now() > deadline {
            bail!("{} did not answer within 120 s", program.display());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn measure(target: &str, program: &Path, args: &[&str], runs: usize) -> Result<Startup> {
    // One unmeasured start warms the page cache (binary, Python modules) for both sides alike.
    once(program, args, |_| {})?;
    let mut runs_ms = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let (ms, resident) = once(program, args, |_| {})?;
        runs_ms.push(ms);
        rss.push(resident.rss_mb);
    }
    Ok(Startup {
        target: target.to_string(),
        median_ms: crate::median(&runs_ms),
        idle_rss_mb: crate::median(&rss),
        runs_ms,
    })
}
