//! The guided run against a sandbox as hard as AWS: `sandbox serve --realism aws --time-scale
//! 60` (CloudTrail delivery in seconds rather than minutes but drawn as on AWS, LookupEvents
//! throttled at 2 per second, other principals busy in the account, rules live only after a
//! moment, CreateTrail refused just after PutBucketPolicy, buckets of other regions redirected,
//! and its clock 8 minutes behind this machine's). The runner treats it as AWS: it
//! reads no inbox and moves no clock, so the test plays the person who clicks the
//! confirmation link, and every criterion must still be verified.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

/// A person at their mail client: follow each confirmation link sent to `recipient`.
fn click_confirmation_links(endpoint: String, recipient: &'static str, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let (status, body) = http::control(&endpoint, "GET", "/_sandbox/outbox");
        if status == 200 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            for m in v["messages"].as_array().into_iter().flatten() {
                if m["kind"] == "SubscriptionConfirmation" && m["recipient"] == recipient {
                    if let Some(url) = m["document"]["SubscribeURL"].as_str() {
                        let path = &url[endpoint.len()..];
                        let _ = http::raw(&endpoint, "GET", path, &[], b"");
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn the_whole_run_verifies_against_a_sandbox_as_hard_as_aws() {
    // And this machine's clock is 8 minutes fast, as a VM's may be.
    let sb = SandboxProc::start(&[
        "--realism",
        "aws",
        "--time-scale",
        "60",
        "--clock-behind",
        "8m",
    ]);
    let data = tempfile::tempdir().expect("tempdir");
    let stop = Arc::new(AtomicBool::new(false));
    let person = std::thread::spawn({
        let (ep, stop) = (sb.endpoint.clone(), stop.clone());
        move || click_confirmation_links(ep, "learner@example.com", stop)
    });
    let out = learner_command(&sb.endpoint)
        .args(["run", "--endpoint", &sb.endpoint, "--non-interactive"])
        .args(["--email", "learner@example.com", "--output", "json"])
        .args(["--confirm-timeout", "2m", "--cloudtrail-timeout", "3m"])
        .arg("--state")
        .arg(data.path().join("progress.json"))
        .output()
        .expect("run");
    stop.store(true, Ordering::SeqCst);
    let _ = person.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let steps: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(steps.len(), 6, "{stdout}");
    for s in &steps {
        assert_eq!(s["status"], "verified", "{s}");
        for c in s["criteria"].as_array().into_iter().flatten() {
            assert_eq!(c["status"], "passed", "{}: {c}", s["step"]);
        }
    }
    // The filters found the call among other people's events, past the first page.
    let by_source = steps[1]["criteria"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == "by-event-source"))
        .cloned()
        .unwrap_or_default();
    let n: usize = by_source["reason"]
        .as_str()
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(n > 50, "{by_source}");
}

/// On AWS a person must click the confirmation link: without prompts the run waits for it up
/// to --confirm-timeout, saying whom it waits for, then fails naming the step.
#[test]
fn an_unconfirmed_subscription_fails_its_step_after_the_confirm_timeout() {
    let sb = SandboxProc::start(&["--realism", "aws", "--time-scale", "60"]);
    let data = tempfile::tempdir().expect("tempdir");
    let out = learner_command(&sb.endpoint)
        .args(["run", "--endpoint", &sb.endpoint, "--non-interactive"])
        .args(["--email", "nobody-clicks@example.com", "--keep"])
        .args(["--confirm-timeout", "3s", "--cloudtrail-timeout", "3m"])
        .arg("--state")
        .arg(data.path().join("progress.json"))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("waiting for nobody-clicks@example.com to confirm"),
        "{stdout}"
    );
    assert!(
        stderr.contains("step 'sns-topic' did not verify"),
        "{stderr}"
    );
    assert!(stdout.contains("still pending"), "{stdout}");
}
