//! The Rust AWS SDK (aws-sdk-cloudformation) against an in-process sandbox: the seeded
//! `KMSWorkshop-Stack` and its clean-up (DELETE_FAILED with CloudFormation's reasons, then
//! DELETE_COMPLETE once the bucket is emptied and the hand-attached policies detached),
//! RetainResources, termination protection, JSON and YAML templates with intrinsics provisioning
//! every supported resource type, capabilities, template errors, rollback, and CloudTrail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, OnFailure, Parameter, StackStatus, Tag};
use kms_workshop_sandbox::services::cloudformation::WORKSHOP_TEMPLATE;
use kms_workshop_sandbox::{seed, Config, Running, Sandbox, Seed};

const STACK: &str = "KMSWorkshop-Stack";
const ROLE: &str = "KMSWorkshop-InstanceInitRole";

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
    let cfg = common::learner_config(&running.endpoint(), "cfn-sdk-test").await;
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

#[tokio::test]
async fn seeded_workshop_stack_owns_bucket_role_and_profile() {
    let env = start(Seed::Workshop).await;
    let s = stack(&env, STACK).await;
    assert_eq!(s.stack_status(), Some(&StackStatus::CreateComplete));
    assert_eq!(
        s.capabilities(),
        &[Capability::CapabilityNamedIam],
        "created with CAPABILITY_NAMED_IAM"
    );
    let id = s.stack_id().unwrap().to_string();
    assert!(id.starts_with(&format!(
        "arn:aws:cloudformation:us-east-1:{}:stack/{STACK}/",
        seed::ACCOUNT
    )));
    let outputs: Vec<(&str, &str)> = s
        .outputs()
        .iter()
        .map(|o| (o.output_key().unwrap(), o.output_value().unwrap()))
        .collect();
    assert!(outputs.contains(&("BucketName", "kmsworkshop-111122223333")));
    assert!(outputs.contains(&(
        "RoleArn",
        "arn:aws:iam::111122223333:role/KMSWorkshop-InstanceInitRole"
    )));

    let res = env
        .cfn()
        .list_stack_resources()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let mut got: Vec<(String, String, String)> = res
        .stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap().to_string(),
                r.resource_type().unwrap().to_string(),
                r.physical_resource_id().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "KMSWorkshopInstanceProfile".into(),
                "AWS::IAM::InstanceProfile".into(),
                ROLE.into()
            ),
            (
                "KMSWorkshopRole".into(),
                "AWS::IAM::Role".into(),
                ROLE.into()
            ),
            (
                "workshopbucket".into(),
                "AWS::S3::Bucket".into(),
                "kmsworkshop-111122223333".into()
            ),
        ]
    );
    let detail = env
        .cfn()
        .describe_stack_resource()
        .stack_name(STACK)
        .logical_resource_id("KMSWorkshopRole")
        .send()
        .await
        .unwrap();
    let d = detail.stack_resource_detail().unwrap();
    assert_eq!(
        d.resource_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    // The stack's resources, found by physical id.
    let by_physical = env
        .cfn()
        .describe_stack_resources()
        .physical_resource_id("kmsworkshop-111122223333")
        .send()
        .await
        .unwrap();
    assert_eq!(by_physical.stack_resources().len(), 3);

    // The role carries CloudFormation's tags, has the template's policies plus the learner's,
    // and the id the instance's role session signs with.
    let role = env.iam().get_role().role_name(ROLE).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.role_id(), "AROAWORKSHOPINSTANCE1");
    let tags: Vec<(&str, &str)> = role.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert!(tags.contains(&("aws:cloudformation:stack-name", STACK)));
    assert!(tags.contains(&("aws:cloudformation:logical-id", "KMSWorkshopRole")));
    assert!(tags.contains(&("aws:cloudformation:stack-id", id.as_str())));
    let attached = env
        .iam()
        .list_attached_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    for p in [
        "AmazonS3FullAccess",
        "AWSCloudTrailReadOnlyAccess",
        "AmazonEC2FullAccess",
        "AWSKeyManagementServicePowerUser",
        "KMS-Workshop-ImportMaterialPermissions",
        "KMSWorkshop-RotationDisableOps",
        "KMSWorkshop-AdditionalPermissions",
    ] {
        assert!(names.contains(&p), "{p} attached: {names:?}");
    }
    let profile = env
        .iam()
        .get_instance_profile()
        .instance_profile_name(ROLE)
        .send()
        .await
        .unwrap();
    let profile = profile.instance_profile().unwrap();
    assert_eq!(profile.roles()[0].role_name(), ROLE);
    assert!(profile
        .tags()
        .iter()
        .any(|t| t.key() == "aws:cloudformation:logical-id"
            && t.value() == "KMSWorkshopInstanceProfile"));

    // The learner's uploads are in the stack's bucket.
    let objects = env
        .s3()
        .list_objects_v2()
        .bucket("kmsworkshop-111122223333")
        .send()
        .await
        .unwrap();
    assert!(objects
        .contents()
        .iter()
        .any(|o| o.key() == Some("SampleFile-KMS.txt")));

    // The template as given, and events dated when the learner created the stack.
    let t = env
        .cfn()
        .get_template()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    assert_eq!(t.template_body(), Some(WORKSHOP_TEMPLATE));
    let events = env
        .cfn()
        .describe_stack_events()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let ev = events.stack_events();
    assert_eq!(
        ev.first().unwrap().resource_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(ev.first().unwrap().logical_resource_id(), Some(STACK));
    let last = ev.last().unwrap();
    assert_eq!(
        last.resource_status().map(|s| s.as_str()),
        Some("CREATE_IN_PROGRESS")
    );
    assert_eq!(last.resource_status_reason(), Some("User Initiated"));
    let age = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - last.timestamp().unwrap().secs();
    assert!(age > 3 * 86_400, "created days ago, not {age} s ago");
    // Ordered newest first.
    let times: Vec<i64> = ev.iter().map(|e| e.timestamp().unwrap().secs()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn deleting_the_seeded_stack_fails_until_bucket_and_role_are_cleared() {
    let env = start(Seed::Workshop).await;
    let id = stack(&env, STACK).await.stack_id().unwrap().to_string();
    env.cfn()
        .delete_stack()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let s = stack(&env, STACK).await;
    assert_eq!(s.stack_status(), Some(&StackStatus::DeleteFailed));
    assert_eq!(
        s.stack_status_reason(),
        Some("The following resource(s) failed to delete: [KMSWorkshopRole, workshopbucket]. ")
    );
    let events = env
        .cfn()
        .describe_stack_events()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let reason_of = |logical: &str| {
        events
            .stack_events()
            .iter()
            .find(|e| {
                e.logical_resource_id() == Some(logical)
                    && e.resource_status().map(|s| s.as_str()) == Some("DELETE_FAILED")
            })
            .and_then(|e| e.resource_status_reason())
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(
        reason_of("workshopbucket").starts_with(
            "The bucket you tried to delete is not empty (Service: S3, Status Code: 409, Request ID: "
        ),
        "{}",
        reason_of("workshopbucket")
    );
    assert!(
        reason_of("KMSWorkshopRole").starts_with(
            "Cannot delete entity, must detach all policies first. (Service: Iam, Status Code: 409, Request ID: "
        ),
        "{}",
        reason_of("KMSWorkshopRole")
    );
    // The instance profile went; the template's own policies were detached from the role.
    let res = env
        .cfn()
        .list_stack_resources()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let status_of = |l: &str| {
        res.stack_resource_summaries()
            .iter()
            .find(|r| r.logical_resource_id() == Some(l))
            .and_then(|r| r.resource_status())
            .map(|s| s.as_str().to_string())
            .unwrap()
    };
    assert_eq!(status_of("KMSWorkshopInstanceProfile"), "DELETE_COMPLETE");
    assert_eq!(status_of("KMSWorkshopRole"), "DELETE_FAILED");
    assert_eq!(status_of("workshopbucket"), "DELETE_FAILED");
    let code = env
        .iam()
        .get_instance_profile()
        .instance_profile_name(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error()
        .code()
        .map(str::to_string);
    assert_eq!(code.as_deref(), Some("NoSuchEntity"));

    // Clear what the learner added, then delete again.
    let s3 = env.s3();
    let bucket = "kmsworkshop-111122223333";
    let list = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    for o in list.contents() {
        s3.delete_object()
            .bucket(bucket)
            .key(o.key().unwrap())
            .send()
            .await
            .unwrap();
    }
    let attached = env
        .iam()
        .list_attached_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .unwrap();
    for p in attached.attached_policies() {
        env.iam()
            .detach_role_policy()
            .role_name(ROLE)
            .policy_arn(p.policy_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    env.cfn()
        .delete_stack()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let (code, msg) = err_of(env.cfn().describe_stacks().stack_name(STACK).send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, format!("Stack with id {STACK} does not exist"));
    let s = stack(&env, &id).await;
    assert_eq!(s.stack_status(), Some(&StackStatus::DeleteComplete));
    assert!(s.deletion_time().is_some());
    let gone = env
        .iam()
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.into_service_error().code(), Some("NoSuchEntity"));
    assert!(s3.head_bucket().bucket(bucket).send().await.is_err());
    // Deleted stacks stay in ListStacks, not in DescribeStacks without a name.
    let listed = env
        .cfn()
        .list_stacks()
        .stack_status_filter(StackStatus::DeleteComplete)
        .send()
        .await
        .unwrap();
    assert!(listed
        .stack_summaries()
        .iter()
        .any(|s| s.stack_id() == Some(id.as_str())));
    let all = env.cfn().describe_stacks().send().await.unwrap();
    assert!(all.stacks().is_empty());
    // Deleting what is already gone succeeds.
    env.cfn()
        .delete_stack()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn retain_resources_and_termination_protection() {
    let env = start(Seed::Workshop).await;
    // RetainResources only on DELETE_FAILED.
    let (code, msg) = err_of(
        env.cfn()
            .delete_stack()
            .stack_name(STACK)
            .retain_resources("workshopbucket")
            .send()
            .await,
    );
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("DELETE_FAILED"), "{msg}");

    // Termination protection refuses deletion.
    env.cfn()
        .update_termination_protection()
        .stack_name(STACK)
        .enable_termination_protection(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stack(&env, STACK).await.enable_termination_protection(),
        Some(true)
    );
    let (code, msg) = err_of(env.cfn().delete_stack().stack_name(STACK).send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        format!("Stack [{STACK}] cannot be deleted while TerminationProtection is enabled")
    );
    assert_eq!(status(&env, STACK).await, StackStatus::CreateComplete);
    env.cfn()
        .update_termination_protection()
        .stack_name(STACK)
        .enable_termination_protection(false)
        .send()
        .await
        .unwrap();

    env.cfn()
        .delete_stack()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&env, STACK).await, StackStatus::DeleteFailed);
    let id = stack(&env, STACK).await.stack_id().unwrap().to_string();
    env.cfn()
        .delete_stack()
        .stack_name(STACK)
        .retain_resources("workshopbucket")
        .retain_resources("KMSWorkshopRole")
        .send()
        .await
        .unwrap();
    let s = stack(&env, &id).await;
    assert_eq!(s.stack_status(), Some(&StackStatus::DeleteComplete));
    let events = env
        .cfn()
        .describe_stack_events()
        .stack_name(&id)
        .send()
        .await
        .unwrap();
    let skipped: Vec<&str> = events
        .stack_events()
        .iter()
        .filter(|e| e.resource_status().map(|s| s.as_str()) == Some("DELETE_SKIPPED"))
        .filter_map(|e| e.logical_resource_id())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    // Retained: still there.
    env.iam().get_role().role_name(ROLE).send().await.unwrap();
    env.s3()
        .head_bucket()
        .bucket("kmsworkshop-111122223333")
        .send()
        .await
        .unwrap();
}

const JSON_TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "every resource type",
  "Parameters": {
    "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Secret": {"Type": "String", "NoEcho": true},
    "Ami": {"Type": "String"}
  },
  "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
  "Resources": {
    "Topic": {
      "Type": "AWS::SNS::Topic",
      "Properties": {"DisplayName": "alerts", "Subscription": [{"Protocol": "email", "Endpoint": "ops@example.com"}]}
    },
    "Rule": {
      "Type": "AWS::Events::Rule",
      "Properties": {
        "EventPattern": {"source": ["aws.kms"], "detail-type": ["AWS API Call via CloudTrail"]},
        "State": "ENABLED",
        "Targets": [{"Id": "topic", "Arn": {"Ref": "Topic"}}]
      }
    },
    "Role": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]},
        "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]}}],
        "Description": {"Fn::If": ["IsProd", "production", {"Ref": "AWS::NoValue"}]}
      }
    },
    "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [{"Ref": "Role"}]}},
    "Bucket": {"Type": "AWS::S3::Bucket", "DependsOn": "Topic"},
    "Instance": {
      "Type": "AWS::EC2::Instance",
      "Properties": {
        "ImageId": {"Ref": "Ami"},
        "InstanceType": "t2.micro",
        "IamInstanceProfile": {"Ref": "Profile"},
        "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}-box"}}]
      }
    }
  },
  "Outputs": {
    "TopicName": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}},
    "RuleArn": {"Value": {"Fn::GetAtt": ["Rule", "Arn"]}},
    "Ip": {"Value": {"Fn::GetAtt": ["Instance", "PrivateIp"]}},
    "BucketDomain": {"Value": {"Fn::Join": ["", ["https://", {"Fn::GetAtt": ["Bucket", "DomainName"]}]]}},
    "FirstAz": {"Value": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}
  }
}"#;

#[tokio::test]
async fn json_template_provisions_every_type_and_deletes_it_all() {
    let env = start(Seed::Empty).await;
    let cfn = env.cfn();
    // An unnamed role needs CAPABILITY_IAM.
    let (code, msg) = err_of(
        cfn.create_stack()
            .stack_name("all")
            .template_body(JSON_TEMPLATE)
            .parameters(
                Parameter::builder()
                    .parameter_key("Secret")
                    .parameter_value("s3cr3t")
                    .build(),
            )
            .parameters(
                Parameter::builder()
                    .parameter_key("Ami")
                    .parameter_value("ami-0c02fb55956c7d316")
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InsufficientCapabilitiesException",
            "Requires capabilities : [CAPABILITY_IAM]"
        )
    );
    // A missing parameter value.
    let (code, msg) = err_of(
        cfn.create_stack()
            .stack_name("all")
            .template_body(JSON_TEMPLATE)
            .capabilities(Capability::CapabilityIam)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "Parameters: [Secret, Ami] must have values");
    // A value outside AllowedValues, and a parameter the template does not declare.
    for (key, value, want) in [
        ("Env", "qa", "Parameter 'Env' must be one of AllowedValues"),
        (
            "Bogus",
            "x",
            "Parameters: [Bogus] do not exist in the template",
        ),
    ] {
        let (code, msg) = err_of(
            cfn.create_stack()
                .stack_name("all")
                .template_body(JSON_TEMPLATE)
                .capabilities(Capability::CapabilityIam)
                .parameters(
                    Parameter::builder()
                        .parameter_key("Secret")
                        .parameter_value("s")
                        .build(),
                )
                .parameters(
                    Parameter::builder()
                        .parameter_key("Ami")
                        .parameter_value("ami-1")
                        .build(),
                )
                .parameters(
                    Parameter::builder()
                        .parameter_key(key)
                        .parameter_value(value)
                        .build(),
                )
                .send()
                .await,
        );
        assert_eq!((code.as_str(), msg.as_str()), ("ValidationError", want));
    }

    let id = cfn
        .create_stack()
        .stack_name("all")
        .template_body(JSON_TEMPLATE)
        .capabilities(Capability::CapabilityIam)
        .parameters(
            Parameter::builder()
                .parameter_key("Secret")
                .parameter_value("s3cr3t")
                .build(),
        )
        .parameters(
            Parameter::builder()
                .parameter_key("Ami")
                .parameter_value("ami-0c02fb55956c7d316")
                .build(),
        )
        .tags(Tag::builder().key("team").value("sec").build())
        .send()
        .await
        .unwrap()
        .stack_id()
        .unwrap()
        .to_string();
    let s = stack(&env, "all").await;
    assert_eq!(
        s.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{:?}",
        failures(&env, "all").await
    );
    assert_eq!(s.description(), Some("every resource type"));
    let param = |k: &str| {
        s.parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(k))
            .and_then(|p| p.parameter_value())
            .map(str::to_string)
    };
    assert_eq!(param("Secret").as_deref(), Some("****"), "NoEcho is masked");
    assert_eq!(param("Env").as_deref(), Some("dev"));
    let out = |k: &str| {
        s.outputs()
            .iter()
            .find(|o| o.output_key() == Some(k))
            .and_then(|o| o.output_value())
            .map(str::to_string)
            .unwrap_or_default()
    };
    // Generated names: <stack>-<LogicalId>-<13 random upper-case letters and digits>.
    let topic = out("TopicName");
    assert!(
        topic.starts_with("all-Topic-") && topic.len() == "all-Topic-".len() + 13,
        "{topic}"
    );
    assert!(out("RuleArn").starts_with("arn:aws:events:us-east-1:111122223333:rule/all-Rule-"));
    assert!(!out("Ip").is_empty());
    assert!(
        out("BucketDomain").starts_with("https://all-bucket-"),
        "{}",
        out("BucketDomain")
    );
    assert!(out("BucketDomain").ends_with(".s3.amazonaws.com"));
    assert_eq!(out("FirstAz"), "us-east-1a");

    let res = cfn
        .describe_stack_resources()
        .stack_name("all")
        .send()
        .await
        .unwrap();
    assert_eq!(res.stack_resources().len(), 6);
    let physical = |l: &str| {
        res.stack_resources()
            .iter()
            .find(|r| r.logical_resource_id() == Some(l))
            .and_then(|r| r.physical_resource_id())
            .unwrap()
            .to_string()
    };
    // The instance is tagged and has the stack's profile.
    let instance = physical("Instance");
    let d = env
        .ec2()
        .describe_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let i = &d.reservations()[0].instances()[0];
    let tags: Vec<(&str, &str)> = i
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert!(tags.contains(&("Name", "all-box")));
    assert!(
        tags.contains(&("team", "sec")),
        "stack tags propagate: {tags:?}"
    );
    assert!(tags.contains(&("aws:cloudformation:logical-id", "Instance")));
    assert!(i
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .unwrap()
        .ends_with(&format!("instance-profile/{}", physical("Profile"))));
    // The role has the inline policy and no description (AWS::NoValue).
    let role = env
        .iam()
        .get_role()
        .role_name(physical("Role"))
        .send()
        .await
        .unwrap();
    assert!(role.role().unwrap().description().is_none());
    let inline = env
        .iam()
        .list_role_policies()
        .role_name(physical("Role"))
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), &["inline".to_string()]);

    cfn.delete_stack().stack_name("all").send().await.unwrap();
    let s = stack(&env, &id).await;
    assert_eq!(
        s.stack_status(),
        Some(&StackStatus::DeleteComplete),
        "{:?}",
        failures(&env, &id).await
    );
    let d = env
        .ec2()
        .describe_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.reservations()[0].instances()[0]
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str()),
        Some("terminated")
    );
    assert!(env
        .iam()
        .get_role()
        .role_name(physical("Role"))
        .send()
        .await
        .is_err());
    assert!(env
        .s3()
        .head_bucket()
        .bucket(physical("Bucket"))
        .send()
        .await
        .is_err());
}

const YAML_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Name:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${Name}-topic"
      DisplayName: !Select [0, !Split ["-", !Ref Name]]
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Join ["-", [!Ref Name, role]]
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: [ec2.amazonaws.com] }
            Action: ["sts:AssumeRole"]
Outputs:
  TopicArn:
    Value: !GetAtt Topic.TopicArn
  RoleArn:
    Value: !GetAtt [Role, Arn]
  Both:
    Value: !Sub "${Topic.TopicName}/${Role}"
"#;

#[tokio::test]
async fn yaml_template_capabilities_and_validation() {
    let env = start(Seed::Empty).await;
    let cfn = env.cfn();
    let v = cfn
        .validate_template()
        .template_body(YAML_TEMPLATE)
        .send()
        .await
        .unwrap();
    assert_eq!(v.parameters()[0].parameter_key(), Some("Name"));
    assert_eq!(v.capabilities(), &[Capability::CapabilityNamedIam]);
    assert_eq!(
        v.capabilities_reason(),
        Some("The following resource(s) require capabilities: [AWS::IAM::Role]")
    );
    let name = Parameter::builder()
        .parameter_key("Name")
        .parameter_value("blue-green")
        .build();
    // A named role needs CAPABILITY_NAMED_IAM; CAPABILITY_IAM is not enough.
    let (code, msg) = err_of(
        cfn.create_stack()
            .stack_name("y")
            .template_body(YAML_TEMPLATE)
            .parameters(name.clone())
            .capabilities(Capability::CapabilityIam)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InsufficientCapabilitiesException",
            "Requires capabilities : [CAPABILITY_NAMED_IAM]"
        )
    );
    cfn.create_stack()
        .stack_name("y")
        .template_body(YAML_TEMPLATE)
        .parameters(name.clone())
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap();
    let s = stack(&env, "y").await;
    assert_eq!(
        s.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{:?}",
        failures(&env, "y").await
    );
    let out = |k: &str| {
        s.outputs()
            .iter()
            .find(|o| o.output_key() == Some(k))
            .and_then(|o| o.output_value())
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert_eq!(
        out("TopicArn"),
        "arn:aws:sns:us-east-1:111122223333:blue-green-topic"
    );
    assert_eq!(
        out("RoleArn"),
        "arn:aws:iam::111122223333:role/blue-green-role"
    );
    assert_eq!(out("Both"), "blue-green-topic/blue-green-role");
    let sns = aws_sdk_sns::Client::new(&env.cfg);
    let attrs = sns
        .get_topic_attributes()
        .topic_arn(out("TopicArn"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs
            .attributes()
            .unwrap()
            .get("DisplayName")
            .map(String::as_str),
        Some("blue")
    );

    // The same name again.
    let (code, msg) = err_of(
        cfn.create_stack()
            .stack_name("y")
            .template_body(YAML_TEMPLATE)
            .parameters(name)
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("AlreadyExistsException", "Stack [y] already exists")
    );
    let (code, msg) = err_of(cfn.describe_stacks().stack_name("nope").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("ValidationError", "Stack with id nope does not exist")
    );

    // Template errors, with CloudFormation's messages.
    for (body, want) in [
        (
            "Resources:\n  X:\n    Type: AWS::Foo::Bar\n",
            "Template format error: Unrecognized resource types: [AWS::Foo::Bar]",
        ),
        (
            "Resources:\n  X:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Missing\n",
            "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template",
        ),
        (
            "Resources:\n  X:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt Ghost.TopicName\n",
            "Template error: instance of Fn::GetAtt references undefined resource Ghost",
        ),
        (
            "{\"Resources\": {}}",
            "Template format error: At least one Resources member must be defined.",
        ),
    ] {
        let (code, msg) = err_of(cfn.create_stack().stack_name("bad").template_body(body).send().await);
        assert_eq!((code.as_str(), msg.as_str()), ("ValidationError", want));
        let (code, msg) = err_of(cfn.validate_template().template_body(body).send().await);
        assert_eq!((code.as_str(), msg.as_str()), ("ValidationError", want));
    }
    // A resource deleted by hand counts as deleted when the stack goes.
    env.iam()
        .delete_role()
        .role_name("blue-green-role")
        .send()
        .await
        .unwrap();
    let id = stack(&env, "y").await.stack_id().unwrap().to_string();
    cfn.delete_stack().stack_name("y").send().await.unwrap();
    assert_eq!(
        status(&env, &id).await,
        StackStatus::DeleteComplete,
        "{:?}",
        failures(&env, &id).await
    );
    assert!(sns
        .get_topic_attributes()
        .topic_arn(out("TopicArn"))
        .send()
        .await
        .is_err());

    let (code, msg) = err_of(
        cfn.validate_template()
            .template_body("Resources: [oops")
            .send()
            .await,
    );
    assert_eq!(code, "ValidationError");
    assert!(
        msg.starts_with("Template format error: YAML not well-formed."),
        "{msg}"
    );
}

#[tokio::test]
async fn a_failing_resource_rolls_back_or_stays_with_do_nothing() {
    let env = start(Seed::Empty).await;
    let cfn = env.cfn();
    let body = r#"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: rollback-test-bucket
  Role:
    Type: AWS::IAM::Role
    DependsOn: Bucket
    Properties:
      RoleName: doomed
      AssumeRolePolicyDocument: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
      ManagedPolicyArns: ["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"]
"#;
    cfn.create_stack()
        .stack_name("rb")
        .template_body(body)
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap();
    let s = stack(&env, "rb").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::RollbackComplete));
    let events = cfn
        .describe_stack_events()
        .stack_name("rb")
        .send()
        .await
        .unwrap();
    let statuses: Vec<String> = events
        .stack_events()
        .iter()
        .rev()
        .map(|e| {
            format!(
                "{} {}",
                e.logical_resource_id().unwrap(),
                e.resource_status().unwrap().as_str()
            )
        })
        .collect();
    assert!(
        statuses.contains(&"Role CREATE_FAILED".to_string()),
        "{statuses:?}"
    );
    assert!(statuses.contains(&"rb ROLLBACK_IN_PROGRESS".to_string()));
    assert!(statuses.contains(&"Bucket DELETE_COMPLETE".to_string()));
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("rb ROLLBACK_COMPLETE")
    );
    let failed = events
        .stack_events()
        .iter()
        .find(|e| e.resource_status().map(|s| s.as_str()) == Some("CREATE_FAILED"))
        .unwrap();
    assert!(failed
        .resource_status_reason()
        .unwrap()
        .contains("(Service: Iam, Status Code: 404"));
    let rb = events
        .stack_events()
        .iter()
        .find(|e| e.resource_status().map(|s| s.as_str()) == Some("ROLLBACK_IN_PROGRESS"))
        .unwrap();
    assert_eq!(
        rb.resource_status_reason(),
        Some("The following resource(s) failed to create: [Role]. Rollback requested by user.")
    );
    assert!(env
        .s3()
        .head_bucket()
        .bucket("rollback-test-bucket")
        .send()
        .await
        .is_err());
    assert!(env
        .iam()
        .get_role()
        .role_name("doomed")
        .send()
        .await
        .is_err());

    // The name is still taken until the rolled-back stack is deleted.
    cfn.delete_stack().stack_name("rb").send().await.unwrap();
    cfn.create_stack()
        .stack_name("rb")
        .template_body(body)
        .capabilities(Capability::CapabilityNamedIam)
        .on_failure(OnFailure::DoNothing)
        .send()
        .await
        .unwrap();
    let s = stack(&env, "rb").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::CreateFailed));
    assert_eq!(
        s.stack_status_reason(),
        Some("The following resource(s) failed to create: [Role]. ")
    );
    assert_eq!(s.disable_rollback(), Some(true));
    env.s3()
        .head_bucket()
        .bucket("rollback-test-bucket")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn cloudtrail_records_stack_calls_and_what_cloudformation_did() {
    let env = start(Seed::Empty).await;
    let cfn = env.cfn();
    cfn.create_stack()
        .stack_name("ct")
        .template_body(r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "ct-topic"}}}}"#)
        .send()
        .await
        .unwrap();
    cfn.describe_stacks().stack_name("ct").send().await.unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(&env.cfg);
    let lookup = |name: &'static str| {
        let ct = ct.clone();
        async move {
            ct.lookup_events()
                .lookup_attributes(
                    aws_sdk_cloudtrail::types::LookupAttribute::builder()
                        .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                        .attribute_value(name)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap()
        }
    };
    let create = lookup("CreateStack").await;
    let e = &create.events()[0];
    assert_eq!(e.event_source(), Some("cloudformation.amazonaws.com"));
    assert_eq!(e.read_only(), Some("false"));
    let describe = lookup("DescribeStacks").await;
    assert_eq!(describe.events()[0].read_only(), Some("true"));
    let topic = lookup("CreateTopic").await;
    let record: serde_json::Value =
        serde_json::from_str(topic.events()[0].cloud_trail_event().unwrap()).unwrap();
    assert_eq!(record["sourceIPAddress"], "cloudformation.amazonaws.com");
    assert_eq!(record["userIdentity"]["userName"], seed::LEARNER_USER);
}

#[tokio::test]
async fn realistic_latency_runs_on_the_sandbox_clock() {
    let (sb, running) = common::start_sandbox(Config {
        seed: Seed::Empty,
        latency: kms_workshop_sandbox::LatencyProfile::Realistic,
        ..Config::default()
    })
    .await;
    let cfg = common::learner_config(&running.endpoint(), "cfn-sdk-test").await;
    let env = Env {
        _sb: sb.clone(),
        _running: running,
        cfg,
    };
    let body = format!(
        r#"{{"Resources": {{"Box": {{"Type": "AWS::EC2::Instance", "Properties": {{"ImageId": "{}", "InstanceType": "t2.micro"}}}}}}}}"#,
        kms_workshop_sandbox::services::ec2::WORKSHOP_AMI
    );
    env.cfn()
        .create_stack()
        .stack_name("slow")
        .template_body(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&env, "slow").await, StackStatus::CreateInProgress);
    // Past any creation delay (20–60 s on AWS): complete.
    sb.advance_clock(time::Duration::seconds(120)).unwrap();
    sb.tick();
    assert_eq!(status(&env, "slow").await, StackStatus::CreateComplete);

    env.cfn()
        .delete_stack()
        .stack_name("slow")
        .send()
        .await
        .unwrap();
    assert_eq!(status(&env, "slow").await, StackStatus::DeleteInProgress);
    // The deletion starts and asks EC2 to terminate; the stack waits for `terminated`.
    sb.advance_clock(time::Duration::seconds(40)).unwrap();
    sb.tick();
    let res = env
        .cfn()
        .list_stack_resources()
        .stack_name("slow")
        .send()
        .await
        .unwrap();
    let r = &res.stack_resource_summaries()[0];
    assert_eq!(
        r.resource_status().map(|s| s.as_str()),
        Some("DELETE_IN_PROGRESS")
    );
    let instance = r.physical_resource_id().unwrap().to_string();
    let d = env
        .ec2()
        .describe_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.reservations()[0].instances()[0]
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str()),
        Some("shutting-down")
    );
    assert_eq!(status(&env, "slow").await, StackStatus::DeleteInProgress);
    // Past any termination time (30–60 s): the instance is gone and so is the stack.
    sb.advance_clock(time::Duration::seconds(120)).unwrap();
    sb.tick();
    let id = env
        .cfn()
        .list_stacks()
        .send()
        .await
        .unwrap()
        .stack_summaries()[0]
        .stack_id()
        .unwrap()
        .to_string();
    assert_eq!(status(&env, &id).await, StackStatus::DeleteComplete);
}
