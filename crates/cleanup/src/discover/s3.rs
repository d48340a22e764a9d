//! S3: the workshop's bucket by its exact name, the stack's buckets, the log bucket of the
//! workshop's trail, and those a run recorded; each only when this account owns it.

use serde::{Deserialize, Serialize};

use super::{stack_physical, Found, Skipped};
use crate::aws::Clients;
use crate::inventory::{Inventory, ResourceKind};
use crate::{names, AwsFailure, Pace};

/// A bucket of the workshop's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketFound {
    pub name: String,
    pub stack_owned: bool,
}

/// The workshop's buckets, into `found.buckets` (after the regions, whose stacks and trails
/// name some of them).
pub(super) async fn buckets(
    clients: &Clients,
    pace: &Pace,
    inventory: &Inventory,
    found: &mut Found,
) -> Result<(), AwsFailure> {
    let stack_buckets = stack_physical(found, "AWS::S3::Bucket");
    let mut candidates = vec![names::bucket(&clients.account)];
    // The log bucket of the workshop's trail, when it has the exact name the runner gives it.
    for r in &found.regions {
        let expected = names::trail_bucket(&clients.account, &r.region);
        if r.trails
            .iter()
            .any(|t| t.bucket.as_deref() == Some(expected.as_str()))
            && !candidates.contains(&expected)
        {
            candidates.push(expected);
        }
    }
    for b in stack_buckets.iter().cloned().chain(
        inventory
            .of(ResourceKind::S3Bucket, &clients.account, &clients.home)
            .map(|i| i.short_id().to_string()),
    ) {
        if !candidates.contains(&b) {
            candidates.push(b);
        }
    }
    for name in candidates {
        // Through a client of the bucket's own region (S3 redirects the others).
        let head = match clients.s3_for(pace, &name).await {
            Ok(s3) => pace
                .send("HeadBucket", || {
                    s3.head_bucket()
                        .bucket(&name)
                        .expected_bucket_owner(&clients.account)
                        .send()
                })
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        match head {
            Ok(_) => found.buckets.push(BucketFound {
                stack_owned: stack_buckets.contains(&name),
                name,
            }),
            Err(e) if e.is_not_found() => {}
            // Someone else's bucket of that name: never ours.
            Err(e) if e.status == Some(403) => found.skipped.push(Skipped {
                what: format!("s3 bucket {name}"),
                why: "exists but is not this account's".into(),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
