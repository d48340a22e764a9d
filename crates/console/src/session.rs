//! Console sessions: who is signed in behind a cookie, the keys their pages sign with, and the
//! CSRF token every changing form must carry.
//!
//! Sessions live in memory: a restarted sandbox signs everyone out (a new link is one command
//! away), and nothing about a session is written to the state directory but its temporary keys.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use std::time::Duration;

use kms_workshop_sandbox::console_signin::{Who, SESSION_HOURS};
use kms_workshop_sandbox::identity::Credential;
use kms_workshop_sandbox::util::{constant_time_eq, random_secret};
use kms_workshop_sandbox::Sandbox;
use parking_lot::Mutex;

/// The session cookie's name.
pub const COOKIE: &str = "kmsw_console";
/// The most sessions one learner keeps at once (several browsers); a new one ends their oldest,
/// so no one can grow memory, or sign other learners out, by signing in again and again.
pub const SESSIONS_PER_LEARNER: usize = 5;

/// One signed-in browser.
#[derive(Clone)]
pub struct Session {
    pub who: Who,
    /// The temporary keys the session's pages sign their AWS calls with.
    pub keys: Credential,
    /// What every changing form must send back.
    pub csrf: String,
    /// The SDK configuration for the sandbox, built once at sign-in.
    pub sdk: aws_config::SdkConfig,
    opened: u64,
    /// When it began, in real time: it lasts [`SESSION_HOURS`].
    started: std::time::Instant,
}

/// Every signed-in session, by the cookie's value.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
    opened: std::sync::atomic::AtomicU64,
}

impl Sessions {
    /// Start a session; answers the cookie value and the sessions it ended (the learner's
    /// oldest, beyond [`SESSIONS_PER_LEARNER`]), whose keys the caller forgets.
    pub fn open(
        &self,
        who: Who,
        keys: Credential,
        sdk: aws_config::SdkConfig,
    ) -> (String, Vec<Session>) {
        let id = random_secret();
        let opened = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.by_id.lock();
        let mut theirs: Vec<(String, u64)> = map
            .iter()
            .filter(|(_, s)| s.who == who)
            .map(|(k, s)| (k.clone(), s.opened))
            .collect();
        theirs.sort_by_key(|(_, opened)| *opened);
        let excess = (theirs.len() + 1).saturating_sub(SESSIONS_PER_LEARNER);
        let ended = theirs
            .into_iter()
            .take(excess)
            .filter_map(|(k, _)| map.remove(&k))
            .collect();
        map.insert(
            id.clone(),
            Session {
                who,
                keys,
                csrf: random_secret(),
                sdk,
                opened,
                started: std::time::Instant::now(),
            },
        );
        (id, ended)
    }

    /// The session behind a cookie value.
    pub fn get(&self, id: &str) -> Option<Session> {
        self.by_id.lock().get(id).cloned()
    }

    /// End the session behind a cookie value, answering it.
    pub fn close(&self, id: &str) -> Option<Session> {
        self.by_id.lock().remove(id)
    }
}

/// The session cookie's value in a request, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` value that starts a session: readable by no script, sent on no request
/// another site starts, and only to the console's own paths.
pub fn set_cookie(id: &str) -> String {
    format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value that ends one.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A request from a signed-in browser whose keys still work. Anything else is sent to the
/// signed-out page.
pub struct SignedIn {
    pub id: String,
    pub session: Session,
}

impl SignedIn {
    /// Whether a form's `csrf` field is this session's token.
    pub fn csrf_ok(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|s| constant_time_eq(s.as_bytes(), self.session.csrf.as_bytes()))
    }
}

impl FromRequestParts<Arc<Sandbox>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, sb: &Arc<Sandbox>) -> Result<Self, Response> {
        let signed_out = || Redirect::to("/console/signin").into_response();
        let ended = || Redirect::to("/console/signin?ended=1").into_response();
        let Extension(sessions) = Extension::<Arc<Sessions>>::from_request_parts(parts, sb)
            .await
            .map_err(|e| e.into_response())?;
        let id = cookie_value(&parts.headers).ok_or_else(signed_out)?;
        let session = sessions.get(&id).ok_or_else(signed_out)?;
        // A session ends after SESSION_HOURS of real time, or when the sandbox forgot its keys
        // (a reset of the learner's account).
        let within = session.started.elapsed() < Duration::from_secs(SESSION_HOURS * 3600);
        let known = sb.credential(&session.keys.access_key_id).is_some();
        if !(within && known) {
            sessions.close(&id);
            if let Err(e) = sb.end_console_session(&session.keys.access_key_id) {
                tracing::warn!(error = %e.message, "could not forget a console session's keys");
            }
            return Err(ended());
        }
        Ok(SignedIn { id, session })
    }
}
