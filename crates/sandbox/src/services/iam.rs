//! IAM (awsQuery, global): roles (trust policy, tags, inline and attached managed policies),
//! customer-managed policies with up to five versions, the AWS-managed policies the workshop
//! uses (read-only, present in every account), instance profiles, users, and access keys that
//! really sign requests. Shapes follow botocore's model; codes and messages are AWS's.
//!
//! IAM is global: an account's state lives under its `us-east-1` region. Names of roles,
//! policies, instance profiles and users are unique regardless of case, as in AWS. Policy
//! documents are kept as submitted and returned URL-encoded (RFC 3986), as AWS returns them;
//! botocore decodes them, the Rust SDK hands the encoded string to the caller.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use http::HeaderMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as J};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{camel_case_keys, Call, Service, TrailResource};
use crate::identity::{Credential, Principal};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct Iam;

/// Where IAM's (global) state is kept in every account.
pub const HOME_REGION: &str = "us-east-1";

/// IAM state of one account (kept under the account's `us-east-1` entry: IAM is global).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IamState {
    /// By lower-cased role name.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// Customer-managed policies, by lower-cased policy name.
    #[serde(default)]
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// By lower-cased instance profile name.
    #[serde(default)]
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
    /// By lower-cased user name.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// By access key id.
    #[serde(default)]
    pub access_keys: BTreeMap<String, AccessKey>,
}

impl RegionalState for IamState {
    const NAME: &'static str = "iam";
    fn of(region: &Region) -> &Self {
        &region.iam
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.iam
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The trust policy as submitted.
    pub assume_role_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_duration: i64,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// ARNs of the attached managed policies, in attachment order.
    #[serde(default)]
    pub attached: Vec<String>,
    /// Inline policies: name → document as submitted.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used: Option<OffsetDateTime>,
    #[serde(default)]
    pub last_used_region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub default_version: String,
    /// The number the next version gets (ids are never reused).
    pub next_version: u32,
    pub versions: Vec<PolicyVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Lower-cased names of the roles in it (AWS allows one).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub attached: Vec<String>,
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    /// Lower-cased name of the owning user.
    pub user: String,
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}

// ---------------------------------------------------------------------------------------------
// Errors, as IAM spells them.

fn no_such(msg: impl Into<String>) -> AwsError {
    AwsError::new(404, "NoSuchEntity", msg)
}

fn already_exists(msg: impl Into<String>) -> AwsError {
    AwsError::new(409, "EntityAlreadyExists", msg)
}

fn delete_conflict(msg: impl Into<String>) -> AwsError {
    AwsError::new(409, "DeleteConflict", msg)
}

fn limit(msg: impl Into<String>) -> AwsError {
    AwsError::new(409, "LimitExceeded", msg)
}

fn malformed(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "MalformedPolicyDocument", msg)
}

fn invalid_input(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidInput", msg)
}

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", msg)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The Coral-style message IAM gives for a member that breaks its constraint.
fn constraint(member: &str, value: &str, what: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {what}",
        lower_first(member)
    ))
}

fn role_not_found(name: &str) -> AwsError {
    no_such(format!("The role with name {name} cannot be found."))
}

fn user_not_found(name: &str) -> AwsError {
    no_such(format!("The user with name {name} cannot be found."))
}

fn profile_not_found(name: &str) -> AwsError {
    no_such(format!("Instance Profile {name} cannot be found."))
}

fn policy_not_found(arn: &str) -> AwsError {
    no_such(format!("Policy {arn} was not found."))
}

fn not_attachable(arn: &str) -> AwsError {
    no_such(format!("Policy {arn} does not exist or is not attachable."))
}

fn version_not_found(arn: &str, version: &str) -> AwsError {
    no_such(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

/// What AWS answers when anyone tries to change an AWS-managed policy.
fn aws_managed_denied(caller_arn: &str, action: &str, arn: &str) -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        format!(
            "User: {caller_arn} is not authorized to perform: iam:{action} on resource: policy {arn} because no resource-based policy allows the iam:{action} action"
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Input checks.

fn req(input: &Input, name: &str) -> Result<String, AwsError> {
    input
        .req_str(name)
        .map_err(|e| e.with_code("ValidationError"))
}

fn check_len(member: &str, value: &str, min: usize, max: usize) -> Result<(), AwsError> {
    let n = value.chars().count();
    if n < min {
        return Err(constraint(
            member,
            value,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(constraint(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Names of roles, users, policies and instance profiles: `[\w+=,.@-]+`.
fn check_name(member: &str, value: &str, max: usize) -> Result<(), AwsError> {
    check_len(member, value, 1, max)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(constraint(
            member,
            value,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

fn name_param(input: &Input, member: &str, max: usize) -> Result<String, AwsError> {
    let v = req(input, member)?;
    check_name(member, &v, max)?;
    Ok(v)
}

/// Paths of roles, users and instance profiles: `/` or `/…/` over printable ASCII.
fn path_param(input: &Input) -> Result<String, AwsError> {
    let Some(p) = input.str("Path")? else {
        return Ok("/".into());
    };
    check_len("Path", &p, 1, 512)?;
    let ok = p == "/"
        || (p.len() >= 3
            && p.starts_with('/')
            && p.ends_with('/')
            && p.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if !ok {
        return Err(constraint("Path", &p, "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"));
    }
    Ok(p)
}

/// Paths of managed policies: `((/[A-Za-z0-9\.,\+@=_-]+)*)/`.
fn policy_path_param(input: &Input, member: &str) -> Result<Option<String>, AwsError> {
    let Some(p) = input.str(member)? else {
        return Ok(None);
    };
    check_len(member, &p, 1, 512)?;
    let ok = p.starts_with('/')
        && p.ends_with('/')
        && !p.contains("//")
        && p.chars()
            .all(|c| c == '/' || c.is_ascii_alphanumeric() || ".,+@=_-".contains(c));
    if !ok {
        return Err(constraint(
            member,
            &p,
            "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/",
        ));
    }
    Ok(Some(p))
}

/// `PathPrefix` of the list operations over roles, users and instance profiles.
fn path_prefix(input: &Input) -> Result<String, AwsError> {
    let Some(p) = input.str("PathPrefix")? else {
        return Ok("/".into());
    };
    check_len("PathPrefix", &p, 1, 512)?;
    if !p.starts_with('/') || !p.bytes().skip(1).all(|b| (0x21..=0x7f).contains(&b)) {
        return Err(constraint(
            "PathPrefix",
            &p,
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ));
    }
    Ok(p)
}

fn description_param(input: &Input) -> Result<Option<String>, AwsError> {
    let d = input.str("Description")?;
    if let Some(d) = &d {
        check_len("Description", d, 0, 1000)?;
    }
    Ok(d)
}

fn policy_arn_param(input: &Input, member: &str) -> Result<String, AwsError> {
    let arn = req(input, member)?;
    check_len(member, &arn, 20, 2048)?;
    check_arn(&arn)?;
    Ok(arn)
}

fn check_arn(arn: &str) -> Result<(), AwsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
        return Err(invalid_input(format!("ARN {arn} is not valid.")));
    }
    Ok(())
}

fn version_param(input: &Input) -> Result<String, AwsError> {
    let v = req(input, "VersionId")?;
    let ok = v.strip_prefix('v').is_some_and(|rest| {
        let (num, suffix) = rest
            .split_once('.')
            .map_or((rest, None), |(n, s)| (n, Some(s)));
        !num.is_empty()
            && !num.starts_with('0')
            && num.bytes().all(|b| b.is_ascii_digit())
            && suffix.is_none_or(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    if !ok {
        return Err(constraint(
            "VersionId",
            &v,
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ));
    }
    Ok(v)
}

fn max_items(input: &Input) -> Result<usize, AwsError> {
    match input
        .int("MaxItems")
        .map_err(|e| e.with_code("ValidationError"))?
    {
        None => Ok(100),
        Some(n) if n < 1 => Err(constraint(
            "MaxItems",
            &n.to_string(),
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > 1000 => Err(constraint(
            "MaxItems",
            &n.to_string(),
            "Member must have value less than or equal to 1000",
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(100)),
    }
}

fn tag_key_ok(k: &str) -> bool {
    k.chars().all(|c| {
        c.is_alphanumeric()
            || c == ' '
            || (c.is_whitespace() && !c.is_control())
            || "_.:/=+-@".contains(c)
    })
}

fn check_tag(key: &str, value: &str) -> Result<(), AwsError> {
    check_len("tags.member.key", key, 1, 128)?;
    if !tag_key_ok(key) {
        return Err(constraint(
            "tags.member.key",
            key,
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
        ));
    }
    check_len("tags.member.value", value, 0, 256)?;
    if !tag_key_ok(value) {
        return Err(constraint(
            "tags.member.value",
            value,
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
        ));
    }
    Ok(())
}

fn parse_tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    let items = input.list("Tags")?;
    if items.len() > 50 {
        return Err(validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for t in items {
        let key = t
            .str("Key")?
            .ok_or_else(|| AwsError::missing("tags.member.key").with_code("ValidationError"))?;
        let value = t.str("Value")?.unwrap_or_default();
        check_tag(&key, &value)?;
        if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            return Err(invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Add tags, replacing the values of keys that are already there (keys ignore case).
fn merge_tags(
    tags: &mut Vec<(String, String)>,
    new: Vec<(String, String)>,
    what: &str,
) -> Result<(), AwsError> {
    let mut merged = tags.clone();
    for (k, v) in new {
        match merged
            .iter_mut()
            .find(|(have, _)| have.eq_ignore_ascii_case(&k))
        {
            Some(slot) => *slot = (k, v),
            None => merged.push((k, v)),
        }
    }
    if merged.len() > 50 {
        return Err(limit(format!("Cannot exceed quota for TagsPer{what}: 50")));
    }
    *tags = merged;
    Ok(())
}

fn tags_value(tags: &[(String, String)]) -> Value {
    Value::List(
        tags.iter()
            .map(|(k, v)| {
                Value::obj()
                    .with("Key", k.as_str())
                    .with("Value", v.as_str())
            })
            .collect(),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DocKind {
    /// A permissions policy (managed or inline): actions on resources, no principal.
    Identity,
    /// A role's trust policy: who may assume it, no resources.
    Trust,
}

fn as_strings(v: &J) -> Option<Vec<&str>> {
    match v {
        J::String(s) => Some(vec![s.as_str()]),
        J::Array(a) if !a.is_empty() => a.iter().map(J::as_str).collect(),
        _ => None,
    }
}

/// IAM's grammar checks on a policy document, with AWS's messages.
fn check_document(doc: &str, kind: DocKind) -> Result<(), AwsError> {
    let v: J =
        serde_json::from_str(doc).map_err(|_| malformed("This policy contains invalid Json"))?;
    let syntax = || malformed("Syntax errors in policy.");
    let J::Object(top) = &v else {
        return Err(syntax());
    };
    if top
        .keys()
        .any(|k| !["Version", "Id", "Statement"].contains(&k.as_str()))
    {
        return Err(syntax());
    }
    match top.get("Version") {
        None => {}
        Some(J::String(s)) if s == "2012-10-17" || s == "2008-10-17" => {}
        Some(_) => return Err(malformed("The policy failed legacy parsing")),
    }
    let statements: Vec<&J> = match top.get("Statement") {
        Some(J::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(o @ J::Object(_)) => vec![o],
        _ => return Err(syntax()),
    };
    let mut sids = Vec::new();
    for st in statements {
        let J::Object(st) = st else {
            return Err(syntax());
        };
        const KEYS: [&str; 9] = [
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "NotPrincipal",
            "Condition",
        ];
        if st.keys().any(|k| !KEYS.contains(&k.as_str())) {
            return Err(syntax());
        }
        if let Some(sid) = st.get("Sid") {
            let Some(sid) = sid.as_str() else {
                return Err(syntax());
            };
            if !sid.is_empty() {
                if sids.contains(&sid) {
                    return Err(malformed(
                        "Statement IDs (SID) in a single policy must be unique.",
                    ));
                }
                sids.push(sid);
            }
        }
        match st.get("Effect").and_then(J::as_str) {
            Some("Allow" | "Deny") => {}
            _ => return Err(syntax()),
        }
        let actions = match (st.get("Action"), st.get("NotAction")) {
            (Some(_), Some(_)) => return Err(syntax()),
            (None, None) => return Err(malformed("Policy statement must contain actions.")),
            (Some(a), None) | (None, Some(a)) => as_strings(a).ok_or_else(syntax)?,
        };
        for a in actions {
            if a != "*"
                && !a
                    .split_once(':')
                    .is_some_and(|(vendor, act)| !vendor.is_empty() && !act.is_empty())
            {
                return Err(malformed(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                ));
            }
        }
        let has_resource = st.contains_key("Resource") || st.contains_key("NotResource");
        let has_principal = st.contains_key("Principal") || st.contains_key("NotPrincipal");
        match kind {
            DocKind::Identity => {
                if has_principal {
                    return Err(malformed("Policy document should not specify a principal."));
                }
                if !has_resource {
                    return Err(malformed("Policy statement must contain resources."));
                }
                for r in ["Resource", "NotResource"] {
                    if let Some(v) = st.get(r) {
                        as_strings(v).ok_or_else(syntax)?;
                    }
                }
            }
            DocKind::Trust => {
                if has_resource {
                    return Err(malformed("Has prohibited field Resource"));
                }
                if !has_principal {
                    return Err(malformed("Missing required field Principal"));
                }
            }
        }
        if let Some(c) = st.get("Condition") {
            let J::Object(ops) = c else {
                return Err(syntax());
            };
            if ops.values().any(|v| !v.is_object()) {
                return Err(syntax());
            }
        }
    }
    Ok(())
}

/// Quotas count characters other than white space.
fn policy_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

fn document_param(input: &Input, member: &str, kind: DocKind) -> Result<String, AwsError> {
    let doc = req(input, member)?;
    check_len(member, &doc, 1, 131_072)?;
    check_document(&doc, kind)?;
    Ok(doc)
}

/// RFC 3986: everything but the unreserved characters is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document as IAM returns it: URL-encoded.
pub fn url_encode(doc: &str) -> String {
    utf8_percent_encode(doc, RFC3986).to_string()
}

fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        crate::util::random_id(crate::util::UPPER_ALNUM, 17)
    )
}

// ---------------------------------------------------------------------------------------------
// Paging: `Marker` is opaque (the sort key of the next item, base64), `MaxItems` 1–1000
// (default 100), `IsTruncated` always present.

#[derive(Debug)]
struct Page<T> {
    items: Vec<T>,
    marker: Option<String>,
}

impl<T> Page<T> {
    fn into_value(self, member: &str, f: impl Fn(T) -> Value) -> Value {
        let truncated = self.marker.is_some();
        Value::obj()
            .with(member, Value::List(self.items.into_iter().map(f).collect()))
            .with("IsTruncated", truncated)
            .with("Marker", self.marker)
    }
}

fn paginate<T>(input: &Input, mut items: Vec<(String, T)>) -> Result<Page<T>, AwsError> {
    let max = max_items(input)?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match input.str("Marker")? {
        None => 0,
        Some(m) => {
            let key = crate::util::unb64(&m)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| validation("Invalid Marker."))?;
            items.partition_point(|(k, _)| k.as_str() < key.as_str())
        }
    };
    let mut rest: Vec<(String, T)> = items.into_iter().skip(start).collect();
    let marker = rest.get(max).map(|(k, _)| crate::util::b64(k.as_bytes()));
    rest.truncate(max);
    Ok(Page {
        items: rest.into_iter().map(|(_, t)| t).collect(),
        marker,
    })
}

/// A sort key that keeps the given order.
fn ordinal(i: usize) -> String {
    format!("{i:08}")
}

// ---------------------------------------------------------------------------------------------
// AWS-managed policies: the ones the workshop uses and a few common ones, with their documents
// as AWS publishes them (older versions are not kept, except where noted).

struct AwsPolicyDef {
    name: &'static str,
    id: &'static str,
    description: &'static str,
    created: &'static str,
    /// (version id, created, document), oldest first; the last one is the default.
    versions: &'static [(&'static str, &'static str, &'static str)],
}

const S3_FULL_V1: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*"
        }
    ]
}"#;

const S3_FULL_V2: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:*",
                "s3-object-lambda:*"
            ],
            "Resource": "*"
        }
    ]
}"#;

const CLOUDTRAIL_READ_ONLY_LEGACY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetBucketLocation"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "cloudtrail:GetTrail",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:DescribeTrails",
                "cloudtrail:ListTrails",
                "cloudtrail:LookupEvents",
                "cloudtrail:ListTags",
                "cloudtrail:ListPublicKeys",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:GetInsightSelectors",
                "s3:ListAllMyBuckets",
                "kms:ListAliases",
                "lambda:ListFunctions"
            ],
            "Resource": "*"
        }
    ]
}"#;

const CLOUDTRAIL_READ_ONLY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "cloudtrail:Get*",
                "cloudtrail:Describe*",
                "cloudtrail:List*",
                "cloudtrail:LookupEvents"
            ],
            "Resource": "*"
        }
    ]
}"#;

const EC2_FULL: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": "ec2:*",
            "Effect": "Allow",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "elasticloadbalancing:*",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "cloudwatch:*",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "autoscaling:*",
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "autoscaling.amazonaws.com",
                        "ec2scheduled.amazonaws.com",
                        "elasticloadbalancing.amazonaws.com",
                        "spot.amazonaws.com",
                        "spotfleet.amazonaws.com",
                        "transitgateway.amazonaws.com"
                    ]
                }
            }
        }
    ]
}"#;

const KMS_POWER_USER: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "kms:CreateAlias",
                "kms:CreateKey",
                "kms:DeleteAlias",
                "kms:Describe*",
                "kms:GenerateRandom",
                "kms:Get*",
                "kms:List*",
                "kms:TagResource",
                "kms:UntagResource",
                "iam:ListGroups",
                "iam:ListRoles",
                "iam:ListUsers"
            ],
            "Resource": "*"
        }
    ]
}"#;

const ADMINISTRATOR: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}"#;

const IAM_READ_ONLY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy"
            ],
            "Resource": "*"
        }
    ]
}"#;

const SNS_FULL: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "SNSFullAccess",
            "Effect": "Allow",
            "Action": "sns:*",
            "Resource": "*"
        },
        {
            "Sid": "SMSAccessViaSNS",
            "Effect": "Allow",
            "Action": [
                "sms-voice:DescribeVerifiedDestinationNumbers",
                "sms-voice:CreateVerifiedDestinationNumber",
                "sms-voice:SendDestinationNumberVerificationCode",
                "sms-voice:SendTextMessage",
                "sms-voice:DeleteVerifiedDestinationNumber",
                "sms-voice:VerifyDestinationNumber",
                "sms-voice:DescribeAccountAttributes",
                "sms-voice:DescribeSpendLimits",
                "sms-voice:DescribePhoneNumbers",
                "sms-voice:SetTextMessageSpendLimitOverride",
                "sms-voice:DescribeOptedOutNumbers",
                "sms-voice:DeleteOptedOutNumber"
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:CalledViaLast": "sns.amazonaws.com"
                }
            }
        }
    ]
}"#;

const SSM_CORE: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ssm:DescribeAssociation",
                "ssm:GetDeployablePatchSnapshotForInstance",
                "ssm:GetDocument",
                "ssm:DescribeDocument",
                "ssm:GetManifest",
                "ssm:GetParameter",
                "ssm:GetParameters",
                "ssm:ListAssociations",
                "ssm:ListInstanceAssociations",
                "ssm:PutInventory",
                "ssm:PutComplianceItems",
                "ssm:PutConfigurePackageResult",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:UpdateInstanceInformation"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "ec2messages:AcknowledgeMessage",
                "ec2messages:DeleteMessage",
                "ec2messages:FailMessage",
                "ec2messages:GetEndpoint",
                "ec2messages:GetMessages",
                "ec2messages:SendReply"
            ],
            "Resource": "*"
        }
    ]
}"#;

const AWS_POLICIES: &[AwsPolicyDef] = &[
    AwsPolicyDef {
        name: "AdministratorAccess",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        created: "2015-02-06T18:39:46Z",
        versions: &[("v1", "2015-02-06T18:39:46Z", ADMINISTRATOR)],
    },
    AwsPolicyDef {
        name: "AmazonEC2FullAccess",
        id: "ANPAI3VAJF5ZCRZ7MCQE6",
        description: "Provides full access to Amazon EC2 via the AWS Management Console.",
        created: "2015-02-06T18:40:15Z",
        versions: &[("v5", "2018-11-27T02:16:56Z", EC2_FULL)],
    },
    AwsPolicyDef {
        name: "AmazonS3FullAccess",
        id: "ANPAIFIR6V6BVTRAHWINE",
        description: "Provides full access to all buckets via the AWS Management Console.",
        created: "2015-02-06T18:40:58Z",
        versions: &[("v1", "2015-02-06T18:40:58Z", S3_FULL_V1), ("v2", "2021-09-27T20:16:37Z", S3_FULL_V2)],
    },
    AwsPolicyDef {
        name: "AmazonSNSFullAccess",
        id: "ANPAJWEKLCXXUNT2SOLSG",
        description: "Provides full access to Amazon SNS via the AWS Management Console.",
        created: "2015-02-06T18:41:05Z",
        versions: &[("v2", "2024-09-24T22:32:05Z", SNS_FULL)],
    },
    AwsPolicyDef {
        name: "AmazonSSMManagedInstanceCore",
        id: "ANPAIXSHM2BNB2D3AXXRU",
        description: "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.",
        created: "2019-03-15T17:22:12Z",
        versions: &[("v2", "2019-05-23T16:54:21Z", SSM_CORE)],
    },
    // The workshop's name for CloudTrail read-only access; AWS has since replaced it with
    // AWSCloudTrail_ReadOnlyAccess (below). Both exist.
    AwsPolicyDef {
        name: "AWSCloudTrailReadOnlyAccess",
        id: "ANPAJDU7KJADWBSEQ3E7S",
        description: "Provides read only access to AWS CloudTrail.",
        created: "2015-02-06T18:39:58Z",
        versions: &[("v7", "2021-11-08T21:15:57Z", CLOUDTRAIL_READ_ONLY_LEGACY)],
    },
    AwsPolicyDef {
        name: "AWSCloudTrail_ReadOnlyAccess",
        id: "ANPAZKAPJZG4IV6FHD2UE",
        description: "Provides read only access to AWS CloudTrail.",
        created: "2022-06-14T17:19:05Z",
        versions: &[("v1", "2022-06-14T17:19:05Z", CLOUDTRAIL_READ_ONLY)],
    },
    AwsPolicyDef {
        name: "AWSKeyManagementServicePowerUser",
        id: "ANPAJNPP7PPPPMJRV2SA4",
        description: "Provides access to AWS Key Management Service (KMS).",
        created: "2015-02-06T18:40:40Z",
        versions: &[("v2", "2017-03-07T00:55:11Z", KMS_POWER_USER)],
    },
    AwsPolicyDef {
        name: "IAMReadOnlyAccess",
        id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM via the AWS Management Console.",
        created: "2015-02-06T18:40:39Z",
        versions: &[("v4", "2018-01-25T19:11:27Z", IAM_READ_ONLY)],
    },
];

fn parse_static_time(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The AWS-managed policies, as [`ManagedPolicy`] values (ARNs `arn:aws:iam::aws:policy/…`).
pub fn aws_managed_policies() -> &'static [ManagedPolicy] {
    static POLICIES: OnceLock<Vec<ManagedPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        AWS_POLICIES
            .iter()
            .map(|d| {
                let versions: Vec<PolicyVersion> = d
                    .versions
                    .iter()
                    .map(|(id, at, doc)| PolicyVersion {
                        id: id.to_string(),
                        document: doc.to_string(),
                        created: parse_static_time(at),
                    })
                    .collect();
                let default_version = versions
                    .last()
                    .map(|v| v.id.clone())
                    .unwrap_or_else(|| "v1".into());
                let updated = versions
                    .last()
                    .map(|v| v.created)
                    .unwrap_or_else(|| parse_static_time(d.created));
                ManagedPolicy {
                    name: d.name.to_string(),
                    id: d.id.to_string(),
                    path: "/".into(),
                    arn: format!("arn:aws:iam::aws:policy/{}", d.name),
                    created: parse_static_time(d.created),
                    updated,
                    description: Some(d.description.to_string()),
                    tags: Vec::new(),
                    next_version: 1 + versions.len() as u32,
                    default_version,
                    versions,
                }
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Lookups.

impl IamState {
    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        self.roles
            .get(&name.to_lowercase())
            .ok_or_else(|| role_not_found(name))
    }

    fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        self.roles
            .get_mut(&name.to_lowercase())
            .ok_or_else(|| role_not_found(name))
    }

    pub fn user(&self, name: &str) -> Result<&User, AwsError> {
        self.users
            .get(&name.to_lowercase())
            .ok_or_else(|| user_not_found(name))
    }

    fn user_mut(&mut self, name: &str) -> Result<&mut User, AwsError> {
        self.users
            .get_mut(&name.to_lowercase())
            .ok_or_else(|| user_not_found(name))
    }

    pub fn instance_profile(&self, name: &str) -> Result<&InstanceProfile, AwsError> {
        self.instance_profiles
            .get(&name.to_lowercase())
            .ok_or_else(|| profile_not_found(name))
    }

    /// A managed policy by ARN (customer-managed in `account`, or AWS-managed), and whether it
    /// is AWS-managed.
    pub fn policy(&self, account: &str, arn: &str) -> Option<(&ManagedPolicy, bool)> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, _, _, owner, resource] = parts.as_slice() else {
            return None;
        };
        if !resource.starts_with("policy/") {
            return None;
        }
        if *owner == "aws" {
            return aws_managed_policies()
                .iter()
                .find(|p| p.arn == arn)
                .map(|p| (p, true));
        }
        if *owner != account {
            return None;
        }
        let name = resource.rsplit('/').next().unwrap_or_default();
        self.policies
            .get(&name.to_lowercase())
            .filter(|p| p.arn == arn)
            .map(|p| (p, false))
    }

    /// How many roles and users have the policy attached.
    pub fn attachment_count(&self, arn: &str) -> usize {
        self.roles
            .values()
            .filter(|r| r.attached.iter().any(|a| a == arn))
            .count()
            + self
                .users
                .values()
                .filter(|u| u.attached.iter().any(|a| a == arn))
                .count()
    }

    fn boundary_count(&self, arn: &str) -> usize {
        self.roles
            .values()
            .filter(|r| r.permissions_boundary.as_deref() == Some(arn))
            .count()
    }

    fn policy_name_of(&self, account: &str, arn: &str) -> String {
        self.policy(account, arn)
            .map(|(p, _)| p.name.clone())
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Output shapes.

#[derive(Clone, Copy, PartialEq, Eq)]
enum RoleView {
    /// GetRole: everything, with RoleLastUsed.
    Get,
    /// CreateRole.
    Create,
    /// ListRoles: no PermissionsBoundary, RoleLastUsed or Tags.
    List,
    /// Inside an instance profile.
    InProfile,
}

fn role_value(r: &Role, view: RoleView) -> Value {
    let mut v = Value::obj()
        .with("Path", r.path.as_str())
        .with("RoleName", r.name.as_str())
        .with("RoleId", r.id.as_str())
        .with("Arn", r.arn.as_str())
        .with("CreateDate", r.created)
        .with(
            "AssumeRolePolicyDocument",
            url_encode(&r.assume_role_policy),
        );
    if view != RoleView::InProfile {
        v = v.with("Description", r.description.clone());
    }
    if matches!(view, RoleView::Get | RoleView::List) {
        v = v.with("MaxSessionDuration", r.max_session_duration);
    }
    if matches!(view, RoleView::Get | RoleView::Create) {
        if let Some(b) = &r.permissions_boundary {
            v = v.with(
                "PermissionsBoundary",
                Value::obj()
                    .with("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
                    .with("PermissionsBoundaryArn", b.as_str()),
            );
        }
        if !r.tags.is_empty() {
            v = v.with("Tags", tags_value(&r.tags));
        }
    }
    if view == RoleView::Get {
        let mut used = Value::obj();
        if let Some(t) = r.last_used {
            used = used
                .with("LastUsedDate", t)
                .with("Region", r.last_used_region.clone());
        }
        v = v.with("RoleLastUsed", used);
    }
    v
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PolicyView {
    Full,
    /// ListPolicies: no Description or Tags.
    List,
}

fn policy_value(p: &ManagedPolicy, st: &IamState, view: PolicyView) -> Value {
    let mut v = Value::obj()
        .with("PolicyName", p.name.as_str())
        .with("PolicyId", p.id.as_str())
        .with("Arn", p.arn.as_str())
        .with("Path", p.path.as_str())
        .with("DefaultVersionId", p.default_version.as_str())
        .with("AttachmentCount", st.attachment_count(&p.arn) as i64)
        .with(
            "PermissionsBoundaryUsageCount",
            st.boundary_count(&p.arn) as i64,
        )
        .with("IsAttachable", true);
    if view == PolicyView::Full {
        v = v.with("Description", p.description.clone());
    }
    v = v
        .with("CreateDate", p.created)
        .with("UpdateDate", p.updated);
    if view == PolicyView::Full && !p.tags.is_empty() {
        v = v.with("Tags", tags_value(&p.tags));
    }
    v
}

fn version_value(p: &ManagedPolicy, ver: &PolicyVersion, with_document: bool) -> Value {
    let mut v = Value::obj();
    if with_document {
        v = v.with("Document", url_encode(&ver.document));
    }
    v.with("VersionId", ver.id.as_str())
        .with("IsDefaultVersion", ver.id == p.default_version)
        .with("CreateDate", ver.created)
}

fn profile_value(p: &InstanceProfile, st: &IamState) -> Value {
    let roles: Vec<Value> = p
        .roles
        .iter()
        .filter_map(|k| st.roles.get(k))
        .map(|r| role_value(r, RoleView::InProfile))
        .collect();
    let mut v = Value::obj()
        .with("Path", p.path.as_str())
        .with("InstanceProfileName", p.name.as_str())
        .with("InstanceProfileId", p.id.as_str())
        .with("Arn", p.arn.as_str())
        .with("CreateDate", p.created)
        .with("Roles", Value::List(roles));
    if !p.tags.is_empty() {
        v = v.with("Tags", tags_value(&p.tags));
    }
    v
}

fn user_value(u: &User, with_tags: bool) -> Value {
    let mut v = Value::obj()
        .with("Path", u.path.as_str())
        .with("UserName", u.name.as_str())
        .with("UserId", u.id.as_str())
        .with("Arn", u.arn.as_str())
        .with("CreateDate", u.created);
    if with_tags && !u.tags.is_empty() {
        v = v.with("Tags", tags_value(&u.tags));
    }
    v
}

fn role_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::IAM::Role".into(),
    }
}

fn policy_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::IAM::Policy".into(),
    }
}

fn profile_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::IAM::InstanceProfile".into(),
    }
}

fn user_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::IAM::User".into(),
    }
}

fn iam_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

// ---------------------------------------------------------------------------------------------
// CloudTrail: query parameters unflattened into the nested, camel-cased form AWS logs.

enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

fn insert_param(tree: &mut BTreeMap<String, Node>, path: &[&str], value: &str) {
    match path {
        [] => {}
        [last] => {
            tree.insert((*last).to_string(), Node::Leaf(value.to_string()));
        }
        [first, rest @ ..] => {
            let e = tree
                .entry((*first).to_string())
                .or_insert_with(|| Node::Branch(BTreeMap::new()));
            if let Node::Leaf(_) = e {
                *e = Node::Branch(BTreeMap::new());
            }
            if let Node::Branch(b) = e {
                insert_param(b, rest, value);
            }
        }
    }
}

fn node_json(name: &str, node: &Node) -> J {
    match node {
        Node::Leaf(s) => match name {
            "SetAsDefault" | "OnlyAttached" => s
                .parse::<bool>()
                .map(J::Bool)
                .unwrap_or_else(|_| J::String(s.clone())),
            "MaxItems" | "MaxSessionDuration" => s
                .parse::<i64>()
                .map(J::from)
                .unwrap_or_else(|_| J::String(s.clone())),
            _ => J::String(s.clone()),
        },
        Node::Branch(b) => {
            if let (1, Some(Node::Branch(members))) = (b.len(), b.get("member")) {
                let mut items: Vec<(u64, &Node)> = members
                    .iter()
                    .map(|(k, n)| (k.parse::<u64>().unwrap_or(u64::MAX), n))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                return J::Array(items.into_iter().map(|(_, n)| node_json(name, n)).collect());
            }
            J::Object(
                b.iter()
                    .map(|(k, n)| (k.clone(), node_json(k, n)))
                    .collect::<Map<String, J>>(),
            )
        }
    }
}

fn unflatten(flat: &Map<String, J>) -> J {
    let mut tree = BTreeMap::new();
    for (k, v) in flat {
        let value = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        // IAM's deepest parameters have four parts (`Tags.member.1.Key`); a bounded split keeps
        // the recursion shallow whatever a client sends.
        let path: Vec<&str> = k.splitn(8, '.').collect();
        insert_param(&mut tree, &path, &value);
    }
    J::Object(
        tree.iter()
            .map(|(k, n)| (k.clone(), node_json(k, n)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// The service.

impl Service for Iam {
    fn signing_name(&self) -> &'static str {
        "iam"
    }
    fn event_source(&self) -> &'static str {
        "iam.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        "https://iam.amazonaws.com/doc/2010-05-08/"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsQuery
    }
    fn global(&self) -> bool {
        true
    }
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        match input.to_json() {
            J::Object(m) => camel_case_keys(&unflatten(&m), &[]),
            other => camel_case_keys(&other, &[]),
        }
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        handle(cx, op, input).map_err(|e| {
            if e.code == "ValidationException" {
                e.with_code("ValidationError")
            } else {
                e
            }
        })
    }
}

/// The IAM user behind the caller, or the error AWS gives to role sessions.
fn caller_user(cx: &Call<'_>) -> Result<(String, String), AwsError> {
    match &cx.caller.principal {
        Principal::IamUser { name, user_id } => Ok((name.clone(), user_id.clone())),
        Principal::AssumedRole { .. } => Err(validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

fn handle(cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
    let sb: &Sandbox = cx.sandbox;
    let account = cx.account().to_string();
    let now = cx.now;
    let read = |f: &dyn Fn(&IamState) -> Result<Value, AwsError>| {
        sb.read::<IamState, _>(&account, HOME_REGION, f)
    };
    let write = |f: &mut dyn FnMut(&mut IamState) -> Result<Value, AwsError>| {
        sb.write::<IamState, _>(&account, HOME_REGION, f)
    };
    match op {
        // ----- roles -----
        "GetRole" => {
            let name = name_param(input, "RoleName", 64)?;
            let (v, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                st.role(&name).map(|r| {
                    (
                        Value::obj().with("Role", role_value(r, RoleView::Get)),
                        r.arn.clone(),
                    )
                })
            })?;
            cx.resources.push(role_resource(&arn));
            Ok(v)
        }
        "CreateRole" => {
            let name = name_param(input, "RoleName", 64)?;
            let path = path_param(input)?;
            let trust = document_param(input, "AssumeRolePolicyDocument", DocKind::Trust)?;
            if policy_size(&trust) > 2048 {
                return Err(limit("Cannot exceed quota for ACLSizePerRole: 2048"));
            }
            let description = description_param(input)?;
            let max_session = input.int("MaxSessionDuration")?.unwrap_or(3600);
            if max_session < 3600 {
                return Err(constraint(
                    "MaxSessionDuration",
                    &max_session.to_string(),
                    "Member must have value greater than or equal to 3600",
                ));
            }
            if max_session > 43200 {
                return Err(constraint(
                    "MaxSessionDuration",
                    &max_session.to_string(),
                    "Member must have value less than or equal to 43200",
                ));
            }
            let boundary = match input.str("PermissionsBoundary")? {
                Some(b) => {
                    check_arn(&b)?;
                    Some(b)
                }
                None => None,
            };
            let tags = parse_tags(input)?;
            let arn = iam_arn(&account, "role", &path, &name);
            cx.resources.push(role_resource(&arn));
            write(&mut |st| {
                if let Some(b) = &boundary {
                    if st.policy(&account, b).is_none() {
                        return Err(not_attachable(b));
                    }
                }
                if let Ok(r) = st.role(&name) {
                    return Err(already_exists(format!(
                        "Role with name {} already exists.",
                        r.name
                    )));
                }
                if st.roles.len() >= 1000 {
                    return Err(limit("Cannot exceed quota for RolesPerAccount: 1000"));
                }
                let role = Role {
                    name: name.clone(),
                    id: new_id("AROA"),
                    path: path.clone(),
                    arn: arn.clone(),
                    created: now,
                    assume_role_policy: trust.clone(),
                    description: description.clone(),
                    max_session_duration: max_session,
                    permissions_boundary: boundary.clone(),
                    tags: tags.clone(),
                    attached: Vec::new(),
                    inline: BTreeMap::new(),
                    last_used: None,
                    last_used_region: None,
                };
                let v = Value::obj().with("Role", role_value(&role, RoleView::Create));
                st.roles.insert(name.to_lowercase(), role);
                Ok(v)
            })
        }
        "DeleteRole" => {
            let name = name_param(input, "RoleName", 64)?;
            let arn = write(&mut |st| {
                let key = name.to_lowercase();
                let r = st.role(&name)?;
                if st
                    .instance_profiles
                    .values()
                    .any(|p| p.roles.contains(&key))
                {
                    return Err(delete_conflict(
                        "Cannot delete entity, must remove roles from instance profile first.",
                    ));
                }
                ensure_no_policies(!r.attached.is_empty(), !r.inline.is_empty())?;
                let arn = r.arn.clone();
                st.roles.remove(&key);
                Ok(Value::Str(arn))
            });
            if let Ok(Value::Str(arn)) = &arn {
                cx.resources.push(role_resource(arn));
            }
            arn.map(|_| Value::Null)
        }
        "ListRoles" => {
            let prefix = path_prefix(input)?;
            let items: Vec<(String, Value)> = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                st.roles
                    .iter()
                    .filter(|(_, r)| r.path.starts_with(&prefix))
                    .map(|(k, r)| (k.clone(), role_value(r, RoleView::List)))
                    .collect()
            });
            Ok(paginate(input, items)?.into_value("Roles", |v| v))
        }
        "ListAttachedRolePolicies" | "ListAttachedUserPolicies" => {
            let is_role = op == "ListAttachedRolePolicies";
            let member = if is_role { "RoleName" } else { "UserName" };
            let name = name_param(input, member, if is_role { 64 } else { 128 })?;
            let prefix = policy_path_param(input, "PathPrefix")?.unwrap_or_else(|| "/".into());
            let (items, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let (attached, arn) = if is_role {
                    let r = st.role(&name)?;
                    (&r.attached, r.arn.clone())
                } else {
                    let u = st.user(&name)?;
                    (&u.attached, u.arn.clone())
                };
                let items: Vec<(String, Value)> = attached
                    .iter()
                    .filter(|a| {
                        st.policy(&account, a)
                            .is_none_or(|(p, _)| p.path.starts_with(&prefix))
                    })
                    // By policy name (then ARN: a customer policy may share an AWS name).
                    .map(|a| {
                        let name = st.policy_name_of(&account, a);
                        (
                            format!("{name}\u{1}{a}"),
                            Value::obj()
                                .with("PolicyName", name)
                                .with("PolicyArn", a.as_str()),
                        )
                    })
                    .collect();
                Ok::<_, AwsError>((items, arn))
            })?;
            cx.resources.push(if is_role {
                role_resource(&arn)
            } else {
                user_resource(&arn)
            });
            Ok(paginate(input, items)?.into_value("AttachedPolicies", |v| v))
        }
        "AttachRolePolicy" | "AttachUserPolicy" => {
            let is_role = op == "AttachRolePolicy";
            let member = if is_role { "RoleName" } else { "UserName" };
            let name = name_param(input, member, if is_role { 64 } else { 128 })?;
            let policy_arn = policy_arn_param(input, "PolicyArn")?;
            cx.resources.push(policy_resource(&policy_arn));
            let owner = write(&mut |st| {
                let owner_arn = if is_role {
                    st.role(&name)?.arn.clone()
                } else {
                    st.user(&name)?.arn.clone()
                };
                if st.policy(&account, &policy_arn).is_none() {
                    return Err(not_attachable(&policy_arn));
                }
                let (attached, what) = if is_role {
                    (&mut st.role_mut(&name)?.attached, "PoliciesPerRole")
                } else {
                    (&mut st.user_mut(&name)?.attached, "PoliciesPerUser")
                };
                if !attached.contains(&policy_arn) {
                    if attached.len() >= 10 {
                        return Err(limit(format!("Cannot exceed quota for {what}: 10")));
                    }
                    attached.push(policy_arn.clone());
                }
                Ok(Value::Str(owner_arn))
            })?;
            if let Value::Str(a) = owner {
                cx.resources.insert(
                    0,
                    if is_role {
                        role_resource(&a)
                    } else {
                        user_resource(&a)
                    },
                );
            }
            Ok(Value::Null)
        }
        "DetachRolePolicy" | "DetachUserPolicy" => {
            let is_role = op == "DetachRolePolicy";
            let member = if is_role { "RoleName" } else { "UserName" };
            let name = name_param(input, member, if is_role { 64 } else { 128 })?;
            let policy_arn = policy_arn_param(input, "PolicyArn")?;
            cx.resources.push(policy_resource(&policy_arn));
            let owner = write(&mut |st| {
                let (attached, owner_arn) = if is_role {
                    let r = st.role_mut(&name)?;
                    (&mut r.attached, r.arn.clone())
                } else {
                    let u = st.user_mut(&name)?;
                    (&mut u.attached, u.arn.clone())
                };
                let before = attached.len();
                attached.retain(|a| a != &policy_arn);
                if attached.len() == before {
                    return Err(policy_not_found(&policy_arn));
                }
                Ok(Value::Str(owner_arn))
            })?;
            if let Value::Str(a) = owner {
                cx.resources.insert(
                    0,
                    if is_role {
                        role_resource(&a)
                    } else {
                        user_resource(&a)
                    },
                );
            }
            Ok(Value::Null)
        }
        "ListRolePolicies" => {
            let name = name_param(input, "RoleName", 64)?;
            let (items, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let r = st.role(&name)?;
                let items: Vec<(String, Value)> = r
                    .inline
                    .keys()
                    .map(|k| (k.clone(), Value::Str(k.clone())))
                    .collect();
                Ok::<_, AwsError>((items, r.arn.clone()))
            })?;
            cx.resources.push(role_resource(&arn));
            Ok(paginate(input, items)?.into_value("PolicyNames", |v| v))
        }
        "PutRolePolicy" => {
            let name = name_param(input, "RoleName", 64)?;
            let policy_name = name_param(input, "PolicyName", 128)?;
            let doc = document_param(input, "PolicyDocument", DocKind::Identity)?;
            let arn = write(&mut |st| {
                let r = st.role_mut(&name)?;
                let others: usize = r
                    .inline
                    .iter()
                    .filter(|(k, _)| **k != policy_name)
                    .map(|(_, d)| policy_size(d))
                    .sum();
                if others + policy_size(&doc) > 10240 {
                    return Err(limit(format!(
                        "Maximum policy size of 10240 bytes exceeded for role {}",
                        r.name
                    )));
                }
                r.inline.insert(policy_name.clone(), doc.clone());
                Ok(Value::Str(r.arn.clone()))
            })?;
            if let Value::Str(a) = arn {
                cx.resources.push(role_resource(&a));
            }
            Ok(Value::Null)
        }
        "GetRolePolicy" => {
            let name = name_param(input, "RoleName", 64)?;
            let policy_name = name_param(input, "PolicyName", 128)?;
            let (v, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let r = st.role(&name)?;
                let doc = r.inline.get(&policy_name).ok_or_else(|| {
                    no_such(format!(
                        "The role policy with name {policy_name} cannot be found."
                    ))
                })?;
                let v = Value::obj()
                    .with("RoleName", r.name.as_str())
                    .with("PolicyName", policy_name.as_str())
                    .with("PolicyDocument", url_encode(doc));
                Ok::<_, AwsError>((v, r.arn.clone()))
            })?;
            cx.resources.push(role_resource(&arn));
            Ok(v)
        }
        "DeleteRolePolicy" => {
            let name = name_param(input, "RoleName", 64)?;
            let policy_name = name_param(input, "PolicyName", 128)?;
            let arn = write(&mut |st| {
                let r = st.role_mut(&name)?;
                if r.inline.remove(&policy_name).is_none() {
                    return Err(no_such(format!(
                        "The role policy with name {policy_name} cannot be found."
                    )));
                }
                Ok(Value::Str(r.arn.clone()))
            })?;
            if let Value::Str(a) = arn {
                cx.resources.push(role_resource(&a));
            }
            Ok(Value::Null)
        }
        "TagRole" => {
            let name = name_param(input, "RoleName", 64)?;
            if !input.has("Tags") {
                return Err(AwsError::missing("Tags").with_code("ValidationError"));
            }
            let tags = parse_tags(input)?;
            let arn = write(&mut |st| {
                let r = st.role_mut(&name)?;
                merge_tags(&mut r.tags, tags.clone(), "Role")?;
                Ok(Value::Str(r.arn.clone()))
            })?;
            if let Value::Str(a) = arn {
                cx.resources.push(role_resource(&a));
            }
            Ok(Value::Null)
        }
        "UntagRole" => {
            let name = name_param(input, "RoleName", 64)?;
            if !input.has("TagKeys") {
                return Err(AwsError::missing("TagKeys").with_code("ValidationError"));
            }
            let keys = input.str_list("TagKeys")?;
            if keys.len() > 50 {
                return Err(validation(
                    "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50",
                ));
            }
            let arn = write(&mut |st| {
                let r = st.role_mut(&name)?;
                r.tags
                    .retain(|(k, _)| !keys.iter().any(|x| x.eq_ignore_ascii_case(k)));
                Ok(Value::Str(r.arn.clone()))
            })?;
            if let Value::Str(a) = arn {
                cx.resources.push(role_resource(&a));
            }
            Ok(Value::Null)
        }
        "ListRoleTags" => {
            let name = name_param(input, "RoleName", 64)?;
            let (items, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let r = st.role(&name)?;
                // By key.
                let items: Vec<(String, Value)> = r
                    .tags
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            Value::obj()
                                .with("Key", k.as_str())
                                .with("Value", v.as_str()),
                        )
                    })
                    .collect();
                Ok::<_, AwsError>((items, r.arn.clone()))
            })?;
            cx.resources.push(role_resource(&arn));
            Ok(paginate(input, items)?.into_value("Tags", |v| v))
        }

        // ----- managed policies -----
        "CreatePolicy" => {
            let name = name_param(input, "PolicyName", 128)?;
            let path = policy_path_param(input, "Path")?.unwrap_or_else(|| "/".into());
            let doc = document_param(input, "PolicyDocument", DocKind::Identity)?;
            if policy_size(&doc) > 6144 {
                return Err(limit("Cannot exceed quota for PolicySize: 6144"));
            }
            let description = description_param(input)?;
            let tags = parse_tags(input)?;
            let arn = iam_arn(&account, "policy", &path, &name);
            cx.resources.push(policy_resource(&arn));
            write(&mut |st| {
                if st.policies.contains_key(&name.to_lowercase()) {
                    return Err(already_exists(format!(
                        "A policy called {name} already exists. Duplicate names are not allowed."
                    )));
                }
                if st.policies.len() >= 1500 {
                    return Err(limit("Cannot exceed quota for PoliciesPerAccount: 1500"));
                }
                let p = ManagedPolicy {
                    name: name.clone(),
                    id: new_id("ANPA"),
                    path: path.clone(),
                    arn: arn.clone(),
                    created: now,
                    updated: now,
                    description: description.clone(),
                    tags: tags.clone(),
                    default_version: "v1".into(),
                    next_version: 2,
                    versions: vec![PolicyVersion {
                        id: "v1".into(),
                        document: doc.clone(),
                        created: now,
                    }],
                };
                let v = Value::obj().with("Policy", policy_value(&p, st, PolicyView::Full));
                st.policies.insert(name.to_lowercase(), p);
                Ok(v)
            })
        }
        "GetPolicy" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            cx.resources.push(policy_resource(&arn));
            read(&|st| {
                let (p, _) = st
                    .policy(&account, &arn)
                    .ok_or_else(|| policy_not_found(&arn))?;
                Ok(Value::obj().with("Policy", policy_value(p, st, PolicyView::Full)))
            })
        }
        "DeletePolicy" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            cx.resources.push(policy_resource(&arn));
            let caller_arn = cx.caller.arn();
            write(&mut |st| {
                let (p, aws) = st
                    .policy(&account, &arn)
                    .ok_or_else(|| policy_not_found(&arn))?;
                if aws {
                    return Err(aws_managed_denied(&caller_arn, "DeletePolicy", &arn));
                }
                if st.attachment_count(&arn) > 0 || st.boundary_count(&arn) > 0 {
                    return Err(delete_conflict(
                        "Cannot delete a policy attached to entities.",
                    ));
                }
                if p.versions.len() > 1 {
                    return Err(delete_conflict(
                        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
                    ));
                }
                let key = p.name.to_lowercase();
                st.policies.remove(&key);
                Ok(Value::Null)
            })
        }
        "ListPolicies" => {
            let scope = input.str("Scope")?.unwrap_or_else(|| "All".into());
            if !["All", "AWS", "Local"].contains(&scope.as_str()) {
                return Err(constraint(
                    "Scope",
                    &scope,
                    "Member must satisfy enum value set: [All, AWS, Local]",
                ));
            }
            let only_attached = input.bool("OnlyAttached")?.unwrap_or(false);
            let prefix = policy_path_param(input, "PathPrefix")?.unwrap_or_else(|| "/".into());
            let usage = input.str("PolicyUsageFilter")?;
            if let Some(u) = &usage {
                if !["PermissionsPolicy", "PermissionsBoundary"].contains(&u.as_str()) {
                    return Err(constraint("PolicyUsageFilter", u, "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]"));
                }
            }
            let items: Vec<(String, Value)> = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let local = st.policies.values().filter(|_| scope != "AWS");
                let aws = aws_managed_policies().iter().filter(|_| scope != "Local");
                local
                    .chain(aws)
                    .filter(|p| p.path.starts_with(&prefix))
                    .filter(|p| {
                        !only_attached
                            || match usage.as_deref() {
                                Some("PermissionsBoundary") => st.boundary_count(&p.arn) > 0,
                                Some(_) => st.attachment_count(&p.arn) > 0,
                                None => {
                                    st.attachment_count(&p.arn) > 0 || st.boundary_count(&p.arn) > 0
                                }
                            }
                    })
                    .map(|p| {
                        (
                            // A customer policy may share an AWS-managed policy's name.
                            format!(
                                "{}\u{1}{}",
                                p.name.to_lowercase(),
                                if p.arn.starts_with("arn:aws:iam::aws:") {
                                    "a"
                                } else {
                                    "l"
                                }
                            ),
                            policy_value(p, st, PolicyView::List),
                        )
                    })
                    .collect()
            });
            Ok(paginate(input, items)?.into_value("Policies", |v| v))
        }
        "GetPolicyVersion" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            let version = version_param(input)?;
            cx.resources.push(policy_resource(&arn));
            read(&|st| {
                let (p, _) = st
                    .policy(&account, &arn)
                    .ok_or_else(|| version_not_found(&arn, &version))?;
                let ver = p
                    .versions
                    .iter()
                    .find(|v| v.id == version)
                    .ok_or_else(|| version_not_found(&arn, &version))?;
                Ok(Value::obj().with("PolicyVersion", version_value(p, ver, true)))
            })
        }
        "ListPolicyVersions" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            cx.resources.push(policy_resource(&arn));
            let items: Vec<(String, Value)> =
                sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                    let (p, _) = st
                        .policy(&account, &arn)
                        .ok_or_else(|| policy_not_found(&arn))?;
                    // Newest first.
                    Ok::<_, AwsError>(
                        p.versions
                            .iter()
                            .rev()
                            .enumerate()
                            .map(|(i, v)| (ordinal(i), version_value(p, v, false)))
                            .collect(),
                    )
                })?;
            Ok(paginate(input, items)?.into_value("Versions", |v| v))
        }
        "CreatePolicyVersion" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            let doc = document_param(input, "PolicyDocument", DocKind::Identity)?;
            if policy_size(&doc) > 6144 {
                return Err(limit("Cannot exceed quota for PolicySize: 6144"));
            }
            let set_default = input.bool("SetAsDefault")?.unwrap_or(false);
            cx.resources.push(policy_resource(&arn));
            let caller_arn = cx.caller.arn();
            write(&mut |st| {
                let (p, aws) = st
                    .policy(&account, &arn)
                    .ok_or_else(|| policy_not_found(&arn))?;
                if aws {
                    return Err(aws_managed_denied(&caller_arn, "CreatePolicyVersion", &arn));
                }
                let key = p.name.to_lowercase();
                let Some(p) = st.policies.get_mut(&key) else {
                    return Err(policy_not_found(&arn));
                };
                if p.versions.len() >= 5 {
                    return Err(limit(
                        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
                    ));
                }
                let ver = PolicyVersion {
                    id: format!("v{}", p.next_version),
                    document: doc.clone(),
                    created: now,
                };
                p.next_version = p.next_version.saturating_add(1);
                p.updated = now;
                if set_default {
                    p.default_version = ver.id.clone();
                }
                p.versions.push(ver.clone());
                Ok(Value::obj().with("PolicyVersion", version_value(p, &ver, false)))
            })
        }
        "DeletePolicyVersion" | "SetDefaultPolicyVersion" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            let version = version_param(input)?;
            cx.resources.push(policy_resource(&arn));
            let caller_arn = cx.caller.arn();
            write(&mut |st| {
                let (p, aws) = st
                    .policy(&account, &arn)
                    .ok_or_else(|| policy_not_found(&arn))?;
                if aws {
                    return Err(aws_managed_denied(&caller_arn, op, &arn));
                }
                let key = p.name.to_lowercase();
                let Some(p) = st.policies.get_mut(&key) else {
                    return Err(policy_not_found(&arn));
                };
                if !p.versions.iter().any(|v| v.id == version) {
                    return Err(version_not_found(&arn, &version));
                }
                if op == "SetDefaultPolicyVersion" {
                    p.default_version = version.clone();
                } else {
                    if p.default_version == version {
                        return Err(delete_conflict(
                            "Cannot delete the default version of a policy.",
                        ));
                    }
                    p.versions.retain(|v| v.id != version);
                }
                Ok(Value::Null)
            })
        }
        "ListEntitiesForPolicy" => {
            let arn = policy_arn_param(input, "PolicyArn")?;
            let filter = input.str("EntityFilter")?;
            if let Some(f) = &filter {
                if ![
                    "User",
                    "Role",
                    "Group",
                    "LocalManagedPolicy",
                    "AWSManagedPolicy",
                ]
                .contains(&f.as_str())
                {
                    return Err(constraint(
                        "EntityFilter",
                        f,
                        "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
                    ));
                }
            }
            let prefix = match input.str("PathPrefix")? {
                Some(_) => path_prefix(input)?,
                None => "/".into(),
            };
            let usage = input.str("PolicyUsageFilter")?;
            if let Some(u) = &usage {
                if !["PermissionsPolicy", "PermissionsBoundary"].contains(&u.as_str()) {
                    return Err(constraint("PolicyUsageFilter", u, "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]"));
                }
            }
            cx.resources.push(policy_resource(&arn));
            // (sort key, is a role, entry)
            let items: Vec<(String, (bool, Value))> =
                sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                    st.policy(&account, &arn)
                        .ok_or_else(|| policy_not_found(&arn))?;
                    let wants = |attached: bool, boundary: bool| match usage.as_deref() {
                        Some("PermissionsPolicy") => attached,
                        Some(_) => boundary,
                        None => attached || boundary,
                    };
                    let mut out = Vec::new();
                    if filter.as_deref().is_none_or(|f| f == "Role") {
                        for (k, r) in &st.roles {
                            let attached = r.attached.contains(&arn);
                            let boundary = r.permissions_boundary.as_deref() == Some(arn.as_str());
                            if wants(attached, boundary) && r.path.starts_with(&prefix) {
                                out.push((
                                    format!("r{k}"),
                                    (
                                        true,
                                        Value::obj()
                                            .with("RoleName", r.name.as_str())
                                            .with("RoleId", r.id.as_str()),
                                    ),
                                ));
                            }
                        }
                    }
                    if filter.as_deref().is_none_or(|f| f == "User") {
                        for (k, u) in &st.users {
                            if wants(u.attached.contains(&arn), false)
                                && u.path.starts_with(&prefix)
                            {
                                out.push((
                                    format!("u{k}"),
                                    (
                                        false,
                                        Value::obj()
                                            .with("UserName", u.name.as_str())
                                            .with("UserId", u.id.as_str()),
                                    ),
                                ));
                            }
                        }
                    }
                    Ok::<_, AwsError>(out)
                })?;
            let page = paginate(input, items)?;
            let (mut roles, mut users) = (Vec::new(), Vec::new());
            for (is_role, v) in page.items {
                if is_role {
                    roles.push(v);
                } else {
                    users.push(v);
                }
            }
            Ok(Value::obj()
                .with("PolicyGroups", Value::List(Vec::new()))
                .with("PolicyUsers", Value::List(users))
                .with("PolicyRoles", Value::List(roles))
                .with("IsTruncated", page.marker.is_some())
                .with("Marker", page.marker))
        }

        // ----- instance profiles -----
        "CreateInstanceProfile" => {
            let name = name_param(input, "InstanceProfileName", 128)?;
            let path = path_param(input)?;
            let tags = parse_tags(input)?;
            let arn = iam_arn(&account, "instance-profile", &path, &name);
            cx.resources.push(profile_resource(&arn));
            write(&mut |st| {
                if let Ok(p) = st.instance_profile(&name) {
                    return Err(already_exists(format!(
                        "Instance Profile {} already exists.",
                        p.name
                    )));
                }
                if st.instance_profiles.len() >= 1000 {
                    return Err(limit(
                        "Cannot exceed quota for InstanceProfilesPerAccount: 1000",
                    ));
                }
                let p = InstanceProfile {
                    name: name.clone(),
                    id: new_id("AIPA"),
                    path: path.clone(),
                    arn: arn.clone(),
                    created: now,
                    roles: Vec::new(),
                    tags: tags.clone(),
                };
                let v = Value::obj().with("InstanceProfile", profile_value(&p, st));
                st.instance_profiles.insert(name.to_lowercase(), p);
                Ok(v)
            })
        }
        "GetInstanceProfile" => {
            let name = name_param(input, "InstanceProfileName", 128)?;
            let (v, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let p = st.instance_profile(&name)?;
                Ok::<_, AwsError>((
                    Value::obj().with("InstanceProfile", profile_value(p, st)),
                    p.arn.clone(),
                ))
            })?;
            cx.resources.push(profile_resource(&arn));
            Ok(v)
        }
        "DeleteInstanceProfile" => {
            let name = name_param(input, "InstanceProfileName", 128)?;
            let arn = write(&mut |st| {
                let p = st.instance_profile(&name)?;
                if !p.roles.is_empty() {
                    return Err(delete_conflict(
                        "Cannot delete entity, must remove roles from instance profile first.",
                    ));
                }
                let arn = p.arn.clone();
                st.instance_profiles.remove(&name.to_lowercase());
                Ok(Value::Str(arn))
            })?;
            if let Value::Str(a) = arn {
                cx.resources.push(profile_resource(&a));
            }
            Ok(Value::Null)
        }
        "ListInstanceProfiles" => {
            let prefix = path_prefix(input)?;
            let items: Vec<(String, Value)> = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                st.instance_profiles
                    .iter()
                    .filter(|(_, p)| p.path.starts_with(&prefix))
                    .map(|(k, p)| (k.clone(), profile_value(p, st)))
                    .collect()
            });
            Ok(paginate(input, items)?.into_value("InstanceProfiles", |v| v))
        }
        "AddRoleToInstanceProfile" | "RemoveRoleFromInstanceProfile" => {
            let profile = name_param(input, "InstanceProfileName", 128)?;
            let role = name_param(input, "RoleName", 64)?;
            let add = op == "AddRoleToInstanceProfile";
            let arns = write(&mut |st| {
                let role_arn = st.role(&role)?.arn.clone();
                let key = role.to_lowercase();
                let p = st
                    .instance_profiles
                    .get_mut(&profile.to_lowercase())
                    .ok_or_else(|| profile_not_found(&profile))?;
                if add {
                    if !p.roles.is_empty() {
                        return Err(limit(
                            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
                        ));
                    }
                    p.roles.push(key);
                } else {
                    if !p.roles.contains(&key) {
                        return Err(role_not_found(&role));
                    }
                    p.roles.retain(|r| r != &key);
                }
                Ok(Value::List(vec![
                    Value::Str(p.arn.clone()),
                    Value::Str(role_arn),
                ]))
            })?;
            if let Value::List(a) = arns {
                if let [Value::Str(p), Value::Str(r)] = a.as_slice() {
                    cx.resources.push(profile_resource(p));
                    cx.resources.push(role_resource(r));
                }
            }
            Ok(Value::Null)
        }
        "ListInstanceProfilesForRole" => {
            let role = name_param(input, "RoleName", 64)?;
            let (items, arn) = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                let r = st.role(&role)?;
                let key = role.to_lowercase();
                let items: Vec<(String, Value)> = st
                    .instance_profiles
                    .iter()
                    .filter(|(_, p)| p.roles.contains(&key))
                    .map(|(k, p)| (k.clone(), profile_value(p, st)))
                    .collect();
                Ok::<_, AwsError>((items, r.arn.clone()))
            })?;
            cx.resources.push(role_resource(&arn));
            Ok(paginate(input, items)?.into_value("InstanceProfiles", |v| v))
        }

        // ----- users and access keys -----
        "GetUser" => {
            let name = match input.str("UserName")? {
                Some(n) => {
                    check_name("UserName", &n, 128)?;
                    Some(n)
                }
                None => None,
            };
            let caller = caller_user(cx);
            let user = sb.read::<IamState, _>(&account, HOME_REGION, |st| match &name {
                Some(n) => st.user(n).cloned(),
                None => {
                    let (n, id) = caller.clone()?;
                    // A signing identity the IAM state does not list (another classroom
                    // account, say) still exists: describe it from its credential.
                    Ok(st.user(&n).cloned().unwrap_or_else(|_| User {
                        arn: iam_arn(&account, "user", "/", &n),
                        name: n,
                        id,
                        path: "/".into(),
                        created: now,
                        tags: Vec::new(),
                        attached: Vec::new(),
                        inline: BTreeMap::new(),
                    }))
                }
            })?;
            cx.resources.push(user_resource(&user.arn));
            Ok(Value::obj().with("User", user_value(&user, true)))
        }
        "CreateUser" => {
            let name = name_param(input, "UserName", 64)?;
            let path = path_param(input)?;
            let tags = parse_tags(input)?;
            let arn = iam_arn(&account, "user", &path, &name);
            cx.resources.push(user_resource(&arn));
            write(&mut |st| {
                if let Ok(u) = st.user(&name) {
                    return Err(already_exists(format!(
                        "User with name {} already exists.",
                        u.name
                    )));
                }
                if st.users.len() >= 5000 {
                    return Err(limit("Cannot exceed quota for UsersPerAccount: 5000"));
                }
                let u = User {
                    name: name.clone(),
                    id: new_id("AIDA"),
                    path: path.clone(),
                    arn: arn.clone(),
                    created: now,
                    tags: tags.clone(),
                    attached: Vec::new(),
                    inline: BTreeMap::new(),
                };
                let v = Value::obj().with("User", user_value(&u, true));
                st.users.insert(name.to_lowercase(), u);
                Ok(v)
            })
        }
        "DeleteUser" => {
            let name = name_param(input, "UserName", 128)?;
            let arn = write(&mut |st| {
                let key = name.to_lowercase();
                let u = st.user(&name)?;
                if st.access_keys.values().any(|k| k.user == key) {
                    return Err(delete_conflict(
                        "Cannot delete entity, must delete access keys first.",
                    ));
                }
                ensure_no_policies(!u.attached.is_empty(), !u.inline.is_empty())?;
                let arn = u.arn.clone();
                st.users.remove(&key);
                Ok(Value::Str(arn))
            })?;
            if let Value::Str(a) = arn {
                cx.resources.push(user_resource(&a));
            }
            Ok(Value::Null)
        }
        "ListUsers" => {
            let prefix = path_prefix(input)?;
            let items: Vec<(String, Value)> = sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                st.users
                    .iter()
                    .filter(|(_, u)| u.path.starts_with(&prefix))
                    .map(|(k, u)| (k.clone(), user_value(u, false)))
                    .collect()
            });
            Ok(paginate(input, items)?.into_value("Users", |v| v))
        }
        "CreateAccessKey" => {
            let name = match input.str("UserName")? {
                Some(n) => {
                    check_name("UserName", &n, 128)?;
                    n
                }
                None => caller_user(cx)?.0,
            };
            let key_id = format!(
                "AKIA{}",
                crate::util::random_id(crate::util::UPPER_ALNUM, 16)
            );
            let secret = crate::util::random_id(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                40,
            );
            let user = sb.write::<IamState, _>(&account, HOME_REGION, |st| {
                let u = st.user(&name)?.clone();
                let key = u.name.to_lowercase();
                if st.access_keys.values().filter(|k| k.user == key).count() >= 2 {
                    return Err(limit("Cannot exceed quota for AccessKeysPerUser: 2"));
                }
                st.access_keys.insert(
                    key_id.clone(),
                    AccessKey {
                        id: key_id.clone(),
                        user: key,
                        status: "Active".into(),
                        created: now,
                    },
                );
                Ok(u)
            })?;
            sb.add_credential(Credential {
                access_key_id: key_id.clone(),
                secret_access_key: secret.clone(),
                session_token: None,
                account: account.clone(),
                principal: Principal::IamUser {
                    name: user.name.clone(),
                    user_id: user.id.clone(),
                },
                expires_ms: None,
            })?;
            cx.resources.push(user_resource(&user.arn));
            cx.resources.push(TrailResource {
                arn: key_id.clone(),
                resource_type: "AWS::IAM::AccessKey".into(),
            });
            // CloudTrail never logs the secret.
            cx.response_elements = Some(json!({"accessKey": {
                "userName": user.name, "accessKeyId": key_id, "status": "Active",
                "createDate": crate::util::iso8601_secs(now),
            }}));
            Ok(Value::obj().with(
                "AccessKey",
                Value::obj()
                    .with("UserName", user.name.as_str())
                    .with("AccessKeyId", key_id.as_str())
                    .with("Status", "Active")
                    .with("SecretAccessKey", secret.as_str())
                    .with("CreateDate", now),
            ))
        }
        "ListAccessKeys" => {
            let explicit = input.str("UserName")?;
            let name = match &explicit {
                Some(n) => {
                    check_name("UserName", n, 128)?;
                    n.clone()
                }
                None => caller_user(cx)?.0,
            };
            let items: Vec<(String, Value)> =
                sb.read::<IamState, _>(&account, HOME_REGION, |st| {
                    let shown = match st.user(&name) {
                        Ok(u) => u.name.clone(),
                        Err(e) if explicit.is_some() => return Err(e),
                        Err(_) => name.clone(),
                    };
                    let key = name.to_lowercase();
                    Ok(st
                        .access_keys
                        .values()
                        .filter(|k| k.user == key)
                        .map(|k| {
                            (
                                k.id.clone(),
                                Value::obj()
                                    .with("UserName", shown.as_str())
                                    .with("AccessKeyId", k.id.as_str())
                                    .with("Status", k.status.as_str())
                                    .with("CreateDate", k.created),
                            )
                        })
                        .collect())
                })?;
            Ok(paginate(input, items)?.into_value("AccessKeyMetadata", |v| v))
        }
        "DeleteAccessKey" => {
            let key_id = req(input, "AccessKeyId")?;
            check_len("AccessKeyId", &key_id, 16, 128)?;
            let name = match input.str("UserName")? {
                Some(n) => {
                    check_name("UserName", &n, 128)?;
                    n
                }
                None => caller_user(cx)?.0,
            };
            let user_arn = sb.write::<IamState, _>(&account, HOME_REGION, |st| {
                let u = st.user(&name)?.arn.clone();
                let key = name.to_lowercase();
                match st.access_keys.get(&key_id) {
                    Some(k) if k.user == key => {
                        st.access_keys.remove(&key_id);
                        Ok(u)
                    }
                    _ => Err(no_such(format!(
                        "The Access Key with id {key_id} cannot be found."
                    ))),
                }
            })?;
            revoke_credential(sb, &key_id)?;
            cx.resources.push(user_resource(&user_arn));
            cx.resources.push(TrailResource {
                arn: key_id,
                resource_type: "AWS::IAM::AccessKey".into(),
            });
            Ok(Value::Null)
        }
        _ => Err(cx.unknown(op)),
    }
}

/// IAM refuses to delete a role or user that still has managed or inline policies.
fn ensure_no_policies(has_attached: bool, has_inline: bool) -> Result<(), AwsError> {
    if has_attached {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    if has_inline {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    Ok(())
}

/// A deleted access key stops signing at once (`InvalidClientTokenId`, as on AWS).
fn revoke_credential(sb: &Sandbox, key_id: &str) -> Result<(), AwsError> {
    sb.remove_credential(key_id)
}

// ---------------------------------------------------------------------------------------------
// The workshop seed (DESIGN.md section 2).

/// Trust policy of the workshop stack's role, as CloudFormation creates it.
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#;

fn customer_policy_doc(actions: &[&str]) -> String {
    let action = if actions.len() == 1 {
        json!(actions[0])
    } else {
        json!(actions)
    };
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "VisualEditor0", "Effect": "Allow", "Action": action, "Resource": "*" }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
}

/// The policies and user a learner has in IAM at the start of the monitoring chapter, the
/// policies they attached by hand to the workshop stack's role (which, with its instance
/// profile, the stack created: `cloudformation::seed_workshop` runs first), plus lookalikes that
/// no clean-up may touch.
pub fn seed_workshop(sb: &Sandbox, account: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let day = Duration::days(1);
    let aws = |name: &str| format!("arn:aws:iam::aws:policy/{name}");
    // The instance's role session (seed::instance_credential) signs with this role's id.
    let role_id = match crate::identity::instance_credential(account, "").principal {
        Principal::AssumedRole { role_id, .. } => role_id,
        Principal::IamUser { .. } => new_id("AROA"),
    };
    let (learner_name, learner_id) = match crate::identity::learner_credential(account).principal {
        Principal::IamUser { name, user_id } => (name, user_id),
        Principal::AssumedRole { .. } => (
            kms_workshop_names::sandbox::LEARNER_USER.to_string(),
            new_id("AIDA"),
        ),
    };
    let role = |name: &str, id: String, created: OffsetDateTime| Role {
        name: name.to_string(),
        id,
        path: "/".into(),
        arn: iam_arn(account, "role", "/", name),
        created,
        assume_role_policy: EC2_TRUST.to_string(),
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: Vec::new(),
        attached: Vec::new(),
        inline: BTreeMap::new(),
        last_used: None,
        last_used_region: None,
    };
    let policy = |name: &str, created: OffsetDateTime, docs: &[String]| {
        let versions: Vec<PolicyVersion> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| PolicyVersion {
                id: format!("v{}", i + 1),
                document: d.clone(),
                created: created + Duration::hours(i as i64),
            })
            .collect();
        ManagedPolicy {
            name: name.to_string(),
            id: new_id("ANPA"),
            path: "/".into(),
            arn: iam_arn(account, "policy", "/", name),
            created,
            updated: versions.last().map(|v| v.created).unwrap_or(created),
            description: None,
            tags: Vec::new(),
            default_version: format!("v{}", versions.len().max(1)),
            next_version: versions.len() as u32 + 1,
            versions,
        }
    };

    let import = policy(
        "KMS-Workshop-ImportMaterialPermissions",
        now - day * 2,
        &[customer_policy_doc(&["kms:ImportKeyMaterial"])],
    );
    let rotation = policy(
        "KMSWorkshop-RotationDisableOps",
        now - day * 2,
        &[customer_policy_doc(&[
            "kms:DisableKey",
            "kms:EnableKey",
            "kms:ScheduleKeyDeletion",
            "kms:UpdateAlias",
            "kms:DeleteImportedKeyMaterial",
        ])],
    );
    let additional = policy(
        "KMSWorkshop-AdditionalPermissions",
        now - day * 2,
        &[customer_policy_doc(&[
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:TagResource",
            "kms:UntagResource",
        ])],
    );
    // Lookalikes: production resources whose names start like the workshop's.
    let prod_policy = policy(
        "KMSWorkshop-AdditionalPermissions-prod",
        now - day * 40,
        &[customer_policy_doc(&[
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ])],
    );
    let prod_rotation = policy(
        "KMSWorkshop-RotationDisableOps-prod",
        now - day * 40,
        &[
            customer_policy_doc(&["kms:DisableKey", "kms:EnableKey"]),
            customer_policy_doc(&["kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion"]),
        ],
    );

    // The role and its instance profile come from the workshop stack (created before this
    // seed); the learner then attached these by hand.
    let by_hand = [
        aws("AWSKeyManagementServicePowerUser"),
        import.arn.clone(),
        rotation.arn.clone(),
        additional.arn.clone(),
    ];

    let prod_name = format!("{}-prod", kms_workshop_names::sandbox::INSTANCE_ROLE);
    let mut prod_role = role(&prod_name, new_id("AROA"), now - day * 40);
    prod_role.description = Some("Production application instances".into());
    prod_role.tags = vec![("environment".into(), "prod".into())];
    prod_role.attached = vec![prod_policy.arn.clone()];

    let learner = User {
        arn: iam_arn(account, "user", "/", &learner_name),
        name: learner_name.clone(),
        id: learner_id,
        path: "/".into(),
        created: now - day * 10,
        tags: Vec::new(),
        attached: vec![aws("AdministratorAccess")],
        inline: BTreeMap::new(),
    };
    let learner_key = AccessKey {
        id: kms_workshop_names::sandbox::LEARNER_ACCESS_KEY.to_string(),
        user: learner_name.to_lowercase(),
        status: "Active".into(),
        created: now - day * 10,
    };

    sb.write::<IamState, _>(account, HOME_REGION, |st| {
        for p in [import, rotation, additional, prod_policy, prod_rotation] {
            st.policies.insert(p.name.to_lowercase(), p);
        }
        let instance_role = st
            .roles
            .get_mut(&kms_workshop_names::sandbox::INSTANCE_ROLE.to_lowercase())
            .ok_or_else(|| {
                AwsError::internal("the workshop stack's role is missing from the seed")
            })?;
        // The instance's role-session credential (seed::instance_credential) names this id.
        instance_role.id = role_id;
        instance_role.attached.extend(by_hand);
        instance_role.last_used = Some(now - Duration::minutes(20));
        instance_role.last_used_region = Some(HOME_REGION.to_string());
        st.roles.insert(prod_role.name.to_lowercase(), prod_role);
        st.users.insert(learner.name.to_lowercase(), learner);
        st.access_keys.insert(learner_key.id.clone(), learner_key);
        Ok(())
    })
}

/// Classroom mode: the role an instructor in `instructor_account` assumes to administer (and
/// clean up) a learner's account, with the trust policy AWS Organizations gives it.
pub fn seed_classroom_role(
    sb: &Sandbox,
    account: &str,
    instructor_account: &str,
) -> Result<(), AwsError> {
    let name = kms_workshop_names::sandbox::CLASSROOM_ROLE;
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{instructor_account}:root")},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string();
    let role = Role {
        name: name.to_string(),
        id: new_id("AROA"),
        path: "/".into(),
        arn: iam_arn(account, "role", "/", name),
        created: sb.clock.now() - Duration::days(30),
        assume_role_policy: trust,
        description: Some("Administrator access for the classroom's instructor".into()),
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: Vec::new(),
        attached: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
        inline: BTreeMap::new(),
        last_used: None,
        last_used_region: None,
    };
    sb.write::<IamState, _>(account, HOME_REGION, |st| {
        st.roles.insert(name.to_lowercase(), role);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_with_aws_messages() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}"#;
        assert!(check_document(ok, DocKind::Identity).is_ok());
        assert_eq!(
            check_document("{not json", DocKind::Identity)
                .unwrap_err()
                .message,
            "This policy contains invalid Json"
        );
        let no_resource =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt"}]}"#;
        assert_eq!(
            check_document(no_resource, DocKind::Identity)
                .unwrap_err()
                .message,
            "Policy statement must contain resources."
        );
        let no_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#;
        assert_eq!(
            check_document(no_action, DocKind::Identity)
                .unwrap_err()
                .message,
            "Policy statement must contain actions."
        );
        assert!(check_document(EC2_TRUST, DocKind::Trust).is_ok());
        assert_eq!(
            check_document(EC2_TRUST, DocKind::Identity)
                .unwrap_err()
                .code,
            "MalformedPolicyDocument"
        );
        assert_eq!(
            check_document(ok, DocKind::Trust).unwrap_err().message,
            "Has prohibited field Resource"
        );
        for p in aws_managed_policies() {
            for v in &p.versions {
                check_document(&v.document, DocKind::Identity).unwrap();
            }
        }
    }

    #[test]
    fn url_encoding_is_rfc3986() {
        assert_eq!(
            url_encode(r#"{"a": "s3:*"}"#),
            "%7B%22a%22%3A%20%22s3%3A%2A%22%7D"
        );
        assert_eq!(url_encode("ec2.amazonaws.com-_~"), "ec2.amazonaws.com-_~");
    }

    #[test]
    fn query_parameters_unflatten_for_cloudtrail() {
        let i = Input::form(
            [
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("Tags.member.1.Key", "a"),
                ("Tags.member.1.Value", "1"),
                ("Tags.member.2.Key", "b"),
                ("Tags.member.2.Value", "2"),
                ("MaxSessionDuration", "7200"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            crate::protocol::input::FormStyle::Query,
        );
        let j = Iam.request_parameters("CreateRole", &i);
        assert_eq!(
            j,
            json!({"maxSessionDuration": 7200, "roleName": "r", "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]})
        );
    }

    #[test]
    fn deeply_dotted_parameters_do_not_recurse_deeply() {
        let key = vec!["a"; 200_000].join(".");
        let i = Input::form(
            [(key, "v".to_string())].into_iter().collect(),
            crate::protocol::input::FormStyle::Query,
        );
        assert!(Iam.request_parameters("CreateRole", &i).is_object());
    }

    /// Every operation, with missing, malformed, huge and hostile members: answers, never a panic.
    #[test]
    fn hostile_inputs_get_answers_not_panics() {
        let sb = Sandbox::open(crate::Config::default()).unwrap();
        let cred = crate::identity::learner_credential(kms_workshop_names::sandbox::ACCOUNT);
        let ops = [
            "GetRole",
            "CreateRole",
            "DeleteRole",
            "ListRoles",
            "ListAttachedRolePolicies",
            "ListAttachedUserPolicies",
            "AttachRolePolicy",
            "AttachUserPolicy",
            "DetachRolePolicy",
            "DetachUserPolicy",
            "ListRolePolicies",
            "PutRolePolicy",
            "GetRolePolicy",
            "DeleteRolePolicy",
            "TagRole",
            "UntagRole",
            "ListRoleTags",
            "CreatePolicy",
            "GetPolicy",
            "DeletePolicy",
            "ListPolicies",
            "GetPolicyVersion",
            "ListPolicyVersions",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "SetDefaultPolicyVersion",
            "ListEntitiesForPolicy",
            "CreateInstanceProfile",
            "GetInstanceProfile",
            "DeleteInstanceProfile",
            "ListInstanceProfiles",
            "AddRoleToInstanceProfile",
            "RemoveRoleFromInstanceProfile",
            "ListInstanceProfilesForRole",
            "GetUser",
            "CreateUser",
            "DeleteUser",
            "ListUsers",
            "CreateAccessKey",
            "ListAccessKeys",
            "DeleteAccessKey",
            "NoSuchOperation",
        ];
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let long = "x".repeat(3000);
        let role = "KMSWorkshop-InstanceInitRole".to_string();
        let variants: Vec<Vec<(&str, String)>> = vec![
            vec![],
            vec![
                ("RoleName", role.clone()),
                ("UserName", "workshop-learner".into()),
                ("InstanceProfileName", role.clone()),
            ],
            vec![
                ("RoleName", "ü".into()),
                ("PolicyArn", "arn:aws:iam::aws:policy/".into()),
                ("VersionId", "v".into()),
            ],
            vec![
                ("RoleName", long.clone()),
                ("PolicyArn", "arn:::::".into()),
                ("Path", "/\u{0}/".into()),
            ],
            vec![
                (
                    "PolicyArn",
                    format!("arn:aws:iam::111122223333:policy/{long}"),
                ),
                ("VersionId", "v99999999999999999999".into()),
            ],
            vec![
                ("MaxItems", "-1".into()),
                ("Marker", "".into()),
                ("PathPrefix", "".into()),
                ("Scope", "".into()),
            ],
            vec![
                ("MaxItems", "99999999999999999999".into()),
                ("Marker", "%%%".into()),
                ("OnlyAttached", "maybe".into()),
            ],
            vec![
                ("Marker", crate::util::b64(&[0xff, 0xfe])),
                ("MaxItems", "1".into()),
                ("EntityFilter", "Role".into()),
            ],
            vec![
                ("Tags.member.1.Value", "v".into()),
                ("TagKeys.member.1", "".into()),
                ("RoleName", role.clone()),
            ],
            vec![
                ("RoleName", "r".into()),
                ("PolicyName", "p".into()),
                ("AssumeRolePolicyDocument", deep.clone()),
                ("PolicyDocument", deep.clone()),
                ("MaxSessionDuration", "1e9".into()),
            ],
            vec![
                ("PolicyName", "p".into()),
                (
                    "PolicyDocument",
                    r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":[]}]}"#.into(),
                ),
                ("SetAsDefault", "true".into()),
            ],
            vec![("AccessKeyId", long.clone()), ("UserName", "nobody".into())],
        ];
        for op in ops {
            for v in &variants {
                let mut params: BTreeMap<String, String> =
                    v.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                params.insert("Action".into(), op.into());
                let input = Input::form(params, crate::protocol::input::FormStyle::Query);
                let mut cx = Call {
                    sandbox: &sb,
                    caller: crate::identity::Caller::from(&cred),
                    region: HOME_REGION.into(),
                    request_id: "r".into(),
                    now: sb.clock.now(),
                    protocol: Protocol::AwsQuery,
                    resources: Vec::new(),
                    response_elements: None,
                };
                if let Err(e) = Iam.call(&mut cx, op, &input) {
                    assert!((400..500).contains(&e.status), "{op} {v:?}: {e}");
                }
                let _ = Iam.request_parameters(op, &input);
            }
        }
    }

    #[test]
    fn names_paths_and_versions() {
        assert!(check_name("RoleName", "KMSWorkshop-InstanceInitRole", 64).is_ok());
        assert_eq!(
            check_name("RoleName", "bad name", 64).unwrap_err().code,
            "ValidationError"
        );
        assert!(check_name("RoleName", &"a".repeat(65), 64).is_err());
        let form = |k: &str, v: &str| {
            Input::form(
                [(k.to_string(), v.to_string())].into_iter().collect(),
                crate::protocol::input::FormStyle::Query,
            )
        };
        assert_eq!(path_param(&form("Path", "/a/b/")).unwrap(), "/a/b/");
        assert!(path_param(&form("Path", "a")).is_err());
        assert!(path_param(&form("Path", "//")).is_err());
        assert_eq!(version_param(&form("VersionId", "v12")).unwrap(), "v12");
        assert!(version_param(&form("VersionId", "v0")).is_err());
        assert!(version_param(&form("VersionId", "1")).is_err());
        assert_eq!(
            max_items(&form("MaxItems", "0")).unwrap_err().code,
            "ValidationError"
        );
    }

    #[test]
    fn paging_resumes_after_the_marker() {
        let form = |pairs: &[(&str, &str)]| {
            Input::form(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                crate::protocol::input::FormStyle::Query,
            )
        };
        let items = || (0..5).map(|i| (format!("k{i}"), i)).collect::<Vec<_>>();
        let p = paginate(&form(&[("MaxItems", "2")]), items()).unwrap();
        assert_eq!(p.items, vec![0, 1]);
        let m = p.marker.unwrap();
        let p = paginate(&form(&[("MaxItems", "2"), ("Marker", &m)]), items()).unwrap();
        assert_eq!(p.items, vec![2, 3]);
        let m = p.marker.unwrap();
        let p = paginate(&form(&[("MaxItems", "2"), ("Marker", &m)]), items()).unwrap();
        assert_eq!(p.items, vec![4]);
        assert!(p.marker.is_none());
        assert_eq!(
            paginate(&form(&[("Marker", "%%%")]), items())
                .unwrap_err()
                .code,
            "ValidationError"
        );
    }
}
