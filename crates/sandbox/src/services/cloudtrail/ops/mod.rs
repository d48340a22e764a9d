//! CloudTrail's operations, one function each: the event history ([`lookup`]), trails
//! ([`trails`]) and their event selectors ([`selectors`]); and what they share.

pub mod lookup;
pub mod selectors;
pub mod trails;

use super::errors::{invalid_trail_arn, trail_not_found};
use super::state::Trail;
use crate::protocol::AwsError;
use crate::services::{Call, TrailResource};

/// A trail's key in its home region's state, from a name or ARN.
fn trail_key(cx: &Call<'_>, raw: &str) -> Result<(String, String), AwsError> {
    let Some(rest) = raw.strip_prefix("arn:aws:cloudtrail:") else {
        // A name CloudTrail could never have given a trail is refused as such.
        if let Some(e) = trails::trail_name_error(raw) {
            return Err(e);
        }
        return Ok((cx.region.clone(), raw.to_string()));
    };
    let parts: Vec<&str> = rest.splitn(3, ':').collect();
    match parts.as_slice() {
        [region, account, res] if *account == cx.account() => match res.strip_prefix("trail/") {
            Some(name) => Ok((region.to_string(), name.to_string())),
            None => Err(invalid_trail_arn(raw)),
        },
        [_, _, _] => Err(trail_not_found(cx, raw)),
        _ => Err(invalid_trail_arn(raw)),
    }
}

/// Record `t` as the call's CloudTrail resource.
fn touch(cx: &mut Call<'_>, t: &Trail) {
    cx.resources.push(TrailResource {
        arn: t.arn.clone(),
        resource_type: "AWS::CloudTrail::Trail".into(),
    });
}
