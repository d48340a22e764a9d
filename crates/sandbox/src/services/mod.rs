//! One module per AWS service. Each implements [`Service`] over the shared protocol layer: it
//! receives a decoded operation and [`Input`], works on its state through the [`Call`], and
//! returns a [`Value`] or an [`AwsError`]; the server encodes either in the client's protocol
//! and the CloudTrail recorder logs the call.

pub mod cloudformation;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod ec2;
pub mod events;
pub mod iam;
pub mod kms;
pub mod s3;
pub mod sns;
pub mod sts;

use http::HeaderMap;
use serde_json::Value as J;
use time::OffsetDateTime;

use crate::identity::Caller;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Input, Protocol, Value};
use crate::Sandbox;

/// A resource a call touched, as CloudTrail lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailResource {
    pub arn: String,
    pub resource_type: String,
}

/// Everything a service handler needs about the request in flight, and what it reports back
/// for the CloudTrail record.
pub struct Call<'a> {
    pub sandbox: &'a Sandbox,
    pub caller: Caller,
    pub region: String,
    pub request_id: String,
    pub now: OffsetDateTime,
    pub protocol: Protocol,
    /// Resources the call acted on (filled in by the handler).
    pub resources: Vec<TrailResource>,
    /// Overrides the generic `responseElements` (filled in by the handler when AWS logs
    /// something other than the camel-cased output).
    pub response_elements: Option<J>,
}

impl Call<'_> {
    pub fn account(&self) -> &str {
        &self.caller.account
    }

    pub fn unknown(&self, op: &str) -> AwsError {
        self.protocol.unknown_operation(op)
    }
}

pub trait Service: Send + Sync + 'static {
    /// The SigV4 signing name (`kms`, `cloudtrail`, `sts`, …).
    fn signing_name(&self) -> &'static str;
    /// CloudTrail's `eventSource`.
    fn event_source(&self) -> &'static str;
    /// XML namespace of query answers.
    fn xmlns(&self) -> &'static str {
        ""
    }
    /// The protocol a request speaks (services with several clients pick by headers/path).
    fn protocol(&self, headers: &HeaderMap, path: &str) -> Protocol;
    /// Global services (IAM, STS) log in us-east-1 and keep one state per account.
    fn global(&self) -> bool {
        false
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError>;
    /// Whether CloudTrail marks the operation `readOnly`.
    fn read_only(&self, op: &str) -> bool {
        ["Describe", "Get", "List", "Lookup"]
            .iter()
            .any(|p| op.starts_with(p))
    }
    /// `requestParameters` as AWS logs them; the default is the input with camel-cased names.
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        camel_case_keys(&input.to_json(), &[])
    }
    /// REST services (S3): the operation a request names, from method, path and query
    /// (`None`: not served).
    fn rest_operation(&self, _req: &RestRequest) -> Option<&'static str> {
        None
    }
    /// REST services answer with a complete HTTP answer (S3's GetObject returns the bytes with
    /// headers; HEAD answers have no body).
    fn call_rest(
        &self,
        cx: &mut Call<'_>,
        op: &str,
        _req: &RestRequest,
    ) -> Result<Encoded, AwsError> {
        Err(cx.unknown(op))
    }
    /// `requestParameters` of a REST call.
    fn rest_request_parameters(&self, _op: &str, _req: &RestRequest) -> J {
        J::Null
    }
    /// Whether CloudTrail's event history shows the operation (data events, such as S3's
    /// object-level calls, are only ever delivered to trails that select them).
    fn management_event(&self, _op: &str) -> bool {
        true
    }
}

/// Serve one REST request (S3) on the blocking pool: route, call, record management events in
/// CloudTrail, encode errors.
#[allow(clippy::too_many_arguments)]
pub fn call_rest_recorded(
    sb: &Sandbox,
    service: &dyn Service,
    caller: Caller,
    region: String,
    request_id: &str,
    req: &RestRequest,
    source_ip: &str,
    user_agent: &str,
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
        now: sb.clock.now(),
        protocol,
        resources: Vec::new(),
        response_elements: Some(J::Null),
    };
    let out = service.call_rest(&mut cx, op, req);
    if service.management_event(op) {
        let input = Input::Json(service.rest_request_parameters(op, req));
        let result = match &out {
            Ok(_) => Ok(Value::Null),
            Err(e) => Err(e.clone()),
        };
        cloudtrail::recorder::record(&cx, service, op, &input, &result, source_ip, user_agent);
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

/// Lower-case the first letter of every object key, dropping members named in `redact`
/// (secrets CloudTrail never logs).
pub fn camel_case_keys(v: &J, redact: &[&str]) -> J {
    match v {
        J::Object(m) => J::Object(
            m.iter()
                .filter(|(k, _)| !redact.contains(&k.as_str()))
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(f) => f.to_lowercase().chain(c).collect(),
                        None => String::new(),
                    };
                    (key, camel_case_keys(v, redact))
                })
                .collect(),
        ),
        J::Array(a) => J::Array(a.iter().map(|v| camel_case_keys(v, redact)).collect()),
        other => other.clone(),
    }
}

/// Every service the sandbox serves.
pub fn registry() -> Vec<Box<dyn Service>> {
    vec![
        Box::new(kms::Kms),
        Box::new(sts::Sts),
        Box::new(cloudtrail::CloudTrail),
        Box::new(cloudwatch::CloudWatch),
        Box::new(sns::Sns),
        Box::new(events::Events),
        Box::new(iam::Iam),
        Box::new(ec2::Ec2),
        Box::new(s3::S3),
        Box::new(cloudformation::CloudFormation),
    ]
}
