//! The plumbing every page shares: rendering a template as a response, the headers every
//! console answer carries, the stylesheet, and reading query strings and form bodies.

use std::collections::HashMap;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A rendered page with `status`.
pub fn page(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The status of a page that shows `problem`: 400 when there is one (a lookup or form the
/// service refused), else 200.
pub fn status_for<T>(problem: &Option<T>) -> StatusCode {
    if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// Why a form was refused: it did not carry the session's CSRF token.
pub fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This form did not carry this session's security token (CSRF): reload the page and \
         submit it again.\n",
    )
        .into_response()
}

/// Headers on every console answer: no framing, no caching of pages that show an account, no
/// referrer to other sites (a URL never leaks; within the console browsers need it, or they
/// send `Origin: null` on form posts, which the sandbox refuses), no scripts or styles from
/// anywhere else.
pub async fn headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'; \
             base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// `GET /console/console.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../templates/console.css"),
    )
        .into_response()
}

/// A query string's fields (the last of a repeated name wins).
pub fn query_fields(q: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// A form body's fields (`application/x-www-form-urlencoded`).
pub fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A submitted form's fields; `None` when it lacks the session's CSRF token (answer it with
/// [`csrf_refused`]).
pub fn checked_form(s: &crate::session::SignedIn, body: &[u8]) -> Option<HashMap<String, String>> {
    let fields = form_fields(body);
    s.csrf_ok(fields.get("csrf").map(String::as_str))
        .then_some(fields)
}
