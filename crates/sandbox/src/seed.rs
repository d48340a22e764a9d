//! Starting states. `workshop` reproduces a learner's account at the start of the KMS
//! workshop's monitoring chapter (DESIGN.md section 2); `empty` has the identities only.
//!
//! The identities are fixed and documented so the `aws` CLI, the SDKs and the guided runner can
//! all use them: the learner's IAM user, and role-session credentials of the workshop instance's
//! role (`KMSWorkshop-InstanceInitRole`), whose CloudTrail user name is the instance id.
//!
//! Classroom mode seeds N learners, each in an account of their own with their own keys
//! ([`learner`]): learner 1 has the documented constants below, learner K the account
//! `111122223333 + K - 1`. An instructor identity in a separate account can assume
//! [`CLASSROOM_ROLE`] in every learner account, as an organisation's management account does.

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

/// The instructor's account and IAM user (classroom mode).
pub const INSTRUCTOR_ACCOUNT: &str = "999988887777";
pub const INSTRUCTOR_USER: &str = "workshop-instructor";
pub const INSTRUCTOR_ACCESS_KEY: &str = "AKIAWORKSHOPINSTRUCT";
pub const INSTRUCTOR_SECRET_KEY: &str = "kmsworkshop/sandbox/instructor/secret/00";
/// The role in every classroom learner account that the instructor may assume (the name AWS
/// Organizations gives it in member accounts).
pub const CLASSROOM_ROLE: &str = "OrganizationAccountAccessRole";
/// The most learners one sandbox seeds.
pub const MAX_LEARNERS: u32 = 500;

/// One learner's account and keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    /// 1-based.
    pub number: u32,
    pub account: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub instance_access_key_id: String,
    pub instance_secret_access_key: String,
    pub instance_session_token: String,
}

/// Learner `number`'s identities (learner 1: the documented constants).
pub fn learner(number: u32) -> Learner {
    let number = number.max(1);
    if number == 1 {
        return Learner {
            number,
            account: ACCOUNT.into(),
            access_key_id: LEARNER_ACCESS_KEY.into(),
            secret_access_key: LEARNER_SECRET_KEY.into(),
            instance_access_key_id: INSTANCE_ACCESS_KEY.into(),
            instance_secret_access_key: INSTANCE_SECRET_KEY.into(),
            instance_session_token: INSTANCE_SESSION_TOKEN.into(),
        };
    }
    let base: u64 = ACCOUNT.parse().unwrap_or(111_122_223_333);
    Learner {
        number,
        account: format!("{:012}", base + u64::from(number) - 1),
        access_key_id: format!("AKIAWORKSHOPLEARNER{number}"),
        secret_access_key: format!("kmsworkshop/sandbox/learner/secret/key/{:03}", number - 1),
        instance_access_key_id: format!("ASIAWORKSHOPINSTANCE{number}"),
        instance_secret_access_key: format!(
            "kmsworkshop/sandbox/instance/secret/key/{:02}",
            number - 1
        ),
        instance_session_token: format!("{INSTANCE_SESSION_TOKEN}{number}"),
    }
}

/// The learner whose account `account` is (learner 1 for accounts outside the classroom range).
pub fn learner_of(account: &str) -> Learner {
    let base: u64 = ACCOUNT.parse().unwrap_or(111_122_223_333);
    let number = account
        .parse::<u64>()
        .ok()
        .and_then(|a| a.checked_sub(base))
        .filter(|d| *d < u64::from(MAX_LEARNERS))
        .map(|d| d as u32 + 1)
        .unwrap_or(1);
    learner(number)
}

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
    let l = learner_of(account);
    Credential {
        access_key_id: l.access_key_id,
        secret_access_key: l.secret_access_key,
        session_token: None,
        account: account.into(),
        principal: Principal::IamUser {
            name: LEARNER_USER.into(),
            user_id: "AIDAWORKSHOPLEARNER01".into(),
        },
        expires_ms: None,
    }
}

pub fn instance_credential(account: &str, created: &str) -> Credential {
    let l = learner_of(account);
    Credential {
        access_key_id: l.instance_access_key_id,
        secret_access_key: l.instance_secret_access_key,
        session_token: Some(l.instance_session_token),
        account: account.into(),
        principal: Principal::AssumedRole {
            role_name: INSTANCE_ROLE.into(),
            role_id: "AROAWORKSHOPINSTANCE1".into(),
            session_name: INSTANCE_ID.into(),
            created: created.into(),
        },
        expires_ms: None,
    }
}

pub fn instructor_credential() -> Credential {
    Credential {
        access_key_id: INSTRUCTOR_ACCESS_KEY.into(),
        secret_access_key: INSTRUCTOR_SECRET_KEY.into(),
        session_token: None,
        account: INSTRUCTOR_ACCOUNT.into(),
        principal: Principal::IamUser {
            name: INSTRUCTOR_USER.into(),
            user_id: "AIDAWORKSHOPINSTRUCT1".into(),
        },
        expires_ms: None,
    }
}

/// Write the seed's state into a fresh sandbox: every learner's account (`Config::learners`),
/// and in classroom mode the instructor.
pub fn apply(sb: &Sandbox, seed: Seed) -> Result<(), AwsError> {
    let n = sb.config.learners.clamp(1, MAX_LEARNERS);
    for k in 1..=n {
        apply_learner(sb, seed, k)?;
    }
    sb.set_seed_name(seed.name())
}

/// Seed learner `number`'s account (a fresh one, or one [`Sandbox::reset_learner`] emptied).
pub fn apply_learner(sb: &Sandbox, seed: Seed, number: u32) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let account = learner(number).account;
    sb.add_credential(learner_credential(&account))?;
    sb.add_credential(instance_credential(
        &account,
        &crate::util::iso8601_secs(now - Duration::hours(2)),
    ))?;
    if seed == Seed::Workshop {
        crate::services::kms::seed_workshop(sb, &account, REGION, now)?;
        crate::services::cloudformation::seed_workshop(
            sb,
            &account,
            REGION,
            now - Duration::days(4),
        )?;
        crate::services::iam::seed_workshop(sb, &account)?;
        crate::services::ec2::seed_workshop(sb, &account, REGION)?;
        crate::services::s3::seed_workshop(sb, &account, REGION)?;
        crate::services::sns::seed_workshop(sb, &account, REGION)?;
        crate::services::cloudtrail::history::seed_workshop(sb, &account, REGION, now)?;
    }
    if sb.config.learners > 1 {
        if sb.credential(INSTRUCTOR_ACCESS_KEY).is_none() {
            sb.add_credential(instructor_credential())?;
        }
        crate::services::iam::seed_classroom_role(sb, &account, INSTRUCTOR_ACCOUNT)?;
    }
    sb.add_learner(number, &account)
}
