//! Step 1: generate a data key under the imported-material key, with the encryption context
//! `project=workshop`, and check the context is bound to the ciphertext.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use base64::Engine;
use kms_workshop_keys::{DataKeySpec, KeysError};
use kms_workshop_names::{CONTEXT_KEY, CONTEXT_VALUE};
use kms_workshop_trail::{TrailEvent, WaitFor};
use time::OffsetDateTime;

use super::{context, Step};
use crate::run::checks::{criteria, Checks};
use crate::run::{Ctx, KEY_ALIAS};

pub struct GenerateDataKey;

criteria! {
    pub enum Check {
        KeyUsable = "key-usable",
        DataKeyGenerated = "data-key-generated",
        ContextBound = "context-bound",
    }
}

/// When the learner met the step (what later steps search CloudTrail from): a data key made
/// for it, by the runner or by the learner, is not older.
pub fn started(cx: &Ctx) -> Option<OffsetDateTime> {
    super::started(cx, GenerateDataKey::ID)
}

/// The request id of the step's GenerateDataKey.
pub fn request_id(cx: &Ctx) -> Option<String> {
    cx.fact(GenerateDataKey::ID, "request_id")
}

/// The ARN of the key behind the alias.
pub fn key_arn(cx: &Ctx) -> Option<String> {
    cx.fact(GenerateDataKey::ID, "key_arn")
}

impl Step for GenerateDataKey {
    const ID: &'static str = "generate-data-key";
    type Criterion = Check;

    async fn perform(cx: &mut Ctx) -> Result<()> {
        let dk = kms_workshop_keys::generate_data_key(
            &cx.kms,
            KEY_ALIAS,
            DataKeySpec::Aes256,
            &context(),
        )
        .await
        .with_context(|| format!("GenerateDataKey with {KEY_ALIAS}"))?;
        // The plaintext key is dropped (and zeroed) here: the workshop only looks at the call.
        cx.set_fact(Self::ID, "key_id", dk.key_id.clone());
        cx.set_fact(Self::ID, "key_arn", dk.key_arn.clone());
        cx.set_fact(
            Self::ID,
            "ciphertext",
            base64::engine::general_purpose::STANDARD.encode(&dk.ciphertext),
        );
        if let Some(r) = &dk.request_id {
            cx.set_fact(Self::ID, "request_id", r.clone());
        }
        cx.ui.say(format!(
            "  Generated a 256-bit data key under {} (request id {}); the plaintext stays in memory only and is gone now.",
            dk.key_arn,
            dk.request_id.as_deref().unwrap_or("?")
        ));
        Ok(())
    }

    async fn verify(cx: &mut Ctx, checks: &mut Checks<Check>) {
        match kms_workshop_keys::describe_key(&cx.kms, KEY_ALIAS).await {
            Ok(k) if k.state == "Enabled" => {
                cx.set_fact(Self::ID, "key_id", k.key_id.clone());
                cx.set_fact(Self::ID, "key_arn", k.arn.clone());
                checks.pass(Check::KeyUsable, format!("{} is Enabled", k.key_id));
            }
            Ok(k) => checks.fail(Check::KeyUsable, format!("{} is {}", k.key_id, k.state)),
            Err(e) => checks.aws(Check::KeyUsable, &e),
        }
        // Done by the learner: find their call in CloudTrail.
        if request_id(cx).is_none() {
            match find_own_call(cx).await {
                Ok(Some(ev)) => {
                    if let Some(r) = ev.record.as_ref().and_then(|r| r.request_id.clone()) {
                        cx.set_fact(Self::ID, "request_id", r);
                    }
                }
                Ok(None) => {}
                Err(e) => checks.error(Check::DataKeyGenerated, e.to_string()),
            }
        }
        match request_id(cx) {
            Some(r) => checks.pass(Check::DataKeyGenerated, format!("request id {r}")),
            None if checks.has(Check::DataKeyGenerated) => {}
            None => checks.fail(
                Check::DataKeyGenerated,
                format!("no GenerateDataKey on {KEY_ALIAS} with {CONTEXT_KEY}={CONTEXT_VALUE} found since the step began"),
            ),
        }
        check_context_bound(cx, checks).await;
    }
}

/// The ciphertext the runner kept decrypts with the context and not without it.
async fn check_context_bound(cx: &Ctx, checks: &mut Checks<Check>) {
    let id = Check::ContextBound;
    let Some(b64) = cx.fact(GenerateDataKey::ID, "ciphertext") else {
        // The learner's own data key never reached the runner: the context is checked in the
        // CloudTrail record by the next step.
        checks.pass(
            id,
            "generated outside the runner: the next step checks the context CloudTrail recorded",
        );
        return;
    };
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default();
    let with = kms_workshop_keys::decrypt(&cx.kms, &blob, &context(), None).await;
    let without = kms_workshop_keys::decrypt(&cx.kms, &blob, &BTreeMap::new(), None).await;
    match (with, without) {
        (Ok(_), Err(KeysError::InvalidCiphertext(_))) => checks.pass(
            id,
            format!("Decrypt succeeds with {CONTEXT_KEY}={CONTEXT_VALUE} and fails with InvalidCiphertextException without it"),
        ),
        (Ok(_), Ok(_)) => checks.fail(id, "the ciphertext decrypts without the context"),
        (Err(e), _) | (_, Err(e)) => checks.aws(id, &e),
    }
}

/// The learner's own GenerateDataKey (done outside the runner) since the step began, once
/// CloudTrail shows it (`None`: not before the deadline, or the learner stopped waiting).
async fn find_own_call(cx: &Ctx) -> Result<Option<TrailEvent>> {
    let since = started(cx).unwrap_or_else(|| OffsetDateTime::now_utc() - time::Duration::hours(1));
    let key = key_arn(cx);
    let wait = WaitFor::matching(
        format!("{KEY_ALIAS} and {CONTEXT_KEY}={CONTEXT_VALUE}"),
        "GenerateDataKey",
        since,
        move |e| {
            // A refused call (access denied, a disabled key) is recorded too: not a data key.
            e.record.as_ref().is_some_and(|r| {
                !r.failed()
                    && r.encryption_context() == Some(context())
                    && r.resources
                        .iter()
                        .any(|x| key.as_deref().is_some_and(|k| x.arn.as_deref() == Some(k)))
            })
        },
    )
    .deadline(cx.cloudtrail_timeout)
    .intervals(super::first_poll(cx), super::max_poll(cx));
    let found = cx
        .ui
        .wait(
            "waiting for CloudTrail to show your GenerateDataKey (about 5 minutes on AWS)",
            kms_workshop_trail::wait_for_event(&cx.trail, wait, |_| {}),
        )
        .await;
    match found {
        None => Ok(None),
        Some(Ok(f)) => Ok(Some(f.event)),
        Some(Err(e)) if e.is_not_there_yet() => Ok(None),
        Some(Err(e)) => Err(e.into()),
    }
}
