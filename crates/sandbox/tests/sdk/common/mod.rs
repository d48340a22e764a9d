//! Shared setup for the sandbox's SDK tests: serve a sandbox in-process on a free loopback
//! port, and the SDK configuration that reaches it.
#![allow(dead_code)]

use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox};

/// The code of a failed SDK call's service error; panics when the call succeeded.
#[allow(unused_macros)]
macro_rules! code {
    ($call:expr) => {
        match $call {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => {
                let se = e.into_service_error();
                match se.code() {
                    Some(c) => c.to_string(),
                    None => panic!("error without a code: {se:?}"),
                }
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use code;

/// Serve `sb` on a free loopback port.
pub async fn serve(sb: &Arc<Sandbox>) -> Running {
    kms_workshop_sandbox::serve(sb.clone(), "127.0.0.1:0".parse().expect("loopback address"))
        .await
        .expect("serve the sandbox")
}

/// Open a sandbox with `cfg` and serve it on a free loopback port.
pub async fn start_sandbox(cfg: Config) -> (Arc<Sandbox>, Running) {
    let sb = Sandbox::open(cfg).expect("open the sandbox");
    let running = serve(&sb).await;
    (sb, running)
}

/// An SDK configuration for `endpoint`: these credentials (`session` names their provider),
/// `region`, no retries.
pub async fn sdk_config(
    endpoint: &str,
    region: &str,
    access_key: &str,
    secret: &str,
    token: Option<&str>,
    session: &'static str,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(aws_credential_types::Credentials::new(
            access_key,
            secret,
            token.map(str::to_string),
            None,
            session,
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// [`sdk_config`] for the seeded learner in the workshop region.
pub async fn learner_config(endpoint: &str, session: &'static str) -> SdkConfig {
    sdk_config(
        endpoint,
        seed::REGION,
        seed::LEARNER_ACCESS_KEY,
        seed::LEARNER_SECRET_KEY,
        None,
        session,
    )
    .await
}
