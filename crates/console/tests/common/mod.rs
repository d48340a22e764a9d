//! What the console's tests share: a sandbox served with the console, sign-in links from its
//! control API, and a headless Chromium driven through its WebDriver (chromedriver), with
//! screenshots saved under `target/console-screenshots/`.

#![allow(dead_code)]

use std::sync::Arc;

use kms_workshop_sandbox::{Config, Running, Sandbox, Seed};

pub use kms_workshop_testkit::browser::*;

/// A sandbox (`learners` accounts, the workshop seed) served with the console.
pub async fn sandbox(learners: u32) -> (Arc<Sandbox>, Running) {
    let sb = Sandbox::open(Config {
        seed: Seed::Workshop,
        learners,
        ..Config::default()
    })
    .expect("sandbox opens");
    let running = kms_workshop_testkit::serve_with(&sb, kms_workshop_console::routes()).await;
    (sb, running)
}

/// A one-time sign-in link for learner `k`, from the control API with the admin token.
pub async fn link(endpoint: &str, k: u32) -> String {
    let (status, body) = kms_workshop_testkit::control(
        endpoint,
        "POST",
        &format!("/_sandbox/console/link?learner={k}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    v["url"].as_str().expect("a url").to_string()
}

/// A client that does not follow redirects (a test reads each answer itself).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// Sign in with a link as its page's form does (a same-origin POST of the token), without
/// following the redirect: (status, Set-Cookie, Location).
pub async fn open(url: &str) -> (reqwest::StatusCode, Option<String>, Option<String>) {
    let token = url.split("token=").nth(1).expect("a token in the link");
    let origin = origin(url);
    let r = http()
        .post(format!("{origin}/console/signin"))
        .header("origin", &origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("an answer");
    let header = |n| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    (r.status(), header("set-cookie"), header("location"))
}
