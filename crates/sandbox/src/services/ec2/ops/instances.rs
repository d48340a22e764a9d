//! Instances and their lifecycle: RunInstances (with the root volume each instance gets),
//! TerminateInstances, StopInstances and StartInstances.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::associations::{association_delay, new_association, profile_spec};
use super::tags::tag_specs;
use super::{bool_param, dry_run, instance_ids, int_param, note_instance, opt_str, req_str};
use super::{valid_az, valid_instance_type};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::{
    cannot_be, err, instances_not_found, invalid_instance_type, invalid_value, malformed, missing,
};
use crate::services::ec2::ids::{
    default_network, derived_hex, new_id, random_private_ip, random_public_ip, well_formed,
};
use crate::services::ec2::state::InstanceState::{
    Pending, Running, ShuttingDown, Stopped, Stopping,
};
use crate::services::ec2::state::{
    Attachment, AttachmentState, Ec2State, Instance, InstanceState, Volume,
};
use crate::services::ec2::views::{instance_value, reservation, state_change};
use crate::services::Call;

/// On-demand instances one account may run in a region (the sandbox's "instance limit").
const INSTANCE_LIMIT: usize = 20;

/// What RunInstances needs besides the state: everything validated up front.
pub(crate) struct Launch {
    pub(crate) image_id: String,
    pub(crate) instance_type: String,
    pub(crate) min: usize,
    pub(crate) max: usize,
    pub(crate) key_name: Option<String>,
    pub(crate) subnet_id: Option<String>,
    pub(crate) az: Option<String>,
    pub(crate) profile: Option<(String, String)>,
    /// Tags by resource type (`instance`, `volume`, …).
    pub(crate) tags: BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) disable_api_termination: bool,
    pub(crate) shutdown_behavior: String,
    pub(crate) client_token: Option<String>,
}

impl Launch {
    /// One instance of `image_id`, all else defaulted.
    pub(crate) fn of(image_id: &str, instance_type: &str) -> Launch {
        Launch {
            image_id: image_id.into(),
            instance_type: instance_type.into(),
            min: 1,
            max: 1,
            key_name: None,
            subnet_id: None,
            az: None,
            profile: None,
            tags: BTreeMap::new(),
            disable_api_termination: false,
            shutdown_behavior: "stop".into(),
            client_token: None,
        }
    }
}

/// `MinCount` and `MaxCount`: at least one, max not below min.
fn counts(input: &Input) -> Result<(usize, usize), AwsError> {
    let min = int_param(input, "MinCount")?.ok_or_else(|| missing("MinCount"))?;
    let max = int_param(input, "MaxCount")?.ok_or_else(|| missing("MaxCount"))?;
    if min < 1 {
        return Err(err(
            "InvalidParameterValue",
            format!("Invalid value '{min}' for minCount. Must be greater than 0."),
        ));
    }
    if max < min {
        return Err(err(
            "InvalidParameterValue",
            format!("Invalid value '{max}' for maxCount. Must be greater than or equal to minCount ({min})."),
        ));
    }
    Ok((
        usize::try_from(min).unwrap_or(usize::MAX),
        usize::try_from(max).unwrap_or(usize::MAX),
    ))
}

fn launch_params(cx: &Call<'_>, input: &Input) -> Result<Launch, AwsError> {
    let image_id = req_str(input, "ImageId")?;
    if !well_formed(&image_id, "ami") {
        return Err(malformed("InvalidAMIID.Malformed", &image_id, "ami"));
    }
    let instance_type = opt_str(input, "InstanceType")?.unwrap_or_else(|| "m1.small".into());
    if !valid_instance_type(&instance_type) {
        return Err(invalid_instance_type(&instance_type));
    }
    let (min, max) = counts(input)?;
    let subnet_id = opt_str(input, "SubnetId")?;
    if let Some(s) = subnet_id.as_ref().filter(|s| !well_formed(s, "subnet")) {
        return Err(malformed("InvalidSubnetID.Malformed", s, "subnet"));
    }
    let az = match input.child("Placement") {
        Some(p) => opt_str(&p, "AvailabilityZone")?,
        None => None,
    };
    if let Some(az) = az.as_ref().filter(|az| !valid_az(az, &cx.region)) {
        return Err(err(
            "InvalidParameterValue",
            format!("Invalid availability zone: [{az}]"),
        ));
    }
    let profile = match input.child("IamInstanceProfile") {
        Some(p) => Some(profile_spec(&p, cx.account())?),
        None => None,
    };
    let shutdown_behavior =
        opt_str(input, "InstanceInitiatedShutdownBehavior")?.unwrap_or_else(|| "stop".into());
    if shutdown_behavior != "stop" && shutdown_behavior != "terminate" {
        return Err(invalid_value(
            "InstanceInitiatedShutdownBehavior",
            &shutdown_behavior,
        ));
    }
    Ok(Launch {
        min,
        max,
        key_name: opt_str(input, "KeyName")?,
        subnet_id,
        az,
        profile,
        tags: tag_specs(input, &["instance", "volume", "network-interface"])?,
        disable_api_termination: bool_param(input, "DisableApiTermination")?.unwrap_or(false),
        shutdown_behavior,
        client_token: opt_str(input, "ClientToken")?,
        ..Launch::of(&image_id, &instance_type)
    })
}

/// A new instance with its root volume (8 GiB gp2, deleted on termination), in `pending` until
/// `until`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_instance(
    st: &mut Ec2State,
    l: &Launch,
    account: &str,
    region: &str,
    reservation_id: &str,
    index: usize,
    now: OffsetDateTime,
    until: OffsetDateTime,
    checks_secs: f64,
) -> String {
    let az = l.az.clone().unwrap_or_else(|| format!("{region}a"));
    let (vpc, default_subnet, sg) = default_network(account, region, &az);
    let id = new_id("i");
    let inst = Instance {
        id: id.clone(),
        reservation_id: reservation_id.to_string(),
        owner: account.to_string(),
        image_id: l.image_id.clone(),
        instance_type: l.instance_type.clone(),
        key_name: l.key_name.clone(),
        availability_zone: az.clone(),
        subnet_id: l.subnet_id.clone().unwrap_or(default_subnet),
        vpc_id: vpc,
        private_ip: random_private_ip(),
        public_ip: Some(random_public_ip()),
        launch_time: now,
        launch_index: i64::try_from(index).unwrap_or(0),
        client_token: l.client_token.clone(),
        state: Pending,
        state_until: Some(until),
        state_since: now,
        checks_secs,
        state_reason: None,
        transition_reason: String::new(),
        disable_api_termination: l.disable_api_termination,
        shutdown_behavior: l.shutdown_behavior.clone(),
        tags: l.tags.get("instance").cloned().unwrap_or_default(),
        root_device_name: "/dev/xvda".into(),
        security_group_id: sg,
    };
    let root = Volume {
        id: new_id("vol"),
        size: 8,
        volume_type: "gp2".into(),
        iops: Some(100),
        throughput: None,
        availability_zone: az,
        encrypted: false,
        kms_key_id: None,
        snapshot_id: format!("snap-{}", derived_hex(&l.image_id, 17)),
        create_time: now,
        ready_at: None,
        creation_fails: false,
        tags: l.tags.get("volume").cloned().unwrap_or_default(),
        attachment: Some(Attachment {
            instance_id: id.clone(),
            device: "/dev/xvda".into(),
            attach_time: now,
            delete_on_termination: true,
            state: AttachmentState::Attached,
            until: None,
        }),
        client_token: None,
    };
    st.volumes.insert(root.id.clone(), root);
    st.instances.insert(id.clone(), inst);
    id
}

fn limit_exceeded(requested: usize) -> AwsError {
    err(
        "InstanceLimitExceeded",
        format!(
            "You have requested more instances ({requested}) than your current instance limit of {INSTANCE_LIMIT} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."
        ),
    )
}

pub(crate) fn run_instances(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let l = launch_params(cx, input)?;
    dry_run(input)?;
    let sb = cx.sandbox;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let launch = cx.lifecycle_delay(10.0, 25.0);
    let checks = cx.lifecycle_delay(120.0, 240.0).as_seconds_f64();
    let assoc_delay = association_delay(cx);
    let seeding = cx.seeding;
    let (ids, reservation_id, instances) = sb.write::<Ec2State, _>(&account, &region, |st| {
        st.settle(now);
        // A repeated ClientToken answers with the launch it made, launching nothing (EC2's
        // idempotency: a retry after a lost answer or a crash makes no second instance).
        if let Some(earlier) = l.client_token.as_deref().and_then(|t| launched_with(st, t)) {
            let instances = earlier
                .1
                .iter()
                .filter_map(|id| st.instances.get(id))
                .map(|i| instance_value(st, i, &region))
                .collect();
            return Ok((Vec::new(), earlier.0, instances));
        }
        let live = st.instances.values().filter(|i| !i.state.ending()).count();
        let room = INSTANCE_LIMIT.saturating_sub(live);
        if l.min > room {
            return Err(limit_exceeded(l.min));
        }
        let reservation_id = new_id("r");
        let mut ids = Vec::new();
        for index in 0..l.max.min(room) {
            let until = now + launch;
            let id = new_instance(
                st,
                &l,
                &account,
                &region,
                &reservation_id,
                index,
                now,
                until,
                checks,
            );
            let id = if seeding && l.profile.is_some() {
                super::super::seed::documented_id(st, id)
            } else {
                id
            };
            if let Some(p) = &l.profile {
                new_association(st, &id, p, now, until + assoc_delay);
            }
            ids.push(id);
        }
        let instances: Vec<Value> = ids
            .iter()
            .filter_map(|id| st.instances.get(id))
            .map(|i| instance_value(st, i, &region))
            .collect();
        Ok((ids, reservation_id, instances))
    })?;
    for id in &ids {
        note_instance(cx, id);
    }
    Ok(reservation(reservation_id, account, instances))
}

/// The reservation and instances an earlier RunInstances with `token` made.
fn launched_with(st: &Ec2State, token: &str) -> Option<(String, Vec<String>)> {
    let ids: Vec<&crate::services::ec2::state::Instance> = st
        .instances
        .values()
        .filter(|i| i.client_token.as_deref() == Some(token))
        .collect();
    let first = ids.first()?;
    Some((
        first.reservation_id.clone(),
        ids.iter().map(|i| i.id.clone()).collect(),
    ))
}

/// The instances named in the request, all of which must exist, without repeats.
fn named_instances(
    st: &Ec2State,
    input: &Input,
    now: OffsetDateTime,
) -> Result<Vec<String>, AwsError> {
    let ids = instance_ids(input)?;
    let unknown: Vec<&String> = ids
        .iter()
        .filter(|id| !st.instances.get(*id).is_some_and(|i| i.visible(now)))
        .collect();
    if !unknown.is_empty() {
        return Err(instances_not_found(&unknown));
    }
    let mut seen = BTreeSet::new();
    Ok(ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect())
}

/// Every instance in `ids` must be in one of the states `allowed`, or the operation cannot be
/// done (`done`: "stopped", "started").
fn require_states(
    st: &Ec2State,
    ids: &[String],
    done: &str,
    allowed: &[InstanceState],
) -> Result<(), AwsError> {
    match ids.iter().find(|id| {
        !st.instances
            .get(*id)
            .is_some_and(|i| allowed.contains(&i.state))
    }) {
        Some(id) => Err(cannot_be(id, done)),
        None => Ok(()),
    }
}

/// `StateTransitionReason` of a transition the caller asked for at `now`.
fn user_initiated(now: OffsetDateTime) -> String {
    // `2024-01-02T03:04:05Z` → `2024-01-02 03:04:05 GMT`.
    let when = crate::util::iso8601_secs(now);
    format!(
        "User initiated ({} GMT)",
        when.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// Begin a transition to `state` that ends at `until`.
fn begin(i: &mut Instance, state: InstanceState, now: OffsetDateTime, until: OffsetDateTime) {
    i.state = state;
    i.state_since = now;
    i.state_until = Some(until);
}

/// Begin a shutdown the caller asked for (a stop or a termination).
fn user_shutdown(
    i: &mut Instance,
    state: InstanceState,
    now: OffsetDateTime,
    until: OffsetDateTime,
) {
    begin(i, state, now, until);
    i.state_reason = Some((
        "Client.UserInitiatedShutdown".into(),
        "Client.UserInitiatedShutdown: User initiated shutdown".into(),
    ));
    i.transition_reason = user_initiated(now);
}

/// The instances a Terminate/Stop/StartInstances request names, after `check` and `DryRun`,
/// and when the transitions they begin end (`delay`: the latency profile's range, seconds).
fn prepare(
    cx: &Call<'_>,
    st: &Ec2State,
    input: &Input,
    check: impl FnOnce(&Ec2State, &[String]) -> Result<(), AwsError>,
    delay: (f64, f64),
) -> Result<(Vec<String>, OffsetDateTime), AwsError> {
    let ids = named_instances(st, input, cx.now)?;
    check(st, &ids)?;
    dry_run(input)?;
    let until = cx.now + cx.lifecycle_delay(delay.0, delay.1);
    Ok((ids, until))
}

/// Apply `change` to each instance of `ids` and answer the state changes.
fn change_states(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    ids: &[String],
    mut change: impl FnMut(&mut Instance),
) -> Value {
    let mut changes = Vec::new();
    for id in ids {
        let Some(i) = st.instances.get_mut(id) else {
            continue;
        };
        let previous = i.state;
        change(i);
        changes.push(state_change(id, previous, i.state));
    }
    for id in ids {
        note_instance(cx, id);
    }
    Value::obj().with("instancesSet", Value::List(changes))
}

/// Refuse to terminate an instance whose `disableApiTermination` is set.
fn termination_protected(st: &Ec2State, ids: &[String]) -> Result<(), AwsError> {
    match ids.iter().find(|id| {
        st.instances
            .get(*id)
            .is_some_and(|i| i.disable_api_termination)
    }) {
        Some(id) => Err(err(
            "OperationNotPermitted",
            format!("The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."),
        )),
        None => Ok(()),
    }
}

pub(crate) fn terminate_instances(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let (ids, until) = prepare(cx, st, input, termination_protected, (30.0, 60.0))?;
    let now = cx.now;
    Ok(change_states(cx, st, &ids, |i| {
        if !i.state.ending() {
            user_shutdown(i, ShuttingDown, now, until);
        }
    }))
}

pub(crate) fn stop_instances(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let stoppable = |st: &Ec2State, ids: &[String]| {
        require_states(st, ids, "stopped", &[Running, Stopping, Stopped])
    };
    let (ids, until) = prepare(cx, st, input, stoppable, (15.0, 45.0))?;
    let now = cx.now;
    Ok(change_states(cx, st, &ids, |i| {
        if i.state == Running {
            user_shutdown(i, Stopping, now, until);
        }
    }))
}

pub(crate) fn start_instances(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let startable = |st: &Ec2State, ids: &[String]| {
        require_states(st, ids, "started", &[Pending, Running, Stopped])
    };
    let (ids, until) = prepare(cx, st, input, startable, (15.0, 30.0))?;
    let now = cx.now;
    let checks = cx
        .sandbox
        .config
        .lifecycle_delay(120.0, 240.0)
        .as_seconds_f64();
    Ok(change_states(cx, st, &ids, |i| {
        if i.state == Stopped {
            begin(i, Pending, now, until);
            i.state_reason = None;
            i.transition_reason = String::new();
            i.public_ip = Some(random_public_ip());
            i.checks_secs = checks;
        }
    }))
}
