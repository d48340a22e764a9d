//! AWS KMS **Customer managed keys** and **AWS managed keys**: each key's aliases, status,
//! origin and, for imported material, when it expires; a key's page with **Schedule key
//! deletion** (a waiting period of 7 to 30 days, confirmed), the chapter's first clean-up
//! step. KMS answers a key already pending deletion with its own error, shown as it words it.

use askama::Template;
use aws_sdk_kms::types::KeyMetadata;
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

use super::Chrome;
use crate::aws::{date, failed};
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, status_for};

/// The waiting periods KMS accepts, in days.
const WAITING_DAYS: std::ops::RangeInclusive<i32> = 7..=30;

/// One key as the tables and its page show it.
pub struct KeyRow {
    pub id: String,
    /// The id as one path segment.
    pub segment: String,
    pub arn: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub state: String,
    pub origin: String,
    pub customer: bool,
    pub created: String,
    pub deletion: String,
    /// When imported material expires (empty: it does not).
    pub expires: String,
    pub expiration_model: String,
}

impl KeyRow {
    fn of(m: &KeyMetadata, aliases: &[(String, String)]) -> Self {
        let id = m.key_id().to_string();
        KeyRow {
            aliases: aliases
                .iter()
                .filter(|(_, target)| *target == id)
                .map(|(name, _)| name.clone())
                .collect(),
            arn: m.arn().unwrap_or_default().to_string(),
            description: m.description().unwrap_or_default().to_string(),
            state: m.key_state().map(|s| s.as_str()).unwrap_or_default().into(),
            origin: m.origin().map(|o| o.as_str()).unwrap_or_default().into(),
            customer: m.key_manager().map(|k| k.as_str()) == Some("CUSTOMER"),
            created: date(m.creation_date()),
            deletion: date(m.deletion_date()),
            expires: date(m.valid_to()),
            expiration_model: m
                .expiration_model()
                .map(|e| e.as_str())
                .unwrap_or_default()
                .into(),
            segment: super::sns::encode(&id),
            id,
        }
    }
}

#[derive(Template)]
#[template(path = "kms_keys.html")]
struct Keys {
    chrome: Chrome,
    customer: Vec<KeyRow>,
    aws: Vec<KeyRow>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "kms_key.html")]
struct Key {
    chrome: Chrome,
    key: KeyRow,
    problem: Option<String>,
    days: i32,
}

fn client(s: &SignedIn) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&s.session.sdk)
}

/// Every alias of the account as (name, target key id).
async fn aliases(kms: &aws_sdk_kms::Client) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut pages = kms.list_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("ListAliases", e))?;
        out.extend(
            page.aliases().iter().filter_map(|a| {
                Some((a.alias_name()?.to_string(), a.target_key_id()?.to_string()))
            }),
        );
    }
    Ok(out)
}

/// Every key of the account, described (a key that vanished between the calls is left out).
async fn keys(kms: &aws_sdk_kms::Client) -> Result<Vec<KeyRow>, String> {
    let aliases = aliases(kms).await?;
    let mut out = Vec::new();
    let mut pages = kms.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("ListKeys", e))?;
        for k in page.keys() {
            let Some(id) = k.key_id() else { continue };
            match kms.describe_key().key_id(id).send().await {
                Ok(d) => out.extend(d.key_metadata().map(|m| KeyRow::of(m, &aliases))),
                Err(e) => return Err(failed("DescribeKey", e)),
            }
        }
    }
    Ok(out)
}

/// `GET /console/kms/keys`: customer managed keys first, then AWS managed ones.
pub async fn list(s: SignedIn) -> Response {
    let (rows, problem) = match keys(&client(&s)).await {
        Ok(rows) => (rows, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let (customer, aws) = rows.into_iter().partition(|k| k.customer);
    page(
        status_for(&problem),
        &Keys {
            chrome: Chrome::of(&s, "kms"),
            customer,
            aws,
            problem,
        },
    )
}

/// `GET /console/kms/keys/{id}`: the key, and the form that schedules its deletion.
pub async fn show(s: SignedIn, Path(id): Path<String>) -> Response {
    key_page(&s, &id, None, *WAITING_DAYS.start()).await
}

async fn key_page(s: &SignedIn, id: &str, problem: Option<String>, days: i32) -> Response {
    let kms = client(s);
    let described = match kms.describe_key().key_id(id).send().await {
        Ok(d) => d,
        Err(e) => return super::missing(s, "kms", failed("DescribeKey", e)),
    };
    let Some(m) = described.key_metadata() else {
        return super::missing(s, "kms", format!("KMS described no key {id}."));
    };
    let aliases = aliases(&kms).await.unwrap_or_default();
    page(
        status_for(&problem),
        &Key {
            chrome: Chrome::of(s, "kms"),
            key: KeyRow::of(m, &aliases),
            problem,
            days,
        },
    )
}

/// `POST /console/kms/keys/{id}/deletion` (days, confirm, csrf): ScheduleKeyDeletion.
pub async fn schedule_deletion(s: SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    let text = f.get("days").map(|d| d.trim()).unwrap_or_default();
    let Some(days) = text
        .parse::<i32>()
        .ok()
        .filter(|d| WAITING_DAYS.contains(d))
    else {
        let why = format!(
            "Waiting period must be a whole number of days from {} to {}, not '{text}'.",
            WAITING_DAYS.start(),
            WAITING_DAYS.end()
        );
        return key_page(&s, &id, Some(why), *WAITING_DAYS.start()).await;
    };
    if f.get("confirm").map(String::as_str) != Some("yes") {
        let why = format!(
            "Confirm that you want to schedule this key for deletion after a {days}-day waiting \
             period (tick the box)."
        );
        return key_page(&s, &id, Some(why), days).await;
    }
    let call = client(&s)
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(days)
        .send()
        .await;
    match call {
        Ok(_) => {
            Redirect::to(&format!("/console/kms/keys/{}", super::sns::encode(&id))).into_response()
        }
        Err(e) => key_page(&s, &id, Some(failed("ScheduleKeyDeletion", e)), days).await,
    }
}
