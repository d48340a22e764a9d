//! CloudWatch **Alarms**: the alarm the KMS guide recommends on
//! `SecondsUntilKeyMaterialExpiration` (Minimum over 1 minute, ≤ 864,000 seconds — 10 days —
//! for 1 period, notifying an SNS topic), made from the metric's page with those values filled
//! in; the alarm's state, reason and history. And the sandbox **clock**, which a learner moves
//! to see the alarm fire (in a classroom only the instructor moves it).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kms_workshop_alarms::alarm::{
    alarm_history, describe_alarm, put_expiration_alarm, AlarmSpec, DEFAULT_THRESHOLD,
};
use kms_workshop_sandbox::Sandbox;
use std::sync::Arc;

use super::{missing, Chrome};
use crate::session::SignedIn;
use crate::web::{csrf_refused, form_fields, page, query_fields, status_for};

/// One alarm in the list: name, state, metric's KeyId.
pub struct AlarmRow {
    pub name: String,
    /// The name as one path segment.
    pub segment: String,
    pub state: String,
    pub key_id: String,
}

#[derive(Template)]
#[template(path = "alarms.html")]
struct Alarms {
    chrome: Chrome,
    alarms: Vec<AlarmRow>,
    problem: Option<String>,
    now: String,
    clock_allowed: bool,
}

#[derive(Template)]
#[template(path = "alarm_new.html")]
struct NewAlarm {
    chrome: Chrome,
    key_id: String,
    name: String,
    threshold: String,
    topics: Vec<String>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "alarm.html")]
struct Alarm {
    chrome: Chrome,
    view: kms_workshop_alarms::alarm::AlarmView,
    history: Vec<(String, String)>,
}

fn cloudwatch(s: &SignedIn) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&s.session.sdk)
}

/// Whether the signed-in person may move the clock: it is the whole sandbox's, so the
/// classroom's instructor, or a learner whose sandbox is theirs alone (by the learners its
/// state has, not only by today's flag: a classroom state served again without `--learners`
/// is still a classroom).
fn clock_allowed(sb: &Sandbox, s: &SignedIn) -> bool {
    s.session.who.is_instructor() || (sb.config.learners <= 1 && sb.learners().len() <= 1)
}

/// `GET /console/cloudwatch/alarms`.
pub async fn list(s: SignedIn, State(sb): State<Arc<Sandbox>>) -> Response {
    let (alarms, problem) = match cloudwatch(&s).describe_alarms().send().await {
        Ok(out) => (
            out.metric_alarms()
                .iter()
                .map(|a| AlarmRow {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    segment: super::sns::encode(a.alarm_name().unwrap_or_default()),
                    state: a
                        .state_value()
                        .map(|v| v.as_str().to_string())
                        .unwrap_or_default(),
                    key_id: a
                        .dimensions()
                        .iter()
                        .find(|d| d.name() == Some("KeyId"))
                        .and_then(|d| d.value())
                        .unwrap_or_default()
                        .to_string(),
                })
                .collect(),
            None,
        ),
        Err(e) => {
            let f = crate::aws::Failure::from_sdk("DescribeAlarms", e);
            (Vec::new(), Some(format!("{}: {}", f.code, f.message)))
        }
    };
    page(
        status_for(&problem),
        &Alarms {
            chrome: Chrome::of(&s, "alarms"),
            alarms,
            problem,
            now: kms_workshop_sandbox::util::iso8601_secs(sb.clock.now()),
            clock_allowed: clock_allowed(&sb, &s),
        },
    )
}

/// `GET /console/cloudwatch/alarms/new?key=ID`: the KMS guide's values, filled in.
pub async fn new(s: SignedIn, RawQuery(q): RawQuery) -> Response {
    let key_id = query_fields(q.as_deref()).remove("key").unwrap_or_default();
    form_page(&s, key_id, "KMSWorkshop-ImportedCMK-expiry".into(), None).await
}

async fn form_page(
    s: &SignedIn,
    key_id: String,
    name: String,
    problem: Option<String>,
) -> Response {
    let topics = super::sns::topic_arns(s).await;
    page(
        status_for(&problem),
        &NewAlarm {
            chrome: Chrome::of(s, "alarms"),
            key_id,
            name,
            threshold: format!("{DEFAULT_THRESHOLD:.0}"),
            topics,
            problem,
        },
    )
}

/// `POST /console/cloudwatch/alarms` (key, name, threshold, topic, csrf): PutMetricAlarm.
pub async fn create(s: SignedIn, body: Bytes) -> Response {
    let f = form_fields(&body);
    if !s.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused();
    }
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (key_id, name) = (get("key"), get("name").trim().to_string());
    let Ok(threshold) = get("threshold").trim().parse::<f64>() else {
        let why = format!(
            "Threshold must be a number of seconds, not '{}'.",
            get("threshold")
        );
        return form_page(&s, key_id, name, Some(why)).await;
    };
    let mut spec = AlarmSpec::recommended(&name, &key_id, &get("topic"));
    spec.threshold = threshold;
    match put_expiration_alarm(&cloudwatch(&s), &spec).await {
        Ok(()) => Redirect::to(&format!(
            "/console/cloudwatch/alarms/{}",
            super::sns::encode(&name)
        ))
        .into_response(),
        Err(e) => form_page(&s, key_id, name, Some(e.to_string())).await,
    }
}

/// `GET /console/cloudwatch/alarms/{name}`: state, reason, configuration, history.
pub async fn show(s: SignedIn, Path(name): Path<String>) -> Response {
    let cw = cloudwatch(&s);
    let view = match describe_alarm(&cw, &name).await {
        Ok(v) => v,
        Err(e) => return missing(&s, "alarms", e.to_string()),
    };
    let history = alarm_history(&cw, &name)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|h| {
            let at = h
                .timestamp
                .map(kms_workshop_sandbox::util::iso8601_secs)
                .unwrap_or_default();
            (at, h.summary)
        })
        .collect();
    page(
        StatusCode::OK,
        &Alarm {
            chrome: Chrome::of(&s, "alarms"),
            view,
            history,
        },
    )
}

/// `POST /console/clock` (days, csrf): move the sandbox clock forward, when the sandbox is the
/// learner's alone.
pub async fn advance_clock(s: SignedIn, State(sb): State<Arc<Sandbox>>, body: Bytes) -> Response {
    let f = form_fields(&body);
    if !s.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused();
    }
    if !clock_allowed(&sb, &s) {
        return super::refused(
            &s,
            "alarms",
            "In a classroom the clock is everyone's: the instructor moves it (here, signed in as \
             the instructor, or kms-workshop sandbox clock advance)."
                .into(),
            StatusCode::FORBIDDEN,
        );
    }
    let days = f.get("days").and_then(|d| d.trim().parse::<f64>().ok());
    let Some(days) = days.filter(|d| d.is_finite() && *d > 0.0 && *d <= 365.0) else {
        return super::refused(
            &s,
            "alarms",
            "Days must be a number above 0 and at most 365.".into(),
            StatusCode::BAD_REQUEST,
        );
    };
    let by = time::Duration::seconds_f64(days * 86_400.0);
    // As the control API does: move the clock, then let what is due happen (alarms, deliveries).
    let moved = tokio::task::spawn_blocking(move || {
        sb.advance_clock(by)?;
        sb.tick();
        Ok::<(), kms_workshop_sandbox::protocol::AwsError>(())
    })
    .await;
    match moved {
        Ok(Ok(_)) => Redirect::to("/console/cloudwatch/alarms").into_response(),
        Ok(Err(e)) => missing(&s, "alarms", e.message),
        Err(e) => missing(&s, "alarms", format!("the clock did not move: {e}")),
    }
}
