//! Starting states. `workshop` reproduces a learner's account at the start of the KMS
//! workshop's monitoring chapter (DESIGN.md section 2); `empty` has the identities only.
//!
//! The identities are fixed and documented so the `aws` CLI, the SDKs and the guided runner can
//! all use them: the learner's IAM user, and role-session credentials of the workshop instance's
//! role (`KMSWorkshop-InstanceInitRole`), whose CloudTrail user name is the instance id.

use std::str::FromStr;

use time::Duration;

use crate::identity::{Credential, Principal};
use crate::protocol::AwsError;
use crate::Sandbox;

/// The account the seeds create.
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";
/// The learner's IAM user and keys.
pub const LEARNER_USER: &str = "workshop-learner";
pub const LEARNER_ACCESS_KEY: &str = "AKIAWORKSHOPLEARNER1";
pub const LEARNER_SECRET_KEY: &str = "kmsworkshop/sandbox/learner/secret/key/000";
/// The workshop instance and its role-session keys.
pub const INSTANCE_ID: &str = "i-0a1b2c3d4e5f60718";
pub const INSTANCE_ROLE: &str = "KMSWorkshop-InstanceInitRole";
pub const INSTANCE_ACCESS_KEY: &str = "ASIAWORKSHOPINSTANCE";
pub const INSTANCE_SECRET_KEY: &str = "kmsworkshop/sandbox/instance/secret/key/00";
pub const INSTANCE_SESSION_TOKEN: &str =
    "IQoJb3JpZ2luX2VjEKMSWorkshopSandboxInstanceRoleSessionToken";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    Workshop,
    Empty,
}

impl Seed {
    pub fn name(self) -> &'static str {
        match self {
            Seed::Workshop => "workshop",
            Seed::Empty => "empty",
        }
    }
}

impl FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "workshop" => Ok(Seed::Workshop),
            "empty" => Ok(Seed::Empty),
            other => Err(format!(
                "unknown seed '{other}': expected one of workshop, empty"
            )),
        }
    }
}

pub fn learner_credential(account: &str) -> Credential {
    Credential {
        access_key_id: LEARNER_ACCESS_KEY.into(),
        secret_access_key: LEARNER_SECRET_KEY.into(),
        session_token: None,
        account: account.into(),
        principal: Principal::IamUser {
            name: LEARNER_USER.into(),
            user_id: "AIDAWORKSHOPLEARNER01".into(),
        },
    }
}

pub fn instance_credential(account: &str, created: &str) -> Credential {
    Credential {
        access_key_id: INSTANCE_ACCESS_KEY.into(),
        secret_access_key: INSTANCE_SECRET_KEY.into(),
        session_token: Some(INSTANCE_SESSION_TOKEN.into()),
        account: account.into(),
        principal: Principal::AssumedRole {
            role_name: INSTANCE_ROLE.into(),
            role_id: "AROAWORKSHOPINSTANCE1".into(),
            session_name: INSTANCE_ID.into(),
            created: created.into(),
        },
    }
}

/// Write the seed's state into a fresh sandbox.
pub fn apply(sb: &Sandbox, seed: Seed) -> Result<(), AwsError> {
    let now = sb.clock.now();
    sb.add_credential(learner_credential(ACCOUNT))?;
    sb.add_credential(instance_credential(
        ACCOUNT,
        &crate::util::iso8601_secs(now - Duration::hours(2)),
    ))?;
    if seed == Seed::Workshop {
        crate::services::kms::seed_workshop(sb, ACCOUNT, REGION, now)?;
        crate::services::iam::seed_workshop(sb, ACCOUNT)?;
        crate::services::ec2::seed_workshop(sb, ACCOUNT, REGION)?;
        crate::services::s3::seed_workshop(sb, ACCOUNT, REGION)?;
    }
    sb.set_seed_name(seed.name())
}
