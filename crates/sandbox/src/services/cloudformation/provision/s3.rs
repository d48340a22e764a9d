//! `AWS::S3::Bucket`: CreateBucket (with its Region's location constraint) and versioning;
//! deleting a bucket that is not empty fails as on AWS (`DELETE_FAILED`).

use std::collections::BTreeMap;

use http::Method;
use serde_json::Value as J;

use super::{deleted, failed, prop_str, Deleted, Env, Failed};
use crate::services::cloudformation::template::Made;

pub(super) fn create_bucket(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
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

pub(super) fn delete_bucket(env: &Env<'_>, name: &str) -> Result<Deleted, String> {
    deleted(
        env.s3(Method::DELETE, name, &[], String::new()),
        &["NoSuchBucket"],
    )
}
