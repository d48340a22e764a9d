//! The sandbox's control API (`/_sandbox/…`, not an AWS API): its paths, the request and
//! answer types, and the one client that speaks it. The server's routes
//! ([`super::admin`]) and every caller (the `kms-workshop sandbox` commands, the guided run)
//! use these types, so a path or a field is defined once.
//!
//! The client authenticates as the server asks ([`super::admin::Control`]): with the admin
//! token when it has one ([`AdminClient::with_token`]), else by signing with an identity's
//! keys ([`AdminClient::signed_as`]), which reads the clock and that identity's own messages.

use serde::{Deserialize, Serialize};

use crate::services::sns::OutboxMessage;

/// The paths of the control API.
pub mod path {
    pub const HEALTH: &str = "/_sandbox/health";
    pub const CLOCK: &str = "/_sandbox/clock";
    pub const CLOCK_ADVANCE: &str = "/_sandbox/clock/advance";
    pub const CREDENTIALS: &str = "/_sandbox/credentials";
    pub const OUTBOX: &str = "/_sandbox/outbox";
    pub const LEARNERS: &str = "/_sandbox/learners";
    pub const LEARNERS_RESET: &str = "/_sandbox/learners/reset";
    pub const RESET: &str = "/_sandbox/reset";
    pub const RULES: &str = "/_sandbox/rules";
    pub const SNS_SIGNING_KEY: &str = "/_sandbox/sns/signing-key.pem";
    pub const FAULTS: &str = "/_sandbox/faults";
    pub const CONSOLE_LINK: &str = "/_sandbox/console/link";
}

/// Every endpoint, as the 404 of an unknown control path lists them.
pub const ENDPOINTS: [&str; 14] = [
    "GET /_sandbox/health",
    "GET /_sandbox/clock",
    "POST /_sandbox/clock/advance?seconds=N",
    "GET /_sandbox/credentials",
    "GET /_sandbox/outbox?after=SEQ&account=ID",
    "GET /_sandbox/learners",
    "POST /_sandbox/learners/reset?learner=K",
    "POST /_sandbox/reset",
    "GET /_sandbox/rules",
    "GET /_sandbox/sns/signing-key.pem",
    "GET /_sandbox/faults",
    "POST /_sandbox/faults?throttle=P&error5xx=P&count=N",
    "DELETE /_sandbox/faults",
    "POST /_sandbox/console/link?learner=K",
];

/// `GET /_sandbox/health[?challenge=C]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub seed: String,
    /// `aws` when a client must treat the sandbox as AWS (`--realism aws`, or rules that are
    /// not live at once), else `instant`.
    #[serde(default)]
    pub realism: String,
    /// What the sandbox divides AWS's durations by.
    #[serde(default = "one")]
    pub time_scale: f64,
    /// With a challenge: [`health_proof`] of it, which only the holder of the admin token can
    /// make, so a client that holds the token knows it reached *that* sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// The answer to a health challenge: HMAC-SHA256 of it under the admin token, hex.
pub fn health_proof(token: &str, challenge: &str) -> String {
    hex::encode(crate::util::hmac_sha256(
        token.as_bytes(),
        &[b"kms-workshop-sandbox-health:", challenge.as_bytes()],
    ))
}

/// `GET /_sandbox/clock` and the answer of an advance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockView {
    /// The sandbox's time, RFC 3339.
    pub now: String,
    pub offset_seconds: f64,
}

/// `POST /_sandbox/clock/advance?seconds=N` (or a JSON body `{"seconds": N}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AdvanceQuery {
    /// Kept as text so that a bad value gets the API's own message, naming the parameter.
    pub seconds: Option<String>,
}

/// `GET /_sandbox/outbox?after=SEQ&account=ID`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutboxQuery {
    pub after: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxView {
    pub messages: Vec<OutboxMessage>,
}

/// One identity's keys, as `GET /_sandbox/credentials` lists them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialView {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub account: String,
    pub arn: String,
    pub username: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialsView {
    pub credentials: Vec<CredentialView>,
}

/// One learner's account and keys (`GET /_sandbox/learners`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearnerView {
    pub number: u32,
    pub account: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub instance_access_key_id: String,
    pub instance_secret_access_key: String,
    pub instance_session_token: String,
}

/// The instructor's account, keys and the role it assumes in learner accounts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstructorView {
    pub account: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearnersView {
    pub learners: Vec<LearnerView>,
    pub instructor: Option<InstructorView>,
}

/// `POST /_sandbox/learners/reset?learner=K`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResetQuery {
    pub learner: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetView {
    pub learner: u32,
    pub account: String,
    pub reset: bool,
}

/// `POST /_sandbox/reset`: every learner's account, back at its starting state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetAllView {
    pub learners: Vec<ResetView>,
}

/// `POST /_sandbox/faults?throttle=P&error5xx=P&count=N`: the fractions of AWS calls refused,
/// for the next `count` calls only when it is given.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FaultQuery {
    pub throttle: Option<String>,
    pub error5xx: Option<String>,
    pub count: Option<String>,
}

/// The fault rates in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultRates {
    pub throttle: f64,
    pub error5xx: f64,
    /// How many more AWS calls the rates apply to (they clear themselves after the last); none:
    /// until `DELETE /_sandbox/faults`. A later change without a count keeps this one.
    /// `error5xx=1&count=3` fails exactly the next three calls, which a test of retries can
    /// count on where a fraction only makes failure likely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// `POST /_sandbox/console/link?learner=K`: a one-time sign-in link to the console. The admin
/// token's holder may ask for any learner's; a learner's signed request gets their own.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConsoleLinkQuery {
    pub learner: Option<String>,
    /// `true`: the instructor's link (admin token only, classroom only).
    pub instructor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsoleLinkView {
    /// Open it in a browser; it works once.
    pub url: String,
    /// The learner it signs in (0: the instructor), and their account.
    pub learner: u32,
    pub account: String,
    pub expires_in_seconds: u64,
}

/// What a refused control call answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<String>>,
}

/// Why a control call failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot reach the sandbox at {endpoint}: {source}")]
    Unreachable {
        endpoint: String,
        source: reqwest::Error,
    },
    #[error("the sandbox at {endpoint} refused {what} ({status}): {message}")]
    Refused {
        endpoint: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("cannot sign the request to {endpoint}: {message}")]
    Signing { endpoint: String, message: String },
    #[error("{endpoint}{path} did not answer like a kms-workshop sandbox: {source}")]
    NotASandbox {
        endpoint: String,
        path: String,
        source: reqwest::Error,
    },
}

/// The client of the control API of a sandbox served at `endpoint`.
#[derive(Clone)]
pub struct AdminClient {
    endpoint: String,
    http: reqwest::Client,
    token: Option<String>,
    signer: Option<(aws_credential_types::Credentials, String)>,
}

/// The region of an admin-signed control call's credential scope (any would do).
const ADMIN_REGION: &str = "us-east-1";

/// The service name a signed control call's credential scope carries.
pub const SIGNING_NAME: &str = "sandbox";

// Hand-written so the token and keys never reach a log line.
impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    pub fn new(endpoint: &str) -> Self {
        // No redirects: a redirect elsewhere would carry the token there.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        AdminClient {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            http,
            token: None,
            signer: None,
        }
    }

    /// Send the admin token with every call.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// Sign calls with these keys (SigV4, `region`) when there is no admin token.
    pub fn signed_as(
        mut self,
        credentials: aws_credential_types::Credentials,
        region: &str,
    ) -> Self {
        self.signer = Some((credentials, region.to_string()));
        self
    }

    /// Whether calls carry the admin token.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether a kms-workshop sandbox answers at the endpoint (within a few seconds).
    pub async fn health(&self) -> Result<Health, AdminError> {
        let req = self
            .http
            .get(self.url(path::HEALTH))
            .timeout(std::time::Duration::from_secs(3));
        self.send(req, path::HEALTH, "the health check").await
    }

    /// Whether the endpoint answers the health check as a kms-workshop sandbox (anything can
    /// say so: enough to offer a sandbox's conveniences, not to skip a confirmation).
    pub async fn is_sandbox(&self) -> bool {
        matches!(self.health().await, Ok(h) if h.status == "ok")
    }

    /// Whether the endpoint proves it is the sandbox whose admin token this client holds (it
    /// answers a fresh challenge as only the token's holder can); `false` without a token.
    pub async fn is_own_sandbox(&self) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        let challenge = crate::util::random_secret();
        let req = self
            .http
            .get(self.url(path::HEALTH))
            .query(&[("challenge", challenge.as_str())])
            .timeout(std::time::Duration::from_secs(3));
        match self
            .send::<Health>(req, path::HEALTH, "the health check")
            .await
        {
            Ok(h) => h.proof.is_some_and(|p| {
                crate::access::token_matches(&health_proof(token, &challenge), &p)
            }),
            Err(_) => false,
        }
    }

    pub async fn clock(&self) -> Result<ClockView, AdminError> {
        self.send(
            self.http.get(self.url(path::CLOCK)),
            path::CLOCK,
            "reading its clock",
        )
        .await
    }

    /// Move the sandbox clock forward by `seconds` and let what is due happen.
    pub async fn advance_clock(&self, seconds: f64) -> Result<ClockView, AdminError> {
        let req = self
            .http
            .post(self.url(path::CLOCK_ADVANCE))
            .query(&[("seconds", seconds.to_string())]);
        self.send(req, path::CLOCK_ADVANCE, "moving its clock")
            .await
    }

    pub async fn credentials(&self) -> Result<CredentialsView, AdminError> {
        let req = self.http.get(self.url(path::CREDENTIALS));
        self.send(req, path::CREDENTIALS, "listing its credentials")
            .await
    }

    pub async fn learners(&self) -> Result<LearnersView, AdminError> {
        let req = self.http.get(self.url(path::LEARNERS));
        self.send(req, path::LEARNERS, "listing its learners").await
    }

    /// Put learner `k`'s account back at its starting state.
    pub async fn reset_learner(&self, k: u32) -> Result<ResetView, AdminError> {
        let req = self
            .http
            .post(self.url(path::LEARNERS_RESET))
            .query(&[("learner", k.to_string())]);
        self.send(req, path::LEARNERS_RESET, "the reset").await
    }

    /// Put every learner's account back at its starting state.
    pub async fn reset_all(&self) -> Result<ResetAllView, AdminError> {
        let req = self.http.post(self.url(path::RESET));
        self.send(req, path::RESET, "the reset").await
    }

    /// Messages after sequence number `after`, of one account or all.
    pub async fn outbox(
        &self,
        after: u64,
        account: Option<&str>,
    ) -> Result<Vec<OutboxMessage>, AdminError> {
        let mut query = vec![("after", after.to_string())];
        if let Some(a) = account {
            query.push(("account", a.to_string()));
        }
        let req = self.http.get(self.url(path::OUTBOX)).query(&query);
        let view: OutboxView = self.send(req, path::OUTBOX, "reading its outbox").await?;
        Ok(view.messages)
    }

    /// A one-time console sign-in link for learner `k` (`None`: the signing learner's own, or
    /// with the admin token learner 1's).
    pub async fn console_link(&self, k: Option<u32>) -> Result<ConsoleLinkView, AdminError> {
        let query: Vec<(&str, String)> =
            k.map(|k| ("learner", k.to_string())).into_iter().collect();
        self.link(&query).await
    }

    /// A one-time sign-in link to the instructor's console (the class view).
    pub async fn instructor_console_link(&self) -> Result<ConsoleLinkView, AdminError> {
        self.link(&[("instructor", "true".to_string())]).await
    }

    async fn link(&self, query: &[(&str, String)]) -> Result<ConsoleLinkView, AdminError> {
        let req = self.http.post(self.url(path::CONSOLE_LINK)).query(&query);
        self.send(req, path::CONSOLE_LINK, "a console sign-in link")
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    /// The request with what proves who sends it: the admin token, else a signature; nothing
    /// for the health check (which is public, and asked before the endpoint is known to be a
    /// sandbox at all).
    fn authenticated(
        &self,
        req: reqwest::RequestBuilder,
        path: &str,
    ) -> Result<reqwest::Request, AdminError> {
        let signing = |message: String| AdminError::Signing {
            endpoint: self.endpoint.clone(),
            message,
        };
        let mut req = req.build().map_err(|e| signing(e.to_string()))?;
        if path == path::HEALTH {
            return Ok(req);
        }
        if let Some(token) = &self.token {
            // Signed with the token, never sent: a network between here and there sees only
            // a signature for this one request.
            let keys = aws_credential_types::Credentials::new(
                crate::access::ADMIN_KEY_ID,
                token,
                None,
                None,
                "kms-workshop-admin",
            );
            sign(&mut req, &keys, ADMIN_REGION).map_err(signing)?;
        } else if let Some((credentials, region)) = &self.signer {
            sign(&mut req, credentials, region).map_err(signing)?;
        }
        Ok(req)
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        path: &str,
        what: &str,
    ) -> Result<T, AdminError> {
        let req = self.authenticated(req, path)?;
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|source| AdminError::Unreachable {
                endpoint: self.endpoint.clone(),
                source,
            })?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            let message = serde_json::from_str::<ErrorBody>(&text)
                .map(|e| e.error)
                .unwrap_or(text);
            return Err(AdminError::Refused {
                endpoint: self.endpoint.clone(),
                what: what.to_string(),
                status: status.as_u16(),
                message,
            });
        }
        resp.json().await.map_err(|source| AdminError::NotASandbox {
            endpoint: self.endpoint.clone(),
            path: path.to_string(),
            source,
        })
    }
}

/// Sign a bodiless control call with SigV4 as `credentials` would sign an AWS request.
fn sign(
    req: &mut reqwest::Request,
    credentials: &aws_credential_types::Credentials,
    region: &str,
) -> Result<(), String> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?;
    let url = req.url();
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let headers = [("host", host.as_str())];
    let signable = SignableRequest::new(
        req.method().as_str(),
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params.into())
        .map_err(|e| e.to_string())?
        .into_parts();
    for (name, value) in instructions.headers() {
        let value = value.parse().map_err(|_| format!("bad {name} header"))?;
        let name =
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        req.headers_mut().insert(name, value);
    }
    Ok(())
}
