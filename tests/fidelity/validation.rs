//! Input validation: what AWS's models allow, in each service's wording, and the checks the
//! models cannot express.

use super::*;

#[test]
fn kms_checks_tags_aliases_specs_and_lengths_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let long = "k".repeat(129);
    answers(
        ep,
        &["kms", "create-key", "--tags", &format!("TagKey={long},TagValue=v")],
        "ValidationException",
        &format!("1 validation error detected: Value '{long}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128"),
    );
    answers(
        ep,
        &[
            "kms",
            "create-key",
            "--tags",
            "TagKey=a,TagValue=1",
            "TagKey=a,TagValue=2",
        ],
        "TagException",
        "Duplicate tag keys",
    );
    let many: Vec<String> = (0..51).map(|i| format!("TagKey=k{i},TagValue=v")).collect();
    let mut args = vec!["kms", "create-key", "--tags"];
    args.extend(many.iter().map(String::as_str));
    answers(ep, &args, "TagException", "Too many tags");
    answers(
        ep,
        &["kms", "create-key", "--tags", "TagKey=aws:mine,TagValue=v"],
        "TagException",
        "Tags beginning with aws: are reserved",
    );
    answers(
        ep,
        &["kms", "create-key", "--key-spec", "AES_512"],
        "ValidationException",
        "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519]",
    );
    answers(
        ep,
        &["kms", "create-alias", "--alias-name", "noprefix", "--target-key-id", kms_workshop_names::IMPORTED_ALIAS],
        "ValidationException",
        "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
    );
    answers(
        ep,
        &["kms", "create-alias", "--alias-name", "alias/my-alias!", "--target-key-id", kms_workshop_names::IMPORTED_ALIAS],
        "ValidationException",
        "1 validation error detected: Value 'alias/my-alias!' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
    );
    answers(
        ep,
        &["kms", "generate-random"],
        "ValidationException",
        "NumberOfBytes is required.",
    );
    answers(
        ep,
        &["kms", "generate-random", "--number-of-bytes", "1025"],
        "ValidationException",
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
    let big = std::env::temp_dir().join(format!("kms-workshop-4097-{}", std::process::id()));
    std::fs::write(&big, vec![b'x'; 4097]).expect("plaintext file");
    answers(
        ep,
        &["kms", "encrypt", "--key-id", kms_workshop_names::IMPORTED_ALIAS, "--plaintext", &format!("fileb://{}", big.display())],
        "ValidationException",
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
    let _ = std::fs::remove_file(big);
}

#[test]
fn eventbridge_checks_schedules_targets_and_entries_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    for schedule in [
        "rate( 10 minutes )",
        "cron(0 1 * * * *)",
        "cron(71 8 1 * ? *)",
    ] {
        answers(
            ep,
            &[
                "events",
                "put-rule",
                "--name",
                "r",
                "--schedule-expression",
                schedule,
            ],
            "ValidationException",
            "Parameter ScheduleExpression is not valid.",
        );
    }
    // An empty pattern beside a schedule is no pattern.
    run_json(unchecked(ep).args([
        "events",
        "put-rule",
        "--name",
        "r",
        "--schedule-expression",
        "rate(10 minutes)",
        "--event-pattern",
        "",
    ]));
    answers(
        ep,
        &[
            "events",
            "put-targets",
            "--rule",
            "r",
            "--targets",
            "Id=t,Arn=invalid-arn",
        ],
        "ValidationException",
        "Parameter invalid-arn is not valid. Reason: Provided Arn is not in correct format.",
    );
    let out = run_json(unchecked(ep).args([
        "events",
        "put-events",
        "--entries",
        r#"[{"Source":"my.app","DetailType":"","Detail":"{}"}]"#,
    ]));
    assert_eq!(out["FailedEntryCount"], 1, "{out}");
    assert_eq!(out["Entries"][0]["ErrorCode"], "InvalidArgument");
    assert_eq!(
        out["Entries"][0]["ErrorMessage"],
        "Parameter DetailType is not valid. Reason: DetailType is a required argument."
    );
}

#[test]
fn sns_checks_arns_filter_policies_and_fifo_members_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let bad_arn = "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1";
    for args in [
        vec!["sns", "get-topic-attributes", "--topic-arn", "not-an-arn"],
        vec![
            "sns",
            "publish",
            "--topic-arn",
            "not-an-arn",
            "--message",
            "m",
        ],
        vec![
            "sns",
            "subscribe",
            "--topic-arn",
            "not-an-arn",
            "--protocol",
            "email",
            "--notification-endpoint",
            "a@example.com",
        ],
    ] {
        answers(ep, &args, "InvalidParameter", bad_arn);
    }
    answers(
        ep,
        &["sns", "unsubscribe", "--subscription-arn", "not-an-arn"],
        "InvalidParameter",
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1",
    );
    let topic = run_json(aws(ep).args(["sns", "create-topic", "--name", "fidelity"]))["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_string();
    let (code, message) = refused(unchecked(ep).args([
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "email",
        "--notification-endpoint",
        "a@example.com",
        "--attributes",
        "FilterPolicy=invalid-json",
    ]));
    assert_eq!(code, "InvalidParameter");
    assert!(
        message.starts_with("Invalid parameter: FilterPolicy: failed to parse JSON."),
        "{message}"
    );
    answers(
        ep,
        &["sns", "publish", "--topic-arn", &topic, "--message", "m", "--message-deduplication-id", "d"],
        "InvalidParameter",
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
    );
}

#[test]
fn cloudwatch_checks_datapoints_and_periods_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    answers(
        ep,
        &["cloudwatch", "put-metric-data", "--namespace", "App", "--metric-data", r#"[{"MetricName":"m","Value":1,"Values":[1,2]}]"#],
        "InvalidParameterCombination",
        "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both.",
    );
    answers(
        ep,
        &["cloudwatch", "put-metric-data", "--namespace", "App", "--metric-data", r#"[{"MetricName":"m","Value":1,"StatisticValues":{"SampleCount":1,"Sum":1,"Minimum":1,"Maximum":1}}]"#],
        "InvalidParameterCombination",
        "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.",
    );
    answers(
        ep,
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "App",
            "--metric-name",
            "m",
            "--value",
            "NaN",
        ],
        "InvalidParameterValue",
        "The value NaN for parameter MetricData.member.1.Value is invalid.",
    );
    let now = time::OffsetDateTime::now_utc();
    // A one-second period is allowed (high-resolution metrics).
    run_json(aws(ep).args([
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "App",
        "--metric-name",
        "m",
        "--statistics",
        "Sum",
        "--period",
        "1",
        "--start-time",
        &rfc3339(now - time::Duration::minutes(10)),
        "--end-time",
        &rfc3339(now),
    ]));
    answers(
        ep,
        &["cloudwatch", "get-metric-statistics", "--namespace", "App", "--metric-name", "m",
          "--statistics", "Sum", "--period", "60",
          "--start-time", &rfc3339(now - time::Duration::days(2)), "--end-time", &rfc3339(now)],
        "InvalidParameterCombination",
        "You have requested up to 2880 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
    );
}

#[test]
fn cloudtrail_checks_buckets_topics_names_and_combinations_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let bucket = kms_workshop_names::bucket(ACCOUNT);
    let create = |name: &str, bucket: &str, extra: &[&str]| -> Vec<String> {
        [
            "cloudtrail",
            "create-trail",
            &format!("--name={name}"),
            "--s3-bucket-name",
            bucket,
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect()
    };
    let cases = [
        (
            create("trail-one", "no-such-bucket-here", &[]),
            "S3BucketDoesNotExistException",
            "S3 bucket no-such-bucket-here does not exist!",
        ),
        (
            create("trail-one", &bucket, &["--sns-topic-name", "no-such-topic"]),
            "InsufficientSnsTopicPolicyException",
            "SNS Topic does not exist or the topic policy is incorrect!",
        ),
        (
            create(
                "trail-one",
                &bucket,
                &["--is-multi-region-trail", "--no-include-global-service-events"],
            ),
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        ),
        (
            create("-trail-one", &bucket, &[]),
            "InvalidTrailNameException",
            "Trail name must starts with a letter or number.",
        ),
        (
            ["cloudtrail", "get-trail", "--name", "a"].map(String::from).to_vec(),
            "InvalidTrailNameException",
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 1 characters.",
        ),
    ];
    for (args, code, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        answers(ep, &args, code, message);
    }
}

#[test]
fn sts_checks_transitive_tag_keys_as_aws_does() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/{}", kms_workshop_names::ROLE);
    answers(
        ep,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role,
            "--role-session-name",
            "session",
            "--tags",
            "Key=team,Value=a",
            "--transitive-tag-keys",
            "project",
        ],
        "InvalidParameterValue",
        "The specified transitive tag key must be included in the requested tags.",
    );
}
