//! CloudTrail **Trails**: the account's trails (logging or not, and whether they record the
//! read-only management events a GenerateDataKey rule needs) and **Create trail**, which, as
//! AWS's console does, makes the S3 bucket with the policy CloudTrail requires and starts
//! logging: CloudTrail events reach EventBridge only while a trail logs them, so the chapter's
//! rule needs one. The work is the notify crate's (the same the guided run does).

use askama::Template;
use axum::body::Bytes;
use axum::response::{IntoResponse, Redirect, Response};
use kms_workshop_notify::{ensure_management_trail, trail_check, TrailInfo, TrailSetup};

use super::Chrome;
use crate::aws::REGION;
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, status_for};

/// One trail as the list shows it.
pub struct TrailRow {
    pub name: String,
    pub bucket: String,
    pub logging: bool,
    /// Read-only management events: "yes", "no" or "unknown".
    pub reads: &'static str,
    pub multi_region: bool,
}

impl TrailRow {
    fn of(t: &TrailInfo) -> Self {
        TrailRow {
            name: t.name.clone(),
            bucket: t.bucket.clone().unwrap_or_default(),
            logging: t.is_logging,
            reads: match t.management.includes_read() {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            },
            multi_region: t.multi_region,
        }
    }
}

#[derive(Template)]
#[template(path = "trails.html")]
struct Trails {
    chrome: Chrome,
    trails: Vec<TrailRow>,
    problem: Option<String>,
    name: String,
    bucket: String,
}

fn client(s: &SignedIn) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&s.session.sdk)
}

/// `GET /console/cloudtrail/trails`.
pub async fn list(s: SignedIn) -> Response {
    let account = s.session.who.account.clone();
    trails_page(
        &s,
        None,
        kms_workshop_names::TRAIL.to_string(),
        kms_workshop_names::trail_bucket(&account, REGION),
    )
    .await
}

async fn trails_page(
    s: &SignedIn,
    problem: Option<String>,
    name: String,
    bucket: String,
) -> Response {
    let (trails, listing) = match trail_check(&client(s)).await {
        Ok(check) => (check.trails.iter().map(TrailRow::of).collect(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let problem = problem.or(listing);
    page(
        status_for(&problem),
        &Trails {
            chrome: Chrome::of(s, "events"),
            trails,
            problem,
            name,
            bucket,
        },
    )
}

/// `POST /console/cloudtrail/trails` (name, bucket, csrf): the bucket with CloudTrail's policy,
/// the trail, StartLogging.
pub async fn create(s: SignedIn, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let (name, bucket) = (get("name"), get("bucket"));
    let setup = TrailSetup {
        trail_name: name.clone(),
        bucket: bucket.clone(),
        account_id: s.session.who.account.clone(),
        region: REGION.to_string(),
        partition: "aws".to_string(),
    };
    match ensure_management_trail(&super::s3::client(&s), &client(&s), &setup).await {
        Ok(_) => Redirect::to("/console/cloudtrail/trails").into_response(),
        Err(e) => trails_page(&s, Some(e.to_string()), name, bucket).await,
    }
}
