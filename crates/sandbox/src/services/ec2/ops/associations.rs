//! IAM instance profile associations: DescribeIamInstanceProfileAssociations,
//! AssociateIamInstanceProfile, DisassociateIamInstanceProfile and
//! ReplaceIamInstanceProfileAssociation (`associating` → `associated` → `disassociating`).

use time::{Duration, OffsetDateTime};

use super::filters::{filters, one, page_params, paginate, passes};
use super::{dry_run, id_list, instance, note_instance, opt_str, req_str};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::{association_not_found, err, missing};
use crate::services::ec2::ids::{new_id, profile_id};
use crate::services::ec2::state::{Association, AssociationState, Ec2State};
use crate::services::ec2::views::association_value;
use crate::services::Call;

/// The ARN of an instance profile given by ARN, checked.
fn profile_arn(arn: String) -> Result<String, AwsError> {
    let ok = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":instance-profile/"))
        .is_some_and(|(acct, name)| {
            acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()
        });
    if !ok {
        return Err(err(
            "InvalidParameterValue",
            format!("Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"),
        ));
    }
    Ok(arn)
}

/// The ARN of an instance profile given by name in `account`, checked.
fn profile_name_arn(name: String, account: &str) -> Result<String, AwsError> {
    if name.len() > 128
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b))
    {
        return Err(err(
            "InvalidParameterValue",
            format!("Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"),
        ));
    }
    Ok(format!("arn:aws:iam::{account}:instance-profile/{name}"))
}

/// The ARN and id of an instance profile given by `IamInstanceProfile.Arn` or `.Name`.
pub(crate) fn profile_spec(spec: &Input, account: &str) -> Result<(String, String), AwsError> {
    let arn = match (opt_str(spec, "Arn")?, opt_str(spec, "Name")?) {
        (Some(_), Some(_)) => {
            return Err(err(
                "InvalidParameterCombination",
                "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'",
            ))
        }
        (Some(arn), None) => profile_arn(arn)?,
        (None, Some(name)) => profile_name_arn(name, account)?,
        (None, None) => return Err(missing("IamInstanceProfile")),
    };
    let id = profile_id(&arn);
    Ok((arn, id))
}

/// A new association of `profile` (ARN, id), `associating` until `until`.
pub(crate) fn new_association(
    st: &mut Ec2State,
    instance_id: &str,
    profile: &(String, String),
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Association {
    let a = Association {
        id: new_id("iip-assoc"),
        instance_id: instance_id.to_string(),
        profile_arn: profile.0.clone(),
        profile_id: profile.1.clone(),
        state: AssociationState::Associating,
        until: Some(until),
        timestamp: now,
    };
    st.associations.insert(a.id.clone(), a.clone());
    a
}

pub(crate) fn describe(
    _cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let ids = id_list(input, "AssociationId")?;
    if let Some(unknown) = ids.iter().find(|id| !st.associations.contains_key(*id)) {
        return Err(association_not_found(unknown));
    }
    let page = page_params(input, 5, 1000)?;
    let fs = filters(input)?;
    let mut items = Vec::new();
    for a in st.associations.values() {
        if !ids.is_empty() && !ids.contains(&a.id) {
            continue;
        }
        let ok = passes(&fs, |n| match n {
            "instance-id" => one(&a.instance_id),
            "state" => one(a.state.as_str()),
            _ => None,
        })?;
        if ok {
            items.push((a.id.clone(), association_value(a)));
        }
    }
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("iamInstanceProfileAssociationSet", Value::List(list))
        .with("nextToken", next))
}

/// `IamInstanceProfile`, required.
fn requested_profile(cx: &Call<'_>, input: &Input) -> Result<(String, String), AwsError> {
    let spec = input
        .child("IamInstanceProfile")
        .ok_or_else(|| missing("IamInstanceProfile"))?;
    profile_spec(&spec, cx.account())
}

/// How long associating and disassociating take.
pub(crate) fn association_delay(cx: &Call<'_>) -> Duration {
    cx.lifecycle_delay(2.0, 5.0)
}

/// An association's answer, noting the instance.
fn association_answer(cx: &mut Call<'_>, a: &Association) -> Value {
    note_instance(cx, &a.instance_id);
    Value::obj().with("iamInstanceProfileAssociation", association_value(a))
}

/// Associate `profile` with the instance now, and answer.
fn begin_association(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    instance_id: &str,
    profile: &(String, String),
) -> Value {
    let now = cx.now;
    let a = new_association(st, instance_id, profile, now, now + association_delay(cx));
    association_answer(cx, &a)
}

pub(crate) fn associate(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let id = req_str(input, "InstanceId")?;
    let profile = requested_profile(cx, input)?;
    if instance(st, &id, cx.now)?.state.ending() {
        return Err(err(
            "IncorrectInstanceState",
            format!("The instance '{id}' is not in a valid state for this operation."),
        ));
    }
    if st.association_of(&id).is_some() {
        return Err(err(
            "IncorrectState",
            format!("There is an existing association for instance {id}"),
        ));
    }
    dry_run(input)?;
    Ok(begin_association(cx, st, &id, &profile))
}

pub(crate) fn disassociate(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let id = req_str(input, "AssociationId")?;
    let until = cx.now + association_delay(cx);
    let a = st
        .associations
        .get_mut(&id)
        .ok_or_else(|| association_not_found(&id))?;
    if a.state != AssociationState::Disassociating {
        a.state = AssociationState::Disassociating;
        a.until = Some(until);
    }
    let a = a.clone();
    Ok(association_answer(cx, &a))
}

pub(crate) fn replace(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let id = req_str(input, "AssociationId")?;
    let profile = requested_profile(cx, input)?;
    let old = st
        .associations
        .get(&id)
        .ok_or_else(|| association_not_found(&id))?;
    if old.state == AssociationState::Disassociating {
        return Err(err(
            "IncorrectState",
            format!("The association {id} is not in the 'associated' state."),
        ));
    }
    let instance_id = old.instance_id.clone();
    dry_run(input)?;
    st.associations.remove(&id);
    Ok(begin_association(cx, st, &instance_id, &profile))
}
