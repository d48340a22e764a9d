//! Users (access keys are in [`super::access_keys`], attached policies in
//! [`super::attached`]).

use super::{add_new, caller_user, ensure_no_policies, list_by_path, read, write, write_logged};
use crate::protocol::{AwsError, Input, Value};
use crate::services::iam::errors::{already_exists, delete_conflict};
use crate::services::iam::params::{name_param, parse_tags, path_param, user_name_param};
use crate::services::iam::state::{new_id, User};
use crate::services::iam::trail::user_resource;
use crate::services::iam::views::user_value;
use crate::services::Call;

pub(crate) fn get_user(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = user_name_param(input)?;
    let caller = caller_user(cx);
    let account = cx.account();
    let now = cx.now;
    let user = read(cx, |st| match &name {
        Some(n) => st.user(n).cloned(),
        None => {
            let (n, id) = caller?;
            // A signing identity the IAM state does not list (another classroom account,
            // say) still exists: describe it from its credential.
            Ok(st
                .user(&n)
                .cloned()
                .unwrap_or_else(|_| User::new(account, "/", &n, id, now)))
        }
    })?;
    cx.resources.push(user_resource(&user.arn));
    Ok(Value::obj().with("User", user_value(&user, true)))
}

pub(crate) fn create_user(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "UserName", 64)?;
    let path = path_param(input)?;
    let tags = parse_tags(input)?;
    let mut u = User::new(cx.account(), &path, &name, new_id("AIDA"), cx.now);
    u.tags = tags;
    cx.resources.push(user_resource(&u.arn));
    let v = Value::obj().with("User", user_value(&u, true));
    let exists =
        |have: &User| already_exists(format!("User with name {} already exists.", have.name));
    write(cx, |st| {
        add_new(&mut st.users, &name, u, exists, ("UsersPerAccount", 5000))
    })?;
    Ok(v)
}

pub(crate) fn delete_user(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = name_param(input, "UserName", 128)?;
    write_logged(cx, user_resource, |st| {
        let key = name.to_lowercase();
        let u = st.user(&name)?;
        if st.access_keys.values().any(|k| k.user == key) {
            return Err(delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        ensure_no_policies(&u.attached, &u.inline)?;
        let arn = u.arn.clone();
        st.users.remove(&key);
        Ok(arn)
    })
}

pub(crate) fn list_users(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    list_by_path(
        cx,
        input,
        "Users",
        |st| &st.users,
        |_, u| user_value(u, false),
    )
}
