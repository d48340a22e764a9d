//! Shared setup for the sandbox's SDK tests: the sandbox served in-process and the SDK
//! configuration that reaches it come from `kms_workshop_testkit`; here, what only these tests
//! use.
#![allow(dead_code)]

pub use kms_workshop_testkit::{
    credentials_config, identity_config, instance_config, learner_config, sdk_config, serve, served,
};

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use kms_workshop_sandbox::{Config, Running, Sandbox};

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

/// Every case is refused with its error code: `refused!(cases, |key_id| call(key_id))`, where
/// each case is a tuple of the call's arguments and the expected code, last.
#[allow(unused_macros)]
macro_rules! refused {
    ($cases:expr, |$($arg:ident),+| $call:expr) => {
        for ($($arg),+, code) in $cases {
            let case = format!("{:?}", ($(&$arg,)+));
            assert_eq!(code!($call), code, "{case}");
        }
    };
}
#[allow(unused_imports)]
pub(crate) use refused;

/// The SDK configuration of classroom learner `k` (seeded keys) at `endpoint`.
pub async fn classroom_learner(endpoint: &str, k: u32) -> aws_config::SdkConfig {
    let l = kms_workshop_sandbox::seed::learner(k);
    identity_config(endpoint, &l.access_key_id).await
}

/// Open a sandbox with `cfg` and serve it on a free loopback port.
pub async fn start_sandbox(cfg: Config) -> (Arc<Sandbox>, Running) {
    let sb = Sandbox::open(cfg).expect("open the sandbox");
    let running = serve(&sb).await;
    (sb, running)
}

/// The `CloudTrailEvent` documents of `event_name` in us-east-1 (where STS and IAM log),
/// newest first.
pub async fn records(cfg: &SdkConfig, event_name: &str) -> Vec<String> {
    let ct = aws_sdk_cloudtrail::Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(cfg)
            .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
            .build(),
    );
    let out = ct
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value(event_name)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    out.events()
        .iter()
        .filter_map(|e| e.cloud_trail_event().map(str::to_string))
        .collect()
}
