//! The `aws` CLI (botocore) against `kms-workshop sandbox serve`: CloudFormation's operations on
//! the seeded `KMSWorkshop-Stack` (describe, resources, events, template, termination
//! protection, the DELETE_FAILED clean-up and its retries) and on stacks from JSON and YAML
//! template files, with the CLI's waiters and AWS's error codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;
use kms_workshop_names::{bucket, ROLE, STACK};
use serde_json::Value as J;

fn cfn(ep: &str, args: &[&str]) -> J {
    run_json(aws(ep).arg("cloudformation").args(args))
}

fn cfn_err(ep: &str, args: &[&str]) -> String {
    stderr_of(&run_fail(aws(ep).arg("cloudformation").args(args)))
}

fn stack_status(ep: &str, name: &str) -> (String, Option<String>) {
    let v = cfn(ep, &["describe-stacks", "--stack-name", name]);
    let s = &v["Stacks"][0];
    (
        s["StackStatus"].as_str().unwrap().to_string(),
        s["StackStatusReason"].as_str().map(str::to_string),
    )
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    format!("file://{}", p.display())
}

#[test]
fn seeded_stack_describe_resources_events_template() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let v = cfn(ep, &["describe-stacks", "--stack-name", STACK]);
    let s = &v["Stacks"][0];
    assert_eq!(s["StackStatus"], "CREATE_COMPLETE");
    assert_eq!(s["Capabilities"][0], "CAPABILITY_NAMED_IAM");
    assert_eq!(s["EnableTerminationProtection"], false);
    let all = cfn(ep, &["describe-stacks"]);
    assert_eq!(all["Stacks"].as_array().unwrap().len(), 1);

    let res = cfn(ep, &["list-stack-resources", "--stack-name", STACK]);
    let mut types: Vec<&str> = res["StackResourceSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ResourceType"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "AWS::IAM::InstanceProfile",
            "AWS::IAM::Role",
            "AWS::S3::Bucket"
        ]
    );
    let one = cfn(
        ep,
        &[
            "describe-stack-resource",
            "--stack-name",
            STACK,
            "--logical-resource-id",
            "workshopbucket",
        ],
    );
    assert_eq!(
        one["StackResourceDetail"]["PhysicalResourceId"],
        bucket(ACCOUNT)
    );
    let by_physical = cfn(
        ep,
        &["describe-stack-resources", "--physical-resource-id", ROLE],
    );
    assert_eq!(by_physical["StackResources"].as_array().unwrap().len(), 3);
    let events = cfn(ep, &["describe-stack-events", "--stack-name", STACK]);
    let ev = events["StackEvents"].as_array().unwrap();
    assert_eq!(ev[0]["ResourceStatus"], "CREATE_COMPLETE");
    assert_eq!(ev[0]["ResourceType"], "AWS::CloudFormation::Stack");
    assert_eq!(ev.last().unwrap()["ResourceStatusReason"], "User Initiated");
    // The CLI gives the YAML back as text, as it came.
    let t = cfn(ep, &["get-template", "--stack-name", STACK]);
    let body = t["TemplateBody"].as_str().unwrap();
    assert!(body.contains("!Ref KMSWorkshopRole"), "{body}");
    assert_eq!(
        t["StagesAvailable"],
        serde_json::json!(["Original", "Processed"])
    );
    let listed = cfn(
        ep,
        &["list-stacks", "--stack-status-filter", "CREATE_COMPLETE"],
    );
    assert_eq!(listed["StackSummaries"][0]["StackName"], STACK);
    let none = cfn(
        ep,
        &["list-stacks", "--stack-status-filter", "DELETE_COMPLETE"],
    );
    assert!(none["StackSummaries"].as_array().unwrap().is_empty());
    let err = cfn_err(ep, &["describe-stacks", "--stack-name", "Nope"]);
    assert!(
        err.contains("(ValidationError)") && err.contains("Stack with id Nope does not exist"),
        "{err}"
    );
}

#[test]
fn workshop_cleanup_through_delete_failed_and_retries() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    // Protected: refused.
    cfn(
        ep,
        &[
            "update-termination-protection",
            "--enable-termination-protection",
            "--stack-name",
            STACK,
        ],
    );
    let err = cfn_err(ep, &["delete-stack", "--stack-name", STACK]);
    assert!(
        err.contains(&format!(
            "Stack [{STACK}] cannot be deleted while TerminationProtection is enabled"
        )),
        "{err}"
    );
    cfn(
        ep,
        &[
            "update-termination-protection",
            "--no-enable-termination-protection",
            "--stack-name",
            STACK,
        ],
    );

    // As the workshop leaves it: the bucket holds uploads, the role has the learner's policies.
    let id = cfn(ep, &["describe-stacks", "--stack-name", STACK])["Stacks"][0]["StackId"]
        .as_str()
        .unwrap()
        .to_string();
    cfn(ep, &["delete-stack", "--stack-name", STACK]);
    fails_with(
        aws(ep).args([
            "cloudformation",
            "wait",
            "stack-delete-complete",
            "--stack-name",
            STACK,
        ]),
        "DELETE_FAILED",
    );
    let (status, reason) = stack_status(ep, STACK);
    assert_eq!(status, "DELETE_FAILED");
    assert_eq!(
        reason.as_deref(),
        Some("The following resource(s) failed to delete: [KMSWorkshopRole, workshopbucket]. ")
    );
    let events = cfn(ep, &["describe-stack-events", "--stack-name", STACK]);
    let reasons: Vec<&str> = events["StackEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ResourceStatus"] == "DELETE_FAILED")
        .filter_map(|e| e["ResourceStatusReason"].as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.starts_with(
        "The bucket you tried to delete is not empty (Service: S3, Status Code: 409"
    )));
    assert!(reasons.iter().any(|r| r.starts_with(
        "Cannot delete entity, must detach all policies first. (Service: Iam, Status Code: 409"
    )));

    // A plain retry fails the same way.
    cfn(ep, &["delete-stack", "--stack-name", STACK]);
    assert_eq!(stack_status(ep, STACK).0, "DELETE_FAILED");

    // Empty the bucket and detach the learner's policies; then it goes.
    let rm = aws(ep)
        .args([
            "s3",
            "rm",
            &format!("s3://{}", bucket(ACCOUNT)),
            "--recursive",
        ])
        .output()
        .unwrap();
    assert!(rm.status.success(), "{}", stderr_of(&rm));
    let attached =
        run_json(aws(ep).args(["iam", "list-attached-role-policies", "--role-name", ROLE]));
    for p in attached["AttachedPolicies"].as_array().unwrap() {
        run_json(aws(ep).args([
            "iam",
            "detach-role-policy",
            "--role-name",
            ROLE,
            "--policy-arn",
            p["PolicyArn"].as_str().unwrap(),
        ]));
    }
    cfn(ep, &["delete-stack", "--stack-name", STACK]);
    run_json(aws(ep).args([
        "cloudformation",
        "wait",
        "stack-delete-complete",
        "--stack-name",
        &id,
    ]));
    let (status, _) = stack_status(ep, &id);
    assert_eq!(status, "DELETE_COMPLETE");
    let err = stderr_of(&run_fail(aws(ep).args([
        "iam",
        "get-role",
        "--role-name",
        ROLE,
    ])));
    assert!(err.contains("NoSuchEntity"), "{err}");
    let err = stderr_of(&run_fail(aws(ep).args([
        "iam",
        "get-instance-profile",
        "--instance-profile-name",
        ROLE,
    ])));
    assert!(err.contains("NoSuchEntity"), "{err}");
    let err = stderr_of(&run_fail(aws(ep).args([
        "s3api",
        "head-bucket",
        "--bucket",
        &bucket(ACCOUNT),
    ])));
    assert!(err.contains("404"), "{err}");
    let listed = cfn(
        ep,
        &["list-stacks", "--stack-status-filter", "DELETE_COMPLETE"],
    );
    assert_eq!(listed["StackSummaries"][0]["StackId"], id.as_str());
}

#[test]
fn retain_resources_after_delete_failed() {
    let sb = SandboxProc::start(&[]);
    let ep = &sb.endpoint;
    let err = cfn_err(
        ep,
        &[
            "delete-stack",
            "--stack-name",
            STACK,
            "--retain-resources",
            "workshopbucket",
        ],
    );
    assert!(
        err.contains("(ValidationError)") && err.contains("DELETE_FAILED"),
        "{err}"
    );
    cfn(ep, &["delete-stack", "--stack-name", STACK]);
    assert_eq!(stack_status(ep, STACK).0, "DELETE_FAILED");
    let id = cfn(ep, &["describe-stacks", "--stack-name", STACK])["Stacks"][0]["StackId"]
        .as_str()
        .unwrap()
        .to_string();
    cfn(
        ep,
        &[
            "delete-stack",
            "--stack-name",
            STACK,
            "--retain-resources",
            "workshopbucket",
            "KMSWorkshopRole",
        ],
    );
    assert_eq!(stack_status(ep, &id).0, "DELETE_COMPLETE");
    run_json(aws(ep).args(["iam", "get-role", "--role-name", ROLE]));
    run_json(aws(ep).args(["s3api", "head-bucket", "--bucket", &bucket(ACCOUNT)]));
}

const JSON_TEMPLATE: &str = r#"{
  "Parameters": {"Name": {"Type": "String"}, "Pass": {"Type": "String", "NoEcho": "true", "Default": "x"}},
  "Resources": {
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Name}-alerts"}}},
    "Rule": {"Type": "AWS::Events::Rule", "Properties": {
      "Name": {"Fn::Join": ["-", [{"Ref": "Name"}, "gdk"]]},
      "EventPattern": {"source": ["aws.kms"]},
      "Targets": [{"Id": "sns", "Arn": {"Ref": "Topic"}}]}}
  },
  "Outputs": {"Topic": {"Value": {"Ref": "Topic"}, "Description": "the topic"}}
}"#;

const YAML_TEMPLATE: &str = "Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: ec2.amazonaws.com}
            Action: sts:AssumeRole
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref Role]
Outputs:
  ProfileArn:
    Value: !GetAtt Profile.Arn
";

#[test]
fn json_and_yaml_template_files_capabilities_and_errors() {
    let sb = SandboxProc::start(&["--seed", "empty"]);
    let ep = &sb.endpoint;
    let dir = tempfile::tempdir().unwrap();
    let json = write(dir.path(), "t.json", JSON_TEMPLATE);
    let yaml = write(dir.path(), "t.yaml", YAML_TEMPLATE);

    let v = cfn(ep, &["validate-template", "--template-body", &yaml]);
    assert_eq!(v["Capabilities"][0], "CAPABILITY_IAM");
    let id = cfn(
        ep,
        &[
            "create-stack",
            "--stack-name",
            "alerts",
            "--template-body",
            &json,
            "--parameters",
            "ParameterKey=Name,ParameterValue=ws",
            "--tags",
            "Key=team,Value=sec",
        ],
    )["StackId"]
        .as_str()
        .unwrap()
        .to_string();
    run_json(aws(ep).args(common::words(
        "cloudformation wait stack-create-complete --stack-name alerts",
    )));
    let s = &cfn(ep, &["describe-stacks", "--stack-name", &id])["Stacks"][0];
    assert_eq!(s["StackStatus"], "CREATE_COMPLETE");
    assert_eq!(
        s["Outputs"][0]["OutputValue"],
        format!("arn:aws:sns:{REGION}:{ACCOUNT}:ws-alerts")
    );
    assert_eq!(s["Tags"][0]["Key"], "team");
    let pass = s["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ParameterKey"] == "Pass")
        .unwrap();
    assert_eq!(pass["ParameterValue"], "****");
    let targets = run_json(aws(ep).args(["events", "list-targets-by-rule", "--rule", "ws-gdk"]));
    assert_eq!(
        targets["Targets"][0]["Arn"],
        format!("arn:aws:sns:{REGION}:{ACCOUNT}:ws-alerts")
    );

    let err = cfn_err(
        ep,
        &[
            "create-stack",
            "--stack-name",
            "iam",
            "--template-body",
            &yaml,
        ],
    );
    assert!(
        err.contains("(InsufficientCapabilitiesException)")
            && err.contains("Requires capabilities : [CAPABILITY_IAM]"),
        "{err}"
    );
    cfn(
        ep,
        &[
            "create-stack",
            "--stack-name",
            "iam",
            "--template-body",
            &yaml,
            "--capabilities",
            "CAPABILITY_IAM",
        ],
    );
    let s = &cfn(ep, &["describe-stacks", "--stack-name", "iam"])["Stacks"][0];
    assert_eq!(s["StackStatus"], "CREATE_COMPLETE");
    let arn = s["Outputs"][0]["OutputValue"].as_str().unwrap();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:iam::{ACCOUNT}:instance-profile/iam-Profile-"
        )),
        "{arn}"
    );

    let err = cfn_err(
        ep,
        &[
            "create-stack",
            "--stack-name",
            "iam",
            "--template-body",
            &yaml,
            "--capabilities",
            "CAPABILITY_IAM",
        ],
    );
    assert!(
        err.contains("(AlreadyExistsException)") && err.contains("Stack [iam] already exists"),
        "{err}"
    );
    let bad = write(
        dir.path(),
        "bad.yaml",
        "Resources:\n  X:\n    Type: AWS::Foo::Bar\n",
    );
    let err = cfn_err(
        ep,
        &[
            "create-stack",
            "--stack-name",
            "bad",
            "--template-body",
            &bad,
        ],
    );
    assert!(
        err.contains("(ValidationError)")
            && err.contains("Template format error: Unrecognized resource types: [AWS::Foo::Bar]"),
        "{err}"
    );
    let unresolved = write(
        dir.path(),
        "u.json",
        r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Nowhere"}}}}}"#,
    );
    let err = cfn_err(ep, &["validate-template", "--template-body", &unresolved]);
    assert!(
        err.contains(
            "Unresolved resource dependencies [Nowhere] in the Resources block of the template"
        ),
        "{err}"
    );

    // Both go, and everything they made with them.
    cfn(ep, &["delete-stack", "--stack-name", "alerts"]);
    cfn(ep, &["delete-stack", "--stack-name", "iam"]);
    run_json(aws(ep).args([
        "cloudformation",
        "wait",
        "stack-delete-complete",
        "--stack-name",
        &id,
    ]));
    let topics = run_json(aws(ep).args(["sns", "list-topics"]));
    assert!(topics["Topics"].as_array().unwrap().is_empty());
    let profiles = run_json(aws(ep).args(["iam", "list-instance-profiles"]));
    assert!(profiles["InstanceProfiles"].as_array().unwrap().is_empty());
    let deleted = cfn(
        ep,
        &["list-stacks", "--stack-status-filter", "DELETE_COMPLETE"],
    );
    assert_eq!(deleted["StackSummaries"].as_array().unwrap().len(), 2);
}
