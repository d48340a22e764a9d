//! SNS's operations, one function each, grouped by what they act on.

pub(super) mod publish;
pub(super) mod subscriptions;
pub(super) mod tags;
pub(super) mod topics;

use super::errors::invalid;
use crate::common::paging::by_offset;
use crate::protocol::{AwsError, Input, Value};
use crate::services::{Call, TrailResource};

/// Note the topic a call acts on, for CloudTrail.
fn touches_topic(cx: &mut Call<'_>, arn: &str) {
    cx.resources.push(TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::SNS::Topic".into(),
    });
}

/// The topic or subscription ARN in `member` (required), refused as SNS refuses one that is
/// not an ARN at all, before looking for what it names.
fn arn_member(input: &Input, member: &str) -> Result<String, AwsError> {
    let arn = input
        .str(member)?
        .ok_or_else(|| super::errors::missing(member))?;
    checked_arn(member, arn)
}

/// `arn` unless it has fewer than ARN's 6 elements.
fn checked_arn(member: &str, arn: String) -> Result<String, AwsError> {
    let n = arn.split(':').count();
    if n < 6 {
        return Err(invalid(format!(
            "{member} Reason: An ARN must have at least 6 elements, not {n}"
        )));
    }
    Ok(arn)
}

/// One page of a list, 100 at a time, from the opaque numeric `NextToken`.
fn page(input: &Input, items: &[Value]) -> Result<(Vec<Value>, Option<String>), AwsError> {
    let token = input.str("NextToken")?;
    by_offset(items, token.as_deref(), 100, || invalid("NextToken"))
}
