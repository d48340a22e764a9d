//! A key's settings besides its state: its policy (one, named `default`) and automatic
//! rotation.

use time::Duration;

use super::keys::policy_document;
use super::{customer_key, key, read, write};
use crate::protocol::{AwsError, Input, Value};
use crate::services::kms::errors::{not_external, not_usable, out_of_range};
use crate::services::kms::state::KeyOrigin;
use crate::services::Call;

pub fn get_key_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        let k = key(cx, st, "GetKeyPolicy", input)?;
        let name = input.str("PolicyName")?.unwrap_or_else(|| "default".into());
        if name != "default" {
            return Err(AwsError::new(
                400,
                "NotFoundException",
                format!("Policy {name} does not exist on key {}", k.arn),
            ));
        }
        Ok(Value::obj()
            .with("Policy", k.policy.clone())
            .with("PolicyName", "default"))
    })
}

pub fn list_key_policies(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        key(cx, st, "ListKeyPolicies", input)?;
        Ok(Value::obj()
            .with("PolicyNames", Value::List(vec!["default".into()]))
            .with("Truncated", false))
    })
}

pub fn put_key_policy(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        // The key first: a key that does not exist is NotFound, whatever the policy.
        customer_key(cx, st, "PutKeyPolicy", input)?;
        let policy = policy_document(cx, input.req_str("Policy")?, input)?;
        let k = customer_key(cx, st, "PutKeyPolicy", input)?;
        k.policy = policy;
        Ok(Value::Null)
    })
}

pub fn get_key_rotation_status(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        let k = key(cx, st, "GetKeyRotationStatus", input)?;
        let enabled = k.rotation_period_days.is_some();
        let mut v = Value::obj()
            .with("KeyRotationEnabled", enabled)
            .with("KeyId", k.arn.clone());
        if let Some(days) = k.rotation_period_days {
            v = v
                .with("RotationPeriodInDays", days)
                .with("NextRotationDate", cx.now + Duration::days(days));
        }
        Ok(v)
    })
}

pub fn enable_key_rotation(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    set_rotation(cx, input, "EnableKeyRotation")
}

pub fn disable_key_rotation(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    set_rotation(cx, input, "DisableKeyRotation")
}

fn set_rotation(cx: &mut Call<'_>, input: &Input, op: &str) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let period = input.int("RotationPeriodInDays")?;
        if let Some(p) = period {
            if !(90..=2560).contains(&p) {
                return Err(out_of_range("RotationPeriodInDays", p, 90, 2560));
            }
        }
        let now = cx.now;
        let k = customer_key(cx, st, op, input)?;
        if k.origin == KeyOrigin::External {
            return Err(not_external(k));
        }
        if let Some(e) = not_usable(k, now) {
            return Err(e);
        }
        k.rotation_period_days = (op == "EnableKeyRotation").then(|| period.unwrap_or(365));
        Ok(Value::Null)
    })
}
