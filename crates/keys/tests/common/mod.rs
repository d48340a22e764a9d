//! Shared test setup: an in-process sandbox on a free loopback port and an SDK configuration
//! for the seeded learner that reaches it (no retries, so every failure is seen as sent).
#![allow(dead_code)]

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

/// Open a sandbox with `config` and serve it on a free loopback port.
pub async fn start(config: Config) -> Env {
    let sb = Sandbox::open(config).expect("sandbox opens");
    let running = kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox serves");
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", running.addr))
        .region(Region::new(seed::REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            seed::LEARNER_ACCESS_KEY,
            seed::LEARNER_SECRET_KEY,
            None,
            None,
            "test",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Env { sb, running, cfg }
}

/// The workshop seed with CloudTrail events visible at once.
pub async fn workshop() -> Env {
    start(Config::default()).await
}
