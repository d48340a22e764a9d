//! The CloudTrail event history a learner's account has when the monitoring chapter starts:
//! the calls of the workshop's earlier sections (creating and aliasing the keys, importing key
//! material, encrypting from the instance, scheduling K1's deletion, attaching policies,
//! launching the instance), dated the days before, by the learner and by the instance's role.
//! Without it, a learner's first look at event history would show nothing but their own
//! clicks in the sandbox, unlike a real account.

use serde_json::{json, Value as J};
use time::{Duration, OffsetDateTime};

use super::recorder::RecordParts;
use crate::identity::Caller;
use crate::protocol::AwsError;
use crate::services::kms::KmsState;
use crate::services::TrailResource;
use crate::Sandbox;

const LEARNER_IP: &str = "203.0.113.24";
const INSTANCE_IP: &str = "198.51.100.17";
const LEARNER_AGENT: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023";
const CONSOLE_AGENT: &str = "AWS Internal";
const INSTANCE_AGENT: &str =
    "aws-cli/1.18.147 Python/2.7.18 Linux/4.14.336-257.562.amzn2.x86_64 botocore/1.18.6";

/// One past call.
struct Past {
    at: OffsetDateTime,
    caller: Caller,
    source: &'static str,
    op: &'static str,
    read_only: bool,
    params: J,
    response: J,
    resources: Vec<TrailResource>,
    error: Option<(&'static str, String)>,
    console: bool,
}

fn key_resource(arn: &str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: "AWS::KMS::Key".into(),
    }
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
    let learner = Caller::from(&crate::identity::learner_credential(account));
    // The instance's role session, as CloudTrail shows it (user name = the instance id).
    let instance = Caller::from(&crate::identity::instance_credential(
        account,
        &crate::util::iso8601_secs(now - Duration::hours(2)),
    ));

    let (k1, k2, k3) = sb.read::<KmsState, _>(account, region, |st| {
        let by_alias = |a: &str| {
            st.aliases
                .get(a)
                .and_then(|al| st.keys.get(&al.target))
                .map(|k| (k.id.clone(), k.arn.clone()))
        };
        let k1 = st
            .keys
            .values()
            .find(|k| k.deletion_date.is_some() && k.manager == "CUSTOMER")
            .map(|k| (k.id.clone(), k.arn.clone()));
        (
            k1,
            by_alias("alias/FirstCMK"),
            by_alias("alias/ImportedCMK"),
        )
    });
    let (Some((k1, k1_arn)), Some((k2, k2_arn)), Some((k3, k3_arn))) = (k1, k2, k3) else {
        // Not the workshop seed's keys: nothing to tell.
        return Ok(());
    };
    let day = Duration::days(1);
    let minutes = Duration::minutes;
    let kms = "kms.amazonaws.com";
    let mut past: Vec<Past> = Vec::new();
    let mut push = |at, caller: &Caller, source, op, read_only, params: J, resources| {
        past.push(Past {
            at,
            caller: caller.clone(),
            source,
            op,
            read_only,
            params,
            response: J::Null,
            resources,
            error: None,
            console: false,
        });
    };

    // Section I: the first key (later K1) and the one aliased FirstCMK (K2), from the console.
    let t = now - day * 3;
    let create = |desc: &str, origin: &str| json!({"description": desc, "keySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT", "origin": origin, "bypassPolicyLockoutSafetyCheck": false});
    push(
        t,
        &learner,
        kms,
        "CreateKey",
        false,
        create("KMS Workshop first CMK", "AWS_KMS"),
        vec![key_resource(&k1_arn)],
    );
    push(
        t + minutes(4),
        &learner,
        kms,
        "CreateKey",
        false,
        create("KMS Workshop CMK", "AWS_KMS"),
        vec![key_resource(&k2_arn)],
    );
    push(
        t + minutes(5),
        &learner,
        kms,
        "CreateAlias",
        false,
        json!({"aliasName": "alias/FirstCMK", "targetKeyId": k2}),
        vec![
            TrailResource {
                arn: format!("arn:aws:kms:{region}:{account}:alias/FirstCMK"),
                resource_type: "AWS::KMS::Key".into(),
            },
            key_resource(&k2_arn),
        ],
    );
    // Section I: the instance and its role.
    let ec2 = "ec2.amazonaws.com";
    push(
        t + minutes(20),
        &learner,
        ec2,
        "RunInstances",
        false,
        json!({"instancesSet": {"items": [{"imageId": "ami-0c02fb55956c7d316", "minCount": 1, "maxCount": 1}]}, "instanceType": "t2.micro", "iamInstanceProfile": {"name": kms_workshop_names::sandbox::INSTANCE_ROLE}}),
        Vec::new(),
    );
    // Section II: encrypting and decrypting from the instance with FirstCMK.
    let t = now - day * 3 + Duration::hours(1);
    push(
        t,
        &instance,
        kms,
        "Encrypt",
        true,
        json!({"keyId": "alias/FirstCMK", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        vec![key_resource(&k2_arn)],
    );
    push(
        t + minutes(2),
        &instance,
        kms,
        "Decrypt",
        true,
        json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        vec![key_resource(&k2_arn)],
    );
    push(
        t + minutes(6),
        &instance,
        kms,
        "GenerateDataKey",
        true,
        json!({"keyId": "alias/FirstCMK", "keySpec": "AES_256", "encryptionContext": {"purpose": "envelope-demo"}}),
        vec![key_resource(&k2_arn)],
    );
    past.push(Past {
        at: t + minutes(9),
        caller: instance.clone(),
        source: kms,
        op: "Decrypt",
        read_only: true,
        params: json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"purpose": "wrong"}}),
        response: J::Null,
        resources: vec![key_resource(&k2_arn)],
        error: Some(("InvalidCiphertextException", String::new())),
        console: false,
    });
    // Section III: the key with imported material (K3), and the policies it needed.
    let t = now - day * 2;
    let iam = "iam.amazonaws.com";
    for (i, policy) in [
        "KMS-Workshop-ImportMaterialPermissions",
        "KMSWorkshop-RotationDisableOps",
        "KMSWorkshop-AdditionalPermissions",
    ]
    .into_iter()
    .enumerate()
    {
        past.push(Past {
            at: t + minutes(i as i64),
            caller: learner.clone(),
            source: iam,
            op: "AttachRolePolicy",
            read_only: false,
            params: json!({"roleName": kms_workshop_names::sandbox::INSTANCE_ROLE, "policyArn": format!("arn:aws:iam::{account}:policy/{policy}")}),
            response: J::Null,
            resources: Vec::new(),
            error: None,
            console: true,
        });
    }
    let mut push = |at, caller: &Caller, op, read_only, params: J, arn: &str| {
        past.push(Past {
            at,
            caller: caller.clone(),
            source: kms,
            op,
            read_only,
            params,
            response: J::Null,
            resources: vec![key_resource(arn)],
            error: None,
            console: false,
        });
    };
    push(
        t + minutes(10),
        &instance,
        "CreateKey",
        false,
        create("KMS Workshop CMK with imported key material", "EXTERNAL"),
        &k3_arn,
    );
    push(
        t + minutes(11),
        &instance,
        "GetParametersForImport",
        true,
        json!({"keyId": k3, "wrappingAlgorithm": "RSAES_OAEP_SHA_1", "wrappingKeySpec": "RSA_2048"}),
        &k3_arn,
    );
    push(
        t + minutes(14),
        &instance,
        "ImportKeyMaterial",
        false,
        json!({"keyId": k3, "expirationModel": "KEY_MATERIAL_EXPIRES", "validTo": crate::util::iso8601_secs(now + day * 20)}),
        &k3_arn,
    );
    push(
        t + minutes(15),
        &instance,
        "CreateAlias",
        false,
        json!({"aliasName": "alias/ImportedCMK", "targetKeyId": k3}),
        &k3_arn,
    );
    push(
        t + minutes(16),
        &instance,
        "TagResource",
        false,
        json!({"keyId": k3, "tags": [{"tagKey": "project", "tagValue": "kmsworkshop"}]}),
        &k3_arn,
    );
    // Rotation and deletion exercises: K1 scheduled for deletion with a 7-day window.
    let t = now - day;
    push(
        t,
        &instance,
        "DisableKey",
        false,
        json!({"keyId": k1}),
        &k1_arn,
    );
    push(
        t + minutes(1),
        &instance,
        "EnableKey",
        false,
        json!({"keyId": k1}),
        &k1_arn,
    );
    push(
        t + minutes(3),
        &instance,
        "ScheduleKeyDeletion",
        false,
        json!({"keyId": k1, "pendingWindowInDays": 7}),
        &k1_arn,
    );
    // This morning: looking around before the monitoring chapter.
    let t = now - Duration::hours(3);
    push(
        t,
        &learner,
        "DescribeKey",
        true,
        json!({"keyId": "alias/ImportedCMK"}),
        &k3_arn,
    );
    push(
        t + minutes(1),
        &learner,
        "GetKeyRotationStatus",
        true,
        json!({"keyId": k2}),
        &k2_arn,
    );

    past.sort_by_key(|p| p.at);
    for p in past {
        let request_id = crate::util::uuid();
        let event_id = crate::util::uuid();
        let parts = RecordParts {
            caller: &p.caller,
            region,
            event_source: p.source,
            op: p.op,
            source_ip: if p.caller.access_key_id == instance.access_key_id {
                INSTANCE_IP
            } else {
                LEARNER_IP
            },
            user_agent: if p.console {
                CONSOLE_AGENT
            } else if p.caller.access_key_id == instance.access_key_id {
                INSTANCE_AGENT
            } else {
                LEARNER_AGENT
            },
            error: p.error.as_ref().map(|(c, m)| (*c, m.as_str())),
            request_parameters: p.params,
            response: p.response,
            request_id: &request_id,
            event_id: &event_id,
            read_only: p.read_only,
            resources: &p.resources,
        };
        let ms = (p.at.unix_timestamp_nanos() / 1_000_000) as i64;
        let ms = ms - ms.rem_euclid(1000);
        sb.events.append(
            account,
            region,
            parts.new_event(),
            || (ms, ms),
            |t| parts.render(t).to_string(),
            |line| sb.persist_event(line),
        );
    }
    Ok(())
}
