//! The Rust AWS SDK (aws-sdk-cloudformation) against an in-process sandbox: the seeded
//! `KMSWorkshop-Stack` and its clean-up (DELETE_FAILED with CloudFormation's reasons, then
//! DELETE_COMPLETE once the bucket is emptied and the hand-attached policies detached),
//! RetainResources, termination protection, JSON and YAML templates with intrinsics provisioning
//! every supported resource type, capabilities, template errors, rollback, and CloudTrail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod failures;
mod templates;
mod workshop_stack;

use crate::common;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, OnFailure, Parameter, StackStatus, Tag};
use kms_workshop_names::{bucket, CUSTOMER_POLICIES, ROLE, STACK};
use kms_workshop_sandbox::services::cloudformation::WORKSHOP_TEMPLATE;
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};

struct Env {
    _sb: Arc<Sandbox>,
    _running: Running,
    cfg: SdkConfig,
}

impl Env {
    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.cfg)
    }
    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.cfg)
    }
    fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.cfg)
                .force_path_style(true)
                .build(),
        )
    }
    fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.cfg)
    }
}

async fn start(seed: Seed) -> Env {
    let (sb, running) = common::start_sandbox(Config {
        seed,
        ..Config::default()
    })
    .await;
    let cfg = common::learner_config(&running.endpoint()).await;
    Env {
        _sb: sb,
        _running: running,
        cfg,
    }
}

async fn stack(env: &Env, name: &str) -> aws_sdk_cloudformation::types::Stack {
    let out = env
        .cfn()
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .unwrap();
    out.stacks().first().cloned().expect("one stack")
}

/// The reasons of every failed resource, for assertion messages.
async fn failures(env: &Env, name: &str) -> Vec<String> {
    let events = env
        .cfn()
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
        .unwrap();
    events
        .stack_events()
        .iter()
        .filter(|e| {
            e.resource_status()
                .is_some_and(|s| s.as_str().ends_with("FAILED"))
        })
        .map(|e| {
            format!(
                "{:?}: {:?}",
                e.logical_resource_id(),
                e.resource_status_reason()
            )
        })
        .collect()
}

async fn status(env: &Env, name: &str) -> StackStatus {
    stack(env, name)
        .await
        .stack_status()
        .cloned()
        .expect("status")
}

/// The state of EC2 instance `id`, as DescribeInstances names it.
async fn instance_state(env: &Env, id: &str) -> Option<String> {
    let d = env
        .ec2()
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap();
    d.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string())
}

/// Error code and message of a failed call.
fn err_of<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<
        T,
        aws_sdk_cloudformation::error::SdkError<
            E,
            aws_sdk_cloudformation::config::http::HttpResponse,
        >,
    >,
) -> (String, String) {
    let e = r.expect_err("expected an error");
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}
