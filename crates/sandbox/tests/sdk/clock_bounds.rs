//! The sandbox clock cannot be broken: an advance beyond what the sandbox can represent (a
//! thousand centuries, `1e300`, an offset stored by hand) is refused with a message a person
//! can act on, and the sandbox keeps serving, ticking and reopening.

use crate::common;

use common::{learner_config, serve};
use kms_workshop_sandbox::store::Store;
use kms_workshop_sandbox::{clock, Config, Sandbox};

fn workshop_in(dir: &std::path::Path) -> Config {
    Config {
        state_dir: Some(dir.to_path_buf()),
        ..Config::default()
    }
}

async fn still_serves(ep: &str) {
    let cfg = learner_config(ep).await;
    aws_sdk_kms::Client::new(&cfg)
        .list_keys()
        .send()
        .await
        .expect("the sandbox still serves");
}

#[tokio::test]
async fn advances_beyond_the_limit_are_refused_and_the_sandbox_keeps_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = Sandbox::open(workshop_in(dir.path())).expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    for seconds in ["1e12", "1e300", "9223372036854775807"] {
        let resp = http
            .post(format!("{ep}/_sandbox/clock/advance?seconds={seconds}"))
            .header(kms_workshop_sandbox::access::TOKEN_HEADER, sb.admin_token())
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 400, "{seconds}");
        let text = resp.text().await.expect("body");
        assert!(text.contains("seconds"), "{text}");
    }
    // In process too.
    assert!(sb.advance_clock(time::Duration::days(365 * 1000)).is_err());
    // Many allowed advances cannot add up past the limit either.
    let step = clock::MAX_OFFSET / 3;
    let mut refused = false;
    for _ in 0..4 {
        refused |= sb.advance_clock(step).is_err();
    }
    assert!(refused, "the sum of advances is bounded too");
    sb.tick();
    still_serves(&ep).await;
    let now = sb.clock.now();
    running.shutdown().await;
    drop(sb);
    // The state reopens and serves, its clock where it was.
    let sb = Sandbox::open(workshop_in(dir.path())).expect("reopen");
    assert!(sb.clock.now() >= now);
    let running = serve(&sb).await;
    still_serves(&format!("http://{}", running.addr)).await;
}

#[test]
fn a_stored_offset_beyond_the_limit_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Sandbox::open(workshop_in(dir.path())).expect("sandbox"));
    // What an older build could store.
    let (store, _) = Store::open(dir.path()).expect("store");
    store
        .put(
            &["clock_offset_ms"],
            serde_json::json!(1_000_000_000_000_000i64),
        )
        .expect("put");
    drop(store);
    let err = Sandbox::open(workshop_in(dir.path()))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("clock_offset_ms"), "{err}");
}
