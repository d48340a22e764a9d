//! Machinery shared by the moto differential tests (`differential`, `differential_sns_events`,
//! `ec2_differential`, `iam_differential`, `cloudformation_differential`): the two [`Side`]s a
//! request goes to, the raw-response capture interceptor, answers as JSON ([`body`]), member
//! shapes ([`shape`]), botocore's models and the comparison report ([`report`]).

pub mod body;
pub mod report;
pub mod shape;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_kms::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use serde_json::Value as J;

pub use body::*;
pub use report::*;
pub use shape::*;

/// Keeps the raw body of the last response, so answers are compared as they came off the
/// wire rather than as the SDK's structs (which hide which members were present).
#[derive(Debug, Clone, Default)]
pub struct Capture(pub Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "capture-response-body"
    }
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = context.response().body().bytes().map(<[u8]>::to_vec);
        *self.0.lock().expect("capture lock") = body;
        Ok(())
    }
}

impl Capture {
    /// The body of the last response (empty when none was kept), clearing it.
    pub fn take_body(&self) -> Vec<u8> {
        self.0
            .lock()
            .expect("capture lock")
            .take()
            .unwrap_or_default()
    }
}

/// An SDK result as the raw body kept by `capture` (`Ok`), or the error code (`Err`).
pub fn raw_outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    capture: &Capture,
    r: &Result<T, SdkError<E, HttpResponse>>,
) -> Result<Vec<u8>, String> {
    match r {
        Ok(_) => Ok(capture.take_body()),
        Err(e) => Err(match (e.code(), e.raw_response()) {
            (Some(code), _) => code.to_string(),
            (None, Some(raw)) => {
                format!("HTTP {} without an error code", raw.status().as_u16())
            }
            (None, None) => format!("no answer ({e:?})"),
        }),
    }
}

/// What one side answered.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The body as JSON (an awsQuery answer: its `…Result` element as JSON), and for awsQuery
    /// whether the `…Result` element was there at all.
    Ok(J, Option<bool>),
    Err(String),
}

impl Outcome {
    pub fn label(&self) -> String {
        match self {
            Outcome::Ok(..) => "ok".to_string(),
            Outcome::Err(code) => code.clone(),
        }
    }
}

/// One of the two servers a differential test sends each request to: moto or the sandbox,
/// with a client of every service the tests compare (all of them capture their raw answers),
/// as the seeded learner without retries.
pub struct Side {
    /// `moto` or `sandbox`.
    pub name: &'static str,
    pub kms: aws_sdk_kms::Client,
    pub sts: aws_sdk_sts::Client,
    pub sns: aws_sdk_sns::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub iam: aws_sdk_iam::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub cfn: aws_sdk_cloudformation::Client,
    pub capture: Capture,
    /// How this side's answers read as JSON.
    pub dialect: Dialect,
    /// ARNs and ids this side handed out, by role.
    pub ids: BTreeMap<&'static str, String>,
    /// The last ciphertext KMS handed out.
    pub ciphertext: Option<Blob>,
}

/// A client of `$svc` for `$sdk` whose raw answers `$capture` keeps.
macro_rules! capturing {
    ($svc:ident, $sdk:expr, $capture:expr) => {
        $svc::Client::from_conf(
            $svc::config::Builder::from($sdk)
                .interceptor($capture.clone())
                .build(),
        )
    };
}

impl Side {
    pub async fn new(name: &'static str, endpoint: &str, dialect: Dialect) -> Side {
        let sdk = crate::common::learner_sdk(endpoint).await;
        let capture = Capture::default();
        Side {
            name,
            kms: capturing!(aws_sdk_kms, &sdk, capture),
            sts: capturing!(aws_sdk_sts, &sdk, capture),
            sns: capturing!(aws_sdk_sns, &sdk, capture),
            events: capturing!(aws_sdk_eventbridge, &sdk, capture),
            iam: capturing!(aws_sdk_iam, &sdk, capture),
            ec2: capturing!(aws_sdk_ec2, &sdk, capture),
            cfn: capturing!(aws_sdk_cloudformation, &sdk, capture),
            capture,
            dialect,
            ids: BTreeMap::new(),
            ciphertext: None,
        }
    }

    /// moto's side and the sandbox's, in the order [`both`] expects.
    pub async fn pair(moto: &str, sandbox: &str, dialect: Dialect) -> [Side; 2] {
        [
            Side::new("moto", moto, dialect).await,
            Side::new("sandbox", sandbox, dialect).await,
        ]
    }

    /// What this side recorded as `role`; panics when nothing was.
    pub fn id(&self, role: &str) -> String {
        self.ids
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{}: nothing recorded as '{role}'", self.name))
    }

    /// Record `value` (an id or ARN from an answer) as `role`, when there is one.
    pub fn keep(&mut self, role: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.ids.insert(role, v.to_string());
        }
    }

    /// This side's account: moto answers with its fixed one.
    pub fn account(&self) -> &'static str {
        if self.name == "moto" {
            MOTO_ACCOUNT
        } else {
            super::ACCOUNT
        }
    }

    /// Turn an SDK result into an outcome: the raw body as JSON, or the error code.
    pub fn outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        r: &Result<T, SdkError<E, HttpResponse>>,
    ) -> Outcome {
        match raw_outcome(&self.capture, r) {
            Ok(body) => {
                let (j, result_element) = self.dialect.parse(&body);
                Outcome::Ok(j, result_element)
            }
            Err(code) => Outcome::Err(code),
        }
    }
}

/// moto's fixed account.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// Run the same request on both sides: `$call` is an expression over `side` (a `&mut Side`).
/// Gives (moto's outcome, the sandbox's).
#[allow(unused_macros)]
macro_rules! both {
    ($sides:expr, |$side:ident| $call:expr) => {{
        let mut outs = Vec::new();
        for $side in $sides.iter_mut() {
            let r = $call;
            outs.push($side.outcome(&r));
        }
        let sandbox = outs.pop().unwrap();
        let moto = outs.pop().unwrap();
        (moto, sandbox)
    }};
}
#[allow(unused_imports)]
pub(crate) use both;

/// Send the same request to both sides ([`both`]) and compare the answers under `$check`.
#[allow(unused_macros)]
macro_rules! compare {
    ($report:expr, $sides:expr, $check:expr, |$side:ident| $call:expr) => {{
        let (m, s) = $crate::common::differential::both!($sides, |$side| $call);
        $report.compare($check, &m, &s);
    }};
}
#[allow(unused_imports)]
pub(crate) use compare;

/// A name or id a request carries: a fixed one, or one each side recorded under a role (see
/// [`Side::keep`]), since moto and the sandbox hand out different ids.
#[derive(Debug, Clone, Copy)]
pub enum Ref {
    Fixed(&'static str),
    Kept(&'static str),
}

impl Ref {
    pub fn on(self, side: &Side) -> String {
        match self {
            Ref::Fixed(name) => name.to_string(),
            Ref::Kept(role) => side.id(role),
        }
    }
}

/// A request a differential test sends to both sides, described by data (which operation,
/// which names), so that a test is a table of rows rather than a run of near-identical calls.
pub(crate) trait Request {
    /// Send the request to both sides: (moto's outcome, the sandbox's).
    async fn send(&self, sides: &mut [Side; 2]) -> (Outcome, Outcome);
}

/// Send each row's request to both sides in order and compare the answers under its check.
pub(crate) async fn run<'a, R: Request>(
    sides: &mut [Side; 2],
    report: &mut Report,
    rows: impl IntoIterator<Item = (R, Check<'a>)>,
) {
    for (request, check) in rows {
        let (m, s) = request.send(sides).await;
        report.compare(check, &m, &s);
    }
}
