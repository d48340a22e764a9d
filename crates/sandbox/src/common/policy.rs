//! The one evaluator of resource policies in the sandbox: SNS topic policies (may EventBridge
//! publish?), IAM role trust policies (may this caller assume the role?) and KMS key policies
//! (does a statement deny this caller?).
//!
//! A request is allowed when some statement with `Effect: Allow` applies to it and none with
//! `Effect: Deny` does (an explicit deny wins whatever the order). A statement applies when its
//! `Principal`, `Action`, `Resource` and every `Condition` match. Only the parts of the policy
//! language these policies use are understood; anything else (an unknown condition operator
//! or key, `NotAction`, a policy that is not JSON) makes a statement not apply, so a policy the
//! sandbox cannot read never grants access.
//!
//! A policy is read once per thread into [`Compiled`] statements (its patterns lowercased,
//! its one-or-many elements made lists): the same key policy is asked about on every call that
//! uses the key, and reading its JSON again each time cost more than the rest of the call.

use std::cell::RefCell;
use std::rc::Rc;

use hashbrown::HashMap;
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

/// A policy's statements as evaluation needs them.
#[derive(Debug, Default)]
struct Compiled {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
    /// Neither: the statement decides nothing.
    Other,
}

#[derive(Debug)]
enum Principal {
    /// `"*"`, or `"AWS"` naming `"*"`.
    Everyone,
    /// The identities (`AWS`) and services (`Service`) named.
    Named {
        aws: Vec<String>,
        service: Vec<String>,
    },
    /// Missing, or a form that names no one.
    Nobody,
}

#[derive(Debug, Clone, Copy)]
enum Operator {
    Equals,
    Like,
    /// An operator the sandbox does not know: every key under it fails.
    Unknown,
}

#[derive(Debug)]
struct Statement {
    effect: Effect,
    principal: Principal,
    /// `Action` patterns, lowercased (actions match case-insensitively).
    actions: Vec<String>,
    resources: Vec<String>,
    /// `None` when `Condition` is there but not an object: the statement never applies.
    conditions: Option<Vec<(Operator, Keys)>>,
}

/// An operator's keys and the values each may have; `None` when the operator's value is not
/// an object of keys (it never holds).
type Keys = Option<Vec<(String, Vec<String>)>>;

/// Bytes of policy text whose compiled statements a thread keeps before it starts again (a
/// key policy is a few hundred bytes; a policy may be up to 32 KB).
const PARSED_BYTES: usize = 1 << 20;

/// Compiled policies by their text, and the bytes of text they were read from.
type Parsed = (HashMap<Box<str>, Rc<Compiled>>, usize);

thread_local! {
    static PARSED: RefCell<Parsed> = RefCell::default();
}

/// `policy` compiled; `None` when it is not JSON.
fn compiled(policy: &str) -> Option<Rc<Compiled>> {
    PARSED.with_borrow_mut(|(docs, bytes)| {
        if let Some(doc) = docs.get(policy) {
            return Some(doc.clone());
        }
        let doc = Rc::new(compile(&serde_json::from_str::<J>(policy).ok()?));
        if *bytes + policy.len() > PARSED_BYTES {
            docs.clear();
            *bytes = 0;
        }
        *bytes += policy.len();
        docs.insert(policy.into(), doc.clone());
        Some(doc)
    })
}

fn compile(doc: &J) -> Compiled {
    let statements = match doc.get("Statement") {
        Some(J::Array(a)) => a.iter().filter_map(statement).collect(),
        Some(s @ J::Object(_)) => statement(s).into_iter().collect(),
        _ => Vec::new(),
    };
    Compiled { statements }
}

/// One statement; `None` for one that is not an object (it applies to nothing).
fn statement(st: &J) -> Option<Statement> {
    let st = st.as_object()?;
    let effect = match st.get("Effect").and_then(J::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => Effect::Other,
    };
    let principal = match st.get("Principal") {
        Some(J::String(s)) if s == "*" => Principal::Everyone,
        Some(J::Object(p)) => {
            let aws = strings(p.get("AWS"));
            if aws.iter().any(|p| p == "*") {
                Principal::Everyone
            } else {
                Principal::Named {
                    aws,
                    service: strings(p.get("Service")),
                }
            }
        }
        _ => Principal::Nobody,
    };
    let conditions = match st.get("Condition") {
        None => Some(Vec::new()),
        Some(J::Object(ops)) => Some(
            ops.iter()
                .map(|(op, keys)| (operator(op), conditions(keys)))
                .collect(),
        ),
        Some(_) => None,
    };
    Some(Statement {
        effect,
        principal,
        actions: strings(st.get("Action"))
            .iter()
            .map(|a| a.to_ascii_lowercase())
            .collect(),
        resources: strings(st.get("Resource")),
        conditions,
    })
}

fn operator(op: &str) -> Operator {
    match op {
        "StringEquals" | "ArnEquals" => Operator::Equals,
        "StringLike" | "ArnLike" => Operator::Like,
        _ => Operator::Unknown,
    }
}

/// An operator's keys and their values.
fn conditions(keys: &J) -> Keys {
    let keys = keys.as_object()?;
    Some(
        keys.iter()
            .map(|(key, wants)| (key.clone(), strings(Some(wants))))
            .collect(),
    )
}

/// Evaluate `policy` (a JSON document) for `request`.
pub fn evaluate(policy: &str, request: &Request<'_>) -> Decision {
    let Some(doc) = compiled(policy) else {
        return Decision::ImplicitDeny;
    };
    let action = request.action.to_ascii_lowercase();
    let mut decision = Decision::ImplicitDeny;
    for st in doc
        .statements
        .iter()
        .filter(|st| applies(st, &action, request))
    {
        match st.effect {
            Effect::Deny => return Decision::ExplicitDeny,
            Effect::Allow => decision = Decision::Allow,
            Effect::Other => {}
        }
    }
    decision
}

/// Whether `policy` has a statement that denies (to anyone, anything): without one it never
/// answers [`Decision::ExplicitDeny`], so a caller that refuses only on that need not build a
/// request to ask it.
pub fn may_deny(policy: &str) -> bool {
    compiled(policy).is_some_and(|doc| doc.statements.iter().any(|st| st.effect == Effect::Deny))
}

/// Whether `policy` allows `request`.
pub fn allows(policy: &str, request: &Request<'_>) -> bool {
    evaluate(policy, request).is_allowed()
}

/// `action` is the request's, lowercased.
fn applies(st: &Statement, action: &str, request: &Request<'_>) -> bool {
    principal_matches(&st.principal, request.caller)
        && st.actions.iter().any(|a| matches(POLICY, a, action))
        && request
            .resource
            .is_none_or(|resource| st.resources.iter().any(|r| matches(POLICY, r, resource)))
        && st
            .conditions
            .as_ref()
            .is_some_and(|ops| conditions_hold(ops, request.context))
}

/// `"*"` names everyone. Otherwise a service is named in `Principal.Service`; an identity in
/// `Principal.AWS` by its ARN, its account id or its account's root ARN. `"AWS": "*"` names
/// every caller.
fn principal_matches(principal: &Principal, caller: Caller<'_>) -> bool {
    let (aws, service) = match principal {
        Principal::Everyone => return true,
        Principal::Nobody => return false,
        Principal::Named { aws, service } => (aws, service),
    };
    match caller {
        Caller::Service(s) => service.iter().any(|n| n == s),
        Caller::Identity { account, arn } => aws.iter().any(|p| {
            p == account
                || p == arn
                || p.strip_prefix("arn:aws:iam::")
                    .and_then(|r| r.strip_suffix(":root"))
                    == Some(account)
        }),
    }
}

/// Every operator's every key must hold; a key holds when any of its values matches.
fn conditions_hold(ops: &[(Operator, Keys)], context: &[(&str, Option<&str>)]) -> bool {
    ops.iter().all(|(op, keys)| {
        let Some(keys) = keys else { return false };
        keys.iter().all(|(key, wants)| {
            let have = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .and_then(|(_, v)| *v);
            let Some(have) = have else { return false };
            match op {
                Operator::Equals => wants.iter().any(|w| w == have),
                Operator::Like => wants.iter().any(|w| matches(POLICY, w, have)),
                Operator::Unknown => false,
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
        assert!(!may_deny(&only_allow) && !may_deny("{}") && !may_deny("not json"));
        assert!(may_deny(&format!(r#"{{"Statement":[{allow},{deny}]}}"#)));
        assert!(may_deny(&format!(r#"{{"Statement":{deny}}}"#)));
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

    /// One policy's statements are read once, then asked about by different callers: each
    /// gets its own answer. Forms outside the language the sandbox reads apply to no one.
    #[test]
    fn a_policy_read_once_answers_each_caller_alone() {
        let policy = r#"{"Statement":[7,{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"KMS:Decrypt","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":["111122223333","444455556666"]},"Action":"kms:*","Resource":"*","Condition":{"NumericEquals":{}}}]}"#;
        let ask = |account: &'static str, action: &'static str| Request {
            caller: Caller::Identity {
                account,
                arn: "arn:aws:iam::000000000000:user/u",
            },
            action,
            resource: Some("arn:aws:kms:us-east-1:111122223333:key/k"),
            context: &[],
        };
        for (account, action, decision) in [
            ("111122223333", "kms:decrypt", Decision::ExplicitDeny),
            ("444455556666", "kms:Decrypt", Decision::Allow),
            ("111122223333", "kms:Encrypt", Decision::Allow),
            ("777788889999", "kms:Encrypt", Decision::ImplicitDeny),
        ] {
            assert_eq!(
                evaluate(policy, &ask(account, action)),
                decision,
                "{account} {action}"
            );
        }
        let never = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":"StringEquals"}}"#;
        assert_eq!(
            evaluate(never, &ask("111122223333", "kms:Encrypt")),
            Decision::ImplicitDeny
        );
    }
}
