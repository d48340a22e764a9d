//! The first thing every request meets: its `Host` and `Origin` are checked
//! ([`crate::access::check_host_and_origin`]) before the control API or any service sees it.

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
