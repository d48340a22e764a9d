//! Access keys of users: real credentials, added to the sandbox's signing keys when created
//! and revoked at once when deleted. The secret is answered once and never logged.

use serde_json::json;

use super::{caller_user, read, write};
use crate::identity::{Credential, Principal};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::errors::{access_key_not_found, quota};
use crate::services::iam::paging::paginate;
use crate::services::iam::params::{check_len, req, user_name_param};
use crate::services::iam::state::{AccessKey, KeyStatus};
use crate::services::iam::trail::{access_key_resource, user_resource};
use crate::services::iam::views::key_metadata;
use crate::services::Call;
use crate::util::{iso8601_secs, random_id, UPPER_ALNUM};

/// The named user, or the caller's own when the input names none.
fn user_or_caller(cx: &Call<'_>, input: &Input) -> Result<String, AwsError> {
    match user_name_param(input)? {
        Some(n) => Ok(n),
        None => Ok(caller_user(cx)?.0),
    }
}

pub(crate) fn create_access_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = user_or_caller(cx, input)?;
    let key_id = format!("AKIA{}", random_id(UPPER_ALNUM, 16));
    let secret = random_id(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    );
    let now = cx.now;
    let user = write(cx, |st| {
        let u = st.user(&name)?.clone();
        let key = u.name.to_lowercase();
        if st.access_keys.values().filter(|k| k.user == key).count() >= 2 {
            return Err(quota("AccessKeysPerUser", 2));
        }
        st.access_keys.insert(
            key_id.clone(),
            AccessKey {
                id: key_id.clone(),
                user: key,
                status: KeyStatus::Active,
                created: now,
            },
        );
        Ok(u)
    })?;
    cx.sandbox.add_credential(Credential {
        access_key_id: key_id.clone(),
        secret_access_key: secret.clone(),
        session_token: None,
        account: cx.account().to_string(),
        principal: Principal::IamUser {
            name: user.name.clone(),
            user_id: user.id.clone(),
        },
        expires_ms: None,
        console_since: None,
    })?;
    cx.resources.push(user_resource(&user.arn));
    cx.resources.push(access_key_resource(&key_id));
    // CloudTrail never logs the secret.
    cx.response_elements = Some(json!({"accessKey": {
        "userName": user.name, "accessKeyId": key_id, "status": KeyStatus::Active.as_str(),
        "createDate": iso8601_secs(now),
    }}));
    Ok(Value::obj().with(
        "AccessKey",
        Value::obj()
            .with("UserName", user.name.as_str())
            .with("AccessKeyId", key_id.as_str())
            .with("Status", KeyStatus::Active.as_str())
            .with("SecretAccessKey", secret.as_str())
            .with("CreateDate", now),
    ))
}

pub(crate) fn list_access_keys(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let explicit = user_name_param(input)?;
    let name = match &explicit {
        Some(n) => n.clone(),
        None => caller_user(cx)?.0,
    };
    let items: Vec<(String, Value)> = read(cx, |st| {
        let shown = match st.user(&name) {
            Ok(u) => u.name.clone(),
            Err(e) if explicit.is_some() => return Err(e),
            // The caller's own keys, even when IAM does not list the caller as a user.
            Err(_) => name.clone(),
        };
        let key = name.to_lowercase();
        Ok(st
            .access_keys
            .values()
            .filter(|k| k.user == key)
            .map(|k| (k.id.clone(), key_metadata(k, &shown)))
            .collect())
    })?;
    Ok(paginate(input, items)?.into_value("AccessKeyMetadata"))
}

pub(crate) fn delete_access_key(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let key_id = req(input, "AccessKeyId")?;
    check_len("AccessKeyId", &key_id, 16, 128)?;
    let name = user_or_caller(cx, input)?;
    let user_arn = write(cx, |st| {
        let u = st.user(&name)?.arn.clone();
        let key = name.to_lowercase();
        match st.access_keys.get(&key_id) {
            Some(k) if k.user == key => {
                st.access_keys.remove(&key_id);
                Ok(u)
            }
            _ => Err(access_key_not_found(&key_id)),
        }
    })?;
    // A deleted access key stops signing at once (`InvalidClientTokenId`, as on AWS).
    cx.sandbox.remove_credential(&key_id)?;
    cx.resources.push(user_resource(&user_arn));
    cx.resources.push(access_key_resource(&key_id));
    Ok(Value::Null)
}
