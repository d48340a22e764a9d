//! REST services (S3): routed by method and path rather than decoded as RPC, and answered with
//! complete HTTP answers (bytes, headers, empty bodies for HEAD).

use serde_json::Value as J;

use crate::identity::Caller;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Input, Protocol, Value};
use crate::services::{cloudtrail, Call, Service};
use crate::Sandbox;

/// Where a REST request comes from, for its CloudTrail record; or the seed's clock when the
/// seed makes it ([`Call::seeding`]: nothing recorded).
pub(super) struct Origin {
    pub source_ip: String,
    pub user_agent: String,
    pub seed_clock: Option<std::sync::Arc<crate::seed::plan::SeedClock>>,
}

/// Serve one REST request (S3), on the blocking pool: route, call, record management events in
/// CloudTrail, encode errors, add S3's request-id headers.
pub(super) fn serve(
    sb: &Sandbox,
    service: &'static dyn Service,
    caller: Caller,
    region: String,
    request_id: &str,
    req: &RestRequest,
    origin: &Origin,
) -> Encoded {
    let protocol = Protocol::RestXml;
    let Some(op) = service.rest_operation(req) else {
        let e = AwsError::new(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        );
        return protocol.encode_err(&e, request_id);
    };
    let mut cx = Call {
        sandbox: sb,
        caller,
        region,
        request_id: request_id.to_string(),
        now: origin
            .seed_clock
            .as_ref()
            .map_or_else(|| sb.clock.now(), |c| c.next(op)),
        protocol,
        resources: Vec::new(),
        response_elements: Some(J::Null),
        seeding: origin.seed_clock.is_some(),
    };
    if !cx.seeding {
        // As every change: after the calls answered before it, their records included (not a
        // seed's call: see `aws::dispatch`).
        crate::services::cloudtrail::unrecorded::settle(sb);
    }
    let out = service.call_rest(&mut cx, op, req);
    if service.management_event(op) && !cx.seeding {
        let input = Input::Json(service.rest_request_parameters(op, req));
        let result = match &out {
            Ok(_) => Ok(Value::Null),
            Err(e) => Err(e.clone()),
        };
        let (ip, agent) = (&origin.source_ip, &origin.user_agent);
        cloudtrail::recorder::record(&cx, service, op, &input, &result, ip, agent);
    }
    let mut enc = match out {
        Ok(enc) => enc,
        Err(e) => {
            tracing::debug!(code = %e.code, message = %e.message, "request failed");
            let mut enc = protocol.encode_err(&e, request_id);
            if req.method == http::Method::HEAD {
                enc.body = bytes::Bytes::new();
            }
            enc
        }
    };
    for name in ["x-amz-request-id", "x-amzn-requestid"] {
        if let Ok(v) = http::HeaderValue::from_str(request_id) {
            enc.headers.insert(name, v);
        }
    }
    enc.headers.insert(
        "x-amz-id-2",
        http::HeaderValue::from_static("c2FuZGJveC1zMw=="),
    );
    enc
}
