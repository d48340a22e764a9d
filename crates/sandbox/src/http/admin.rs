//! The control API's server side: one typed axum route per endpoint of
//! [`super::admin_api`], answering JSON. Anything else under `/_sandbox/` answers 404 with the
//! list of endpoints; everything outside it is an AWS request ([`super::aws`]).
//!
//! Who may call what ([`Control`]): the health check and SNS's public signing certificate are
//! open to anyone; reading the clock and one's own account's messages needs a request signed
//! (SigV4) by one of the sandbox's identities; everything else (every account's messages and
//! keys, moving the clock, resets, faults) needs the admin token ([`crate::access`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::admin_api::{
    path, AdvanceQuery, ClockView, ConsoleLinkQuery, ConsoleLinkView, CredentialView,
    CredentialsView, ErrorBody, FaultQuery, FaultRates, Health, InstructorView, LearnerView,
    LearnersView, OutboxQuery, OutboxView, ResetAllView, ResetQuery, ResetView, ENDPOINTS,
};
use super::faults;
use crate::access;
use crate::identity::Caller;
use crate::realism::Profile;
use crate::Sandbox;

type Sb = State<Arc<Sandbox>>;
type Answer<T> = Result<Json<T>, Refusal>;

/// A JSON answer. (Written here rather than taken from axum's `json` feature, which would change
/// `serde_json`'s features for the whole workspace and rebuild every SDK crate.)
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    }
}

/// A refused control call: a status and a message that says what to send instead.
pub struct Refusal(StatusCode, ErrorBody);

impl Refusal {
    fn bad_request(message: impl Into<String>) -> Self {
        Refusal(
            StatusCode::BAD_REQUEST,
            ErrorBody {
                error: message.into(),
                endpoints: None,
            },
        )
    }

    fn status(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal(
            status,
            ErrorBody {
                error: message.into(),
                endpoints: None,
            },
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut resp = Json(self.1).into_response();
        *resp.status_mut() = self.0;
        resp
    }
}

/// Who is making a control call.
pub enum Control {
    /// The holder of the admin token: the operator or instructor.
    Admin,
    /// One of the sandbox's identities, by its SigV4 signature.
    Signed(Caller),
}

impl FromRequestParts<Arc<Sandbox>> for Control {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, sb: &Arc<Sandbox>) -> Result<Self, Refusal> {
        let refuse = |message: String| Refusal::status(StatusCode::UNAUTHORIZED, message);
        if let Some(given) = access::presented_token(&parts.headers) {
            // Sent as it is, the token could be read off the network: only from this machine.
            if !from_loopback(parts) {
                return Err(refuse(format!(
                    "the admin token itself is accepted from this machine only; from elsewhere, \
                     sign with it as {} (the kms-workshop commands do)",
                    access::ADMIN_KEY_ID
                )));
            }
            return if access::token_matches(sb.admin_token(), given) {
                Ok(Control::Admin)
            } else {
                Err(refuse(
                    "that is not this sandbox's admin token (see the `admin token` line \
                     `kms-workshop sandbox serve` printed, or DIR/admin.token of its --state-dir)"
                        .into(),
                ))
            };
        }
        let signed = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
        if !signed {
            return Err(refuse(format!(
                "this control call needs the sandbox's admin token, sent as the {} header or \
                 as a signature (the `kms-workshop sandbox` commands find it themselves, or \
                 take --token)",
                access::TOKEN_HEADER
            )));
        }
        let auth = crate::auth::parse_authorization(&parts.headers)
            .map_err(|e| refuse(format!("bad signature: {e}")))?;
        if auth.access_key_id == access::ADMIN_KEY_ID {
            return signed_with_token(sb, parts, &auth)
                .map(|()| Control::Admin)
                .map_err(|e| refuse(format!("not signed with this sandbox's admin token: {e}")));
        }
        if sb.config.accept_any_credentials {
            // Signatures are not checked in that mode: a signature proves nobody.
            return Err(refuse(
                "this sandbox accepts any credentials, so a signature proves nothing: control \
                 calls need its admin token"
                    .into(),
            ));
        }
        super::aws::signed_caller(sb, parts, &Bytes::new(), &auth, None)
            .map(Control::Signed)
            .map_err(|e| {
                refuse(format!(
                    "the request's signature names no identity of this sandbox ({e:?})"
                ))
            })
    }
}

/// Whether the request came over a loopback connection.
fn from_loopback(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback())
}

/// Whether a bodiless control request is signed (SigV4) with the admin token as the secret.
fn signed_with_token(
    sb: &Sandbox,
    parts: &Parts,
    auth: &crate::auth::AuthHeader,
) -> Result<(), crate::auth::AuthError> {
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let cred = access::admin_credential(sb.admin_token());
    crate::auth::verify(
        parts.method.as_str(),
        uri,
        &parts.headers,
        &[],
        auth,
        cred.access_key(),
    )
}

/// A control call only the admin token may make.
pub struct AdminOnly;

impl FromRequestParts<Arc<Sandbox>> for AdminOnly {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, sb: &Arc<Sandbox>) -> Result<Self, Refusal> {
        match Control::from_request_parts(parts, sb).await? {
            Control::Admin => Ok(AdminOnly),
            Control::Signed(_) => Err(Refusal::status(
                StatusCode::FORBIDDEN,
                "only the holder of the sandbox's admin token may do this; a learner's own \
                 credentials read the clock and their own account's messages",
            )),
        }
    }
}

/// The control API's routes.
pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(path::HEALTH, get(health))
        .route(path::CLOCK, get(clock))
        .route(path::CLOCK_ADVANCE, post(advance_clock))
        .route(path::CREDENTIALS, get(credentials))
        .route(path::OUTBOX, get(outbox))
        .route(path::LEARNERS, get(learners))
        .route(path::LEARNERS_RESET, post(reset_learner))
        .route(path::RESET, post(reset_all))
        .route(path::RULES, get(rules))
        .route(path::SNS_SIGNING_KEY, get(sns_signing_key))
        .route(
            path::FAULTS,
            get(show_faults).post(set_faults).delete(clear_faults),
        )
        .route(path::CONSOLE_LINK, post(console_link))
        .route("/_sandbox", any(unknown))
        .route("/_sandbox/{*rest}", any(unknown))
        // A known path with another method is as unknown as an unknown path.
        .method_not_allowed_fallback(unknown)
}

/// The query string's parameters as `T` (whose fields are all optional text), or a refusal
/// naming what was wrong with them.
fn query<T: DeserializeOwned>(RawQuery(q): RawQuery) -> Result<T, Refusal> {
    let map: serde_json::Map<String, serde_json::Value> =
        form_urlencoded::parse(q.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| Refusal::bad_request(format!("bad query string: {e}")))
}

async fn unknown(method: Method, uri: Uri) -> Refusal {
    Refusal(
        StatusCode::NOT_FOUND,
        ErrorBody {
            error: format!("no sandbox admin endpoint {method} {}", uri.path()),
            endpoints: Some(ENDPOINTS.iter().map(|e| e.to_string()).collect()),
        },
    )
}

async fn health(State(sb): Sb, q: RawQuery) -> Answer<Health> {
    let challenge = query::<HealthQuery>(q)?.challenge;
    if challenge.as_ref().is_some_and(|c| c.len() > 256) {
        return Err(Refusal::bad_request(
            "a challenge is at most 256 characters",
        ));
    }
    Ok(Json(Health {
        status: "ok".into(),
        seed: sb.seed_name(),
        realism: if sb.config.realism.like_aws() {
            Profile::Aws.name().into()
        } else {
            Profile::Instant.name().into()
        },
        time_scale: sb.config.time_scale,
        proof: challenge.map(|c| super::admin_api::health_proof(sb.admin_token(), &c)),
    }))
}

/// `GET /_sandbox/health?challenge=C`.
#[derive(Debug, Default, serde::Deserialize)]
struct HealthQuery {
    challenge: Option<String>,
}

fn clock_view(sb: &Sandbox) -> ClockView {
    ClockView {
        now: crate::util::iso8601(sb.clock.now()),
        offset_seconds: sb.clock.offset().as_seconds_f64(),
    }
}

async fn clock(_who: Control, State(sb): Sb) -> Json<ClockView> {
    Json(clock_view(&sb))
}

async fn advance_clock(
    _admin: AdminOnly,
    State(sb): Sb,
    q: RawQuery,
    body: Bytes,
) -> Answer<ClockView> {
    // `?seconds=N`, or `{"seconds": N}` in the body.
    let by = query::<AdvanceQuery>(q)?.seconds.or_else(|| {
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("seconds").map(|s| s.to_string()))
    });
    let max = max_advance_seconds();
    let secs = by
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && (0.0..=max).contains(s))
        .ok_or_else(|| {
            Refusal::bad_request(format!(
                "give the number of seconds to advance as ?seconds=N (0 <= N <= {max}: the clock \
                 runs at most a century ahead of real time)"
            ))
        })?;
    sb.advance_clock(time::Duration::seconds_f64(secs))
        .map_err(|e| Refusal::status(status_of(&e), e.message))?;
    sb.tick();
    Ok(Json(clock_view(&sb)))
}

/// The most seconds one advance may ask for.
fn max_advance_seconds() -> f64 {
    crate::clock::MAX_OFFSET.whole_seconds() as f64
}

/// An AWS error's status as an HTTP status (500 when it is not one).
fn status_of(e: &crate::protocol::AwsError) -> StatusCode {
    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn credentials(_admin: AdminOnly, State(sb): Sb) -> Json<CredentialsView> {
    let credentials = sb
        .credentials()
        .iter()
        .map(|c| {
            let caller = Caller::from(c);
            CredentialView {
                access_key_id: c.access_key_id.clone(),
                secret_access_key: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
                account: c.account.clone(),
                arn: caller.arn(),
                username: caller.username().to_string(),
            }
        })
        .collect();
    Json(CredentialsView { credentials })
}

/// Every account's messages for the admin token (or one account's with `account=ID`); a signed
/// caller's own account's only.
async fn outbox(who: Control, State(sb): Sb, q: RawQuery) -> Answer<OutboxView> {
    let q: OutboxQuery = query(q)?;
    let account = match who {
        Control::Admin => q.account,
        Control::Signed(caller) => {
            if q.account.as_ref().is_some_and(|a| *a != caller.account) {
                return Err(Refusal::status(
                    StatusCode::FORBIDDEN,
                    format!(
                        "{} may read the messages of its own account ({}) only",
                        caller.arn(),
                        caller.account
                    ),
                ));
            }
            Some(caller.account)
        }
    };
    let after = q.after.and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
    let mut messages = sb.outbox(after);
    if let Some(account) = &account {
        messages.retain(|m| &m.account == account);
    }
    Ok(Json(OutboxView { messages }))
}

/// Every learner's account and keys, as the state holds them.
async fn learners(_admin: AdminOnly, State(sb): Sb) -> Json<LearnersView> {
    let learners = sb
        .learners()
        .into_iter()
        .map(|(number, account)| {
            let l = kms_workshop_names::sandbox::learner(number);
            // A seeded key the learner deleted (IAM DeleteAccessKey) is listed without secrets.
            let user = sb.credential(&l.access_key_id);
            let instance = sb.credential(&l.instance_access_key_id);
            LearnerView {
                number,
                account,
                access_key_id: l.access_key_id,
                secret_access_key: user.map(|c| c.secret_access_key).unwrap_or_default(),
                instance_access_key_id: l.instance_access_key_id,
                instance_secret_access_key: instance
                    .as_ref()
                    .map(|c| c.secret_access_key.clone())
                    .unwrap_or_default(),
                instance_session_token: instance.and_then(|c| c.session_token).unwrap_or_default(),
            }
        })
        .collect();
    let instructor = sb
        .credential(kms_workshop_names::sandbox::INSTRUCTOR_ACCESS_KEY)
        .map(|c| InstructorView {
            account: c.account,
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            role: kms_workshop_names::sandbox::CLASSROOM_ROLE.to_string(),
        });
    Json(LearnersView {
        learners,
        instructor,
    })
}

/// Run a re-seed (`f`) off the async workers: it writes whole accounts.
async fn reseed<T: Send + 'static>(
    sb: Arc<Sandbox>,
    f: impl FnOnce(&Sandbox) -> Result<T, crate::protocol::AwsError> + Send + 'static,
) -> Result<T, Refusal> {
    match tokio::task::spawn_blocking(move || f(&sb)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Refusal::status(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.message,
        )),
        Err(e) => Err(Refusal::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reset failed: {e}"),
        )),
    }
}

async fn reset_all(_admin: AdminOnly, State(sb): Sb) -> Answer<ResetAllView> {
    let done = reseed(sb, |sb| sb.reset_all()).await?;
    Ok(Json(ResetAllView {
        learners: done
            .into_iter()
            .map(|(learner, account)| ResetView {
                learner,
                account,
                reset: true,
            })
            .collect(),
    }))
}

async fn reset_learner(_admin: AdminOnly, State(sb): Sb, q: RawQuery) -> Answer<ResetView> {
    let k = query::<ResetQuery>(q)?
        .learner
        .and_then(|k| k.parse::<u32>().ok())
        .ok_or_else(|| {
            Refusal::bad_request("name the learner to reset as ?learner=K (a number from 1)")
        })?;
    let account = reseed(sb, move |sb| sb.reset_learner(k)).await?;
    Ok(Json(ResetView {
        learner: k,
        account,
        reset: true,
    }))
}

async fn rules(_admin: AdminOnly, State(sb): Sb) -> Json<serde_json::Value> {
    Json(sb.rules_view())
}

async fn sns_signing_key() -> Result<Response, Refusal> {
    match crate::services::sns::signing_public_pem() {
        Some(pem) => Ok((
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
            pem,
        )
            .into_response()),
        None => Err(Refusal::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no signing key",
        )),
    }
}

async fn show_faults(_admin: AdminOnly, State(sb): Sb) -> Json<FaultRates> {
    Json(faults::view(&sb))
}

async fn set_faults(_admin: AdminOnly, State(sb): Sb, q: RawQuery) -> Answer<FaultRates> {
    let q: FaultQuery = query(q)?;
    faults::set(
        &sb,
        q.throttle.as_deref(),
        q.error5xx.as_deref(),
        q.count.as_deref(),
    )
    .map(Json)
    .map_err(Refusal::bad_request)
}

async fn clear_faults(_admin: AdminOnly, State(sb): Sb) -> Json<FaultRates> {
    Json(faults::clear(&sb))
}

/// The `Signature=` of a SigV4 `Authorization` header.
fn signature_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|part| part.trim().strip_prefix("Signature="))
}

/// A one-time console sign-in link. The admin token's holder names any learner (`learner=K`,
/// default 1); a learner's own signed request gets that learner's link only.
async fn console_link(
    who: Control,
    State(sb): Sb,
    headers: axum::http::HeaderMap,
    q: RawQuery,
) -> Answer<ConsoleLinkView> {
    let q: ConsoleLinkQuery = query(q)?;
    // The answer is a secret: a signed request seen on the network must not get another.
    if let Some(signature) = signature_of(&headers) {
        if !sb.fresh_link_signature(signature) {
            return Err(Refusal::status(
                StatusCode::FORBIDDEN,
                "this signed request was used already: sign a new one (a link request cannot be \
                 replayed)",
            ));
        }
    }
    let who = match q.instructor.as_deref() {
        None | Some("false" | "0") => learner_signing_in(who, &sb, q.learner.as_deref())?,
        Some("true" | "1") => instructor_signing_in(&who, &sb, q.learner.is_some())?,
        Some(other) => {
            return Err(Refusal::bad_request(format!(
                "instructor must be true or false, not '{other}'"
            )))
        }
    };
    let (url, lifetime) = sb.console_link(who.clone()).ok_or_else(|| {
        Refusal::status(
            StatusCode::SERVICE_UNAVAILABLE,
            "the sandbox is not serving yet",
        )
    })?;
    Ok(Json(ConsoleLinkView {
        url,
        learner: who.number,
        account: who.account,
        expires_in_seconds: lifetime.as_secs(),
    }))
}

/// The instructor, for the admin token's holder in a classroom (the class view is theirs).
fn instructor_signing_in(
    who: &Control,
    sb: &Sandbox,
    learner_too: bool,
) -> Result<crate::console_signin::Who, Refusal> {
    if learner_too {
        return Err(Refusal::bad_request(
            "instructor and learner name two people: ask for one link at a time",
        ));
    }
    if !matches!(who, Control::Admin) {
        return Err(Refusal::status(
            StatusCode::FORBIDDEN,
            "the instructor's console link needs the admin token",
        ));
    }
    if sb
        .credential(kms_workshop_names::sandbox::INSTRUCTOR_ACCESS_KEY)
        .is_none()
    {
        return Err(Refusal::status(
            StatusCode::NOT_FOUND,
            "this sandbox is not a classroom: there is no instructor (serve it with --learners N)",
        ));
    }
    Ok(crate::console_signin::Who::instructor())
}

/// The learner a link is for: any (default 1) for the admin token, a learner's own for their
/// signed request.
fn learner_signing_in(
    who: Control,
    sb: &Sandbox,
    asked: Option<&str>,
) -> Result<crate::console_signin::Who, Refusal> {
    let asked = match asked {
        None => None,
        Some(k) => Some(k.parse::<u32>().ok().filter(|k| *k >= 1).ok_or_else(|| {
            Refusal::bad_request(format!("learner must be a number from 1, not '{k}'"))
        })?),
    };
    let learners = sb.learners();
    let found = match who {
        Control::Admin => {
            let k = asked.unwrap_or(1);
            learners.iter().find(|(n, _)| *n == k).ok_or_else(|| {
                Refusal::status(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no learner {k}: this sandbox has learners 1 to {}",
                        learners.len()
                    ),
                )
            })?
        }
        Control::Signed(caller) => {
            let is_learner = matches!(&caller.principal,
                crate::identity::Principal::IamUser { name, .. }
                    if name == kms_workshop_names::sandbox::LEARNER_USER);
            match learners.iter().find(|(_, a)| *a == caller.account) {
                Some(own) if is_learner && asked.is_none_or(|k| k == own.0) => own,
                _ => {
                    return Err(Refusal::status(
                        StatusCode::FORBIDDEN,
                        format!(
                            "{} may ask for its own learner's console link only (another \
                             learner's needs the admin token)",
                            caller.arn()
                        ),
                    ))
                }
            }
        }
    };
    Ok(crate::console_signin::Who {
        number: found.0,
        account: found.1.clone(),
    })
}
