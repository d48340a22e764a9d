//! The one evaluator of resource policies in the sandbox: SNS topic policies (may EventBridge
//! publish?) and IAM role trust policies (may this caller assume the role?).
//!
//! A request is allowed when some statement with `Effect: Allow` applies to it and none with
//! `Effect: Deny` does (an explicit deny wins whatever the order). A statement applies when its
//! `Principal`, `Action`, `Resource` and every `Condition` match. Only the parts of the policy
//! language these two policies use are understood; anything else (an unknown condition
//! operator or key, `NotAction`, a policy that is not JSON) makes a statement not apply, so a
//! policy the sandbox cannot read never grants access.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value as J;

use super::wildcard::{matches, POLICY};

/// Who makes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// An AWS service acting on its own behalf (`events.amazonaws.com`).
    Service(&'a str),
    /// An IAM identity: its account and ARN.
    Identity { account: &'a str, arn: &'a str },
}

/// What a policy is asked about.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub caller: Caller<'a>,
    /// `service:Operation`, matched case-insensitively against `Action` patterns.
    pub action: &'a str,
    /// The resource acted on, matched against `Resource` patterns; `None` for policies that
    /// name no resource (trust policies are attached to the one resource they govern).
    pub resource: Option<&'a str>,
    /// Condition keys (matched case-insensitively) and their values in this request; a key
    /// with no value, or not listed, makes every condition on it fail.
    pub context: &'a [(&'a str, Option<&'a str>)],
}

/// The outcome of evaluating a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows the request.
    ImplicitDeny,
    /// A statement denies the request.
    ExplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// Bytes of policy text whose parsed documents a thread keeps before it starts again (a
/// key policy is a few hundred bytes; a policy may be up to 32 KB).
const PARSED_BYTES: usize = 1 << 20;

/// Parsed documents by their text, and the bytes of text they were parsed from.
type Parsed = (HashMap<Box<str>, Rc<J>>, usize);

thread_local! {
    /// Policies as parsed documents, by their text: the same key policy is asked about on
    /// every call that uses the key, and parsing it cost more than the rest of the call.
    static PARSED: RefCell<Parsed> = RefCell::default();
}

/// `policy` as a JSON document; `None` when it is not JSON.
fn parsed(policy: &str) -> Option<Rc<J>> {
    PARSED.with_borrow_mut(|(docs, bytes)| {
        if let Some(doc) = docs.get(policy) {
            return Some(doc.clone());
        }
        let doc = Rc::new(serde_json::from_str::<J>(policy).ok()?);
        if *bytes + policy.len() > PARSED_BYTES {
            docs.clear();
            *bytes = 0;
        }
        *bytes += policy.len();
        docs.insert(policy.into(), doc.clone());
        Some(doc)
    })
}

/// Evaluate `policy` (a JSON document) for `request`.
pub fn evaluate(policy: &str, request: &Request<'_>) -> Decision {
    let Some(doc) = parsed(policy) else {
        return Decision::ImplicitDeny;
    };
    let statements: Vec<&J> = match doc.get("Statement") {
        Some(J::Array(a)) => a.iter().collect(),
        Some(s @ J::Object(_)) => vec![s],
        _ => return Decision::ImplicitDeny,
    };
    let mut decision = Decision::ImplicitDeny;
    for st in statements.into_iter().filter(|st| applies(st, request)) {
        match st.get("Effect").and_then(J::as_str) {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") => decision = Decision::Allow,
            _ => {}
        }
    }
    decision
}

/// Whether `policy` allows `request`.
pub fn allows(policy: &str, request: &Request<'_>) -> bool {
    evaluate(policy, request).is_allowed()
}

fn applies(st: &J, request: &Request<'_>) -> bool {
    principal_matches(st.get("Principal"), request.caller)
        && strings(st.get("Action")).iter().any(|a| {
            matches(
                POLICY,
                &a.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        })
        && request.resource.is_none_or(|resource| {
            strings(st.get("Resource"))
                .iter()
                .any(|r| matches(POLICY, r, resource))
        })
        && conditions_hold(st.get("Condition"), request.context)
}

/// `"*"` names everyone. Otherwise a service is named in `Principal.Service`; an identity in
/// `Principal.AWS` by its ARN, its account id or its account's root ARN. `"AWS": "*"` names
/// every caller.
fn principal_matches(principal: Option<&J>, caller: Caller<'_>) -> bool {
    let named = match principal {
        Some(J::String(s)) => return s == "*",
        Some(J::Object(p)) => p,
        _ => return false,
    };
    let aws = strings(named.get("AWS"));
    if aws.iter().any(|p| p == "*") {
        return true;
    }
    match caller {
        Caller::Service(service) => strings(named.get("Service")).iter().any(|s| s == service),
        Caller::Identity { account, arn } => {
            let root = format!("arn:aws:iam::{account}:root");
            aws.iter().any(|p| p == account || *p == root || p == arn)
        }
    }
}

/// Every operator's every key must hold; a key holds when any of its values matches.
fn conditions_hold(condition: Option<&J>, context: &[(&str, Option<&str>)]) -> bool {
    let ops = match condition {
        None => return true,
        Some(J::Object(ops)) => ops,
        Some(_) => return false,
    };
    ops.iter().all(|(op, keys)| {
        let J::Object(keys) = keys else { return false };
        keys.iter().all(|(key, wants)| {
            let have = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .and_then(|(_, v)| *v);
            let Some(have) = have else { return false };
            let wants = strings(Some(wants));
            match op.as_str() {
                "StringEquals" | "ArnEquals" => wants.iter().any(|w| w == have),
                "StringLike" | "ArnLike" => wants.iter().any(|w| matches(POLICY, w, have)),
                _ => false,
            }
        })
    })
}

/// A policy element that may be one string or a list of them.
fn strings(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sns:us-east-1:111122223333:t";

    fn publish<'a>(context: &'a [(&'a str, Option<&'a str>)]) -> Request<'a> {
        Request {
            caller: Caller::Service("events.amazonaws.com"),
            action: "sns:Publish",
            resource: Some(ARN),
            context,
        }
    }

    #[test]
    fn explicit_deny_wins_in_any_order() {
        let allow = r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}"#;
        let deny =
            r#"{"Effect":"Deny","Principal":"*","Action":"SNS:Pub*","Resource":"arn:aws:sns:*"}"#;
        let req = publish(&[]);
        for order in [[allow, deny], [deny, allow]] {
            let policy = format!(r#"{{"Statement":[{},{}]}}"#, order[0], order[1]);
            assert_eq!(evaluate(&policy, &req), Decision::ExplicitDeny);
        }
        let only_allow = format!(r#"{{"Statement":{allow}}}"#);
        assert_eq!(evaluate(&only_allow, &req), Decision::Allow);
        assert_eq!(evaluate("{}", &req), Decision::ImplicitDeny);
        assert_eq!(evaluate("not json", &req), Decision::ImplicitDeny);
    }

    #[test]
    fn conditions_need_every_key_and_a_known_operator() {
        let policy = |cond: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Service":"events.amazonaws.com"}},"Action":"sns:Publish","Resource":"{ARN}","Condition":{cond}}}]}}"#
            )
        };
        let ctx = [
            ("aws:SourceArn", Some("arn:aws:events:us-east-1:1:rule/r")),
            ("aws:SourceAccount", Some("1")),
        ];
        let req = publish(&ctx);
        assert!(allows(
            &policy(r#"{"ArnLike":{"aws:sourcearn":"arn:aws:events:*:1:rule/*"}}"#),
            &req
        ));
        assert!(allows(
            &policy(r#"{"StringEquals":{"AWS:SourceAccount":["2","1"]}}"#),
            &req
        ));
        assert!(!allows(
            &policy(r#"{"StringEquals":{"aws:SourceAccount":"1","aws:SourceOwner":"1"}}"#),
            &req
        ));
        assert!(!allows(
            &policy(r#"{"NumericEquals":{"aws:SourceAccount":"1"}}"#),
            &req
        ));
        assert!(!allows(&policy(r#""StringEquals""#), &req));
    }

    #[test]
    fn identities_by_account_root_or_arn_without_resource() {
        let who = Caller::Identity {
            account: "999988887777",
            arn: "arn:aws:iam::999988887777:user/i",
        };
        let req = |context: &'static [(&'static str, Option<&'static str>)]| Request {
            caller: who,
            action: "sts:AssumeRole",
            resource: None,
            context,
        };
        let without: &[(&str, Option<&str>)] = &[("sts:ExternalId", None)];
        for p in [
            "999988887777",
            "arn:aws:iam::999988887777:root",
            "arn:aws:iam::999988887777:user/i",
        ] {
            let policy = format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{p}"}},"Action":"sts:*"}}}}"#
            );
            assert!(allows(&policy, &req(without)), "{p}");
        }
        let service = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        assert!(!allows(service, &req(without)));
        let ext = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}}"#;
        assert!(allows(ext, &req(&[("sts:ExternalId", Some("x1"))])));
        assert!(!allows(ext, &req(without)));
    }
}
