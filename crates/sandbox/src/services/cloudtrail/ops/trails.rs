//! Trails: creating, describing, listing, starting and stopping logging, deleting; and
//! whether some trail logs an account's events in a region.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{touch, trail_key};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudtrail::errors::trail_not_found;
use crate::services::cloudtrail::organization;
use crate::services::cloudtrail::state::{Trail, TrailState};
use crate::services::cloudtrail::views;
use crate::services::Call;
use crate::Sandbox;

/// Whether some trail logs this account's management events from `source` in `region` (a
/// multi-region trail from any home region counts). CloudTrail events reach EventBridge only
/// while this holds.
pub fn logging_in(
    sb: &Sandbox,
    account: &str,
    region: &str,
    read_only: bool,
    source: &str,
) -> bool {
    let organization = sb.config.realism.organization_trail
        && organization::trail()
            .selectors()
            .iter()
            .any(|s| s.logs(read_only, source));
    organization
        || sb.any_region_of::<TrailState>(account, |st| {
            st.trails.values().any(|t| {
                t.logging
                    && (t.home_region == region || t.multi_region)
                    && t.selectors().iter().any(|s| s.logs(read_only, source))
            })
        })
}

/// Why CloudTrail refuses `name` as a trail name (`None`: it is valid), in CloudTrail's words.
pub(crate) fn trail_name_error(name: &str) -> Option<AwsError> {
    let b = name.as_bytes();
    let n = name.chars().count();
    let separator = |c: &u8| b"._-".contains(c);
    let message = if n < 3 {
        format!("Trail name too short. Minimum allowed length: 3 characters. Specified name length: {n} characters.")
    } else if n > 128 {
        format!("Trail name too long. Maximum allowed length: 128 characters. Specified name length: {n} characters.")
    } else if !b[0].is_ascii_alphanumeric() {
        "Trail name must starts with a letter or number.".into()
    } else if !b[b.len() - 1].is_ascii_alphanumeric() {
        "Trail name must ends with a letter or number.".into()
    } else if !b.iter().all(|c| c.is_ascii_alphanumeric() || separator(c)) {
        "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).".into()
    } else if b.windows(2).any(|w| separator(&w[0]) && separator(&w[1])) {
        "Trail name cannot contain adjacent periods (.), hyphens (-), or underscores (_).".into()
    } else if name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        "Trail name cannot be formatted as an IP address.".into()
    } else {
        return None;
    };
    Some(AwsError::new(400, "InvalidTrailNameException", message))
}

/// On AWS a bucket policy just put is not yet visible to CloudTrail, whose check of it then
/// fails (a known race the workshop's clean-up and runner retry); `realism` brings it back.
fn policy_visible(cx: &Call<'_>, account: &str, bucket: &str) -> Result<(), AwsError> {
    let race = cx
        .sandbox
        .config
        .scaled(cx.sandbox.config.realism.trail_policy_race);
    if race <= time::Duration::ZERO {
        return Ok(());
    }
    let changed =
        crate::services::s3::shared::policy_changed(cx.sandbox, account, &cx.region, bucket);
    match changed {
        Some(at) if cx.now < at + race => Err(AwsError::new(
            400,
            "InsufficientS3BucketPolicyException",
            format!("Incorrect S3 bucket policy is detected for bucket: {bucket}"),
        )),
        _ => Ok(()),
    }
}

pub fn create_trail(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input.req_str("Name")?;
    if let Some(e) = trail_name_error(&name) {
        return Err(e);
    }
    let bucket = input.req_str("S3BucketName")?;
    let multi_region = input.bool("IsMultiRegionTrail")?.unwrap_or(false);
    let include_global = input.bool("IncludeGlobalServiceEvents")?.unwrap_or(true);
    if multi_region && !include_global {
        return Err(AwsError::new(
            400,
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        ));
    }
    if !crate::services::s3::shared::bucket_exists(cx.sandbox, &bucket) {
        return Err(AwsError::new(
            400,
            "S3BucketDoesNotExistException",
            format!("S3 bucket {bucket} does not exist!"),
        ));
    }
    // The topic by name (in the trail's account and region) or by ARN; CloudTrail keeps its ARN.
    let sns_topic = input.str("SnsTopicName")?.map(|t| {
        if t.starts_with("arn:") {
            t
        } else {
            format!("arn:aws:sns:{}:{}:{t}", cx.region, cx.account())
        }
    });
    // The topic must exist and its policy let CloudTrail publish for this trail.
    let trail_arn = format!(
        "arn:aws:cloudtrail:{}:{}:trail/{name}",
        cx.region,
        cx.account()
    );
    if let Some(topic) = &sns_topic {
        let may = crate::services::sns::may_deliver(
            cx.sandbox,
            topic,
            "cloudtrail.amazonaws.com",
            &trail_arn,
            cx.account(),
        );
        if may.is_err() {
            return Err(AwsError::new(
                400,
                "InsufficientSnsTopicPolicyException",
                "SNS Topic does not exist or the topic policy is incorrect!",
            ));
        }
    }
    let tags = input
        .list("TagsList")?
        .iter()
        .map(|t| Ok((t.req_str("Key")?, t.str("Value")?.unwrap_or_default())))
        .collect::<Result<BTreeMap<_, _>, AwsError>>()?;
    let account = cx.account().to_string();
    policy_visible(cx, &account, &bucket)?;
    let trail = Trail {
        arn: trail_arn,
        name: name.clone(),
        home_region: cx.region.clone(),
        s3_bucket: bucket,
        s3_prefix: input.str("S3KeyPrefix")?,
        sns_topic,
        include_global,
        multi_region,
        log_file_validation: input.bool("EnableLogFileValidation")?.unwrap_or(false),
        kms_key_id: input.str("KmsKeyId")?,
        logging: false,
        start_logging: None,
        stop_logging: None,
        tags,
        event_selectors: None,
        organization: false,
    };
    touch(cx, &trail);
    let region = cx.region.clone();
    cx.sandbox.write::<TrailState, _>(&account, &region, |st| {
        if st.trails.contains_key(&name) {
            return Err(AwsError::new(
                400,
                "TrailAlreadyExistsException",
                format!("Trail {} already exists for customer: {account}", trail.arn),
            ));
        }
        let v = views::trail(&trail);
        st.trails.insert(name, trail);
        Ok(v)
    })
}

pub fn describe_trails(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let list = visible_trails(cx, input, false, views::trail)?;
    Ok(Value::obj().with("trailList", Value::List(list)))
}

pub fn list_trails(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let list = visible_trails(cx, input, true, views::trail_entry)?;
    Ok(Value::obj().with("Trails", Value::List(list)))
}

/// The trails this region shows (its own, and unless `includeShadowTrails` is false or
/// `all_shadows` overrides it, other regions' multi-region trails and the organization's),
/// narrowed to `trailNameList` when given.
fn visible_trails(
    cx: &Call<'_>,
    input: &Input,
    all_shadows: bool,
    view: fn(&Trail) -> Value,
) -> Result<Vec<Value>, AwsError> {
    let names = input.str_list("trailNameList")?;
    let shadows = input.bool("includeShadowTrails")?.unwrap_or(true) || all_shadows;
    let (sb, account) = (cx.sandbox, cx.account());
    let named = |t: &Trail| names.is_empty() || names.iter().any(|n| n == &t.name || n == &t.arn);
    let mut out = Vec::new();
    for home in sb.regions_of(account) {
        let here = home == cx.region;
        sb.read::<TrailState, _>(account, &home, |st| {
            for t in st.trails.values() {
                if (here || (shadows && t.multi_region)) && named(t) {
                    out.push(view(t));
                }
            }
        });
    }
    let org = organization::trail();
    if sb.config.realism.organization_trail
        && (shadows || org.home_region == cx.region)
        && named(&org)
    {
        out.push(view(&org));
    }
    Ok(out)
}

pub fn get_trail(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let t = read_trail(cx, input)?;
    Ok(Value::obj().with("Trail", views::trail(&t)))
}

pub fn get_trail_status(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let t = read_trail(cx, input)?;
    Ok(views::status(&t))
}

pub fn start_logging(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    change_trail(cx, input, false, |t, now| {
        t.logging = true;
        t.start_logging = Some(now);
    })
}

pub fn stop_logging(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    change_trail(cx, input, false, |t, now| {
        t.logging = false;
        t.stop_logging = Some(now);
    })
}

pub fn delete_trail(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    change_trail(cx, input, true, |_, _| {})
}

/// The trail `Name` names, recorded as the call's resource.
fn read_trail(cx: &mut Call<'_>, input: &Input) -> Result<Trail, AwsError> {
    let raw = input.req_str("Name")?;
    let (home, name) = trail_key(cx, &raw)?;
    let t = cx
        .sandbox
        .read::<TrailState, _>(cx.account(), &home, |st| st.trails.get(&name).cloned())
        .ok_or_else(|| trail_not_found(cx, &raw))?;
    touch(cx, &t);
    Ok(t)
}

/// Apply `change` to the trail `Name` names (and `remove` it), recording it as the call's
/// resource.
fn change_trail(
    cx: &mut Call<'_>,
    input: &Input,
    remove: bool,
    change: impl FnOnce(&mut Trail, OffsetDateTime),
) -> Result<Value, AwsError> {
    let raw = input.req_str("Name")?;
    let (home, name) = trail_key(cx, &raw)?;
    let (sb, account, now) = (cx.sandbox, cx.account().to_string(), cx.now);
    let late = sb.config.realism.trail_last_log_file;
    let t = sb.write::<TrailState, _>(&account, &home, |st| {
        let t = st
            .trails
            .get_mut(&name)
            .ok_or_else(|| trail_not_found(cx, &raw))?;
        let was_logging = t.logging;
        change(t, now);
        let t = t.clone();
        if remove {
            st.trails.remove(&name);
        }
        // What the trail recorded last is delivered to its bucket minutes later.
        if late && was_logging && (remove || !t.logging) {
            st.last_deliveries.insert(t.s3_bucket.clone(), now);
        }
        Ok(t)
    })?;
    touch(cx, &t);
    Ok(Value::Null)
}
