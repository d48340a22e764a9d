//! Delivery: SNS publish to a topic's confirmed subscribers, the outbox of emails, and HTTP
//! endpoints. Every message sent (a notification or a subscription confirmation) is written
//! to the outbox of its account and region; http(s) subscribers are also POSTed the signed SNS
//! document, on loopback only, and the outcome is noted on the outbox entry.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as J};
use time::OffsetDateTime;

use crate::protocol::AwsError;
use crate::services::sns::signing::sign;
use crate::services::sns::{not_found, OutboxMessage, SnsState, Subscription};
use crate::util::iso8601;
use crate::Sandbox;

/// Work that must happen outside the state lock: HTTP POSTs to subscribers.
pub struct HttpJob {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub outbox_key: (String, String, String),
}

/// A message to fan out to a topic's confirmed subscriptions.
pub struct Publication {
    pub subject: Option<String>,
    /// Per-protocol bodies (`default` always present).
    pub messages: BTreeMap<String, String>,
    pub attributes: Vec<(String, String, String)>,
}

/// A message as one subscriber receives it.
struct Letter {
    /// `SubscriptionConfirmation` or `Notification`.
    kind: &'static str,
    subject: String,
    /// What the recipient reads (the email text, or the JSON document).
    body: String,
    /// The signed SNS JSON document.
    document: J,
}

/// Sign an SNS document and say where its signing key is.
fn signed(mut doc: Map<String, J>, base: &str) -> Map<String, J> {
    doc.insert("SignatureVersion".into(), json!("1"));
    let sig = sign(&doc);
    doc.insert("Signature".into(), json!(sig));
    doc.insert(
        "SigningCertURL".into(),
        json!(format!("{base}/_sandbox/sns/signing-key.pem")),
    );
    doc
}

/// The Notification document of `p` for subscription `sub`.
fn notification(
    base: &str,
    message_id: &str,
    sub: &Subscription,
    p: &Publication,
    body: &str,
    now: OffsetDateTime,
) -> Map<String, J> {
    let mut doc = Map::new();
    doc.insert("Type".into(), json!("Notification"));
    doc.insert("MessageId".into(), json!(message_id));
    doc.insert("TopicArn".into(), json!(sub.topic_arn));
    if let Some(s) = &p.subject {
        doc.insert("Subject".into(), json!(s));
    }
    doc.insert("Message".into(), json!(body));
    doc.insert("Timestamp".into(), json!(iso8601(now)));
    let mut doc = signed(doc, base);
    doc.insert(
        "UnsubscribeURL".into(),
        json!(format!(
            "{base}/?Action=Unsubscribe&SubscriptionArn={}",
            urlencode(&sub.arn)
        )),
    );
    if !p.attributes.is_empty() {
        let attrs: Map<String, J> = p
            .attributes
            .iter()
            .map(|(n, t, v)| (n.clone(), json!({"Type": t, "Value": v})))
            .collect();
        doc.insert("MessageAttributes".into(), J::Object(attrs));
    }
    doc
}

impl Sandbox {
    fn base_url(&self) -> String {
        self.endpoint()
            .unwrap_or_else(|| "http://127.0.0.1:4599".into())
    }

    /// Deliver `p` to every confirmed subscription of `topic_arn`; returns the message id.
    pub fn publish_to_topic(
        &self,
        account: &str,
        region: &str,
        topic_arn: &str,
        p: &Publication,
    ) -> Result<String, AwsError> {
        let now = self.clock.now();
        let (topic, subs) = self.read::<SnsState, _>(account, region, |st| {
            let t = st.topics.get(topic_arn).cloned();
            let subs: Vec<Subscription> = st
                .subscriptions
                .values()
                .filter(|s| s.topic_arn == topic_arn && s.confirmed)
                .cloned()
                .collect();
            (t, subs)
        });
        let topic = topic.ok_or_else(|| not_found("Topic"))?;
        let message_id = crate::util::uuid();
        let base = self.base_url();
        let display = topic.display_name();
        let mut jobs = Vec::new();
        let mut emails = 0u32;
        for sub in subs {
            let body = p
                .messages
                .get(&sub.protocol)
                .or_else(|| p.messages.get("default"))
                .cloned()
                .unwrap_or_default();
            let document = J::Object(notification(&base, &message_id, &sub, p, &body, now));
            let text = match sub.protocol.as_str() {
                "email" => format!(
                    "{body}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n{}\n",
                    document["UnsubscribeURL"].as_str().unwrap_or_default()
                ),
                _ => document.to_string(),
            };
            let posted = document.to_string();
            let letter = Letter {
                kind: "Notification",
                subject: p
                    .subject
                    .clone()
                    .unwrap_or_else(|| "AWS Notification Message".into()),
                body: text,
                document,
            };
            if sub.protocol == "email" || sub.protocol == "email-json" {
                emails += 1;
            }
            let key = self.send(account, region, now, &sub, &display, letter)?;
            if sub.protocol.starts_with("http") {
                jobs.push(HttpJob {
                    url: sub.endpoint.clone(),
                    headers: vec![
                        ("x-amz-sns-message-type", "Notification".into()),
                        ("x-amz-sns-message-id", message_id.clone()),
                        ("x-amz-sns-topic-arn", topic_arn.to_string()),
                        ("x-amz-sns-subscription-arn", sub.arn.clone()),
                    ],
                    body: posted,
                    outbox_key: (account.to_string(), region.to_string(), key),
                });
            }
        }
        self.post_all(jobs);
        // Emails count as delivered once in the outbox; HTTP deliveries are reported by the
        // outbox's delivery field (they finish later, on their own thread).
        if emails > 0 {
            let topic_name = topic_arn.rsplit(':').next().unwrap_or_default();
            crate::services::cloudwatch::shared::service_metric(
                self,
                (account, region),
                ("AWS/SNS", "NumberOfNotificationsDelivered"),
                ("TopicName", topic_name),
                emails as f64,
                now,
            );
        }
        Ok(message_id)
    }

    /// Send a SubscriptionConfirmation for a pending subscription.
    pub(crate) fn send_confirmation(
        &self,
        account: &str,
        region: &str,
        sub: &Subscription,
        display: &str,
    ) -> Result<(), AwsError> {
        let now = self.clock.now();
        let base = self.base_url();
        let url = format!(
            "{base}/?Action=ConfirmSubscription&TopicArn={}&Token={}",
            urlencode(&sub.topic_arn),
            sub.token
        );
        let message_id = crate::util::uuid();
        let mut doc = Map::new();
        doc.insert("Type".into(), json!("SubscriptionConfirmation"));
        doc.insert("MessageId".into(), json!(message_id));
        doc.insert("Token".into(), json!(sub.token));
        doc.insert("TopicArn".into(), json!(sub.topic_arn));
        doc.insert(
            "Message".into(),
            json!(format!(
                "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
                sub.topic_arn
            )),
        );
        doc.insert("SubscribeURL".into(), json!(url));
        doc.insert("Timestamp".into(), json!(iso8601(now)));
        let document = J::Object(signed(doc, &base));
        let body = if sub.protocol == "email" {
            format!(
                "You have chosen to subscribe to the topic:\n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\nConfirm subscription\n{url}\n",
                sub.topic_arn
            )
        } else {
            document.to_string()
        };
        let posted = document.to_string();
        let letter = Letter {
            kind: "SubscriptionConfirmation",
            subject: "AWS Notification - Subscription Confirmation".into(),
            body,
            document,
        };
        let key = self.send(account, region, now, sub, display, letter)?;
        if sub.protocol.starts_with("http") {
            self.post_all(vec![HttpJob {
                url: sub.endpoint.clone(),
                headers: vec![
                    ("x-amz-sns-message-type", "SubscriptionConfirmation".into()),
                    ("x-amz-sns-message-id", message_id),
                    ("x-amz-sns-topic-arn", sub.topic_arn.clone()),
                ],
                body: posted,
                outbox_key: (account.to_string(), region.to_string(), key),
            }]);
        }
        Ok(())
    }

    /// Write `letter` to `sub`'s recipient in the outbox; answers the entry's key.
    fn send(
        &self,
        account: &str,
        region: &str,
        now: OffsetDateTime,
        sub: &Subscription,
        display: &str,
        letter: Letter,
    ) -> Result<String, AwsError> {
        self.append_outbox(
            account,
            region,
            OutboxMessage {
                seq: 0,
                time: now,
                account: account.to_string(),
                region: region.to_string(),
                kind: letter.kind.into(),
                protocol: sub.protocol.clone(),
                recipient: sub.endpoint.clone(),
                from: format!("{display} <no-reply@sns.amazonaws.com>"),
                subject: letter.subject,
                body: letter.body,
                document: letter.document,
                topic_arn: sub.topic_arn.clone(),
                subscription_arn: sub.arn.clone(),
                delivery: None,
            },
        )
    }

    /// POST to http subscribers, only on loopback (the sandbox never calls out).
    fn post_all(&self, jobs: Vec<HttpJob>) {
        if jobs.is_empty() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: http deliveries skipped");
            return;
        };
        let sb = self.self_ref();
        handle.spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(15))
                .build();
            let Ok(client) = client else { return };
            for job in jobs {
                let outcome = match reqwest::Url::parse(&job.url) {
                    Ok(u) if is_loopback(&u) => {
                        let mut req = client
                            .post(u)
                            .header("content-type", "text/plain; charset=UTF-8")
                            .header("user-agent", "Amazon Simple Notification Service Agent");
                        for (k, v) in &job.headers {
                            req = req.header(*k, v);
                        }
                        match req.body(job.body.clone()).send().await {
                            Ok(r) if r.status().is_success() => {
                                format!("delivered ({})", r.status().as_u16())
                            }
                            Ok(r) => format!("failed: HTTP {}", r.status().as_u16()),
                            Err(e) => format!("failed: {e}"),
                        }
                    }
                    Ok(_) => {
                        "not delivered: the sandbox only delivers to loopback addresses".to_string()
                    }
                    Err(e) => format!("not delivered: bad URL ({e})"),
                };
                tracing::info!(url = %job.url, %outcome, "sns http delivery");
                if let Some(sb) = sb.as_ref().and_then(|w| w.upgrade()) {
                    let (a, r, key) = &job.outbox_key;
                    sb.set_outbox_delivery(a, r, key, &outcome);
                }
            }
        });
    }
}

fn is_loopback(u: &reqwest::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
