//! CloudTrail: the trail a guided run created (by the inventory's ARN or the exact name
//! [`names::TRAIL`]), in this account and with this region as its home. Organisation trails and
//! other accounts' trails are never the workshop's: the runner creates neither.

use serde::{Deserialize, Serialize};

use super::{RegionFound, Skipped};
use crate::aws::Regional;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// A trail of the workshop's, deleted from its home region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailFound {
    pub name: String,
    pub arn: String,
    /// The bucket it writes log files to: the trail goes before that bucket is emptied.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Why it is the workshop's (inventory, workshop name).
    pub why: String,
}

/// The workshop's trails homed in this region, into `rf.trails`; lookalikes that are not this
/// account's into `skipped`.
pub(super) async fn trails(
    rc: &Regional,
    pace: &Pace,
    inventory: &Inventory,
    account: &str,
    rf: &mut RegionFound,
    skipped: &mut Vec<Skipped>,
) -> Result<(), AwsFailure> {
    let ct = &rc.cloudtrail;
    let described = pace
        .send("DescribeTrails", || {
            // Shadow trails (multi-region trails homed elsewhere) are deleted from their home.
            ct.describe_trails().include_shadow_trails(false).send()
        })
        .await;
    let out = match described {
        Ok(o) => o,
        // An endpoint without CloudTrail has no trail to find.
        Err(e) if e.code == "UnknownServiceException" => return Ok(()),
        Err(e) => return Err(e),
    };
    for t in out.trail_list() {
        let (Some(name), Some(arn)) = (t.name(), t.trail_arn()) else {
            continue;
        };
        let recorded = inventory
            .of(ResourceKind::CloudTrailTrail, account, &rc.region)
            .any(|i| i.arn == arn);
        let named = name == names::TRAIL;
        let home_here = t.home_region().is_none_or(|h| h == rc.region);
        if !(recorded || named) || !home_here {
            continue;
        }
        let owner = arn.split(':').nth(4).unwrap_or_default();
        if owner != account || t.is_organization_trail() == Some(true) {
            skipped.push(Skipped {
                what: format!("cloudtrail trail {arn}"),
                why: "an organisation's or another account's trail: left in place".into(),
            });
            continue;
        }
        rf.trails.push(TrailFound {
            name: name.to_string(),
            arn: arn.to_string(),
            bucket: t.s3_bucket_name().map(str::to_string),
            why: if recorded {
                "inventory"
            } else {
                "workshop name"
            }
            .into(),
        });
    }
    Ok(())
}
