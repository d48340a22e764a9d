//! The workshop's keys: `alias/FirstCMK` and `alias/ImportedCMK` (each on a customer managed
//! symmetric key not pending deletion; the imported one with origin EXTERNAL, or stop), the
//! imported key's material, and section I's key pending deletion (found by its role tag).

use aws_sdk_kms::types::KeyMetadata;

use kms_workshop_cleanup::{pages, ErrorClass, Executor, Pace, ResourceKind};
use kms_workshop_names::starting::{KeyRole, KEYS, KEY_ROLE_TAG};

use super::{wrong, Part, Survey};

/// The tag naming the set-up run that made a key, until the key has its alias: a run resumed
/// after a kill between the two adopts only a key of its own run, never one someone else
/// tagged like the workshop's.
pub(crate) const RUN_TAG: &str = "kmsworkshop-run";
use crate::PrepareError;

/// Every alias of the region with the key it points at.
pub(crate) async fn alias_targets(
    kms: &aws_sdk_kms::Client,
    pace: &Pace,
) -> Result<Vec<(String, String)>, kms_workshop_cleanup::AwsFailure> {
    Ok(pages!(pace, "ListAliases", kms.list_aliases(), next_marker)
        .await?
        .iter()
        .flat_map(|p| p.aliases())
        .filter_map(|a| Some((a.alias_name()?.to_string(), a.target_key_id()?.to_string())))
        .collect())
}

/// The customer managed keys of the region tagged with `role` (made by a set-up for it), each
/// with the run that made it when it still says so (its [`RUN_TAG`]).
pub(crate) async fn tagged(
    kms: &aws_sdk_kms::Client,
    pace: &Pace,
    role: KeyRole,
) -> Result<Vec<(KeyMetadata, Option<String>)>, kms_workshop_cleanup::AwsFailure> {
    let ids: Vec<String> = pages!(pace, "ListKeys", kms.list_keys(), next_marker)
        .await?
        .iter()
        .flat_map(|p| p.keys())
        .filter_map(|k| k.key_id().map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for id in ids {
        // A key whose policy keeps this caller out is someone else's: passed over.
        let meta = match pace
            .send("DescribeKey", || kms.describe_key().key_id(&id).send())
            .await
        {
            Ok(o) => o.key_metadata,
            Err(e) if e.is_not_found() || e.class == ErrorClass::AccessDenied => None,
            Err(e) => return Err(e),
        };
        let Some(meta) = meta.filter(|m| m.key_manager().map(|x| x.as_str()) == Some("CUSTOMER"))
        else {
            continue;
        };
        let tags = match pages!(
            pace,
            "ListResourceTags",
            kms.list_resource_tags().key_id(&id),
            next_marker
        )
        .await
        {
            Ok(t) => t,
            Err(e) if e.is_not_found() || e.class == ErrorClass::AccessDenied => continue,
            Err(e) => return Err(e),
        };
        let tags: Vec<_> = tags.iter().flat_map(|p| p.tags()).collect();
        let mine = tags
            .iter()
            .any(|t| t.tag_key() == KEY_ROLE_TAG && t.tag_value() == role.as_str());
        let run = tags
            .iter()
            .find(|t| t.tag_key() == RUN_TAG)
            .map(|t| t.tag_value().to_string());
        if mine {
            out.push((meta, run));
        }
    }
    Ok(out)
}

fn state(m: &KeyMetadata) -> &str {
    m.key_state().map(|s| s.as_str()).unwrap_or_default()
}

/// Why the key an alias of `role` points at cannot serve the chapter, if it cannot.
fn unfit(role: KeyRole, m: &KeyMetadata) -> Option<String> {
    let id = m.key_id();
    if m.key_manager().map(|x| x.as_str()) != Some("CUSTOMER") {
        return Some(format!("it points at {id}, a key AWS manages"));
    }
    if m.key_spec().map(|x| x.as_str()) != Some("SYMMETRIC_DEFAULT") {
        return Some(format!(
            "it points at {id}, a {} key, not a symmetric encryption key",
            m.key_spec().map(|x| x.as_str()).unwrap_or("?")
        ));
    }
    let st = state(m);
    if st.starts_with("Pending") && st != "PendingImport" {
        return Some(format!(
            "it points at {id}, which is {st}; delete the alias (kms-workshop cleanup) or point it at a usable key"
        ));
    }
    if st == "Disabled" {
        return Some(format!("it points at {id}, which is disabled; enable it"));
    }
    // Only the imported key's material is the set-up's to import.
    if role != KeyRole::Imported && st != "Enabled" {
        return Some(format!("it points at {id}, which is {st}, not Enabled"));
    }
    let origin = m.origin().map(|x| x.as_str()).unwrap_or_default();
    if role == KeyRole::Imported && origin != "EXTERNAL" {
        return Some(format!(
            "it points at {id}, whose origin is {origin}: the chapter needs a key with imported material (origin EXTERNAL); delete the alias or point it at such a key"
        ));
    }
    None
}

/// The aliased keys (right, or stop), the imported key's material, the pending key.
pub(super) async fn keys(ex: &Executor, s: &mut Survey) -> Result<(), PrepareError> {
    let Some(rc) = ex.clients().region(&s.region) else {
        return Ok(());
    };
    let (kms, pace) = (&rc.kms, ex.pace());
    let aliases = alias_targets(kms, pace).await?;
    for spec in KEYS {
        let Some(alias) = spec.alias else { continue };
        let Some((_, target)) = aliases.iter().find(|(n, _)| n == alias) else {
            continue;
        };
        let meta = pace
            .send("DescribeKey", || kms.describe_key().key_id(target).send())
            .await?
            .key_metadata
            .ok_or_else(|| wrong(alias, "DescribeKey named no key"))?;
        if let Some(why) = unfit(spec.role, &meta) {
            return Err(wrong(alias, why));
        }
        let arn = meta.arn().unwrap_or_default().to_string();
        s.add(
            Part::Key {
                role: spec.role.as_str().into(),
            },
            format!("{alias} on key {}", meta.key_id()),
            Some((arn, ResourceKind::KmsKey)),
        );
        let alias_arn = format!("arn:aws:kms:{}:{}:{alias}", s.region, s.account);
        s.add(
            Part::Key {
                role: spec.role.as_str().into(),
            },
            alias.to_string(),
            Some((alias_arn, ResourceKind::KmsAlias)),
        );
        if spec.role == KeyRole::Imported && state(&meta) == "Enabled" {
            s.add(
                Part::Material,
                format!("imported key material of {alias}"),
                None,
            );
        }
    }
    if s.pending_key {
        let pending = tagged(kms, pace, KeyRole::Pending).await?;
        if let Some((m, _)) = pending.iter().find(|(m, _)| state(m) == "PendingDeletion") {
            s.add(
                Part::Key {
                    role: KeyRole::Pending.as_str().into(),
                },
                format!("section I's key {} pending deletion", m.key_id()),
                Some((
                    m.arn().unwrap_or_default().to_string(),
                    ResourceKind::KmsKey,
                )),
            );
        }
    }
    Ok(())
}
