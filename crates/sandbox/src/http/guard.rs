//! The first thing every request meets: its `Host` and `Origin` are checked
//! ([`crate::access::check_host_and_origin`]) before the control API or any service sees it.
//! And the last thing every answer outside the web console gets: headers that keep a browser
//! from running it as a page of the sandbox's origin ([`isolate_documents`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Sandbox;

/// Turn away requests that name the sandbox by a host it does not answer to, or that a web page
/// of another origin sent.
pub(super) async fn host_and_origin(
    State(sb): State<Arc<Sandbox>>,
    req: Request,
    next: Next,
) -> Response {
    // A request target in absolute form names its host too: it must be the one checked.
    let host = req.headers().get(axum::http::header::HOST);
    let checked = match (req.uri().authority(), host) {
        (Some(a), Some(h)) if a.as_str().as_bytes() != h.as_bytes() => Err(crate::access::Turned(
            format!("the request names two hosts ({a} and the Host header)"),
        )),
        _ => crate::access::check_host_and_origin(req.headers(), &sb.config.allowed_hosts),
    };
    match checked {
        Ok(()) => next.run(req).await,
        Err(turned) => {
            tracing::warn!(why = %turned.0, "request turned away");
            (
                StatusCode::FORBIDDEN,
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                format!("{}\n", turned.0),
            )
                .into_response()
        }
    }
}

/// Mark every answer outside `/console` as a sandboxed document that is never sniffed.
///
/// The console shares the sandbox's origin with the AWS API and S3, where anyone with keys can
/// put a document of their choosing (an object uploaded as `text/html`, opened through a
/// presigned link). Without this, such a page would run as the console's own origin and could
/// read a learner's console pages with their cookie. `Content-Security-Policy: sandbox` gives
/// it an opaque origin instead: no cookies, no reading same-origin answers, and its form posts
/// carry `Origin: null`, which [`host_and_origin`] refuses.
pub(super) async fn isolate_documents(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let console = path == "/console" || path.starts_with("/console/");
    let mut resp = next.run(req).await;
    if !console {
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static("sandbox"),
        );
        h.insert(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        );
    }
    resp
}
