//! Unsigned SNS links (what a person clicks in an email) act only on what exists: a
//! confirmation needs the token the sandbox sent, an unsubscribe the subscription's ARN (whose
//! last part is a random UUID, as AWS's is), and a link naming something that does not exist,
//! in an account that does not exist, writes nothing to the state.

use crate::common;

use common::serve;
use kms_workshop_sandbox::{Config, Sandbox};

/// Everything the state directory holds, as text.
fn state_text(dir: &std::path::Path) -> String {
    ["state.log", "state.json"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .collect()
}

#[tokio::test]
async fn links_to_nothing_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = Sandbox::open(Config {
        state_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let links = [
        "/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:junk-region-1:000000000001:t:x",
        "/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:000000000002:t:00000000-0000-0000-0000-000000000000",
        "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:junk-region-1:000000000003:t&Token=abc",
    ];
    for link in links {
        let resp = http
            .get(format!("{ep}{link}"))
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_client_error(), "{link}: {}", resp.status());
    }
    sb.sync();
    let state = state_text(dir.path());
    for named in [
        "junk-region-1",
        "000000000001",
        "000000000002",
        "000000000003",
    ] {
        assert!(!state.contains(named), "{named} was written to the state");
    }
    running.shutdown().await;
}
