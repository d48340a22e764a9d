//! Signing in with a one-time link (its page asks, its form signs in), and signing out.

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

/// The page a sign-in link opens: who it signs in, and the button that does it.
#[derive(Template)]
#[template(path = "signin.html")]
struct Confirm {
    token: String,
    learner: u32,
    account: String,
}

fn refused(why: &str) -> Response {
    page(
        StatusCode::FORBIDDEN,
        &SignedOut {
            problem: Some(why.to_string()),
        },
    )
}

const USED: &str = "This sign-in link has been used already or has expired (links work once, for \
                    five minutes).";

/// `GET /console/signin?token=T`: who the link signs in, with a button that signs in (the
/// token is used by that form's POST only, so a prefetch, a link scanner or another site's
/// page cannot use it up or sign the browser in to someone else's account). Without a token:
/// how to get a link; `?ended=1`: the session's keys expired or were reset.
pub async fn sign_in_page(State(sb): State<Arc<Sandbox>>, RawQuery(q): RawQuery) -> Response {
    let mut fields = query_fields(q.as_deref());
    let Some(token) = fields.remove("token") else {
        let problem = fields.contains_key("ended").then(|| {
            "Your session has ended: it lasts 12 hours, and a reset of your account ends it. \
             Sign in again with a new link."
                .to_string()
        });
        return page(StatusCode::OK, &SignedOut { problem });
    };
    match sb.peek_console_token(&token) {
        Some(who) => page(
            StatusCode::OK,
            &Confirm {
                token,
                learner: who.number,
                account: who.account,
            },
        ),
        None => refused(USED),
    }
}

/// `POST /console/signin` (from the page above, same origin only): trade the one-time token
/// for a session, then go to the console home.
pub async fn sign_in(
    State(sb): State<Arc<Sandbox>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    body: axum::body::Bytes,
) -> Response {
    let token = form_fields(&body).remove("token").unwrap_or_default();
    let Some(who) = sb.redeem_console_token(&token) else {
        return refused(USED);
    };
    let keys = match sb.console_credential(&who) {
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
    let (id, ended) = sessions.open(who, keys, sdk);
    for old in ended {
        forget_keys(&sb, &old.keys.access_key_id);
    }
    let mut resp = Redirect::to("/console/").into_response();
    if let Ok(v) = set_cookie(&id).parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn forget_keys(sb: &Sandbox, access_key_id: &str) {
    if let Err(e) = sb.end_console_session(access_key_id) {
        tracing::warn!(error = %e.message, "could not forget a console session's keys");
    }
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
    forget_keys(&sb, &signed.session.keys.access_key_id);
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
