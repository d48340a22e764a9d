//! IAM's operations, one function each, grouped by the resource they act on; and what they
//! share: access to the account's state, the owners of attached and inline policies, the
//! caller's own user.

pub(super) mod access_keys;
pub(super) mod attached;
pub(super) mod policies;
pub(super) mod profiles;
pub(super) mod roles;
pub(super) mod tags;
pub(super) mod users;
pub(super) mod versions;

use std::collections::BTreeMap;

use super::errors::{delete_conflict, quota, validation};
use super::paging::paginate;
use super::params::path_prefix;
use super::state::{IamState, InstanceProfile, Role, User, HOME_REGION};
use super::trail::{role_resource, user_resource};
use crate::identity::Principal;
use crate::protocol::{AwsError, Input, Value};
use crate::services::{Call, TrailResource};

/// Read the calling account's IAM state.
fn read<R>(cx: &Call<'_>, f: impl FnOnce(&IamState) -> R) -> R {
    cx.sandbox.read::<IamState, _>(cx.account(), HOME_REGION, f)
}

/// Change the calling account's IAM state (persisted whatever `f` answers).
fn write<R>(
    cx: &Call<'_>,
    f: impl FnOnce(&mut IamState) -> Result<R, AwsError>,
) -> Result<R, AwsError> {
    cx.sandbox
        .write::<IamState, _>(cx.account(), HOME_REGION, f)
}

/// Read with `f`, which also answers the ARN of what it read: that is logged as the call's
/// resource.
fn read_logged<T>(
    cx: &mut Call<'_>,
    resource: impl FnOnce(&str) -> TrailResource,
    f: impl FnOnce(&IamState) -> Result<(T, String), AwsError>,
) -> Result<T, AwsError> {
    let (out, arn) = read(cx, f)?;
    cx.resources.push(resource(&arn));
    Ok(out)
}

/// Change the state with `f`, which answers the ARN of what it changed: that is logged as the
/// call's resource. The answer is empty.
fn write_logged(
    cx: &mut Call<'_>,
    resource: impl FnOnce(&str) -> TrailResource,
    f: impl FnOnce(&mut IamState) -> Result<String, AwsError>,
) -> Result<Value, AwsError> {
    let arn = write(cx, f)?;
    cx.resources.push(resource(&arn));
    Ok(Value::Null)
}

/// The entries of `map` that `keep` selects, by key, in their list shape.
fn keyed<T>(
    map: &BTreeMap<String, T>,
    keep: impl Fn(&T) -> bool,
    view: impl Fn(&T) -> Value,
) -> Vec<(String, Value)> {
    map.iter()
        .filter(|(_, t)| keep(t))
        .map(|(k, t)| (k.clone(), view(t)))
        .collect()
}

/// The entities `select` picks that lie under the input's `PathPrefix`, paged under `member`
/// (ListRoles, ListUsers, ListInstanceProfiles).
fn list_by_path<T: Pathed>(
    cx: &Call<'_>,
    input: &Input,
    member: &str,
    select: fn(&IamState) -> &BTreeMap<String, T>,
    view: impl Fn(&IamState, &T) -> Value,
) -> Result<Value, AwsError> {
    let prefix = path_prefix(input)?;
    let items = read(cx, |st| {
        keyed(
            select(st),
            |t| t.path().starts_with(&prefix),
            |t| view(st, t),
        )
    });
    Ok(paginate(input, items)?.into_value(member))
}

/// Entities that have an IAM path.
trait Pathed {
    fn path(&self) -> &str;
}

impl Pathed for Role {
    fn path(&self) -> &str {
        &self.path
    }
}

impl Pathed for User {
    fn path(&self) -> &str {
        &self.path
    }
}

impl Pathed for InstanceProfile {
    fn path(&self) -> &str {
        &self.path
    }
}

/// Add a new entity under its lower-cased name, unless one of that name exists (`exists` is
/// AWS's error, given the one there) or the account's quota `(name, most)` is reached.
fn add_new<T>(
    map: &mut BTreeMap<String, T>,
    name: &str,
    item: T,
    exists: impl FnOnce(&T) -> AwsError,
    (quota_name, most): (&str, usize),
) -> Result<(), AwsError> {
    let key = name.to_lowercase();
    if let Some(have) = map.get(&key) {
        return Err(exists(have));
    }
    if map.len() >= most {
        return Err(quota(quota_name, most));
    }
    map.insert(key, item);
    Ok(())
}

/// Change the named role with `f`, logging the role as the call's resource.
fn change_role(
    cx: &mut Call<'_>,
    name: &str,
    f: impl FnOnce(&mut Role) -> Result<(), AwsError>,
) -> Result<Value, AwsError> {
    write_logged(cx, role_resource, |st| {
        let r = st.role_mut(name)?;
        f(r)?;
        Ok(r.arn.clone())
    })
}

/// IAM refuses to delete a role or user that still has managed or inline policies.
fn ensure_no_policies(
    attached: &[String],
    inline: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    if !attached.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    if !inline.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    Ok(())
}

/// The IAM user behind the caller, or the error AWS gives to role sessions.
fn caller_user(cx: &Call<'_>) -> Result<(String, String), AwsError> {
    match &cx.caller.principal {
        Principal::IamUser { name, user_id } => Ok((name.clone(), user_id.clone())),
        Principal::AssumedRole { .. } => Err(validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

/// The kind of identity managed policies attach to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Role,
    User,
}

impl Owner {
    /// The member naming it, and the longest name it may have.
    fn member(self) -> (&'static str, usize) {
        match self {
            Owner::Role => ("RoleName", 64),
            Owner::User => ("UserName", 128),
        }
    }

    /// The quota on its attached policies.
    fn quota(self) -> &'static str {
        match self {
            Owner::Role => "PoliciesPerRole",
            Owner::User => "PoliciesPerUser",
        }
    }

    fn resource(self, arn: &str) -> TrailResource {
        match self {
            Owner::Role => role_resource(arn),
            Owner::User => user_resource(arn),
        }
    }

    /// The ARNs of the managed policies attached to the named owner, and its ARN.
    fn attached<'a>(
        self,
        st: &'a IamState,
        name: &str,
    ) -> Result<(&'a Vec<String>, &'a str), AwsError> {
        Ok(match self {
            Owner::Role => {
                let r = st.role(name)?;
                (&r.attached, &r.arn)
            }
            Owner::User => {
                let u = st.user(name)?;
                (&u.attached, &u.arn)
            }
        })
    }

    /// [`Owner::attached`], to change.
    fn attached_mut<'a>(
        self,
        st: &'a mut IamState,
        name: &str,
    ) -> Result<(&'a mut Vec<String>, String), AwsError> {
        Ok(match self {
            Owner::Role => {
                let r = st.role_mut(name)?;
                (&mut r.attached, r.arn.clone())
            }
            Owner::User => {
                let u = st.user_mut(name)?;
                (&mut u.attached, u.arn.clone())
            }
        })
    }
}
