//! The path of an AWS request: authenticate (who signs, for which service, within the body
//! limit) → decode (the service's protocol) → dispatch (the service on the blocking pool, then
//! the CloudTrail record) → encode. Each step is one function; each early refusal is encoded in
//! the protocol the client speaks.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::Method;

use super::faults;
use super::wire::{auth_error, content_type_ok, expired_token, guess_protocol, read_body, respond};
use super::{MAX_BODY, MAX_S3_BODY};
use crate::auth::presigned::QueryAuth;
use crate::auth::{self, AuthError, AuthHeader as Authorization};
use crate::identity::Caller;
use crate::protocol::{self, AwsError, Decoded, Encoded, Protocol};
use crate::services::cloudtrail::{recorder, unrecorded};
use crate::services::{Call, Service};
use crate::Sandbox;

/// What every service call needs to know about the request besides its input.
struct Meta {
    request_id: String,
    service: &'static dyn Service,
    protocol: Protocol,
    /// The region the call acts in (us-east-1 for the global services).
    region: String,
    user_agent: String,
    source_ip: String,
    /// The seed's own call ([`crate::services::Call::seeding`]), not a client's.
    seeding: Option<Seeding>,
}

impl Meta {
    fn refuse(&self, e: &AwsError) -> Response {
        respond(self.protocol.encode_err(e, &self.request_id))
    }
}

/// Serve any request outside `/_sandbox/`.
pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(answer) = follow_sns_link(&sb, &parts).await {
        return answer;
    }
    serve(sb, parts, body, source_ip(peer.ip()), None).await
}

/// The caller's address as CloudTrail's `sourceIPAddress` writes it. The sandbox listens on
/// 127.0.0.1 unless told otherwise, so nearly every caller is that one: its text is copied,
/// not formatted (`Ipv4Addr`'s `Display` was a fiftieth of a request's handling).
fn source_ip(ip: std::net::IpAddr) -> String {
    const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    if ip == LOOPBACK {
        "127.0.0.1".to_owned()
    } else {
        ip.to_string()
    }
}

/// Who makes the seed's in-process calls, and when (each call a little after the last, in the
/// seed's past).
#[derive(Clone)]
pub(crate) struct Seeding {
    pub caller: Caller,
    pub clock: Arc<crate::seed::plan::SeedClock>,
}

/// An AWS request the seed makes in-process ([`crate::seed::plan`]): the path of a client's
/// request, as `seeding.caller` (its signature is not checked: the seed is the sandbox itself),
/// at the seed's time, with no injected faults and nothing recorded.
pub(crate) async fn in_process(
    sb: Arc<Sandbox>,
    req: http::Request<Bytes>,
    seeding: Seeding,
) -> Response {
    let (parts, body) = req.into_parts();
    let source_ip = "127.0.0.1".to_string();
    serve(sb, parts, body.into(), source_ip, Some(seeding)).await
}

/// Authenticate, decode, dispatch and encode one AWS request.
async fn serve(
    sb: Arc<Sandbox>,
    parts: Parts,
    body: axum::body::Body,
    source_ip: String,
    seeding: Option<Seeding>,
) -> Response {
    let request_id = crate::util::uuid();
    // Which service: the credential scope says; without it, answer in the guessed protocol
    // (guessed only then: a signed request's service names its protocol).
    let guess = || guess_protocol(&parts.headers, parts.uri.path());
    // The signature is in the Authorization header, or (a presigned S3 URL) in the query.
    let signed = match auth::presigned::parse(parts.uri.query()) {
        Some(found) => found.and_then(|(a, q)| match a.service.as_str() {
            "s3" => Ok((a, Some(q))),
            _ => Err(AuthError::Malformed(
                "query-string authentication (a presigned URL) is accepted for S3 only".into(),
            )),
        }),
        None => auth::parse_authorization(&parts.headers).map(|a| (a, None)),
    };
    let (auth, query_auth) = match signed {
        Ok(found) => found,
        Err(e) => {
            let guess = guess();
            return respond(guess.encode_err(&auth_error(guess, &e, false), &request_id));
        }
    };
    let Some(service) = sb.service(&auth.service) else {
        let err = AwsError::new(
            400,
            "UnknownServiceException",
            format!(
                "The sandbox does not serve '{}' (the service in the credential scope).",
                auth.service
            ),
        );
        return respond(guess().encode_err(&err, &request_id));
    };
    let meta = Meta {
        protocol: service.protocol(&parts.headers, parts.uri.path()),
        region: if service.global() {
            "us-east-1".to_string()
        } else {
            auth.region.clone()
        },
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        source_ip,
        service,
        request_id,
        seeding,
    };
    let limit = if meta.protocol == Protocol::RestXml {
        MAX_S3_BODY
    } else {
        MAX_BODY
    };
    let Ok(body) = read_body(body, &parts.headers, limit).await else {
        let mut answer = meta.refuse(&AwsError::new(
            413,
            "RequestEntityTooLargeException",
            format!("Request body is larger than the {limit} bytes this service accepts."),
        ));
        // The rest of the body is never read: the connection cannot carry another request.
        answer.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        return answer;
    };
    let signed = match &meta.seeding {
        Some(seeding) => Ok(seeding.caller.clone()),
        None => authenticate(
            &sb,
            &parts,
            &body,
            (&auth, query_auth.as_ref()),
            meta.protocol,
        ),
    };
    let caller = match signed {
        Ok(c) => c,
        Err(e) => return meta.refuse(&e),
    };
    if meta.seeding.is_none() {
        if let Err(e) = sb.ensure_seeded(&caller.account).await {
            return meta.refuse(&e);
        }
    }
    if let Err(e) = content_type_ok(meta.protocol, &parts.method, &parts.headers) {
        return meta.refuse(&e);
    }
    if meta.seeding.is_none() {
        if let Some(e) = faults::draw(&sb, meta.service.signing_name()) {
            return meta.refuse(&e);
        }
    }
    if meta.protocol == Protocol::RestXml {
        dispatch_rest(sb, &parts, &body, caller, meta).await
    } else {
        match decode(meta.protocol, &parts, &body) {
            Ok(decoded) => dispatch(sb, decoded, caller, meta).await,
            Err(e) => meta.refuse(&e),
        }
    }
}

/// Links in SNS emails (confirm, unsubscribe) are followed without signing, as a browser does.
async fn follow_sns_link(sb: &Arc<Sandbox>, parts: &Parts) -> Option<Response> {
    if parts.method != Method::GET || parts.headers.contains_key(http::header::AUTHORIZATION) {
        return None;
    }
    let params = protocol::query::form_params(parts.uri.query(), &Bytes::new());
    if !matches!(
        params.get("Action").map(String::as_str),
        Some("ConfirmSubscription" | "Unsubscribe")
    ) {
        return None;
    }
    let sb2 = sb.clone();
    let result =
        tokio::task::spawn_blocking(move || crate::services::sns::follow_link(&sb2, &params)).await;
    let request_id = &crate::util::uuid();
    let xmlns = "http://sns.amazonaws.com/doc/2010-03-31/";
    Some(respond(match result {
        Ok(Ok((op, v))) => Protocol::AwsQuery.encode_ok(xmlns, &op, &v, request_id),
        Ok(Err(e)) => Protocol::AwsQuery.encode_err(&e, request_id),
        Err(_) => {
            Protocol::AwsQuery.encode_err(&AwsError::internal("link handling failed"), request_id)
        }
    }))
}

/// Who is calling, as [`signed_caller`] finds it, with a refusal in the protocol's own words.
fn authenticate(
    sb: &Sandbox,
    parts: &Parts,
    body: &Bytes,
    (auth, query): (&Authorization, Option<&QueryAuth>),
    protocol: Protocol,
) -> Result<Caller, AwsError> {
    signed_caller(sb, parts, body, auth, query).map_err(|e| match e {
        Unsigned::UnknownKey => auth_error(protocol, &AuthError::Mismatch, true),
        Unsigned::Bad(e) => auth_error(protocol, &e, false),
        Unsigned::Expired => expired_token(protocol),
    })
}

/// Why a request's signature names no caller.
#[derive(Debug)]
pub(super) enum Unsigned {
    /// No such access key, or not the session token that goes with it.
    UnknownKey,
    /// The signature does not verify.
    Bad(AuthError),
    /// Temporary credentials past their expiry.
    Expired,
}

/// Who is calling: the credential behind the access key, its SigV4 signature over the request,
/// its session token and expiry; or, when the sandbox accepts any credentials, the seeded
/// learner under the key given. The AWS requests and the control API's signed calls (a
/// learner's own inbox) both ask this.
pub(super) fn signed_caller(
    sb: &Sandbox,
    parts: &Parts,
    body: &Bytes,
    auth: &Authorization,
    query: Option<&QueryAuth>,
) -> Result<Caller, Unsigned> {
    if sb.config.accept_any_credentials {
        let base = sb
            .credential(&auth.access_key_id)
            .or_else(|| sb.credential(kms_workshop_names::sandbox::LEARNER_ACCESS_KEY))
            .or_else(|| sb.credentials().into_iter().next())
            .ok_or(Unsigned::UnknownKey)?;
        return Ok(Caller {
            access_key_id: auth.access_key_id.clone(),
            ..Caller::from(&base)
        });
    }
    // Under the world's lock only what the check needs is copied out (the caller, the secret,
    // the session token): the check itself, which hashes a whole S3 body, runs without it.
    let (caller, held) = sb
        .with_credential(&auth.access_key_id, |c| {
            let held = Held {
                secret: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
                expires_ms: c.expires_ms,
            };
            (Caller::from(c), held)
        })
        .ok_or(Unsigned::UnknownKey)?;
    check_signature(parts, body, auth, query, &held)?;
    if let Some(expires) = held.expires_ms {
        let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        if now_ms >= expires {
            return Err(Unsigned::Expired);
        }
    }
    Ok(caller)
}

/// What checking a request's signature needs of its credential.
struct Held {
    secret: String,
    session_token: Option<String>,
    expires_ms: Option<i64>,
}

/// Whether the request carries the signature of `auth`'s access key under `held`'s secret,
/// and the credential's session token if it has one.
fn check_signature(
    parts: &Parts,
    body: &Bytes,
    auth: &Authorization,
    query: Option<&QueryAuth>,
    held: &Held,
) -> Result<(), Unsigned> {
    let key = crate::identity::AccessKey {
        access_key_id: &auth.access_key_id,
        secret_access_key: &held.secret,
    };
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    match query {
        Some(q) => auth::presigned::verify(
            parts.method.as_str(),
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            auth,
            q,
            key,
        ),
        None => auth::verify(parts.method.as_str(), uri, &parts.headers, body, auth, key),
    }
    .map_err(Unsigned::Bad)?;
    if let Some(token) = &held.session_token {
        let sent = match query {
            Some(q) => q.security_token.as_deref(),
            None => parts
                .headers
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok()),
        };
        if sent != Some(token.as_str()) {
            return Err(Unsigned::UnknownKey);
        }
    }
    Ok(())
}

/// The operation and input of an RPC-style request (every protocol but REST-XML).
fn decode(protocol: Protocol, parts: &Parts, body: &Bytes) -> Result<Decoded, AwsError> {
    match protocol {
        Protocol::AwsJson11 | Protocol::AwsJson10 { .. } => {
            protocol::json::decode(&parts.headers, body)
        }
        Protocol::AwsQuery => protocol::query::decode(parts.uri.query(), body),
        Protocol::Ec2Query => protocol::ec2::decode(parts.uri.query(), body),
        Protocol::RpcV2Cbor => protocol::cbor::decode(parts.uri.path(), body),
        Protocol::RestXml => Err(AwsError::new(
            501,
            "NotImplemented",
            "REST-XML requests are routed by path, not decoded as RPC.",
        )),
    }
}

/// The answer when a handler panicked (a bug: logged, and answered as AWS's internal error
/// so the client can retry).
fn handler_failed(protocol: Protocol, request_id: &str, why: &str) -> Encoded {
    tracing::error!(error = %why, "handler panicked");
    protocol.encode_err(
        &AwsError::internal("The sandbox failed while handling this request."),
        request_id,
    )
}

/// Call the service and record the call in CloudTrail: a read-only call (most of a
/// workshop's: GenerateDataKey, Decrypt, Describe…, LookupEvents) on the request's own task,
/// where it takes microseconds, less than a hop to another thread and back, its record
/// written after the answer, in a batch (`cloudtrail::unrecorded`); a call that changes state,
/// or that takes milliseconds of
/// CPU ([`Service::heavy`]), on the blocking pool, recorded before it is answered.
/// Services hold the state lock only for the call itself and never across an await.
async fn dispatch(sb: Arc<Sandbox>, decoded: Decoded, caller: Caller, meta: Meta) -> Response {
    let Meta {
        request_id,
        service,
        protocol,
        region,
        user_agent,
        source_ip,
        seeding,
    } = meta;
    let operation = decoded.operation.clone();
    let answer_id = request_id.clone();
    // Only calls that read run here: a change may fold the log into a snapshot of the whole
    // state (and fsync it) under the state's lock, which must not stop the runtime's threads.
    let inline = !service.heavy(&operation) && service.read_only(&operation);
    // An inline call's record is written after the answer, in a batch whose writer a call
    // starts once the batch is due (see `unrecorded`).
    let settler = (inline && seeding.is_none()).then(|| Arc::downgrade(&sb));
    let call = move || {
        let mut cx = Call {
            sandbox: &sb,
            caller,
            region,
            request_id,
            now: seeding
                .as_ref()
                .map_or_else(|| sb.clock.now(), |s| s.clock.next(&decoded.operation)),
            protocol,
            resources: Vec::new(),
            response_elements: None,
            seeding: seeding.is_some(),
        };
        if !inline && !cx.seeding {
            // A change comes after the calls answered before it, their records' effects
            // included (a notification of a call before DeleteRule is still sent). Not a
            // seed's call: it runs on a runtime of its own, dropped when the seed is done, with
            // any delivery another account's record would start on it.
            unrecorded::settle(&sb);
        }
        // AWS's front end refuses what the model does not allow before the service sees it.
        let out = crate::validate::check(service, &decoded.operation, &decoded.input)
            .and_then(|()| service.call(&mut cx, &decoded.operation, &decoded.input));
        let (op, input) = (decoded.operation, decoded.input);
        let settle = match (cx.seeding, inline) {
            (true, _) => false,
            (false, true) => recorder::defer(cx, service, op, input, &out, source_ip, user_agent),
            (false, false) => {
                recorder::record(&cx, service, &op, &input, &out, &source_ip, &user_agent);
                false
            }
        };
        (out, settle)
    };
    let result = if !inline {
        tokio::task::spawn_blocking(call)
            .await
            .map_err(|join| join.to_string())
    } else {
        // A panic is answered as one, as the blocking pool's join error is, instead of taking
        // the connection down with it.
        crate::util::caught(call)
    };
    let settle = matches!(result, Ok((_, true)));
    let answer = respond(match result.map(|(out, _)| out) {
        Ok(Ok(value)) => protocol.encode_ok(service.xmlns(), &operation, &value, &answer_id),
        Ok(Err(e)) => {
            tracing::debug!(code = %e.code, message = %e.message, "request failed");
            protocol.encode_err(&e, &answer_id)
        }
        Err(why) => handler_failed(protocol, &answer_id, &why),
    });
    if let Some(sb) = settler.filter(|_| settle) {
        // The waiting records are due (`unrecorded::wait`). Spawned, not run here: this task
        // goes on to write its answer; the writer runs once it has, on this same thread (a
        // task spawned from a worker waits in its next-task slot, and no other worker is
        // woken for it). No timer: a writer that slept a millisecond first woke the runtime's
        // other worker when its timer fired, and the requests after it then bounced between
        // the two threads (×1.39–×1.43 the ceiling's median latency at one request in
        // flight with the timer, ×1.29–×1.36 without; docs/BENCHMARKS-HISTORY.md, c8f5fd8).
        // It holds the sandbox weakly: one shut down and let go before it runs (its shutdown
        // wrote every waiting record) is not kept open by a writer with nothing to do.
        tokio::spawn(async move {
            if let Some(sb) = sb.upgrade() {
                unrecorded::settle_soon(&sb);
            }
        });
    }
    answer
}

/// REST services (S3) route by method and path and answer with complete HTTP answers (bytes,
/// headers, empty bodies).
async fn dispatch_rest(
    sb: Arc<Sandbox>,
    parts: &Parts,
    body: &Bytes,
    caller: Caller,
    meta: Meta,
) -> Response {
    let req = match protocol::restxml::decode(
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        body,
    ) {
        Ok(r) => r,
        Err(e) => return meta.refuse(&e),
    };
    let (request_id, region, service) =
        (meta.request_id.clone(), meta.region.clone(), meta.service);
    let origin = super::rest::Origin {
        source_ip: meta.source_ip.clone(),
        user_agent: meta.user_agent.clone(),
        seed_clock: meta.seeding.as_ref().map(|s| s.clock.clone()),
    };
    let result = tokio::task::spawn_blocking(move || {
        super::rest::serve(&sb, service, caller, region, &request_id, &req, &origin)
    })
    .await;
    respond(
        result.unwrap_or_else(|join| {
            handler_failed(meta.protocol, &meta.request_id, &join.to_string())
        }),
    )
}
