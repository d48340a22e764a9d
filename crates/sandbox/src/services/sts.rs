//! STS (awsQuery): `GetCallerIdentity`, which tells learners and the runner who they are, and
//! `AssumeRole`, with which a classroom's instructor (or any principal a role's trust policy
//! names) works in another account on temporary credentials.

use time::Duration;

use super::{About, Call, Service, TrailResource};
use crate::common::policy::{self, Request};
use crate::identity::{Credential, Principal};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub struct Sts;

/// What is fixed about the service (names, protocol, scope).
const ABOUT: About = About::new("sts", "sts.amazonaws.com", Protocol::AwsQuery)
    .xmlns("https://sts.amazonaws.com/doc/2011-06-15/")
    .global()
    .read_only(&["GetCallerIdentity"]);

impl Service for Sts {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        match op {
            "GetCallerIdentity" => Ok(Value::obj()
                .with("UserId", cx.caller.user_id())
                .with("Account", cx.caller.account.clone())
                .with("Arn", cx.caller.arn())),
            "AssumeRole" => assume_role(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

/// The shape of AssumeRole's role ARN and session name.
fn check_names(role_arn: &str, session: &str) -> Result<(), AwsError> {
    if !(2..=64).contains(&session.len())
        || !session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64"
        )));
    }
    if role_arn.len() < 20 {
        return Err(validation(format!(
            "1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        )));
    }
    Ok(())
}

/// A session lasts from 15 minutes to the role's maximum (at least an hour).
fn check_duration(duration: i64, max_session_duration: i64) -> Result<(), AwsError> {
    if duration < 900 {
        return Err(validation(format!(
            "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )));
    }
    if duration > max_session_duration.max(3600) {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    Ok(())
}

/// Session tags as STS checks them beyond the model: every transitive key is one of the tags
/// (tag keys compare without regard to case).
fn check_session_tags(input: &Input) -> Result<(), AwsError> {
    let keys: Vec<String> = input
        .list("Tags")?
        .iter()
        .map(|t| Ok(t.str("Key")?.unwrap_or_default().to_lowercase()))
        .collect::<Result<_, AwsError>>()?;
    let transitive = input.str_list("TransitiveTagKeys")?;
    if transitive.iter().any(|k| !keys.contains(&k.to_lowercase())) {
        return Err(AwsError::new(
            400,
            "InvalidParameterValue",
            "The specified transitive tag key must be included in the requested tags.",
        ));
    }
    Ok(())
}

fn assume_role(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let role_arn = input.req_str("RoleArn")?;
    let session = input.req_str("RoleSessionName")?;
    check_names(&role_arn, &session)?;
    check_session_tags(input)?;
    let external_id = input.str("ExternalId")?;
    let denied = || {
        AwsError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                cx.caller.arn()
            ),
        )
    };
    // arn:aws:iam::<account>:role/<path/><name>
    let Some((account, name)) = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .map(|(a, p)| (a.to_string(), p.rsplit('/').next().unwrap_or(p).to_string()))
    else {
        return Err(validation(format!("{role_arn} is invalid")));
    };
    let role = super::iam::role(cx.sandbox, &account, &name).ok_or_else(denied)?;
    // IAM is eventually consistent: STS sees a role just created only some seconds later.
    let config = &cx.sandbox.config;
    if cx.now < role.created + config.scaled(config.realism.iam_propagation) {
        return Err(denied());
    }
    if !trusts(
        &role.assume_role_policy,
        &cx.caller.account,
        &cx.caller.arn(),
        external_id.as_deref(),
    ) {
        return Err(denied());
    }
    let duration = input.int("DurationSeconds")?.unwrap_or(3600);
    check_duration(duration, role.max_session_duration)?;
    let expires = cx.now + Duration::seconds(duration);
    let key = format!(
        "ASIA{}",
        crate::util::random_id(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    );
    let secret = crate::util::random_id(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    );
    let token = format!(
        "FwoGZXIvYXdzE{}",
        crate::util::random_id(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            120
        )
    );
    let created = crate::util::iso8601_secs(cx.now);
    cx.sandbox.add_credential(Credential {
        access_key_id: key.clone(),
        secret_access_key: secret.clone(),
        session_token: Some(token.clone()),
        account: account.clone(),
        principal: Principal::AssumedRole {
            role_name: role.name.clone(),
            role_id: role.id.clone(),
            session_name: session.clone(),
            created,
        },
        expires_ms: Some((expires.unix_timestamp_nanos() / 1_000_000) as i64),
        console_since: None,
    })?;
    cx.resources.push(TrailResource {
        arn: role.arn.clone(),
        resource_type: "AWS::IAM::Role".into(),
    });
    let assumed_arn = format!(
        "arn:aws:sts::{account}:assumed-role/{}/{session}",
        role.name
    );
    Ok(Value::obj()
        .with(
            "Credentials",
            Value::obj()
                .with("AccessKeyId", key)
                .with("SecretAccessKey", secret)
                .with("SessionToken", token)
                .with("Expiration", Value::Time(expires)),
        )
        .with(
            "AssumedRoleUser",
            Value::obj()
                .with("AssumedRoleId", format!("{}:{session}", role.id))
                .with("Arn", assumed_arn),
        ))
}

/// Whether a trust policy lets `caller_arn` (of `caller_account`) assume the role: a statement
/// allowing `sts:AssumeRole` to the account (id or root ARN), the caller, or `*`, whose
/// `sts:ExternalId` condition (if any) matches, and no statement denying it.
fn trusts(policy: &str, caller_account: &str, caller_arn: &str, external_id: Option<&str>) -> bool {
    policy::allows(
        policy,
        &Request {
            caller: policy::Caller::Identity {
                account: caller_account,
                arn: caller_arn,
            },
            action: "sts:AssumeRole",
            resource: None,
            context: &[("sts:ExternalId", external_id)],
        },
    )
}

#[cfg(test)]
mod tests {
    use super::trusts;

    #[test]
    fn trust_policies() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#;
        assert!(trusts(
            p,
            "999988887777",
            "arn:aws:iam::999988887777:user/i",
            None
        ));
        assert!(!trusts(
            p,
            "111122223333",
            "arn:aws:iam::111122223333:user/i",
            None
        ));
        let ext = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["999988887777"]},"Action":["sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}}"#;
        assert!(trusts(ext, "999988887777", "a", Some("x1")));
        assert!(!trusts(ext, "999988887777", "a", Some("x2")));
        assert!(!trusts(ext, "999988887777", "a", None));
        let ec2 = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts(ec2, "111122223333", "a", None));
        assert!(!trusts("not json", "1", "a", None));
    }
}
