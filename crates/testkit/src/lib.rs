//! Test support shared by the domain crates' tests (`keys`, `trail`, `notify`, `alarms`): serve
//! an in-process sandbox on a free loopback port and build an SDK configuration for the seeded
//! learner that reaches it, without retries so every failure is seen as sent. Tests talk to
//! the sandbox through the real SDKs over HTTP, never to AWS.

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

/// An SDK configuration for `endpoint` with these static credentials, `region`, no retries.
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

/// Open a sandbox with `config` and serve it on a free loopback port.
///
/// # Panics
/// When the sandbox cannot be opened or served: a test cannot go on without it.
pub async fn start(config: Config) -> Env {
    let sb = Sandbox::open(config).expect("sandbox opens");
    let running = kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox serves");
    let cfg = sdk_config(
        &format!("http://{}", running.addr),
        seed::REGION,
        seed::LEARNER_ACCESS_KEY,
        seed::LEARNER_SECRET_KEY,
        None,
    )
    .await;
    Env { sb, running, cfg }
}

/// The workshop seed with CloudTrail events visible at once.
pub async fn workshop() -> Env {
    start(Config::default()).await
}
