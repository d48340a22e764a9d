//! CloudTrail.

use super::*;

#[test]
fn iam_calls_are_recorded_in_cloudtrail() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    ok(
        ep,
        &[
            "create-role",
            "--role-name",
            "traced",
            "--assume-role-policy-document",
            EC2_TRUST,
            "--tags",
            "Key=a,Value=b",
        ],
    );
    ok(
        ep,
        &[
            "attach-role-policy",
            "--role-name",
            "traced",
            "--policy-arn",
            &aws_arn("AmazonS3FullAccess"),
        ],
    );
    ok(ep, &["create-user", "--user-name", "carol"]);
    let key = ok(ep, &["create-access-key", "--user-name", "carol"])["AccessKey"].clone();
    let secret = key["SecretAccessKey"].as_str().unwrap().to_string();

    let lookup = |name: &str| {
        let attrs = json!([{"AttributeKey": "EventName", "AttributeValue": name}]).to_string();
        let v =
            run_json(aws(ep).args(["cloudtrail", "lookup-events", "--lookup-attributes", &attrs]));
        let events = v["Events"].as_array().cloned().unwrap_or_default();
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        events[0].clone()
    };
    let e = lookup("CreateRole");
    assert_eq!(e["EventSource"], "iam.amazonaws.com");
    assert_eq!(e["ReadOnly"], "false");
    assert_eq!(
        e["Resources"],
        json!([{"ResourceType": "AWS::IAM::Role", "ResourceName": format!("arn:aws:iam::{ACCOUNT}:role/traced")}])
    );
    let rec: Value = serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(rec["awsRegion"], "us-east-1");
    assert_eq!(rec["requestParameters"]["roleName"], "traced");
    assert_eq!(
        rec["requestParameters"]["tags"],
        json!([{"key": "a", "value": "b"}])
    );
    assert_eq!(rec["responseElements"]["role"]["roleName"], "traced");

    let e = lookup("AttachRolePolicy");
    let types: Vec<String> = names(&e["Resources"], "ResourceType");
    assert_eq!(types, vec!["AWS::IAM::Role", "AWS::IAM::Policy"]);

    let rec: Value = serde_json::from_str(
        lookup("CreateAccessKey")["CloudTrailEvent"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(rec["responseElements"]["accessKey"]["userName"], "carol");
    assert!(
        !rec.to_string().contains(&secret),
        "CloudTrail must never log the secret: {rec}"
    );

    ok(ep, &["get-role", "--role-name", "traced"]);
    let e = lookup("GetRole");
    assert_eq!(e["ReadOnly"], "true");
    let rec: Value = serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(rec["responseElements"], Value::Null);
}
