//! The record of resources a guided run created, written by the runner and read by the
//! clean-up: an item in it is the workshop's by construction.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::CleanupError;

/// The kinds of resource the workshop creates, named by their CloudFormation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceKind {
    #[serde(rename = "AWS::KMS::Key")]
    KmsKey,
    #[serde(rename = "AWS::KMS::Alias")]
    KmsAlias,
    #[serde(rename = "AWS::IAM::Role")]
    IamRole,
    #[serde(rename = "AWS::IAM::InstanceProfile")]
    IamInstanceProfile,
    #[serde(rename = "AWS::IAM::ManagedPolicy")]
    IamPolicy,
    #[serde(rename = "AWS::EC2::Instance")]
    Ec2Instance,
    #[serde(rename = "AWS::EC2::Volume")]
    Ec2Volume,
    #[serde(rename = "AWS::S3::Bucket")]
    S3Bucket,
    #[serde(rename = "AWS::SNS::Topic")]
    SnsTopic,
    #[serde(rename = "AWS::SNS::Subscription")]
    SnsSubscription,
    #[serde(rename = "AWS::Events::Rule")]
    EventsRule,
    #[serde(rename = "AWS::CloudWatch::Alarm")]
    CloudWatchAlarm,
    #[serde(rename = "AWS::CloudFormation::Stack")]
    CloudFormationStack,
    #[serde(rename = "AWS::CloudTrail::Trail")]
    CloudTrailTrail,
}

impl ResourceKind {
    /// IAM and S3 resources belong to the account, not a region: an item of such a kind
    /// matches any region.
    pub fn is_global(self) -> bool {
        matches!(
            self,
            ResourceKind::IamRole
                | ResourceKind::IamInstanceProfile
                | ResourceKind::IamPolicy
                | ResourceKind::S3Bucket
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::KmsKey => "AWS::KMS::Key",
            ResourceKind::KmsAlias => "AWS::KMS::Alias",
            ResourceKind::IamRole => "AWS::IAM::Role",
            ResourceKind::IamInstanceProfile => "AWS::IAM::InstanceProfile",
            ResourceKind::IamPolicy => "AWS::IAM::ManagedPolicy",
            ResourceKind::Ec2Instance => "AWS::EC2::Instance",
            ResourceKind::Ec2Volume => "AWS::EC2::Volume",
            ResourceKind::S3Bucket => "AWS::S3::Bucket",
            ResourceKind::SnsTopic => "AWS::SNS::Topic",
            ResourceKind::SnsSubscription => "AWS::SNS::Subscription",
            ResourceKind::EventsRule => "AWS::Events::Rule",
            ResourceKind::CloudWatchAlarm => "AWS::CloudWatch::Alarm",
            ResourceKind::CloudFormationStack => "AWS::CloudFormation::Stack",
            ResourceKind::CloudTrailTrail => "AWS::CloudTrail::Trail",
        }
    }
}

/// One resource a run created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    /// The resource's ARN (for EC2 instances and volumes, `arn:aws:ec2:…:instance/i-…`).
    pub arn: String,
    pub kind: ResourceKind,
    pub region: String,
    pub account: String,
    /// The workshop step that created it (e.g. `IV.3`).
    #[serde(default)]
    pub step: Option<String>,
    /// The recording run's seal ([`crate::seal`]); an item without a valid one counts for
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl InventoryItem {
    /// The last path element of the ARN: key id, role name, instance id, topic name, rule name…
    pub fn short_id(&self) -> &str {
        let tail = self.arn.rsplit(':').next().unwrap_or(&self.arn);
        tail.rsplit('/').next().unwrap_or(tail)
    }
}

/// Every resource a run recorded, in the order it created them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The account the recording run worked in (a guided run's progress file says); an
    /// inventory of another account is refused as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default)]
    pub items: Vec<InventoryItem>,
}

impl Inventory {
    /// Read an inventory file (JSON): an inventory itself, or a guided run's progress file
    /// that holds one under `inventory`. A missing file is an empty inventory.
    pub fn load(path: &Path) -> Result<Inventory, CleanupError> {
        #[derive(Deserialize)]
        struct Target {
            account: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Doc {
            Inventory(Inventory),
            Progress {
                inventory: Inventory,
                #[serde(default)]
                target: Option<Target>,
            },
        }
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<Doc>(&bytes)
                .map(|d| match d {
                    Doc::Progress { inventory, target } => Inventory {
                        account: inventory.account.or(target.map(|t| t.account)),
                        ..inventory
                    },
                    Doc::Inventory(i) => i,
                })
                .map_err(|_| CleanupError::Inventory {
                    path: path.to_path_buf(),
                    message: "not a kms-workshop inventory (expected {\"items\": [...]} or a progress file with \"inventory\")".into(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Inventory::default()),
            Err(e) => Err(CleanupError::Inventory {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }

    /// Items of `kind` in `account`/`region` (IAM and S3 items match any region).
    pub fn of<'a>(
        &'a self,
        kind: ResourceKind,
        account: &'a str,
        region: &'a str,
    ) -> impl Iterator<Item = &'a InventoryItem> + 'a {
        let global = kind.is_global();
        self.items.iter().filter(move |i| {
            i.kind == kind && i.account == account && (global || i.region == region)
        })
    }

    /// Whether an item of `kind` is the resource whose ARN (which names its account and
    /// region) is `arn`: the whole ARN must match, a short id names too much.
    pub fn has_arn(&self, kind: ResourceKind, arn: &str) -> bool {
        self.items.iter().any(|i| i.kind == kind && i.arn == arn)
    }

    /// What of this inventory may be trusted in a clean-up of `account` in `regions`: the
    /// items of that account and those regions that carry `key`'s seal. The rest is left out,
    /// each with a warning saying why; an inventory recorded in another account is refused.
    pub fn vetted(
        &self,
        account: &str,
        regions: &[String],
        key: Option<&crate::seal::SealKey>,
    ) -> Result<(Inventory, Vec<String>), CleanupError> {
        if let Some(recorded) = self.account.as_deref().filter(|a| *a != account) {
            return Err(CleanupError::InventoryAccount {
                recorded: recorded.to_string(),
                account: account.to_string(),
            });
        }
        let mut warnings = Vec::new();
        let mut items = Vec::new();
        for item in &self.items {
            let why = if item.account != account {
                Some(format!("it is in account {}, not {account}", item.account))
            } else if !item.kind.is_global() && !regions.contains(&item.region) {
                Some(format!(
                    "it is in {}, a region this clean-up does not cover",
                    item.region
                ))
            } else if !key.is_some_and(|k| k.verifies(item)) {
                Some(
                    "no guided run on this machine recorded it (its seal is missing or wrong): \
                     it is the workshop's only if its name, tags or stack say so"
                        .to_string(),
                )
            } else {
                None
            };
            match why {
                Some(why) => warnings.push(format!(
                    "inventory item {} {}: left out, {why}",
                    item.kind.as_str(),
                    item.arn
                )),
                None => items.push(item.clone()),
            }
        }
        Ok((
            Inventory {
                account: Some(account.to_string()),
                items,
            },
            warnings,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_short_ids() {
        let inv = Inventory {
            account: None,
            items: vec![InventoryItem {
                arn: "arn:aws:sns:us-east-1:111122223333:snsworkshop".into(),
                kind: ResourceKind::SnsTopic,
                region: "us-east-1".into(),
                account: "111122223333".into(),
                step: Some("IV.3".into()),
                seal: None,
            }],
        };
        let text = serde_json::to_string(&inv).expect("serialises");
        assert!(text.contains("\"AWS::SNS::Topic\""));
        let back: Inventory = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, inv);
        assert_eq!(back.items[0].short_id(), "snsworkshop");
        let arn = "arn:aws:sns:us-east-1:111122223333:snsworkshop";
        let (a, r) = ("111122223333", "us-east-1");
        assert!(back.has_arn(ResourceKind::SnsTopic, arn));
        assert!(!back.has_arn(ResourceKind::SnsTopic, "snsworkshop"));
        assert_eq!(back.of(ResourceKind::SnsTopic, a, r).count(), 1);
        assert_eq!(
            back.of(ResourceKind::SnsTopic, "444455556666", r).count(),
            0
        );
    }

    #[test]
    fn a_trail_is_named_by_its_cloudformation_type() {
        let arn = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/KMSWorkshop-Trail";
        let text = format!(
            r#"{{"items":[{{"arn":"{arn}","kind":"AWS::CloudTrail::Trail","region":"eu-west-1","account":"111122223333","step":"eventbridge-rule"}}]}}"#
        );
        let inv: Inventory = serde_json::from_str(&text).expect("parses");
        assert_eq!(inv.items[0].kind, ResourceKind::CloudTrailTrail);
        assert_eq!(inv.items[0].kind.as_str(), "AWS::CloudTrail::Trail");
        assert_eq!(inv.items[0].short_id(), "KMSWorkshop-Trail");
        // Regional: recorded in eu-west-1, it is not a trail of us-east-1.
        assert_eq!(
            inv.of(ResourceKind::CloudTrailTrail, "111122223333", "eu-west-1")
                .count(),
            1
        );
        assert_eq!(
            inv.of(ResourceKind::CloudTrailTrail, "111122223333", "us-east-1")
                .count(),
            0
        );
        assert_eq!(
            serde_json::to_value(ResourceKind::CloudTrailTrail).expect("serialises"),
            "AWS::CloudTrail::Trail"
        );
    }

    #[test]
    fn corrupt_file_is_an_error_a_person_can_act_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("inv.json");
        std::fs::write(&p, b"{not json").expect("write");
        let e = Inventory::load(&p).expect_err("corrupt");
        assert!(
            e.to_string().contains("not a kms-workshop inventory"),
            "{e}"
        );
        // A guided run's progress file carries its inventory.
        let progress = dir.path().join("progress.json");
        std::fs::write(
            &progress,
            br#"{"format":1,"steps":{},"inventory":{"items":[{"arn":"arn:aws:events:us-east-1:111122223333:rule/r","kind":"AWS::Events::Rule","region":"us-east-1","account":"111122223333","step":"IV.4"}]}}"#,
        )
        .expect("write");
        let inv = Inventory::load(&progress).expect("progress file");
        assert_eq!(inv.items.len(), 1);
        assert_eq!(inv.items[0].short_id(), "r");
        assert!(Inventory::load(&dir.path().join("none.json"))
            .expect("missing is empty")
            .items
            .is_empty());
    }
}
