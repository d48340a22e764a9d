//! KMS's part of the workshop seed around the prepared keys (the seed's plan makes the
//! workshop's own: `crate::seed::plan`): the AWS managed EBS key every account has, and a
//! lookalike key of another project that no clean-up may touch.

use time::{Duration, OffsetDateTime};

use super::state::{alias_arn, default_policy, Alias, Key, KeyManager, KeyOrigin, KmsState};
use crate::protocol::AwsError;
use crate::Sandbox;

/// `alias/aws/ebs`'s key and another project's key (`alias/payments-data`).
pub fn seed_workshop(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    let new_key = |manager, description: &str, created| {
        let policy = default_policy(account);
        Key::new(
            region,
            account,
            KeyOrigin::AwsKms,
            manager,
            description.into(),
            created,
            policy,
        )
    };
    let alias = |name: &str, target: &Key, at: OffsetDateTime| Alias {
        name: name.to_string(),
        arn: alias_arn(region, account, name),
        target: target.id.clone(),
        created: at,
        updated: at,
    };
    let day = Duration::days(1);
    let ebs = new_key(
        KeyManager::Aws,
        "Default key that protects my EBS volumes when no other key is defined",
        now - day * 30,
    );
    // A lookalike: another project's key in the same account, which no clean-up may touch.
    let mut payments = new_key(
        KeyManager::Customer,
        "Payments service data key",
        now - day * 60,
    );
    payments.tags.insert("project".into(), "payments".into());
    let aliases = [
        alias("alias/payments-data", &payments, now - day * 60),
        alias("alias/aws/ebs", &ebs, now - day * 30),
    ];
    sb.write::<KmsState, _>(account, region, |st| {
        for a in aliases {
            st.aliases.insert(a.name.clone(), a);
        }
        for k in [payments, ebs] {
            st.keys.insert(k.id.clone(), k);
        }
        Ok(())
    })
}
