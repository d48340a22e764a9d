//! A prepared account and the sandbox's `--seed workshop` account hold the same starting
//! state: keys (origin, state, expiration model, tags, aliases), the stack's resources, what is
//! attached to the role and the customer policies' documents, the instance and its profile, the
//! volume, the bucket's objects. Ids and times differ; nothing else may.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use kms_workshop_cleanup::{names, Clients, ExecOptions, Executor, Pace};
use kms_workshop_prepare::{run, Options};
use kms_workshop_sandbox::{seed, Config};
use kms_workshop_testkit as testkit;
use serde_json::{json, Value};

/// The description of the key `id` (how a key is named in the structure: ids differ).
async fn describe(kms: &aws_sdk_kms::Client, id: &str) -> Option<aws_sdk_kms::types::KeyMetadata> {
    kms.describe_key()
        .key_id(id)
        .send()
        .await
        .ok()?
        .key_metadata
}

/// The workshop's keys by description: origin, state, expiration model, spec, tags, aliases.
async fn keys(cfg: &SdkConfig) -> Value {
    let kms = aws_sdk_kms::Client::new(cfg);
    let aliases = kms.list_aliases().send().await.expect("aliases");
    let mut out = BTreeMap::new();
    for k in kms.list_keys().send().await.expect("keys").keys() {
        let id = k.key_id().unwrap_or_default();
        let Some(m) = describe(&kms, id).await else {
            continue;
        };
        let tags: BTreeMap<String, String> = kms
            .list_resource_tags()
            .key_id(id)
            .send()
            .await
            .expect("tags")
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
            .collect();
        // The run that made a key pending deletion stays on it (an id, like the key's own).
        let mut tags = tags;
        tags.remove("kmsworkshop-run");
        if tags.get(names::TAG_KEY).map(String::as_str) != Some(names::TAG_VALUE) {
            continue;
        }
        let named: Vec<&str> = aliases
            .aliases()
            .iter()
            .filter(|a| a.target_key_id() == Some(id))
            .filter_map(|a| a.alias_name())
            .collect();
        out.insert(
            m.description().unwrap_or_default().to_string(),
            json!({
                "origin": m.origin().map(|o| o.as_str()),
                "state": m.key_state().map(|s| s.as_str()),
                "expiration_model": m.expiration_model().map(|e| e.as_str()),
                "spec": m.key_spec().map(|s| s.as_str()),
                "manager": m.key_manager().map(|s| s.as_str()),
                "tags": tags,
                "aliases": named,
                "pending_window": m.pending_deletion_window_in_days(),
            }),
        );
    }
    json!(out)
}

/// The stack's resources (logical id, type, status) and status.
async fn stack(cfg: &SdkConfig) -> Value {
    let cfn = aws_sdk_cloudformation::Client::new(cfg);
    let s = cfn
        .describe_stacks()
        .stack_name(names::STACK)
        .send()
        .await
        .expect("stack");
    let status = s
        .stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map(|s| s.as_str().to_string());
    let res = cfn
        .describe_stack_resources()
        .stack_name(names::STACK)
        .send()
        .await
        .expect("resources");
    let mut r: Vec<Value> = res
        .stack_resources()
        .iter()
        .map(|r| {
            json!([
                r.logical_resource_id(),
                r.resource_type(),
                r.physical_resource_id(),
                r.resource_status().map(|s| s.as_str())
            ])
        })
        .collect();
    r.sort_by_key(|v| v.to_string());
    json!({ "status": status, "resources": r })
}

/// What is attached to the role, and each customer policy's default document.
async fn iam(cfg: &SdkConfig, account: &str) -> Value {
    let iam = aws_sdk_iam::Client::new(cfg);
    let mut attached: Vec<String> = iam
        .list_attached_role_policies()
        .role_name(names::ROLE)
        .send()
        .await
        .expect("attached")
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(|a| a.replace(account, "ACCOUNT")))
        .collect();
    attached.sort();
    let mut docs = BTreeMap::new();
    for name in names::CUSTOMER_POLICIES {
        let arn = format!("arn:aws:iam::{account}:policy/{name}");
        let p = iam
            .get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .expect("policy");
        let v = p
            .policy()
            .and_then(|p| p.default_version_id())
            .unwrap_or_default()
            .to_string();
        let doc = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(&v)
            .send()
            .await
            .expect("version");
        docs.insert(
            name.to_string(),
            doc.policy_version()
                .and_then(|d| d.document())
                .unwrap_or_default()
                .to_string(),
        );
    }
    let profile = iam
        .get_instance_profile()
        .instance_profile_name(names::PROFILE)
        .send()
        .await
        .expect("profile");
    let roles: Vec<String> = profile
        .instance_profile()
        .map(|p| {
            p.roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .collect()
        })
        .unwrap_or_default();
    json!({ "attached": attached, "documents": docs, "profile_roles": roles })
}

/// The instance (type, image, state, tags, profile) and the volume (size, type, encryption key
/// by description, device, state).
async fn ec2(cfg: &SdkConfig) -> Value {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let kms = aws_sdk_kms::Client::new(cfg);
    let filter = |n: &str, v: &str| {
        aws_sdk_ec2::types::Filter::builder()
            .name(n)
            .values(v)
            .build()
    };
    let out = ec2
        .describe_instances()
        .filters(filter("tag:Name", names::INSTANCE_NAME_TAG))
        .send()
        .await
        .expect("instances");
    let instances: Vec<Value> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            json!({
                "type": i.instance_type().map(|t| t.as_str()),
                "image": i.image_id(),
                "state": i.state().and_then(|s| s.name()).map(|n| n.as_str()),
                "profile": i.iam_instance_profile().and_then(|p| p.arn()).map(|a| a.rsplit('/').next().unwrap_or_default().to_string()),
                "tags": i.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect::<BTreeMap<_, _>>(),
            })
        })
        .collect();
    let vols = ec2
        .describe_volumes()
        .filters(filter("tag:Name", names::VOLUME_NAME_TAG))
        .send()
        .await
        .expect("volumes");
    let mut volumes = Vec::new();
    for v in vols.volumes() {
        let key = match v.kms_key_id() {
            Some(k) => describe(&kms, k)
                .await
                .and_then(|m| m.description().map(str::to_string)),
            None => None,
        };
        volumes.push(json!({
            "size": v.size(),
            "type": v.volume_type().map(|t| t.as_str()),
            "iops": v.iops(),
            "encrypted": v.encrypted(),
            "key": key,
            "state": v.state().map(|s| s.as_str()),
            "device": v.attachments().first().and_then(|a| a.device()),
            "attached": v.attachments().first().and_then(|a| a.state()).map(|s| s.as_str()),
        }));
    }
    json!({ "instances": instances, "volumes": volumes })
}

/// The stack bucket's objects: key, size, content type, encryption and its key by description.
async fn bucket(cfg: &SdkConfig, account: &str) -> Value {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(true)
            .build(),
    );
    let kms = aws_sdk_kms::Client::new(cfg);
    let bucket = names::bucket(account);
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("objects");
    let mut out = BTreeMap::new();
    for o in listed.contents() {
        let key = o.key().unwrap_or_default();
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .expect("head");
        let kms_key = match head.ssekms_key_id() {
            Some(k) => describe(&kms, k)
                .await
                .and_then(|m| m.description().map(str::to_string)),
            None => None,
        };
        out.insert(
            key.to_string(),
            json!({
                "size": o.size(),
                "content_type": head.content_type(),
                "sse": head.server_side_encryption().map(|s| s.as_str()),
                "kms_key": kms_key,
            }),
        );
    }
    json!(out)
}

async fn structure(cfg: &SdkConfig, account: &str) -> Value {
    json!({
        "keys": keys(cfg).await,
        "stack": stack(cfg).await,
        "iam": iam(cfg, account).await,
        "ec2": ec2(cfg).await,
        "bucket": bucket(cfg, account).await,
    })
}

/// Every path at which `a` and `b` differ.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                diff(
                    &format!("{path}/{k}"),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), p, q, out);
            }
        }
        _ if a != b => out.push(format!("{path}: seeded {a} / prepared {b}")),
        _ => {}
    }
}

#[tokio::test]
async fn a_prepared_account_has_the_structure_of_the_seeded_one() {
    let seeded = testkit::workshop().await;
    let empty = testkit::start(Config {
        seed: seed::Seed::Empty,
        ..Config::default()
    })
    .await;
    let clients = Clients::new(&empty.cfg, seed::ACCOUNT, &[seed::REGION.to_string()], true);
    let ex = Executor::new(
        clients,
        Pace::new(8, 1000.0, 1000.0),
        ExecOptions::default(),
        None,
    );
    let (_, report, _) = run(&ex, &empty.cfg, &Options::default(), None, false)
        .await
        .expect("prepare");
    assert!(
        report.is_clean(),
        "{}",
        kms_workshop_prepare::report::render_text(&report)
    );

    let a = structure(&seeded.cfg, seed::ACCOUNT).await;
    let b = structure(&empty.cfg, seed::ACCOUNT).await;
    // The comparison covers something: three keys, the stack's three resources, seven
    // attached policies, one instance, one volume, two objects.
    assert_eq!(a["keys"].as_object().map(|k| k.len()), Some(3), "{a}");
    assert_eq!(
        a["stack"]["resources"].as_array().map(Vec::len),
        Some(3),
        "{a}"
    );
    assert_eq!(
        a["iam"]["attached"].as_array().map(Vec::len),
        Some(7),
        "{a}"
    );
    assert_eq!(
        a["ec2"]["instances"].as_array().map(Vec::len),
        Some(1),
        "{a}"
    );
    assert_eq!(a["ec2"]["volumes"].as_array().map(Vec::len), Some(1), "{a}");
    assert_eq!(a["bucket"].as_object().map(|o| o.len()), Some(2), "{a}");
    let mut differences = Vec::new();
    diff("", &a, &b, &mut differences);
    assert!(
        differences.is_empty(),
        "the prepared account differs from the seeded one:\n{}",
        differences.join("\n")
    );
    seeded.running.shutdown().await;
    empty.running.shutdown().await;
}
