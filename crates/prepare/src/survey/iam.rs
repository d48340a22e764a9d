//! The customer policies (each with the workshop's document, or stop) and what is attached to
//! the stack's role by hand.

use std::collections::BTreeSet;

use kms_workshop_cleanup::discover::attached_policy_arns;
use kms_workshop_cleanup::{names, Executor, ResourceKind};
use kms_workshop_names::starting::{attached_by_hand, POLICIES};

use super::{wrong, Part, Survey};
use crate::PrepareError;

/// A policy document as IAM hands it out (URL-encoded), parsed.
fn decoded(encoded: &str) -> Option<serde_json::Value> {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&text).ok()
}

/// What a document says, whatever its layout: its statements without their ids, each list
/// of actions or resources as a sorted list (a single value is a list of one), sorted.
pub(crate) fn normalized(doc: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => return None,
    };
    let mut out: Vec<serde_json::Value> = statements
        .into_iter()
        .map(|mut st| {
            if let Some(m) = st.as_object_mut() {
                m.remove("Sid");
                for k in ["Action", "NotAction", "Resource", "NotResource"] {
                    if let Some(v) = m.get_mut(k) {
                        let mut list: Vec<String> = match v {
                            serde_json::Value::String(x) => vec![x.clone()],
                            serde_json::Value::Array(a) => a
                                .iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect(),
                            _ => continue,
                        };
                        list.sort();
                        *v = serde_json::json!(list);
                    }
                }
            }
            st
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    Some(out)
}

/// The actions a policy document allows (for saying how a document differs).
pub(crate) fn allowed_actions(encoded: &str) -> Option<BTreeSet<String>> {
    let doc = decoded(encoded)?;
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => return None,
    };
    let mut out = BTreeSet::new();
    for st in statements {
        if st["Effect"] != "Allow" {
            continue;
        }
        match &st["Action"] {
            serde_json::Value::String(a) => {
                out.insert(a.clone());
            }
            serde_json::Value::Array(a) => {
                out.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)));
            }
            _ => {}
        }
    }
    Some(out)
}

/// Each customer policy: absent, or present with the workshop's actions (else stop); then,
/// when the stack's role exists, which of the by-hand policies are attached to it.
pub(super) async fn policies(ex: &Executor, s: &mut Survey) -> Result<(), PrepareError> {
    let iam = &ex.clients().iam;
    let pace = ex.pace();
    for p in POLICIES {
        let arn = format!("arn:aws:iam::{}:policy/{}", s.account, p.name);
        let got = pace
            .send("GetPolicy", || iam.get_policy().policy_arn(&arn).send())
            .await;
        let version = match got {
            Ok(o) => o
                .policy()
                .and_then(|p| p.default_version_id())
                .unwrap_or("v1")
                .to_string(),
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        };
        let doc = pace
            .send("GetPolicyVersion", || {
                iam.get_policy_version()
                    .policy_arn(&arn)
                    .version_id(&version)
                    .send()
            })
            .await?;
        let encoded = doc
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default();
        let want = serde_json::from_str::<serde_json::Value>(&p.document())
            .ok()
            .and_then(|d| normalized(&d));
        let have = decoded(encoded).and_then(|d| normalized(&d));
        if have.is_none() || have != want {
            let have = allowed_actions(encoded).unwrap_or_default();
            return Err(wrong(
                format!("policy {}", p.name),
                format!(
                    "it exists with another document (it allows [{}]; the workshop's allows [{}] on every resource); delete it or set its default version to the workshop's document",
                    have.into_iter().collect::<Vec<_>>().join(", "),
                    p.actions.join(", ")
                ),
            ));
        }
        s.add(
            Part::Policy {
                name: p.name.to_string(),
            },
            format!("policy {}", p.name),
            Some((arn, ResourceKind::IamPolicy)),
        );
    }
    if !s.has(&Part::Stack) {
        return Ok(());
    }
    let attached = attached_policy_arns(iam, pace, names::ROLE).await?;
    for arn in attached_by_hand(&s.account) {
        if attached.contains(&arn) {
            s.add(
                Part::Attached {
                    policy_arn: arn.clone(),
                },
                format!("{arn} attached to role {}", names::ROLE),
                None,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_actions_of_an_encoded_document() {
        let doc = kms_workshop_names::starting::POLICIES[1].document();
        let encoded: String =
            percent_encoding::utf8_percent_encode(&doc, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let got = allowed_actions(&encoded).expect("a document");
        assert_eq!(got.len(), POLICIES[1].actions.len());
        assert!(got.contains("kms:ScheduleKeyDeletion"));
        assert_eq!(allowed_actions("not json"), None);
    }

    #[test]
    fn documents_that_say_the_same_compare_equal_and_others_do_not() {
        let ours: serde_json::Value = serde_json::from_str(&POLICIES[0].document()).expect("JSON");
        let same = serde_json::json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["kms:ImportKeyMaterial"], "Resource": "*"}});
        assert_eq!(normalized(&ours), normalized(&same));
        for other in [
            serde_json::json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kms:ImportKeyMaterial", "Resource": "arn:aws:kms:*:*:key/x"}}),
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:ImportKeyMaterial", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
            serde_json::json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kms:ImportKeyMaterial", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}}),
        ] {
            assert_ne!(normalized(&ours), normalized(&other), "{other}");
        }
    }
}
