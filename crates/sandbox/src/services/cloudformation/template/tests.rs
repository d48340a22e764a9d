//! Unit tests of template parsing, checking and intrinsic functions.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::*;

const YAML: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "data-${AWS::AccountId}-${Env}"
  Role:
    Type: AWS::IAM::Role
    DependsOn: Bucket
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !If [IsProd, production, !Ref "AWS::NoValue"]
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref Role]
Outputs:
  Arn:
    Value: !GetAtt Role.Arn
"#;

#[test]
fn yaml_short_forms_and_order() {
    let t = check(YAML).unwrap();
    let ids: Vec<&str> = t.resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(ids, vec!["Bucket", "Role", "Profile"]);
    assert!(t.resources[2].depends_on.contains("Role"));
    assert_eq!(required_capability(&t), Some("CAPABILITY_IAM"));
    let params = BTreeMap::from([("Env".to_string(), J::from("dev"))]);
    let made = BTreeMap::from([(
        "Role".to_string(),
        Made {
            physical_id: "r1".into(),
            attrs: BTreeMap::from([("Arn".into(), "arn:r1".into())]),
        },
    )]);
    let scope = Scope {
        template: &t,
        params: &params,
        account: "111122223333",
        region: "us-east-1",
        stack_name: "s",
        stack_id: "id",
        made: &made,
    };
    let b = scope
        .resolve(&t.resources[0].properties, 0)
        .unwrap()
        .unwrap();
    assert_eq!(b["BucketName"], "data-111122223333-dev");
    let r = scope
        .resolve(&t.resources[1].properties, 0)
        .unwrap()
        .unwrap();
    assert!(r.get("Description").is_none());
    let p = scope
        .resolve(&t.resources[2].properties, 0)
        .unwrap()
        .unwrap();
    assert_eq!(p["Roles"][0], "r1");
    let o = scope
        .resolve(&t.outputs["Arn"]["Value"], 0)
        .unwrap()
        .unwrap();
    assert_eq!(o, "arn:r1");
}

#[test]
fn errors_carry_cloudformation_messages() {
    let e = check(r#"{"Resources": {"A": {"Type": "AWS::Foo::Bar"}}}"#).unwrap_err();
    assert_eq!(
        e,
        "Template format error: Unrecognized resource types: [AWS::Foo::Bar]"
    );
    let e = check(r#"{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "X"}}}}}"#).unwrap_err();
    assert_eq!(e, "Template format error: Unresolved resource dependencies [X] in the Resources block of the template");
    let e = check("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt Nope.Arn\n").unwrap_err();
    assert_eq!(
        e,
        "Template error: instance of Fn::GetAtt references undefined resource Nope"
    );
    let e = check(r#"{"Resources": {"My-Topic": {"Type": "AWS::SNS::Topic"}}}"#).unwrap_err();
    assert_eq!(
        e,
        "Template format error: Resource name My-Topic is non alphanumeric."
    );
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    assert!(check(&format!("Resources: {deep}")).is_err());
    assert!(check(&format!("{{\"Resources\": {deep}}}")).is_err());
    let e = check(r#"{"Resources": {}}"#).unwrap_err();
    assert_eq!(
        e,
        "Template format error: At least one Resources member must be defined."
    );
    let e = check("{not json").unwrap_err();
    assert!(
        e.starts_with("Template format error: JSON not well-formed."),
        "{e}"
    );
    let e = check("Resources: [unclosed").unwrap_err();
    assert!(
        e.starts_with("Template format error: YAML not well-formed."),
        "{e}"
    );
    let e = check(r#"{"Resources": {"A": {"Type": "AWS::SNS::Topic", "DependsOn": "B"}, "B": {"Type": "AWS::SNS::Topic", "DependsOn": "A"}}}"#).unwrap_err();
    assert!(
        e.starts_with("Circular dependency between resources"),
        "{e}"
    );
}

#[test]
fn sub_forms() {
    let t = check(r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#).unwrap();
    let params = BTreeMap::new();
    let made = BTreeMap::new();
    let scope = Scope {
        template: &t,
        params: &params,
        account: "1",
        region: "r",
        stack_name: "s",
        stack_id: "id",
        made: &made,
    };
    let v = serde_json::json!({"Fn::Sub": ["${A}-${!Lit}-${AWS::Region}", {"A": "x"}]});
    assert_eq!(scope.resolve(&v, 0).unwrap().unwrap(), "x-${Lit}-r");
    let v = serde_json::json!({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]});
    assert_eq!(scope.resolve(&v, 0).unwrap().unwrap(), "b");
}
