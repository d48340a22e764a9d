//! The identities and accounts the offline sandbox seeds.
//!
//! Their names, accounts and access key ids are fixed and documented so that the `aws` CLI, the
//! SDKs and the guided runner can all name them: the learner's IAM user, and role-session
//! credentials of the workshop instance's role ([`crate::ROLE`]), whose CloudTrail user name is
//! the instance id. Their *secrets* are not here: each sandbox state makes its own at random
//! (`kms-workshop sandbox env` hands them to whoever holds the sandbox's admin token), so that
//! one learner cannot work out another's.
//!
//! Classroom mode seeds N learners, each in an account of their own ([`learner`]): learner 1
//! has the documented constants below, learner K the account `111122223333 + K - 1`. An
//! instructor identity in a separate account can assume [`CLASSROOM_ROLE`] in every learner
//! account, as an organisation's management account does.

/// The account the seeds create.
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";
/// The learner's IAM user and access key id.
pub const LEARNER_USER: &str = "workshop-learner";
pub const LEARNER_ACCESS_KEY: &str = "AKIAWORKSHOPLEARNER1";
/// The workshop instance and its role-session access key id.
pub const INSTANCE_ID: &str = "i-0a1b2c3d4e5f60718";
pub const INSTANCE_ROLE: &str = crate::ROLE;
pub const INSTANCE_ACCESS_KEY: &str = "ASIAWORKSHOPINSTANCE";

/// The instructor's account and IAM user (classroom mode).
pub const INSTRUCTOR_ACCOUNT: &str = "999988887777";
pub const INSTRUCTOR_USER: &str = "workshop-instructor";
pub const INSTRUCTOR_ACCESS_KEY: &str = "AKIAWORKSHOPINSTRUCT";
/// The role in every classroom learner account that the instructor may assume (the name AWS
/// Organizations gives it in member accounts).
pub const CLASSROOM_ROLE: &str = "OrganizationAccountAccessRole";
/// The most learners one sandbox seeds.
pub const MAX_LEARNERS: u32 = 2000;

/// One learner's account and access key ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    /// 1-based.
    pub number: u32,
    pub account: String,
    pub access_key_id: String,
    pub instance_access_key_id: String,
}

/// Learner `number`'s identities (learner 1: the documented constants).
pub fn learner(number: u32) -> Learner {
    let number = number.max(1);
    if number == 1 {
        return Learner {
            number,
            account: ACCOUNT.into(),
            access_key_id: LEARNER_ACCESS_KEY.into(),
            instance_access_key_id: INSTANCE_ACCESS_KEY.into(),
        };
    }
    let base: u64 = ACCOUNT.parse().unwrap_or(111_122_223_333);
    Learner {
        number,
        account: format!("{:012}", base + u64::from(number) - 1),
        access_key_id: format!("AKIAWORKSHOPLEARNER{number}"),
        instance_access_key_id: format!("ASIAWORKSHOPINSTANCE{number}"),
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
