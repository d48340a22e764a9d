//! One module per AWS service. Each implements [`Service`] over the shared protocol layer: it
//! receives a decoded operation and [`Input`], works on its state through the [`Call`], and
//! returns a [`Value`] or an [`AwsError`]; the server encodes either in the client's protocol
//! and the CloudTrail recorder logs the call.

pub mod cloudtrail;
pub mod ec2;
pub mod events;
pub mod iam;
pub mod kms;
pub mod sns;
pub mod sts;

use http::HeaderMap;
use serde_json::Value as J;
use time::OffsetDateTime;

use crate::identity::Caller;
use crate::protocol::{AwsError, Input, Protocol, Value};
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
        ["Describe", "Get", "List", "Lookup"].iter().any(|p| op.starts_with(p))
    }
    /// `requestParameters` as AWS logs them; the default is the input with camel-cased names.
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        camel_case_keys(&input.to_json(), &[])
    }
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
    vec![Box::new(kms::Kms), Box::new(sts::Sts), Box::new(cloudtrail::CloudTrail), Box::new(sns::Sns), Box::new(events::Events), Box::new(iam::Iam), Box::new(ec2::Ec2)]
}
