//! Creating and deleting each resource type a stack declares, by calling the other services'
//! own operations (their validation, state and CloudTrail records are theirs), as the stack's
//! creator, the way CloudFormation does on a user's behalf. Failures are worded as
//! CloudFormation words them in stack events: the service's message followed by
//! `(Service: …, Status Code: …, Request ID: …)`.

use std::collections::BTreeMap;

use http::{HeaderMap, Method};
use serde_json::{json, Value as J};
use time::OffsetDateTime;

use super::template::Made;
use crate::identity::Caller;
use crate::protocol::input::FormStyle;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Input, Protocol, Value};
use crate::services::{cloudtrail::recorder, Call};
use crate::Sandbox;

/// Who provisions, where, and when.
pub struct Env<'a> {
    pub sb: &'a Sandbox,
    pub caller: Caller,
    pub region: String,
    pub now: OffsetDateTime,
    /// Whether the calls go to CloudTrail (not while a seed is being written).
    pub record: bool,
    pub stack_name: String,
    pub stack_id: String,
    /// Stack-level tags, propagated to resources that take tags.
    pub stack_tags: Vec<(String, String)>,
}

/// A resource that could not be created: what exists of it (to roll back) and why.
#[derive(Debug)]
pub struct Failed {
    pub physical_id: Option<String>,
    pub reason: String,
}

/// How deleting a resource went.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    Done,
    /// Still going (an instance shutting down): look again later.
    Waiting,
}

/// A service call that failed, with the request id CloudFormation quotes.
struct CallError {
    err: AwsError,
    request_id: String,
    service: &'static str,
}

impl CallError {
    fn reason(&self) -> String {
        format!(
            "{} (Service: {}, Status Code: {}, Request ID: {})",
            self.err.message, self.service, self.err.status, self.request_id
        )
    }
    fn code(&self) -> &str {
        &self.err.code
    }
}

fn label(signing_name: &str) -> &'static str {
    match signing_name {
        "s3" => "S3",
        "iam" => "Iam",
        "sns" => "Sns",
        "events" => "EventBridge",
        "ec2" => "Ec2",
        _ => "CloudFormation",
    }
}

impl Env<'_> {
    fn cx(&self, protocol: Protocol, global: bool) -> Call<'_> {
        Call {
            sandbox: self.sb,
            caller: self.caller.clone(),
            region: if global {
                "us-east-1".to_string()
            } else {
                self.region.clone()
            },
            request_id: crate::util::uuid(),
            now: self.now,
            protocol,
            resources: Vec::new(),
            response_elements: None,
        }
    }

    /// Call an operation of a query, EC2 or JSON service with `input`.
    fn call(&self, service: &'static str, op: &str, input: Input) -> Result<Value, CallError> {
        let Some(svc) = self.sb.service(service) else {
            return Err(CallError {
                err: AwsError::internal(format!("service {service} is not served")),
                request_id: String::new(),
                service: label(service),
            });
        };
        let protocol = match service {
            "ec2" => Protocol::Ec2Query,
            "events" => Protocol::AwsJson11,
            _ => Protocol::AwsQuery,
        };
        let mut cx = self.cx(protocol, svc.global());
        let out = svc.call(&mut cx, op, &input);
        if self.record {
            recorder::record(
                &cx,
                svc,
                op,
                &input,
                &out,
                "cloudformation.amazonaws.com",
                "cloudformation.amazonaws.com",
            );
        }
        out.map_err(|err| CallError {
            err,
            request_id: cx.request_id.clone(),
            service: label(service),
        })
    }

    fn query(
        &self,
        service: &'static str,
        op: &str,
        params: Vec<(String, String)>,
    ) -> Result<Value, CallError> {
        let style = if service == "ec2" {
            FormStyle::Ec2
        } else {
            FormStyle::Query
        };
        let map: BTreeMap<String, String> = params.into_iter().collect();
        self.call(service, op, Input::form(map, style))
    }

    /// An S3 bucket-level call (path-style REST).
    fn s3(
        &self,
        method: Method,
        bucket: &str,
        query: &[(&str, &str)],
        body: String,
    ) -> Result<(), CallError> {
        let Some(svc) = self.sb.service("s3") else {
            return Err(CallError {
                err: AwsError::internal("S3 is not served"),
                request_id: String::new(),
                service: "S3",
            });
        };
        let req = RestRequest {
            method,
            bucket: Some(bucket.to_string()),
            key: None,
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: HeaderMap::new(),
            body: body.into(),
        };
        let mut cx = self.cx(Protocol::RestXml, false);
        cx.response_elements = Some(J::Null);
        let Some(op) = svc.rest_operation(&req) else {
            return Err(CallError {
                err: AwsError::internal("S3 operation not served"),
                request_id: cx.request_id.clone(),
                service: "S3",
            });
        };
        let out = svc.call_rest(&mut cx, op, &req);
        if self.record && svc.management_event(op) {
            let input = Input::Json(svc.rest_request_parameters(op, &req));
            let result = match &out {
                Ok(_) => Ok(Value::Null),
                Err(e) => Err(e.clone()),
            };
            recorder::record(
                &cx,
                svc,
                op,
                &input,
                &result,
                "cloudformation.amazonaws.com",
                "cloudformation.amazonaws.com",
            );
        }
        out.map(|_| ()).map_err(|err| CallError {
            err,
            request_id: cx.request_id.clone(),
            service: "S3",
        })
    }

    /// Tags a resource gets: its own, the stack's, and CloudFormation's three.
    fn tags(&self, logical_id: &str, own: &J) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        if let J::Array(a) = own {
            for t in a {
                if let (Some(k), Some(v)) = (t.get("Key").and_then(J::as_str), t.get("Value")) {
                    out.push((k.to_string(), str_of(v).unwrap_or_default()));
                }
            }
        }
        for (k, v) in &self.stack_tags {
            if !out.iter().any(|(have, _)| have == k) {
                out.push((k.clone(), v.clone()));
            }
        }
        out.push((
            "aws:cloudformation:stack-name".into(),
            self.stack_name.clone(),
        ));
        out.push(("aws:cloudformation:stack-id".into(), self.stack_id.clone()));
        out.push((
            "aws:cloudformation:logical-id".into(),
            logical_id.to_string(),
        ));
        out
    }

    /// A name CloudFormation makes up: `<stack>-<LogicalId>-<random>`, cut to `max`.
    pub fn generated_name(&self, logical_id: &str, max: usize, lower: bool) -> String {
        let alphabet: &[u8] = if lower {
            b"abcdefghijklmnopqrstuvwxyz0123456789"
        } else {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        };
        let suffix = crate::util::random_id(alphabet, 13);
        let room = max.saturating_sub(suffix.len() + 2);
        let mut stack: String = self.stack_name.clone();
        let mut logical: String = logical_id.to_string();
        if stack.len() + logical.len() > room {
            // Both parts give up characters, the longer one first, as CloudFormation does.
            let half = room / 2;
            if logical.len() <= half {
                stack.truncate(room - logical.len());
            } else if stack.len() <= half {
                logical.truncate(room - stack.len());
            } else {
                stack.truncate(half);
                logical.truncate(room - half);
            }
        }
        let name = format!("{stack}-{logical}-{suffix}");
        if lower {
            name.to_lowercase()
        } else {
            name
        }
    }
}

fn str_of(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn prop_str(props: &J, name: &str) -> Option<String> {
    props.get(name).and_then(str_of)
}

/// A policy document as the services take it: a JSON string (templates may give an object).
fn document(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn required(logical_id: &str, props: &J, names: &[&str]) -> Result<(), Failed> {
    for n in names {
        if props.get(*n).is_none() {
            return Err(Failed {
                physical_id: None,
                reason: format!(
                    "Properties validation failed for resource {logical_id} with message: #: required key [{n}] not found"
                ),
            });
        }
    }
    Ok(())
}

fn member<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    match v {
        Value::Struct(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
        _ => None,
    }
}

fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::List(i) | Value::NamedList(_, i) | Value::FlatList(i)) => i,
        _ => &[],
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn tag_params(prefix: &str, tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, (k, v)) in tags.iter().enumerate() {
        out.push((format!("{prefix}.{}.Key", i + 1), k.clone()));
        out.push((format!("{prefix}.{}.Value", i + 1), v.clone()));
    }
    out
}

fn failed(physical_id: Option<String>) -> impl FnOnce(CallError) -> Failed {
    move |e| Failed {
        physical_id,
        reason: e.reason(),
    }
}

/// Create one resource from its resolved properties.
pub fn create(env: &Env<'_>, logical_id: &str, kind: &str, props: &J) -> Result<Made, Failed> {
    match kind {
        "AWS::S3::Bucket" => create_bucket(env, logical_id, props),
        "AWS::IAM::Role" => create_role(env, logical_id, props),
        "AWS::IAM::InstanceProfile" => create_profile(env, logical_id, props),
        "AWS::SNS::Topic" => create_topic(env, logical_id, props),
        "AWS::Events::Rule" => create_rule(env, logical_id, props),
        "AWS::EC2::Instance" => create_instance(env, logical_id, props),
        other => Err(Failed {
            physical_id: None,
            reason: format!("Resource type {other} is not supported by this sandbox"),
        }),
    }
}

fn create_bucket(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    let name =
        prop_str(props, "BucketName").unwrap_or_else(|| env.generated_name(logical_id, 63, true));
    let body = if env.region == "us-east-1" {
        String::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
            env.region
        )
    };
    env.s3(Method::PUT, &name, &[], body)
        .map_err(failed(None))?;
    if let Some(status) = props
        .get("VersioningConfiguration")
        .and_then(|v| prop_str(v, "Status"))
    {
        let body = format!(
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status></VersioningConfiguration>"
        );
        env.s3(Method::PUT, &name, &[("versioning", "")], body)
            .map_err(failed(Some(name.clone())))?;
    }
    let region = &env.region;
    Ok(Made {
        attrs: BTreeMap::from([
            ("Arn".into(), format!("arn:aws:s3:::{name}")),
            ("DomainName".into(), format!("{name}.s3.amazonaws.com")),
            (
                "DualStackDomainName".into(),
                format!("{name}.s3.dualstack.{region}.amazonaws.com"),
            ),
            (
                "RegionalDomainName".into(),
                format!("{name}.s3.{region}.amazonaws.com"),
            ),
            (
                "WebsiteURL".into(),
                format!("http://{name}.s3-website-{region}.amazonaws.com"),
            ),
        ]),
        physical_id: name,
    })
}

fn create_role(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    required(logical_id, props, &["AssumeRolePolicyDocument"])?;
    let name =
        prop_str(props, "RoleName").unwrap_or_else(|| env.generated_name(logical_id, 64, false));
    let mut p = vec![
        ("RoleName".to_string(), name.clone()),
        (
            "AssumeRolePolicyDocument".to_string(),
            document(props.get("AssumeRolePolicyDocument").unwrap_or(&J::Null)),
        ),
    ];
    for m in [
        "Path",
        "Description",
        "MaxSessionDuration",
        "PermissionsBoundary",
    ] {
        if let Some(v) = prop_str(props, m) {
            p.push((m.to_string(), v));
        }
    }
    let tags = env.tags(logical_id, props.get("Tags").unwrap_or(&J::Null));
    p.extend(tag_params("Tags.member", &tags));
    let out = env.query("iam", "CreateRole", p).map_err(failed(None))?;
    let role = member(&out, "Role");
    let arn = text(role.and_then(|r| member(r, "Arn"))).unwrap_or_default();
    let id = text(role.and_then(|r| member(r, "RoleId"))).unwrap_or_default();
    let keep = Some(name.clone());
    if let Some(J::Array(arns)) = props.get("ManagedPolicyArns") {
        for a in arns {
            let arn = str_of(a).unwrap_or_default();
            env.query(
                "iam",
                "AttachRolePolicy",
                vec![("RoleName".into(), name.clone()), ("PolicyArn".into(), arn)],
            )
            .map_err(failed(keep.clone()))?;
        }
    }
    if let Some(J::Array(policies)) = props.get("Policies") {
        for pol in policies {
            let pname = prop_str(pol, "PolicyName").unwrap_or_default();
            let doc = document(pol.get("PolicyDocument").unwrap_or(&J::Null));
            env.query(
                "iam",
                "PutRolePolicy",
                vec![
                    ("RoleName".into(), name.clone()),
                    ("PolicyName".into(), pname),
                    ("PolicyDocument".into(), doc),
                ],
            )
            .map_err(failed(keep.clone()))?;
        }
    }
    Ok(Made {
        physical_id: name,
        attrs: BTreeMap::from([("Arn".into(), arn), ("RoleId".into(), id)]),
    })
}

fn create_profile(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    required(logical_id, props, &["Roles"])?;
    let name = prop_str(props, "InstanceProfileName")
        .unwrap_or_else(|| env.generated_name(logical_id, 128, false));
    let mut p = vec![("InstanceProfileName".to_string(), name.clone())];
    if let Some(path) = prop_str(props, "Path") {
        p.push(("Path".into(), path));
    }
    let tags = env.tags(logical_id, &J::Null);
    p.extend(tag_params("Tags.member", &tags));
    let out = env
        .query("iam", "CreateInstanceProfile", p)
        .map_err(failed(None))?;
    let arn =
        text(member(&out, "InstanceProfile").and_then(|p| member(p, "Arn"))).unwrap_or_default();
    if let Some(J::Array(roles)) = props.get("Roles") {
        for r in roles {
            env.query(
                "iam",
                "AddRoleToInstanceProfile",
                vec![
                    ("InstanceProfileName".into(), name.clone()),
                    ("RoleName".into(), str_of(r).unwrap_or_default()),
                ],
            )
            .map_err(failed(Some(name.clone())))?;
        }
    }
    Ok(Made {
        physical_id: name,
        attrs: BTreeMap::from([("Arn".into(), arn)]),
    })
}

fn create_topic(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    let name =
        prop_str(props, "TopicName").unwrap_or_else(|| env.generated_name(logical_id, 256, false));
    let mut p = vec![("Name".to_string(), name.clone())];
    let mut n = 0;
    for (member_name, attr) in [
        ("DisplayName", "DisplayName"),
        ("KmsMasterKeyId", "KmsMasterKeyId"),
        ("FifoTopic", "FifoTopic"),
    ] {
        if let Some(v) = prop_str(props, member_name) {
            n += 1;
            p.push((format!("Attributes.entry.{n}.key"), attr.to_string()));
            p.push((format!("Attributes.entry.{n}.value"), v));
        }
    }
    let tags = env.tags(logical_id, props.get("Tags").unwrap_or(&J::Null));
    p.extend(tag_params("Tags.member", &tags));
    let out = env.query("sns", "CreateTopic", p).map_err(failed(None))?;
    let arn = text(member(&out, "TopicArn")).unwrap_or_default();
    if let Some(J::Array(subs)) = props.get("Subscription") {
        for s in subs {
            env.query(
                "sns",
                "Subscribe",
                vec![
                    ("TopicArn".into(), arn.clone()),
                    (
                        "Protocol".into(),
                        prop_str(s, "Protocol").unwrap_or_default(),
                    ),
                    (
                        "Endpoint".into(),
                        prop_str(s, "Endpoint").unwrap_or_default(),
                    ),
                ],
            )
            .map_err(failed(Some(arn.clone())))?;
        }
    }
    Ok(Made {
        attrs: BTreeMap::from([("TopicArn".into(), arn.clone()), ("TopicName".into(), name)]),
        physical_id: arn,
    })
}

fn create_rule(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    let name = prop_str(props, "Name").unwrap_or_else(|| env.generated_name(logical_id, 64, false));
    let mut input = json!({ "Name": name, "State": prop_str(props, "State").unwrap_or_else(|| "ENABLED".into()) });
    if let Some(p) = props.get("EventPattern") {
        input["EventPattern"] = J::from(document(p));
    }
    for m in [
        "ScheduleExpression",
        "Description",
        "EventBusName",
        "RoleArn",
    ] {
        if let Some(v) = prop_str(props, m) {
            input[m] = J::from(v);
        }
    }
    let out = env
        .call("events", "PutRule", Input::Json(input))
        .map_err(failed(None))?;
    let arn = text(member(&out, "RuleArn")).unwrap_or_default();
    if let Some(J::Array(targets)) = props.get("Targets") {
        let list: Vec<J> = targets
            .iter()
            .map(|t| {
                let mut o = json!({"Id": prop_str(t, "Id").unwrap_or_default(), "Arn": prop_str(t, "Arn").unwrap_or_default()});
                for m in ["Input", "InputPath", "RoleArn"] {
                    if let Some(v) = prop_str(t, m) {
                        o[m] = J::from(v);
                    }
                }
                o
            })
            .collect();
        let out = env
            .call(
                "events",
                "PutTargets",
                Input::Json(json!({"Rule": name, "Targets": list})),
            )
            .map_err(failed(Some(name.clone())))?;
        if let Some(Value::Int(n)) = member(&out, "FailedEntryCount") {
            if *n > 0 {
                return Err(Failed {
                    physical_id: Some(name),
                    reason: format!("{n} target(s) could not be added to the rule"),
                });
            }
        }
    }
    Ok(Made {
        physical_id: name,
        attrs: BTreeMap::from([("Arn".into(), arn)]),
    })
}

fn create_instance(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
    required(logical_id, props, &["ImageId"])?;
    let mut p = vec![
        (
            "ImageId".to_string(),
            prop_str(props, "ImageId").unwrap_or_default(),
        ),
        ("MinCount".to_string(), "1".to_string()),
        ("MaxCount".to_string(), "1".to_string()),
    ];
    for m in ["InstanceType", "KeyName", "SubnetId"] {
        if let Some(v) = prop_str(props, m) {
            p.push((m.to_string(), v));
        }
    }
    if let Some(profile) = prop_str(props, "IamInstanceProfile") {
        let key = if profile.starts_with("arn:") {
            "IamInstanceProfile.Arn"
        } else {
            "IamInstanceProfile.Name"
        };
        p.push((key.to_string(), profile));
    }
    // EC2 refuses `aws:` keys from callers; CloudFormation's own tags are added as AWS adds
    // them, from the inside, once the instance exists.
    let (system, tags): (Vec<_>, Vec<_>) = env
        .tags(logical_id, props.get("Tags").unwrap_or(&J::Null))
        .into_iter()
        .partition(|(k, _)| k.starts_with("aws:"));
    if !tags.is_empty() {
        p.push(("TagSpecification.1.ResourceType".into(), "instance".into()));
        p.extend(tag_params("TagSpecification.1.Tag", &tags));
    }
    let out = env.query("ec2", "RunInstances", p).map_err(failed(None))?;
    let inst = items(member(&out, "instancesSet"))
        .first()
        .cloned()
        .unwrap_or(Value::Null);
    let id = text(member(&inst, "instanceId")).unwrap_or_default();
    env.sb
        .write::<crate::services::ec2::Ec2State, _>(&env.caller.account, &env.region, |st| {
            if let Some(i) = st.instances.get_mut(&id) {
                i.tags.extend(system);
            }
            Ok(())
        })
        .map_err(|e| Failed {
            physical_id: Some(id.clone()),
            reason: e.message,
        })?;
    let mut attrs = BTreeMap::new();
    for (attr, m) in [
        ("PrivateIp", "privateIpAddress"),
        ("PrivateDnsName", "privateDnsName"),
        ("PublicIp", "ipAddress"),
        ("PublicDnsName", "dnsName"),
    ] {
        if let Some(v) = text(member(&inst, m)) {
            attrs.insert(attr.to_string(), v);
        }
    }
    if let Some(az) = text(member(&inst, "placement").and_then(|p| member(p, "availabilityZone"))) {
        attrs.insert("AvailabilityZone".into(), az);
    }
    Ok(Made {
        physical_id: id,
        attrs,
    })
}

/// Delete one resource. Already gone counts as deleted.
pub fn delete(env: &Env<'_>, kind: &str, physical_id: &str, props: &J) -> Result<Deleted, String> {
    let gone = |e: &CallError, codes: &[&str]| codes.contains(&e.code());
    match kind {
        "AWS::S3::Bucket" => match env.s3(Method::DELETE, physical_id, &[], String::new()) {
            Ok(()) => Ok(Deleted::Done),
            Err(e) if gone(&e, &["NoSuchBucket"]) => Ok(Deleted::Done),
            Err(e) => Err(e.reason()),
        },
        "AWS::IAM::Role" => {
            let role = || ("RoleName".to_string(), physical_id.to_string());
            if let Some(J::Array(arns)) = props.get("ManagedPolicyArns") {
                for a in arns {
                    match env.query(
                        "iam",
                        "DetachRolePolicy",
                        vec![role(), ("PolicyArn".into(), str_of(a).unwrap_or_default())],
                    ) {
                        Ok(_) => {}
                        Err(e) if gone(&e, &["NoSuchEntity"]) => {}
                        Err(e) => return Err(e.reason()),
                    }
                }
            }
            if let Some(J::Array(policies)) = props.get("Policies") {
                for p in policies {
                    let name = prop_str(p, "PolicyName").unwrap_or_default();
                    match env.query(
                        "iam",
                        "DeleteRolePolicy",
                        vec![role(), ("PolicyName".into(), name)],
                    ) {
                        Ok(_) => {}
                        Err(e) if gone(&e, &["NoSuchEntity"]) => {}
                        Err(e) => return Err(e.reason()),
                    }
                }
            }
            match env.query("iam", "DeleteRole", vec![role()]) {
                Ok(_) => Ok(Deleted::Done),
                Err(e) if gone(&e, &["NoSuchEntity"]) => Ok(Deleted::Done),
                Err(e) => Err(e.reason()),
            }
        }
        "AWS::IAM::InstanceProfile" => {
            let name = ("InstanceProfileName".to_string(), physical_id.to_string());
            let out = match env.query("iam", "GetInstanceProfile", vec![name.clone()]) {
                Ok(v) => v,
                Err(e) if gone(&e, &["NoSuchEntity"]) => return Ok(Deleted::Done),
                Err(e) => return Err(e.reason()),
            };
            let roles: Vec<String> =
                items(member(&out, "InstanceProfile").and_then(|p| member(p, "Roles")))
                    .iter()
                    .filter_map(|r| text(member(r, "RoleName")))
                    .collect();
            for r in roles {
                match env.query(
                    "iam",
                    "RemoveRoleFromInstanceProfile",
                    vec![name.clone(), ("RoleName".into(), r)],
                ) {
                    Ok(_) => {}
                    Err(e) if gone(&e, &["NoSuchEntity"]) => {}
                    Err(e) => return Err(e.reason()),
                }
            }
            match env.query("iam", "DeleteInstanceProfile", vec![name]) {
                Ok(_) => Ok(Deleted::Done),
                Err(e) if gone(&e, &["NoSuchEntity"]) => Ok(Deleted::Done),
                Err(e) => Err(e.reason()),
            }
        }
        "AWS::SNS::Topic" => match env.query(
            "sns",
            "DeleteTopic",
            vec![("TopicArn".into(), physical_id.to_string())],
        ) {
            Ok(_) => Ok(Deleted::Done),
            Err(e) if gone(&e, &["NotFound"]) => Ok(Deleted::Done),
            Err(e) => Err(e.reason()),
        },
        "AWS::Events::Rule" => {
            let out = match env.call(
                "events",
                "ListTargetsByRule",
                Input::Json(json!({"Rule": physical_id})),
            ) {
                Ok(v) => v,
                Err(e) if gone(&e, &["ResourceNotFoundException"]) => return Ok(Deleted::Done),
                Err(e) => return Err(e.reason()),
            };
            let ids: Vec<String> = items(member(&out, "Targets"))
                .iter()
                .filter_map(|t| text(member(t, "Id")))
                .collect();
            if !ids.is_empty() {
                if let Err(e) = env.call(
                    "events",
                    "RemoveTargets",
                    Input::Json(json!({"Rule": physical_id, "Ids": ids})),
                ) {
                    if !gone(&e, &["ResourceNotFoundException"]) {
                        return Err(e.reason());
                    }
                }
            }
            match env.call(
                "events",
                "DeleteRule",
                Input::Json(json!({"Name": physical_id})),
            ) {
                Ok(_) => Ok(Deleted::Done),
                Err(e) if gone(&e, &["ResourceNotFoundException"]) => Ok(Deleted::Done),
                Err(e) => Err(e.reason()),
            }
        }
        "AWS::EC2::Instance" => {
            let id = vec![("InstanceId.1".to_string(), physical_id.to_string())];
            let state = |out: &Value| -> Option<String> {
                items(member(out, "reservationSet"))
                    .iter()
                    .flat_map(|r| items(member(r, "instancesSet")).iter())
                    .find_map(|i| text(member(i, "instanceState").and_then(|s| member(s, "name"))))
            };
            let out = match env.query("ec2", "DescribeInstances", id.clone()) {
                Ok(v) => v,
                Err(e)
                    if gone(
                        &e,
                        &["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"],
                    ) =>
                {
                    return Ok(Deleted::Done)
                }
                Err(e) => return Err(e.reason()),
            };
            match state(&out).as_deref() {
                None | Some("terminated") => return Ok(Deleted::Done),
                Some("shutting-down") => return Ok(Deleted::Waiting),
                Some(_) => {}
            }
            match env.query("ec2", "TerminateInstances", id.clone()) {
                Ok(_) => {}
                Err(e) if gone(&e, &["InvalidInstanceID.NotFound"]) => return Ok(Deleted::Done),
                Err(e) => return Err(e.reason()),
            }
            // A termination that takes no time (the instant latency profile) is over already.
            match env.query("ec2", "DescribeInstances", id) {
                Ok(out) => match state(&out).as_deref() {
                    None | Some("terminated") => Ok(Deleted::Done),
                    Some(_) => Ok(Deleted::Waiting),
                },
                Err(e) if gone(&e, &["InvalidInstanceID.NotFound"]) => Ok(Deleted::Done),
                Err(e) => Err(e.reason()),
            }
        }
        other => Err(format!(
            "Resource type {other} is not supported by this sandbox"
        )),
    }
}
