//! The instructor's **Class** view: one row per learner, one column per step of the chapter,
//! each cell done / in progress / not started with the time of the learner's latest call of
//! that step ([`kms_workshop_sandbox::progress`] reads it from the learner's account), and
//! **Reset** per learner (their account back at the starting state, their sessions ended).
//!
//! This is the sandbox's own view, not an AWS console screen, so it reads the sandbox
//! directly rather than through AWS calls into every learner's account (which would also
//! write the instructor's reads into each learner's event history). Only the instructor's
//! session sees it. The page reloads itself every few seconds, without a script.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kms_workshop_sandbox::progress::{Status, STEPS};
use kms_workshop_sandbox::Sandbox;

use super::{missing, refused, Chrome};
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, query_fields};

/// How often the view reloads itself, in seconds.
const REFRESH_SECONDS: u32 = 10;

/// One cell: the status's label and class, and when.
pub struct CellView {
    pub label: &'static str,
    pub class: &'static str,
    pub at: String,
}

/// One learner's row.
pub struct RowView {
    pub number: u32,
    pub account: String,
    pub cells: Vec<CellView>,
    pub last: String,
}

#[derive(Template)]
#[template(path = "class.html")]
struct Class {
    chrome: Chrome,
    steps: Vec<&'static str>,
    rows: Vec<RowView>,
    notice: Option<String>,
}

fn time_of(ms: Option<i64>) -> String {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .map(kms_workshop_sandbox::util::iso8601_secs)
    .unwrap_or_default()
}

/// What a learner gets instead of the class view: the same as a page that is not there.
fn not_for_learners(s: &SignedIn) -> Option<Response> {
    (!s.session.who.is_instructor())
        .then(|| missing(s, "home", "There is no console page /console/class.".into()))
}

/// `GET /console/class[?unconfirmed=K]` (K: a reset asked for without its confirmation).
pub async fn view(s: SignedIn, State(sb): State<Arc<Sandbox>>, RawQuery(q): RawQuery) -> Response {
    if let Some(refusal) = not_for_learners(&s) {
        return refusal;
    }
    let notice = query_fields(q.as_deref())
        .get("unconfirmed")
        .and_then(|k| k.parse::<u32>().ok())
        .map(|k| {
            format!(
                "Confirm the reset of learner {k} (tick the box on their row): everything in \
                 their account is replaced by the starting state."
            )
        });
    class_page(&s, sb, notice).await
}

async fn class_page(s: &SignedIn, sb: Arc<Sandbox>, notice: Option<String>) -> Response {
    let rows = match tokio::task::spawn_blocking(move || sb.class_progress()).await {
        Ok(rows) => rows,
        Err(e) => {
            return refused(
                s,
                "class",
                format!("The class's progress could not be read: {e}"),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        }
    };
    let rows = rows
        .into_iter()
        .map(|r| RowView {
            number: r.number,
            account: r.account,
            cells: r
                .cells
                .iter()
                .map(|c| CellView {
                    label: c.status.label(),
                    class: match c.status {
                        Status::Done => "done",
                        Status::InProgress => "in-progress",
                        Status::NotStarted => "not-started",
                    },
                    at: time_of(c.last_ms),
                })
                .collect(),
            last: time_of(r.last_ms),
        })
        .collect();
    page(
        StatusCode::OK,
        &Class {
            chrome: Chrome::refreshing(s, "class", REFRESH_SECONDS, "/console/class"),
            steps: STEPS.iter().map(|(_, title, _)| *title).collect(),
            rows,
            notice,
        },
    )
}

/// `POST /console/class/reset` (learner, confirm, csrf): the learner's account back at the
/// starting state.
pub async fn reset(s: SignedIn, State(sb): State<Arc<Sandbox>>, body: Bytes) -> Response {
    if let Some(refusal) = not_for_learners(&s) {
        return refusal;
    }
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    let text = f.get("learner").map(|k| k.trim()).unwrap_or_default();
    let Some(number) = text.parse::<u32>().ok().filter(|k| *k >= 1) else {
        let why = format!("Learner must be a number from 1, not '{text}'.");
        return refused(&s, "class", why, StatusCode::BAD_REQUEST);
    };
    if f.get("confirm").map(String::as_str) != Some("yes") {
        // Back to the view's own address (its reload must not repeat a POST's address).
        return Redirect::to(&format!("/console/class?unconfirmed={number}")).into_response();
    }
    let sb2 = sb.clone();
    match tokio::task::spawn_blocking(move || sb2.reset_learner(number)).await {
        Ok(Ok(_)) => Redirect::to("/console/class").into_response(),
        Ok(Err(e)) => refused(&s, "class", e.message, StatusCode::BAD_REQUEST),
        Err(e) => refused(
            &s,
            "class",
            format!("The reset failed: {e}"),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}
