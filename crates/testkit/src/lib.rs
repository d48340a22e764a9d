//! Test support shared by the workspace's tests (the domain crates' `keys`, `trail`, `notify`,
//! `alarms`, the sandbox's SDK tests, the end-to-end tests) and the bench tool: serve an
//! in-process sandbox on a free loopback port and build an SDK configuration for the seeded
//! learner that reaches it, without retries so every failure is seen as sent; [`sigv4`], requests
//! signed by hand; and [`xml`], the one reader of XML answers the tests use. Tests talk to the sandbox through the real SDKs over
//! HTTP, never to AWS.

pub mod browser;
pub mod console;
pub mod sigv4;
pub mod xml;

use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox};

/// A sandbox served on 127.0.0.1 and the learner's SDK configuration for it.
pub struct Env {
    pub sb: Arc<Sandbox>,
    pub running: Running,
    pub cfg: SdkConfig,
}

/// An SDK configuration for `endpoint` with these static credentials, `region`, no retries
/// (one call is one request: a retry would hide a failure and skew CloudTrail counts).
pub async fn sdk_config(
    endpoint: &str,
    region: &str,
    access_key: &str,
    secret: &str,
    token: Option<&str>,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(aws_credential_types::Credentials::new(
            access_key,
            secret,
            token.map(str::to_string),
            None,
            "kms-workshop-testkit",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// [`sdk_config`] in the workshop region.
pub async fn credentials_config(
    endpoint: &str,
    access_key: &str,
    secret: &str,
    token: Option<&str>,
) -> SdkConfig {
    sdk_config(endpoint, seed::REGION, access_key, secret, token).await
}

/// The sandboxes [`serve`] started, by endpoint: each state makes its identities' secrets at
/// random, so a test that has only an endpoint finds them here.
static SERVED: std::sync::Mutex<Vec<(String, std::sync::Weak<Sandbox>)>> =
    std::sync::Mutex::new(Vec::new());

/// The sandbox [`serve`] started at `endpoint`, if any.
pub fn try_served(endpoint: &str) -> Option<Arc<Sandbox>> {
    let endpoint = endpoint.trim_end_matches('/');
    let served = SERVED.lock().unwrap_or_else(|e| e.into_inner());
    served
        .iter()
        .rev()
        .find(|(e, _)| e == endpoint)
        .and_then(|(_, sb)| sb.upgrade())
}

/// The sandbox [`serve`] started at `endpoint`.
///
/// # Panics
/// When no sandbox this process served answers there (a test error).
pub fn served(endpoint: &str) -> Arc<Sandbox> {
    try_served(endpoint)
        .unwrap_or_else(|| panic!("no sandbox served at {endpoint} by kms_workshop_testkit::serve"))
}

/// [`sdk_config`] in the workshop region for the identity of the sandbox at `endpoint` whose
/// access key id is `access_key` (its secret and session token as that sandbox made them).
///
/// # Panics
/// When that sandbox has no such key.
pub async fn identity_config(endpoint: &str, access_key: &str) -> SdkConfig {
    let c = served(endpoint)
        .credential(access_key)
        .unwrap_or_else(|| panic!("the sandbox at {endpoint} has no key {access_key}"));
    credentials_config(
        endpoint,
        &c.access_key_id,
        &c.secret_access_key,
        c.session_token.as_deref(),
    )
    .await
}

/// [`sdk_config`] for the seeded learner in the workshop region.
pub async fn learner_config(endpoint: &str) -> SdkConfig {
    identity_config(endpoint, seed::LEARNER_ACCESS_KEY).await
}

/// [`sdk_config`] for the workshop instance's role session in the workshop region.
pub async fn instance_config(endpoint: &str) -> SdkConfig {
    identity_config(endpoint, seed::INSTANCE_ACCESS_KEY).await
}

/// A control call (`/_sandbox/…`) to the sandbox [`serve`] started at `endpoint`, with its
/// admin token; (status, body).
///
/// # Panics
/// When no sandbox answers: a test cannot go on without it.
pub async fn control(endpoint: &str, method: &str, path: &str) -> (u16, String) {
    let token = served(endpoint).admin_token().to_string();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let resp = reqwest::Client::new()
        .request(method, format!("{}{path}", endpoint.trim_end_matches('/')))
        .header(kms_workshop_sandbox::access::TOKEN_HEADER, token)
        .send()
        .await
        .expect("the sandbox answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("an answer body"))
}

/// Serve `sb` on a free loopback port.
///
/// # Panics
/// When the sandbox cannot be served: a test cannot go on without it.
pub async fn serve(sb: &Arc<Sandbox>) -> Running {
    serve_with(sb, axum::Router::new()).await
}

/// [`serve`], with `pages` beside the control API (the web console's routes).
///
/// # Panics
/// When the sandbox cannot be served: a test cannot go on without it.
pub async fn serve_with(sb: &Arc<Sandbox>, pages: axum::Router<Arc<Sandbox>>) -> Running {
    let addr = "127.0.0.1:0".parse().expect("loopback address");
    let running = kms_workshop_sandbox::serve_with(sb.clone(), addr, pages)
        .await
        .expect("sandbox serves");
    let mut served = SERVED.lock().unwrap_or_else(|e| e.into_inner());
    served.retain(|(_, sb)| sb.strong_count() > 0);
    served.push((running.endpoint(), Arc::downgrade(sb)));
    running
}

/// Open a sandbox with `config` and serve it on a free loopback port.
///
/// # Panics
/// When the sandbox cannot be opened or served: a test cannot go on without it.
pub async fn start(config: Config) -> Env {
    let sb = Sandbox::open(config).expect("sandbox opens");
    let running = serve(&sb).await;
    let cfg = learner_config(&running.endpoint()).await;
    Env { sb, running, cfg }
}

/// The workshop seed with CloudTrail events visible at once.
pub async fn workshop() -> Env {
    start(Config::default()).await
}

/// The variables a `kms-workshop sandbox env` script exports (`export NAME='value'` lines;
/// `unset` lines name nothing).
pub fn parse_exports(script: &str) -> std::collections::HashMap<String, String> {
    script
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}
