//! Failing resources (rollback, DO_NOTHING), CloudTrail's record of stack calls, realistic latency
//! on the sandbox clock.

use super::*;

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
    let cfg = common::learner_config(&running.endpoint()).await;
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
    assert_eq!(
        instance_state(&env, &instance).await.as_deref(),
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
