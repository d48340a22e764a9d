//! The account's part of the set-up: the stack (with its bucket, role and instance profile),
//! the customer policies, what is attached to the role by hand, and the sample files.

use aws_sdk_cloudformation::types::Capability;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use kms_workshop_cleanup::aws::Regional;
use kms_workshop_cleanup::discover::attached_policy_arns;
use kms_workshop_cleanup::exec::ActionOutcome;
use kms_workshop_cleanup::{names, AwsFailure, Executor};
use kms_workshop_names::starting::{SampleEncryption, POLICIES, SAMPLE_FILES, TEMPLATE};

use super::{kept, made, stuck};
use crate::survey::stack_seen;

/// The stack's status and its reason, or `None` when there is none.
async fn stack_status(
    ex: &Executor,
    rc: &Regional,
) -> Result<Option<(String, String)>, AwsFailure> {
    Ok(stack_seen(ex, rc).await?.map(|s| (s.status, s.reason)))
}

/// Create the stack unless it is there, then wait until it is complete.
pub(super) async fn create_stack(ex: &Executor, rc: &Regional) -> ActionOutcome {
    let before = stack_status(ex, rc).await?;
    if matches!(
        before.as_ref().map(|(s, _)| s.as_str()),
        Some("CREATE_COMPLETE" | "UPDATE_COMPLETE")
    ) {
        return kept("the stack is complete");
    }
    if before.is_none() {
        ex.pace()
            .send("CreateStack", || {
                rc.cloudformation
                    .create_stack()
                    .stack_name(names::STACK)
                    .template_body(TEMPLATE)
                    .capabilities(Capability::CapabilityNamedIam)
                    .send()
            })
            .await?;
    }
    ex.wait_until("CreateStack", "the stack to be created", || async {
        match stack_status(ex, rc).await? {
            Some((s, _)) if s == "CREATE_COMPLETE" => Ok(true),
            Some((s, _)) if s.ends_with("_IN_PROGRESS") && !s.contains("ROLLBACK") => Ok(false),
            Some((s, reason)) => Err(stuck(
                "CreateStack",
                "StackNotCreated",
                format!("the stack is {s}: {reason} (kms-workshop cleanup deletes it)"),
            )),
            None => Err(stuck(
                "CreateStack",
                "StackNotCreated",
                "the stack disappeared",
            )),
        }
    })
    .await?;
    made("CREATE_COMPLETE")
}

pub(super) async fn create_policy(ex: &Executor, name: &str) -> ActionOutcome {
    let Some(p) = POLICIES.iter().find(|p| p.name == name) else {
        return Err(stuck(
            "CreatePolicy",
            "UnknownPolicy",
            format!("no policy {name} in the starting state"),
        ));
    };
    let iam = &ex.clients().iam;
    let created = ex
        .pace()
        .send("CreatePolicy", || {
            iam.create_policy()
                .policy_name(p.name)
                .policy_document(p.document())
                .send()
        })
        .await;
    match created {
        Ok(o) => made(
            o.policy()
                .and_then(|p| p.arn())
                .unwrap_or_default()
                .to_string(),
        ),
        // An interrupted run made it (the survey checked any policy that was there before).
        Err(e) if e.code == "EntityAlreadyExists" => kept("made by an earlier attempt"),
        Err(e) => Err(e),
    }
}

pub(super) async fn attach(ex: &Executor, policy_arn: &str) -> ActionOutcome {
    let iam = &ex.clients().iam;
    let attached = attached_policy_arns(iam, ex.pace(), names::ROLE).await?;
    if attached.iter().any(|a| a == policy_arn) {
        return kept("attached already");
    }
    ex.pace()
        .send("AttachRolePolicy", || {
            iam.attach_role_policy()
                .role_name(names::ROLE)
                .policy_arn(policy_arn)
                .send()
        })
        .await?;
    made("")
}

pub(super) async fn put_sample(ex: &Executor, rc: &Regional, key: &str) -> ActionOutcome {
    let Some(f) = SAMPLE_FILES.iter().find(|f| f.key == key) else {
        return Err(stuck(
            "PutObject",
            "UnknownSample",
            format!("no sample file {key}"),
        ));
    };
    let c = ex.clients();
    let bucket = names::bucket(&c.account);
    let s3 = c.s3_for(ex.pace(), &bucket).await?;
    let head = ex
        .pace()
        .send("HeadObject", || {
            s3.head_object()
                .bucket(&bucket)
                .key(key)
                .expected_bucket_owner(&c.account)
                .send()
        })
        .await;
    match head {
        Ok(_) => return kept("uploaded already"),
        Err(e) if e.is_not_found() || e.status == Some(404) => {}
        Err(e) => return Err(e),
    }
    let kms_key = match f.encryption {
        SampleEncryption::S3 => None,
        SampleEncryption::Kms(alias) => Some(super::kms::key_arn(ex, rc, alias).await?),
    };
    ex.pace()
        .send("PutObject", || {
            let req = s3
                .put_object()
                .bucket(&bucket)
                .key(key)
                .content_type("text/plain")
                .expected_bucket_owner(&c.account)
                .body(ByteStream::from_static(f.text.as_bytes()));
            match &kms_key {
                Some(k) => req
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id(k),
                None => req.server_side_encryption(ServerSideEncryption::Aes256),
            }
            .send()
        })
        .await?;
    made("")
}
