//! The sandbox's whole state, as it is persisted: credentials, the clock offset, and per account
//! and region one state struct per service. Each service's regional state is written to the
//! store as one object after every change (see [`RegionalState`]).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::identity::Credential;
use crate::services::cloudformation::CfnState;
use crate::services::cloudwatch::CloudWatchState;
use crate::services::ec2::Ec2State;
use crate::services::events::EventsState;
use crate::services::iam::IamState;
use crate::services::s3::S3State;
use crate::services::sns::{Outbox, SnsState};
use crate::services::{cloudtrail::TrailState, kms::KmsState};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct World {
    /// The seed this state was created from (`workshop` or `empty`).
    pub seed: String,
    pub clock_offset_ms: i64,
    pub credentials: BTreeMap<String, Credential>,
    pub accounts: BTreeMap<String, Account>,
    /// Learner number → account (classroom mode has several; older states have none, which
    /// means learner 1 only).
    pub learners: BTreeMap<u32, String>,
    /// The random seed the seeded identities' secrets are derived from
    /// ([`crate::identity`]); empty in states made before secrets were random.
    pub secret_seed: String,
    /// Learner number → when (sandbox clock, Unix ms) their account was last seeded: what
    /// happened after it is the learner's doing ([`crate::progress`]); states from before it
    /// have none, and count the whole history.
    pub learner_since: BTreeMap<u32, i64>,
    /// Accounts whose workshop state waits for their first use ([`crate::seed::lazy`]), each
    /// with the mark it was given (a reset gives a new one).
    pub unseeded: BTreeMap<String, u64>,
    /// The last mark given.
    pub seed_marks: u64,
}

impl World {
    /// Learner number → account, in order (learner 1 alone for states made before classroom
    /// mode existed).
    pub fn learners(&self) -> Vec<(u32, String)> {
        // States made before classroom mode (and before --account-id) had the workshop's.
        if self.learners.is_empty() {
            return vec![(1, crate::seed::ACCOUNT.to_string())];
        }
        self.learners.iter().map(|(k, a)| (*k, a.clone())).collect()
    }

    /// Every blob ([`crate::blobs`]) the state names.
    pub fn blob_names(&self) -> std::collections::HashSet<String> {
        self.accounts
            .values()
            .flat_map(|a| a.regions.values())
            .flat_map(|r| r.s3.blob_names())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    pub regions: BTreeMap<String, Region>,
}

/// Declares [`Region`], one member per service state, and each state's [`RegionalState`]
/// impl from the same line, so a service's state is registered in one place.
macro_rules! region {
    ($($(#[$doc:meta])* $member:ident: $state:ty,)*) => {
        /// One account's state in one region: a member per service.
        #[derive(Debug, Default, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Region {
            $($(#[$doc])* pub $member: $state,)*
            /// Messages SNS "sent" (emails; records of http deliveries), persisted one by one.
            pub outbox: Outbox,
        }

        $(impl RegionalState for $state {
            const NAME: &'static str = stringify!($member);
            fn of(region: &Region) -> &Self {
                &region.$member
            }
            fn of_mut(region: &mut Region) -> &mut Self {
                &mut region.$member
            }
        })*
    };
}

region! {
    kms: KmsState,
    cloudtrail: TrailState,
    sns: SnsState,
    events: EventsState,
    /// IAM is global: an account's IAM state lives under its `us-east-1` region.
    iam: IamState,
    ec2: Ec2State,
    cloudwatch: CloudWatchState,
    s3: S3State,
    cloudformation: CfnState,
}

/// A service's state within one account and region.
pub trait RegionalState: Serialize + DeserializeOwned + Default + Clone + Send + 'static {
    /// The member name under `Region` (and in the store's paths).
    const NAME: &'static str;
    fn of(region: &Region) -> &Self;
    fn of_mut(region: &mut Region) -> &mut Self;
}

impl World {
    pub fn region(&self, account: &str, region: &str) -> Option<&Region> {
        self.accounts.get(account)?.regions.get(region)
    }

    pub fn region_mut(&mut self, account: &str, region: &str) -> &mut Region {
        self.accounts
            .entry(account.to_string())
            .or_default()
            .regions
            .entry(region.to_string())
            .or_default()
    }
}
