//! Keys: creating, describing and listing them, enabling and disabling, deletion windows.

use serde_json::Value as J;
use time::Duration;

use super::{customer_key, key, page, read, touch, write};
use crate::protocol::{AwsError, Input, Value};
use crate::services::kms::errors::{malformed_policy, out_of_range, pending_deletion, unsupported};
use crate::services::kms::state::{default_policy, Key, KeyManager, KeyOrigin, KeyState};
use crate::services::kms::views;
use crate::services::Call;

/// A key's origin as `CreateKey` takes it.
fn origin(input: &Input) -> Result<KeyOrigin, AwsError> {
    match input.str("Origin")?.as_deref() {
        None | Some("AWS_KMS") => Ok(KeyOrigin::AwsKms),
        Some("EXTERNAL") => Ok(KeyOrigin::External),
        Some(o @ ("AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE")) => Err(unsupported(format!(
            "Origin {o} needs a custom key store, which the sandbox does not have."
        ))),
        Some(other) => Err(AwsError::bad_value(
            "Origin",
            other,
            "Member must satisfy enum value set: [AWS_CLOUDHSM, EXTERNAL, EXTERNAL_KEY_STORE, AWS_KMS]",
        )),
    }
}

/// The sandbox's keys are symmetric, single-Region, for encryption.
fn check_spec(input: &Input) -> Result<(), AwsError> {
    for member in ["KeySpec", "CustomerMasterKeySpec"] {
        if let Some(spec) = input.str(member)? {
            if spec != "SYMMETRIC_DEFAULT" {
                return Err(unsupported(format!(
                    "{member} {spec}: the sandbox supports SYMMETRIC_DEFAULT keys only."
                )));
            }
        }
    }
    if let Some(usage) = input.str("KeyUsage")? {
        if usage != "ENCRYPT_DECRYPT" {
            return Err(AwsError::bad_value(
                "KeyUsage",
                &usage,
                "Member must satisfy enum value set: [ENCRYPT_DECRYPT] for SYMMETRIC_DEFAULT keys",
            ));
        }
    }
    if input.bool("MultiRegion")? == Some(true) {
        return Err(unsupported(
            "Multi-Region keys are not supported by the sandbox.".into(),
        ));
    }
    Ok(())
}

/// A key policy as given: it must be JSON, and (KMS's lockout safety check, unless the request
/// sets `BypassPolicyLockoutSafetyCheck`) let the caller put the key's policy again.
pub(super) fn policy_document(
    cx: &Call<'_>,
    policy: String,
    input: &Input,
) -> Result<String, AwsError> {
    serde_json::from_str::<J>(&policy).map_err(|_| malformed_policy())?;
    if input
        .bool("BypassPolicyLockoutSafetyCheck")?
        .unwrap_or(false)
    {
        return Ok(policy);
    }
    // Conditions depend on the request that will come, which the check cannot know: an Allow
    // counts whatever its conditions, and only an unconditional Deny refuses (AWS's check
    // refuses only a policy that certainly locks the caller out).
    let lenient = unconditional(&policy);
    // The caller as the policy may name it: its own ARN, or its role's.
    let mut names = vec![cx.caller.arn()];
    if let crate::identity::Principal::AssumedRole { role_name, .. } = &cx.caller.principal {
        names.push(format!("arn:aws:iam::{}:role/{role_name}", cx.account()));
    }
    let allowed = names.iter().any(|arn| {
        super::policy_decision(cx, &lenient, "kms:PutKeyPolicy", None, arn).is_allowed()
    });
    if !allowed {
        return Err(AwsError::new(
            400,
            "MalformedPolicyDocumentException",
            "The new key policy will not allow you to update the key policy in the future.",
        ));
    }
    Ok(policy)
}

/// `policy` with its Allow statements' conditions dropped and its conditional Deny statements
/// left out.
fn unconditional(policy: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<J>(policy) else {
        return policy.to_string();
    };
    let statements = match doc.get_mut("Statement") {
        Some(J::Array(a)) => a,
        _ => return policy.to_string(),
    };
    statements
        .retain(|st| st.get("Effect") != Some(&J::from("Deny")) || st.get("Condition").is_none());
    for st in statements.iter_mut() {
        if let J::Object(m) = st {
            m.remove("Condition");
        }
    }
    doc.to_string()
}

pub fn create_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let origin = origin(input)?;
        check_spec(input)?;
        // Its length is the model's, checked before.
        let description = input.str("Description")?.unwrap_or_default();
        let policy = match input.str("Policy")? {
            Some(p) => policy_document(cx, p, input)?,
            None => default_policy(cx.account()),
        };
        let tags = super::tags::parse(input)?;
        let mut key = Key::new(
            &cx.region,
            cx.account(),
            origin,
            KeyManager::Customer,
            description,
            cx.now,
            policy,
        );
        key.tags = tags.into_iter().collect();
        touch(cx, &key);
        let md = views::metadata(&key, cx.now);
        st.keys.insert(key.id.clone(), key);
        Ok(Value::obj().with("KeyMetadata", md))
    })
}

pub fn describe_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        let k = key(cx, st, "DescribeKey", input)?;
        Ok(Value::obj().with("KeyMetadata", views::metadata(k, cx.now)))
    })
}

pub fn list_keys(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |_, st| {
        let mut keys: Vec<&Key> = st.keys.values().collect();
        keys.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        let (items, next) = page(input, &keys)?;
        let list = items.iter().map(|k| views::key_entry(k)).collect();
        Ok(views::with_page(
            Value::obj().with("Keys", Value::List(list)),
            next,
        ))
    })
}

pub fn enable_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    set_disabled(cx, input, "EnableKey", false)
}

pub fn disable_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    set_disabled(cx, input, "DisableKey", true)
}

fn set_disabled(
    cx: &mut Call<'_>,
    input: &Input,
    op: &str,
    disabled: bool,
) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let k = customer_key(cx, st, op, input)?;
        if k.deletion_date.is_some() {
            return Err(pending_deletion(&k.arn));
        }
        k.disabled = disabled;
        Ok(Value::Null)
    })
}

pub fn schedule_key_deletion(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let days = input.int("PendingWindowInDays")?.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(out_of_range("PendingWindowInDays", days, 7, 30));
        }
        let now = cx.now;
        let k = customer_key(cx, st, "ScheduleKeyDeletion", input)?;
        if k.deletion_date.is_some() {
            return Err(pending_deletion(&k.arn));
        }
        let when = now + Duration::days(days);
        k.deletion_date = Some(when);
        k.pending_window_days = Some(days);
        Ok(Value::obj()
            .with("KeyId", k.arn.clone())
            .with("DeletionDate", when)
            .with("KeyState", KeyState::PendingDeletion.as_str())
            .with("PendingWindowInDays", days))
    })
}

pub fn cancel_key_deletion(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let k = customer_key(cx, st, "CancelKeyDeletion", input)?;
        if k.deletion_date.is_none() {
            return Err(AwsError::new(
                400,
                "KMSInvalidStateException",
                format!("{} is not pending deletion.", k.arn),
            ));
        }
        k.deletion_date = None;
        k.pending_window_days = None;
        // AWS leaves a key whose deletion was cancelled disabled.
        k.disabled = true;
        Ok(Value::obj().with("KeyId", k.arn.clone()))
    })
}
