//! The teardown plan as a graph: the edges DESIGN.md section 6 requires (and those the
//! workshop's text forgets), acyclicity, and — by property testing — that every order an
//! executor may choose respects every edge.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeMap;

use kms_workshop_cleanup::discover::{
    BucketFound, InstanceFound, KeyFound, PolicyFound, ProfileFound, RegionFound, RoleFound,
    RuleFound, StackFound, StackResource, TopicFound, TrailFound, VolumeFound,
};
use kms_workshop_cleanup::{Action, Found, Plan};
use proptest::prelude::*;

const ACCOUNT: &str = "111122223333";
const R: &str = "us-east-1";

/// Knobs for a workshop account in some state of (partial) teardown.
#[derive(Debug, Clone)]
struct Shape {
    keys: usize,
    instance: bool,
    association: bool,
    volume: bool,
    volume_attached: bool,
    stack: bool,
    bucket: bool,
    role: bool,
    role_policies: Vec<bool>,
    inline: bool,
    profile: bool,
    policies: Vec<usize>,
    topic_subs: Option<usize>,
    rule_targets: Option<usize>,
    alarm: bool,
    /// The trail a guided run created, and whether its log bucket is still there.
    trail: bool,
    trail_bucket: bool,
}

fn trail_bucket() -> String {
    format!("kmsworkshop-trail-{ACCOUNT}-{R}")
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

const CUSTOMER: [&str; 3] = [
    "KMS-Workshop-ImportMaterialPermissions",
    "KMSWorkshop-RotationDisableOps",
    "KMSWorkshop-AdditionalPermissions",
];

/// The region's part of [`found`].
fn region_found(s: &Shape) -> RegionFound {
    let mut region = RegionFound {
        region: R.into(),
        ..RegionFound::default()
    };
    for i in 0..s.keys {
        let alias = ["alias/FirstCMK", "alias/ImportedCMK", "alias/Extra"][i % 3].to_string();
        region.keys.push(KeyFound {
            id: format!("key-{i}"),
            arn: format!("arn:aws:kms:{R}:{ACCOUNT}:key/key-{i}"),
            aliases: vec![alias.clone()],
            why: "workshop alias".into(),
        });
        region.aliases.push(alias);
    }
    if s.instance {
        region.instances.push(InstanceFound {
            id: "i-0a1b2c3d4e5f60718".into(),
            state: "running".into(),
            associations: if s.association {
                vec!["iip-assoc-1".into()]
            } else {
                vec![]
            },
            why: "workshop instance profile".into(),
        });
    }
    if s.volume {
        region.volumes.push(VolumeFound {
            id: "vol-1".into(),
            state: if s.volume_attached {
                "in-use"
            } else {
                "available"
            }
            .into(),
            attached_to: if s.volume_attached {
                vec!["i-0a1b2c3d4e5f60718".into()]
            } else {
                vec![]
            },
        });
    }
    let topic = format!("arn:aws:sns:{R}:{ACCOUNT}:snsworkshop");
    if let Some(n) = s.topic_subs {
        region.topics.push(TopicFound {
            arn: topic.clone(),
            subscriptions: (0..n).map(|i| format!("{topic}:sub-{i}")).collect(),
        });
    }
    if let Some(n) = s.rule_targets {
        region.rules.push(RuleFound {
            name: "KMSWorkshop-GenerateDataKey".into(),
            targets: (0..n).map(|i| format!("t{i}")).collect(),
            keep: false,
        });
    }
    if s.alarm {
        region.alarms.push("KMSWorkshop-expiry".into());
    }
    if s.trail {
        region.trails.push(TrailFound {
            name: "KMSWorkshop-Trail".into(),
            arn: format!("arn:aws:cloudtrail:{R}:{ACCOUNT}:trail/KMSWorkshop-Trail"),
            bucket: Some(trail_bucket()),
            why: "inventory".into(),
        });
    }
    if s.stack {
        let res = |l: &str, p: &str, k: &str| StackResource {
            logical_id: l.into(),
            physical_id: p.into(),
            kind: k.into(),
            status: "CREATE_COMPLETE".into(),
            reason: None,
        };
        region.stack = Some(StackFound {
            name: "KMSWorkshop-Stack".into(),
            id: format!("arn:aws:cloudformation:{R}:{ACCOUNT}:stack/KMSWorkshop-Stack/1"),
            status: "CREATE_COMPLETE".into(),
            resources: vec![
                res(
                    "Bucket",
                    &format!("kmsworkshop-{ACCOUNT}"),
                    "AWS::S3::Bucket",
                ),
                res("Role", "KMSWorkshop-InstanceInitRole", "AWS::IAM::Role"),
                res(
                    "Profile",
                    "KMSWorkshop-InstanceInitRole",
                    "AWS::IAM::InstanceProfile",
                ),
            ],
        });
    }
    region
}

/// What a discovery finds in an account of shape `s`.
fn found(s: &Shape) -> Found {
    let region = region_found(s);
    let mut attached: Vec<String> = vec![
        "arn:aws:iam::aws:policy/AmazonS3FullAccess".into(),
        "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser".into(),
    ];
    for (i, on) in s.role_policies.iter().enumerate() {
        if *on {
            attached.push(policy_arn(CUSTOMER[i % 3]));
        }
    }
    Found {
        account: ACCOUNT.into(),
        regions: vec![region],
        role: s.role.then(|| RoleFound {
            name: "KMSWorkshop-InstanceInitRole".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/KMSWorkshop-InstanceInitRole"),
            attached: attached.clone(),
            inline: if s.inline {
                vec!["extra".into()]
            } else {
                vec![]
            },
            profiles: if s.profile {
                vec!["KMSWorkshop-InstanceInitRole".into()]
            } else {
                vec![]
            },
            stack_owned: s.stack,
        }),
        profile: s.profile.then(|| ProfileFound {
            name: "KMSWorkshop-InstanceInitRole".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/KMSWorkshop-InstanceInitRole"),
            roles: if s.role {
                vec!["KMSWorkshop-InstanceInitRole".into()]
            } else {
                vec![]
            },
            stack_owned: s.stack,
        }),
        policies: s
            .policies
            .iter()
            .enumerate()
            .map(|(i, versions)| {
                let name = CUSTOMER[i % 3];
                let arn = policy_arn(name);
                PolicyFound {
                    name: name.into(),
                    arn: arn.clone(),
                    non_default_versions: (1..=*versions).map(|v| format!("v{v}")).collect(),
                    attached_roles: if s.role && attached.contains(&arn) {
                        vec!["KMSWorkshop-InstanceInitRole".into()]
                    } else {
                        vec![]
                    },
                }
            })
            .collect(),
        buckets: s
            .bucket
            .then(|| BucketFound {
                name: format!("kmsworkshop-{ACCOUNT}"),
                stack_owned: s.stack,
            })
            .into_iter()
            .chain(s.trail_bucket.then(|| BucketFound {
                name: trail_bucket(),
                stack_owned: false,
            }))
            .collect(),
        skipped: vec![],
    }
}

/// The workshop account at the start of the clean-up chapter, with the monitoring additions.
fn workshop() -> Shape {
    Shape {
        keys: 2,
        instance: true,
        association: true,
        volume: true,
        volume_attached: true,
        stack: true,
        bucket: true,
        role: true,
        role_policies: vec![true, true, true],
        inline: false,
        profile: true,
        policies: vec![0, 1, 0],
        topic_subs: Some(1),
        rule_targets: Some(1),
        alarm: true,
        trail: true,
        trail_bucket: true,
    }
}

fn ids_where(plan: &Plan, f: impl Fn(&Action) -> bool) -> Vec<String> {
    plan.nodes
        .iter()
        .filter(|n| f(&n.action))
        .map(|n| n.id.clone())
        .collect()
}

/// Every pair (before, after) the teardown's rules require for this plan.
fn required_edges(plan: &Plan, volume_attached: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let pairs = |a: &[String], b: &[String], out: &mut Vec<(String, String)>| {
        for x in a {
            for y in b {
                out.push((x.clone(), y.clone()));
            }
        }
    };
    let keys = ids_where(plan, |a| {
        matches!(
            a,
            Action::ScheduleKeyDeletion { .. } | Action::DeleteAlias { .. }
        )
    });
    let detaches = ids_where(plan, |a| matches!(a, Action::DetachRolePolicy { .. }));
    let stack = ids_where(plan, |a| matches!(a, Action::DeleteStack { .. }));
    let disassociate = ids_where(plan, |a| {
        matches!(a, Action::DisassociateInstanceProfile { .. })
    });
    let terminate = ids_where(plan, |a| matches!(a, Action::TerminateInstance { .. }));
    let volume = ids_where(plan, |a| matches!(a, Action::DeleteVolume { .. }));
    let empty = ids_where(plan, |a| matches!(a, Action::EmptyBucket { .. }));
    let targets = ids_where(plan, |a| matches!(a, Action::RemoveTargets { .. }));
    let rule = ids_where(plan, |a| matches!(a, Action::DeleteRule { .. }));
    let unsubscribe = ids_where(plan, |a| matches!(a, Action::Unsubscribe { .. }));
    let topic = ids_where(plan, |a| matches!(a, Action::DeleteTopic { .. }));
    let role = ids_where(plan, |a| matches!(a, Action::DeleteRole { .. }));
    let trail = ids_where(plan, |a| matches!(a, Action::DeleteTrail { .. }));
    // The trail stops writing log files before its bucket is emptied and deleted.
    let trail_bucket_ops = ids_where(plan, |a| {
        matches!(
            a,
            Action::EmptyBucket { bucket } | Action::DeleteBucket { bucket } if *bucket == trail_bucket()
        )
    });
    pairs(&trail, &trail_bucket_ops, &mut out);
    // Keys before the policies go (RotationDisableOps allows ScheduleKeyDeletion).
    pairs(&keys, &detaches, &mut out);
    pairs(&keys, &stack, &mut out);
    pairs(&keys, &role, &mut out);
    pairs(&keys, &disassociate, &mut out);
    pairs(&disassociate, &terminate, &mut out);
    // An attached volume becomes available only once its instance is terminated.
    if volume_attached {
        pairs(&terminate, &volume, &mut out);
    }
    // The stack empties its own bucket only; every bucket is emptied before it is deleted.
    let stack_bucket = format!("kmsworkshop-{ACCOUNT}");
    let stack_empty = ids_where(
        plan,
        |a| matches!(a, Action::EmptyBucket { bucket } if *bucket == stack_bucket),
    );
    pairs(&stack_empty, &stack, &mut out);
    for n in &plan.nodes {
        if let Action::DeleteBucket { bucket } = &n.action {
            let e = Action::EmptyBucket {
                bucket: bucket.clone(),
            }
            .id();
            assert!(
                empty.contains(&e),
                "{bucket} is deleted without being emptied"
            );
            out.push((e, n.id.clone()));
        }
    }
    pairs(&targets, &rule, &mut out);
    pairs(&unsubscribe, &topic, &mut out);
    pairs(&disassociate, &stack, &mut out);
    for n in &plan.nodes {
        if let Action::DeletePolicy { policy_arn } = &n.action {
            for m in &plan.nodes {
                match &m.action {
                    Action::DeletePolicyVersion { policy_arn: p, .. } if p == policy_arn => {
                        out.push((m.id.clone(), n.id.clone()))
                    }
                    Action::DetachRolePolicy { policy_arn: p, .. } if p == policy_arn => {
                        out.push((m.id.clone(), n.id.clone()))
                    }
                    _ => {}
                }
            }
        }
        if let Action::DeleteStack { .. } = &n.action {
            for d in &detaches {
                out.push((d.clone(), n.id.clone()));
            }
        }
    }
    out
}

fn position(order: &[String]) -> BTreeMap<&str, usize> {
    order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect()
}

#[test]
fn workshop_plan_has_the_required_edges() {
    let plan = Plan::build(&found(&workshop()), 7);
    assert!(plan.is_acyclic());
    let order = plan.topological_order();
    let pos = position(&order);
    let required = required_edges(&plan, true);
    assert!(required.len() > 20, "{required:?}");
    for (a, b) in &required {
        assert!(
            pos[a.as_str()] < pos[b.as_str()],
            "{a} must come before {b}"
        );
        // Not only in this order: the graph itself holds the constraint (directly or through
        // a path), so every executor respects it.
        assert!(reaches(&plan, a, b), "no path {a} → {b}");
    }
    let ops: Vec<&str> = plan
        .nodes
        .iter()
        .map(|n| {
            serde_json::to_value(&n.action).expect("serialises")["op"]
                .as_str()
                .map(str::to_string)
        })
        .map(|o| Box::leak(o.unwrap_or_default().into_boxed_str()) as &str)
        .collect();
    for op in [
        "ScheduleKeyDeletion",
        "DeleteAlias",
        "DetachRolePolicy",
        "DisassociateInstanceProfile",
        "TerminateInstance",
        "DeleteVolume",
        "EmptyBucket",
        "DeleteStack",
        "RemoveTargets",
        "DeleteRule",
        "Unsubscribe",
        "DeleteTopic",
        "DeleteAlarms",
        "DeletePolicyVersion",
        "DeletePolicy",
        "DeleteTrail",
    ] {
        assert!(ops.contains(&op), "{op} missing");
    }
    // The stack deletes what it declares: the template's policies are not detached by hand,
    // and the bucket, role and profile are the stack's to delete.
    let text = serde_json::to_string(&plan).expect("serialises");
    assert!(!text.contains("AmazonS3FullAccess"), "{text}");
    assert!(!text.contains("\"DeleteRole\""));
    let deleted_buckets: Vec<&str> = plan
        .nodes
        .iter()
        .filter_map(|n| match &n.action {
            Action::DeleteBucket { bucket } => Some(bucket.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted_buckets,
        vec![trail_bucket().as_str()],
        "only the trail's bucket, which is not the stack's, is deleted by hand"
    );
    assert!(text.contains("AWSKeyManagementServicePowerUser"));
    // Keys: scheduled with the window asked for, never deleted otherwise.
    for n in &plan.nodes {
        if let Action::ScheduleKeyDeletion { window_days, .. } = n.action {
            assert_eq!(window_days, 7);
        }
    }
}

#[test]
fn without_a_stack_the_role_profile_and_bucket_are_removed_directly() {
    let mut s = workshop();
    s.stack = false;
    s.inline = true;
    let plan = Plan::build(&found(&s), 30);
    assert!(plan.is_acyclic());
    let id = |a: Action| a.id();
    let role = id(Action::DeleteRole {
        role: "KMSWorkshop-InstanceInitRole".into(),
    });
    let profile = id(Action::DeleteInstanceProfile {
        profile: "KMSWorkshop-InstanceInitRole".into(),
    });
    let remove = id(Action::RemoveRoleFromInstanceProfile {
        profile: "KMSWorkshop-InstanceInitRole".into(),
        role: "KMSWorkshop-InstanceInitRole".into(),
    });
    let inline = id(Action::DeleteRolePolicy {
        role: "KMSWorkshop-InstanceInitRole".into(),
        policy_name: "extra".into(),
    });
    let empty = id(Action::EmptyBucket {
        bucket: format!("kmsworkshop-{ACCOUNT}"),
    });
    let bucket = id(Action::DeleteBucket {
        bucket: format!("kmsworkshop-{ACCOUNT}"),
    });
    for (a, b) in [
        (&remove, &role),
        (&remove, &profile),
        (&inline, &role),
        (&empty, &bucket),
    ] {
        assert!(
            plan.node(a).is_some() && plan.node(b).is_some(),
            "{a} / {b}"
        );
        assert!(reaches(&plan, a, b), "no path {a} → {b}");
    }
    // Every attached policy is detached when nothing else will do it.
    assert!(serde_json::to_string(&plan)
        .expect("serialises")
        .contains("AmazonS3FullAccess"));
}

#[test]
fn the_trail_goes_before_its_log_bucket_is_emptied() {
    let trail = Action::DeleteTrail {
        region: R.into(),
        name: "KMSWorkshop-Trail".into(),
    }
    .id();
    let empty = Action::EmptyBucket {
        bucket: trail_bucket(),
    }
    .id();
    let delete = Action::DeleteBucket {
        bucket: trail_bucket(),
    }
    .id();
    let plan = Plan::build(&found(&workshop()), 7);
    let node = plan.node(&empty).expect("the trail's bucket is emptied");
    assert!(node.after.contains(&trail), "{node:?}");
    assert!(reaches(&plan, &trail, &delete));

    // The bucket already gone: the trail is deleted alone, with no dangling edge.
    let mut s = workshop();
    s.trail_bucket = false;
    let plan = Plan::build(&found(&s), 7);
    assert!(plan.node(&empty).is_none());
    assert!(plan.node(&trail).is_some_and(|n| n.after.is_empty()));
    assert!(plan
        .nodes
        .iter()
        .all(|n| n.after.iter().all(|a| plan.node(a).is_some())));

    // A trail that writes to the stack's bucket goes before the stack empties and deletes it.
    let mut f = found(&workshop());
    f.regions[0].trails[0].bucket = Some(format!("kmsworkshop-{ACCOUNT}"));
    let plan = Plan::build(&f, 7);
    let stack = plan
        .nodes
        .iter()
        .find(|n| matches!(n.action, Action::DeleteStack { .. }))
        .expect("stack")
        .id
        .clone();
    let stack_empty = Action::EmptyBucket {
        bucket: format!("kmsworkshop-{ACCOUNT}"),
    }
    .id();
    assert!(reaches(&plan, &trail, &stack_empty));
    assert!(reaches(&plan, &trail, &stack));
    // The other direction never: no cycle, and the trail waits for nothing of the bucket's.
    assert!(!reaches(&plan, &stack_empty, &trail));
    assert!(plan.is_acyclic());
}

#[test]
fn an_empty_account_has_an_empty_plan() {
    let plan = Plan::build(
        &Found {
            account: ACCOUNT.into(),
            ..Found::default()
        },
        7,
    );
    assert!(plan.is_empty());
    assert!(plan.render_tree().contains("nothing to do"));
}

fn reaches(plan: &Plan, from: &str, to: &str) -> bool {
    // Walk `after` edges backwards from `to`.
    let mut stack = vec![to.to_string()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = stack.pop() {
        if id == from {
            return true;
        }
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(n) = plan.node(&id) {
            stack.extend(n.after.iter().cloned());
        }
    }
    false
}

/// An order an executor could choose: repeatedly any node whose prerequisites are done.
fn random_execution(plan: &Plan, choices: &[usize]) -> Vec<String> {
    let mut done: Vec<String> = Vec::new();
    let mut i = 0;
    while done.len() < plan.nodes.len() {
        let ready: Vec<&str> = plan
            .nodes
            .iter()
            .filter(|n| !done.contains(&n.id))
            .filter(|n| n.after.iter().all(|a| done.contains(a)))
            .map(|n| n.id.as_str())
            .collect();
        if ready.is_empty() {
            break;
        }
        let pick = choices.get(i).copied().unwrap_or(0) % ready.len();
        i += 1;
        done.push(ready[pick].to_string());
    }
    done
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        (
            0usize..4,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(any::<bool>(), 0..4),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(0usize..4, 0..4),
        ),
        (
            prop::option::of(0usize..4),
            prop::option::of(0usize..3),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (keys, instance, association, volume, volume_attached),
                (stack, bucket, role, role_policies),
                (inline, profile, policies),
                (topic_subs, rule_targets, alarm, trail, trail_bucket),
            )| Shape {
                keys,
                instance,
                association,
                volume,
                volume_attached: volume_attached && instance,
                stack,
                bucket,
                role,
                role_policies,
                inline,
                profile,
                policies,
                topic_subs,
                rule_targets,
                alarm,
                trail,
                trail_bucket,
            },
        )
}

proptest! {
    #[test]
    fn every_execution_order_respects_every_edge(s in shape(), choices in prop::collection::vec(0usize..1000, 64)) {
        let plan = Plan::build(&found(&s), 7);
        prop_assert!(plan.is_acyclic());
        let order = random_execution(&plan, &choices);
        prop_assert_eq!(order.len(), plan.nodes.len(), "every node runs");
        let pos = position(&order);
        for n in &plan.nodes {
            for a in &n.after {
                prop_assert!(pos[a.as_str()] < pos[n.id.as_str()], "{} before {}", a, n.id);
            }
        }
        for (a, b) in required_edges(&plan, s.volume_attached) {
            prop_assert!(pos[a.as_str()] < pos[b.as_str()], "{} must come before {}", a, b);
        }
        // Ids are unique: the journal keys actions by them.
        let mut ids: Vec<&str> = plan.nodes.iter().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(ids.len(), plan.nodes.len());
    }
}
