//! IAM's grammar checks on policy documents (permissions and trust policies) with AWS's
//! `MalformedPolicyDocument` messages, and the size IAM's quotas count.

use serde_json::{Map, Value as J};

use super::errors::{malformed, quota};
use super::params::{check_len, req};
use crate::protocol::{AwsError, Input};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DocKind {
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

fn syntax() -> AwsError {
    malformed("Syntax errors in policy.")
}

/// IAM's grammar checks on a policy document, with AWS's messages.
pub(super) fn check_document(doc: &str, kind: DocKind) -> Result<(), AwsError> {
    let v: J =
        serde_json::from_str(doc).map_err(|_| malformed("This policy contains invalid Json"))?;
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
        check_statement(st, kind, &mut sids)?;
    }
    Ok(())
}

/// One statement; `sids` are the statement ids seen so far in the document.
fn check_statement<'a>(
    st: &'a Map<String, J>,
    kind: DocKind,
    sids: &mut Vec<&'a str>,
) -> Result<(), AwsError> {
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
    check_targets(st, kind)?;
    if let Some(c) = st.get("Condition") {
        let J::Object(ops) = c else {
            return Err(syntax());
        };
        if ops.values().any(|v| !v.is_object()) {
            return Err(syntax());
        }
    }
    Ok(())
}

/// Permissions policies name resources and no principal; trust policies the reverse.
fn check_targets(st: &Map<String, J>, kind: DocKind) -> Result<(), AwsError> {
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
    Ok(())
}

/// Quotas count characters other than white space.
pub(super) fn policy_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// A required policy document member, checked.
pub(super) fn document_param(
    input: &Input,
    member: &str,
    kind: DocKind,
) -> Result<String, AwsError> {
    let doc = req(input, member)?;
    check_len(member, &doc, 1, 131_072)?;
    check_document(&doc, kind)?;
    Ok(doc)
}

/// The `PolicyDocument` of a managed policy's version, within the `PolicySize` quota.
pub(super) fn managed_document_param(input: &Input) -> Result<String, AwsError> {
    let doc = document_param(input, "PolicyDocument", DocKind::Identity)?;
    if policy_size(&doc) > 6144 {
        return Err(quota("PolicySize", 6144));
    }
    Ok(doc)
}
