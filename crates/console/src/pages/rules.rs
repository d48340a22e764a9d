//! CloudWatch Events **Rules**, with the console's "Events by Service" builder: service name,
//! event type, any or specific operations, and the event pattern it produces, shown before the
//! rule is made and tried (EventBridge's TestEventPattern) against a GenerateDataKey call as
//! CloudTrail delivers it. The page says why "Service Name: CloudTrail" gives a pattern that
//! never matches a KMS call, and why a rule needs the state that receives read-only
//! management events. "Add target: SNS topic" makes the topic a target and, as AWS's console
//! does, lets EventBridge publish to it (the topic policy).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kms_workshop_notify::rule::{put_rule, put_sns_target, RuleSpec, ALL_MANAGEMENT_EVENTS};
use serde_json::{json, Value};

use super::Chrome;
use crate::aws::Failure;
use crate::session::SignedIn;
use crate::web::{csrf_refused, form_fields, page, query_fields};

/// The builder's services: (form value, label, event source prefix, API event source).
pub const SERVICES: [(&str, &str, &str, &str); 6] = [
    (
        "kms",
        "Key Management Service (KMS)",
        "aws.kms",
        "kms.amazonaws.com",
    ),
    (
        "cloudtrail",
        "CloudTrail",
        "aws.cloudtrail",
        "cloudtrail.amazonaws.com",
    ),
    ("ec2", "EC2", "aws.ec2", "ec2.amazonaws.com"),
    ("iam", "IAM", "aws.iam", "iam.amazonaws.com"),
    ("s3", "S3", "aws.s3", "s3.amazonaws.com"),
    ("sns", "SNS", "aws.sns", "sns.amazonaws.com"),
];

/// The event types the builder offers: (form value, label).
pub const EVENT_TYPES: [(&str, &str); 2] = [
    ("api", "AWS API Call via CloudTrail"),
    ("all", "All Events"),
];

/// What the builder's form holds.
pub struct Builder {
    pub service: String,
    pub event_type: String,
    /// Empty: any operation.
    pub operations: String,
}

impl Builder {
    fn from_fields(f: &std::collections::HashMap<String, String>) -> Self {
        let get = |k: &str, d: &str| f.get(k).cloned().unwrap_or_else(|| d.to_string());
        Builder {
            service: get("service", "kms"),
            event_type: get("event_type", "api"),
            operations: get("operations", ""),
        }
    }

    /// The pattern the builder's choices make, or what is wrong with them.
    pub fn pattern(&self) -> Result<Value, String> {
        let (_, _, source, event_source) = SERVICES
            .iter()
            .find(|(v, ..)| *v == self.service)
            .ok_or_else(|| {
                let allowed: Vec<&str> = SERVICES.iter().map(|s| s.0).collect();
                format!("Service name must be one of {}.", allowed.join(", "))
            })?;
        let mut pattern = json!({ "source": [source] });
        match self.event_type.as_str() {
            "all" => {}
            "api" => {
                pattern["detail-type"] = json!(["AWS API Call via CloudTrail"]);
                pattern["detail"] = json!({ "eventSource": [event_source] });
                let ops = self.operation_list();
                if !ops.is_empty() {
                    pattern["detail"]["eventName"] = json!(ops);
                }
            }
            other => return Err(format!("Event type must be api or all, not '{other}'.")),
        }
        Ok(pattern)
    }

    fn operation_list(&self) -> Vec<String> {
        self.operations
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// What a learner should know about these choices.
    fn advice(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.service == "cloudtrail" && self.event_type == "api" {
            out.push(
                "Service name CloudTrail matches calls to CloudTrail's own API (source \
                 aws.cloudtrail). A KMS GenerateDataKey call reaches EventBridge with source \
                 aws.kms, so this pattern never matches it: choose Key Management Service.",
            );
        }
        let read_only = self.operation_list().iter().any(|o| {
            ["Generate", "Decrypt", "Encrypt", "Describe", "List", "Get"]
                .iter()
                .any(|p| o.starts_with(p))
        });
        if read_only {
            out.push(
                "These are read-only management events: a rule in state Enabled does not receive \
                 them. Choose \"Enabled, with all CloudTrail management events\" below.",
            );
        }
        out
    }
}

#[derive(Template)]
#[template(path = "rules.html")]
struct Rules {
    chrome: Chrome,
    rules: Vec<(String, String, String)>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "rule_new.html")]
struct NewRule {
    chrome: Chrome,
    services: &'static [(&'static str, &'static str, &'static str, &'static str)],
    event_types: &'static [(&'static str, &'static str)],
    builder: Builder,
    pattern: String,
    advice: Vec<&'static str>,
    matches_sample: Option<bool>,
    topics: Vec<String>,
    problem: Option<String>,
    all_events_state: &'static str,
}

#[derive(Template)]
#[template(path = "rule.html")]
struct Rule {
    chrome: Chrome,
    name: String,
    state: String,
    pattern: String,
    targets: Vec<String>,
}

fn events(s: &SignedIn) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(&s.session.sdk)
}

/// `GET /console/events/rules`.
pub async fn list(s: SignedIn) -> Response {
    let (rules, problem) = match events(&s).list_rules().send().await {
        Ok(out) => (
            out.rules()
                .iter()
                .map(|r| {
                    (
                        r.name().unwrap_or_default().to_string(),
                        r.state()
                            .map(|x| x.as_str().to_string())
                            .unwrap_or_default(),
                        r.description().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            None,
        ),
        Err(e) => {
            let f = Failure::from_sdk("ListRules", e);
            (Vec::new(), Some(format!("{}: {}", f.code, f.message)))
        }
    };
    page(
        StatusCode::OK,
        &Rules {
            chrome: Chrome::of(&s, "rules"),
            rules,
            problem,
        },
    )
}

/// `GET /console/events/rules/new?service=…&event_type=…&operations=…`: the builder, its
/// pattern, whether that pattern matches a GenerateDataKey call, and the details form.
pub async fn new(s: SignedIn, RawQuery(q): RawQuery) -> Response {
    let builder = Builder::from_fields(&query_fields(q.as_deref()));
    builder_page(&s, builder, None).await
}

async fn builder_page(s: &SignedIn, builder: Builder, problem: Option<String>) -> Response {
    let (pattern, mut problem) = match builder.pattern() {
        Ok(p) => (p, problem),
        Err(why) => (Value::Null, Some(why)),
    };
    let matches_sample = if pattern.is_null() {
        None
    } else {
        // A GenerateDataKey call as CloudTrail delivers it to EventBridge (the pattern does
        // not look at which key, so the alias stands for it).
        let account = &s.session.who.account;
        let key = format!(
            "arn:aws:kms:{}:{account}:alias/ImportedCMK",
            crate::aws::REGION
        );
        let sample =
            kms_workshop_notify::sample_generate_data_key_event(account, crate::aws::REGION, &key);
        match events(s)
            .test_event_pattern()
            .event_pattern(pattern.to_string())
            .event(sample.to_string())
            .send()
            .await
        {
            Ok(out) => Some(out.result()),
            Err(e) => {
                let f = Failure::from_sdk("TestEventPattern", e);
                problem.get_or_insert(format!("{}: {}", f.code, f.message));
                None
            }
        }
    };
    let topics = super::sns::topic_arns(s).await;
    page(
        crate::web::status_for(&problem),
        &NewRule {
            chrome: Chrome::of(s, "rules"),
            services: &SERVICES,
            event_types: &EVENT_TYPES,
            advice: builder.advice(),
            pattern: serde_json::to_string_pretty(&pattern).unwrap_or_default(),
            builder,
            matches_sample,
            topics,
            problem,
            all_events_state: ALL_MANAGEMENT_EVENTS,
        },
    )
}

/// `POST /console/events/rules`: PutRule with the builder's pattern, the topic policy that lets
/// EventBridge publish, PutTargets; then the rule's page.
pub async fn create(s: SignedIn, body: Bytes) -> Response {
    let f = form_fields(&body);
    if !s.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused();
    }
    let builder = Builder::from_fields(&f);
    let pattern = match builder.pattern() {
        Ok(p) => p,
        Err(why) => return builder_page(&s, builder, Some(why)).await,
    };
    let spec = RuleSpec {
        name: f
            .get("name")
            .cloned()
            .unwrap_or_default()
            .trim()
            .to_string(),
        description: f.get("description").cloned().filter(|d| !d.is_empty()),
        pattern,
        state: f.get("state").cloned().unwrap_or_else(|| "ENABLED".into()),
    };
    let topic = f.get("topic").cloned().unwrap_or_default();
    let client = events(&s);
    let made = async {
        put_rule(&client, &spec).await?;
        if !topic.is_empty() {
            let sns = aws_sdk_sns::Client::new(&s.session.sdk);
            kms_workshop_notify::allow_eventbridge_publish(&sns, &topic).await?;
            put_sns_target(&client, &spec.name, "1", &topic).await?;
        }
        Ok::<(), kms_workshop_notify::NotifyError>(())
    };
    match made.await {
        Ok(()) => Redirect::to(&format!(
            "/console/events/rules/{}",
            crate::pages::sns::encode(&spec.name)
        ))
        .into_response(),
        Err(e) => builder_page(&s, builder, Some(e.to_string())).await,
    }
}

/// `GET /console/events/rules/{name}`: the rule's state, pattern and targets.
pub async fn show(s: SignedIn, Path(name): Path<String>) -> Response {
    let client = events(&s);
    let rule = match client.describe_rule().name(&name).send().await {
        Ok(r) => r,
        Err(e) => {
            let f = Failure::from_sdk("DescribeRule", e);
            return super::missing(&s, "rules", format!("{}: {}", f.code, f.message));
        }
    };
    let targets = match client.list_targets_by_rule().rule(&name).send().await {
        Ok(out) => out.targets().iter().map(|t| t.arn().to_string()).collect(),
        Err(_) => Vec::new(),
    };
    let pattern = rule
        .event_pattern()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default();
    page(
        StatusCode::OK,
        &Rule {
            chrome: Chrome::of(&s, "rules"),
            name,
            state: rule
                .state()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            pattern,
            targets,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(service: &str, ops: &str) -> Builder {
        Builder {
            service: service.into(),
            event_type: "api".into(),
            operations: ops.into(),
        }
    }

    #[test]
    fn kms_and_generate_data_key_make_the_workshops_pattern() {
        assert_eq!(
            b("kms", "GenerateDataKey").pattern(),
            Ok(kms_workshop_notify::rule::workshop_pattern())
        );
        assert_eq!(
            b("kms", "GenerateDataKey").advice().len(),
            1,
            "the state advice"
        );
    }

    #[test]
    fn service_cloudtrail_is_explained_and_bad_choices_are_named() {
        let advice = b("cloudtrail", "").advice();
        assert!(advice[0].contains("never matches"));
        assert!(b("lambda", "")
            .pattern()
            .unwrap_err()
            .contains("Service name"));
    }
}
