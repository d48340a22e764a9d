//! The set-up plan: one step per missing part of the starting state, each after what it
//! needs (the role's policies after the stack and the policy; the import after its key; the
//! volume after the instance and the imported material; the encrypted sample after its key).

use serde::{Deserialize, Serialize};

use kms_workshop_cleanup::exec::ActionOutcome;
use kms_workshop_cleanup::plan::Step;
use kms_workshop_cleanup::{names, Executor, Plan};
use kms_workshop_names::starting::{
    attached_by_hand, KeyRole, SampleEncryption, KEYS, POLICIES, SAMPLE_FILES,
};

use crate::survey::{Part, Survey};

/// One step of a set-up. Each is idempotent: it looks before it makes, so a step that an
/// interrupted run had half done finds what it made and goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Setup {
    /// CreateStack from the workshop's template, then wait for CREATE_COMPLETE.
    CreateStack {
        region: String,
    },
    CreatePolicy {
        name: String,
    },
    AttachRolePolicy {
        policy_arn: String,
    },
    /// CreateKey (tagged with its role and run) and, for a role with an alias, CreateAlias; the
    /// pending role's key is scheduled for deletion instead.
    CreateKey {
        region: String,
        role: String,
        #[serde(default)]
        run: String,
    },
    /// GetParametersForImport, wrap fresh material, ImportKeyMaterial with an expiry.
    ImportMaterial {
        region: String,
        days: u32,
    },
    /// RunInstances with the profile (idempotent by `client_token`), then wait for `running`.
    RunInstance {
        region: String,
        ami: String,
        instance_type: String,
        client_token: String,
    },
    /// CreateVolume encrypted with alias/ImportedCMK in the instance's zone, wait for
    /// `available`, attach as /dev/sdf, wait for `in-use`.
    CreateVolume {
        region: String,
        client_token: String,
    },
    PutSample {
        region: String,
        key: String,
    },
}

impl Step for Setup {
    const PLAN_TITLE: &'static str = "set-up plan";

    fn id(&self) -> String {
        match self {
            Setup::CreateStack { region } => {
                format!("cloudformation/{region}/stack/{}", names::STACK)
            }
            Setup::CreatePolicy { name } => format!("iam/policy/{name}"),
            Setup::AttachRolePolicy { policy_arn } => {
                format!("iam/role/{}/attach/{policy_arn}", names::ROLE)
            }
            Setup::CreateKey { region, role, .. } => format!("kms/{region}/key/{role}"),
            Setup::ImportMaterial { region, .. } => format!("kms/{region}/key/imported/material"),
            Setup::RunInstance { region, .. } => format!("ec2/{region}/instance"),
            Setup::CreateVolume { region, .. } => format!("ec2/{region}/volume"),
            Setup::PutSample { key, .. } => format!("s3/bucket/{key}"),
        }
    }

    fn api(&self) -> &'static str {
        match self {
            Setup::CreateStack { .. } => "CreateStack",
            Setup::CreatePolicy { .. } => "CreatePolicy",
            Setup::AttachRolePolicy { .. } => "AttachRolePolicy",
            Setup::CreateKey { .. } => "CreateKey",
            Setup::ImportMaterial { .. } => "ImportKeyMaterial",
            Setup::RunInstance { .. } => "RunInstances",
            Setup::CreateVolume { .. } => "CreateVolume",
            Setup::PutSample { .. } => "PutObject",
        }
    }

    fn describe(&self) -> String {
        match self {
            Setup::CreateStack { .. } => format!(
                "create stack {} from the workshop's template and wait for CREATE_COMPLETE",
                names::STACK
            ),
            Setup::CreatePolicy { name } => format!("create policy {name}"),
            Setup::AttachRolePolicy { policy_arn } => {
                format!("attach {policy_arn} to role {}", names::ROLE)
            }
            Setup::CreateKey { role, .. } => match KeyRole::parse(role).map(|r| r.spec()) {
                Some(spec) => match spec.alias {
                    Some(alias) => format!("create key \"{}\" with {alias}", spec.description),
                    None => format!(
                        "create key \"{}\" and schedule its deletion",
                        spec.description
                    ),
                },
                None => format!("create key {role}"),
            },
            Setup::ImportMaterial { days, .. } => format!(
                "import key material into {} (RSAES_OAEP_SHA_256, expires in {days} days)",
                names::IMPORTED_ALIAS
            ),
            Setup::RunInstance {
                ami, instance_type, ..
            } => format!(
                "launch {instance_type} instance {} from {ami} with profile {} and wait until running",
                names::INSTANCE_NAME_TAG,
                names::PROFILE
            ),
            Setup::CreateVolume { .. } => format!(
                "create volume {} encrypted with {}, attach it as /dev/sdf",
                names::VOLUME_NAME_TAG,
                names::IMPORTED_ALIAS
            ),
            Setup::PutSample { key, .. } => format!("upload {key} to the stack's bucket"),
        }
    }

    fn branch(&self) -> &'static str {
        match self {
            Setup::CreateStack { .. } | Setup::PutSample { .. } => "stack",
            Setup::CreatePolicy { .. } | Setup::AttachRolePolicy { .. } => "policies",
            Setup::CreateKey { .. } | Setup::ImportMaterial { .. } => "keys",
            Setup::RunInstance { .. } | Setup::CreateVolume { .. } => "instance",
        }
    }

    async fn perform(self, ex: Executor) -> ActionOutcome {
        crate::steps::perform(&ex, &self).await
    }
}

/// The plan that makes what `survey` did not find; `run_id` makes the launch's idempotency
/// tokens (the same for a resumed run, new for a new one).
pub fn build(survey: &Survey, run_id: &str) -> Plan<Setup> {
    let region = survey.region.clone();
    let mut plan = Plan {
        account: survey.account.clone(),
        nodes: Vec::new(),
    };
    let need = |part: Part| !survey.has(&part);
    let stack = need(Part::Stack).then(|| {
        plan.push(
            Setup::CreateStack {
                region: region.clone(),
            },
            vec![],
        )
    });
    push_iam(&mut plan, survey, &stack);
    let mut key_steps = Vec::new();
    for spec in KEYS {
        if spec.role == KeyRole::Pending && !survey.pending_key {
            continue;
        }
        let role = spec.role.as_str().to_string();
        let step = need(Part::Key { role: role.clone() }).then(|| {
            plan.push(
                Setup::CreateKey {
                    region: region.clone(),
                    role,
                    run: run_id.to_string(),
                },
                vec![],
            )
        });
        key_steps.push((spec.role, step));
    }
    let key_step = |role: KeyRole| {
        key_steps
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, s)| s.clone())
    };
    let (first, imported) = (key_step(KeyRole::First), key_step(KeyRole::Imported));
    let material = need(Part::Material).then(|| {
        plan.push(
            Setup::ImportMaterial {
                region: region.clone(),
                days: survey.material_days,
            },
            after(&[&imported]),
        )
    });
    let instance = need(Part::Instance).then(|| {
        plan.push(
            Setup::RunInstance {
                region: region.clone(),
                ami: survey.ami.clone(),
                instance_type: survey.instance_type.clone(),
                client_token: format!("kmsworkshop-{run_id}"),
            },
            after(&[&stack]),
        )
    });
    if need(Part::Volume) {
        plan.push(
            Setup::CreateVolume {
                region: region.clone(),
                client_token: format!("kmsworkshop-volume-{run_id}"),
            },
            after(&[&instance, &material, &imported]),
        );
    }
    for f in SAMPLE_FILES {
        if need(Part::Object {
            key: f.key.to_string(),
        }) {
            let key_first = match f.encryption {
                SampleEncryption::Kms(_) => first.clone(),
                SampleEncryption::S3 => None,
            };
            plan.push(
                Setup::PutSample {
                    region: region.clone(),
                    key: f.key.to_string(),
                },
                after(&[&stack, &key_first]),
            );
        }
    }
    plan
}

/// The ids among `ids` that are there (the steps a new one waits for).
fn after(ids: &[&Option<String>]) -> Vec<String> {
    ids.iter().filter_map(|i| (*i).clone()).collect()
}

/// The customer policies the survey did not find, and the attachments to the role (each after
/// the stack that makes the role and the policy it attaches).
fn push_iam(plan: &mut Plan<Setup>, survey: &Survey, stack: &Option<String>) {
    let need = |part: Part| !survey.has(&part);
    let mut policy_steps = Vec::new();
    for p in POLICIES {
        let step = need(Part::Policy {
            name: p.name.into(),
        })
        .then(|| {
            plan.push(
                Setup::CreatePolicy {
                    name: p.name.into(),
                },
                vec![],
            )
        });
        policy_steps.push((
            format!("arn:aws:iam::{}:policy/{}", survey.account, p.name),
            step,
        ));
    }
    for arn in attached_by_hand(&survey.account) {
        if need(Part::Attached {
            policy_arn: arn.clone(),
        }) {
            let policy = policy_steps
                .iter()
                .find(|(a, _)| a == &arn)
                .and_then(|(_, s)| s.clone());
            plan.push(
                Setup::AttachRolePolicy { policy_arn: arn },
                after(&[stack, &policy]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Survey {
        Survey {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            ami: "ami-0c02fb55956c7d316".into(),
            instance_type: "t2.micro".into(),
            material_days: 20,
            pending_key: true,
            present: Vec::new(),
        }
    }

    #[test]
    fn an_empty_account_gets_every_step_in_an_order_that_holds() {
        let plan = build(&empty(), "r1");
        // stack, 3 policies, 4 attachments, 3 keys, import, instance, volume, 2 samples
        assert_eq!(plan.nodes.len(), 16, "{}", plan.render_tree());
        assert!(plan.is_acyclic());
        let order = plan.topological_order();
        let pos = |id: &str| order.iter().position(|o| o == id).expect(id);
        assert!(pos("ec2/us-east-1/volume") > pos("kms/us-east-1/key/imported/material"));
        assert!(pos("ec2/us-east-1/volume") > pos("ec2/us-east-1/instance"));
        assert!(pos("s3/bucket/SampleFile-KMS-encrypted.txt") > pos("kms/us-east-1/key/first"));
        let power = format!(
            "iam/role/{}/attach/{}",
            names::ROLE,
            names::KMS_POWER_USER_POLICY
        );
        assert!(pos(&power) > pos("cloudformation/us-east-1/stack/KMSWorkshop-Stack"));
    }

    #[test]
    fn without_the_pending_key_there_is_no_step_for_it() {
        let mut s = empty();
        s.pending_key = false;
        let plan = build(&s, "r1");
        assert!(plan.node("kms/us-east-1/key/pending").is_none());
        assert_eq!(plan.nodes.len(), 15);
    }
}
