//! The HTTP front: one axum fallback handler that turns any request into
//! body limit → SigV4 → service → protocol decode → handler → CloudTrail record → protocol
//! encode, plus the `/_sandbox/` admin endpoints (health, clock, credentials), which are not AWS.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{self, AuthError};
use crate::identity::Caller;
use crate::protocol::{self, AwsError, Encoded, Protocol};
use crate::services::{cloudtrail::recorder, Call};
use crate::{Sandbox, SandboxError};

/// Largest body accepted for the JSON/query/CBOR services (AWS's own limits are far lower for
/// every operation the workshop uses); S3 uploads get more room.
pub const MAX_BODY: usize = 1024 * 1024;
pub const MAX_S3_BODY: usize = 64 * 1024 * 1024;

/// A sandbox listening for requests.
pub struct Running {
    pub addr: SocketAddr,
    pub sandbox: Arc<Sandbox>,
    shutdown: Option<oneshot::Sender<()>>,
    join: JoinHandle<()>,
}

impl Running {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting requests, finish the ones in flight, and flush state to disk.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.join).await;
        self.sandbox.sync();
    }

    /// Wait until the server stops (it runs until shut down).
    pub async fn wait(self) {
        let _ = self.join.await;
    }
}

/// Listen on `addr` and serve `sandbox` until [`Running::shutdown`].
pub async fn serve(sandbox: Arc<Sandbox>, addr: SocketAddr) -> Result<Running, SandboxError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    sandbox.set_endpoint(format!("http://{addr}"));
    let app = Router::new().fallback(handle).with_state(sandbox.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let ticker = sandbox.clone();
    let join = tokio::spawn(async move {
        // Periodic work on the sandbox clock (expiring imported key material) and fsync.
        let tick = tokio::spawn(async move {
            let mut iv = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                iv.tick().await;
                ticker.tick();
                ticker.sync();
            }
        });
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
        tick.abort();
    });
    tracing::info!(endpoint = %format!("http://{addr}"), "sandbox listening");
    Ok(Running {
        addr,
        sandbox,
        shutdown: Some(tx),
        join,
    })
}

impl Sandbox {
    /// Apply what the passing of sandbox time does (imported material expiring).
    pub fn tick(&self) {
        crate::services::kms::expire_due(self);
        crate::services::cloudwatch::tick(self);
        crate::services::ec2::settle_due(self);
        crate::services::cloudformation::settle_due(self);
        self.deliver_due_events();
    }
}

/// Read a request body of at most `limit` bytes. A larger one is read on (and discarded) up to
/// a hard cap before the refusal, so the client finishes sending and reads the 413 instead of
/// finding the connection closed under it.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ()> {
    use http_body_util::BodyExt;
    const DRAIN_CAP: usize = 128 * 1024 * 1024;
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(()) };
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_CAP {
                return Err(());
            }
        }
    }
    if seen > limit {
        Err(())
    } else {
        Ok(buf.freeze())
    }
}

fn respond(enc: Encoded) -> Response {
    let mut resp = Response::new(Body::from(enc.body));
    *resp.status_mut() = enc.status;
    *resp.headers_mut() = enc.headers;
    resp
}

/// The protocol a request looks like before we know its service (for early errors).
fn guess_protocol(headers: &HeaderMap, path: &str) -> Protocol {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if headers.contains_key("smithy-protocol") || path.starts_with("/service/") {
        Protocol::RpcV2Cbor
    } else if ct.starts_with("application/x-amz-json-1.0") {
        Protocol::AwsJson10 {
            query_compatible: false,
        }
    } else if headers.contains_key("x-amz-target") || ct.starts_with("application/x-amz-json") {
        Protocol::AwsJson11
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Protocol::AwsQuery
    } else {
        Protocol::RestXml
    }
}

/// Temporary credentials past their expiry, in the code each protocol's services use.
fn expired_token(protocol: Protocol) -> AwsError {
    let code = match protocol {
        Protocol::AwsJson11 | Protocol::RpcV2Cbor => "ExpiredTokenException",
        Protocol::AwsJson10 {
            query_compatible: false,
        } => "ExpiredTokenException",
        _ => "ExpiredToken",
    };
    AwsError::new(
        400,
        code,
        "The security token included in the request is expired",
    )
}

fn auth_error(protocol: Protocol, e: &AuthError, unknown_key: bool) -> AwsError {
    let json = matches!(
        protocol,
        Protocol::AwsJson11
            | Protocol::AwsJson10 {
                query_compatible: false
            }
    );
    match (e, unknown_key) {
        (_, true) => match protocol {
            _ if json => AwsError::new(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            Protocol::Ec2Query => AwsError::new(
                401,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials",
            ),
            Protocol::RestXml => AwsError::new(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ),
            _ => AwsError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
        },
        (AuthError::Missing, _) => match protocol {
            _ if json => AwsError::new(
                400,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            Protocol::RestXml => AwsError::new(403, "AccessDenied", "Access Denied"),
            _ => AwsError::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
        },
        (AuthError::Malformed(m), _) => match protocol {
            _ if json => AwsError::new(400, "IncompleteSignatureException", m.clone()),
            Protocol::RestXml => AwsError::new(400, "AuthorizationHeaderMalformed", m.clone()),
            _ => AwsError::new(400, "IncompleteSignature", m.clone()),
        },
        (e, _) => match protocol {
            _ if json => AwsError::new(400, "InvalidSignatureException", e.to_string()),
            Protocol::Ec2Query => AwsError::new(401, "AuthFailure", e.to_string()),
            _ => AwsError::new(403, "SignatureDoesNotMatch", e.to_string()),
        },
    }
}

fn content_type_ok(
    protocol: Protocol,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), AwsError> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = match protocol {
        Protocol::AwsJson11 | Protocol::AwsJson10 { .. } => {
            ct.starts_with("application/x-amz-json-1.")
        }
        Protocol::AwsQuery | Protocol::Ec2Query => {
            *method == Method::GET || ct.starts_with("application/x-www-form-urlencoded")
        }
        Protocol::RpcV2Cbor => ct.is_empty() || ct.starts_with("application/cbor"),
        Protocol::RestXml => true,
    };
    if ok {
        Ok(())
    } else {
        let expected = match protocol {
            Protocol::AwsJson11 => "application/x-amz-json-1.1",
            Protocol::AwsJson10 { .. } => "application/x-amz-json-1.0",
            Protocol::RpcV2Cbor => "application/cbor",
            _ => "application/x-www-form-urlencoded",
        };
        let shown = if ct.is_empty() { "(none)" } else { ct };
        Err(AwsError::new(
            415,
            "UnsupportedMediaTypeException",
            format!("Unsupported Content-Type {shown}; this operation expects {expected}"),
        ))
    }
}

async fn handle(
    State(sb): State<Arc<Sandbox>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if path.starts_with("/_sandbox/") {
        return admin(sb, &parts.method, &path, parts.uri.query(), body).await;
    }
    let request_id = crate::util::uuid();
    let guess = guess_protocol(&parts.headers, &path);

    // Links in SNS emails are followed without signing, as a browser does.
    if parts.method == Method::GET && !parts.headers.contains_key(http::header::AUTHORIZATION) {
        let params = protocol::query::form_params(parts.uri.query(), &Bytes::new());
        if matches!(
            params.get("Action").map(String::as_str),
            Some("ConfirmSubscription" | "Unsubscribe")
        ) {
            let sb2 = sb.clone();
            let result = tokio::task::spawn_blocking(move || {
                crate::services::sns::follow_link(&sb2, &params)
            })
            .await;
            let xmlns = "http://sns.amazonaws.com/doc/2010-03-31/";
            return respond(match result {
                Ok(Ok((op, v))) => Protocol::AwsQuery.encode_ok(xmlns, &op, &v, &request_id),
                Ok(Err(e)) => Protocol::AwsQuery.encode_err(&e, &request_id),
                Err(_) => Protocol::AwsQuery
                    .encode_err(&AwsError::internal("link handling failed"), &request_id),
            });
        }
    }

    // Which service: the credential scope says; without it, answer in the guessed protocol.
    let auth = match auth::parse_authorization(&parts.headers) {
        Ok(a) => a,
        Err(e) => return respond(guess.encode_err(&auth_error(guess, &e, false), &request_id)),
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
        return respond(guess.encode_err(&err, &request_id));
    };
    let protocol = service.protocol(&parts.headers, &path);
    let limit = if protocol == Protocol::RestXml {
        MAX_S3_BODY
    } else {
        MAX_BODY
    };
    let body: Bytes = match read_body(body, limit).await {
        Ok(b) => b,
        Err(()) => {
            let err = AwsError::new(
                413,
                "RequestEntityTooLargeException",
                format!("Request body is larger than the {limit} bytes this service accepts."),
            );
            return respond(protocol.encode_err(&err, &request_id));
        }
    };

    // Who is calling.
    let caller = if sb.config.accept_any_credentials {
        // An unknown key acts as the seeded learner.
        let base = sb
            .credential(&auth.access_key_id)
            .or_else(|| sb.credential(crate::seed::LEARNER_ACCESS_KEY))
            .or_else(|| sb.credentials().into_iter().next());
        match base {
            Some(c) => Caller {
                access_key_id: auth.access_key_id.clone(),
                ..Caller::from(&c)
            },
            None => {
                return respond(protocol.encode_err(
                    &auth_error(protocol, &AuthError::Mismatch, true),
                    &request_id,
                ))
            }
        }
    } else {
        let Some(cred) = sb.credential(&auth.access_key_id) else {
            return respond(protocol.encode_err(
                &auth_error(protocol, &AuthError::Mismatch, true),
                &request_id,
            ));
        };
        let uri = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        if let Err(e) = auth::verify(
            parts.method.as_str(),
            uri,
            &parts.headers,
            &body,
            &auth,
            &cred,
        ) {
            return respond(protocol.encode_err(&auth_error(protocol, &e, false), &request_id));
        }
        if let Some(token) = &cred.session_token {
            let sent = parts
                .headers
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(token.as_str()) {
                return respond(protocol.encode_err(
                    &auth_error(protocol, &AuthError::Mismatch, true),
                    &request_id,
                ));
            }
        }
        if let Some(expires) = cred.expires_ms {
            let now_ms = (sb.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
            if now_ms >= expires {
                return respond(protocol.encode_err(&expired_token(protocol), &request_id));
            }
        }
        Caller::from(&cred)
    };

    if let Err(e) = content_type_ok(protocol, &parts.method, &parts.headers) {
        return respond(protocol.encode_err(&e, &request_id));
    }
    if let Some(e) = faults::draw(&sb, &auth.service) {
        return respond(protocol.encode_err(&e, &request_id));
    }
    if protocol == Protocol::RestXml {
        // REST services (S3) answer with complete HTTP answers (bytes, headers, empty bodies).
        let req = match protocol::restxml::decode(
            &parts.method,
            &path,
            parts.uri.query(),
            &parts.headers,
            &body,
        ) {
            Ok(r) => r,
            Err(e) => return respond(protocol.encode_err(&e, &request_id)),
        };
        let user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let region = if service.global() {
            "us-east-1".to_string()
        } else {
            auth.region.clone()
        };
        let (sb2, rid, svc) = (sb.clone(), request_id.clone(), auth.service.clone());
        let result = tokio::task::spawn_blocking(move || {
            let service = sb2.service(&svc).expect("service looked up above");
            crate::services::call_rest_recorded(
                &sb2,
                service,
                caller,
                region,
                &rid,
                &req,
                &peer.ip().to_string(),
                &user_agent,
            )
        })
        .await;
        return respond(result.unwrap_or_else(|_| {
            protocol.encode_err(
                &AwsError::internal("The sandbox failed while handling this request."),
                &request_id,
            )
        }));
    }
    let decoded = match protocol {
        Protocol::AwsJson11 | Protocol::AwsJson10 { .. } => {
            protocol::json::decode(&parts.headers, &body)
        }
        Protocol::AwsQuery => protocol::query::decode(parts.uri.query(), &body),
        Protocol::Ec2Query => protocol::ec2::decode(parts.uri.query(), &body),
        Protocol::RpcV2Cbor => protocol::cbor::decode(&path, &body),
        Protocol::RestXml => Err(AwsError::new(
            501,
            "NotImplemented",
            "REST-XML services are not served by this sandbox yet.",
        )),
    };
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => return respond(protocol.encode_err(&e, &request_id)),
    };

    let region = if service.global() {
        "us-east-1".to_string()
    } else {
        auth.region.clone()
    };
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let operation = decoded.operation.clone();
    let sb2 = sb.clone();
    let rid = request_id.clone();
    let result = tokio::task::spawn_blocking(move || {
        let service = sb2.service(&auth.service).expect("service looked up above");
        let mut cx = Call {
            sandbox: &sb2,
            caller,
            region,
            request_id: rid,
            now: sb2.clock.now(),
            protocol,
            resources: Vec::new(),
            response_elements: None,
        };
        let out = service.call(&mut cx, &decoded.operation, &decoded.input);
        recorder::record(
            &cx,
            service,
            &decoded.operation,
            &decoded.input,
            &out,
            &peer.ip().to_string(),
            &user_agent,
        );
        out.map(|v| (v, service.xmlns()))
    })
    .await;
    match result {
        Ok(Ok((value, xmlns))) => {
            respond(protocol.encode_ok(xmlns, &operation, &value, &request_id))
        }
        Ok(Err(e)) => {
            tracing::debug!(code = %e.code, message = %e.message, "request failed");
            respond(protocol.encode_err(&e, &request_id))
        }
        Err(join) => {
            tracing::error!(error = %join, "handler panicked");
            respond(protocol.encode_err(
                &AwsError::internal("The sandbox failed while handling this request."),
                &request_id,
            ))
        }
    }
}

fn json_response(status: StatusCode, v: serde_json::Value) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// `/_sandbox/…`: sandbox administration (not an AWS API).
async fn admin(
    sb: Arc<Sandbox>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: Body,
) -> Response {
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let params: std::collections::BTreeMap<String, String> =
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    match (method.as_str(), path) {
        ("GET", "/_sandbox/health") => json_response(
            StatusCode::OK,
            json!({"status": "ok", "seed": sb.seed_name()}),
        ),
        ("GET", "/_sandbox/clock") => clock_view(&sb),
        ("POST", "/_sandbox/clock/advance") => {
            let by = params.get("seconds").cloned().or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("seconds").map(|s| s.to_string()))
            });
            let Some(secs) = by
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
            else {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "give the number of seconds to advance as ?seconds=N (N >= 0)"}),
                );
            };
            match sb.advance_clock(time::Duration::seconds_f64(secs)) {
                Ok(_) => {
                    sb.tick();
                    clock_view(&sb)
                }
                Err(e) => json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": e.message}),
                ),
            }
        }
        ("POST", "/_sandbox/faults") => match faults::set(&sb, &params) {
            Ok(v) => json_response(StatusCode::OK, v),
            Err(e) => json_response(StatusCode::BAD_REQUEST, json!({ "error": e })),
        },
        ("DELETE", "/_sandbox/faults") => json_response(StatusCode::OK, faults::clear(&sb)),
        ("GET", "/_sandbox/faults") => json_response(StatusCode::OK, faults::view(&sb)),
        ("GET", "/_sandbox/rules") => json_response(StatusCode::OK, sb.rules_view()),
        ("GET", "/_sandbox/outbox") => {
            let after = params
                .get("after")
                .and_then(|a| a.parse::<u64>().ok())
                .unwrap_or(0);
            let mut messages = sb.outbox(after);
            if let Some(account) = params.get("account") {
                messages.retain(|m| &m.account == account);
            }
            json_response(StatusCode::OK, json!({ "messages": messages }))
        }
        ("GET", "/_sandbox/learners") => learners_view(&sb),
        ("POST", "/_sandbox/learners/reset") => {
            let Some(k) = params.get("learner").and_then(|k| k.parse::<u32>().ok()) else {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "name the learner to reset as ?learner=K (a number from 1)"}),
                );
            };
            let sb2 = sb.clone();
            match tokio::task::spawn_blocking(move || sb2.reset_learner(k)).await {
                Ok(Ok(account)) => json_response(
                    StatusCode::OK,
                    json!({"learner": k, "account": account, "reset": true}),
                ),
                Ok(Err(e)) => json_response(
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    json!({"error": e.message}),
                ),
                Err(e) => json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": format!("reset failed: {e}")}),
                ),
            }
        }
        ("GET", "/_sandbox/sns/signing-key.pem") => {
            match crate::services::sns::signing_public_pem() {
                Some(pem) => (
                    StatusCode::OK,
                    [(http::header::CONTENT_TYPE, "application/x-pem-file")],
                    pem,
                )
                    .into_response(),
                None => json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "no signing key"}),
                ),
            }
        }
        ("GET", "/_sandbox/credentials") => {
            let creds: Vec<_> = sb
                .credentials()
                .iter()
                .map(|c| {
                    let caller = Caller::from(c);
                    json!({
                        "access_key_id": c.access_key_id,
                        "secret_access_key": c.secret_access_key,
                        "session_token": c.session_token,
                        "account": c.account,
                        "arn": caller.arn(),
                        "username": caller.username(),
                    })
                })
                .collect();
            json_response(StatusCode::OK, json!({ "credentials": creds }))
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no sandbox admin endpoint {method} {path}"), "endpoints": ["GET /_sandbox/health", "GET /_sandbox/clock", "POST /_sandbox/clock/advance?seconds=N", "GET /_sandbox/credentials", "GET /_sandbox/outbox?after=SEQ&account=ID", "GET /_sandbox/learners", "POST /_sandbox/learners/reset?learner=K", "GET /_sandbox/rules", "GET /_sandbox/sns/signing-key.pem", "POST /_sandbox/faults?throttle=P&error5xx=P", "DELETE /_sandbox/faults"]}),
        ),
    }
}

/// Every learner's account and keys (the keys are the sandbox's published ones).
fn learners_view(sb: &Sandbox) -> Response {
    let learners: Vec<_> = sb
        .learners()
        .into_iter()
        .map(|(k, account)| {
            let l = crate::seed::learner(k);
            json!({
                "number": k,
                "account": account,
                "access_key_id": l.access_key_id,
                "secret_access_key": l.secret_access_key,
                "instance_access_key_id": l.instance_access_key_id,
                "instance_secret_access_key": l.instance_secret_access_key,
                "instance_session_token": l.instance_session_token,
            })
        })
        .collect();
    let instructor = sb.credential(crate::seed::INSTRUCTOR_ACCESS_KEY).map(|c| {
        json!({
            "account": c.account,
            "access_key_id": c.access_key_id,
            "secret_access_key": c.secret_access_key,
            "role": crate::seed::CLASSROOM_ROLE,
        })
    });
    json_response(
        StatusCode::OK,
        json!({ "learners": learners, "instructor": instructor }),
    )
}

fn clock_view(sb: &Sandbox) -> Response {
    let now = sb.clock.now();
    json_response(
        StatusCode::OK,
        json!({"now": crate::util::iso8601(now), "offset_seconds": sb.clock.offset().as_seconds_f64()}),
    )
}

/// Fault injection for resilience tests (`POST /_sandbox/faults?throttle=0.2&error5xx=0.1`,
/// `DELETE /_sandbox/faults`): a fraction of AWS calls is refused before the service sees them,
/// the way each service's protocol reports throttling and internal failures, so clients'
/// retries are exercised without any state change behind the refusal. Admin calls are exempt.
mod faults {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    use rand::Rng;
    use serde_json::json;

    use crate::protocol::AwsError;
    use crate::Sandbox;

    #[derive(Clone, Copy, Default)]
    struct Rates {
        throttle: f64,
        error5xx: f64,
    }

    /// Keyed by the sandbox's address: tests run several sandboxes in one process.
    fn table() -> &'static Mutex<HashMap<usize, Rates>> {
        static T: OnceLock<Mutex<HashMap<usize, Rates>>> = OnceLock::new();
        T.get_or_init(Default::default)
    }

    fn key(sb: &Arc<Sandbox>) -> usize {
        Arc::as_ptr(sb) as usize
    }

    fn rates(sb: &Arc<Sandbox>) -> Rates {
        table()
            .lock()
            .map(|t| t.get(&key(sb)).copied().unwrap_or_default())
            .unwrap_or_default()
    }

    fn show(r: Rates) -> serde_json::Value {
        json!({ "throttle": r.throttle, "error5xx": r.error5xx })
    }

    pub fn view(sb: &Arc<Sandbox>) -> serde_json::Value {
        show(rates(sb))
    }

    pub fn set(
        sb: &Arc<Sandbox>,
        params: &std::collections::BTreeMap<String, String>,
    ) -> Result<serde_json::Value, String> {
        let mut r = rates(sb);
        for (name, slot) in [("throttle", &mut r.throttle), ("error5xx", &mut r.error5xx)] {
            if let Some(v) = params.get(name) {
                *slot = v
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| {
                        format!("{name} must be a fraction between 0 and 1, not '{v}'")
                    })?;
            }
        }
        if r.throttle + r.error5xx > 1.0 {
            return Err("throttle + error5xx must not exceed 1".into());
        }
        if let Ok(mut t) = table().lock() {
            t.insert(key(sb), r);
        }
        Ok(show(r))
    }

    pub fn clear(sb: &Arc<Sandbox>) -> serde_json::Value {
        if let Ok(mut t) = table().lock() {
            t.remove(&key(sb));
        }
        show(Rates::default())
    }

    /// The injected failure for this call of `service` (the SigV4 signing name), if any.
    pub fn draw(sb: &Arc<Sandbox>, service: &str) -> Option<AwsError> {
        let r = rates(sb);
        if r.throttle <= 0.0 && r.error5xx <= 0.0 {
            return None;
        }
        let x: f64 = rand::thread_rng().gen();
        if x < r.throttle {
            Some(match service {
                "ec2" => AwsError::new(503, "RequestLimitExceeded", "Request limit exceeded."),
                "s3" => AwsError::new(503, "SlowDown", "Please reduce your request rate."),
                "kms" | "cloudtrail" | "events" => {
                    AwsError::new(400, "ThrottlingException", "Rate exceeded")
                }
                _ => AwsError::new(400, "Throttling", "Rate exceeded"),
            })
        } else if x < r.throttle + r.error5xx {
            Some(match service {
                "s3" => AwsError::new(
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                ),
                "ec2" => AwsError::new(500, "InternalError", "An internal error has occurred."),
                _ => AwsError::internal("An internal failure occurred (injected by the sandbox)."),
            })
        } else {
            None
        }
    }
}
