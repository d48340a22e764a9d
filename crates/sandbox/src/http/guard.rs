//! The first thing every request meets: its `Host` and `Origin` are checked
//! ([`crate::access::check_host_and_origin`]) before the control API or any service sees it.
//! And the last thing every answer gets: the sandbox's `Date`, and, outside the web console,
//! headers that keep a browser from running it as a page of the sandbox's origin
//! ([`isolate_documents`]). One layer does both ([`front`]): each layer of the router costs
//! every request a boxed future and a clone of the service behind it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Sandbox;

/// The layer in front of every route: [`turned_away`], then the route, then
/// [`isolate_documents`] (outside the console, and on every refusal) and [`server_date`] on
/// its answer.
pub(super) async fn front(State(sb): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let console = is_console(req.uri().path());
    // A refusal is isolated wherever it was asked for: it echoes the Host and Origin sent.
    let (mut resp, isolate) = match turned_away(&sb, &req) {
        Some(refusal) => (refusal, true),
        None => (next.run(req).await, !console),
    };
    if isolate {
        isolate_documents(&mut resp);
    }
    server_date(&sb, &mut resp);
    resp
}

/// The refusal of a request that names the sandbox by a host it does not answer to, or that a
/// web page of another origin sent.
fn turned_away(sb: &Sandbox, req: &Request) -> Option<Response> {
    // A request target in absolute form names its host too: it must be the one checked.
    let host = req.headers().get(axum::http::header::HOST);
    let checked = match (req.uri().authority(), host) {
        (Some(a), Some(h)) if a.as_str().as_bytes() != h.as_bytes() => Err(crate::access::Turned(
            format!("the request names two hosts ({a} and the Host header)"),
        )),
        _ => crate::access::check_host_and_origin(req.headers(), &sb.config.allowed_hosts),
    };
    let turned = checked.err()?;
    tracing::warn!(why = %turned.0, "request turned away");
    Some(
        (
            StatusCode::FORBIDDEN,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            format!("{}\n", turned.0),
        )
            .into_response(),
    )
}

fn is_console(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// Mark an answer outside `/console` as a sandboxed document that is never sniffed.
///
/// The console shares the sandbox's origin with the AWS API and S3, where anyone with keys can
/// put a document of their choosing (an object uploaded as `text/html`, opened through a
/// presigned link). Without this, such a page would run as the console's own origin and could
/// read a learner's console pages with their cookie. `Content-Security-Policy: sandbox` gives
/// it an opaque origin instead: no cookies, no reading same-origin answers, and its form posts
/// carry `Origin: null`, which [`turned_away`] refuses.
fn isolate_documents(resp: &mut Response) {
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

/// Every answer's `Date` is the sandbox's time (`Clock::wire_now`), as AWS's answers carry
/// AWS's: what clients measure their clock's skew by (hyper would put this machine's).
fn server_date(sb: &Sandbox, resp: &mut Response) {
    // The text changes once a second: each worker thread keeps the last second's (the value
    // is a shared buffer, cloned without copying), as hyper does for its own `Date`. Keyed by
    // the second itself, so a moved sandbox clock or two sandboxes on one thread are told
    // apart.
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, axum::http::HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    let now = sb.clock.wire_now();
    let second = now.unix_timestamp();
    let value = LAST.with_borrow_mut(|last| match last {
        Some((s, v)) if *s == second => Some(v.clone()),
        _ => {
            let text = httpdate::fmt_http_date(std::time::SystemTime::from(now));
            let v = axum::http::HeaderValue::from_str(&text).ok()?;
            *last = Some((second, v.clone()));
            Some(v)
        }
    });
    if let Some(v) = value {
        resp.headers_mut().insert(axum::http::header::DATE, v);
    }
}
