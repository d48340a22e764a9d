//! A typed view of one CloudTrail record (the `CloudTrailEvent` JSON of `LookupEvents`).
//!
//! Records differ by service, identity type and event version, and fields come and go; every
//! member here is optional and a member of an unexpected type reads as absent, so a record never
//! fails to parse as long as it is a JSON object.

use std::collections::BTreeMap;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The caller of a role session: the role (`sessionContext.sessionIssuer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionIssuer {
    /// `Role` for role sessions.
    pub kind: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    /// The role name.
    pub user_name: Option<String>,
}

/// Who made the call (`userIdentity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserIdentity {
    /// `IAMUser`, `AssumedRole`, `Root`, `AWSService`, …
    pub kind: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    /// Present for IAM users and root.
    pub user_name: Option<String>,
    /// Present for role sessions.
    pub session_issuer: Option<SessionIssuer>,
    /// `sessionContext.attributes.mfaAuthenticated`.
    pub mfa_authenticated: Option<bool>,
    /// For calls AWS services make on the caller's behalf.
    pub invoked_by: Option<String>,
}

impl UserIdentity {
    /// The name the console's "User name" column shows: the IAM user name, or for a role
    /// session its session name (the last part of the assumed-role ARN; on the workshop's EC2
    /// instance, the instance id).
    pub fn display_name(&self) -> Option<String> {
        if let Some(u) = &self.user_name {
            return Some(u.clone());
        }
        if self.kind.as_deref() == Some("AssumedRole") {
            if let Some(session) = self.arn.as_deref().and_then(|a| a.rsplit('/').next()) {
                return Some(session.to_string());
            }
        }
        self.invoked_by.clone()
    }
}

/// One resource a record names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordResource {
    pub arn: Option<String>,
    pub account_id: Option<String>,
    /// e.g. `AWS::KMS::Key`.
    pub kind: Option<String>,
}

/// A CloudTrail record: who, what, how, when, and its ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloudTrailRecord {
    pub event_version: Option<String>,
    // who
    pub user_identity: UserIdentity,
    // what
    pub event_name: Option<String>,
    pub event_source: Option<String>,
    pub aws_region: Option<String>,
    pub request_parameters: Option<Value>,
    pub response_elements: Option<Value>,
    pub resources: Vec<RecordResource>,
    pub read_only: Option<bool>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub event_type: Option<String>,
    pub management_event: Option<bool>,
    pub event_category: Option<String>,
    pub recipient_account_id: Option<String>,
    // how
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    // when
    pub event_time: Option<OffsetDateTime>,
    // ids
    pub request_id: Option<String>,
    pub event_id: Option<String>,
    /// The whole record, for anything not modelled here.
    pub raw: Value,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A boolean, also when a producer wrote it as the string `"true"`/`"false"`.
fn b(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(t) if t.eq_ignore_ascii_case("true") => Some(true),
        Value::String(t) if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn object(v: &Value, key: &str) -> Option<Value> {
    v.get(key).filter(|x| !x.is_null()).cloned()
}

impl CloudTrailRecord {
    /// Parse the `CloudTrailEvent` text of a lookup result.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let v: Value = serde_json::from_str(text)?;
        Ok(Self::from_value(v))
    }

    /// Read a record out of its JSON; anything missing or mistyped reads as absent.
    pub fn from_value(v: Value) -> Self {
        let ui = v.get("userIdentity").cloned().unwrap_or(Value::Null);
        let ctx = ui.get("sessionContext").cloned().unwrap_or(Value::Null);
        let issuer = ctx
            .get("sessionIssuer")
            .filter(|i| i.is_object())
            .map(|i| SessionIssuer {
                kind: s(i, "type"),
                principal_id: s(i, "principalId"),
                arn: s(i, "arn"),
                account_id: s(i, "accountId"),
                user_name: s(i, "userName"),
            });
        let user_identity = UserIdentity {
            kind: s(&ui, "type"),
            principal_id: s(&ui, "principalId"),
            arn: s(&ui, "arn"),
            account_id: s(&ui, "accountId"),
            access_key_id: s(&ui, "accessKeyId"),
            user_name: s(&ui, "userName"),
            session_issuer: issuer,
            mfa_authenticated: ctx.get("attributes").and_then(|a| b(a, "mfaAuthenticated")),
            invoked_by: s(&ui, "invokedBy"),
        };
        let resources = v
            .get("resources")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .map(|r| RecordResource {
                        arn: s(r, "ARN").or_else(|| s(r, "arn")),
                        account_id: s(r, "accountId"),
                        kind: s(r, "type"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        CloudTrailRecord {
            event_version: s(&v, "eventVersion"),
            user_identity,
            event_name: s(&v, "eventName"),
            event_source: s(&v, "eventSource"),
            aws_region: s(&v, "awsRegion"),
            request_parameters: object(&v, "requestParameters"),
            response_elements: object(&v, "responseElements"),
            resources,
            read_only: b(&v, "readOnly"),
            error_code: s(&v, "errorCode"),
            error_message: s(&v, "errorMessage"),
            event_type: s(&v, "eventType"),
            management_event: b(&v, "managementEvent"),
            event_category: s(&v, "eventCategory"),
            recipient_account_id: s(&v, "recipientAccountId"),
            source_ip_address: s(&v, "sourceIPAddress"),
            user_agent: s(&v, "userAgent"),
            event_time: s(&v, "eventTime").and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok()),
            request_id: s(&v, "requestID"),
            event_id: s(&v, "eventID"),
            raw: v,
        }
    }

    fn param(&self, key: &str) -> Option<&Value> {
        self.request_parameters.as_ref()?.get(key)
    }

    /// `requestParameters.encryptionContext` (string values only).
    pub fn encryption_context(&self) -> Option<BTreeMap<String, String>> {
        let ctx = self.param("encryptionContext")?.as_object()?;
        Some(
            ctx.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect(),
        )
    }

    /// `requestParameters.keySpec`, e.g. `AES_256`.
    pub fn key_spec(&self) -> Option<&str> {
        self.param("keySpec")?.as_str()
    }

    /// `requestParameters.keyId`: the key as the caller named it (often an alias).
    pub fn key_id_parameter(&self) -> Option<&str> {
        self.param("keyId")?.as_str()
    }

    /// The ARNs of the resources of a type (e.g. `AWS::KMS::Key`: the resolved key).
    pub fn resource_arns(&self, kind: &str) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|r| r.kind.as_deref() == Some(kind))
            .filter_map(|r| r.arn.as_deref())
            .collect()
    }

    /// Whether the call failed (the record carries an error code).
    pub fn failed(&self) -> bool {
        self.error_code.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_session_record() {
        let text = r#"{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","principalId":"AROA:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/KMSWorkshop-InstanceInitRole/i-0abc","accountId":"111122223333","accessKeyId":"ASIAX","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::111122223333:role/KMSWorkshop-InstanceInitRole","accountId":"111122223333","userName":"KMSWorkshop-InstanceInitRole"},"attributes":{"creationDate":"2026-01-01T00:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2026-11-28T10:00:00Z","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1","userAgent":"aws-cli/2","requestParameters":{"keyId":"alias/ImportedCMK","keySpec":"AES_256","encryptionContext":{"project":"workshop"}},"responseElements":null,"requestID":"r-1","eventID":"e-1","readOnly":true,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k3"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}"#;
        let r = CloudTrailRecord::parse(text).expect("valid JSON");
        assert_eq!(r.user_identity.display_name().as_deref(), Some("i-0abc"));
        let issuer = r.user_identity.session_issuer.clone().unwrap_or_default();
        assert_eq!(
            issuer.user_name.as_deref(),
            Some("KMSWorkshop-InstanceInitRole")
        );
        assert_eq!(r.user_identity.mfa_authenticated, Some(false));
        assert_eq!(r.key_spec(), Some("AES_256"));
        assert_eq!(r.key_id_parameter(), Some("alias/ImportedCMK"));
        assert_eq!(
            r.encryption_context()
                .unwrap_or_default()
                .get("project")
                .map(String::as_str),
            Some("workshop")
        );
        assert_eq!(
            r.resource_arns("AWS::KMS::Key"),
            vec!["arn:aws:kms:us-east-1:111122223333:key/k3"]
        );
        assert_eq!(r.response_elements, None);
        assert_eq!(r.read_only, Some(true));
        assert_eq!(r.request_id.as_deref(), Some("r-1"));
        assert_eq!(
            r.event_time.map(|t| t.unix_timestamp()),
            Some(1_795_860_000)
        );
        assert!(!r.failed());
    }

    #[test]
    fn missing_and_mistyped_fields_read_as_absent() {
        let r = CloudTrailRecord::parse(r#"{"eventName":5,"readOnly":"false","resources":"x","userIdentity":null,"eventTime":"yesterday"}"#)
            .expect("valid JSON");
        assert_eq!(r.event_name, None);
        assert_eq!(r.read_only, Some(false));
        assert!(r.resources.is_empty());
        assert_eq!(r.user_identity, UserIdentity::default());
        assert_eq!(r.event_time, None);
        assert_eq!(r.encryption_context(), None);
        assert!(CloudTrailRecord::parse("not json").is_err());
    }
}
