//! CloudTrail (awsJson1.1, `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*`): the
//! event history (`LookupEvents`, fed by [`recorder`] from every call to every sandbox service)
//! and trails (`CreateTrail`, `StartLogging`, …), which decide whether events reach EventBridge.

pub mod events;
pub mod history;
pub mod recorder;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Call, Service, TrailResource};
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::world::{Region, RegionalState};
use crate::Sandbox;
use events::{attribute_index, Query, ATTRIBUTES};

pub struct CloudTrail;

/// Trails of one account and region (their home region).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TrailState {
    #[serde(default)]
    pub trails: BTreeMap<String, Trail>,
}

impl RegionalState for TrailState {
    const NAME: &'static str = "cloudtrail";
    fn of(region: &Region) -> &Self {
        &region.cloudtrail
    }
    fn of_mut(region: &mut Region) -> &mut Self {
        &mut region.cloudtrail
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub s3_bucket: String,
    #[serde(default)]
    pub s3_prefix: Option<String>,
    #[serde(default)]
    pub sns_topic: Option<String>,
    pub include_global: bool,
    pub multi_region: bool,
    pub log_file_validation: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    pub logging: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_logging: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub stop_logging: Option<OffsetDateTime>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The trail's event selectors (`None`: CloudTrail's default, all management events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<Vec<EventSelector>>,
}

/// One basic event selector: which management events a trail logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSelector {
    /// `ReadOnly`, `WriteOnly` or `All`.
    pub read_write_type: String,
    pub include_management_events: bool,
}

impl EventSelector {
    fn default_all() -> EventSelector {
        EventSelector {
            read_write_type: "All".into(),
            include_management_events: true,
        }
    }

    /// Whether this selector logs a management event that is (or is not) read-only.
    fn logs(&self, read_only: bool) -> bool {
        self.include_management_events
            && match self.read_write_type.as_str() {
                "ReadOnly" => read_only,
                "WriteOnly" => !read_only,
                _ => true,
            }
    }

    fn to_value(&self) -> Value {
        Value::obj()
            .with("ReadWriteType", self.read_write_type.clone())
            .with("IncludeManagementEvents", self.include_management_events)
            .with("DataResources", Value::List(Vec::new()))
            .with("ExcludeManagementEventSources", Value::List(Vec::new()))
    }
}

impl Trail {
    fn selectors(&self) -> Vec<EventSelector> {
        self.event_selectors
            .clone()
            .unwrap_or_else(|| vec![EventSelector::default_all()])
    }

    fn describe(&self) -> Value {
        Value::obj()
            .with("Name", self.name.clone())
            .with("S3BucketName", self.s3_bucket.clone())
            .with("S3KeyPrefix", self.s3_prefix.clone())
            .with("SnsTopicARN", self.sns_topic.clone())
            .with("IncludeGlobalServiceEvents", self.include_global)
            .with("IsMultiRegionTrail", self.multi_region)
            .with("HomeRegion", self.home_region.clone())
            .with("TrailARN", self.arn.clone())
            .with("LogFileValidationEnabled", self.log_file_validation)
            .with("KmsKeyId", self.kms_key_id.clone())
            .with("HasCustomEventSelectors", false)
            .with("HasInsightSelectors", false)
            .with("IsOrganizationTrail", false)
    }
}

/// Whether some trail logs this account's management events in `region` (a multi-region trail
/// from any home region counts). CloudTrail events reach EventBridge only while this holds.
pub fn logging_in(sb: &Sandbox, account: &str, region: &str, read_only: bool) -> bool {
    sb.account_regions()
        .into_iter()
        .filter(|(a, _)| a == account)
        .any(|(_, home)| {
            sb.read::<TrailState, _>(account, &home, |st| {
                st.trails.values().any(|t| {
                    t.logging
                        && (t.home_region == region || t.multi_region)
                        && t.selectors().iter().any(|s| s.logs(read_only))
                })
            })
        })
}

fn valid_trail_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=128).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !b
            .windows(2)
            .any(|w| b"._-".contains(&w[0]) && b"._-".contains(&w[1]))
        && !name.split('.').all(|p| p.parse::<u8>().is_ok())
}

fn trail_not_found(cx: &Call<'_>, name: &str) -> AwsError {
    let arn = if name.starts_with("arn:") {
        name.to_string()
    } else {
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/{name}",
            cx.region,
            cx.account()
        )
    };
    AwsError::new(
        400,
        "TrailNotFoundException",
        format!("Unknown trail: {arn} for the user: {}", cx.account()),
    )
}

/// A trail's key in its home region's state, from a name or ARN.
fn trail_key(cx: &Call<'_>, raw: &str) -> Result<(String, String), AwsError> {
    if let Some(rest) = raw.strip_prefix("arn:aws:cloudtrail:") {
        let parts: Vec<&str> = rest.splitn(3, ':').collect();
        match parts.as_slice() {
            [region, account, res] if *account == cx.account() => {
                match res.strip_prefix("trail/") {
                    Some(name) => Ok((region.to_string(), name.to_string())),
                    None => Err(AwsError::new(
                        400,
                        "InvalidTrailNameException",
                        format!("Invalid trail ARN {raw}"),
                    )),
                }
            }
            [_, _, _] => Err(trail_not_found(cx, raw)),
            _ => Err(AwsError::new(
                400,
                "InvalidTrailNameException",
                format!("Invalid trail ARN {raw}"),
            )),
        }
    } else {
        Ok((cx.region.clone(), raw.to_string()))
    }
}

/// The `NextToken` of LookupEvents: the query it belongs to and where the next page starts.
fn query_hash(attr: &Option<(u8, String)>, start: i64, end: Option<i64>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (attr, start, end).hash(&mut h);
    h.finish()
}

fn encode_token(hash: u64, before: u32) -> String {
    crate::util::b64(format!("kws1:{hash:016x}:{before}").as_bytes())
}

fn decode_token(token: &str, hash: u64) -> Result<u32, AwsError> {
    let bad = || {
        AwsError::new(400, "InvalidNextTokenException", "Invalid NextToken: it is malformed or was issued for a query with different parameters.")
    };
    let raw = crate::util::unb64(token).ok_or_else(bad)?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        ["kws1", h, pos] if *h == format!("{hash:016x}") => pos.parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn lookup_events(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let sb = cx.sandbox;
    if sb.config.lookup_rate_limit && !sb.lookup_limiter.admit(cx.account(), &cx.region, 2) {
        return Err(AwsError::new(400, "ThrottlingException", "Rate exceeded"));
    }
    let attrs = input.list("LookupAttributes")?;
    if attrs.len() > 1 {
        return Err(AwsError::new(
            400,
            "InvalidLookupAttributesException",
            "You can specify only one lookup attribute per request.",
        ));
    }
    let attribute = match attrs.first() {
        None => None,
        Some(a) => {
            let key = a.str("AttributeKey")?.unwrap_or_default();
            let idx = attribute_index(&key).ok_or_else(|| {
                AwsError::new(
                    400,
                    "InvalidLookupAttributesException",
                    format!(
                        "Invalid AttributeKey '{key}'. Valid keys: {}",
                        ATTRIBUTES.join(", ")
                    ),
                )
            })?;
            let value = a.str("AttributeValue")?.ok_or_else(|| {
                AwsError::new(
                    400,
                    "InvalidLookupAttributesException",
                    format!("AttributeValue is required for AttributeKey {key}."),
                )
            })?;
            // AWS counts '_', ' ', ',' and '\n' twice towards the 2000-character limit.
            let weight: usize = value
                .chars()
                .map(|c| if "_ ,\n".contains(c) { 2 } else { 1 })
                .sum();
            if value.is_empty() || weight > 2000 {
                return Err(AwsError::new(
                    400,
                    "InvalidLookupAttributesException",
                    "AttributeValue must be 1 to 2000 characters long.",
                ));
            }
            Some((idx, value))
        }
    };
    let now = cx.now;
    let to_ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
    let start = input.time("StartTime")?;
    let end = input.time("EndTime")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(AwsError::new(
                400,
                "InvalidTimeRangeException",
                "StartTime must be before or equal to EndTime.",
            ));
        }
    }
    let floor = now - Duration::days(90);
    let start_ms = to_ms(start.map_or(floor, |s| s.max(floor)));
    let end_ms = end.map_or(i64::MAX, to_ms);
    let max = input.int("MaxResults")?.unwrap_or(50);
    if !(1..=50).contains(&max) {
        return Err(AwsError::new(
            400,
            "InvalidMaxResultsException",
            format!("MaxResults must be between 1 and 50; got {max}."),
        ));
    }
    match input.str("EventCategory")?.as_deref() {
        None => {}
        // The sandbox has no Insights events.
        Some("insight") => return Ok(Value::obj().with("Events", Value::List(Vec::new()))),
        Some(other) => {
            return Err(AwsError::new(
                400,
                "InvalidEventCategoryException",
                format!("Invalid EventCategory '{other}'; the only valid value is insight."),
            ))
        }
    }
    let hash = query_hash(&attribute, start.map_or(0, to_ms), end.map(to_ms));
    let before = match input.str("NextToken")? {
        Some(t) => Some(decode_token(&t, hash)?),
        None => None,
    };
    let q = Query {
        attribute,
        start_ms,
        end_ms,
        now_ms: to_ms(now),
        max: max as usize,
        before,
    };
    let (found, next) = sb.events.lookup(cx.account(), &cx.region, &q);
    let events = found
        .iter()
        .map(|e| {
            let resources = e
                .resources
                .iter()
                .map(|(t, n)| {
                    Value::obj()
                        .with("ResourceType", &**t)
                        .with("ResourceName", &**n)
                })
                .collect();
            Value::obj()
                .with("EventId", &*e.event_id)
                .with("EventName", &*e.event_name)
                .with("ReadOnly", if e.read_only { "true" } else { "false" })
                .with("AccessKeyId", &*e.access_key_id)
                .with(
                    "EventTime",
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.time_ms) * 1_000_000)
                        .unwrap_or(now),
                )
                .with("EventSource", &*e.event_source)
                .with("Username", &*e.username)
                .with("Resources", Value::List(resources))
                .with("CloudTrailEvent", &*e.record)
        })
        .collect();
    Ok(Value::obj()
        .with("Events", Value::List(events))
        .with("NextToken", next.map(|b| encode_token(hash, b))))
}

impl Service for CloudTrail {
    fn signing_name(&self) -> &'static str {
        "cloudtrail"
    }
    fn event_source(&self) -> &'static str {
        "cloudtrail.amazonaws.com"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsJson11
    }

    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        let sb = cx.sandbox;
        let account = cx.account().to_string();
        match op {
            "LookupEvents" => lookup_events(cx, input),
            "CreateTrail" => {
                let name = input.req_str("Name")?;
                if !valid_trail_name(&name) {
                    return Err(AwsError::new(
                        400,
                        "InvalidTrailNameException",
                        "Trail name must be 3-128 characters of letters, numbers, '.', '_' or '-', start and end with a letter or number, have no adjacent '.', '_' or '-', and not look like an IP address.",
                    ));
                }
                let bucket = input.req_str("S3BucketName")?;
                let tags = input
                    .list("TagsList")?
                    .iter()
                    .map(|t| Ok((t.req_str("Key")?, t.str("Value")?.unwrap_or_default())))
                    .collect::<Result<BTreeMap<_, _>, AwsError>>()?;
                let trail = Trail {
                    arn: format!("arn:aws:cloudtrail:{}:{account}:trail/{name}", cx.region),
                    name: name.clone(),
                    home_region: cx.region.clone(),
                    s3_bucket: bucket,
                    s3_prefix: input.str("S3KeyPrefix")?,
                    sns_topic: input.str("SnsTopicName")?,
                    include_global: input.bool("IncludeGlobalServiceEvents")?.unwrap_or(true),
                    multi_region: input.bool("IsMultiRegionTrail")?.unwrap_or(false),
                    log_file_validation: input.bool("EnableLogFileValidation")?.unwrap_or(false),
                    kms_key_id: input.str("KmsKeyId")?,
                    logging: false,
                    start_logging: None,
                    stop_logging: None,
                    tags,
                    event_selectors: None,
                };
                cx.resources.push(TrailResource {
                    arn: trail.arn.clone(),
                    resource_type: "AWS::CloudTrail::Trail".into(),
                });
                let region = cx.region.clone();
                sb.write::<TrailState, _>(&account, &region, |st| {
                    if st.trails.contains_key(&name) {
                        return Err(AwsError::new(
                            400,
                            "TrailAlreadyExistsException",
                            format!("Trail {} already exists for customer: {account}", trail.arn),
                        ));
                    }
                    let v = trail.describe();
                    st.trails.insert(name, trail);
                    Ok(v)
                })
            }
            "DescribeTrails" | "ListTrails" => {
                let names = input.str_list("trailNameList")?;
                let shadows =
                    input.bool("includeShadowTrails")?.unwrap_or(true) || op == "ListTrails";
                let mut out = Vec::new();
                for (a, home) in sb.account_regions() {
                    if a != account {
                        continue;
                    }
                    let here = home == cx.region;
                    sb.read::<TrailState, _>(&account, &home, |st| {
                        for t in st.trails.values() {
                            let visible = here || (shadows && t.multi_region);
                            let named = names.is_empty()
                                || names.iter().any(|n| n == &t.name || n == &t.arn);
                            if visible && named {
                                out.push(if op == "ListTrails" {
                                    Value::obj()
                                        .with("TrailARN", t.arn.clone())
                                        .with("Name", t.name.clone())
                                        .with("HomeRegion", t.home_region.clone())
                                } else {
                                    t.describe()
                                });
                            }
                        }
                    });
                }
                let member = if op == "ListTrails" {
                    "Trails"
                } else {
                    "trailList"
                };
                Ok(Value::obj().with(member, Value::List(out)))
            }
            "GetEventSelectors" | "PutEventSelectors" => {
                let raw = input.req_str("TrailName")?;
                let (home, name) = trail_key(cx, &raw)?;
                let new = if op == "PutEventSelectors" {
                    if input.has("AdvancedEventSelectors") {
                        return Err(AwsError::new(
                            400,
                            "UnsupportedOperationException",
                            "This sandbox supports basic event selectors only.",
                        ));
                    }
                    let list = input.list("EventSelectors")?;
                    if list.is_empty() || list.len() > 5 {
                        return Err(AwsError::new(
                            400,
                            "InvalidEventSelectorsException",
                            "You can specify from 1 to 5 event selectors.",
                        ));
                    }
                    let mut out = Vec::new();
                    for e in list {
                        let rw = e.str("ReadWriteType")?.unwrap_or_else(|| "All".into());
                        if !["ReadOnly", "WriteOnly", "All"].contains(&rw.as_str()) {
                            return Err(AwsError::new(
                                400,
                                "InvalidEventSelectorsException",
                                format!(
                                    "ReadWriteType {rw} is not one of ReadOnly, WriteOnly, All."
                                ),
                            ));
                        }
                        out.push(EventSelector {
                            read_write_type: rw,
                            include_management_events: e
                                .bool("IncludeManagementEvents")?
                                .unwrap_or(true),
                        });
                    }
                    Some(out)
                } else {
                    None
                };
                let t = sb.write::<TrailState, _>(&account, &home, |st| {
                    let t = st
                        .trails
                        .get_mut(&name)
                        .ok_or_else(|| trail_not_found(cx, &raw))?;
                    if let Some(n) = &new {
                        t.event_selectors = Some(n.clone());
                    }
                    Ok(t.clone())
                })?;
                cx.resources.push(TrailResource {
                    arn: t.arn.clone(),
                    resource_type: "AWS::CloudTrail::Trail".into(),
                });
                Ok(Value::obj().with("TrailARN", t.arn.clone()).with(
                    "EventSelectors",
                    Value::List(t.selectors().iter().map(EventSelector::to_value).collect()),
                ))
            }
            "GetTrail" | "GetTrailStatus" | "StartLogging" | "StopLogging" | "DeleteTrail" => {
                let raw = input.req_str("Name")?;
                let (home, name) = trail_key(cx, &raw)?;
                let now = cx.now;
                let reading = matches!(op, "GetTrail" | "GetTrailStatus");
                let result = if reading {
                    sb.read::<TrailState, _>(&account, &home, |st| st.trails.get(&name).cloned())
                        .map(|t| (t, Value::Null))
                        .ok_or_else(|| trail_not_found(cx, &raw))
                } else {
                    sb.write::<TrailState, _>(&account, &home, |st| {
                        let t = st
                            .trails
                            .get_mut(&name)
                            .ok_or_else(|| trail_not_found(cx, &raw))?;
                        match op {
                            "StartLogging" => {
                                t.logging = true;
                                t.start_logging = Some(now);
                            }
                            "StopLogging" => {
                                t.logging = false;
                                t.stop_logging = Some(now);
                            }
                            _ => {}
                        }
                        let t = t.clone();
                        if op == "DeleteTrail" {
                            st.trails.remove(&name);
                        }
                        Ok((t, Value::Null))
                    })
                };
                let (t, _) = result?;
                cx.resources.push(TrailResource {
                    arn: t.arn.clone(),
                    resource_type: "AWS::CloudTrail::Trail".into(),
                });
                match op {
                    "GetTrail" => Ok(Value::obj().with("Trail", t.describe())),
                    "GetTrailStatus" => {
                        let fmt = |o: Option<OffsetDateTime>| o.map(crate::util::iso8601);
                        Ok(Value::obj()
                            .with("IsLogging", t.logging)
                            .with("StartLoggingTime", t.start_logging)
                            .with("StopLoggingTime", t.stop_logging)
                            .with("TimeLoggingStarted", fmt(t.start_logging))
                            .with("TimeLoggingStopped", fmt(t.stop_logging)))
                    }
                    _ => Ok(Value::Null),
                }
            }
            _ => Err(cx.unknown(op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names() {
        assert!(valid_trail_name("workshop-trail"));
        assert!(valid_trail_name("a.b_c"));
        assert!(!valid_trail_name("ab"));
        assert!(!valid_trail_name("my--trail"));
        assert!(!valid_trail_name("-trail"));
        assert!(!valid_trail_name("192.168.5.4"));
    }

    #[test]
    fn tokens_are_bound_to_the_query() {
        let h = query_hash(&Some((1, "GenerateDataKey".into())), 0, None);
        let t = encode_token(h, 42);
        assert_eq!(decode_token(&t, h).unwrap(), 42);
        let other = query_hash(&Some((3, "alice".into())), 0, None);
        assert_eq!(
            decode_token(&t, other).unwrap_err().code,
            "InvalidNextTokenException"
        );
        assert!(decode_token("!!!", h).is_err());
    }
}
