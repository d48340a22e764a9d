//! The customer policies (each with the workshop's document, or stop) and what is attached to
//! the stack's role by hand.

use std::collections::BTreeSet;

use kms_workshop_cleanup::discover::attached_policy_arns;
use kms_workshop_cleanup::{names, Executor, ResourceKind};
use kms_workshop_names::starting::{attached_by_hand, POLICIES};

use super::{wrong, Part, Survey};
use crate::PrepareError;

/// The actions a policy document allows on every resource (IAM hands documents out
/// URL-encoded).
pub(crate) fn allowed_actions(encoded: &str) -> Option<BTreeSet<String>> {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
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
        let want: BTreeSet<String> = p.actions.iter().map(|a| a.to_string()).collect();
        let have = allowed_actions(encoded).unwrap_or_default();
        if have != want {
            return Err(wrong(
                format!("policy {}", p.name),
                format!(
                    "it exists and allows [{}], not the workshop's [{}]; delete it or set its default version to the workshop's document",
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
}
