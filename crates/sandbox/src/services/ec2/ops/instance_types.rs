//! DescribeInstanceTypes over a small catalogue of the types the workshop may meet: how
//! `kms-workshop prepare` finds the smallest type the region's free tier covers
//! (`free-tier-eligible` filter), as it does on AWS.

use super::filters::{filters, one, page_params, paginate, passes};
use super::{id_list, valid_instance_type};
use crate::protocol::{AwsError, Input, Value};
use crate::services::ec2::errors::err;
use crate::services::ec2::state::Ec2State;
use crate::services::Call;

/// One instance type: name, vCPUs, memory (MiB), free-tier eligible, architecture.
struct TypeInfo {
    name: &'static str,
    vcpus: i64,
    memory_mib: i64,
    free_tier: bool,
    arch: &'static str,
}

const fn t(name: &'static str, vcpus: i64, memory_mib: i64, free_tier: bool) -> TypeInfo {
    let arch = if name.as_bytes()[2] == b'g' {
        "arm64"
    } else {
        "x86_64"
    };
    TypeInfo {
        name,
        vcpus,
        memory_mib,
        free_tier,
        arch,
    }
}

/// The catalogue, AWS's figures for each type; t2.micro and t3.micro are the free tier's.
const CATALOGUE: &[TypeInfo] = &[
    t("t2.nano", 1, 512, false),
    t("t2.micro", 1, 1024, true),
    t("t2.small", 1, 2048, false),
    t("t2.medium", 2, 4096, false),
    t("t3.nano", 2, 512, false),
    t("t3.micro", 2, 1024, true),
    t("t3.small", 2, 2048, false),
    t("t3.medium", 2, 4096, false),
    t("t4g.micro", 2, 1024, false),
    t("t4g.small", 2, 2048, false),
    t("m5.large", 2, 8192, false),
    t("c5.large", 2, 4096, false),
];

fn filter_values(i: &TypeInfo, name: &str) -> Option<Vec<String>> {
    match name {
        "instance-type" => one(i.name),
        "free-tier-eligible" => one(i.free_tier.to_string()),
        "current-generation" => one((!i.name.starts_with("t2.")).to_string()),
        "vcpu-info.default-vcpus" => one(i.vcpus.to_string()),
        "memory-info.size-in-mib" => one(i.memory_mib.to_string()),
        "processor-info.supported-architecture" => one(i.arch),
        _ => None,
    }
}

fn type_value(i: &TypeInfo) -> Value {
    Value::obj()
        .with("instanceType", i.name)
        .with("currentGeneration", !i.name.starts_with("t2."))
        .with("freeTierEligible", i.free_tier)
        .with(
            "supportedUsageClasses",
            Value::List(vec![Value::from("on-demand"), Value::from("spot")]),
        )
        .with(
            "processorInfo",
            Value::obj().with(
                "supportedArchitectures",
                Value::List(vec![Value::from(i.arch)]),
            ),
        )
        .with("vCpuInfo", Value::obj().with("defaultVCpus", i.vcpus))
        .with("memoryInfo", Value::obj().with("sizeInMiB", i.memory_mib))
        .with("hypervisor", "nitro")
}

pub(crate) fn describe_instance_types(
    _cx: &mut Call<'_>,
    _st: &Ec2State,
    input: &Input,
) -> Result<Value, AwsError> {
    let names = id_list(input, "InstanceType")?;
    for n in &names {
        if !valid_instance_type(n) || !CATALOGUE.iter().any(|i| i.name == n) {
            return Err(err(
                "InvalidInstanceType",
                format!("The following supplied instance types do not exist: [{n}]"),
            ));
        }
    }
    let page = page_params(input, 5, 100)?;
    let fs = filters(input)?;
    let mut items = Vec::new();
    for i in CATALOGUE {
        if !names.is_empty() && !names.iter().any(|n| n == i.name) {
            continue;
        }
        if passes(&fs, |n| filter_values(i, n))? {
            items.push((i.name.to_string(), type_value(i)));
        }
    }
    let (list, next) = paginate(items, &page);
    Ok(Value::obj()
        .with("instanceTypeSet", Value::List(list))
        .with("nextToken", next))
}
