//! Signing in with a one-time link, and signing out.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use kms_workshop_sandbox::Sandbox;

use crate::session::{clear_cookie, cookie_value, set_cookie, Sessions, SignedIn};
use crate::web::{form_fields, page, query_fields};

/// The page a browser without a session sees.
#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOut {
    problem: Option<String>,
}

/// `GET /console/signin?token=T`: trade a one-time token for a session, then go to the console
/// (so the token leaves the address bar). Without a token: how to get a link.
pub async fn sign_in(
    State(sb): State<Arc<Sandbox>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    RawQuery(q): RawQuery,
) -> Response {
    let token = query_fields(q.as_deref()).remove("token");
    let Some(token) = token else {
        return page(StatusCode::OK, &SignedOut { problem: None });
    };
    let refused = |why: &str| {
        page(
            StatusCode::FORBIDDEN,
            &SignedOut {
                problem: Some(why.to_string()),
            },
        )
    };
    let Some(who) = sb.redeem_console_token(&token) else {
        return refused(
            "This sign-in link has been used already or has expired (links work once, for five \
             minutes).",
        );
    };
    let keys = match sb.console_credential(&who.account) {
        Ok(k) => k,
        Err(e) => {
            return refused(&format!(
                "The sandbox could not start a session: {}",
                e.message
            ))
        }
    };
    let Some(endpoint) = sb.endpoint() else {
        return refused("The sandbox is not serving.");
    };
    let sdk = crate::aws::sdk_config(&endpoint, &keys).await;
    let id = sessions.open(who, keys, sdk);
    let mut resp = Redirect::to("/console/").into_response();
    if let Ok(v) = set_cookie(&id).parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /console/signout` (with the CSRF token): end the session and its keys.
pub async fn sign_out(
    State(sb): State<Arc<Sandbox>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let fields = form_fields(&body);
    let signed = match cookie_value(&headers).and_then(|id| sessions.get(&id).map(|s| (id, s))) {
        Some((id, session)) => SignedIn { id, session },
        None => return Redirect::to("/console/signin").into_response(),
    };
    if !signed.csrf_ok(fields.get("csrf").map(String::as_str)) {
        return crate::web::csrf_refused();
    }
    sessions.close(&signed.id);
    if let Err(e) = sb.end_console_session(&signed.session.keys.access_key_id) {
        tracing::warn!(error = %e.message, "could not forget a console session's keys");
    }
    let mut resp = page(
        StatusCode::OK,
        &SignedOut {
            problem: Some("You are signed out.".into()),
        },
    );
    if let Ok(v) = clear_cookie().parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}
