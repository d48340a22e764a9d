//! KMS: the workshop's customer managed keys (by its aliases, the inventory or its tag) and
//! their aliases. AWS managed keys are never the workshop's; keys already pending deletion
//! need nothing more and are reported as skipped.

use aws_sdk_kms::types::KeyMetadata;
use serde::{Deserialize, Serialize};

use super::{RegionFound, Skipped};
use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, ErrorClass, Pace};

/// A customer managed key of the workshop's, to be scheduled for deletion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFound {
    pub id: String,
    pub arn: String,
    pub aliases: Vec<String>,
    /// Why it is the workshop's (alias, tag, inventory).
    pub why: String,
}

/// The workshop's keys in this region: those to delete go to `rf.keys`, those already pending
/// deletion to `rf.scheduled_keys` and `skipped`; the aliases of both to `rf.aliases`.
pub(super) async fn keys(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    rf: &mut RegionFound,
    skipped: &mut Vec<Skipped>,
) -> Result<(), AwsFailure> {
    let kms = &rc.kms;
    let aliases = alias_targets(kms, pace).await?;
    let key_ids: Vec<String> = pages!(pace, "ListKeys", kms.list_keys(), next_marker)
        .await?
        .iter()
        .flat_map(|p| p.keys())
        .filter_map(|k| k.key_id().map(str::to_string))
        .collect();
    for id in key_ids {
        let described = pace
            .send("DescribeKey", || kms.describe_key().key_id(&id).send())
            .await;
        let meta = match described {
            Ok(o) => match o.key_metadata {
                Some(m) => m,
                None => continue,
            },
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        // AWS-managed keys are never touched, whatever else matches.
        if meta.key_manager().map(|m| m.as_str()) != Some("CUSTOMER") {
            continue;
        }
        let key_aliases: Vec<String> = aliases
            .iter()
            .filter(|(n, t)| t == &id && !n.starts_with("alias/aws/"))
            .map(|(n, _)| n.clone())
            .collect();
        let why = why_ours(kms, pace, inventory, &id, &meta, &key_aliases).await?;
        sort_key(rc, id, meta, key_aliases, why, rf, skipped);
    }
    Ok(())
}

/// Every alias and the key it points to.
async fn alias_targets(
    kms: &aws_sdk_kms::Client,
    pace: &Pace,
) -> Result<Vec<(String, String)>, AwsFailure> {
    let pages = pages!(pace, "ListAliases", kms.list_aliases(), next_marker).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.aliases())
        .filter_map(|a| match (a.alias_name(), a.target_key_id()) {
            (Some(name), Some(target)) => Some((name.to_string(), target.to_string())),
            _ => None,
        })
        .collect())
}

/// Why key `id` is the workshop's: its aliases, the inventory, or (only when neither says so)
/// its `project=kmsworkshop` tag. Empty: it is not.
async fn why_ours(
    kms: &aws_sdk_kms::Client,
    pace: &Pace,
    inventory: &Inventory,
    id: &str,
    meta: &KeyMetadata,
    key_aliases: &[String],
) -> Result<Vec<&'static str>, AwsFailure> {
    let mut why = Vec::new();
    if key_aliases
        .iter()
        .any(|a| a == names::FIRST_ALIAS || a == names::IMPORTED_ALIAS)
    {
        why.push("workshop alias");
    }
    let arn = meta.arn().unwrap_or_default();
    if inventory.has_arn(ResourceKind::KmsKey, arn) {
        why.push("inventory");
    }
    if !why.is_empty() {
        return Ok(why);
    }
    let request = kms.list_resource_tags().key_id(id);
    let tags = pages!(pace, "ListResourceTags", request.clone(), next_marker).await;
    match tags {
        Ok(pages) => {
            if pages
                .iter()
                .flat_map(|p| p.tags())
                .any(|t| t.tag_key() == names::TAG_KEY && t.tag_value() == names::TAG_VALUE)
            {
                why.push("tag project=kmsworkshop");
            }
        }
        // A key whose tags we may not read is not provably the workshop's.
        Err(e) if e.class == ErrorClass::AccessDenied => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    Ok(why)
}

/// File a customer managed key under what is to be done with it.
fn sort_key(
    rc: &Regional,
    id: String,
    meta: KeyMetadata,
    key_aliases: Vec<String>,
    why: Vec<&'static str>,
    rf: &mut RegionFound,
    skipped: &mut Vec<Skipped>,
) {
    let state = meta
        .key_state()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let described_as_workshop = meta
        .description()
        .is_some_and(|d| d.starts_with(names::KEY_DESCRIPTION_PREFIX));
    if state == "PendingDeletion" {
        if !why.is_empty() || described_as_workshop {
            let when = meta
                .deletion_date()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "its scheduled date".into());
            skipped.push(Skipped {
                what: format!("kms key {id} [{}]", rc.region),
                why: format!("already scheduled for deletion (deleted on {when})"),
            });
            rf.aliases.extend(key_aliases);
            if !why.is_empty() {
                rf.scheduled_keys.push(id);
            }
        }
        return;
    }
    if why.is_empty() || state == "PendingReplicaDeletion" {
        return;
    }
    rf.aliases.extend(key_aliases.iter().cloned());
    rf.keys.push(KeyFound {
        id,
        arn: meta.arn().unwrap_or_default().to_string(),
        aliases: key_aliases,
        why: why.join(", "),
    });
}
