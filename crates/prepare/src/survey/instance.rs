//! The instance (tagged `KMSWorkshop-Instance`, with the workshop's profile, or stop), its
//! `WorkshopEBS` volume, and what a launch needs: the current Amazon Linux AMI from AWS's public
//! SSM parameter, and the smallest instance type the region's free tier covers.

use aws_sdk_ec2::types::{Filter, Instance, Volume};

use kms_workshop_cleanup::{names, pages, Executor, ResourceKind};
use kms_workshop_names::starting::AMI_PARAMETER;

use super::{wrong, Part, Survey};
use crate::PrepareError;

/// Instance states in which the workshop instance still counts as there.
const LIVE: [&str; 4] = ["pending", "running", "stopping", "stopped"];

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

/// The live instances tagged as the workshop's.
pub(crate) async fn workshop_instances(
    ec2: &aws_sdk_ec2::Client,
    ex: &Executor,
) -> Result<Vec<Instance>, kms_workshop_cleanup::AwsFailure> {
    let pages = pages!(
        ex.pace(),
        "DescribeInstances",
        ec2.describe_instances()
            .filters(filter("tag:Name", &[names::INSTANCE_NAME_TAG]))
            .filters(filter("instance-state-name", &LIVE)),
        next_token
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.reservations())
        .flat_map(|r| r.instances())
        .cloned()
        .collect())
}

/// The `WorkshopEBS` volumes that are not being deleted.
pub(crate) async fn workshop_volumes(
    ec2: &aws_sdk_ec2::Client,
    ex: &Executor,
) -> Result<Vec<Volume>, kms_workshop_cleanup::AwsFailure> {
    let pages = pages!(
        ex.pace(),
        "DescribeVolumes",
        ec2.describe_volumes()
            .filters(filter("tag:Name", &[names::VOLUME_NAME_TAG]))
            .filters(filter("status", &["creating", "available", "in-use"])),
        next_token
    )
    .await?;
    Ok(pages.iter().flat_map(|p| p.volumes()).cloned().collect())
}

/// The profile associated with `instance` (its ARN), if any.
pub(crate) async fn associated_profile(
    ec2: &aws_sdk_ec2::Client,
    ex: &Executor,
    instance: &str,
) -> Result<Option<String>, kms_workshop_cleanup::AwsFailure> {
    let out = ex
        .pace()
        .send("DescribeIamInstanceProfileAssociations", || {
            ec2.describe_iam_instance_profile_associations()
                .filters(filter("instance-id", &[instance]))
                .filters(filter("state", &["associating", "associated"]))
                .send()
        })
        .await?;
    Ok(out
        .iam_instance_profile_associations()
        .iter()
        .find_map(|a| a.iam_instance_profile().and_then(|p| p.arn()))
        .map(str::to_string))
}

/// The instance and its volume: right (kept), missing, or wrong (stop).
pub(super) async fn instance(ex: &Executor, s: &mut Survey) -> Result<(), PrepareError> {
    let Some(rc) = ex.clients().region(&s.region) else {
        return Ok(());
    };
    let ec2 = &rc.ec2;
    let instances = workshop_instances(ec2, ex).await?;
    if instances.len() > 1 {
        let ids: Vec<&str> = instances.iter().filter_map(|i| i.instance_id()).collect();
        return Err(wrong(
            format!("instances {}", ids.join(", ")),
            format!(
                "{} instances are tagged {}; the chapter has one: terminate the others",
                ids.len(),
                names::INSTANCE_NAME_TAG
            ),
        ));
    }
    let Some(inst) = instances.first() else {
        return Ok(());
    };
    let id = inst.instance_id().unwrap_or_default().to_string();
    let what = format!("instance {id} ({})", names::INSTANCE_NAME_TAG);
    let profile = associated_profile(ec2, ex, &id).await?;
    let want = format!("instance-profile/{}", names::PROFILE);
    if !profile.as_deref().is_some_and(|p| p.ends_with(&want)) {
        return Err(wrong(
            what,
            format!(
                "it runs without the {} instance profile; terminate it (kms-workshop cleanup) or associate the profile",
                names::PROFILE
            ),
        ));
    }
    let arn = format!("arn:aws:ec2:{}:{}:instance/{id}", s.region, s.account);
    s.add(Part::Instance, what, Some((arn, ResourceKind::Ec2Instance)));
    // The imported key, when the survey found it: the volume must be encrypted under it.
    let imported = s.present.iter().find_map(|p| match (&p.part, &p.resource) {
        (Part::Key { role }, Some((arn, ResourceKind::KmsKey)))
            if role == kms_workshop_names::starting::KeyRole::Imported.as_str() =>
        {
            Some(arn.clone())
        }
        _ => None,
    });
    for v in workshop_volumes(ec2, ex).await? {
        let vid = v.volume_id().unwrap_or_default().to_string();
        let attached = v
            .attachments()
            .iter()
            .any(|a| a.instance_id() == Some(id.as_str()));
        if !attached {
            // Not the chapter's volume (that one is attached to the instance): left alone.
            continue;
        }
        let under = v.kms_key_id().unwrap_or_default();
        if !v.encrypted().unwrap_or(false) || imported.as_deref().is_some_and(|k| k != under) {
            return Err(wrong(
                format!("volume {vid} ({})", names::VOLUME_NAME_TAG),
                format!(
                    "it is attached to {id} but not encrypted with {}; detach it (kms-workshop cleanup)",
                    names::IMPORTED_ALIAS
                ),
            ));
        }
        let arn = format!("arn:aws:ec2:{}:{}:volume/{vid}", s.region, s.account);
        s.add(
            Part::Volume,
            format!("volume {vid} ({}) attached to {id}", names::VOLUME_NAME_TAG),
            Some((arn, ResourceKind::Ec2Volume)),
        );
    }
    Ok(())
}

/// The current Amazon Linux AMI of `region`, as AWS's public SSM parameter names it.
pub(super) async fn current_ami(
    sdk: &aws_config::SdkConfig,
    region: &str,
) -> Result<String, PrepareError> {
    let conf = aws_sdk_ssm::config::Builder::from(sdk)
        .region(aws_config::Region::new(region.to_string()))
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    let ssm = aws_sdk_ssm::Client::from_conf(conf);
    let out = kms_workshop_cleanup::Pace::new(1, 10.0, 1.0)
        .send("GetParameter", || {
            ssm.get_parameter().name(AMI_PARAMETER).send()
        })
        .await?;
    out.parameter()
        .and_then(|p| p.value())
        .map(str::to_string)
        .ok_or_else(|| wrong(AMI_PARAMETER, "SSM answered without a value"))
}

/// The smallest (memory, then vCPUs, then name) instance type the region's free tier covers.
pub(super) async fn smallest_free_tier(
    ex: &Executor,
    region: &str,
) -> Result<String, PrepareError> {
    let Some(rc) = ex.clients().region(region) else {
        return Err(wrong(format!("region {region}"), "no clients for it"));
    };
    let pages = pages!(
        ex.pace(),
        "DescribeInstanceTypes",
        rc.ec2
            .describe_instance_types()
            .filters(filter("free-tier-eligible", &["true"]))
            // The AMI parameter names an x86_64 image.
            .filters(filter("processor-info.supported-architecture", &["x86_64"])),
        next_token
    )
    .await?;
    pages
        .iter()
        .flat_map(|p| p.instance_types())
        .filter_map(|t| {
            let name = t.instance_type()?.as_str().to_string();
            let mem = t
                .memory_info()
                .and_then(|m| m.size_in_mib())
                .unwrap_or(i64::MAX);
            let cpus = t
                .v_cpu_info()
                .and_then(|c| c.default_v_cpus())
                .unwrap_or(i32::MAX);
            Some((mem, cpus, name))
        })
        .min()
        .map(|(_, _, name)| name)
        .ok_or_else(|| {
            wrong(
                format!("region {region}"),
                "it offers no instance type the free tier covers: give --instance-type TYPE",
            )
        })
}
