//! The Rust AWS SDK (aws-sdk-kms, aws-sdk-cloudtrail, aws-sdk-sts) against an in-process
//! sandbox: every KMS, STS and CloudTrail operation the workshop uses, its errors, the import
//! flow with real RSA-OAEP wrapping, the sandbox clock, and CloudTrail event history.
#![allow(clippy::unwrap_used)]

mod import;
mod key_management;
mod keys;
mod lookup;
mod sts;
mod trails;

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{
    AlgorithmSpec, DataKeySpec, ExpirationModelType, KeyManagerType, KeyState, OriginType, Tag,
    WrappingKeySpec,
};
use common::{code, refused};
use kms_workshop_names::{CONTEXT_KEY, CONTEXT_VALUE, FIRST_ALIAS, IMPORTED_ALIAS};
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};
use serde_json::Value as J;

struct Env {
    sb: Arc<Sandbox>,
    running: Running,
    learner: SdkConfig,
    instance: SdkConfig,
}

impl Env {
    fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.learner)
    }
    fn trail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.learner)
    }
}

fn config() -> Config {
    Config {
        state_dir: None,
        seed: Seed::Workshop,
        cloudtrail_delay: time::Duration::ZERO,
        accept_any_credentials: false,
        lookup_rate_limit: false,
        ..Config::default()
    }
}

async fn start_with(cfg: Config) -> Env {
    let (sb, running) = common::start_sandbox(cfg).await;
    let endpoint = running.endpoint();
    let learner = common::learner_config(&endpoint).await;
    let instance = common::instance_config(&endpoint).await;
    Env {
        sb,
        running,
        learner,
        instance,
    }
}

async fn start() -> Env {
    start_with(config()).await
}

/// The seeded keys, by the state they are in and their origin.
struct Seeded {
    k1: String,
    k2: String,
    k3: String,
    ebs: String,
}

async fn seeded(kms: &aws_sdk_kms::Client) -> Seeded {
    let alias_target = |name: &'static str| async move {
        kms.describe_key()
            .key_id(name)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .key_id
    };
    let k2 = alias_target(FIRST_ALIAS).await;
    let k3 = alias_target(IMPORTED_ALIAS).await;
    let ebs = alias_target("alias/aws/ebs").await;
    let mut k1 = None;
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        let md = kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        if md.key_state() == Some(&KeyState::PendingDeletion) {
            k1 = Some(id.to_string());
        }
    }
    Seeded {
        k1: k1.expect("a seeded key pending deletion"),
        k2,
        k3,
        ebs,
    }
}

/// The workshop's own GenerateDataKey (section IV): an AES-256 data key of the imported key,
/// bound to the workshop's encryption context; the request, to extend or send.
fn workshop_gdk(
    kms: &aws_sdk_kms::Client,
) -> aws_sdk_kms::operation::generate_data_key::builders::GenerateDataKeyFluentBuilder {
    kms.generate_data_key()
        .key_id(IMPORTED_ALIAS)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context(CONTEXT_KEY, CONTEXT_VALUE)
}

fn key_arn(id: &str) -> String {
    format!("arn:aws:kms:{}:{}:key/{id}", seed::REGION, seed::ACCOUNT)
}

fn secs_from_now(t: &DateTime) -> i64 {
    t.secs() - time::OffsetDateTime::now_utc().unix_timestamp()
}

fn days_from_now(days: i64) -> DateTime {
    DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp() + days * 86_400)
}

fn sdk_time(t: time::OffsetDateTime) -> DateTime {
    DateTime::from_nanos(t.unix_timestamp_nanos()).unwrap()
}

// CloudTrail lookups, for the KMS and CloudTrail tests alike.
fn attr(key: LookupAttributeKey, value: &str) -> LookupAttribute {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .unwrap()
}

/// Every event of a lookup, following NextToken; asserts newest first and no duplicates.
async fn lookup_all(
    trail: &aws_sdk_cloudtrail::Client,
    attribute: Option<LookupAttribute>,
    page_size: i32,
) -> Vec<aws_sdk_cloudtrail::types::Event> {
    let mut out: Vec<aws_sdk_cloudtrail::types::Event> = Vec::new();
    let mut token = None;
    loop {
        let page = trail
            .lookup_events()
            .set_lookup_attributes(attribute.clone().map(|a| vec![a]))
            .max_results(page_size)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.events().len() <= page_size as usize);
        out.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let ids: HashSet<&str> = out.iter().map(|e| e.event_id().unwrap()).collect();
    assert_eq!(ids.len(), out.len(), "no event twice");
    for w in out.windows(2) {
        assert!(
            w[0].event_time().unwrap() >= w[1].event_time().unwrap(),
            "newest first"
        );
    }
    // Only this test's calls: the workshop seed's history (the earlier sections' calls) is
    // at least three hours old.
    let recent = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let recent = aws_sdk_cloudtrail::primitives::DateTime::from(recent);
    out.retain(|e| e.event_time().is_some_and(|t| *t > recent));
    out
}

async fn lookup(
    trail: &aws_sdk_cloudtrail::Client,
    a: LookupAttribute,
) -> Vec<aws_sdk_cloudtrail::types::Event> {
    lookup_all(trail, Some(a), 50).await
}
