//! Amazon SNS **Topics** and **Subscriptions**, as the chapter uses them: create the topic
//! `snsworkshop` (with its display name, at most 100 characters, which SNS checks), see a
//! topic's subscriptions, create an email subscription and watch it go from "Pending
//! confirmation" to "Confirmed" once the inbox's link is followed. Every action is an SNS call
//! signed as the signed-in learner; SNS's own errors are shown as it words them.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::Chrome;
use crate::aws::failed;
use crate::session::SignedIn;
use crate::web::{csrf_refused, form_fields, page, query_fields};

/// The protocols the subscription form offers (those the sandbox delivers).
pub const PROTOCOLS: [&str; 4] = ["email", "email-json", "http", "https"];

/// One subscription as the tables show it.
pub struct SubscriptionRow {
    pub id: String,
    pub endpoint: String,
    pub status: &'static str,
    pub protocol: String,
    pub topic: String,
}

/// One topic as the list shows it.
pub struct TopicRow {
    pub name: String,
    pub arn: String,
    /// The ARN as one path segment (the topic page's address ends with it).
    pub segment: String,
}

impl TopicRow {
    fn of(arn: &str) -> Self {
        TopicRow {
            name: topic_name(arn),
            arn: arn.to_string(),
            segment: encode(arn),
        }
    }
}

#[derive(Template)]
#[template(path = "sns_topics.html")]
struct Topics {
    chrome: Chrome,
    topics: Vec<TopicRow>,
    problem: Option<String>,
    name: String,
    display_name: String,
}

#[derive(Template)]
#[template(path = "sns_topic.html")]
struct Topic {
    chrome: Chrome,
    topic: TopicRow,
    display_name: String,
    subscriptions: Vec<SubscriptionRow>,
    protocols: &'static [&'static str],
    problem: Option<String>,
    protocol: String,
    endpoint: String,
}

#[derive(Template)]
#[template(path = "sns_subscriptions.html")]
struct Subscriptions {
    chrome: Chrome,
    subscriptions: Vec<SubscriptionRow>,
    problem: Option<String>,
}

fn client(s: &SignedIn) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&s.session.sdk)
}

fn topic_name(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or(arn).to_string()
}

/// `GET /console/sns/topics`: the topics, and the form that creates one.
pub async fn topics(s: SignedIn) -> Response {
    topics_page(&s, None, String::new(), String::new()).await
}

async fn topics_page(
    s: &SignedIn,
    problem: Option<String>,
    name: String,
    display: String,
) -> Response {
    let mut problem = problem;
    let mut topics = Vec::new();
    let mut pages = client(s).list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(out) => topics.extend(
                out.topics()
                    .iter()
                    .filter_map(|t| t.topic_arn())
                    .map(TopicRow::of),
            ),
            Err(e) => {
                problem.get_or_insert(failed("ListTopics", e));
                break;
            }
        }
    }
    let status = crate::web::status_for(&problem);
    page(
        status,
        &Topics {
            chrome: Chrome::of(s, "sns"),
            topics,
            problem,
            name,
            display_name: display,
        },
    )
}

/// `POST /console/sns/topics` (name, display_name, csrf): CreateTopic, then the topic's page.
pub async fn create_topic(s: SignedIn, body: Bytes) -> Response {
    let mut f = form_fields(&body);
    if !s.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused();
    }
    let name = f.remove("name").unwrap_or_default().trim().to_string();
    let display = f.remove("display_name").unwrap_or_default();
    let mut call = client(&s).create_topic().name(&name);
    if !display.is_empty() {
        call = call.attributes("DisplayName", &display);
    }
    match call.send().await {
        Ok(out) => {
            let arn = out.topic_arn().unwrap_or_default();
            Redirect::to(&format!("/console/sns/topics/{}", encode(arn))).into_response()
        }
        Err(e) => topics_page(&s, Some(failed("CreateTopic", e)), name, display).await,
    }
}

/// `GET /console/sns/topics/{arn}`: the topic, its subscriptions, the subscription form.
pub async fn topic(s: SignedIn, Path(arn): Path<String>, RawQuery(q): RawQuery) -> Response {
    let fields = query_fields(q.as_deref());
    let protocol = fields
        .get("protocol")
        .cloned()
        .unwrap_or_else(|| "email".into());
    topic_page(&s, &arn, None, protocol, String::new()).await
}

async fn topic_page(
    s: &SignedIn,
    arn: &str,
    problem: Option<String>,
    protocol: String,
    endpoint: String,
) -> Response {
    let sns = client(s);
    let attributes = match sns.get_topic_attributes().topic_arn(arn).send().await {
        Ok(out) => out.attributes.unwrap_or_default(),
        Err(e) => return super::missing(s, "sns", failed("GetTopicAttributes", e)),
    };
    let (subscriptions, listing) = subscriptions_of(&sns, Some(arn)).await;
    page(
        crate::web::status_for(&problem),
        &Topic {
            chrome: Chrome::of(s, "sns"),
            topic: TopicRow::of(arn),
            display_name: attributes.get("DisplayName").cloned().unwrap_or_default(),
            subscriptions,
            protocols: &PROTOCOLS,
            problem: problem.or(listing),
            protocol,
            endpoint,
        },
    )
}

/// `POST /console/sns/topics/{arn}/subscriptions` (protocol, endpoint, csrf): Subscribe.
pub async fn subscribe(s: SignedIn, Path(arn): Path<String>, body: Bytes) -> Response {
    let mut f = form_fields(&body);
    if !s.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused();
    }
    let protocol = f.remove("protocol").unwrap_or_default();
    let endpoint = f.remove("endpoint").unwrap_or_default().trim().to_string();
    if !PROTOCOLS.contains(&protocol.as_str()) {
        let why = format!(
            "Protocol must be one of {}, not '{protocol}'.",
            PROTOCOLS.join(", ")
        );
        return topic_page(&s, &arn, Some(why), "email".into(), endpoint).await;
    }
    let sent = client(&s)
        .subscribe()
        .topic_arn(&arn)
        .protocol(&protocol)
        .endpoint(&endpoint)
        .send()
        .await;
    match sent {
        Ok(_) => Redirect::to(&format!("/console/sns/topics/{}", encode(&arn))).into_response(),
        Err(e) => topic_page(&s, &arn, Some(failed("Subscribe", e)), protocol, endpoint).await,
    }
}

/// `GET /console/sns/subscriptions`: every subscription of the account.
pub async fn subscriptions(s: SignedIn) -> Response {
    let (subscriptions, problem) = subscriptions_of(&client(&s), None).await;
    page(
        StatusCode::OK,
        &Subscriptions {
            chrome: Chrome::of(&s, "sns"),
            subscriptions,
            problem,
        },
    )
}

/// The subscriptions of a topic (or all), through every page, and the error that stopped the
/// listing, if one did.
async fn subscriptions_of(
    sns: &aws_sdk_sns::Client,
    topic: Option<&str>,
) -> (Vec<SubscriptionRow>, Option<String>) {
    let mut rows = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let answer = match topic {
            Some(arn) => sns
                .list_subscriptions_by_topic()
                .topic_arn(arn)
                .set_next_token(next.clone())
                .send()
                .await
                .map(|o| (o.subscriptions.unwrap_or_default(), o.next_token))
                .map_err(|e| failed("ListSubscriptionsByTopic", e)),
            None => sns
                .list_subscriptions()
                .set_next_token(next.clone())
                .send()
                .await
                .map(|o| (o.subscriptions.unwrap_or_default(), o.next_token))
                .map_err(|e| failed("ListSubscriptions", e)),
        };
        match answer {
            Ok((subs, token)) => {
                rows.extend(subs.iter().map(row));
                match token {
                    Some(t) if !t.is_empty() => next = Some(t),
                    _ => return (rows, None),
                }
            }
            Err(why) => return (rows, Some(why)),
        }
    }
}

fn row(sub: &aws_sdk_sns::types::Subscription) -> SubscriptionRow {
    let arn = sub.subscription_arn().unwrap_or_default();
    // SNS answers "PendingConfirmation" in place of the ARN until the recipient confirms.
    let confirmed = arn.starts_with("arn:");
    SubscriptionRow {
        id: if confirmed {
            arn.rsplit(':').next().unwrap_or(arn).to_string()
        } else {
            String::new()
        },
        endpoint: sub.endpoint().unwrap_or_default().to_string(),
        status: if confirmed {
            "Confirmed"
        } else {
            "Pending confirmation"
        },
        protocol: sub.protocol().unwrap_or_default().to_string(),
        topic: topic_name(sub.topic_arn().unwrap_or_default()),
    }
}

/// A name or ARN as one path segment (percent-encoded: a space is `%20`, which a path decodes
/// back, unlike the `+` of form encoding).
pub fn encode(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The account's topic ARNs (a rule's or an alarm's target list); none when they cannot be
/// listed.
pub async fn topic_arns(s: &SignedIn) -> Vec<String> {
    let sns = aws_sdk_sns::Client::new(&s.session.sdk);
    let mut out = Vec::new();
    let mut pages = sns.list_topics().into_paginator().send();
    while let Some(Ok(page)) = pages.next().await {
        out.extend(
            page.topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .map(str::to_string),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_with_spaces_or_colons_is_one_path_segment() {
        assert_eq!(super::encode("My alarm"), "My%20alarm");
        assert!(!super::encode("arn:aws:sns:us-east-1:1:t").contains([':', '/', '+']));
    }
}
