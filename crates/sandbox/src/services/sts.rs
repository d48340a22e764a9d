//! STS (awsQuery): `GetCallerIdentity`, which tells learners and the runner who they are.

use http::HeaderMap;

use super::{Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub struct Sts;

impl Service for Sts {
    fn signing_name(&self) -> &'static str {
        "sts"
    }
    fn event_source(&self) -> &'static str {
        "sts.amazonaws.com"
    }
    fn xmlns(&self) -> &'static str {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    }
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        Protocol::AwsQuery
    }
    fn global(&self) -> bool {
        true
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, _input: &Input) -> Result<Value, AwsError> {
        match op {
            "GetCallerIdentity" => Ok(Value::obj()
                .with("UserId", cx.caller.user_id())
                .with("Account", cx.caller.account.clone())
                .with("Arn", cx.caller.arn())),
            _ => Err(cx.unknown(op)),
        }
    }
}
