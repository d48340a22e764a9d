//! KMS's part of the workshop seed: the learner's keys at the start of the monitoring chapter
//! (DESIGN.md section 2), and a lookalike key of another project.

use time::{Duration, OffsetDateTime};

use super::crypto;
use super::state::{alias_arn, default_policy, Alias, Key, KeyManager, KeyOrigin, KmsState};
use crate::protocol::AwsError;
use crate::util::b64;
use crate::Sandbox;
use kms_workshop_names::starting::{KeyRole, KEY_ROLE_TAG, MATERIAL_DAYS, PENDING_WINDOW_DAYS};
use kms_workshop_names::{TAG_KEY, TAG_VALUE};

/// The workshop's keys: K1 pending deletion, K2 (`alias/FirstCMK`), K3 with imported material
/// (`alias/ImportedCMK`), the AWS managed EBS key, and another project's key.
pub fn seed_workshop(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    let new_key = |origin, manager, description: &str, created| {
        let policy = default_policy(account);
        Key::new(
            region,
            account,
            origin,
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
    let (aws_kms, customer) = (KeyOrigin::AwsKms, KeyManager::Customer);
    // The keys of the starting state (kms_workshop_names::starting), tagged as prepare tags them.
    let workshop_key = |role: KeyRole, created| {
        let spec = role.spec();
        let origin = if spec.external {
            KeyOrigin::External
        } else {
            aws_kms
        };
        let mut k = new_key(origin, customer, spec.description, created);
        k.tags.insert(TAG_KEY.into(), TAG_VALUE.into());
        k.tags.insert(KEY_ROLE_TAG.into(), role.as_str().into());
        k
    };
    let mut k1 = workshop_key(KeyRole::Pending, now - day * 3);
    k1.deletion_date = Some(now + Duration::days(i64::from(PENDING_WINDOW_DAYS - 1)));
    k1.pending_window_days = Some(i64::from(PENDING_WINDOW_DAYS));
    let k2 = workshop_key(KeyRole::First, now - day * 3);
    let mut k3 = workshop_key(KeyRole::Imported, now - day * 2);
    let material = crypto::random_bytes(32);
    k3.materials = vec![b64(&material)];
    k3.imported_fingerprint = Some(crypto::fingerprint(&material));
    k3.valid_to = Some(now + Duration::days(i64::from(MATERIAL_DAYS)));
    k3.material_imported_at = Some(now - day * 2);
    k3.expiration_model = Some("KEY_MATERIAL_EXPIRES".into());
    let ebs = new_key(
        aws_kms,
        KeyManager::Aws,
        "Default key that protects my EBS volumes when no other key is defined",
        now - day * 30,
    );
    // A lookalike: another project's key in the same account, which no clean-up may touch.
    let mut payments = new_key(
        aws_kms,
        customer,
        "Payments service data key",
        now - day * 60,
    );
    payments.tags.insert("project".into(), "payments".into());
    let aliases = [
        alias("alias/payments-data", &payments, now - day * 60),
        alias("alias/FirstCMK", &k2, now - day * 3),
        alias("alias/ImportedCMK", &k3, now - day * 2),
        alias("alias/aws/ebs", &ebs, now - day * 30),
    ];
    sb.write::<KmsState, _>(account, region, |st| {
        for a in aliases {
            st.aliases.insert(a.name.clone(), a);
        }
        for k in [payments, k1, k2, k3, ebs] {
            st.keys.insert(k.id.clone(), k);
        }
        Ok(())
    })
}
