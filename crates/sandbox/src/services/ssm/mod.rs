//! SSM Parameter Store (awsJson1_1), only as far as AWS's public parameters go: GetParameter
//! and GetParameters on `/aws/service/ami-amazon-linux-latest/…`, which is how AWS recommends
//! finding the current Amazon Linux AMI (and how `kms-workshop prepare` finds it). The
//! parameters are the region's, the same for every account; an account's own parameters are
//! not served (ParameterNotFound).

use time::macros::datetime;

use super::{About, Call, Service};
use crate::protocol::{AwsError, Input, Protocol, Value};

pub struct Ssm;

const ABOUT: About = About::new("ssm", "ssm.amazonaws.com", Protocol::AwsJson11)
    .read_only(&["Get", "Describe", "List"]);

impl Service for Ssm {
    fn about(&self) -> &'static About {
        &ABOUT
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError> {
        match op {
            "GetParameter" => get_parameter(cx, input),
            "GetParameters" => get_parameters(cx, input),
            _ => Err(cx.unknown(op)),
        }
    }
}

/// The public AMI parameters: name suffix and the AMI of us-east-1 (other regions get an id
/// derived from the region, as each region has its own copy of an image).
const AMI_PARAMETERS: &[(&str, &str)] = &[
    ("al2023-ami-kernel-default-x86_64", super::ec2::WORKSHOP_AMI),
    ("al2023-ami-kernel-default-arm64", "ami-0f3c9c466bb525749"),
    ("amzn2-ami-hvm-x86_64-gp2", "ami-0b5eea76982371e91"),
];
const AMI_PREFIX: &str = "/aws/service/ami-amazon-linux-latest/";

/// The value of public parameter `name` in `region`, if there is one.
fn public_value(name: &str, region: &str) -> Option<String> {
    let suffix = name.strip_prefix(AMI_PREFIX)?;
    let (_, ami) = AMI_PARAMETERS.iter().find(|(s, _)| *s == suffix)?;
    if region == "us-east-1" {
        return Some(ami.to_string());
    }
    let digest = crate::util::hmac_sha256(region.as_bytes(), &[ami.as_bytes()]);
    Some(format!("ami-{}", &hex::encode(digest)[..17]))
}

fn parameter_value(name: &str, value: String, region: &str) -> Value {
    Value::obj()
        .with("Name", name)
        .with("Type", "String")
        .with("Value", value)
        .with("Version", 118i64)
        .with("LastModifiedDate", datetime!(2026-11-20 19:02:11 UTC))
        .with("ARN", format!("arn:aws:ssm:{region}::parameter{name}"))
        .with("DataType", "text")
}

fn not_found() -> AwsError {
    AwsError::new(400, "ParameterNotFound", "")
}

fn get_parameter(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = input.req_str("Name")?;
    let value = public_value(&name, &cx.region).ok_or_else(not_found)?;
    Ok(Value::obj().with("Parameter", parameter_value(&name, value, &cx.region)))
}

fn get_parameters(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let names = input.str_list("Names")?;
    let mut found = Vec::new();
    let mut invalid = Vec::new();
    for n in names {
        match public_value(&n, &cx.region) {
            Some(v) => found.push(parameter_value(&n, v, &cx.region)),
            None => invalid.push(Value::from(n)),
        }
    }
    Ok(Value::obj()
        .with("Parameters", Value::List(found))
        .with("InvalidParameters", Value::List(invalid)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_amazon_linux_ami_is_a_public_parameter_of_every_region() {
        let name = kms_workshop_names::starting::AMI_PARAMETER;
        assert_eq!(
            public_value(name, "us-east-1").as_deref(),
            Some(super::super::ec2::WORKSHOP_AMI)
        );
        let other = public_value(name, "eu-west-1").expect("a value");
        assert!(other.starts_with("ami-") && other.len() == 21, "{other}");
        assert_ne!(public_value(name, "eu-west-2"), Some(other));
        assert_eq!(public_value("/aws/service/nothing", "us-east-1"), None);
        assert_eq!(public_value("/my/own", "us-east-1"), None);
    }
}
