//! CloudWatch through the real `aws` CLI (awsJson1.0, query-compatible) against the sandbox
//! binary: the KMS guide's alarm on `SecondsUntilKeyMaterialExpiration` for ImportedCMK, firing
//! to a confirmed email subscription when the sandbox clock is advanced; TreatMissingData
//! once the material is deleted; metric reads; SetAlarmState; history; tags; and one signed
//! awsQuery request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::SystemTime;

use common::sigv4::sign;
use common::*;
use kms_workshop_names::{IMPORTED_ALIAS, TOPIC};
use serde_json::Value as J;

const EMAIL: &str = "learner@example.com";
const METRIC: &str = "SecondsUntilKeyMaterialExpiration";

fn advance(endpoint: &str, seconds: u64) {
    let path = format!("/_sandbox/clock/advance?seconds={seconds}");
    common::http::control_json(endpoint, "POST", &path);
}

/// A form POST of the awsQuery protocol to CloudWatch, signed as the learner; (status, body).
fn query(ep: &str, body: &[u8]) -> (u16, String) {
    let headers = sign(
        ep,
        "monitoring",
        "/",
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body,
    );
    common::http::raw(ep, "POST", "/", &headers, body)
}

fn alarm(ep: &str, name: &str) -> J {
    let out = run_json(aws(ep).args(["cloudwatch", "describe-alarms", "--alarm-names", name]));
    out["MetricAlarms"][0].clone()
}

fn state(ep: &str, name: &str) -> String {
    alarm(ep, name)["StateValue"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn put_alarm(ep: &str, name: &str, key_id: &str, extra: &[&str]) {
    let dims = format!("Name=KeyId,Value={key_id}");
    let mut cmd = aws(ep);
    cmd.args([
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        name,
        "--namespace",
        "AWS/KMS",
        "--metric-name",
        METRIC,
        "--dimensions",
        &dims,
        "--statistic",
        "Minimum",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "864000",
        "--comparison-operator",
        "LessThanOrEqualToThreshold",
    ]);
    cmd.args(extra);
    run_json(&mut cmd);
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The sandbox clock (it runs ahead of real time once advanced).
fn sandbox_now(ep: &str) -> i64 {
    let v = common::http::control_json(ep, "GET", "/_sandbox/clock");
    let offset_ms = v["offset_ms"]
        .as_i64()
        .or_else(|| v["offset_seconds"].as_f64().map(|s| (s * 1000.0) as i64));
    match offset_ms {
        Some(ms) => now_secs() + ms / 1000,
        None => {
            let t = v["now"].as_str().unwrap_or_default();
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp())
                .unwrap_or(now_secs())
        }
    }
}

#[test]
fn kms_expiry_alarm_with_the_cli() {
    let sb = SandboxProc::start(&[]);
    let ep = sb.endpoint.as_str();

    // SNS topic with a confirmed email-json subscription (an email one reads the text).
    let topic = create_topic(ep, TOPIC, &[]);
    subscribe(ep, &topic, "email-json", EMAIL);
    let mail = inbox(ep)
        .into_iter()
        .find(|m| m["kind"] == "SubscriptionConfirmation")
        .expect("confirmation email");
    let token = mail["document"]["Token"].as_str().unwrap().to_string();
    run_json(aws(ep).args([
        "sns",
        "confirm-subscription",
        "--topic-arn",
        &topic,
        "--token",
        &token,
    ]));

    let key = run_json(aws(ep).args(["kms", "describe-key", "--key-id", IMPORTED_ALIAS]));
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();

    // The guide's alarm, plus two that differ only in how missing data is treated.
    put_alarm(
        ep,
        "ImportedCMK-expiry",
        &key_id,
        &["--alarm-actions", &topic],
    );
    put_alarm(
        ep,
        "ImportedCMK-expiry-notbreaching",
        &key_id,
        &["--treat-missing-data", "notBreaching"],
    );
    put_alarm(
        ep,
        "ImportedCMK-expiry-breaching",
        &key_id,
        &["--treat-missing-data", "breaching"],
    );
    let a = alarm(ep, "ImportedCMK-expiry");
    assert_eq!(a["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(a["StateReason"], "Unchecked: Initial alarm creation");
    assert_eq!(a["Threshold"].as_f64(), Some(864_000.0));
    assert_eq!(a["AlarmActions"][0], topic.as_str());
    assert_eq!(a["Dimensions"][0]["Value"], key_id.as_str());

    // A minute later the alarm is evaluated: 20 days left, OK.
    advance(ep, 60);
    assert_eq!(state(ep, "ImportedCMK-expiry"), "OK");
    assert!(notifications(ep).is_empty());

    // The metric is listed and has per-minute datapoints.
    let metrics = run_json(aws(ep).args(["cloudwatch", "list-metrics", "--namespace", "AWS/KMS"]));
    let listed = metrics["Metrics"].as_array().unwrap();
    assert!(
        listed.iter().any(|m| m["MetricName"] == METRIC
            && m["Dimensions"][0]["Name"] == "KeyId"
            && m["Dimensions"][0]["Value"] == key_id.as_str()),
        "{metrics}"
    );

    // 11 days later fewer than 10 days are left: ALARM, and the email goes out.
    advance(ep, 11 * 86_400);
    assert_eq!(state(ep, "ImportedCMK-expiry"), "ALARM");
    let mails = notifications(ep);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["recipient"], EMAIL);
    assert_eq!(
        mails[0]["subject"],
        "ALARM: \"ImportedCMK-expiry\" in US East (N. Virginia)"
    );
    let msg: J = serde_json::from_str(mails[0]["document"]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(msg["AlarmName"], "ImportedCMK-expiry");
    assert_eq!(msg["AWSAccountId"], ACCOUNT);
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["OldStateValue"], "OK");
    assert_eq!(msg["Region"], "US East (N. Virginia)");
    assert!(msg["NewStateReason"]
        .as_str()
        .unwrap()
        .starts_with("Threshold Crossed"));
    assert!(msg["AlarmArn"]
        .as_str()
        .unwrap()
        .ends_with(":alarm:ImportedCMK-expiry"));
    assert_eq!(msg["AlarmActions"][0], topic.as_str());
    let trig = &msg["Trigger"];
    assert_eq!(trig["MetricName"], METRIC);
    assert_eq!(trig["Namespace"], "AWS/KMS");
    assert_eq!(trig["StatisticType"], "Statistic");
    assert_eq!(trig["Statistic"], "MINIMUM");
    assert_eq!(trig["Dimensions"][0]["name"], "KeyId");
    assert_eq!(trig["Dimensions"][0]["value"], key_id.as_str());
    assert_eq!(trig["Period"], 60);
    assert_eq!(trig["EvaluationPeriods"], 1);
    assert_eq!(trig["ComparisonOperator"], "LessThanOrEqualToThreshold");
    assert_eq!(trig["Threshold"].as_f64(), Some(864_000.0));
    assert_eq!(trig["TreatMissingData"], "missing");
    assert_eq!(trig["EvaluateLowSampleCountPercentile"], "");

    // Reading the metric: statistics and GetMetricData over the last ten minutes.
    let end = sandbox_now(ep);
    let start = end - 600;
    let stats = run_json(aws(ep).args([
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "AWS/KMS",
        "--metric-name",
        METRIC,
        "--dimensions",
        &format!("Name=KeyId,Value={key_id}"),
        "--statistics",
        "Minimum",
        "Maximum",
        "SampleCount",
        "--period",
        "60",
        "--start-time",
        &start.to_string(),
        "--end-time",
        &end.to_string(),
    ]));
    let points = stats["Datapoints"].as_array().unwrap();
    assert!(points.len() >= 9, "{stats}");
    for p in points {
        let min = p["Minimum"].as_f64().unwrap();
        assert!(min > 8.0 * 86_400.0 && min < 10.0 * 86_400.0, "{p}");
        assert_eq!(p["SampleCount"].as_f64(), Some(1.0));
        assert_eq!(p["Unit"], "Seconds");
    }
    let queries = format!(
        r#"[{{"Id":"m1","MetricStat":{{"Metric":{{"Namespace":"AWS/KMS","MetricName":"{METRIC}","Dimensions":[{{"Name":"KeyId","Value":"{key_id}"}}]}},"Period":60,"Stat":"Minimum"}}}}]"#
    );
    let data = run_json(aws(ep).args([
        "cloudwatch",
        "get-metric-data",
        "--metric-data-queries",
        &queries,
        "--start-time",
        &start.to_string(),
        "--end-time",
        &end.to_string(),
    ]));
    let r = &data["MetricDataResults"][0];
    assert_eq!(r["Id"], "m1");
    assert_eq!(r["StatusCode"], "Complete");
    let values = r["Values"].as_array().unwrap();
    assert!(values.len() >= 9, "{data}");
    // Newest first: the seconds left shrink.
    assert!(values[0].as_f64().unwrap() < values[1].as_f64().unwrap());

    // Deleting the material stops the metric; TreatMissingData decides.
    run_json(aws(ep).args(["kms", "delete-imported-key-material", "--key-id", &key_id]));
    let deleted = sandbox_now(ep);
    advance(ep, 60);
    assert_eq!(state(ep, "ImportedCMK-expiry"), "INSUFFICIENT_DATA");
    assert_eq!(state(ep, "ImportedCMK-expiry-notbreaching"), "OK");
    assert_eq!(state(ep, "ImportedCMK-expiry-breaching"), "ALARM");
    // From the first whole minute after the deletion (CloudWatch rounds a start down to the
    // minute, so a start within the deletion's minute would show that minute's point).
    let end = sandbox_now(ep);
    let recent = run_json(aws(ep).args([
        "cloudwatch",
        "get-metric-data",
        "--metric-data-queries",
        &queries,
        "--start-time",
        &((deleted / 60 + 1) * 60).to_string(),
        "--end-time",
        &(end + 60).to_string(),
    ]));
    assert!(
        recent["MetricDataResults"][0]["Values"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{recent}"
    );

    // AWS/ namespaces are AWS's own.
    fails_with(
        aws(ep).args([
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "AWS/KMS",
            "--metric-name",
            METRIC,
            "--value",
            "1",
        ]),
        "InvalidParameterValue",
    );
    run_json(aws(ep).args(common::words(
        "cloudwatch put-metric-data --namespace Workshop --metric-name Checks --value 1",
    )));
    let custom = run_json(aws(ep).args(["cloudwatch", "list-metrics", "--namespace", "Workshop"]));
    assert_eq!(custom["Metrics"][0]["MetricName"], "Checks");

    // Validation as AWS does it.
    fails_with(
        aws(ep).args([
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "bad",
            "--namespace",
            "AWS/KMS",
            "--metric-name",
            METRIC,
            "--statistic",
            "Minimum",
            "--period",
            "45",
            "--evaluation-periods",
            "1",
            "--threshold",
            "1",
            "--comparison-operator",
            "LessThanThreshold",
        ]),
        "InvalidParameterValue",
    );
    fails_with(
        aws(ep).args([
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "bad",
            "--namespace",
            "AWS/KMS",
            "--metric-name",
            METRIC,
            "--statistic",
            "Minimum",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--datapoints-to-alarm",
            "2",
            "--threshold",
            "1",
            "--comparison-operator",
            "LessThanThreshold",
        ]),
        "ValidationError",
    );

    // SetAlarmState fires the actions of the new state.
    run_json(aws(ep).args([
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        "ImportedCMK-expiry",
        "--state-value",
        "ALARM",
        "--state-reason",
        "testing the notification",
    ]));
    let mails = notifications(ep);
    assert_eq!(mails.len(), 2);
    let msg: J = serde_json::from_str(mails[1]["document"]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(msg["NewStateReason"], "testing the notification");
    assert_eq!(msg["OldStateValue"], "INSUFFICIENT_DATA");
    fails_with(
        aws(ep).args(common::words(
            "cloudwatch set-alarm-state --alarm-name nope --state-value OK --state-reason x",
        )),
        "ResourceNotFound",
    );

    // History: newest first, each kind, HistoryData JSON.
    let h = run_json(aws(ep).args(common::words(
        "cloudwatch describe-alarm-history --alarm-name ImportedCMK-expiry",
    )));
    let items = h["AlarmHistoryItems"].as_array().unwrap();
    let kinds: Vec<&str> = items
        .iter()
        .map(|i| i["HistoryItemType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"ConfigurationUpdate"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "Action").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "StateUpdate").count(),
        4,
        "{kinds:?}"
    );
    let upd = items
        .iter()
        .find(|i| i["HistorySummary"] == "Alarm updated from OK to ALARM")
        .expect("OK -> ALARM");
    let data: J = serde_json::from_str(upd["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(data["oldState"]["stateValue"], "OK");
    assert_eq!(data["newState"]["stateValue"], "ALARM");
    assert_eq!(data["newState"]["stateReasonData"]["statistic"], "Minimum");
    let action = items
        .iter()
        .find(|i| i["HistoryItemType"] == "Action")
        .unwrap();
    assert!(action["HistorySummary"]
        .as_str()
        .unwrap()
        .starts_with("Successfully executed action"));
    let only_actions = run_json(aws(ep).args(common::words("cloudwatch describe-alarm-history --alarm-name ImportedCMK-expiry --history-item-type Action")));
    assert_eq!(
        only_actions["AlarmHistoryItems"].as_array().unwrap().len(),
        2
    );

    // An action on a topic that does not exist is recorded as failed.
    put_alarm(
        ep,
        "to-nowhere",
        &key_id,
        &[
            "--alarm-actions",
            &format!("arn:aws:sns:us-east-1:{ACCOUNT}:missing"),
        ],
    );
    run_json(aws(ep).args(common::words(
        "cloudwatch set-alarm-state --alarm-name to-nowhere --state-value ALARM --state-reason x",
    )));
    let h = run_json(aws(ep).args(common::words(
        "cloudwatch describe-alarm-history --alarm-name to-nowhere --history-item-type Action",
    )));
    assert!(
        h["AlarmHistoryItems"][0]["HistorySummary"]
            .as_str()
            .unwrap()
            .starts_with("Failed to execute action"),
        "{h}"
    );

    // Describe filters and paging; alarms for the metric.
    let by_prefix = run_json(aws(ep).args(common::words(
        "cloudwatch describe-alarms --alarm-name-prefix ImportedCMK --state-value ALARM",
    )));
    let names: Vec<&str> = by_prefix["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AlarmName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["ImportedCMK-expiry", "ImportedCMK-expiry-breaching"]
    );
    let page = run_json(aws(ep).args(common::words(
        "cloudwatch describe-alarms --max-records 1 --no-paginate",
    )));
    assert_eq!(page["MetricAlarms"].as_array().unwrap().len(), 1);
    assert!(page["NextToken"].is_string());
    let all = run_json(aws(ep).args(["cloudwatch", "describe-alarms", "--page-size", "1"]));
    assert_eq!(all["MetricAlarms"].as_array().unwrap().len(), 4);
    let for_metric = run_json(aws(ep).args([
        "cloudwatch",
        "describe-alarms-for-metric",
        "--namespace",
        "AWS/KMS",
        "--metric-name",
        METRIC,
        "--dimensions",
        &format!("Name=KeyId,Value={key_id}"),
    ]));
    assert_eq!(for_metric["MetricAlarms"].as_array().unwrap().len(), 4);

    // Actions can be disabled: no email.
    run_json(aws(ep).args(common::words(
        "cloudwatch disable-alarm-actions --alarm-names ImportedCMK-expiry",
    )));
    assert_eq!(alarm(ep, "ImportedCMK-expiry")["ActionsEnabled"], false);
    run_json(aws(ep).args(common::words("cloudwatch set-alarm-state --alarm-name ImportedCMK-expiry --state-value OK --state-reason x")));
    run_json(aws(ep).args(common::words("cloudwatch set-alarm-state --alarm-name ImportedCMK-expiry --state-value ALARM --state-reason x")));
    assert_eq!(notifications(ep).len(), 2);
    run_json(aws(ep).args(common::words(
        "cloudwatch enable-alarm-actions --alarm-names ImportedCMK-expiry",
    )));
    assert_eq!(alarm(ep, "ImportedCMK-expiry")["ActionsEnabled"], true);

    // Tags.
    let arn = alarm(ep, "ImportedCMK-expiry")["AlarmArn"]
        .as_str()
        .unwrap()
        .to_string();
    run_json(aws(ep).args([
        "cloudwatch",
        "tag-resource",
        "--resource-arn",
        &arn,
        "--tags",
        "Key=project,Value=kmsworkshop",
        "Key=team,Value=sec",
    ]));
    let tags = run_json(aws(ep).args([
        "cloudwatch",
        "list-tags-for-resource",
        "--resource-arn",
        &arn,
    ]));
    assert_eq!(tags["Tags"].as_array().unwrap().len(), 2);
    run_json(aws(ep).args([
        "cloudwatch",
        "untag-resource",
        "--resource-arn",
        &arn,
        "--tag-keys",
        "team",
    ]));
    let tags = run_json(aws(ep).args([
        "cloudwatch",
        "list-tags-for-resource",
        "--resource-arn",
        &arn,
    ]));
    assert_eq!(
        tags["Tags"],
        serde_json::json!([{"Key": "project", "Value": "kmsworkshop"}])
    );
    fails_with(
        aws(ep).args([
            "cloudwatch",
            "list-tags-for-resource",
            "--resource-arn",
            &format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:nope"),
        ]),
        "ResourceNotFoundException",
    );

    // The awsQuery protocol (older clients): a signed form POST.
    let body = b"Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=ImportedCMK-expiry";
    let (status, xml) = query(ep, body);
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains(
            "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
        ),
        "{xml}"
    );
    assert!(xml.contains("<DescribeAlarmsResult>"), "{xml}");
    assert!(
        xml.contains("<AlarmName>ImportedCMK-expiry</AlarmName>"),
        "{xml}"
    );
    assert!(xml.contains("<StateValue>ALARM</StateValue>"), "{xml}");
    let body =
        b"Action=SetAlarmState&Version=2010-08-01&AlarmName=nope&StateValue=OK&StateReason=x";
    let (status, xml) = query(ep, body);
    assert_eq!(status, 404, "{xml}");
    assert!(xml.contains("<Code>ResourceNotFound</Code>"), "{xml}");

    // Delete.
    run_json(aws(ep).args(common::words("cloudwatch delete-alarms --alarm-names ImportedCMK-expiry ImportedCMK-expiry-notbreaching ImportedCMK-expiry-breaching to-nowhere")));
    let left = run_json(aws(ep).args(["cloudwatch", "describe-alarms"]));
    assert!(
        left["MetricAlarms"].as_array().unwrap().is_empty(),
        "{left}"
    );
}
