//! Who is calling: the sandbox's known credentials and the principals behind them, and how each
//! principal appears in STS answers and CloudTrail records.

use serde::{Deserialize, Serialize};

/// A principal that can sign requests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Principal {
    IamUser {
        name: String,
        user_id: String,
    },
    AssumedRole {
        role_name: String,
        role_id: String,
        session_name: String,
        created: String,
    },
}

/// One access key the sandbox accepts.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub account: String,
    pub principal: Principal,
    /// When temporary credentials (STS AssumeRole) stop working, in sandbox-clock milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
    /// For a console session's credential ([`crate::console_signin`]): when the session began
    /// (ISO 8601). CloudTrail marks such calls as AWS marks console calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_since: Option<String>,
}

/// What a signature is checked against: an access key and its secret, borrowed (from a
/// credential, or from a copy of its secret taken out of the world's lock).
#[derive(Clone, Copy)]
pub struct AccessKey<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
}

impl Credential {
    pub fn access_key(&self) -> AccessKey<'_> {
        AccessKey {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
        }
    }
}

// Hand-written so secrets never reach a log line.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("account", &self.account)
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// The resolved caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub access_key_id: String,
    pub account: String,
    pub principal: Principal,
    /// When the console session this call comes from began; `None` for keys used directly.
    pub console_since: Option<String>,
}

impl Caller {
    pub fn arn(&self) -> String {
        match &self.principal {
            Principal::IamUser { name, .. } => format!("arn:aws:iam::{}:user/{name}", self.account),
            Principal::AssumedRole {
                role_name,
                session_name,
                ..
            } => {
                format!(
                    "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                    self.account
                )
            }
        }
    }

    /// STS's `UserId`.
    pub fn user_id(&self) -> String {
        match &self.principal {
            Principal::IamUser { user_id, .. } => user_id.clone(),
            Principal::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
        }
    }

    /// The name CloudTrail's event history shows and filters on as "User name": the IAM user's
    /// name, or a role session's name (for the workshop's instance role, the instance id).
    pub fn username(&self) -> &str {
        match &self.principal {
            Principal::IamUser { name, .. } => name,
            Principal::AssumedRole { session_name, .. } => session_name,
        }
    }

    /// The record's `userIdentity` block, written straight from the caller (a record is
    /// written on every call: nothing is built only to be serialised).
    pub fn user_identity(&self) -> UserIdentity<'_> {
        let (kind, principal_id, user_name, session_context) = match &self.principal {
            Principal::IamUser { name, user_id } => (
                "IAMUser",
                std::borrow::Cow::Borrowed(user_id.as_str()),
                Some(name.as_str()),
                // A console session signs with temporary keys, which CloudTrail describes.
                self.console_since.as_deref().map(|since| SessionContext {
                    session_issuer: Issuer::default(),
                    web_id_federation_data: Some(Empty {}),
                    attributes: Attributes::at(since),
                    ec2_role_delivery: None,
                }),
            ),
            Principal::AssumedRole {
                role_name,
                role_id,
                session_name,
                created,
            } => (
                "AssumedRole",
                std::borrow::Cow::Owned(format!("{role_id}:{session_name}")),
                None,
                Some(SessionContext {
                    session_issuer: Issuer {
                        kind: Some("Role"),
                        principal_id: Some(role_id),
                        arn: Some(format!("arn:aws:iam::{}:role/{role_name}", self.account)),
                        account_id: Some(&self.account),
                        user_name: Some(role_name),
                    },
                    web_id_federation_data: None,
                    attributes: Attributes::at(created),
                    // Credentials delivered by the EC2 instance metadata service say so.
                    ec2_role_delivery: session_name.starts_with("i-").then_some("2.0"),
                }),
            ),
        };
        UserIdentity {
            kind,
            principal_id,
            arn: self.arn(),
            account_id: &self.account,
            access_key_id: &self.access_key_id,
            user_name,
            session_context,
        }
    }
}

/// A CloudTrail record's `userIdentity` (members in CloudTrail's order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    principal_id: std::borrow::Cow<'a, str>,
    arn: String,
    account_id: &'a str,
    access_key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    session_issuer: Issuer<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_id_federation_data: Option<Empty>,
    attributes: Attributes<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ec2_role_delivery: Option<&'static str>,
}

/// The role a session was issued by; empty (`{}`) for a console user's own session.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Issuer<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
}

/// `{}`.
#[derive(Debug, Serialize)]
struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Attributes<'a> {
    creation_date: &'a str,
    mfa_authenticated: &'static str,
}

impl<'a> Attributes<'a> {
    fn at(creation_date: &'a str) -> Self {
        Attributes {
            creation_date,
            mfa_authenticated: "false",
        }
    }
}

impl From<&Credential> for Caller {
    fn from(c: &Credential) -> Self {
        Caller {
            access_key_id: c.access_key_id.clone(),
            account: c.account.clone(),
            principal: c.principal.clone(),
            console_since: c.console_since.clone(),
        }
    }
}

// The seeded identities as credentials (their names and key ids: `kms_workshop_names::sandbox`;
// their secrets: derived from the state's own random seed, below).
use kms_workshop_names::sandbox::{
    learner_of, INSTANCE_ID, INSTANCE_ROLE, INSTRUCTOR_ACCESS_KEY, INSTRUCTOR_ACCOUNT,
    INSTRUCTOR_USER, LEARNER_USER,
};

/// The seeded learner user's IAM id (STS `UserId`, CloudTrail `principalId`).
pub const LEARNER_USER_ID: &str = "AIDAWORKSHOPLEARNER01";
/// The workshop instance role's IAM id.
pub const INSTANCE_ROLE_ID: &str = "AROAWORKSHOPINSTANCE1";

/// A new random seed for a state's secrets (64 hexadecimal digits).
pub fn new_secret_seed() -> String {
    crate::util::random_secret()
}

/// The secret named `label` of a state whose seed is `seed`: HMAC-SHA256(seed, label), as
/// `len` base64 characters. Derived rather than stored one by one so that a learner whose
/// account is reset gets the same keys back, and unpredictable without the seed, which only
/// the state (a 0600 file) holds.
fn derived(seed: &str, label: &str, len: usize) -> String {
    use base64::Engine;
    let mut out = Vec::new();
    let mut block = 0u32;
    while out.len() * 4 / 3 < len {
        let parts: [&[u8]; 2] = [label.as_bytes(), &block.to_be_bytes()];
        out.extend_from_slice(&crate::util::hmac_sha256(seed.as_bytes(), &parts));
        block += 1;
    }
    let mut text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(out);
    text.truncate(len);
    text
}

/// The learner's IAM user credential in `account` (the seeded identity).
pub fn learner_credential(account: &str, seed: &str) -> Credential {
    let l = learner_of(account);
    Credential {
        secret_access_key: derived(seed, &format!("{account}/learner/secret"), 40),
        access_key_id: l.access_key_id,
        session_token: None,
        account: account.into(),
        principal: Principal::IamUser {
            name: LEARNER_USER.into(),
            user_id: LEARNER_USER_ID.into(),
        },
        expires_ms: None,
        console_since: None,
    }
}

/// The workshop instance's role-session credential in `account`, created at `created`.
pub fn instance_credential(account: &str, created: &str, seed: &str) -> Credential {
    let l = learner_of(account);
    Credential {
        secret_access_key: derived(seed, &format!("{account}/instance/secret"), 40),
        // Shaped like an STS session token (they start "IQoJb3JpZ2luX2Vj").
        session_token: Some(format!(
            "IQoJb3JpZ2luX2Vj{}",
            derived(seed, &format!("{account}/instance/token"), 96)
        )),
        access_key_id: l.instance_access_key_id,
        account: account.into(),
        principal: Principal::AssumedRole {
            role_name: INSTANCE_ROLE.into(),
            role_id: INSTANCE_ROLE_ID.into(),
            session_name: INSTANCE_ID.into(),
            created: created.into(),
        },
        expires_ms: None,
        console_since: None,
    }
}

/// The instructor's IAM user credential (classroom mode).
pub fn instructor_credential(seed: &str) -> Credential {
    Credential {
        access_key_id: INSTRUCTOR_ACCESS_KEY.into(),
        secret_access_key: derived(seed, "instructor/secret", 40),
        session_token: None,
        account: INSTRUCTOR_ACCOUNT.into(),
        principal: Principal::IamUser {
            name: INSTRUCTOR_USER.into(),
            user_id: "AIDAWORKSHOPINSTRUCT1".into(),
        },
        expires_ms: None,
        console_since: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_differ_by_seed_and_identity_and_are_stable() {
        let (a, b) = (new_secret_seed(), new_secret_seed());
        assert_ne!(a, b);
        let la = learner_credential("111122223333", &a);
        assert_eq!(la.secret_access_key.len(), 40);
        assert_eq!(
            la.secret_access_key,
            learner_credential("111122223333", &a).secret_access_key
        );
        assert_ne!(
            la.secret_access_key,
            learner_credential("111122223333", &b).secret_access_key
        );
        assert_ne!(
            la.secret_access_key,
            learner_credential("111122223334", &a).secret_access_key
        );
        let i = instance_credential("111122223333", "2026-01-01T00:00:00Z", &a);
        assert_ne!(i.secret_access_key, la.secret_access_key);
        assert!(i.session_token.unwrap().len() > 100);
        assert_ne!(
            instructor_credential(&a).secret_access_key,
            la.secret_access_key
        );
    }

    /// The three shapes of `userIdentity`, as CloudTrail writes them, member for member.
    #[test]
    fn user_identity_is_written_in_cloudtrails_shape_and_order() {
        let user = Caller {
            access_key_id: "AKIAEXAMPLE".into(),
            account: "111122223333".into(),
            principal: Principal::IamUser {
                name: "learner".into(),
                user_id: "AIDAEXAMPLE".into(),
            },
            console_since: None,
        };
        let text = |c: &Caller| serde_json::to_string(&c.user_identity()).unwrap();
        assert_eq!(
            text(&user),
            r#"{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/learner","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"learner"}"#
        );
        let console = Caller {
            console_since: Some("2026-01-01T00:00:00Z".into()),
            ..user.clone()
        };
        assert_eq!(
            text(&console),
            r#"{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/learner","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"learner","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"2026-01-01T00:00:00Z","mfaAuthenticated":"false"}}}"#
        );
        let role = |session: &str| Caller {
            access_key_id: "ASIAEXAMPLE".into(),
            account: "111122223333".into(),
            principal: Principal::AssumedRole {
                role_name: "R".into(),
                role_id: "AROAEXAMPLE".into(),
                session_name: session.into(),
                created: "2026-01-02T00:00:00Z".into(),
            },
            console_since: None,
        };
        let issued = r#""sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/R","accountId":"111122223333","userName":"R"},"attributes":{"creationDate":"2026-01-02T00:00:00Z","mfaAuthenticated":"false"}"#;
        assert_eq!(
            text(&role("s")),
            format!(
                r#"{{"type":"AssumedRole","principalId":"AROAEXAMPLE:s","arn":"arn:aws:sts::111122223333:assumed-role/R/s","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE",{issued}}}}}"#
            )
        );
        assert_eq!(
            text(&role("i-0abc")),
            format!(
                r#"{{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/R/i-0abc","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE",{issued},"ec2RoleDelivery":"2.0"}}}}"#
            )
        );
    }
}
