//! CloudTrail's part of the workshop seed: the event history a learner's account has when the
//! monitoring chapter starts — the calls of the workshop's earlier sections (creating and
//! aliasing the keys, importing key material, encrypting from the instance, scheduling K1's
//! deletion, attaching policies, launching the instance), dated the days before, by the learner
//! and by the instance's role. Without it, a learner's first look at event history would show
//! nothing but their own clicks in the sandbox, unlike a real account.

use kms_workshop_names::sandbox::INSTANCE_ROLE;
use serde_json::{json, Value as J};
use time::{Duration, OffsetDateTime};

use super::events::{Record, Written};
use super::recorder::RecordParts;
use crate::identity::{instance_credential, learner_credential, Caller};
use crate::protocol::AwsError;
use crate::services::kms::shared;
use crate::services::TrailResource;
use crate::Sandbox;
use kms_workshop_names::starting::{KeyRole, KEY_ROLE_TAG};
use kms_workshop_names::{FIRST_ALIAS, IMPORTED_ALIAS};

const LEARNER_IP: &str = "203.0.113.24";
const INSTANCE_IP: &str = "198.51.100.17";
const LEARNER_AGENT: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023";
const CONSOLE_AGENT: &str = "AWS Internal";
const INSTANCE_AGENT: &str =
    "aws-cli/1.18.147 Python/2.7.18 Linux/4.14.336-257.562.amzn2.x86_64 botocore/1.18.6";

const KMS: &str = "kms.amazonaws.com";

/// Who made a past call, and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The learner with the CLI.
    Learner,
    /// The learner in the console.
    Console,
    /// The instance's role session (CloudTrail's user name: the instance id).
    Instance,
}

/// One past call.
struct Past {
    at: OffsetDateTime,
    who: Who,
    source: &'static str,
    op: &'static str,
    read_only: bool,
    params: J,
    resources: Vec<TrailResource>,
    error: Option<(&'static str, String)>,
}

impl Past {
    fn new(at: OffsetDateTime, who: Who, source: &'static str, op: &'static str) -> Past {
        Past {
            at,
            who,
            source,
            op,
            read_only: false,
            params: J::Null,
            resources: Vec::new(),
            error: None,
        }
    }

    /// A KMS call on one key.
    fn kms(at: OffsetDateTime, who: Who, op: &'static str, arn: &str) -> Past {
        Past::new(at, who, KMS, op).on(key_resource(arn))
    }

    fn read_only(mut self) -> Past {
        self.read_only = true;
        self
    }

    fn params(mut self, params: J) -> Past {
        self.params = params;
        self
    }

    fn on(mut self, r: TrailResource) -> Past {
        self.resources.push(r);
        self
    }
}

fn key_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::KMS::Key".into(),
    }
}

/// The seeded keys the history tells of: (id, ARN) of K1, K2 and K3.
struct Keys {
    k1: (String, String),
    k2: (String, String),
    k3: (String, String),
}

/// The workshop seed's keys in `account` and `region`, if they are there.
fn workshop_keys(sb: &Sandbox, account: &str, region: &str) -> Option<Keys> {
    let by_alias =
        |alias: &str| shared::resolve(sb, account, region, alias, None).map(|k| (k.id, k.arn));
    let k1 = shared::customer_key_pending_deletion(sb, account, region).map(|k| (k.id, k.arn));
    let (k2, k3) = (by_alias(FIRST_ALIAS), by_alias(IMPORTED_ALIAS));
    Some(Keys {
        k1: k1?,
        k2: k2?,
        k3: k3?,
    })
}

/// Append the workshop's earlier calls to `account`'s history in `region` (a fresh account:
/// its history must be empty or older than `now - 3 days`).
pub fn seed_workshop(
    sb: &Sandbox,
    account: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    if !sb.config.seed_history {
        return Ok(());
    }
    let Some(keys) = workshop_keys(sb, account, region) else {
        // Not the workshop seed's keys: nothing to tell.
        return Ok(());
    };
    let mut past = first_keys_and_instance(&keys, account, region, now - Duration::days(3));
    past.extend(encrypting(
        &keys,
        now - Duration::days(3) + Duration::hours(1),
    ));
    past.extend(importing(&keys, account, now));
    past.extend(this_week(&keys, now));
    past.sort_by_key(|p| p.at);
    let secrets = sb.secret_seed();
    let learner = Caller::from(&learner_credential(account, &secrets));
    let instance = Caller::from(&instance_credential(
        account,
        &crate::util::iso8601_secs(now - Duration::hours(2)),
        &secrets,
    ));
    for p in past {
        let caller = if p.who == Who::Instance {
            &instance
        } else {
            &learner
        };
        append(sb, region, caller, p);
    }
    Ok(())
}

/// Section I: the first key (later K1) and the one aliased FirstCMK (K2), from the console;
/// the instance and its role.
fn first_keys_and_instance(
    keys: &Keys,
    account: &str,
    region: &str,
    t: OffsetDateTime,
) -> Vec<Past> {
    let minutes = Duration::minutes;
    let (k2, k2_arn) = &keys.k2;
    let alias_arn = format!("arn:aws:kms:{region}:{account}:alias/FirstCMK");
    vec![
        Past::kms(t, Who::Learner, "CreateKey", &keys.k1.1).params(create(KeyRole::Pending)),
        Past::kms(t + minutes(4), Who::Learner, "CreateKey", k2_arn).params(create(KeyRole::First)),
        Past::new(t + minutes(5), Who::Learner, KMS, "CreateAlias")
            .params(json!({"aliasName": "alias/FirstCMK", "targetKeyId": k2}))
            .on(key_resource(&alias_arn))
            .on(key_resource(k2_arn)),
        Past::new(
            t + minutes(20),
            Who::Learner,
            "ec2.amazonaws.com",
            "RunInstances",
        )
        .params(json!({
            "instancesSet": {
                "items": [{"imageId": "ami-0c02fb55956c7d316", "minCount": 1, "maxCount": 1}],
            },
            "instanceType": "t2.micro",
            "iamInstanceProfile": {"name": INSTANCE_ROLE},
        })),
    ]
}

/// CreateKey's request parameters for the key of `role`, as the starting state defines it
/// (description, origin, the workshop's and the role's tags).
fn create(role: KeyRole) -> J {
    let spec = role.spec();
    json!({
        "description": spec.description,
        "keySpec": "SYMMETRIC_DEFAULT",
        "keyUsage": "ENCRYPT_DECRYPT",
        "origin": if spec.external { "EXTERNAL" } else { "AWS_KMS" },
        "bypassPolicyLockoutSafetyCheck": false,
        "tags": [
            {"tagKey": kms_workshop_names::TAG_KEY, "tagValue": kms_workshop_names::TAG_VALUE},
            {"tagKey": KEY_ROLE_TAG, "tagValue": role.as_str()},
        ],
    })
}

/// Section II: encrypting and decrypting from the instance with FirstCMK.
fn encrypting(keys: &Keys, t: OffsetDateTime) -> Vec<Past> {
    let minutes = Duration::minutes;
    let arn = &keys.k2.1;
    let algorithm = "SYMMETRIC_DEFAULT";
    let mut wrong_context = Past::kms(t + minutes(9), Who::Instance, "Decrypt", arn)
        .params(
            json!({"encryptionAlgorithm": algorithm, "encryptionContext": {"purpose": "wrong"}}),
        )
        .read_only();
    wrong_context.error = Some(("InvalidCiphertextException", String::new()));
    vec![
        Past::kms(t, Who::Instance, "Encrypt", arn)
            .params(json!({"keyId": "alias/FirstCMK", "encryptionAlgorithm": algorithm}))
            .read_only(),
        Past::kms(t + minutes(2), Who::Instance, "Decrypt", arn)
            .params(json!({"encryptionAlgorithm": algorithm}))
            .read_only(),
        Past::kms(t + minutes(6), Who::Instance, "GenerateDataKey", arn)
            .params(json!({
                "keyId": "alias/FirstCMK",
                "keySpec": "AES_256",
                "encryptionContext": {"purpose": "envelope-demo"},
            }))
            .read_only(),
        wrong_context,
    ]
}

/// Section III: the key with imported material (K3), and the policies it needed.
fn importing(keys: &Keys, account: &str, now: OffsetDateTime) -> Vec<Past> {
    let t = now - Duration::days(2);
    let minutes = Duration::minutes;
    let mut out: Vec<Past> = [
        "KMS-Workshop-ImportMaterialPermissions",
        "KMSWorkshop-RotationDisableOps",
        "KMSWorkshop-AdditionalPermissions",
    ]
    .into_iter()
    .enumerate()
    .map(|(i, policy)| {
        let arn = format!("arn:aws:iam::{account}:policy/{policy}");
        let at = t + minutes(i as i64);
        Past::new(at, Who::Console, "iam.amazonaws.com", "AttachRolePolicy")
            .params(json!({"roleName": INSTANCE_ROLE, "policyArn": arn}))
    })
    .collect();
    let (k3, arn) = &keys.k3;
    let valid_to = crate::util::iso8601_secs(now + Duration::days(20));
    out.extend([
        Past::kms(t + minutes(10), Who::Instance, "CreateKey", arn)
            .params(create(KeyRole::Imported)),
        Past::kms(
            t + minutes(11),
            Who::Instance,
            "GetParametersForImport",
            arn,
        )
        .params(json!({
            "keyId": k3,
            "wrappingAlgorithm": "RSAES_OAEP_SHA_256",
            "wrappingKeySpec": "RSA_2048",
        }))
        .read_only(),
        Past::kms(t + minutes(14), Who::Instance, "ImportKeyMaterial", arn).params(json!({
            "keyId": k3,
            "expirationModel": "KEY_MATERIAL_EXPIRES",
            "validTo": valid_to,
        })),
        Past::kms(t + minutes(15), Who::Instance, "CreateAlias", arn)
            .params(json!({"aliasName": "alias/ImportedCMK", "targetKeyId": k3})),
    ]);
    out
}

/// The rotation and deletion exercises (K1 scheduled for deletion with a 7-day window), and
/// this morning's look around before the monitoring chapter.
fn this_week(keys: &Keys, now: OffsetDateTime) -> Vec<Past> {
    let minutes = Duration::minutes;
    let t = now - Duration::days(1);
    let (k1, k1_arn) = &keys.k1;
    let morning = now - Duration::hours(3);
    vec![
        Past::kms(t, Who::Instance, "DisableKey", k1_arn).params(json!({"keyId": k1})),
        Past::kms(t + minutes(1), Who::Instance, "EnableKey", k1_arn).params(json!({"keyId": k1})),
        Past::kms(t + minutes(3), Who::Instance, "ScheduleKeyDeletion", k1_arn)
            .params(json!({"keyId": k1, "pendingWindowInDays": 7})),
        Past::kms(morning, Who::Learner, "DescribeKey", &keys.k3.1)
            .params(json!({"keyId": "alias/ImportedCMK"}))
            .read_only(),
        Past::kms(
            morning + minutes(1),
            Who::Learner,
            "GetKeyRotationStatus",
            &keys.k2.1,
        )
        .params(json!({"keyId": keys.k2.0}))
        .read_only(),
    ]
}

/// Write one past call into the history, as the recorder writes a call, at its own time.
fn append(sb: &Sandbox, region: &str, caller: &Caller, p: Past) {
    let request_id = crate::util::uuid();
    let event_id = crate::util::uuid();
    let parts = RecordParts {
        caller,
        region,
        event_source: p.source,
        op: p.op,
        source_ip: match p.who {
            Who::Instance => INSTANCE_IP,
            Who::Learner | Who::Console => LEARNER_IP,
        },
        user_agent: match p.who {
            Who::Console => CONSOLE_AGENT,
            Who::Instance => INSTANCE_AGENT,
            Who::Learner => LEARNER_AGENT,
        },
        error: p.error.as_ref().map(|(c, m)| (*c, m.as_str())),
        request_parameters: p.params,
        response: J::Null,
        request_id: &request_id,
        event_id: &event_id,
        read_only: p.read_only,
        resources: &p.resources,
    };
    let ms = (p.at.unix_timestamp_nanos() / 1_000_000) as i64;
    let ms = ms - ms.rem_euclid(1000);
    sb.events().append(
        &caller.account,
        region,
        parts.new_event(),
        (ms, ms),
        |t| Record::Members(parts.members(t)),
        |frame| sb.persist_event(frame),
        Written::Now,
    );
}
