//! The validator against the models: the wording AWS uses, form inputs read by their model,
//! and every served operation covered.

use serde_json::json;

use super::*;
use crate::protocol::input::FormStyle;
use crate::services::REGISTRY;

fn kms() -> &'static Model {
    model("kms").expect("the KMS model")
}

#[test]
fn every_model_parses_and_every_pattern_is_checked() {
    for (name, _) in MODELS {
        let m = model(name).unwrap_or_else(|| panic!("{name}'s model"));
        let unchecked: Vec<&String> = m
            .patterns
            .iter()
            .filter(|(_, re)| re.is_none())
            .map(|(p, _)| p)
            .collect();
        assert!(unchecked.is_empty(), "{name}: {unchecked:?}");
    }
}

#[test]
fn a_long_tag_key_is_named_by_its_path() {
    let tag = "k".repeat(129);
    let input = json!({"Tags": [{"TagKey": tag, "TagValue": "v"}]});
    let found = violations(kms(), "CreateKeyRequest", &input, &[], None);
    let e = refusal(Dialect::Coral("ValidationException"), &found);
    assert_eq!(e.code, "ValidationException");
    assert_eq!(
        e.message,
        format!("1 validation error detected: Value '{tag}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128")
    );
}

#[test]
fn missing_members_enum_values_and_sensitive_values() {
    let input = json!({"KeySpec": "AES_512", "Plaintext": "QUJD"});
    let found = violations(kms(), "GenerateDataKeyRequest", &input, &[], None);
    let e = refusal(Dialect::Coral("ValidationException"), &found);
    assert!(
        e.message.starts_with("2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: ["),
        "{}",
        e.message
    );
    let big = "A".repeat(8000);
    let found = violations(
        kms(),
        "EncryptRequest",
        &json!({"KeyId": "k", "Plaintext": big}),
        &[],
        None,
    );
    assert_eq!(
        refusal(Dialect::Coral("ValidationException"), &found).message,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );
}

#[test]
fn form_inputs_are_read_through_their_model() {
    let iam = model("iam").expect("IAM");
    let params = [
        ("RoleName", "bad name!"),
        ("AssumeRolePolicyDocument", "{}"),
        ("Tags.member.1.Key", "k"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let v = form::to_json(iam, "CreateRoleRequest", &params, FormStyle::Query);
    assert_eq!(v["Tags"][0]["Key"], "k");
    let found = violations(iam, "CreateRoleRequest", &v, &[], Some(FormStyle::Query));
    let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["roleName", "tags.1.member.value"], "{found:#?}");

    let ec2 = model("ec2").expect("EC2");
    let params = [("InstanceId.1", "i-1"), ("InstanceId.2", "i-2")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let v = form::to_json(ec2, "StopInstancesRequest", &params, FormStyle::Ec2);
    assert_eq!(v["InstanceIds"], json!(["i-1", "i-2"]));
    let e = refusal(
        Dialect::Ec2,
        &violations(
            ec2,
            "StartInstancesRequest",
            &json!({}),
            &[],
            Some(FormStyle::Ec2),
        ),
    );
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "MissingParameter",
            "The request must contain the parameter InstanceId"
        )
    );
}

/// Every operation a registered service answers has its model loaded (S3 aside: its REST
/// front end answers its own errors). An operation counts as served when the service does
/// not answer it as unknown.
#[test]
fn every_served_operation_has_its_constraints_loaded() {
    let sb = crate::Sandbox::open(crate::Config::default()).expect("sandbox");
    let cred = crate::identity::learner_credential(crate::seed::ACCOUNT, "seed");
    let caller = crate::identity::Caller::from(&cred);
    for entry in REGISTRY {
        let svc = entry.service;
        if svc.signing_name() == "s3" {
            continue;
        }
        let m = model(svc.signing_name())
            .unwrap_or_else(|| panic!("no model for {}", svc.signing_name()));
        let mut missing = Vec::new();
        for op in &m.all_operations {
            let served = svc.serves(&sb, &caller, op);
            if served && !m.operations.contains_key(op) {
                missing.push(op.clone());
            }
        }
        assert!(
            missing.is_empty(),
            "{}: served without constraints: {missing:?} (add them to crates/sandbox/models/{}-operations.txt and run scripts/models)",
            svc.signing_name(),
            svc.signing_name()
        );
    }
}

/// A map is reported once for its keys, with each broken constraint once, however many
/// entries break them (a request full of bad keys costs one line, not one per key).
#[test]
fn a_map_full_of_bad_keys_is_one_violation() {
    let events = model("events").expect("EventBridge");
    let headers: serde_json::Map<String, serde_json::Value> = (0..2000)
        .map(|i| (format!("bad key {i}"), json!("v")))
        .collect();
    let input = json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": "arn:aws:sns:us-east-1:1:t",
        "HttpParameters": {"HeaderParameters": headers}}]});
    let found = violations(events, "PutTargetsRequest", &input, &[], None);
    assert_eq!(found.len(), 1, "{}", found.len());
    assert_eq!(
        found[0].path,
        "targets.1.member.httpParameters.headerParameters"
    );
    assert!(found[0].constraint.starts_with(
        "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
    ));
}

/// CloudWatch names a missing member as the request spells it.
#[test]
fn cloudwatch_names_a_missing_member_as_sent() {
    let cw = model("monitoring").expect("CloudWatch");
    let params = [("Namespace", "App"), ("MetricData.member.1.Value", "1")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let v = form::to_json(cw, "PutMetricDataInput", &params, FormStyle::Query);
    let e = refusal(
        Dialect::CloudWatch,
        &violations(cw, "PutMetricDataInput", &v, &[], Some(FormStyle::Query)),
    );
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "MissingParameter",
            "The parameter MetricData.member.1.MetricName is required."
        )
    );
}
