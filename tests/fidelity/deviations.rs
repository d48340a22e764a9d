//! Answers that once differed from AWS's: what each operation returns, as AWS returns it.

use super::*;

#[test]
fn cloudtrail_keeps_topics_and_data_selectors_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let bucket = kms_workshop_names::bucket(ACCOUNT);
    let topic = run_json(aws(ep).args(["sns", "create-topic", "--name", "trail-topic"]))
        ["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_string();
    let create = [
        "cloudtrail",
        "create-trail",
        "--name",
        "trail-one",
        "--s3-bucket-name",
        &bucket,
        "--sns-topic-name",
        "trail-topic",
    ];
    // The topic's default policy lets only its account publish: CloudTrail is refused.
    answers(
        ep,
        &create,
        "InsufficientSnsTopicPolicyException",
        "SNS Topic does not exist or the topic policy is incorrect!",
    );
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "SNS:Publish", "Resource": topic}]})
    .to_string();
    let mut set = aws(ep);
    set.args(["sns", "set-topic-attributes", "--topic-arn", &topic])
        .args(["--attribute-name", "Policy", "--attribute-value", &policy]);
    run_json(&mut set);
    let trail = run_json(aws(ep).args(create));
    assert_eq!(trail["SnsTopicName"], "trail-topic", "{trail}");
    assert_eq!(trail["SnsTopicARN"], topic.as_str(), "{trail}");
    let described = run_json(aws(ep).args([
        "cloudtrail",
        "describe-trails",
        "--trail-name-list",
        "trail-one",
    ]));
    assert_eq!(
        described["trailList"][0]["SnsTopicARN"],
        topic.as_str(),
        "{described}"
    );

    let selectors = r#"[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::*/*"]}]}]"#;
    run_json(aws(ep).args([
        "cloudtrail",
        "put-event-selectors",
        "--trail-name",
        "trail-one",
        "--event-selectors",
        selectors,
    ]));
    let got = run_json(aws(ep).args([
        "cloudtrail",
        "get-event-selectors",
        "--trail-name",
        "trail-one",
    ]));
    assert_eq!(
        got["EventSelectors"][0]["DataResources"],
        serde_json::json!([{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::*/*"]}]),
        "{got}"
    );
    let trail = run_json(aws(ep).args(["cloudtrail", "get-trail", "--name", "trail-one"]));
    assert_eq!(trail["Trail"]["HasCustomEventSelectors"], true, "{trail}");
}

#[test]
fn kms_lists_predefined_aliases_and_names_key_material() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let aliases = run_json(aws(ep).args(["kms", "list-aliases"]));
    let list = aliases["Aliases"].as_array().expect("Aliases");
    let s3 = list
        .iter()
        .find(|a| a["AliasName"] == "alias/aws/s3")
        .unwrap_or_else(|| panic!("no alias/aws/s3: {aliases}"));
    assert!(s3.get("TargetKeyId").is_none(), "{s3}");
    assert_eq!(
        s3["AliasArn"],
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/s3")
    );
    let key = run_json(aws(ep).args(["kms", "create-key"]));
    let id = key["KeyMetadata"]["CurrentKeyMaterialId"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(id.len(), 64, "{key}");
    let imported = run_json(aws(ep).args([
        "kms",
        "describe-key",
        "--key-id",
        kms_workshop_names::IMPORTED_ALIAS,
    ]));
    assert!(
        imported["KeyMetadata"]["CurrentKeyMaterialId"].is_string(),
        "{imported}"
    );
}

#[test]
fn sns_refuses_a_topic_again_with_other_tags() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let create = |team: &str| {
        let tag = format!("Key=team,Value={team}");
        ["sns", "create-topic", "--name", "tagged", "--tags", &tag].map(String::from)
    };
    // The same topic again with the same tags is the same topic.
    run_json(aws(ep).args(create("a")));
    run_json(aws(ep).args(create("a")));
    let other = create("b");
    let other: Vec<&str> = other.iter().map(String::as_str).collect();
    answers(
        ep,
        &other,
        "InvalidParameter",
        "Invalid parameter: Tags Reason: Topic already exists with different tags",
    );
}

#[test]
fn eventbridge_tags_the_default_bus() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let bus = format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default");
    run_json(aws(ep).args([
        "events",
        "tag-resource",
        "--resource-arn",
        &bus,
        "--tags",
        "Key=team,Value=a",
    ]));
    let tags = run_json(aws(ep).args(["events", "list-tags-for-resource", "--resource-arn", &bus]));
    assert_eq!(
        tags["Tags"],
        serde_json::json!([{"Key": "team", "Value": "a"}]),
        "{tags}"
    );
}

#[test]
fn cloudwatch_labels_metric_data_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let now = time::OffsetDateTime::now_utc();
    let query = |id: &str, period: u32| {
        format!(
            r#"{{"Id":"{id}","MetricStat":{{"Metric":{{"Namespace":"App","MetricName":"m"}},"Period":{period},"Stat":"Sum"}}}}"#
        )
    };
    let labels = |queries: String| -> Vec<String> {
        let out = run_json(aws(ep).args([
            "cloudwatch",
            "get-metric-data",
            "--metric-data-queries",
            &queries,
            "--start-time",
            &rfc3339(now - time::Duration::hours(1)),
            "--end-time",
            &rfc3339(now),
        ]));
        out["MetricDataResults"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["Label"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        labels(format!("[{},{}]", query("a", 60), query("b", 60))),
        ["m Sum", "m Sum"]
    );
    assert_eq!(
        labels(format!("[{},{}]", query("a", 60), query("b", 300))),
        ["m Sum 60", "m Sum 300"]
    );
}

/// `aws kms put-key-policy` of `policy` on key `id`.
fn put_key_policy(id: &str, policy: &str) -> Vec<String> {
    [
        "kms",
        "put-key-policy",
        "--key-id",
        id,
        "--policy-name",
        "default",
        "--policy",
        policy,
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn kms_refuses_a_key_policy_that_locks_the_caller_out() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let key = run_json(aws(ep).args(["kms", "create-key"]));
    let id = key["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    let others_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}]}"#;
    let put = put_key_policy(&id, others_only);
    let put: Vec<&str> = put.iter().map(String::as_str).collect();
    answers(
        ep,
        &put,
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
    );
    run_json(
        aws(ep)
            .args(put)
            .arg("--bypass-policy-lockout-safety-check"),
    );
    let own = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    run_json(aws(ep).args(["kms", "create-key", "--policy", &own]));
}

#[test]
fn kms_enforces_an_explicit_deny_in_the_key_policy() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let me = run_json(aws(ep).args(["sts", "get-caller-identity"]))["Arn"]
        .as_str()
        .expect("Arn")
        .to_string();
    let key = run_json(aws(ep).args(["kms", "create-key"]));
    let id = key["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();
    let arn = key["KeyMetadata"]["Arn"].as_str().expect("Arn").to_string();
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": me}, "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]})
    .to_string();
    run_json(aws(ep).args(put_key_policy(&id, &policy)));
    answers(
        ep,
        &["kms", "generate-data-key", "--key-id", &id, "--key-spec", "AES_256"],
        "AccessDeniedException",
        &format!("User: {me} is not authorized to perform: kms:GenerateDataKey on resource: {arn} with an explicit deny in a resource-based policy"),
    );
    // What the policy does not deny still works.
    run_json(aws(ep).args(["kms", "describe-key", "--key-id", &id]));
}

#[test]
fn cloudwatch_pages_metric_data_by_max_datapoints() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let now = time::OffsetDateTime::now_utc();
    let data: Vec<serde_json::Value> = (1..=10)
        .map(|i| serde_json::json!({"MetricName": "paged", "Value": i, "Timestamp": rfc3339(now - time::Duration::minutes(i))}))
        .collect();
    let data = serde_json::Value::Array(data).to_string();
    run_json(aws(ep).args([
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "App",
        "--metric-data",
        &data,
    ]));
    let query = r#"[{"Id":"a","MetricStat":{"Metric":{"Namespace":"App","MetricName":"paged"},"Period":60,"Stat":"Sum"}}]"#;
    let (start, end) = (
        rfc3339(now - time::Duration::minutes(20)),
        rfc3339(now + time::Duration::minutes(1)),
    );
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut cmd = aws(ep);
        cmd.args([
            "cloudwatch",
            "get-metric-data",
            "--no-paginate",
            "--metric-data-queries",
            query,
        ])
        .args([
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--max-datapoints",
            "4",
        ]);
        if let Some(t) = &token {
            cmd.args(["--next-token", t]);
        }
        let page = run_json(&mut cmd);
        token = page["NextToken"].as_str().map(str::to_string);
        let r = &page["MetricDataResults"][0];
        pages.push((
            r["Values"].as_array().map(Vec::len).unwrap_or_default(),
            r["StatusCode"].as_str().unwrap_or_default().to_string(),
        ));
        if token.is_none() || pages.len() > 5 {
            break;
        }
    }
    assert_eq!(
        pages,
        [
            (4, "PartialData".to_string()),
            (4, "PartialData".to_string()),
            (2, "Complete".to_string())
        ]
    );
}
