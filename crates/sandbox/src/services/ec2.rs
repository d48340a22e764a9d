//! EC2 (ec2Query): instances and their lifecycle (`pending` → `running` ⇄ `stopping` →
//! `stopped`, `shutting-down` → `terminated`, terminated instances staying visible for an hour
//! as on AWS), IAM instance profile associations, EBS volumes (`creating` → `available` ⇄
//! `in-use`, attach and detach, `DeleteOnTermination`), tags, and EC2's filters and paging.
//!
//! Transitions are stored as timestamps on the sandbox clock ("shutting down until …") and
//! settled when their time has passed — on the next call, or on the sandbox's tick — so advancing
//! the clock completes them. How long they take is the sandbox's latency profile
//! ([`crate::Config::lifecycle_delay`]): at once for tests, about as long as on AWS for demos.
//!
//! Member names are the `locationName`s of botocore's EC2 model (the authority on shapes), and
//! errors are spelled as AWS spells them.

use std::collections::{BTreeMap, BTreeSet};

use http::HeaderMap;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::kms::KmsState;
use super::{Call, Service, TrailResource};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::world::{Region, RegionalState};
use crate::Sandbox;

pub struct Ec2;

/// How long a terminated instance stays visible in DescribeInstances (AWS: about an hour).
const TERMINATED_VISIBLE: Duration = Duration::hours(1);
/// On-demand instances one account may run in a region (the sandbox's "instance limit").
const INSTANCE_LIMIT: usize = 20;
/// The tag limit per resource.
const TAG_LIMIT: usize = 50;

/// EC2 state of one account and region.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ec2State {
    #[serde(default)]
    pub instances: BTreeMap<String, Instance>,
    #[serde(default)]
    pub volumes: BTreeMap<String, Volume>,
    /// IAM instance profile associations, by association id.
    #[serde(default)]
    pub associations: BTreeMap<String, Association>,
}

impl RegionalState for Ec2State {
    const NAME: &'static str = "ec2";
    fn of(region: &Region) -> &Self {
        &region.ec2
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.ec2
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub reservation_id: String,
    pub owner: String,
    pub image_id: String,
    pub instance_type: String,
    #[serde(default)]
    pub key_name: Option<String>,
    pub availability_zone: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub private_ip: String,
    #[serde(default)]
    pub public_ip: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub launch_time: OffsetDateTime,
    #[serde(default)]
    pub launch_index: i64,
    #[serde(default)]
    pub client_token: Option<String>,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down` or `terminated`.
    pub state: String,
    /// When a transitional state (`pending`, `stopping`, `shutting-down`) ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub state_until: Option<OffsetDateTime>,
    /// When the instance entered its state.
    #[serde(with = "time::serde::rfc3339")]
    pub state_since: OffsetDateTime,
    /// How long status checks stay `initializing` after the instance reaches `running`.
    #[serde(default)]
    pub checks_secs: f64,
    /// `StateReason` (code, message), set by stops and terminations.
    #[serde(default)]
    pub state_reason: Option<(String, String)>,
    /// `StateTransitionReason`.
    #[serde(default)]
    pub transition_reason: String,
    #[serde(default)]
    pub disable_api_termination: bool,
    #[serde(default = "default_shutdown_behavior")]
    pub shutdown_behavior: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub root_device_name: String,
    pub security_group_id: String,
}

fn default_shutdown_behavior() -> String {
    "stop".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volume {
    pub id: String,
    pub size: i64,
    pub volume_type: String,
    #[serde(default)]
    pub iops: Option<i64>,
    #[serde(default)]
    pub throughput: Option<i64>,
    pub availability_zone: String,
    #[serde(default)]
    pub encrypted: bool,
    /// The ARN of the KMS key (as AWS reports it, whatever form the caller gave).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub snapshot_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// While `creating`: when the volume becomes available.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ready_at: Option<OffsetDateTime>,
    /// The KMS key could not be used: the volume disappears when its creation ends, as on AWS,
    /// which checks the key asynchronously.
    #[serde(default)]
    pub creation_fails: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub instance_id: String,
    pub device: String,
    #[serde(with = "time::serde::rfc3339")]
    pub attach_time: OffsetDateTime,
    pub delete_on_termination: bool,
    /// `attaching`, `attached` or `detaching`.
    pub state: String,
    /// When `attaching`/`detaching` ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Association {
    pub id: String,
    pub instance_id: String,
    pub profile_arn: String,
    pub profile_id: String,
    /// `associating`, `associated` or `disassociating`.
    pub state: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

fn state_code(state: &str) -> i64 {
    match state {
        "pending" => 0,
        "running" => 16,
        "shutting-down" => 32,
        "terminated" => 48,
        "stopping" => 64,
        "stopped" => 80,
        _ => 0,
    }
}

fn state_value(state: &str) -> Value {
    Value::obj()
        .with("code", state_code(state))
        .with("name", state)
}

impl Instance {
    fn visible(&self, now: OffsetDateTime) -> bool {
        self.state != "terminated" || self.state_since + TERMINATED_VISIBLE > now
    }

    /// `ok` once the status checks have passed, `initializing` just after reaching `running`.
    fn checks_status(&self, now: OffsetDateTime) -> &'static str {
        if self.state != "running" {
            "not-applicable"
        } else if self.checks_secs.is_finite()
            && self.state_since + Duration::seconds_f64(self.checks_secs.clamp(0.0, 1e9)) > now
        {
            "initializing"
        } else {
            "ok"
        }
    }
}

impl Volume {
    fn status(&self) -> &'static str {
        if self.ready_at.is_some() {
            "creating"
        } else if self.attachment.is_some() {
            "in-use"
        } else {
            "available"
        }
    }
}

impl Ec2State {
    /// The earliest time something is due to change.
    fn next_due(&self) -> Option<OffsetDateTime> {
        let inst = self.instances.values().filter_map(|i| {
            if i.state == "terminated" {
                Some(i.state_since + TERMINATED_VISIBLE)
            } else {
                i.state_until
            }
        });
        let vols = self
            .volumes
            .values()
            .flat_map(|v| [v.ready_at, v.attachment.as_ref().and_then(|a| a.until)])
            .flatten();
        let assoc = self.associations.values().filter_map(|a| a.until);
        inst.chain(vols).chain(assoc).min()
    }

    fn due(&self, now: OffsetDateTime) -> bool {
        self.next_due().is_some_and(|t| t <= now)
    }

    /// Complete every transition whose time has come, in time order, with its consequences
    /// (a terminated instance's volumes detach, `DeleteOnTermination` ones are deleted, its
    /// profile association ends).
    pub fn settle(&mut self, now: OffsetDateTime) {
        // Each pass completes the earliest due transition; bounded, so no input can loop.
        for _ in 0..10_000 {
            match self.next_due() {
                Some(t) if t <= now => self.settle_one(t),
                _ => return,
            }
        }
    }

    fn settle_one(&mut self, t: OffsetDateTime) {
        let due_instance = self
            .instances
            .values()
            .find(|i| {
                if i.state == "terminated" {
                    i.state_since + TERMINATED_VISIBLE <= t
                } else {
                    i.state_until.is_some_and(|u| u <= t)
                }
            })
            .map(|i| i.id.clone());
        if let Some(id) = due_instance {
            let Some(inst) = self.instances.get_mut(&id) else {
                return;
            };
            if inst.state == "terminated" {
                self.instances.remove(&id);
                return;
            }
            let next = match inst.state.as_str() {
                "pending" => "running",
                "stopping" => "stopped",
                "shutting-down" => "terminated",
                other => other,
            }
            .to_string();
            inst.state_since = inst.state_until.unwrap_or(t);
            inst.state_until = None;
            inst.state = next.clone();
            if next == "stopped" || next == "terminated" {
                inst.public_ip = None;
            }
            if next == "terminated" {
                self.volumes.retain(|_, v| {
                    !v.attachment
                        .as_ref()
                        .is_some_and(|a| a.instance_id == id && a.delete_on_termination)
                });
                for v in self.volumes.values_mut() {
                    if v.attachment.as_ref().is_some_and(|a| a.instance_id == id) {
                        v.attachment = None;
                    }
                }
                self.associations.retain(|_, a| a.instance_id != id);
            }
            return;
        }
        let due_volume = self
            .volumes
            .values()
            .find(|v| {
                v.ready_at.is_some_and(|r| r <= t)
                    || v.attachment
                        .as_ref()
                        .and_then(|a| a.until)
                        .is_some_and(|u| u <= t)
            })
            .map(|v| v.id.clone());
        if let Some(id) = due_volume {
            let Some(v) = self.volumes.get_mut(&id) else {
                return;
            };
            if v.ready_at.is_some_and(|r| r <= t) {
                if v.creation_fails {
                    self.volumes.remove(&id);
                    return;
                }
                v.ready_at = None;
            }
            if let Some(a) = &mut v.attachment {
                if a.until.is_some_and(|u| u <= t) {
                    if a.state == "detaching" {
                        v.attachment = None;
                    } else {
                        a.state = "attached".into();
                        a.until = None;
                    }
                }
            }
            return;
        }
        let due_assoc = self
            .associations
            .values()
            .find(|a| a.until.is_some_and(|u| u <= t))
            .map(|a| a.id.clone());
        if let Some(id) = due_assoc {
            let Some(a) = self.associations.get_mut(&id) else {
                return;
            };
            if a.state == "disassociating" {
                self.associations.remove(&id);
            } else {
                a.state = "associated".into();
                a.until = None;
            }
        }
    }

    fn association_of(&self, instance_id: &str) -> Option<&Association> {
        self.associations
            .values()
            .find(|a| a.instance_id == instance_id)
    }
}

/// Settle due transitions in every account and region (the sandbox's tick).
pub fn settle_due(sb: &Sandbox) {
    let now = sb.clock.now();
    for (account, region) in sb.account_regions() {
        settle_in(sb, &account, &region, now);
    }
}

fn settle_in(sb: &Sandbox, account: &str, region: &str, now: OffsetDateTime) {
    if !sb.read::<Ec2State, _>(account, region, |st| st.due(now)) {
        return;
    }
    if let Err(e) = sb.write::<Ec2State, _>(account, region, |st| {
        st.settle(now);
        Ok(())
    }) {
        tracing::error!(error = %e, "cannot settle EC2 transitions");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and input helpers.

fn err(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::new(400, code, message)
}

fn missing(name: &str) -> AwsError {
    err(
        "MissingParameter",
        format!("The request must contain the parameter {name}"),
    )
}

fn invalid_value(name: &str, value: &str) -> AwsError {
    err(
        "InvalidParameterValue",
        format!("Value ({value}) for parameter {name} is invalid."),
    )
}

fn opt_str(input: &Input, name: &str) -> Result<Option<String>, AwsError> {
    Ok(input.str(name)?.filter(|s| !s.is_empty()))
}

fn req_str(input: &Input, name: &str) -> Result<String, AwsError> {
    opt_str(input, name)?.ok_or_else(|| missing(name))
}

fn int_param(input: &Input, name: &str) -> Result<Option<i64>, AwsError> {
    match opt_str(input, name)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| {
            err(
                "InvalidParameterValue",
                format!("Invalid value '{s}' for {name}. It must be an integer."),
            )
        }),
    }
}

fn bool_param(input: &Input, name: &str) -> Result<Option<bool>, AwsError> {
    match opt_str(input, name)? {
        None => Ok(None),
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(err(
                "InvalidParameterValue",
                format!("Invalid value '{s}' for {name}. It must be true or false."),
            )),
        },
    }
}

fn dry_run(input: &Input) -> Result<(), AwsError> {
    if bool_param(input, "DryRun")? == Some(true) {
        return Err(AwsError::new(
            412,
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
        ));
    }
    Ok(())
}

fn random_hex(n: usize) -> String {
    crate::util::random_id(b"0123456789abcdef", n)
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex(17))
}

/// A stable id derived from `seed` (default VPC, subnet, security group, profile ids).
fn derived_hex(seed: &str, n: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    hex::encode(digest).chars().take(n).collect()
}

/// `prefix-` followed by 8 or 17 lower-case hex digits.
fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| {
            (h.len() == 8 || h.len() == 17)
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

fn malformed(code: &str, id: &str, prefix: &str) -> AwsError {
    err(
        code,
        format!("Invalid id: \"{id}\" (expecting \"{prefix}-...\")"),
    )
}

fn check_instance_ids(ids: &[String]) -> Result<(), AwsError> {
    match ids.iter().find(|id| !well_formed(id, "i")) {
        Some(bad) => Err(malformed("InvalidInstanceID.Malformed", bad, "i")),
        None => Ok(()),
    }
}

fn instances_not_found(ids: &[&String]) -> AwsError {
    if ids.len() == 1 {
        err(
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{}' does not exist", ids[0]),
        )
    } else {
        let list: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
        err(
            "InvalidInstanceID.NotFound",
            format!("The instance IDs '{}' do not exist", list.join(", ")),
        )
    }
}

fn volume_not_found(id: &str) -> AwsError {
    err(
        "InvalidVolume.NotFound",
        format!("The volume '{id}' does not exist."),
    )
}

fn association_not_found(id: &str) -> AwsError {
    err(
        "InvalidAssociationID.NotFound",
        format!("An invalid association-id of '{id}' was given"),
    )
}

/// The instance ids of a request (`InstanceId.N`), checked: at least one, well formed.
fn instance_ids(input: &Input) -> Result<Vec<String>, AwsError> {
    let ids: Vec<String> = input
        .str_list("InstanceId")?
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(missing("InstanceId"));
    }
    check_instance_ids(&ids)?;
    Ok(ids)
}

fn instance<'s>(st: &'s Ec2State, id: &str, now: OffsetDateTime) -> Result<&'s Instance, AwsError> {
    if !well_formed(id, "i") {
        return Err(malformed("InvalidInstanceID.Malformed", id, "i"));
    }
    st.instances
        .get(id)
        .filter(|i| i.visible(now))
        .ok_or_else(|| instances_not_found(&[&id.to_string()]))
}

fn volume_id(input: &Input) -> Result<String, AwsError> {
    let id = req_str(input, "VolumeId")?;
    if !well_formed(&id, "vol") {
        return Err(malformed("InvalidVolumeID.Malformed", &id, "vol"));
    }
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Filters and paging.

struct Filter {
    name: String,
    values: Vec<String>,
}

fn filters(input: &Input) -> Result<Vec<Filter>, AwsError> {
    let mut out = Vec::new();
    for f in input.list("Filter")? {
        let name = f
            .str("Name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing("Filter.Name"))?;
        out.push(Filter {
            name,
            values: f.str_list("Value")?,
        });
    }
    Ok(out)
}

/// EC2's filter wildcards: `*` any run of characters, `?` one character, `\` escapes.
fn wildcard(pattern: &str, value: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Star,
        One,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        });
    }
    let v: Vec<char> = value.chars().collect();
    // Greedy matching with backtracking to the last star: O(pattern × value), no recursion.
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < v.len() {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                i += 1;
            }
            Some(Tok::Lit(c)) if *c == v[i] => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    toks[p.min(toks.len())..].iter().all(|t| *t == Tok::Star)
}

/// Whether a resource passes every filter; `values(name)` gives the resource's values for a
/// filter name, or `None` when EC2 has no such filter for this resource.
fn passes(
    filters: &[Filter],
    values: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<bool, AwsError> {
    for f in filters {
        let have = values(&f.name).ok_or_else(|| {
            err(
                "InvalidParameterValue",
                format!("The filter '{}' is invalid", f.name),
            )
        })?;
        if !f
            .values
            .iter()
            .any(|want| have.iter().any(|h| wildcard(want, h)))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

fn tag_values(tags: &BTreeMap<String, String>, name: &str) -> Option<Vec<String>> {
    if let Some(key) = name.strip_prefix("tag:") {
        return Some(tags.get(key).cloned().into_iter().collect());
    }
    match name {
        "tag-key" => Some(tags.keys().cloned().collect()),
        "tag-value" => Some(tags.values().cloned().collect()),
        _ => None,
    }
}

fn one(s: impl Into<String>) -> Option<Vec<String>> {
    Some(vec![s.into()])
}

/// `MaxResults` (`min` to `max`; larger values are capped, as EC2 does) and `NextToken`.
struct Page {
    max: Option<usize>,
    after: Option<String>,
}

fn page_params(input: &Input, min: i64, max: i64) -> Result<Page, AwsError> {
    let max_results = match int_param(input, "MaxResults")? {
        None => None,
        Some(n) if n < min => {
            return Err(err(
                "InvalidParameterValue",
                format!("Value ( {n} ) for parameter maxResults is invalid. Expecting a value greater than {min}."),
            ))
        }
        Some(n) => Some(n.min(max) as usize),
    };
    let after = match opt_str(input, "NextToken")? {
        None => None,
        Some(t) => Some(
            crate::util::unb64(&t)
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix("ec2:").map(str::to_string))
                .ok_or_else(|| {
                    err(
                        "InvalidPaginationToken",
                        "The specified pagination token is not valid or is expired.",
                    )
                })?,
        ),
    };
    Ok(Page {
        max: max_results,
        after,
    })
}

/// One page of `items` (sorted by their keys) and the token of the next one.
fn paginate<T>(items: Vec<(String, T)>, page: &Page) -> (Vec<T>, Option<String>) {
    let mut rest: Vec<(String, T)> = match &page.after {
        Some(after) => items.into_iter().filter(|(k, _)| k > after).collect(),
        None => items,
    };
    let next = match page.max {
        Some(max) if rest.len() > max => {
            rest.truncate(max);
            rest.last()
                .map(|(k, _)| crate::util::b64(format!("ec2:{k}").as_bytes()))
        }
        _ => None,
    };
    (rest.into_iter().map(|(_, v)| v).collect(), next)
}

// ---------------------------------------------------------------------------------------------
// Answers.

fn tag_set(tags: &BTreeMap<String, String>) -> Value {
    Value::List(
        tags.iter()
            .map(|(k, v)| Value::obj().with("key", k).with("value", v))
            .collect(),
    )
}

fn with_tags(v: Value, tags: &BTreeMap<String, String>) -> Value {
    if tags.is_empty() {
        v
    } else {
        v.with("tagSet", tag_set(tags))
    }
}

fn profile_value(a: &Association) -> Value {
    Value::obj()
        .with("arn", a.profile_arn.clone())
        .with("id", a.profile_id.clone())
}

fn association_value(a: &Association) -> Value {
    Value::obj()
        .with("associationId", a.id.clone())
        .with("instanceId", a.instance_id.clone())
        .with("iamInstanceProfile", profile_value(a))
        .with("state", a.state.clone())
        .with("timestamp", a.timestamp)
}

fn dns_suffix(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".into()
    } else {
        format!("{region}.compute.internal")
    }
}

fn public_dns(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

fn block_devices(st: &Ec2State, instance_id: &str) -> Vec<Value> {
    let mut vols: Vec<(&String, &Volume, &Attachment)> = st
        .volumes
        .values()
        .filter_map(|v| {
            v.attachment
                .as_ref()
                .filter(|a| a.instance_id == instance_id)
                .map(|a| (&a.device, v, a))
        })
        .collect();
    vols.sort_by(|a, b| a.0.cmp(b.0));
    vols.into_iter()
        .map(|(device, v, a)| {
            Value::obj().with("deviceName", device).with(
                "ebs",
                Value::obj()
                    .with("volumeId", v.id.clone())
                    .with("status", a.state.clone())
                    .with("attachTime", a.attach_time)
                    .with("deleteOnTermination", a.delete_on_termination),
            )
        })
        .collect()
}

fn instance_value(st: &Ec2State, i: &Instance, region: &str) -> Value {
    let private_dns = format!(
        "ip-{}.{}",
        i.private_ip.replace('.', "-"),
        dns_suffix(region)
    );
    let live = !matches!(i.state.as_str(), "terminated");
    let mut v = Value::obj()
        .with("instanceId", i.id.clone())
        .with("imageId", i.image_id.clone())
        .with("instanceState", state_value(&i.state))
        .with(
            "privateDnsName",
            if live { private_dns } else { String::new() },
        )
        .with(
            "dnsName",
            i.public_ip
                .as_deref()
                .map(|ip| public_dns(ip, region))
                .unwrap_or_default(),
        )
        .with("reason", i.transition_reason.clone())
        .with("keyName", i.key_name.clone())
        .with("amiLaunchIndex", i.launch_index)
        .with("productCodes", Value::List(Vec::new()))
        .with("instanceType", i.instance_type.clone())
        .with("launchTime", i.launch_time)
        .with(
            "placement",
            Value::obj()
                .with("availabilityZone", i.availability_zone.clone())
                .with("groupName", "")
                .with("tenancy", "default"),
        )
        .with("monitoring", Value::obj().with("state", "disabled"));
    if live {
        v = v
            .with("subnetId", i.subnet_id.clone())
            .with("vpcId", i.vpc_id.clone())
            .with("privateIpAddress", i.private_ip.clone())
            .with("ipAddress", i.public_ip.clone())
            .with("sourceDestCheck", true)
            .with(
                "groupSet",
                Value::List(vec![Value::obj()
                    .with("groupId", i.security_group_id.clone())
                    .with("groupName", "default")]),
            );
    } else {
        v = v.with("groupSet", Value::List(Vec::new()));
    }
    if let Some((code, message)) = &i.state_reason {
        v = v.with(
            "stateReason",
            Value::obj()
                .with("code", code.clone())
                .with("message", message.clone()),
        );
    }
    v = v
        .with("architecture", "x86_64")
        .with("rootDeviceType", "ebs")
        .with("rootDeviceName", i.root_device_name.clone())
        .with("blockDeviceMapping", Value::List(block_devices(st, &i.id)))
        .with("virtualizationType", "hvm")
        .with("clientToken", i.client_token.clone().unwrap_or_default());
    v = with_tags(v, &i.tags);
    v = v.with("hypervisor", "xen");
    if let Some(a) = st.association_of(&i.id) {
        v = v.with("iamInstanceProfile", profile_value(a));
    }
    v.with("ebsOptimized", false)
        .with("enaSupport", true)
        .with(
            "cpuOptions",
            Value::obj()
                .with("coreCount", 1i64)
                .with("threadsPerCore", 1i64),
        )
        .with("hibernationOptions", Value::obj().with("configured", false))
        .with(
            "metadataOptions",
            Value::obj()
                .with("state", "applied")
                .with("httpTokens", "required")
                .with("httpPutResponseHopLimit", 2i64)
                .with("httpEndpoint", "enabled")
                .with("httpProtocolIpv6", "disabled")
                .with("instanceMetadataTags", "disabled"),
        )
        .with("enclaveOptions", Value::obj().with("enabled", false))
        .with("platformDetails", "Linux/UNIX")
        .with("usageOperation", "RunInstances")
        .with("usageOperationUpdateTime", i.launch_time)
        .with(
            "maintenanceOptions",
            Value::obj().with("autoRecovery", "default"),
        )
        .with("currentInstanceBootMode", "legacy-bios")
}

fn reservations(st: &Ec2State, instances: Vec<&Instance>, region: &str) -> Value {
    // Consecutive instances of one reservation form one item, as EC2 groups them.
    let mut out: Vec<(String, String, Vec<Value>)> = Vec::new();
    for i in instances {
        let value = instance_value(st, i, region);
        match out.last_mut() {
            Some((rid, _, list)) if *rid == i.reservation_id => list.push(value),
            _ => out.push((i.reservation_id.clone(), i.owner.clone(), vec![value])),
        }
    }
    Value::List(
        out.into_iter()
            .map(|(rid, owner, list)| {
                Value::obj()
                    .with("reservationId", rid)
                    .with("ownerId", owner)
                    .with("groupSet", Value::List(Vec::new()))
                    .with("instancesSet", Value::List(list))
            })
            .collect(),
    )
}

fn volume_value(v: &Volume) -> Value {
    let attachments: Vec<Value> = v
        .attachment
        .iter()
        .map(|a| {
            Value::obj()
                .with("volumeId", v.id.clone())
                .with("instanceId", a.instance_id.clone())
                .with("device", a.device.clone())
                .with("status", a.state.clone())
                .with("attachTime", a.attach_time)
                .with("deleteOnTermination", a.delete_on_termination)
        })
        .collect();
    let out = Value::obj()
        .with("volumeId", v.id.clone())
        .with("size", v.size)
        .with("snapshotId", v.snapshot_id.clone())
        .with("availabilityZone", v.availability_zone.clone())
        .with("status", v.status())
        .with("createTime", v.create_time)
        .with("attachmentSet", Value::List(attachments))
        .with("volumeType", v.volume_type.clone())
        .with("iops", v.iops)
        .with("encrypted", v.encrypted)
        .with("kmsKeyId", v.kms_key_id.clone());
    with_tags(out, &v.tags)
        .with("multiAttachEnabled", false)
        .with("throughput", v.throughput)
}

fn state_change(id: &str, previous: &str, current: &str) -> Value {
    Value::obj()
        .with("instanceId", id)
        .with("currentState", state_value(current))
        .with("previousState", state_value(previous))
}

// ---------------------------------------------------------------------------------------------
// The service.

impl Service for Ec2 {
    fn signing_name(&self) -> &'static str {
        "ec2"
    }
    fn event_source(&self) -> &'static str {
        "ec2.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        "http://ec2.amazonaws.com/doc/2016-11-15/"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::Ec2Query
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let sb = cx.sandbox;
        let account = cx.account().to_string();
        let region = cx.region.clone();
        let now = cx.now;
        settle_in(sb, &account, &region, now);
        match op {
            "DescribeInstances"
            | "DescribeInstanceStatus"
            | "DescribeIamInstanceProfileAssociations"
            | "DescribeInstanceAttribute"
            | "DescribeVolumes"
            | "DescribeTags" => {
                dry_run(input)?;
                sb.read::<Ec2State, _>(&account, &region, |st| read_op(cx, st, op, input))
            }
            "RunInstances" => run_instances(cx, input),
            "CreateVolume" => create_volume(cx, input),
            "TerminateInstances"
            | "StopInstances"
            | "StartInstances"
            | "AssociateIamInstanceProfile"
            | "DisassociateIamInstanceProfile"
            | "ReplaceIamInstanceProfileAssociation"
            | "ModifyInstanceAttribute"
            | "AttachVolume"
            | "DetachVolume"
            | "DeleteVolume"
            | "CreateTags"
            | "DeleteTags" => sb.write::<Ec2State, _>(&account, &region, |st| {
                st.settle(now);
                write_op(cx, st, op, input)
            }),
            _ => Err(cx.unknown(op)),
        }
    }
}

fn read_op(cx: &mut Call<'_>, st: &Ec2State, op: &str, input: &Input) -> Result<Value, AwsError> {
    match op {
        "DescribeInstances" => describe_instances(cx, st, input),
        "DescribeInstanceStatus" => describe_instance_status(cx, st, input),
        "DescribeIamInstanceProfileAssociations" => describe_associations(st, input),
        "DescribeInstanceAttribute" => describe_instance_attribute(cx, st, input),
        "DescribeVolumes" => describe_volumes(st, input),
        "DescribeTags" => describe_tags(st, input),
        _ => Err(cx.unknown(op)),
    }
}

fn write_op(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    op: &str,
    input: &Input,
) -> Result<Value, AwsError> {
    match op {
        "TerminateInstances" => terminate_instances(cx, st, input),
        "StopInstances" => stop_instances(cx, st, input),
        "StartInstances" => start_instances(cx, st, input),
        "AssociateIamInstanceProfile" => associate_profile(cx, st, input),
        "DisassociateIamInstanceProfile" => disassociate_profile(cx, st, input),
        "ReplaceIamInstanceProfileAssociation" => replace_association(cx, st, input),
        "ModifyInstanceAttribute" => modify_instance_attribute(cx, st, input),
        "AttachVolume" => attach_volume(cx, st, input),
        "DetachVolume" => detach_volume(cx, st, input),
        "DeleteVolume" => delete_volume(cx, st, input),
        "CreateTags" => create_tags(cx, st, input),
        "DeleteTags" => delete_tags(cx, st, input),
        _ => Err(cx.unknown(op)),
    }
}

fn note_instance(cx: &mut Call<'_>, id: &str) {
    cx.resources.push(TrailResource {
        arn: id.to_string(),
        resource_type: "AWS::EC2::Instance".into(),
    });
}

fn note_volume(cx: &mut Call<'_>, id: &str) {
    cx.resources.push(TrailResource {
        arn: id.to_string(),
        resource_type: "AWS::EC2::Volume".into(),
    });
}

// --- Instances --------------------------------------------------------------------------------

fn instance_filter_values(st: &Ec2State, i: &Instance, name: &str) -> Option<Vec<String>> {
    if let Some(v) = tag_values(&i.tags, name) {
        return Some(v);
    }
    match name {
        "instance-id" => one(&i.id),
        "instance-state-name" => one(&i.state),
        "instance-state-code" => one(state_code(&i.state).to_string()),
        "image-id" => one(&i.image_id),
        "instance-type" => one(&i.instance_type),
        "key-name" => Some(i.key_name.clone().into_iter().collect()),
        "reservation-id" => one(&i.reservation_id),
        "owner-id" => one(&i.owner),
        "availability-zone" | "placement-availability-zone" => one(&i.availability_zone),
        "subnet-id" => one(&i.subnet_id),
        "vpc-id" => one(&i.vpc_id),
        "private-ip-address" => one(&i.private_ip),
        "ip-address" => Some(i.public_ip.clone().into_iter().collect()),
        "architecture" => one("x86_64"),
        "root-device-type" => one("ebs"),
        "root-device-name" => one(&i.root_device_name),
        "iam-instance-profile.arn" => Some(
            st.association_of(&i.id)
                .map(|a| a.profile_arn.clone())
                .into_iter()
                .collect(),
        ),
        "iam-instance-profile.id" => Some(
            st.association_of(&i.id)
                .map(|a| a.profile_id.clone())
                .into_iter()
                .collect(),
        ),
        "block-device-mapping.volume-id" => Some(
            st.volumes
                .values()
                .filter(|v| v.attachment.as_ref().is_some_and(|a| a.instance_id == i.id))
                .map(|v| v.id.clone())
                .collect(),
        ),
        "instance.group-id" | "group-id" => one(&i.security_group_id),
        "instance.group-name" | "group-name" => one("default"),
        _ => None,
    }
}

/// A page key and the instance it sorts.
type Keyed<'s> = Vec<(String, &'s Instance)>;

/// Instances sorted as EC2 lists them (launch time, reservation, launch index), with a paging key.
fn sorted_instances(st: &Ec2State, now: OffsetDateTime) -> Keyed<'_> {
    let mut v: Keyed<'_> = st
        .instances
        .values()
        .filter(|i| i.visible(now))
        .map(|i| {
            let ms = i.launch_time.unix_timestamp_nanos() / 1_000_000;
            (
                format!(
                    "{ms:016}/{}/{:04}/{}",
                    i.reservation_id, i.launch_index, i.id
                ),
                i,
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Instances named in `InstanceId.N` (all must exist) or all visible ones that `keep` keeps,
/// then filtered with the operation's filter `values`.
fn selected_instances<'s>(
    st: &'s Ec2State,
    input: &Input,
    now: OffsetDateTime,
    keep: impl Fn(&Instance) -> bool,
    values: impl Fn(&Instance, &str) -> Option<Vec<String>>,
) -> Result<(Keyed<'s>, Page), AwsError> {
    let ids: Vec<String> = input
        .str_list("InstanceId")?
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    check_instance_ids(&ids)?;
    let page = page_params(input, 5, 1000)?;
    if !ids.is_empty() && page.max.is_some() {
        return Err(err(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        ));
    }
    let all = sorted_instances(st, now);
    let unknown: Vec<&String> = ids
        .iter()
        .filter(|id| !all.iter().any(|(_, i)| &i.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(instances_not_found(&unknown));
    }
    let fs = filters(input)?;
    let mut out = Vec::new();
    for (k, i) in all {
        if (!ids.is_empty() && !ids.contains(&i.id)) || !keep(i) {
            continue;
        }
        if passes(&fs, |n| values(i, n))? {
            out.push((k, i));
        }
    }
    Ok((out, page))
}

fn describe_instances(cx: &mut Call<'_>, st: &Ec2State, input: &Input) -> Result<Value, AwsError> {
    let (items, page) = selected_instances(
        st,
        input,
        cx.now,
        |_| true,
        |i, n| instance_filter_values(st, i, n),
    )?;
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("reservationSet", reservations(st, list, &cx.region))
        .with("nextToken", next))
}

fn describe_instance_status(
    cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let include_all = bool_param(input, "IncludeAllInstances")?.unwrap_or(false);
    let now = cx.now;
    let status_values = |i: &Instance, n: &str| {
        let checks = i.checks_status(now);
        match n {
            "instance-state-name" => one(&i.state),
            "instance-state-code" => one(state_code(&i.state).to_string()),
            "availability-zone" => one(&i.availability_zone),
            "instance-status.status" | "system-status.status" => one(checks),
            "instance-status.reachability" | "system-status.reachability" => one(match checks {
                "ok" => "passed",
                "initializing" => "initializing",
                _ => "insufficient-data",
            }),
            _ => None,
        }
    };
    let (items, page) = selected_instances(
        st,
        input,
        now,
        |i| include_all || i.state == "running",
        status_values,
    )?;
    let (list, next) = paginate(items, &page);
    let statuses = list
        .into_iter()
        .map(|i| {
            let checks = i.checks_status(now);
            let summary = |status: &str| {
                let mut s = Value::obj().with("status", status.to_string());
                if status != "not-applicable" {
                    let detail = if status == "ok" {
                        "passed"
                    } else {
                        "initializing"
                    };
                    s = Value::obj()
                        .with(
                            "details",
                            Value::List(vec![Value::obj()
                                .with("name", "reachability")
                                .with("status", detail)]),
                        )
                        .with("status", status.to_string());
                }
                s
            };
            Value::obj()
                .with("availabilityZone", i.availability_zone.clone())
                .with("instanceId", i.id.clone())
                .with("instanceState", state_value(&i.state))
                .with("instanceStatus", summary(checks))
                .with("systemStatus", summary(checks))
        })
        .collect();
    Ok(Value::obj()
        .with("instanceStatusSet", Value::List(statuses))
        .with("nextToken", next))
}

fn valid_instance_type(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return false;
    };
    !family.is_empty()
        && !size.is_empty()
        && t.len() <= 32
        && family
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && size
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn valid_az(az: &str, region: &str) -> bool {
    az.strip_prefix(region)
        .is_some_and(|s| s.len() == 1 && matches!(s.as_bytes()[0], b'a'..=b'f'))
}

/// The ARN and id of an instance profile given by `IamInstanceProfile.Arn` or `.Name`.
fn profile_spec(spec: &Input, account: &str) -> Result<(String, String), AwsError> {
    let arn = opt_str(spec, "Arn")?;
    let name = opt_str(spec, "Name")?;
    let arn = match (arn, name) {
        (Some(_), Some(_)) => {
            return Err(err(
                "InvalidParameterCombination",
                "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'",
            ))
        }
        (Some(arn), None) => {
            let ok = arn
                .strip_prefix("arn:aws:iam::")
                .and_then(|r| r.split_once(":instance-profile/"))
                .is_some_and(|(acct, name)| acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty());
            if !ok {
                return Err(err(
                    "InvalidParameterValue",
                    format!("Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"),
                ));
            }
            arn
        }
        (None, Some(name)) => {
            if name.len() > 128 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b)) {
                return Err(err(
                    "InvalidParameterValue",
                    format!("Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"),
                ));
            }
            format!("arn:aws:iam::{account}:instance-profile/{name}")
        }
        (None, None) => return Err(missing("IamInstanceProfile")),
    };
    let id = format!("AIPA{}", derived_hex(&arn, 17).to_ascii_uppercase());
    Ok((arn, id))
}

/// `TagSpecification.N` for the resource types an operation creates.
fn tag_specs(
    input: &Input,
    allowed: &[&str],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, AwsError> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for spec in input.list("TagSpecification")? {
        let rt = opt_str(&spec, "ResourceType")?
            .ok_or_else(|| missing("TagSpecification.ResourceType"))?;
        if !allowed.contains(&rt.as_str()) {
            return Err(err(
                "InvalidParameterValue",
                format!("'{rt}' is not a valid taggable resource type for this operation."),
            ));
        }
        let tags = parse_tags(&spec, "Tag")?;
        if tags.is_empty() {
            return Err(err(
                "InvalidParameterValue",
                "Tag specification must have at least one tag",
            ));
        }
        out.entry(rt).or_default().extend(tags);
    }
    Ok(out)
}

fn parse_tags(input: &Input, member: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    for t in input.list(member)? {
        let key = t.str("Key")?.unwrap_or_default();
        let value = t.str("Value")?.unwrap_or_default();
        check_tag(&key, &value)?;
        out.push((key, value));
    }
    Ok(out)
}

fn check_tag(key: &str, value: &str) -> Result<(), AwsError> {
    if key.is_empty() {
        return Err(err(
            "InvalidParameterValue",
            "Tag key cannot be null or empty.",
        ));
    }
    if key.chars().count() > 128 {
        return Err(err(
            "InvalidParameterValue",
            format!("Tag key exceeds the maximum length of 128 characters: '{key}'"),
        ));
    }
    if value.chars().count() > 256 {
        return Err(err(
            "InvalidParameterValue",
            format!("Tag value exceeds the maximum length of 256 characters: '{value}'"),
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(err(
            "InvalidParameterValue",
            "Tag keys starting with 'aws:' are reserved for internal use",
        ));
    }
    Ok(())
}

/// Network placement derived from the account and region: the default VPC, one default subnet
/// per availability zone, the default security group.
fn default_network(account: &str, region: &str, az: &str) -> (String, String, String) {
    let vpc = format!(
        "vpc-{}",
        derived_hex(&format!("vpc/{account}/{region}"), 17)
    );
    let subnet = format!(
        "subnet-{}",
        derived_hex(&format!("subnet/{account}/{az}"), 17)
    );
    let sg = format!("sg-{}", derived_hex(&format!("sg/{account}/{region}"), 17));
    (vpc, subnet, sg)
}

fn random_private_ip() -> String {
    let mut r = rand::thread_rng();
    format!("172.31.{}.{}", r.gen_range(16..96), r.gen_range(4..255))
}

fn random_public_ip() -> String {
    let mut r = rand::thread_rng();
    format!(
        "{}.{}.{}.{}",
        [3, 18, 34, 44, 52, 54][r.gen_range(0..6)],
        r.gen_range(0..256),
        r.gen_range(0..256),
        r.gen_range(1..255)
    )
}

/// What RunInstances needs besides the state: everything validated up front.
struct Launch {
    image_id: String,
    instance_type: String,
    min: usize,
    max: usize,
    key_name: Option<String>,
    subnet_id: Option<String>,
    az: Option<String>,
    profile: Option<(String, String)>,
    tags: BTreeMap<String, BTreeMap<String, String>>,
    disable_api_termination: bool,
    shutdown_behavior: String,
    client_token: Option<String>,
}

fn launch_params(cx: &Call<'_>, input: &Input) -> Result<Launch, AwsError> {
    let image_id = req_str(input, "ImageId")?;
    if !well_formed(&image_id, "ami") {
        return Err(malformed("InvalidAMIID.Malformed", &image_id, "ami"));
    }
    let instance_type = opt_str(input, "InstanceType")?.unwrap_or_else(|| "m1.small".into());
    if !valid_instance_type(&instance_type) {
        return Err(err(
            "InvalidParameterValue",
            format!("Invalid value '{instance_type}' for InstanceType."),
        ));
    }
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
    let subnet_id = opt_str(input, "SubnetId")?;
    if let Some(s) = &subnet_id {
        if !well_formed(s, "subnet") {
            return Err(malformed("InvalidSubnetID.Malformed", s, "subnet"));
        }
    }
    let az = match input.child("Placement") {
        Some(p) => opt_str(&p, "AvailabilityZone")?,
        None => None,
    };
    if let Some(az) = &az {
        if !valid_az(az, &cx.region) {
            return Err(err(
                "InvalidParameterValue",
                format!("Invalid availability zone: [{az}]"),
            ));
        }
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
        image_id,
        instance_type,
        min: usize::try_from(min).unwrap_or(usize::MAX),
        max: usize::try_from(max).unwrap_or(usize::MAX),
        key_name: opt_str(input, "KeyName")?,
        subnet_id,
        az,
        profile,
        tags: tag_specs(input, &["instance", "volume", "network-interface"])?,
        disable_api_termination: bool_param(input, "DisableApiTermination")?.unwrap_or(false),
        shutdown_behavior,
        client_token: opt_str(input, "ClientToken")?,
    })
}

/// A new instance with its root volume (8 GiB gp2, deleted on termination), in `pending` until
/// `until`.
#[allow(clippy::too_many_arguments)]
fn new_instance(
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
        state: "pending".into(),
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
            state: "attached".into(),
            until: None,
        }),
    };
    st.volumes.insert(root.id.clone(), root);
    st.instances.insert(id.clone(), inst);
    id
}

fn new_association(
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
        state: "associating".into(),
        until: Some(until),
        timestamp: now,
    };
    st.associations.insert(a.id.clone(), a.clone());
    a
}

fn run_instances(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let l = launch_params(cx, input)?;
    dry_run(input)?;
    let sb = cx.sandbox;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let launch = sb.config.lifecycle_delay(10.0, 25.0);
    let checks = sb.config.lifecycle_delay(120.0, 240.0).as_seconds_f64();
    let assoc_delay = sb.config.lifecycle_delay(2.0, 5.0);
    let ids = sb.write::<Ec2State, _>(&account, &region, |st| {
        st.settle(now);
        let live = st.instances.values().filter(|i| i.state != "terminated" && i.state != "shutting-down").count();
        let room = INSTANCE_LIMIT.saturating_sub(live);
        if l.min > room {
            return Err(err(
                "InstanceLimitExceeded",
                format!(
                    "You have requested more instances ({}) than your current instance limit of {INSTANCE_LIMIT} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
                    l.min
                ),
            ));
        }
        let count = l.max.min(room);
        let reservation = new_id("r");
        let mut ids = Vec::new();
        for index in 0..count {
            let id = new_instance(st, &l, &account, &region, &reservation, index, now, now + launch, checks);
            if let Some(p) = &l.profile {
                new_association(st, &id, p, now, now + launch + assoc_delay);
            }
            ids.push(id);
        }
        let instances: Vec<Value> = ids.iter().filter_map(|id| st.instances.get(id)).map(|i| instance_value(st, i, &region)).collect();
        Ok((ids, reservation, instances))
    })?;
    let (ids, reservation, instances) = ids;
    for id in &ids {
        note_instance(cx, id);
    }
    Ok(Value::obj()
        .with("reservationId", reservation)
        .with("ownerId", account)
        .with("groupSet", Value::List(Vec::new()))
        .with("instancesSet", Value::List(instances)))
}

/// The instances named in the request, all of which must exist.
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

fn user_initiated(now: OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    format!(
        "User initiated ({:04}-{:02}-{:02} {:02}:{:02}:{:02} GMT)",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn terminate_instances(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let ids = named_instances(st, input, now)?;
    if let Some(id) = ids.iter().find(|id| {
        st.instances
            .get(*id)
            .is_some_and(|i| i.disable_api_termination)
    }) {
        return Err(err(
            "OperationNotPermitted",
            format!("The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."),
        ));
    }
    dry_run(input)?;
    let delay = cx.sandbox.config.lifecycle_delay(30.0, 60.0);
    let mut changes = Vec::new();
    for id in &ids {
        let Some(i) = st.instances.get_mut(id) else {
            continue;
        };
        let previous = i.state.clone();
        if previous != "terminated" && previous != "shutting-down" {
            i.state = "shutting-down".into();
            i.state_since = now;
            i.state_until = Some(now + delay);
            i.state_reason = Some((
                "Client.UserInitiatedShutdown".into(),
                "Client.UserInitiatedShutdown: User initiated shutdown".into(),
            ));
            i.transition_reason = user_initiated(now);
        }
        changes.push(state_change(id, &previous, &i.state));
    }
    for id in &ids {
        note_instance(cx, id);
    }
    Ok(Value::obj().with("instancesSet", Value::List(changes)))
}

fn stop_instances(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let now = cx.now;
    let ids = named_instances(st, input, now)?;
    for id in &ids {
        let state = st.instances.get(id).map(|i| i.state.as_str()).unwrap_or("");
        if !matches!(state, "running" | "stopping" | "stopped") {
            return Err(err(
                "IncorrectInstanceState",
                format!("The instance '{id}' is not in a state from which it can be stopped."),
            ));
        }
    }
    dry_run(input)?;
    let delay = cx.sandbox.config.lifecycle_delay(15.0, 45.0);
    let mut changes = Vec::new();
    for id in &ids {
        let Some(i) = st.instances.get_mut(id) else {
            continue;
        };
        let previous = i.state.clone();
        if previous == "running" {
            i.state = "stopping".into();
            i.state_since = now;
            i.state_until = Some(now + delay);
            i.state_reason = Some((
                "Client.UserInitiatedShutdown".into(),
                "Client.UserInitiatedShutdown: User initiated shutdown".into(),
            ));
            i.transition_reason = user_initiated(now);
        }
        changes.push(state_change(id, &previous, &i.state));
    }
    for id in &ids {
        note_instance(cx, id);
    }
    Ok(Value::obj().with("instancesSet", Value::List(changes)))
}

fn start_instances(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let now = cx.now;
    let ids = named_instances(st, input, now)?;
    for id in &ids {
        let state = st.instances.get(id).map(|i| i.state.as_str()).unwrap_or("");
        if !matches!(state, "pending" | "running" | "stopped") {
            return Err(err(
                "IncorrectInstanceState",
                format!("The instance '{id}' is not in a state from which it can be started."),
            ));
        }
    }
    dry_run(input)?;
    let delay = cx.sandbox.config.lifecycle_delay(15.0, 30.0);
    let checks = cx
        .sandbox
        .config
        .lifecycle_delay(120.0, 240.0)
        .as_seconds_f64();
    let mut changes = Vec::new();
    for id in &ids {
        let Some(i) = st.instances.get_mut(id) else {
            continue;
        };
        let previous = i.state.clone();
        if previous == "stopped" {
            i.state = "pending".into();
            i.state_since = now;
            i.state_until = Some(now + delay);
            i.state_reason = None;
            i.transition_reason = String::new();
            i.public_ip = Some(random_public_ip());
            i.checks_secs = checks;
        }
        changes.push(state_change(id, &previous, &i.state));
    }
    for id in &ids {
        note_instance(cx, id);
    }
    Ok(Value::obj().with("instancesSet", Value::List(changes)))
}

fn describe_instance_attribute(
    cx: &mut Call<'_>,
    st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let id = req_str(input, "InstanceId")?;
    let attribute = req_str(input, "Attribute")?;
    let i = instance(st, &id, cx.now)?;
    let boolean = |b: bool| Value::obj().with("value", b);
    let string = |s: &str| Value::obj().with("value", s);
    let out = Value::obj().with("instanceId", id.clone());
    Ok(match attribute.as_str() {
        "instanceType" => out.with("instanceType", string(&i.instance_type)),
        "disableApiTermination" => {
            out.with("disableApiTermination", boolean(i.disable_api_termination))
        }
        "disableApiStop" => out.with("disableApiStop", boolean(false)),
        "instanceInitiatedShutdownBehavior" => out.with(
            "instanceInitiatedShutdownBehavior",
            string(&i.shutdown_behavior),
        ),
        "rootDeviceName" => out.with("rootDeviceName", string(&i.root_device_name)),
        "blockDeviceMapping" => {
            out.with("blockDeviceMapping", Value::List(block_devices(st, &i.id)))
        }
        "sourceDestCheck" => out.with("sourceDestCheck", boolean(true)),
        "ebsOptimized" => out.with("ebsOptimized", boolean(false)),
        "enaSupport" => out.with("enaSupport", boolean(true)),
        "groupSet" => out.with(
            "groupSet",
            Value::List(vec![Value::obj()
                .with("groupId", i.security_group_id.clone())
                .with("groupName", "default")]),
        ),
        "productCodes" => out.with("productCodes", Value::List(Vec::new())),
        "userData" | "kernel" | "ramdisk" | "sriovNetSupport" => {
            let member = match attribute.as_str() {
                "userData" => "userData",
                "kernel" => "kernel",
                "ramdisk" => "ramdisk",
                _ => "sriovNetSupport",
            };
            out.with(member, Value::obj())
        }
        "enclaveOptions" => out.with("enclaveOptions", Value::obj().with("enabled", false)),
        other => {
            return Err(err(
                "InvalidParameterValue",
                format!("Value ({other}) for parameter attribute is invalid. Unknown attribute."),
            ))
        }
    })
}

fn modify_instance_attribute(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let id = req_str(input, "InstanceId")?;
    instance(st, &id, now)?;
    // Either `Attribute` + `Value`, or one `<Attribute>.Value` structure.
    let mut changes: Vec<(String, String)> = Vec::new();
    if let Some(attribute) = opt_str(input, "Attribute")? {
        let value = opt_str(input, "Value")?.ok_or_else(|| missing("Value"))?;
        changes.push((attribute, value));
    }
    for name in [
        "DisableApiTermination",
        "InstanceType",
        "InstanceInitiatedShutdownBehavior",
        "SourceDestCheck",
        "EbsOptimized",
        "DisableApiStop",
        "EnaSupport",
    ] {
        if let Some(c) = input.child(name) {
            let value = opt_str(&c, "Value")?.ok_or_else(|| missing(&format!("{name}.Value")))?;
            let mut attr = name.to_string();
            if let Some(first) = attr.get_mut(0..1) {
                first.make_ascii_lowercase();
            }
            changes.push((attr, value));
        }
    }
    match changes.len() {
        0 => return Err(missing("Attribute")),
        1 => {}
        _ => {
            return Err(err(
                "InvalidParameterCombination",
                "Fields for multiple attribute types specified",
            ))
        }
    }
    let (attribute, value) = changes.swap_remove(0);
    let parse_bool = |v: &str| match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_value(&attribute, v)),
    };
    let state = st
        .instances
        .get(&id)
        .map(|i| i.state.clone())
        .unwrap_or_default();
    if state == "terminated" || state == "shutting-down" {
        return Err(err(
            "IncorrectInstanceState",
            format!("The instance '{id}' is not in a state from which it can be modified."),
        ));
    }
    match attribute.as_str() {
        "disableApiTermination" => {
            let b = parse_bool(&value)?;
            dry_run(input)?;
            if let Some(i) = st.instances.get_mut(&id) {
                i.disable_api_termination = b;
            }
        }
        "instanceType" => {
            if !valid_instance_type(&value) {
                return Err(err("InvalidParameterValue", format!("Invalid value '{value}' for InstanceType.")));
            }
            if state != "stopped" {
                return Err(err("IncorrectInstanceState", format!("The instance '{id}' is not in the 'stopped' state.")));
            }
            dry_run(input)?;
            if let Some(i) = st.instances.get_mut(&id) {
                i.instance_type = value;
            }
        }
        "instanceInitiatedShutdownBehavior" => {
            if value != "stop" && value != "terminate" {
                return Err(invalid_value("instanceInitiatedShutdownBehavior", &value));
            }
            dry_run(input)?;
            if let Some(i) = st.instances.get_mut(&id) {
                i.shutdown_behavior = value;
            }
        }
        "sourceDestCheck" | "ebsOptimized" | "disableApiStop" | "enaSupport" => {
            parse_bool(&value)?;
            return Err(err(
                "UnsupportedOperation",
                format!("The sandbox does not model the instance attribute '{attribute}'; it supports disableApiTermination, instanceType and instanceInitiatedShutdownBehavior."),
            ));
        }
        "kernel" | "ramdisk" | "userData" | "rootDeviceName" | "blockDeviceMapping" | "productCodes" | "groupSet"
        | "sriovNetSupport" => {
            return Err(err(
                "UnsupportedOperation",
                format!("The sandbox does not model the instance attribute '{attribute}'; it supports disableApiTermination, instanceType and instanceInitiatedShutdownBehavior."),
            ))
        }
        other => {
            return Err(err("InvalidParameterValue", format!("Value ({other}) for parameter attribute is invalid. Unknown attribute.")))
        }
    }
    note_instance(cx, &id);
    Ok(Value::obj().with("return", true))
}

// --- Instance profile associations ------------------------------------------------------------

fn describe_associations(st: &Ec2State, input: &Input) -> Result<Value, AwsError> {
    let ids: Vec<String> = input
        .str_list("AssociationId")?
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
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
            "state" => one(&a.state),
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

fn associate_profile(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let id = req_str(input, "InstanceId")?;
    let spec = input
        .child("IamInstanceProfile")
        .ok_or_else(|| missing("IamInstanceProfile"))?;
    let profile = profile_spec(&spec, cx.account())?;
    let i = instance(st, &id, now)?;
    if matches!(i.state.as_str(), "shutting-down" | "terminated") {
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
    let delay = cx.sandbox.config.lifecycle_delay(2.0, 5.0);
    let a = new_association(st, &id, &profile, now, now + delay);
    note_instance(cx, &id);
    Ok(Value::obj().with("iamInstanceProfileAssociation", association_value(&a)))
}

fn disassociate_profile(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let id = req_str(input, "AssociationId")?;
    let delay = cx.sandbox.config.lifecycle_delay(2.0, 5.0);
    let a = st
        .associations
        .get_mut(&id)
        .ok_or_else(|| association_not_found(&id))?;
    if a.state != "disassociating" {
        a.state = "disassociating".into();
        a.until = Some(now + delay);
    }
    let out = association_value(a);
    let instance_id = a.instance_id.clone();
    note_instance(cx, &instance_id);
    Ok(Value::obj().with("iamInstanceProfileAssociation", out))
}

fn replace_association(
    cx: &mut Call<'_>,
    st: &mut Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let now = cx.now;
    let id = req_str(input, "AssociationId")?;
    let spec = input
        .child("IamInstanceProfile")
        .ok_or_else(|| missing("IamInstanceProfile"))?;
    let profile = profile_spec(&spec, cx.account())?;
    let old = st
        .associations
        .get(&id)
        .ok_or_else(|| association_not_found(&id))?;
    if old.state == "disassociating" {
        return Err(err(
            "IncorrectState",
            format!("The association {id} is not in the 'associated' state."),
        ));
    }
    let instance_id = old.instance_id.clone();
    dry_run(input)?;
    st.associations.remove(&id);
    let delay = cx.sandbox.config.lifecycle_delay(2.0, 5.0);
    let a = new_association(st, &instance_id, &profile, now, now + delay);
    note_instance(cx, &instance_id);
    Ok(Value::obj().with("iamInstanceProfileAssociation", association_value(&a)))
}

// --- Volumes ----------------------------------------------------------------------------------

fn volume_filter_values(v: &Volume, name: &str) -> Option<Vec<String>> {
    if let Some(t) = tag_values(&v.tags, name) {
        return Some(t);
    }
    let att = v.attachment.as_ref();
    match name {
        "volume-id" => one(&v.id),
        "status" => one(v.status()),
        "size" => one(v.size.to_string()),
        "volume-type" => one(&v.volume_type),
        "availability-zone" => one(&v.availability_zone),
        "encrypted" => one(v.encrypted.to_string()),
        "snapshot-id" => one(&v.snapshot_id),
        "multi-attach-enabled" => one("false"),
        "create-time" => one(crate::util::iso8601(v.create_time)),
        "attachment.instance-id" => Some(att.map(|a| a.instance_id.clone()).into_iter().collect()),
        "attachment.device" => Some(att.map(|a| a.device.clone()).into_iter().collect()),
        "attachment.status" => Some(att.map(|a| a.state.clone()).into_iter().collect()),
        "attachment.attach-time" => Some(
            att.map(|a| crate::util::iso8601(a.attach_time))
                .into_iter()
                .collect(),
        ),
        "attachment.delete-on-termination" => Some(
            att.map(|a| a.delete_on_termination.to_string())
                .into_iter()
                .collect(),
        ),
        _ => None,
    }
}

fn describe_volumes(st: &Ec2State, input: &Input) -> Result<Value, AwsError> {
    let ids: Vec<String> = input
        .str_list("VolumeId")?
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = ids.iter().find(|id| !well_formed(id, "vol")) {
        return Err(malformed("InvalidVolumeID.Malformed", bad, "vol"));
    }
    if let Some(unknown) = ids.iter().find(|id| !st.volumes.contains_key(*id)) {
        return Err(volume_not_found(unknown));
    }
    let page = page_params(input, 5, 500)?;
    if !ids.is_empty() && page.max.is_some() {
        return Err(err(
            "InvalidParameterCombination",
            "The parameter volumeSet cannot be used with the parameter maxResults",
        ));
    }
    let fs = filters(input)?;
    let mut items = Vec::new();
    for v in st.volumes.values() {
        if !ids.is_empty() && !ids.contains(&v.id) {
            continue;
        }
        if passes(&fs, |n| volume_filter_values(v, n))? {
            items.push((v.id.clone(), volume_value(v)));
        }
    }
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("volumeSet", Value::List(list))
        .with("nextToken", next))
}

/// Size limits (GiB) and default IOPS/throughput of each volume type.
fn volume_type_limits(t: &str) -> Option<(i64, i64)> {
    match t {
        "gp2" | "gp3" => Some((1, 16384)),
        "io1" | "io2" => Some((4, 16384)),
        "st1" | "sc1" => Some((125, 16384)),
        "standard" => Some((1, 1024)),
        _ => None,
    }
}

/// The ARN of the KMS key a volume uses, resolved from any of the forms EC2 accepts (key id,
/// key ARN, alias name, alias ARN); `None` when the key does not exist or cannot be used.
fn resolve_kms_key(
    sb: &Sandbox,
    account: &str,
    region: &str,
    key: &str,
    now: OffsetDateTime,
) -> Option<String> {
    let key = key.trim();
    let local = key
        .strip_prefix(&format!("arn:aws:kms:{region}:{account}:"))
        .unwrap_or(key);
    sb.read::<KmsState, _>(account, region, |st| {
        let id = if local.starts_with("alias/") {
            st.aliases.get(local).map(|a| a.target.clone())?
        } else {
            local.strip_prefix("key/").unwrap_or(local).to_string()
        };
        st.keys
            .get(&id)
            .filter(|k| k.state(now) == "Enabled")
            .map(|k| k.arn.clone())
    })
}

/// The account's AWS-managed EBS key (`alias/aws/ebs`), created on first use as AWS does.
fn default_ebs_key(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<String, AwsError> {
    if let Some(arn) = resolve_kms_key(sb, account, region, "alias/aws/ebs", now) {
        return Ok(arn);
    }
    let id = crate::util::uuid();
    let arn = format!("arn:aws:kms:{region}:{account}:key/{id}");
    let created = crate::util::iso8601(now);
    let key: super::kms::Key = serde_json::from_value(serde_json::json!({
        "id": id, "arn": arn, "account": account, "created": created,
        "description": "Default key that protects my EBS volumes when no other key is defined",
        "origin": "AWS_KMS", "manager": "AWS",
        "materials": [crate::util::b64(&super::kms::crypto::random_bytes(32))],
        "policy": serde_json::json!({"Version": "2012-10-17", "Id": "auto-ebs-2", "Statement": [{
            "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
            "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": format!("ec2.{region}.amazonaws.com")}}
        }]}).to_string(),
    }))
    .map_err(|e| AwsError::internal(format!("cannot create the default EBS key: {e}")))?;
    let alias: super::kms::Alias = serde_json::from_value(serde_json::json!({
        "name": "alias/aws/ebs", "arn": format!("arn:aws:kms:{region}:{account}:alias/aws/ebs"),
        "target": id, "created": created, "updated": created,
    }))
    .map_err(|e| AwsError::internal(format!("cannot create the default EBS key alias: {e}")))?;
    sb.write::<KmsState, _>(account, region, |st| {
        st.keys.insert(key.id.clone(), key);
        st.aliases.insert(alias.name.clone(), alias);
        Ok(())
    })?;
    Ok(arn)
}

fn create_volume(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let sb = cx.sandbox;
    let (account, region, now) = (cx.account().to_string(), cx.region.clone(), cx.now);
    let az = opt_str(input, "AvailabilityZone")?.ok_or_else(|| missing("AvailabilityZone"))?;
    if !valid_az(&az, &region) {
        return Err(err(
            "InvalidZone.NotFound",
            format!("The zone '{az}' does not exist."),
        ));
    }
    let volume_type = opt_str(input, "VolumeType")?.unwrap_or_else(|| "gp2".into());
    let (min, max) = volume_type_limits(&volume_type).ok_or_else(|| {
        err("InvalidParameterValue", format!("Value ({volume_type}) for parameter volumeType is invalid. Valid values: standard, io1, io2, gp2, sc1, st1, gp3"))
    })?;
    let snapshot_id = opt_str(input, "SnapshotId")?;
    if snapshot_id.is_some() {
        return Err(err(
            "UnsupportedOperation",
            "The sandbox does not model snapshots: create volumes with a Size.",
        ));
    }
    let size = int_param(input, "Size")?.ok_or_else(|| missing("size/snapshot"))?;
    if size < min || size > max {
        return Err(err(
            "InvalidParameterValue",
            format!("Volume of {size}GiB is outside the range {min}-{max}GiB allowed for volume type '{volume_type}'."),
        ));
    }
    let iops = int_param(input, "Iops")?;
    let iops = match volume_type.as_str() {
        "gp2" => {
            if iops.is_some() {
                return Err(err(
                    "InvalidParameterCombination",
                    "The parameter iops is not supported for gp2 volumes.",
                ));
            }
            Some((size * 3).clamp(100, 16000))
        }
        "gp3" => Some(iops.unwrap_or(3000).clamp(3000, 16000)),
        "io1" | "io2" => Some(iops.ok_or_else(|| missing("iops"))?.clamp(100, 64000)),
        _ => None,
    };
    let throughput = match volume_type.as_str() {
        "gp3" => Some(
            int_param(input, "Throughput")?
                .unwrap_or(125)
                .clamp(125, 1000),
        ),
        _ => None,
    };
    let encrypted = bool_param(input, "Encrypted")?.unwrap_or(false);
    let kms_key = opt_str(input, "KmsKeyId")?;
    if kms_key.is_some() && !encrypted {
        return Err(err(
            "InvalidParameterDependency",
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        ));
    }
    let tags = tag_specs(input, &["volume"])?
        .remove("volume")
        .unwrap_or_default();
    dry_run(input)?;
    // EC2 checks the key asynchronously: a key that cannot be used fails the creation later.
    let (kms_key_id, creation_fails) = match (&kms_key, encrypted) {
        (Some(k), _) => match resolve_kms_key(sb, &account, &region, k, now) {
            Some(arn) => (Some(arn), false),
            None => (Some(k.clone()), true),
        },
        (None, true) => (Some(default_ebs_key(sb, &account, &region, now)?), false),
        (None, false) => (None, false),
    };
    let delay = sb.config.lifecycle_delay(2.0, 8.0);
    let v = Volume {
        id: new_id("vol"),
        size,
        volume_type,
        iops,
        throughput,
        availability_zone: az,
        encrypted,
        kms_key_id,
        snapshot_id: String::new(),
        create_time: now,
        ready_at: Some(now + delay),
        creation_fails,
        tags,
        attachment: None,
    };
    let out = volume_value(&v);
    let id = v.id.clone();
    sb.write::<Ec2State, _>(&account, &region, |st| {
        st.settle(now);
        st.volumes.insert(v.id.clone(), v);
        Ok(())
    })?;
    note_volume(cx, &id);
    Ok(out)
}

fn valid_device(d: &str) -> bool {
    let tail = d
        .strip_prefix("/dev/sd")
        .or_else(|| d.strip_prefix("/dev/xvd"));
    match tail {
        Some(t) => {
            let b = t.as_bytes();
            (b.len() == 1 && b[0].is_ascii_lowercase())
                || (b.len() == 2
                    && b[0].is_ascii_lowercase()
                    && (b[1].is_ascii_lowercase() || b[1].is_ascii_digit()))
        }
        None => false,
    }
}

fn attach_volume(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let now = cx.now;
    let device = req_str(input, "Device")?;
    let instance_id = req_str(input, "InstanceId")?;
    let vol = volume_id(input)?;
    if !valid_device(&device) {
        return Err(err("InvalidParameterValue", format!("Value ({device}) for parameter device is invalid. {device} is not a valid EBS device name.")));
    }
    let i = instance(st, &instance_id, now)?;
    if matches!(i.state.as_str(), "shutting-down" | "terminated") {
        return Err(err(
            "IncorrectState",
            format!("Instance '{instance_id}' is not 'running'."),
        ));
    }
    let az = i.availability_zone.clone();
    let v = st.volumes.get(&vol).ok_or_else(|| volume_not_found(&vol))?;
    if v.attachment.is_some() {
        return Err(err(
            "VolumeInUse",
            format!("{vol} is already attached to an instance"),
        ));
    }
    if v.ready_at.is_some() {
        return Err(err(
            "IncorrectState",
            format!("The volume '{vol}' is not 'available'."),
        ));
    }
    if v.availability_zone != az {
        return Err(err(
            "InvalidVolume.ZoneMismatch",
            format!("The volume '{vol}' is not in the same availability zone as instance '{instance_id}'"),
        ));
    }
    let taken = st.volumes.values().any(|o| {
        o.attachment.as_ref().is_some_and(|a| {
            a.instance_id == instance_id && (a.device == device || same_device(&a.device, &device))
        })
    });
    if taken {
        return Err(err(
            "InvalidParameterValue",
            format!("Attachment point {device} is already in use"),
        ));
    }
    dry_run(input)?;
    let delay = cx.sandbox.config.lifecycle_delay(2.0, 6.0);
    let a = Attachment {
        instance_id: instance_id.clone(),
        device: device.clone(),
        attach_time: now,
        delete_on_termination: false,
        state: "attaching".into(),
        until: Some(now + delay),
    };
    if let Some(v) = st.volumes.get_mut(&vol) {
        v.attachment = Some(a);
    }
    note_instance(cx, &instance_id);
    note_volume(cx, &vol);
    Ok(Value::obj()
        .with("volumeId", vol)
        .with("instanceId", instance_id)
        .with("device", device)
        .with("status", "attaching")
        .with("attachTime", now))
}

/// `/dev/sdf` and `/dev/xvdf` name the same attachment point.
fn same_device(a: &str, b: &str) -> bool {
    let norm = |d: &str| {
        d.strip_prefix("/dev/sd")
            .or_else(|| d.strip_prefix("/dev/xvd"))
            .map(str::to_string)
    };
    norm(a).is_some() && norm(a) == norm(b)
}

fn detach_volume(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let now = cx.now;
    let vol = volume_id(input)?;
    let want_instance = opt_str(input, "InstanceId")?;
    let want_device = opt_str(input, "Device")?;
    let v = st.volumes.get(&vol).ok_or_else(|| volume_not_found(&vol))?;
    let Some(a) = v.attachment.clone() else {
        return Err(err(
            "IncorrectState",
            format!("Volume '{vol}' is in the '{}' state.", v.status()),
        ));
    };
    if want_instance.as_ref().is_some_and(|i| *i != a.instance_id)
        || want_device.as_ref().is_some_and(|d| *d != a.device)
    {
        return Err(err(
            "InvalidAttachment.NotFound",
            format!(
                "The volume {vol} is not attached to instance {} as device {}",
                want_instance.as_deref().unwrap_or(&a.instance_id),
                want_device.as_deref().unwrap_or(&a.device)
            ),
        ));
    }
    let root = st
        .instances
        .get(&a.instance_id)
        .is_some_and(|i| i.root_device_name == a.device && i.state != "stopped");
    if root && bool_param(input, "Force")? != Some(true) {
        return Err(err(
            "OperationNotPermitted",
            format!(
                "Unable to detach root volume '{vol}' from instance '{}'",
                a.instance_id
            ),
        ));
    }
    dry_run(input)?;
    let delay = cx.sandbox.config.lifecycle_delay(2.0, 6.0);
    if let Some(att) = st.volumes.get_mut(&vol).and_then(|v| v.attachment.as_mut()) {
        if att.state != "detaching" {
            att.state = "detaching".into();
            att.until = Some(now + delay);
        }
    }
    note_instance(cx, &a.instance_id);
    note_volume(cx, &vol);
    Ok(Value::obj()
        .with("volumeId", vol)
        .with("instanceId", a.instance_id)
        .with("device", a.device)
        .with("status", "detaching")
        .with("attachTime", a.attach_time))
}

fn delete_volume(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let vol = volume_id(input)?;
    let v = st.volumes.get(&vol).ok_or_else(|| volume_not_found(&vol))?;
    if let Some(a) = &v.attachment {
        return Err(err(
            "VolumeInUse",
            format!("Volume {vol} is currently attached to {}", a.instance_id),
        ));
    }
    dry_run(input)?;
    st.volumes.remove(&vol);
    note_volume(cx, &vol);
    Ok(Value::obj().with("return", true))
}

// --- Tags -------------------------------------------------------------------------------------

/// Check that every resource id names an existing instance or volume.
fn taggable(st: &Ec2State, ids: &[String], now: OffsetDateTime) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Err(missing("ResourceId"));
    }
    for id in ids {
        if id.starts_with("i-") {
            instance(st, id, now)?;
        } else if id.starts_with("vol-") {
            if !well_formed(id, "vol") {
                return Err(malformed("InvalidVolumeID.Malformed", id, "vol"));
            }
            if !st.volumes.contains_key(id) {
                return Err(volume_not_found(id));
            }
        } else {
            return Err(err("InvalidID", format!("The ID '{id}' is not valid")));
        }
    }
    Ok(())
}

fn tags_mut<'s>(st: &'s mut Ec2State, id: &str) -> Option<&'s mut BTreeMap<String, String>> {
    if id.starts_with("i-") {
        st.instances.get_mut(id).map(|i| &mut i.tags)
    } else {
        st.volumes.get_mut(id).map(|v| &mut v.tags)
    }
}

fn create_tags(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let ids = input.str_list("ResourceId")?;
    taggable(st, &ids, cx.now)?;
    let tags = parse_tags(input, "Tag")?;
    if tags.is_empty() {
        return Err(missing("Tag"));
    }
    for id in &ids {
        let current = tags_mut(st, id).cloned().unwrap_or_default();
        let keys: BTreeSet<&String> = current.keys().chain(tags.iter().map(|(k, _)| k)).collect();
        if keys.len() > TAG_LIMIT {
            return Err(err(
                "TagLimitExceeded",
                "The maximum number of Tags for a resource has been reached.",
            ));
        }
    }
    dry_run(input)?;
    for id in &ids {
        if let Some(t) = tags_mut(st, id) {
            t.extend(tags.iter().cloned());
        }
        note_resource(cx, id);
    }
    Ok(Value::obj().with("return", true))
}

fn note_resource(cx: &mut Call<'_>, id: &str) {
    if id.starts_with("i-") {
        note_instance(cx, id);
    } else {
        note_volume(cx, id);
    }
}

fn delete_tags(cx: &mut Call<'_>, st: &mut Ec2State, input: &Input) -> Result<Value, AwsError> {
    let ids = input.str_list("ResourceId")?;
    taggable(st, &ids, cx.now)?;
    // A tag with a value deletes the key only when the value matches; without one, any value;
    // no tags at all deletes every tag.
    let mut wanted: Vec<(String, Option<String>)> = Vec::new();
    for t in input.list("Tag")? {
        let key = t.str("Key")?.unwrap_or_default();
        if key.is_empty() {
            return Err(err(
                "InvalidParameterValue",
                "Tag key cannot be null or empty.",
            ));
        }
        wanted.push((key, t.str("Value")?));
    }
    dry_run(input)?;
    for id in &ids {
        if let Some(tags) = tags_mut(st, id) {
            if wanted.is_empty() {
                tags.retain(|k, _| k.to_ascii_lowercase().starts_with("aws:"));
            }
            for (k, v) in &wanted {
                if v.as_ref().is_none_or(|v| tags.get(k) == Some(v)) {
                    tags.remove(k);
                }
            }
        }
        note_resource(cx, id);
    }
    Ok(Value::obj().with("return", true))
}

fn describe_tags(st: &Ec2State, input: &Input) -> Result<Value, AwsError> {
    let page = page_params(input, 5, 1000)?;
    let fs = filters(input)?;
    let mut items = Vec::new();
    let resources = st
        .instances
        .values()
        .map(|i| (&i.id, "instance", &i.tags))
        .chain(st.volumes.values().map(|v| (&v.id, "volume", &v.tags)));
    for (id, kind, tags) in resources {
        for (k, v) in tags {
            let ok = passes(&fs, |n| match n {
                "resource-id" => one(id),
                "resource-type" => one(kind),
                "key" => one(k),
                "value" => one(v),
                other => other.strip_prefix("tag:").map(|want| {
                    if want == k {
                        vec![v.clone()]
                    } else {
                        Vec::new()
                    }
                }),
            })?;
            if ok {
                let value = Value::obj()
                    .with("resourceId", id.clone())
                    .with("resourceType", kind)
                    .with("key", k.clone())
                    .with("value", v.clone());
                items.push((format!("{kind}/{id}/{k}"), value));
            }
        }
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("tagSet", Value::List(list))
        .with("nextToken", next))
}

// ---------------------------------------------------------------------------------------------
// Seed.

/// The Amazon Linux AMI the workshop instance was launched from.
pub const WORKSHOP_AMI: &str = "ami-0c02fb55956c7d316";

/// The workshop's EC2 resources (DESIGN.md section 2): the instance with id
/// [`kms_workshop_names::sandbox::INSTANCE_ID`], the `KMSWorkshop-InstanceInitRole` profile associated, its
/// root volume, the 100 GiB `WorkshopEBS` volume encrypted with `alias/ImportedCMK` attached as
/// `/dev/sdf`; and a lookalike no clean-up may touch (`billing-batch`, no workshop profile).
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let imported_cmk = resolve_kms_key(sb, account, region, "alias/ImportedCMK", now);
    let profile_arn = format!(
        "arn:aws:iam::{account}:instance-profile/{}",
        kms_workshop_names::sandbox::INSTANCE_ROLE
    );
    let profile_id = format!("AIPA{}", derived_hex(&profile_arn, 17).to_ascii_uppercase());
    sb.write::<Ec2State, _>(account, region, |st| {
        let launch = |tags: &[(&str, &str)], instance_type: &str| Launch {
            image_id: WORKSHOP_AMI.into(),
            instance_type: instance_type.into(),
            min: 1,
            max: 1,
            key_name: None,
            subnet_id: None,
            az: Some(format!("{region}a")),
            profile: None,
            tags: BTreeMap::from([(
                "instance".to_string(),
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            )]),
            disable_api_termination: false,
            shutdown_behavior: "stop".into(),
            client_token: None,
        };
        // The workshop instance, launched by hand two days ago; its id is the documented one.
        let launched = now - Duration::days(2);
        let tmp = new_instance(
            st,
            &launch(&[("Name", "KMSWorkshop-Instance")], "t2.micro"),
            account,
            region,
            &new_id("r"),
            0,
            launched,
            launched,
            0.0,
        );
        let id = kms_workshop_names::sandbox::INSTANCE_ID.to_string();
        if let Some(mut inst) = st.instances.remove(&tmp) {
            inst.id = id.clone();
            st.instances.insert(id.clone(), inst);
        }
        for v in st.volumes.values_mut() {
            if let Some(a) = v.attachment.as_mut().filter(|a| a.instance_id == tmp) {
                a.instance_id = id.clone();
            }
        }
        let assoc = Association {
            id: new_id("iip-assoc"),
            instance_id: id.clone(),
            profile_arn: profile_arn.clone(),
            profile_id: profile_id.clone(),
            state: "associated".into(),
            until: None,
            timestamp: launched,
        };
        st.associations.insert(assoc.id.clone(), assoc);
        let created = now - Duration::days(1);
        let ebs = Volume {
            id: new_id("vol"),
            size: 100,
            volume_type: "gp2".into(),
            iops: Some(300),
            throughput: None,
            availability_zone: format!("{region}a"),
            encrypted: true,
            kms_key_id: imported_cmk.clone(),
            snapshot_id: String::new(),
            create_time: created,
            ready_at: None,
            creation_fails: false,
            tags: BTreeMap::from([("Name".to_string(), "WorkshopEBS".to_string())]),
            attachment: Some(Attachment {
                instance_id: id.clone(),
                device: "/dev/sdf".into(),
                attach_time: created,
                delete_on_termination: false,
                state: "attached".into(),
                until: None,
            }),
        };
        st.volumes.insert(ebs.id.clone(), ebs);
        // The lookalike: someone else's batch instance in the same account.
        let batch_launched = now - Duration::days(9);
        new_instance(
            st,
            &launch(
                &[("Name", "billing-batch"), ("team", "billing")],
                "t3.medium",
            ),
            account,
            region,
            &new_id("r"),
            0,
            batch_launched,
            batch_launched,
            0.0,
        );
        st.settle(now);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_wildcards() {
        assert!(well_formed("i-0a1b2c3d4e5f60718", "i"));
        assert!(well_formed("i-0a1b2c3d", "i"));
        assert!(!well_formed("i-0A1B2C3D", "i"));
        assert!(!well_formed("i-123", "i"));
        assert!(!well_formed("vol-0a1b2c3d", "i"));
        let id = new_id("iip-assoc");
        assert!(well_formed(&id, "iip-assoc"), "{id}");
        assert!(wildcard("KMS*", "KMSWorkshop-Instance"));
        assert!(wildcard("?-*", "i-123"));
        assert!(!wildcard("KMS", "KMSWorkshop"));
        assert!(wildcard("a\\*b", "a*b") && !wildcard("a\\*b", "axb"));
        assert!(wildcard(&"*".repeat(40), "x"));
        assert!(!wildcard(
            &format!("{}b", "*a".repeat(30)),
            &"a".repeat(5000)
        ));
        assert!(wildcard("", "") && !wildcard("", "x") && wildcard("*", ""));
        assert!(wildcard("a*c?e", "abbbcde") && !wildcard("a*c?e", "abbbce"));
    }

    #[test]
    fn paging_round_trip() {
        let items: Vec<(String, u32)> = (0..12).map(|i| (format!("{i:03}"), i)).collect();
        let page = Page {
            max: Some(5),
            after: None,
        };
        let (first, next) = paginate(items.clone(), &page);
        assert_eq!(first, vec![0, 1, 2, 3, 4]);
        let token = next.unwrap();
        let decoded = String::from_utf8(crate::util::unb64(&token).unwrap()).unwrap();
        let page = Page {
            max: Some(5),
            after: decoded.strip_prefix("ec2:").map(str::to_string),
        };
        let (second, next) = paginate(items, &page);
        assert_eq!(second, vec![5, 6, 7, 8, 9]);
        assert!(next.is_some());
    }

    #[test]
    fn termination_settles_volumes_and_associations() {
        let now = OffsetDateTime::now_utc();
        let mut st = Ec2State::default();
        let l = Launch {
            image_id: WORKSHOP_AMI.into(),
            instance_type: "t2.micro".into(),
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
        };
        let id = new_instance(
            &mut st,
            &l,
            "111122223333",
            "us-east-1",
            "r-1",
            0,
            now,
            now + Duration::seconds(10),
            0.0,
        );
        new_association(&mut st, &id, &("arn".into(), "AIPA".into()), now, now);
        st.settle(now + Duration::seconds(5));
        assert_eq!(st.instances[&id].state, "pending");
        assert_eq!(st.associations.values().next().unwrap().state, "associated");
        st.settle(now + Duration::seconds(10));
        assert_eq!(st.instances[&id].state, "running");
        let i = st.instances.get_mut(&id).unwrap();
        i.state = "shutting-down".into();
        i.state_until = Some(now + Duration::seconds(40));
        assert!(!st.due(now + Duration::seconds(39)));
        st.settle(now + Duration::seconds(41));
        assert_eq!(st.instances[&id].state, "terminated");
        assert!(
            st.volumes.is_empty(),
            "the root volume goes with the instance"
        );
        assert!(st.associations.is_empty());
        st.settle(now + Duration::hours(2));
        assert!(
            st.instances.is_empty(),
            "terminated instances disappear after a while"
        );
    }
}
