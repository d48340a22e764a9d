//! Creating and deleting each resource type a stack declares, by calling the other services'
//! own operations (their validation, state and CloudTrail records are theirs), as the stack's
//! creator, the way CloudFormation does on a user's behalf. Failures are worded as
//! CloudFormation words them in stack events: the service's message followed by
//! `(Service: …, Status Code: …, Request ID: …)`.

use std::collections::BTreeMap;

use http::{HeaderMap, Method};
use serde_json::Value as J;
use time::OffsetDateTime;

mod ec2;
mod events;
mod iam;
mod s3;
mod sns;

use super::template::{as_str_value, Made};
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
    /// Whether the call failed because what it acts on is gone already (one of `codes`).
    fn gone(&self, codes: &[&str]) -> bool {
        codes.contains(&self.err.code.as_str())
    }
}

/// A deleting call's outcome: done, also when what it deletes is gone already (`codes`).
fn deleted<T>(result: Result<T, CallError>, codes: &[&str]) -> Result<Deleted, String> {
    match result {
        Ok(_) => Ok(Deleted::Done),
        Err(e) if e.gone(codes) => Ok(Deleted::Done),
        Err(e) => Err(e.reason()),
    }
}

/// A call on the way to deleting something: what it acts on being gone is no failure.
fn tolerate(result: Result<Value, CallError>, codes: &[&str]) -> Result<(), String> {
    deleted(result, codes).map(|_| ())
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
            seeding: false,
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
        // CloudFormation's calls meet the same front end as anyone's.
        let out =
            crate::validate::check(svc, op, &input).and_then(|()| svc.call(&mut cx, op, &input));
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
                    out.push((k.to_string(), as_str_value(v).unwrap_or_default()));
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

fn prop_str(props: &J, name: &str) -> Option<String> {
    props.get(name).and_then(as_str_value)
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
        "AWS::S3::Bucket" => s3::create_bucket(env, logical_id, props),
        "AWS::IAM::Role" => iam::create_role(env, logical_id, props),
        "AWS::IAM::InstanceProfile" => iam::create_profile(env, logical_id, props),
        "AWS::SNS::Topic" => sns::create_topic(env, logical_id, props),
        "AWS::Events::Rule" => events::create_rule(env, logical_id, props),
        "AWS::EC2::Instance" => ec2::create_instance(env, logical_id, props),
        other => Err(Failed {
            physical_id: None,
            reason: format!("Resource type {other} is not supported by this sandbox"),
        }),
    }
}

/// Delete one resource. Already gone counts as deleted.
pub fn delete(env: &Env<'_>, kind: &str, physical_id: &str, props: &J) -> Result<Deleted, String> {
    match kind {
        "AWS::S3::Bucket" => s3::delete_bucket(env, physical_id),
        "AWS::IAM::Role" => iam::delete_role(env, physical_id, props),
        "AWS::IAM::InstanceProfile" => iam::delete_profile(env, physical_id),
        "AWS::SNS::Topic" => sns::delete_topic(env, physical_id),
        "AWS::Events::Rule" => events::delete_rule(env, physical_id),
        "AWS::EC2::Instance" => ec2::delete_instance(env, physical_id),
        other => Err(format!(
            "Resource type {other} is not supported by this sandbox"
        )),
    }
}
