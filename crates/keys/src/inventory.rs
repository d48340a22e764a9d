//! The key inventory: every customer key of the account and region, described, with aliases
//! and tags, and the filters that pick the workshop's keys out of it.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_kms::Client;
use time::OffsetDateTime;

use crate::{to_time, KeysError};

/// One KMS key as the inventory shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySummary {
    pub key_id: String,
    pub arn: String,
    /// Alias names (`alias/…`) pointing at the key, sorted.
    pub aliases: Vec<String>,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE`.
    pub origin: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, …
    pub state: String,
    /// `CUSTOMER` or `AWS`.
    pub manager: String,
    pub description: String,
    pub key_spec: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub created: Option<OffsetDateTime>,
    /// When a key pending deletion will be deleted.
    pub deletion_date: Option<OffsetDateTime>,
    /// When imported key material expires (EXTERNAL keys with `KEY_MATERIAL_EXPIRES`).
    pub valid_to: Option<OffsetDateTime>,
    /// `KEY_MATERIAL_EXPIRES` or `KEY_MATERIAL_DOES_NOT_EXPIRE` (EXTERNAL keys with material).
    pub expiration_model: Option<String>,
}

impl KeySummary {
    pub fn is_customer_managed(&self) -> bool {
        self.manager == "CUSTOMER"
    }

    pub fn has_alias(&self, alias: &str) -> bool {
        let wanted = normalise_alias(alias);
        self.aliases.contains(&wanted)
    }

    pub fn has_tag(&self, key: &str, value: &str) -> bool {
        self.tags.get(key).is_some_and(|v| v == value)
    }
}

/// Which keys to pick from the inventory; every field set must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// An alias name, with or without the `alias/` prefix.
    pub alias: Option<String>,
    /// A tag key and value, e.g. `project` = `kmsworkshop` (K3).
    pub tag: Option<(String, String)>,
    /// `AWS_KMS` or `EXTERNAL`, as KMS spells it.
    pub origin: Option<String>,
    /// A key state as KMS spells it, e.g. `PendingDeletion`.
    pub state: Option<String>,
}

impl KeyFilter {
    pub fn alias(alias: &str) -> Self {
        KeyFilter {
            alias: Some(alias.to_string()),
            ..Default::default()
        }
    }

    pub fn tag(key: &str, value: &str) -> Self {
        KeyFilter {
            tag: Some((key.to_string(), value.to_string())),
            ..Default::default()
        }
    }

    pub fn origin(origin: &str) -> Self {
        KeyFilter {
            origin: Some(origin.to_string()),
            ..Default::default()
        }
    }

    pub fn state(state: &str) -> Self {
        KeyFilter {
            state: Some(state.to_string()),
            ..Default::default()
        }
    }

    /// Whether `key` satisfies every condition set.
    pub fn accepts(&self, key: &KeySummary) -> bool {
        self.alias.as_deref().is_none_or(|a| key.has_alias(a))
            && self.tag.as_ref().is_none_or(|(k, v)| key.has_tag(k, v))
            && self.origin.as_deref().is_none_or(|o| key.origin == o)
            && self.state.as_deref().is_none_or(|s| key.state == s)
    }

    /// The keys of `inventory` this filter accepts, in inventory order.
    pub fn select<'a>(&self, inventory: &'a [KeySummary]) -> Vec<&'a KeySummary> {
        inventory.iter().filter(|k| self.accepts(k)).collect()
    }
}

fn normalise_alias(alias: &str) -> String {
    if alias.starts_with("alias/") {
        alias.to_string()
    } else {
        format!("alias/{alias}")
    }
}

/// Every customer-managed key (AWS-managed keys such as `aws/ebs` are left out), described,
/// with aliases and tags, sorted by creation date (oldest first, so K1, K2, K3 in order).
pub async fn key_inventory(client: &Client) -> Result<Vec<KeySummary>, KeysError> {
    let aliases = alias_map(client).await?;
    let mut ids = Vec::new();
    let mut pages = client.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| KeysError::sdk("ListKeys", e))?;
        ids.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string)),
        );
    }
    let mut out = Vec::new();
    for id in ids {
        let key = match describe(client, &id, &aliases).await {
            Ok(k) => k,
            // Listed a moment ago, gone now (deleted at the end of its waiting period).
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        if key.is_customer_managed() {
            out.push(with_tags(client, key).await?);
        }
    }
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.key_id.cmp(&b.key_id)));
    Ok(out)
}

/// One key, by id, ARN, alias name or alias ARN, with aliases and tags.
pub async fn describe_key(client: &Client, key: &str) -> Result<KeySummary, KeysError> {
    if key.trim().is_empty() {
        return Err(KeysError::InvalidInput {
            field: "KeyId",
            reason: "empty: give a key id, key ARN, alias name or alias ARN".into(),
        });
    }
    let aliases = alias_map(client).await?;
    let summary = describe(client, key, &aliases).await?;
    if summary.is_customer_managed() {
        with_tags(client, summary).await
    } else {
        Ok(summary)
    }
}

/// The customer keys `filter` accepts.
pub async fn find_keys(client: &Client, filter: &KeyFilter) -> Result<Vec<KeySummary>, KeysError> {
    let all = key_inventory(client).await?;
    Ok(all.into_iter().filter(|k| filter.accepts(k)).collect())
}

/// Alias names by target key id.
async fn alias_map(client: &Client) -> Result<HashMap<String, Vec<String>>, KeysError> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    let mut pages = client.list_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| KeysError::sdk("ListAliases", e))?;
        for a in page.aliases() {
            if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                map.entry(target.to_string())
                    .or_default()
                    .push(name.to_string());
            }
        }
    }
    for names in map.values_mut() {
        names.sort();
    }
    Ok(map)
}

async fn describe(
    client: &Client,
    key: &str,
    aliases: &HashMap<String, Vec<String>>,
) -> Result<KeySummary, KeysError> {
    let out = client
        .describe_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| KeysError::sdk("DescribeKey", e))?;
    let m = out.key_metadata().ok_or(KeysError::IncompleteAnswer {
        operation: "DescribeKey",
        member: "KeyMetadata",
    })?;
    let key_id = m.key_id().to_string();
    Ok(KeySummary {
        aliases: aliases.get(&key_id).cloned().unwrap_or_default(),
        arn: m.arn().unwrap_or_default().to_string(),
        origin: m
            .origin()
            .map(|o| o.as_str().to_string())
            .unwrap_or_default(),
        state: m
            .key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        manager: m
            .key_manager()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        description: m.description().unwrap_or_default().to_string(),
        key_spec: m.key_spec().map(|s| s.as_str().to_string()),
        tags: BTreeMap::new(),
        created: m.creation_date().and_then(to_time),
        deletion_date: m.deletion_date().and_then(to_time),
        valid_to: m.valid_to().and_then(to_time),
        expiration_model: m.expiration_model().map(|s| s.as_str().to_string()),
        key_id,
    })
}

async fn with_tags(client: &Client, mut key: KeySummary) -> Result<KeySummary, KeysError> {
    let mut pages = client
        .list_resource_tags()
        .key_id(&key.key_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| KeysError::sdk("ListResourceTags", e))?;
        for t in page.tags() {
            key.tags
                .insert(t.tag_key().to_string(), t.tag_value().to_string());
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alias: &str, origin: &str, state: &str) -> KeySummary {
        KeySummary {
            key_id: "k".into(),
            arn: "arn".into(),
            aliases: vec![alias.into()],
            origin: origin.into(),
            state: state.into(),
            manager: "CUSTOMER".into(),
            description: String::new(),
            key_spec: None,
            tags: BTreeMap::from([("project".into(), "kmsworkshop".into())]),
            created: None,
            deletion_date: None,
            valid_to: None,
            expiration_model: None,
        }
    }

    #[test]
    fn filters_combine_with_and() {
        let k = key("alias/ImportedCMK", "EXTERNAL", "Enabled");
        assert!(KeyFilter::alias("ImportedCMK").accepts(&k));
        assert!(KeyFilter::alias("alias/ImportedCMK").accepts(&k));
        assert!(!KeyFilter::alias("FirstCMK").accepts(&k));
        assert!(KeyFilter::tag("project", "kmsworkshop").accepts(&k));
        assert!(!KeyFilter::tag("project", "other").accepts(&k));
        let both = KeyFilter {
            origin: Some("EXTERNAL".into()),
            state: Some("PendingDeletion".into()),
            ..Default::default()
        };
        assert!(!both.accepts(&k));
        assert!(KeyFilter::default().accepts(&k));
    }
}
