//! What of the starting state the account already holds, each part checked: present and
//! right (kept), missing (the plan makes it), or present and wrong (the run stops here, before
//! any change, with what is wrong and what to do).
//!
//! - this module: the survey, the stack and what it makes, the instance and its volume;
//! - `keys`: the keys and their aliases;
//! - `iam`: the customer policies and what is attached to the role.

use serde::{Deserialize, Serialize};

use kms_workshop_cleanup::discover::is_missing_stack;
use kms_workshop_cleanup::{names, Executor, ResourceKind};
use kms_workshop_names::starting::SAMPLE_FILES;

use crate::{Options, PrepareError};

mod iam;
pub(crate) mod instance;
pub(crate) mod keys;

/// A part of the starting state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum Part {
    /// The stack, complete (with it the bucket, the role and the instance profile).
    Stack,
    /// A customer policy, with the workshop's document.
    Policy { name: String },
    /// A policy attached to the role.
    Attached { policy_arn: String },
    /// The key of a role (`first`, `imported`, `pending`), with its alias when it has one.
    Key { role: String },
    /// The imported key's material, imported.
    Material,
    /// The instance, with the workshop's profile.
    Instance,
    /// The `WorkshopEBS` volume, attached to the instance.
    Volume,
    /// A sample file in the bucket.
    Object { key: String },
}

/// One part found in place, and right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Present {
    pub part: Part,
    /// What a person reads.
    pub what: String,
    /// The resource, for the inventory (parts that are not resources of their own have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<(String, ResourceKind)>,
}

/// What the account holds of the starting state, and the choices the plan needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub account: String,
    pub region: String,
    /// The AMI the public SSM parameter names (empty when the instance exists already).
    pub ami: String,
    /// The instance type to launch (empty when the instance exists already).
    pub instance_type: String,
    pub material_days: u32,
    pub pending_key: bool,
    pub present: Vec<Present>,
}

impl Survey {
    pub fn has(&self, part: &Part) -> bool {
        self.present.iter().any(|p| &p.part == part)
    }

    fn add(&mut self, part: Part, what: String, resource: Option<(String, ResourceKind)>) {
        self.present.push(Present {
            part,
            what,
            resource,
        });
    }

    /// The resources found, as `(arn, kind, region)` for an inventory.
    pub fn resources(&self) -> Vec<(String, ResourceKind, String)> {
        self.present
            .iter()
            .filter_map(|p| p.resource.clone())
            .map(|(arn, kind)| (arn, kind, self.region.clone()))
            .collect()
    }
}

/// "Something of the workshop's name is not what the chapter needs."
pub(crate) fn wrong(what: impl Into<String>, why: impl Into<String>) -> PrepareError {
    PrepareError::Wrong {
        what: what.into(),
        why: why.into(),
    }
}

/// Survey the account `ex` reaches, in its home region.
pub async fn survey(
    ex: &Executor,
    sdk: &aws_config::SdkConfig,
    opts: &Options,
) -> Result<Survey, PrepareError> {
    let c = ex.clients();
    let mut s = Survey {
        account: c.account.clone(),
        region: c.home.clone(),
        material_days: opts.material_days,
        pending_key: opts.pending_key,
        ..Survey::default()
    };
    stack(ex, &mut s).await?;
    iam::policies(ex, &mut s).await?;
    keys::keys(ex, &mut s).await?;
    instance::instance(ex, &mut s).await?;
    objects(ex, &mut s).await?;
    if !s.has(&Part::Instance) {
        s.ami = instance::current_ami(sdk, &s.region).await?;
        s.instance_type = match &opts.instance_type {
            Some(t) => t.clone(),
            None => instance::smallest_free_tier(ex, &s.region).await?,
        };
    }
    Ok(s)
}

/// The workshop's stack as DescribeStacks shows it (none once deleted).
pub(crate) struct StackSeen {
    pub id: String,
    pub status: String,
    pub reason: String,
}

/// The workshop's stack in `rc`'s region, unless there is none or it is deleted.
pub(crate) async fn stack_seen(
    ex: &Executor,
    rc: &kms_workshop_cleanup::aws::Regional,
) -> Result<Option<StackSeen>, kms_workshop_cleanup::AwsFailure> {
    let described = ex
        .pace()
        .send("DescribeStacks", || {
            rc.cloudformation
                .describe_stacks()
                .stack_name(names::STACK)
                .send()
        })
        .await;
    let out = match described {
        Ok(o) => o,
        Err(e) if is_missing_stack(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .stacks()
        .iter()
        .find(|st| st.stack_name() == Some(names::STACK))
        .and_then(|st| {
            let status = st.stack_status()?.as_str().to_string();
            (status != "DELETE_COMPLETE").then(|| StackSeen {
                id: st.stack_id().unwrap_or(names::STACK).to_string(),
                status,
                reason: st.stack_status_reason().unwrap_or_default().to_string(),
            })
        }))
}

/// The stack: complete (kept), missing (made), or anything else (stopped). Without the stack,
/// what it would create must not exist either: CloudFormation would fail on it.
async fn stack(ex: &Executor, s: &mut Survey) -> Result<(), PrepareError> {
    let rc = ex.clients().region(&s.region).ok_or_else(|| {
        wrong(
            format!("region {}", s.region),
            "no clients for it (a bug: the home region always has them)",
        )
    })?;
    let stack = stack_seen(ex, rc).await?;
    match stack.as_ref().map(|st| st.status.as_str()) {
        None => return stack_parts_absent(ex, s).await,
        // Being made (an interrupted set-up's): the stack step waits for it.
        Some("CREATE_IN_PROGRESS") => return Ok(()),
        Some("CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE") => {}
        Some(other) => {
            return Err(wrong(
                format!("stack {}", names::STACK),
                format!(
                    "it is {other}, not CREATE_COMPLETE; delete it (kms-workshop cleanup, or prepare --fresh) and prepare again"
                ),
            ))
        }
    }
    let arn = stack
        .map(|st| st.id)
        .unwrap_or_else(|| names::STACK.to_string());
    s.add(
        Part::Stack,
        format!("stack {}", names::STACK),
        Some((arn, ResourceKind::CloudFormationStack)),
    );
    let account = &s.account;
    let bucket = names::bucket(account);
    for (arn, kind) in [
        (format!("arn:aws:s3:::{bucket}"), ResourceKind::S3Bucket),
        (
            format!("arn:aws:iam::{account}:role/{}", names::ROLE),
            ResourceKind::IamRole,
        ),
        (
            format!("arn:aws:iam::{account}:instance-profile/{}", names::PROFILE),
            ResourceKind::IamInstanceProfile,
        ),
    ] {
        s.present.push(Present {
            part: Part::Stack,
            what: format!("{} (made by the stack)", arn),
            resource: Some((arn, kind)),
        });
    }
    Ok(())
}

/// Without the stack: its bucket, role and profile must not exist (another account's bucket of
/// that name, or a role made by hand, would make CreateStack fail half-way).
async fn stack_parts_absent(ex: &Executor, s: &Survey) -> Result<(), PrepareError> {
    let c = ex.clients();
    let bucket = names::bucket(&s.account);
    let head = ex
        .pace()
        .send("HeadBucket", || {
            c.s3.head_bucket()
                .bucket(&bucket)
                .expected_bucket_owner(&s.account)
                .send()
        })
        .await;
    match head {
        Err(e) if e.is_not_found() => {}
        Ok(_) => {
            return Err(wrong(
                format!("bucket {bucket}"),
                format!(
                    "it exists without the stack {} that makes it; empty and delete it, or run prepare --fresh",
                    names::STACK
                ),
            ))
        }
        Err(e) if e.status == Some(403) => {
            return Err(wrong(
                format!("bucket {bucket}"),
                "a bucket of that name exists and this account does not own it (S3 names are global): the workshop's template cannot create it here",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let outside = |what: String| {
        wrong(
            what,
            format!(
                "it exists without the stack {} that makes it; delete it (kms-workshop cleanup), or run prepare --fresh",
                names::STACK
            ),
        )
    };
    let role = ex
        .pace()
        .send("GetRole", || c.iam.get_role().role_name(names::ROLE).send())
        .await;
    match role {
        Err(e) if e.is_not_found() => {}
        Ok(_) => return Err(outside(format!("role {}", names::ROLE))),
        Err(e) => return Err(e.into()),
    }
    let profile = ex
        .pace()
        .send("GetInstanceProfile", || {
            c.iam
                .get_instance_profile()
                .instance_profile_name(names::PROFILE)
                .send()
        })
        .await;
    match profile {
        Err(e) if e.is_not_found() => Ok(()),
        Ok(_) => Err(outside(format!("instance profile {}", names::PROFILE))),
        Err(e) => Err(e.into()),
    }
}

/// The sample files in the stack's bucket.
async fn objects(ex: &Executor, s: &mut Survey) -> Result<(), PrepareError> {
    if !s.has(&Part::Stack) {
        return Ok(());
    }
    let bucket = names::bucket(&s.account);
    let s3 = ex.clients().s3_for(ex.pace(), &bucket).await?;
    for f in SAMPLE_FILES {
        let head = ex
            .pace()
            .send("HeadObject", || {
                s3.head_object()
                    .bucket(&bucket)
                    .key(f.key)
                    .expected_bucket_owner(&s.account)
                    .send()
            })
            .await;
        match head {
            Ok(_) => s.add(
                Part::Object {
                    key: f.key.to_string(),
                },
                format!("s3://{bucket}/{}", f.key),
                None,
            ),
            Err(e) if e.is_not_found() || e.status == Some(404) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
