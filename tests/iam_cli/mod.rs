//! IAM through the real `aws iam` CLI (the pinned awscli from `.venv`) against a sandbox started
//! by each test: the workshop's seeded roles, policies, instance profile and learner; every
//! operation the sandbox implements, with AWS's error codes (DeleteConflict while a policy such
//! as AWSKeyManagementServicePowerUser is attached, while a policy is attached or has versions,
//! LimitExceeded, MalformedPolicyDocument, …); access keys that sign requests until deleted;
//! and the CloudTrail records of IAM calls.
//!
//! Every test has its own sandbox, so they run in parallel and in any order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cleanup;
mod cloudtrail;
mod policies;
mod profiles;
mod roles;
mod seed;
mod users;

use crate::common;

use std::process::Command;

use serde_json::{json, Value};

use common::*;
use kms_workshop_names::sandbox::LEARNER_USER;
use kms_workshop_names::{CUSTOMER_POLICIES, ROLE, ROTATION_POLICY};

/// The customer policies the learner creates, by what they are for.
const IMPORT_POLICY: &str = CUSTOMER_POLICIES[0];
const ADDITIONAL_POLICY: &str = CUSTOMER_POLICIES[2];
const ROLE_ID: &str = "AROAWORKSHOPINSTANCE1";
const LEARNER_USER_ID: &str = "AIDAWORKSHOPLEARNER01";

fn aws_arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

fn local_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// `aws iam <args>` as the learner.
fn iam(ep: &str, args: &[&str]) -> Command {
    let mut c = aws(ep);
    c.arg("iam").args(args);
    c
}

fn ok(ep: &str, args: &[&str]) -> Value {
    run_json(&mut iam(ep, args))
}

fn fails(ep: &str, args: &[&str], code: &str) -> String {
    expect_error(&mut iam(ep, args), code)
}

fn names(list: &Value, member: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|v| v[member].as_str().unwrap().to_string())
        .collect()
}

fn attached(ep: &str, role: &str) -> Vec<String> {
    names(
        &ok(ep, &["list-attached-role-policies", "--role-name", role])["AttachedPolicies"],
        "PolicyArn",
    )
}

fn policy_doc(actions: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string()
}

const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The `Action` list of a policy document as the CLI prints it (decoded to JSON).
fn actions(doc: &Value) -> Vec<String> {
    let st = &doc["Statement"];
    let st = if st.is_array() {
        st[0].clone()
    } else {
        st.clone()
    };
    match &st["Action"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        other => panic!("no actions in {other}"),
    }
}

fn default_document(ep: &str, arn: &str) -> Value {
    let p = ok(ep, &["get-policy", "--policy-arn", arn])["Policy"].clone();
    let v = p["DefaultVersionId"].as_str().unwrap().to_string();
    let pv = ok(
        ep,
        &[
            "get-policy-version",
            "--policy-arn",
            arn,
            "--version-id",
            &v,
        ],
    )["PolicyVersion"]
        .clone();
    assert_eq!(pv["IsDefaultVersion"], true);
    assert!(
        pv["Document"].is_object(),
        "botocore decodes the URL-encoded document: {pv}"
    );
    pv["Document"].clone()
}
