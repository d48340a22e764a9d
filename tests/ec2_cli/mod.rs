//! The real `aws` CLI (`aws ec2 …`, the pinned awscli from `.venv`) against a sandbox started by
//! each test: the workshop's seeded instance, volumes and instance profile association; every
//! EC2 operation the sandbox serves with its filters, paging and errors; and the workshop's
//! clean-up path (disassociate → terminate → terminated → volume available → delete) under the
//! realistic latency profile, completed by advancing the sandbox clock.
//!
//! Every test has its own sandbox, so they run in parallel and in any order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod instances;
mod profiles;
mod tags;
mod volumes;

use crate::common;

use serde_json::Value;

use common::*;
use kms_workshop_names::{
    FIRST_ALIAS, IMPORTED_ALIAS, INSTANCE_NAME_TAG, PROFILE, VOLUME_NAME_TAG,
};

const AMI: &str = "ami-0c02fb55956c7d316";

fn profile_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:instance-profile/{PROFILE}")
}

fn ec2(ep: &str, args: &[&str]) -> Value {
    run_json(aws(ep).arg("ec2").args(args))
}

fn s<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {v}"))
}

/// Every instance of a describe-instances answer, across reservations.
fn instances(v: &Value) -> Vec<Value> {
    v["Reservations"]
        .as_array()
        .unwrap_or_else(|| panic!("no Reservations in {v}"))
        .iter()
        .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn describe_instance(ep: &str, id: &str) -> Value {
    let all = instances(&ec2(ep, &["describe-instances", "--instance-ids", id]));
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

fn state_of(ep: &str, id: &str) -> String {
    s(&describe_instance(ep, id)["State"]["Name"], "State.Name").to_string()
}

fn describe_volume(ep: &str, id: &str) -> Value {
    let v = ec2(ep, &["describe-volumes", "--volume-ids", id]);
    v["Volumes"][0].clone()
}

/// The id of the single volume with tag Name=`name`.
fn volume_named(ep: &str, name: &str) -> Value {
    let v = ec2(
        ep,
        &[
            "describe-volumes",
            "--filters",
            &format!("Name=tag:Name,Values={name}"),
        ],
    );
    let vols = v["Volumes"].as_array().unwrap();
    assert_eq!(vols.len(), 1, "{v}");
    vols[0].clone()
}

fn tag<'a>(resource: &'a Value, key: &str) -> Option<&'a str> {
    resource["Tags"]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == key)
        .and_then(|t| t["Value"].as_str())
}

/// POST /_sandbox/clock/advance?seconds=N on the test's sandbox.
fn advance_clock(ep: &str, seconds: u64) {
    let path = format!("/_sandbox/clock/advance?seconds={seconds}");
    common::http::control_json(ep, "POST", &path);
}

fn run_instance(ep: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "run-instances",
        "--image-id",
        AMI,
        "--instance-type",
        "t2.micro",
    ];
    args.extend_from_slice(extra);
    ec2(ep, &args)
}
