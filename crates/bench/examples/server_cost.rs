//! The server's own cost of one GenerateDataKey, without the SDK's: one request signed by
//! aws-sdk-kms is captured once, then replayed byte for byte over one keep-alive connection by
//! a plain blocking client, N times, against the in-process sandbox (state on disk, SigV4
//! verified, CloudTrail recording on, as in part (a) of the benchmark) or the ceiling server.
//! What is left of a request is the server's work, the runtime's and the loopback's; with the
//! SDK beside it (part (a)) the client's work is most of each request.
//!
//! ```sh
//! cargo build --release -p kms-workshop-bench --example server_cost
//! target/release/examples/server_cost sandbox 100000
//! target/release/examples/server_cost ceiling 100000
//! ```
//!
//! Prints the median and p99 round trip and the rate. Run under `perf stat` (with uprobes on
//! libc's `malloc`, `realloc` and `free`: `perf probe -x /lib/x86_64-linux-gnu/libc.so.6
//! malloc`) at two request counts, the difference divided by the difference in requests is the
//! allocations of one request, both sides of the loopback (the plain client makes none).
//! Every replay carries the same signature, so a run must end within the 15 minutes a signing
//! time is good for.

#[path = "../src/ceiling.rs"]
mod ceiling;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Requests sent before the measured ones (connection, caches).
const WARM_UP: usize = 2000;

/// Read one HTTP/1.1 answer into `buf`: its head, then as many body bytes as its
/// `content-length` says. Whether it is a 200.
fn read_answer(s: &mut impl Read, buf: &mut Vec<u8>) -> Result<bool> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).context("reading an answer")?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((head, len)) = head_and_length(buf)? {
            if buf.len() >= head + 4 + len {
                return Ok(buf.starts_with(b"HTTP/1.1 200"));
            }
        }
    }
}

/// The length of a message's head (up to its blank line) and its `content-length`, once the
/// head is all there.
fn head_and_length(buf: &[u8]) -> Result<Option<(usize, usize)>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len = match head.lines().find_map(|l| l.strip_prefix("content-length:")) {
        Some(v) => v.trim().parse().context("a content-length")?,
        None => 0,
    };
    Ok(Some((end, len)))
}

/// The bytes of one GenerateDataKey request as `config`'s client signs it: sent to a listener
/// of this program's, which keeps them and answers 500 (the client does not retry).
async fn capture(config: &aws_config::SdkConfig, key_id: &str) -> Result<Vec<u8>> {
    let listener = TcpListener::bind("127.0.0.1:0").context("a capturing listener")?;
    let addr = listener.local_addr()?;
    let grab = std::thread::spawn(move || -> Result<Vec<u8>> {
        let (mut s, _) = listener.accept()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                bail!("the client closed the connection before its request was whole");
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some((head, len)) = head_and_length(&buf)? {
                if buf.len() >= head + 4 + len {
                    break;
                }
            }
        }
        s.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n")?;
        Ok(buf)
    });
    let to_listener = config
        .to_builder()
        .endpoint_url(format!("http://{addr}"))
        .build();
    // Answered 500 by design: only the request is wanted.
    let _ = aws_sdk_kms::Client::new(&to_listener)
        .generate_data_key()
        .key_id(key_id)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .send()
        .await;
    grab.join()
        .map_err(|_| anyhow::anyhow!("the capturing thread panicked"))?
}

/// Send `request` `n` times after [`WARM_UP`] over one connection to `addr`: the median and
/// p99 round trip in µs, and requests a second.
fn replay(addr: &str, request: &[u8], n: usize) -> Result<(f64, f64, f64)> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_nodelay(true)?;
    let mut buf = Vec::new();
    let mut once = |s: &mut TcpStream| -> Result<()> {
        s.write_all(request).context("sending the request")?;
        if !read_answer(s, &mut buf)? {
            bail!("answered: {}", String::from_utf8_lossy(&buf));
        }
        Ok(())
    };
    for _ in 0..WARM_UP {
        once(&mut s)?;
    }
    let mut took = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        once(&mut s)?;
        took.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    took.sort_by(f64::total_cmp);
    Ok((took[n / 2], took[n * 99 / 100], rate))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_else(|| "sandbox".into());
    let n: usize = match args.next() {
        Some(v) => v.parse().context("the request count: a whole number")?,
        None => 100_000,
    };
    if !matches!(target.as_str(), "sandbox" | "ceiling") || n == 0 {
        bail!("usage: server_cost sandbox|ceiling [REQUESTS (at least 1; 100000)]");
    }
    let state = tempfile::tempdir().context("a state directory")?;
    let sb = kms_workshop_sandbox::Sandbox::open(kms_workshop_sandbox::Config {
        state_dir: Some(state.path().join("state")),
        seed: kms_workshop_sandbox::Seed::Empty,
        cloudtrail_delay: time::Duration::ZERO,
        lookup_rate_limit: false,
        ..Default::default()
    })
    .context("opening a sandbox")?;
    let running = kms_workshop_testkit::serve(&sb).await;
    let config = kms_workshop_testkit::learner_config(&running.endpoint()).await;
    let key = aws_sdk_kms::Client::new(&config)
        .create_key()
        .send()
        .await
        .context("CreateKey")?;
    let key_id = key
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .context("CreateKey answered no KeyMetadata")?;
    let request = capture(&config, &key_id).await?;
    // The ceiling answers without looking at the signature; it is kept for as long as this
    // runs.
    let _ceiling;
    let endpoint = match target.as_str() {
        "ceiling" => {
            let c = ceiling::start().await?;
            let e = c.endpoint.clone();
            _ceiling = c;
            e
        }
        _ => running.endpoint(),
    };
    let addr = endpoint.trim_start_matches("http://").to_string();
    let (p50, p99, rate) = tokio::task::spawn_blocking(move || replay(&addr, &request, n))
        .await
        .context("the replaying thread")??;
    println!("{target}: p50 {p50:.1} µs, p99 {p99:.1} µs, {rate:.0} requests/s ({n} requests)");
    Ok(())
}
