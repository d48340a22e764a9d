//! Test support shared by the workspace's tests (the domain crates' `keys`, `trail`, `notify`,
//! `alarms`, the sandbox's SDK tests, the end-to-end tests) and the bench tool: serve an
//! in-process sandbox on a free loopback port and build an SDK configuration for the seeded
//! learner that reaches it, without retries so every failure is seen as sent; and [`xml`], the
//! one reader of XML answers the tests use. Tests talk to the sandbox through the real SDKs over
//! HTTP, never to AWS.

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

/// [`sdk_config`] for the seeded learner in the workshop region.
pub async fn learner_config(endpoint: &str) -> SdkConfig {
    credentials_config(
        endpoint,
        seed::LEARNER_ACCESS_KEY,
        seed::LEARNER_SECRET_KEY,
        None,
    )
    .await
}

/// [`sdk_config`] for the workshop instance's role session in the workshop region.
pub async fn instance_config(endpoint: &str) -> SdkConfig {
    credentials_config(
        endpoint,
        seed::INSTANCE_ACCESS_KEY,
        seed::INSTANCE_SECRET_KEY,
        Some(seed::INSTANCE_SESSION_TOKEN),
    )
    .await
}

/// Serve `sb` on a free loopback port.
///
/// # Panics
/// When the sandbox cannot be served: a test cannot go on without it.
pub async fn serve(sb: &Arc<Sandbox>) -> Running {
    kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse().expect("loopback address"))
        .await
        .expect("sandbox serves")
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
