//! Templates of every supported resource type, in JSON and YAML: provisioning, capabilities,
//! validation, deletion.

use super::*;

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
    assert!(out("RuleArn").starts_with(&format!(
        "arn:aws:events:{}:{}:rule/all-Rule-",
        seed::REGION,
        seed::ACCOUNT
    )));
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
    assert_eq!(
        instance_state(&env, &instance).await.as_deref(),
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
        format!(
            "arn:aws:sns:{}:{}:blue-green-topic",
            seed::REGION,
            seed::ACCOUNT
        )
    );
    assert_eq!(
        out("RoleArn"),
        format!("arn:aws:iam::{}:role/blue-green-role", seed::ACCOUNT)
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
