//! `AWS::SNS::Topic` with its attributes and subscriptions.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{deleted, failed, member, prop_str, tag_params, text, Deleted, Env, Failed};
use crate::services::cloudformation::template::Made;

pub(super) fn create_topic(env: &Env<'_>, logical_id: &str, props: &J) -> Result<Made, Failed> {
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

pub(super) fn delete_topic(env: &Env<'_>, arn: &str) -> Result<Deleted, String> {
    let topic = vec![("TopicArn".into(), arn.to_string())];
    deleted(env.query("sns", "DeleteTopic", topic), &["NotFound"])
}
