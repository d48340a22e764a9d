//! SNS (awsQuery): topics with attributes and policies, subscriptions that start
//! `PendingConfirmation` and are confirmed with the token AWS mails out, publishing, and
//! delivery — email and email-json to the sandbox outbox (persisted, read with
//! `kms-workshop sandbox inbox`), http to listeners on loopback with the real SNS headers and
//! JSON documents, signed (SignatureVersion 1, RSA-SHA1) with the sandbox's own key.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as J};
use time::{Duration, OffsetDateTime};

use super::{Call, Service, TrailResource};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::util::iso8601;
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct Sns;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SnsState {
    /// By topic ARN.
    #[serde(default)]
    pub topics: BTreeMap<String, Topic>,
    /// By subscription ARN.
    #[serde(default)]
    pub subscriptions: BTreeMap<String, Subscription>,
}

impl RegionalState for SnsState {
    const NAME: &'static str = "sns";
    fn of(region: &Region) -> &Self {
        &region.sns
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.sns
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub arn: String,
    pub owner: String,
    /// Settable attributes (DisplayName, Policy, DeliveryPolicy, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub deleted_subscriptions: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub token_expires: OffsetDateTime,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One message the sandbox "sent": an email in the outbox, or the record of an HTTP delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub account: String,
    pub region: String,
    /// `SubscriptionConfirmation` or `Notification`.
    pub kind: String,
    pub protocol: String,
    pub recipient: String,
    pub from: String,
    pub subject: String,
    /// What the recipient reads (the email text, or the JSON document).
    pub body: String,
    /// The full SNS JSON document.
    pub document: J,
    pub topic_arn: String,
    pub subscription_arn: String,
    /// For http(s): whether the POST was accepted (2xx) — filled in after delivery.
    #[serde(default)]
    pub delivery: Option<String>,
}

/// Outbox of one account and region; entries are persisted one by one, keyed by sequence.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Outbox {
    #[serde(default)]
    pub messages: BTreeMap<String, OutboxMessage>,
}

fn not_found(what: &str) -> AwsError {
    AwsError::new(404, "NotFound", format!("{what} does not exist"))
}

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::new(
        400,
        "InvalidParameter",
        format!("Invalid parameter: {}", msg.into()),
    )
}

/// AWS's default topic policy: only the owner account may use the topic. EventBridge is not
/// covered, which is why a rule target made through the API needs an explicit statement.
pub fn default_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                       "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

fn wildcard_eq(pattern: &str, value: &str) -> bool {
    // IAM-style `*` and `?`, case-sensitive.
    fn go(p: &[u8], v: &[u8]) -> bool {
        match (p.first(), v.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], v) || (!v.is_empty() && go(p, &v[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &v[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &v[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), value.as_bytes())
}

fn as_list(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether the topic's policy lets a service principal (e.g. `events.amazonaws.com`) publish,
/// for a request coming from `source_arn` in `source_account`. Deny wins; conditions on
/// `aws:SourceArn`/`aws:SourceAccount` are evaluated, any other condition does not hold for
/// a service principal (so AWS's default policy does not let EventBridge in).
pub fn service_may_publish(
    policy: &str,
    topic_arn: &str,
    service: &str,
    source_arn: &str,
    source_account: &str,
) -> bool {
    let Ok(doc) = serde_json::from_str::<J>(policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(J::Array(a)) => a.clone(),
        Some(s @ J::Object(_)) => vec![s.clone()],
        _ => return false,
    };
    let mut allowed = false;
    for st in statements {
        let principal_ok = match st.get("Principal") {
            Some(J::String(s)) => s == "*",
            Some(J::Object(p)) => {
                as_list(p.get("Service")).iter().any(|s| s == service)
                    || as_list(p.get("AWS")).iter().any(|s| s == "*")
            }
            _ => false,
        };
        let action_ok = as_list(st.get("Action"))
            .iter()
            .any(|a| wildcard_eq(&a.to_ascii_lowercase(), "sns:publish"));
        let resource_ok = as_list(st.get("Resource"))
            .iter()
            .any(|r| wildcard_eq(r, topic_arn));
        let condition_ok = match st.get("Condition") {
            None => true,
            Some(J::Object(ops)) => ops.iter().all(|(op, kv)| {
                let J::Object(kv) = kv else { return false };
                kv.iter().all(|(key, want)| {
                    let have = match key.to_ascii_lowercase().as_str() {
                        "aws:sourcearn" => source_arn,
                        "aws:sourceaccount" => source_account,
                        _ => return false,
                    };
                    let wants = as_list(Some(want));
                    match op.as_str() {
                        "StringEquals" | "ArnEquals" => wants.iter().any(|w| w == have),
                        "StringLike" | "ArnLike" => wants.iter().any(|w| wildcard_eq(w, have)),
                        _ => false,
                    }
                })
            }),
            Some(_) => false,
        };
        if principal_ok && action_ok && resource_ok && condition_ok {
            if st.get("Effect").and_then(J::as_str) == Some("Deny") {
                return false;
            }
            if st.get("Effect").and_then(J::as_str) == Some("Allow") {
                allowed = true;
            }
        }
    }
    allowed
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
}

fn topic_name_ok(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    !base.is_empty()
        && name.len() <= 256
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The sandbox's SNS signing key (generated once per process: signing is for realism, the
/// public half is served at the `SigningCertURL`).
fn signing_key() -> Option<&'static rsa::RsaPrivateKey> {
    static KEY: OnceLock<Option<rsa::RsaPrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).ok())
        .as_ref()
}

/// The PEM of the public key notifications are signed with.
pub fn signing_public_pem() -> Option<String> {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    signing_key()?
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .ok()
}

/// SignatureVersion 1: RSA-SHA1 over AWS's canonical "Key\nValue\n" string.
fn sign(doc: &Map<String, J>) -> String {
    let keys: &[&str] = if doc.get("Type").and_then(J::as_str) == Some("Notification") {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut canonical = String::new();
    for k in keys {
        if let Some(J::String(v)) = doc.get(*k) {
            canonical.push_str(k);
            canonical.push('\n');
            canonical.push_str(v);
            canonical.push('\n');
        }
    }
    use rsa::signature::{SignatureEncoding, Signer};
    match signing_key() {
        Some(key) => {
            let signer = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key.clone());
            crate::util::b64(&signer.sign(canonical.as_bytes()).to_bytes())
        }
        None => String::new(),
    }
}

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
        let mut jobs = Vec::new();
        for sub in subs {
            let body = p
                .messages
                .get(&sub.protocol)
                .or_else(|| p.messages.get("default"))
                .cloned()
                .unwrap_or_default();
            let mut doc = Map::new();
            doc.insert("Type".into(), json!("Notification"));
            doc.insert("MessageId".into(), json!(message_id));
            doc.insert("TopicArn".into(), json!(topic_arn));
            if let Some(s) = &p.subject {
                doc.insert("Subject".into(), json!(s));
            }
            doc.insert("Message".into(), json!(body));
            doc.insert("Timestamp".into(), json!(iso8601(now)));
            doc.insert("SignatureVersion".into(), json!("1"));
            let sig = sign(&doc);
            doc.insert("Signature".into(), json!(sig));
            doc.insert(
                "SigningCertURL".into(),
                json!(format!("{base}/_sandbox/sns/signing-key.pem")),
            );
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
            let document = J::Object(doc);
            let display = topic
                .attributes
                .get("DisplayName")
                .filter(|d| !d.is_empty())
                .cloned()
                .unwrap_or_else(|| topic.name.clone());
            let (subject, text) = match sub.protocol.as_str() {
                "email" => (
                    p.subject.clone().unwrap_or_else(|| "AWS Notification Message".into()),
                    format!(
                        "{body}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n{}\n",
                        document["UnsubscribeURL"].as_str().unwrap_or_default()
                    ),
                ),
                _ => (p.subject.clone().unwrap_or_else(|| "AWS Notification Message".into()), document.to_string()),
            };
            let key = self.append_outbox(
                account,
                region,
                OutboxMessage {
                    seq: 0,
                    time: now,
                    account: account.to_string(),
                    region: region.to_string(),
                    kind: "Notification".into(),
                    protocol: sub.protocol.clone(),
                    recipient: sub.endpoint.clone(),
                    from: format!("{display} <no-reply@sns.amazonaws.com>"),
                    subject,
                    body: text,
                    document: document.clone(),
                    topic_arn: topic_arn.to_string(),
                    subscription_arn: sub.arn.clone(),
                    delivery: None,
                },
            )?;
            if sub.protocol.starts_with("http") {
                jobs.push(HttpJob {
                    url: sub.endpoint.clone(),
                    headers: vec![
                        ("x-amz-sns-message-type", "Notification".into()),
                        ("x-amz-sns-message-id", message_id.clone()),
                        ("x-amz-sns-topic-arn", topic_arn.to_string()),
                        ("x-amz-sns-subscription-arn", sub.arn.clone()),
                    ],
                    body: document.to_string(),
                    outbox_key: (account.to_string(), region.to_string(), key),
                });
            }
        }
        self.post_all(jobs);
        Ok(message_id)
    }

    /// Send a SubscriptionConfirmation for a pending subscription.
    fn send_confirmation(
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
        doc.insert("SignatureVersion".into(), json!("1"));
        let sig = sign(&doc);
        doc.insert("Signature".into(), json!(sig));
        doc.insert(
            "SigningCertURL".into(),
            json!(format!("{base}/_sandbox/sns/signing-key.pem")),
        );
        let document = J::Object(doc);
        let body = if sub.protocol == "email" {
            format!(
                "You have chosen to subscribe to the topic:\n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\nConfirm subscription\n{url}\n",
                sub.topic_arn
            )
        } else {
            document.to_string()
        };
        let key = self.append_outbox(
            account,
            region,
            OutboxMessage {
                seq: 0,
                time: now,
                account: account.to_string(),
                region: region.to_string(),
                kind: "SubscriptionConfirmation".into(),
                protocol: sub.protocol.clone(),
                recipient: sub.endpoint.clone(),
                from: format!("{display} <no-reply@sns.amazonaws.com>"),
                subject: "AWS Notification - Subscription Confirmation".into(),
                body,
                document: document.clone(),
                topic_arn: sub.topic_arn.clone(),
                subscription_arn: sub.arn.clone(),
                delivery: None,
            },
        )?;
        if sub.protocol.starts_with("http") {
            self.post_all(vec![HttpJob {
                url: sub.endpoint.clone(),
                headers: vec![
                    ("x-amz-sns-message-type", "SubscriptionConfirmation".into()),
                    ("x-amz-sns-message-id", message_id),
                    ("x-amz-sns-topic-arn", sub.topic_arn.clone()),
                ],
                body: document.to_string(),
                outbox_key: (account.to_string(), region.to_string(), key),
            }]);
        }
        Ok(())
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

fn topic_attributes(t: &Topic, st: &SnsState) -> Value {
    let subs: Vec<&Subscription> = st
        .subscriptions
        .values()
        .filter(|s| s.topic_arn == t.arn)
        .collect();
    let mut m: Vec<(String, Value)> = vec![
        ("TopicArn".into(), t.arn.clone().into()),
        ("Owner".into(), t.owner.clone().into()),
        ("SubscriptionsConfirmed".into(), subs.iter().filter(|s| s.confirmed).count().to_string().into()),
        ("SubscriptionsPending".into(), subs.iter().filter(|s| !s.confirmed).count().to_string().into()),
        ("SubscriptionsDeleted".into(), t.deleted_subscriptions.to_string().into()),
        ("DisplayName".into(), t.attributes.get("DisplayName").cloned().unwrap_or_default().into()),
        (
            "EffectiveDeliveryPolicy".into(),
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#.into(),
        ),
    ];
    for (k, v) in &t.attributes {
        if k != "DisplayName" {
            m.push((k.clone(), v.clone().into()));
        }
    }
    Value::Map(m)
}

fn sub_list_entry(s: &Subscription) -> Value {
    Value::obj()
        .with(
            "SubscriptionArn",
            if s.confirmed {
                s.arn.clone()
            } else {
                "PendingConfirmation".into()
            },
        )
        .with("Owner", s.owner.clone())
        .with("Protocol", s.protocol.clone())
        .with("Endpoint", s.endpoint.clone())
        .with("TopicArn", s.topic_arn.clone())
}

/// Page a list 100 at a time with an opaque numeric NextToken.
fn page(
    input: &Input,
    items: Vec<Value>,
    per_page: usize,
) -> Result<(Vec<Value>, Option<String>), AwsError> {
    let start = match input.str("NextToken")? {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| invalid("NextToken"))?,
    };
    let end = (start + per_page).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

fn check_topic_attribute(name: &str, value: &str) -> Result<(), AwsError> {
    match name {
        "DisplayName" => {
            if value.chars().count() > 100 {
                return Err(invalid("DisplayName: must be at most 100 characters"));
            }
        }
        "Policy" => {
            let v: J = serde_json::from_str(value)
                .map_err(|e| invalid(format!("Policy Error: not valid JSON ({e})")))?;
            if v.get("Statement").is_none() {
                return Err(invalid("Policy Error: null statement"));
            }
        }
        "DeliveryPolicy" => {
            serde_json::from_str::<J>(value)
                .map_err(|e| invalid(format!("DeliveryPolicy: not valid JSON ({e})")))?;
        }
        "KmsMasterKeyId"
        | "SignatureVersion"
        | "TracingConfig"
        | "ContentBasedDeduplication"
        | "FifoTopic"
        | "ArchivePolicy"
        | "DataProtectionPolicy" => {}
        other if other.ends_with("FeedbackRoleArn") || other.ends_with("FeedbackSampleRate") => {}
        other => return Err(invalid(format!("AttributeName: unknown attribute {other}"))),
    }
    Ok(())
}

fn parse_tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    input
        .list("Tags")?
        .iter()
        .map(|t| Ok((t.req_str("Key")?, t.str("Value")?.unwrap_or_default())))
        .collect()
}

fn confirm(
    st: &mut SnsState,
    topic_arn: &str,
    token: &str,
    now: OffsetDateTime,
) -> Result<String, AwsError> {
    if !st.topics.contains_key(topic_arn) {
        return Err(not_found("Topic"));
    }
    let s = st
        .subscriptions
        .values_mut()
        .find(|s| s.topic_arn == topic_arn && s.token == token)
        .ok_or_else(|| invalid("Token"))?;
    if !s.confirmed && s.token_expires <= now {
        return Err(invalid(
            "Token (it expired: confirmation links are valid for 2 days)",
        ));
    }
    s.confirmed = true;
    Ok(s.arn.clone())
}

fn unsubscribe(st: &mut SnsState, arn: &str) -> Result<(), AwsError> {
    let s = st
        .subscriptions
        .remove(arn)
        .ok_or_else(|| not_found("Subscription"))?;
    if let Some(t) = st.topics.get_mut(&s.topic_arn) {
        t.deleted_subscriptions += 1;
    }
    Ok(())
}

/// The account and region in an SNS topic or subscription ARN.
fn arn_scope(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, _] => Some((account.to_string(), region.to_string())),
        _ => None,
    }
}

/// Follow a SubscribeURL or UnsubscribeURL (unsigned GET, as a person clicking the link in
/// the email does). Returns the operation and its result.
pub fn follow_link(
    sb: &Sandbox,
    params: &BTreeMap<String, String>,
) -> Result<(String, Value), AwsError> {
    let now = sb.clock.now();
    let get = |k: &str| {
        params
            .get(k)
            .cloned()
            .ok_or_else(|| AwsError::missing(k).with_code("InvalidParameter"))
    };
    match params.get("Action").map(String::as_str) {
        Some("ConfirmSubscription") => {
            let topic_arn = get("TopicArn")?;
            let token = get("Token")?;
            let (account, region) = arn_scope(&topic_arn).ok_or_else(|| invalid("TopicArn"))?;
            let arn = sb.write::<SnsState, _>(&account, &region, |st| {
                confirm(st, &topic_arn, &token, now)
            })?;
            Ok((
                "ConfirmSubscription".into(),
                Value::obj().with("SubscriptionArn", arn),
            ))
        }
        Some("Unsubscribe") => {
            let arn = get("SubscriptionArn")?;
            let (account, region) = arn_scope(&arn).ok_or_else(|| invalid("SubscriptionArn"))?;
            sb.write::<SnsState, _>(&account, &region, |st| unsubscribe(st, &arn))?;
            Ok(("Unsubscribe".into(), Value::Null))
        }
        _ => Err(AwsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )),
    }
}

impl Service for Sns {
    fn signing_name(&self) -> &'static str {
        "sns"
    }
    fn event_source(&self) -> &'static str {
        "sns.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        "http://sns.amazonaws.com/doc/2010-03-31/"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsQuery
    }

    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let sb = cx.sandbox;
        let account = cx.account().to_string();
        let region = cx.region.clone();
        let now = cx.now;
        match op {
            "CreateTopic" => {
                let name = input.req_str("Name")?;
                if !topic_name_ok(&name) {
                    return Err(invalid("Topic Name"));
                }
                let arn = format!("arn:aws:sns:{region}:{account}:{name}");
                let attrs = input.str_map("Attributes")?;
                for (k, v) in &attrs {
                    check_topic_attribute(k, v)?;
                }
                let tags = parse_tags(input)?;
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                sb.write::<SnsState, _>(&account, &region, |st| {
                    if let Some(existing) = st.topics.get(&arn) {
                        // Idempotent, unless the attributes differ.
                        let differs = attrs
                            .iter()
                            .any(|(k, v)| existing.attributes.get(k) != Some(v));
                        if differs {
                            return Err(invalid("Topic already exists with different attributes"));
                        }
                        return Ok(Value::obj().with("TopicArn", arn.clone()));
                    }
                    let mut attributes: BTreeMap<String, String> = attrs.into_iter().collect();
                    attributes
                        .entry("Policy".into())
                        .or_insert_with(|| default_policy(&arn, &account));
                    st.topics.insert(
                        arn.clone(),
                        Topic {
                            name,
                            arn: arn.clone(),
                            owner: account.clone(),
                            attributes,
                            tags: tags.into_iter().collect(),
                            deleted_subscriptions: 0,
                        },
                    );
                    Ok(Value::obj().with("TopicArn", arn.clone()))
                })
            }
            "DeleteTopic" => {
                let arn = input.req_str("TopicArn")?;
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                sb.write::<SnsState, _>(&account, &region, |st| {
                    // AWS answers success for a topic that is already gone.
                    st.topics.remove(&arn);
                    st.subscriptions.retain(|_, s| s.topic_arn != arn);
                    Ok(Value::Null)
                })
            }
            "ListTopics" => {
                let topics: Vec<Value> = sb.read::<SnsState, _>(&account, &region, |st| {
                    st.topics
                        .keys()
                        .map(|a| Value::obj().with("TopicArn", a.clone()))
                        .collect()
                });
                let (items, next) = page(input, topics, 100)?;
                Ok(Value::obj()
                    .with("Topics", Value::List(items))
                    .with("NextToken", next))
            }
            "GetTopicAttributes" => {
                let arn = input.req_str("TopicArn")?;
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                sb.read::<SnsState, _>(&account, &region, |st| {
                    let t = st.topics.get(&arn).ok_or_else(|| not_found("Topic"))?;
                    Ok(Value::obj().with("Attributes", topic_attributes(t, st)))
                })
            }
            "SetTopicAttributes" => {
                let arn = input.req_str("TopicArn")?;
                let name = input.req_str("AttributeName")?;
                let value = input.str("AttributeValue")?.unwrap_or_default();
                check_topic_attribute(&name, &value)?;
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                sb.write::<SnsState, _>(&account, &region, |st| {
                    let t = st.topics.get_mut(&arn).ok_or_else(|| not_found("Topic"))?;
                    t.attributes.insert(name, value);
                    Ok(Value::Null)
                })
            }
            "Subscribe" => {
                let topic_arn = input.req_str("TopicArn")?;
                let protocol = input.req_str("Protocol")?.to_ascii_lowercase();
                let endpoint = input.str("Endpoint")?.unwrap_or_default();
                match protocol.as_str() {
                    "email" | "email-json" if !valid_email(&endpoint) => return Err(invalid("Email address")),
                    "http" if !endpoint.starts_with("http://") => return Err(invalid("Endpoint must begin with http://")),
                    "https" if !endpoint.starts_with("https://") => return Err(invalid("Endpoint must begin with https://")),
                    "email" | "email-json" | "http" | "https" => {}
                    "sqs" | "lambda" | "sms" | "application" | "firehose" => {
                        return Err(invalid(format!("Protocol {protocol} is not available in the sandbox (email, email-json, http, https are)")))
                    }
                    _ => return Err(invalid("Invalid protocol type")),
                }
                let return_arn = input.bool("ReturnSubscriptionArn")?.unwrap_or(false);
                let attrs = input.str_map("Attributes")?;
                cx.resources.push(TrailResource {
                    arn: topic_arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                let (sub, display, fresh) = sb.write::<SnsState, _>(&account, &region, |st| {
                    let t = st
                        .topics
                        .get(&topic_arn)
                        .ok_or_else(|| not_found("Topic"))?;
                    let display = t
                        .attributes
                        .get("DisplayName")
                        .filter(|d| !d.is_empty())
                        .cloned()
                        .unwrap_or_else(|| t.name.clone());
                    if let Some(existing) = st.subscriptions.values_mut().find(|s| {
                        s.topic_arn == topic_arn && s.protocol == protocol && s.endpoint == endpoint
                    }) {
                        // Subscribing again re-sends the confirmation of a pending subscription.
                        if !existing.confirmed {
                            existing.token_expires = now + Duration::days(2);
                        }
                        return Ok((existing.clone(), display, !existing.confirmed));
                    }
                    let token =
                        hex::encode(crate::services::kms::crypto::random_bytes(64).as_slice());
                    let sub = Subscription {
                        arn: format!("{topic_arn}:{}", crate::util::uuid()),
                        topic_arn: topic_arn.clone(),
                        owner: account.clone(),
                        protocol: protocol.clone(),
                        endpoint: endpoint.clone(),
                        confirmed: false,
                        token,
                        token_expires: now + Duration::days(2),
                        attributes: attrs.into_iter().collect(),
                    };
                    st.subscriptions.insert(sub.arn.clone(), sub.clone());
                    Ok((sub, display, true))
                })?;
                if fresh {
                    sb.send_confirmation(&account, &region, &sub, &display)?;
                }
                let shown = if sub.confirmed || return_arn {
                    sub.arn.clone()
                } else {
                    "pending confirmation".into()
                };
                Ok(Value::obj().with("SubscriptionArn", shown))
            }
            "ConfirmSubscription" => {
                let topic_arn = input.req_str("TopicArn")?;
                let token = input.req_str("Token")?;
                cx.resources.push(TrailResource {
                    arn: topic_arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                let arn = sb.write::<SnsState, _>(&account, &region, |st| {
                    confirm(st, &topic_arn, &token, now)
                })?;
                Ok(Value::obj().with("SubscriptionArn", arn))
            }
            "Unsubscribe" => {
                let arn = input.req_str("SubscriptionArn")?;
                sb.write::<SnsState, _>(&account, &region, |st| unsubscribe(st, &arn))?;
                Ok(Value::Null)
            }
            "ListSubscriptions" | "ListSubscriptionsByTopic" => {
                let topic = if op == "ListSubscriptionsByTopic" {
                    Some(input.req_str("TopicArn")?)
                } else {
                    None
                };
                let subs = sb.read::<SnsState, _>(&account, &region, |st| {
                    if let Some(t) = &topic {
                        if !st.topics.contains_key(t) {
                            return Err(not_found("Topic"));
                        }
                    }
                    Ok(st
                        .subscriptions
                        .values()
                        .filter(|s| topic.as_ref().is_none_or(|t| &s.topic_arn == t))
                        .map(sub_list_entry)
                        .collect::<Vec<_>>())
                })?;
                let (items, next) = page(input, subs, 100)?;
                Ok(Value::obj()
                    .with("Subscriptions", Value::List(items))
                    .with("NextToken", next))
            }
            "GetSubscriptionAttributes" => {
                let arn = input.req_str("SubscriptionArn")?;
                sb.read::<SnsState, _>(&account, &region, |st| {
                    let s = st
                        .subscriptions
                        .get(&arn)
                        .ok_or_else(|| not_found("Subscription"))?;
                    let mut m: Vec<(String, Value)> = vec![
                        ("SubscriptionArn".into(), s.arn.clone().into()),
                        ("TopicArn".into(), s.topic_arn.clone().into()),
                        ("Owner".into(), s.owner.clone().into()),
                        ("Protocol".into(), s.protocol.clone().into()),
                        ("Endpoint".into(), s.endpoint.clone().into()),
                        (
                            "PendingConfirmation".into(),
                            (!s.confirmed).to_string().into(),
                        ),
                        ("ConfirmationWasAuthenticated".into(), "false".into()),
                        (
                            "RawMessageDelivery".into(),
                            s.attributes
                                .get("RawMessageDelivery")
                                .cloned()
                                .unwrap_or_else(|| "false".into())
                                .into(),
                        ),
                    ];
                    for (k, v) in &s.attributes {
                        if k != "RawMessageDelivery" {
                            m.push((k.clone(), v.clone().into()));
                        }
                    }
                    Ok(Value::obj().with("Attributes", Value::Map(m)))
                })
            }
            "SetSubscriptionAttributes" => {
                let arn = input.req_str("SubscriptionArn")?;
                let name = input.req_str("AttributeName")?;
                let value = input.str("AttributeValue")?.unwrap_or_default();
                if ![
                    "RawMessageDelivery",
                    "FilterPolicy",
                    "FilterPolicyScope",
                    "DeliveryPolicy",
                    "RedrivePolicy",
                ]
                .contains(&name.as_str())
                {
                    return Err(invalid(format!("AttributeName: unknown attribute {name}")));
                }
                sb.write::<SnsState, _>(&account, &region, |st| {
                    let s = st
                        .subscriptions
                        .get_mut(&arn)
                        .ok_or_else(|| not_found("Subscription"))?;
                    s.attributes.insert(name, value);
                    Ok(Value::Null)
                })
            }
            "Publish" => {
                let arn = match (input.str("TopicArn")?, input.str("TargetArn")?) {
                    (Some(t), _) | (None, Some(t)) => t,
                    (None, None) => {
                        if input.has("PhoneNumber") {
                            return Err(invalid(
                                "PhoneNumber: SMS is not available in the sandbox",
                            ));
                        }
                        return Err(AwsError::missing("TopicArn").with_code("InvalidParameter"));
                    }
                };
                let message = input.str("Message")?.unwrap_or_default();
                if message.is_empty() {
                    return Err(invalid("Empty message"));
                }
                if message.len() > 256 * 1024 {
                    return Err(invalid("Message too long"));
                }
                let subject = input.str("Subject")?;
                if let Some(s) = &subject {
                    if s.is_empty() || s.len() > 100 || !s.is_ascii() || s.contains('\n') {
                        return Err(invalid("Subject"));
                    }
                }
                let mut messages = BTreeMap::new();
                if input.str("MessageStructure")?.as_deref() == Some("json") {
                    let v: J = serde_json::from_str(&message).map_err(|_| {
                        invalid("Message Structure - JSON message body failed to parse")
                    })?;
                    let J::Object(m) = v else {
                        return Err(invalid(
                            "Message Structure - JSON message body failed to parse",
                        ));
                    };
                    if !m.contains_key("default") {
                        return Err(invalid(
                            "Message Structure - No default entry in JSON message body",
                        ));
                    }
                    for (k, v) in m {
                        messages.insert(
                            k,
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        );
                    }
                } else {
                    messages.insert("default".into(), message);
                }
                let mut attributes = Vec::new();
                for (name, v) in input.entries("MessageAttributes", "Name", "Value")? {
                    let t = v.req_str("DataType")?;
                    let val = match v.str("StringValue")? {
                        Some(s) => s,
                        None => v.str("BinaryValue")?.ok_or_else(|| invalid(format!("The message attribute '{name}' must contain non-empty message attribute value")))?,
                    };
                    attributes.push((name, t, val));
                }
                cx.resources.push(TrailResource {
                    arn: arn.clone(),
                    resource_type: "AWS::SNS::Topic".into(),
                });
                let id = sb.publish_to_topic(
                    &account,
                    &region,
                    &arn,
                    &Publication {
                        subject,
                        messages,
                        attributes,
                    },
                )?;
                Ok(Value::obj().with("MessageId", id))
            }
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                let arn = input.req_str("ResourceArn")?;
                let tags = if op == "TagResource" {
                    parse_tags(input)?
                } else {
                    Vec::new()
                };
                let keys = if op == "UntagResource" {
                    input.str_list("TagKeys")?
                } else {
                    Vec::new()
                };
                let missing = || AwsError::new(404, "ResourceNotFound", "Resource does not exist");
                let f = |st: &mut SnsState| -> Result<Value, AwsError> {
                    let t = st.topics.get_mut(&arn).ok_or_else(missing)?;
                    match op {
                        "TagResource" => {
                            t.tags.extend(tags);
                            if t.tags.len() > 50 {
                                return Err(AwsError::new(400, "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"));
                            }
                            // An empty output shape: `<TagResourceResult/>`, as AWS answers.
                            Ok(Value::obj())
                        }
                        "UntagResource" => {
                            for k in &keys {
                                t.tags.remove(k);
                            }
                            Ok(Value::obj())
                        }
                        _ => Ok(Value::obj().with(
                            "Tags",
                            Value::List(
                                t.tags
                                    .iter()
                                    .map(|(k, v)| {
                                        Value::obj().with("Key", k.clone()).with("Value", v.clone())
                                    })
                                    .collect(),
                            ),
                        )),
                    }
                };
                if op == "ListTagsForResource" {
                    sb.read::<SnsState, _>(&account, &region, |st| {
                        let t = st.topics.get(&arn).ok_or_else(missing)?;
                        Ok(Value::obj().with(
                            "Tags",
                            Value::List(
                                t.tags
                                    .iter()
                                    .map(|(k, v)| {
                                        Value::obj().with("Key", k.clone()).with("Value", v.clone())
                                    })
                                    .collect(),
                            ),
                        ))
                    })
                } else {
                    sb.write::<SnsState, _>(&account, &region, f)
                }
            }
            _ => Err(cx.unknown(op)),
        }
    }
}

/// The workshop seed's SNS state: no workshop topic yet (the learner creates `snsworkshop` in
/// the monitoring chapter), but a lookalike `snsworkshop-billing` with a confirmed
/// subscription that belongs to another team and that no clean-up may touch.
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let arn = format!("arn:aws:sns:{region}:{account}:snsworkshop-billing");
    let sub_arn = format!("{arn}:{}", crate::util::uuid());
    let mut attributes = BTreeMap::new();
    attributes.insert("DisplayName".to_string(), "Billing".to_string());
    attributes.insert("Policy".to_string(), default_policy(&arn, account));
    let topic = Topic {
        name: "snsworkshop-billing".into(),
        arn: arn.clone(),
        owner: account.to_string(),
        attributes,
        tags: [("team".to_string(), "billing".to_string())]
            .into_iter()
            .collect(),
        deleted_subscriptions: 0,
    };
    let sub = Subscription {
        arn: sub_arn.clone(),
        topic_arn: arn.clone(),
        owner: account.to_string(),
        protocol: "email".into(),
        endpoint: "billing-alerts@example.com".into(),
        confirmed: true,
        token: String::new(),
        token_expires: sb.clock.now() - time::Duration::days(30),
        attributes: BTreeMap::new(),
    };
    sb.write::<SnsState, _>(account, region, |st| {
        st.topics.insert(arn, topic);
        st.subscriptions.insert(sub_arn, sub);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_does_not_admit_eventbridge() {
        let arn = "arn:aws:sns:us-east-1:111122223333:snsworkshop";
        let rule = "arn:aws:events:us-east-1:111122223333:rule/r";
        assert!(!service_may_publish(
            &default_policy(arn, "111122223333"),
            arn,
            "events.amazonaws.com",
            rule,
            "111122223333"
        ));
        let with_events = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn}
        ]})
        .to_string();
        assert!(service_may_publish(
            &with_events,
            arn,
            "events.amazonaws.com",
            rule,
            "111122223333"
        ));
        let conditioned = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "SNS:*", "Resource": "arn:aws:sns:*",
             "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/other"}}}
        ]})
        .to_string();
        assert!(!service_may_publish(
            &conditioned,
            arn,
            "events.amazonaws.com",
            rule,
            "111122223333"
        ));
        let denied = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn}
        ]})
        .to_string();
        assert!(!service_may_publish(
            &denied,
            arn,
            "events.amazonaws.com",
            rule,
            "111122223333"
        ));
    }

    #[test]
    fn emails_and_names() {
        assert!(valid_email("learner@example.com"));
        assert!(!valid_email("learner@example"));
        assert!(!valid_email("not an email"));
        assert!(topic_name_ok("snsworkshop"));
        assert!(!topic_name_ok("bad name"));
    }
}
