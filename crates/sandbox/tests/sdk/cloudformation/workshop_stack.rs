//! The seeded workshop stack: its resources, a deletion that fails until the bucket and the role
//! are cleared, retained resources and termination protection.

use super::*;

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
    assert!(outputs.contains(&("BucketName", bucket(seed::ACCOUNT).as_str())));
    let role_arn = format!("arn:aws:iam::{}:role/{ROLE}", seed::ACCOUNT);
    assert!(outputs.contains(&("RoleArn", role_arn.as_str())));

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
                bucket(seed::ACCOUNT)
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
        .physical_resource_id(bucket(seed::ACCOUNT))
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
    ]
    .into_iter()
    .chain(CUSTOMER_POLICIES)
    {
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
        .bucket(bucket(seed::ACCOUNT))
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
    let bucket = &bucket(seed::ACCOUNT);
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
        .bucket(bucket(seed::ACCOUNT))
        .send()
        .await
        .unwrap();
}
