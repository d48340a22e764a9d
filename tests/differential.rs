//! Differential test: the same KMS and STS requests, sent through the Rust SDK to `moto_server`
//! and to the sandbox binary (`--seed empty`), must get answers of the same shape (members
//! present and their JSON types, KeyMetadata members, enum values) and the same error codes.
//!
//! moto is a second opinion, not the reference: where it is known to differ from AWS (the
//! botocore models and the KMS API reference), that member or operation is left out, with the
//! reason next to it. Needs `moto_server` from the test virtualenv (`scripts/test` creates it).
#![allow(clippy::unwrap_used)]

use crate::common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{AlgorithmSpec, DataKeySpec, OriginType, Tag, WrappingKeySpec};
use common::differential::*;

const KEY_METADATA_ENUMS: &[&str] = &[
    "KeyMetadata.KeyState",
    "KeyMetadata.Origin",
    "KeyMetadata.KeyManager",
    "KeyMetadata.KeySpec",
    "KeyMetadata.CustomerMasterKeySpec",
    "KeyMetadata.EncryptionAlgorithms",
    "KeyMetadata.Enabled",
    "KeyMetadata.Description",
];

/// KeyMetadata members moto 5.2 gets wrong, compared with the KMS API reference:
/// - `KeyUsage`, `MultiRegion`: moto leaves them null unless the request sets them; AWS always
///   returns them (`ENCRYPT_DECRYPT`, `false` for these keys).
/// - `SigningAlgorithms`: for the same reason (no KeyUsage) moto lists signing algorithms for
///   a symmetric key; AWS returns them for SIGN_VERIFY keys only.
/// - `PendingDeletionWindowInDays`: AWS returns it while a key is pending deletion; moto never.
/// - `CurrentKeyMaterialId` (2025) is newer than moto 5.2.
const MOTO_KEY_METADATA_GAPS: &[&str] = &[
    "KeyMetadata.KeyUsage",
    "KeyMetadata.MultiRegion",
    "KeyMetadata.SigningAlgorithms",
    "KeyMetadata.PendingDeletionWindowInDays",
    "KeyMetadata.CurrentKeyMaterialId",
];

/// For a key created with `Origin=EXTERNAL`, AWS answers `KeyState=PendingImport`,
/// `Enabled=false` until material is imported; moto 5.2 answers `Enabled`/`true`.
const EXTERNAL_KEY_METADATA: &[&str] = &[
    "KeyMetadata.KeyUsage",
    "KeyMetadata.MultiRegion",
    "KeyMetadata.SigningAlgorithms",
    "KeyMetadata.CurrentKeyMaterialId",
    "KeyMetadata.KeyState",
    "KeyMetadata.Enabled",
];
const EXTERNAL_KEY_ENUMS: &[&str] = &[
    "KeyMetadata.Origin",
    "KeyMetadata.KeyManager",
    "KeyMetadata.KeySpec",
    "KeyMetadata.EncryptionAlgorithms",
];

/// A key a request names: one a side created (by role), or a fixed id or alias.
#[derive(Clone, Copy)]
enum Key {
    Role(&'static str),
    Id(&'static str),
}

impl Key {
    fn on(self, side: &Side) -> String {
        match self {
            Key::Role(role) => side.id(role),
            Key::Id(id) => id.to_string(),
        }
    }
}

/// The KMS requests compared with a key id alone.
#[derive(Clone, Copy)]
enum ByKey {
    DescribeKey,
    ListAliases,
    DisableKey,
    EnableKey,
    ListResourceTags,
    GetKeyRotationStatus,
    EnableKeyRotation,
    CancelKeyDeletion,
}

/// Send `call` for `key` to both sides and compare the answers under `check`.
async fn by_key(
    sides: &mut [Side; 2],
    report: &mut Report,
    call: ByKey,
    key: Key,
    check: Check<'_>,
) {
    // The same request but for the operation: `$op` of `key` on each side.
    macro_rules! with_key {
        ($op:ident) => {
            both!(sides, |side| side
                .kms
                .$op()
                .key_id(key.on(side))
                .send()
                .await)
        };
    }
    let (m, s) = match call {
        ByKey::DescribeKey => with_key!(describe_key),
        ByKey::ListAliases => with_key!(list_aliases),
        ByKey::DisableKey => with_key!(disable_key),
        ByKey::EnableKey => with_key!(enable_key),
        ByKey::ListResourceTags => with_key!(list_resource_tags),
        ByKey::GetKeyRotationStatus => with_key!(get_key_rotation_status),
        ByKey::EnableKeyRotation => with_key!(enable_key_rotation),
        ByKey::CancelKeyDeletion => with_key!(cancel_key_deletion),
    };
    report.compare(check, &m, &s);
}

/// DescribeKey of the main key, compared with the members moto gets right.
fn main_key_check(op: &str) -> Check<'_> {
    Check::new(op)
        .ignore(MOTO_KEY_METADATA_GAPS)
        .values(KEY_METADATA_ENUMS)
}

/// Keys: CreateKey (AWS_KMS and EXTERNAL), DescribeKey, ListKeys, aliases.
async fn key_operations(sides: &mut [Side; 2], report: &mut Report) {
    let created = [
        // The main key is created without an Origin, as most callers do.
        ("main", None, main_key_check("kms:CreateKey")),
        (
            "external",
            Some(OriginType::External),
            Check::new("kms:CreateKey (Origin=EXTERNAL)")
                .ignore(EXTERNAL_KEY_METADATA)
                .values(EXTERNAL_KEY_ENUMS),
        ),
    ];
    for (role, origin, check) in created {
        compare!(report, sides, check, |side| {
            let r = side
                .kms
                .create_key()
                .set_origin(origin.clone())
                .description("differential")
                .send()
                .await;
            let id = r
                .as_ref()
                .ok()
                .and_then(|o| o.key_metadata())
                .map(|m| m.key_id());
            side.keep(role, id);
            r
        });
    }
    let described = [
        (Key::Role("main"), main_key_check("kms:DescribeKey")),
        (
            Key::Role("external"),
            Check::new("kms:DescribeKey (EXTERNAL)")
                .ignore(EXTERNAL_KEY_METADATA)
                .values(EXTERNAL_KEY_ENUMS),
        ),
        (
            Key::Id("1234abcd-12ab-34cd-56ef-1234567890ab"),
            Check::new("kms:DescribeKey (missing key)"),
        ),
        (
            Key::Id("alias/does-not-exist"),
            Check::new("kms:DescribeKey (missing alias)"),
        ),
    ];
    for (key, check) in described {
        by_key(sides, report, ByKey::DescribeKey, key, check).await;
    }
    compare!(
        report,
        sides,
        Check::new("kms:ListKeys").values(&["Truncated"]),
        |side| side.kms.list_keys().send().await
    );

    // Aliases. moto 5.2 leaves out each alias's CreationDate and LastUpdatedDate (AWS has
    // returned them since 2020; moto's code says "TODO"), and lists AWS-managed aliases that
    // an empty account does not have yet.
    for check in [
        Check::new("kms:CreateAlias"),
        Check::new("kms:CreateAlias (duplicate)"),
    ] {
        compare!(report, sides, check, |side| {
            side.kms
                .create_alias()
                .alias_name("alias/differential")
                .target_key_id(side.id("main"))
                .send()
                .await
        });
    }
    let alias_gaps: &[&str] = &["Aliases[].CreationDate", "Aliases[].LastUpdatedDate"];
    by_key(
        sides,
        report,
        ByKey::ListAliases,
        Key::Role("main"),
        Check::new("kms:ListAliases (KeyId)")
            .ignore(alias_gaps)
            .values(&["Truncated"]),
    )
    .await;
    compare!(
        report,
        sides,
        Check::new("kms:ListAliases")
            .ignore(alias_gaps)
            .values(&["Truncated"]),
        |side| side.kms.list_aliases().send().await
    );
}

/// Encrypt / Decrypt with an encryption context, and data keys.
async fn crypto_operations(sides: &mut [Side; 2], report: &mut Report) {
    // AWS answers EncryptionAlgorithm (SYMMETRIC_DEFAULT) to Encrypt and Decrypt; moto 5.2
    // leaves it out.
    compare!(
        report,
        sides,
        Check::new("kms:Encrypt").ignore(&["EncryptionAlgorithm"]),
        |side| {
            let r = side
                .kms
                .encrypt()
                .key_id("alias/differential")
                .plaintext(Blob::new(b"differential".to_vec()))
                .encryption_context("project", "workshop")
                .send()
                .await;
            if let Ok(o) = &r {
                side.ciphertext = o.ciphertext_blob().cloned();
            }
            r
        }
    );
    let decrypted = [
        (
            "workshop",
            Check::new("kms:Decrypt").ignore(&["EncryptionAlgorithm"]),
        ),
        ("other", Check::new("kms:Decrypt (other context)")),
    ];
    for (context, check) in decrypted {
        compare!(report, sides, check, |side| {
            side.kms
                .decrypt()
                .ciphertext_blob(side.ciphertext.clone().unwrap())
                .encryption_context("project", context)
                .send()
                .await
        });
    }

    let data_keys = [
        (
            Some(DataKeySpec::Aes256),
            None,
            Some(("project", "workshop")),
            Check::new("kms:GenerateDataKey"),
        ),
        (
            None,
            Some(64),
            None,
            Check::new("kms:GenerateDataKey (NumberOfBytes)"),
        ),
    ];
    for (spec, bytes, context, check) in data_keys {
        compare!(report, sides, check, |side| {
            let mut call = side
                .kms
                .generate_data_key()
                .key_id(side.id("main"))
                .set_key_spec(spec.clone())
                .set_number_of_bytes(bytes);
            if let Some((k, v)) = context {
                call = call.encryption_context(k, v);
            }
            call.send().await
        });
    }
    compare!(
        report,
        sides,
        Check::new("kms:GenerateDataKeyWithoutPlaintext"),
        |side| {
            side.kms
                .generate_data_key_without_plaintext()
                .key_id(side.id("main"))
                .key_spec(DataKeySpec::Aes128)
                .send()
                .await
        }
    );
}

/// Enable / disable, tags, policy and rotation, import parameters.
async fn key_state_operations(sides: &mut [Side; 2], report: &mut Report) {
    let main = Key::Role("main");
    by_key(
        sides,
        report,
        ByKey::DisableKey,
        main,
        Check::new("kms:DisableKey"),
    )
    .await;
    by_key(
        sides,
        report,
        ByKey::DescribeKey,
        main,
        main_key_check("kms:DescribeKey (disabled)"),
    )
    .await;
    by_key(
        sides,
        report,
        ByKey::EnableKey,
        main,
        Check::new("kms:EnableKey"),
    )
    .await;

    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    compare!(report, sides, Check::new("kms:TagResource"), |side| {
        side.kms
            .tag_resource()
            .key_id(side.id("main"))
            .tags(tag("project", "kmsworkshop"))
            .tags(tag("team", "a"))
            .send()
            .await
    });
    let tag_values: &[&str] = &["Tags", "Truncated"];
    let list_tags = |op| Check::new(op).values(tag_values);
    by_key(
        sides,
        report,
        ByKey::ListResourceTags,
        main,
        list_tags("kms:ListResourceTags"),
    )
    .await;
    compare!(report, sides, Check::new("kms:UntagResource"), |side| side
        .kms
        .untag_resource()
        .key_id(side.id("main"))
        .tag_keys("team")
        .send()
        .await);
    by_key(
        sides,
        report,
        ByKey::ListResourceTags,
        main,
        list_tags("kms:ListResourceTags (after untag)"),
    )
    .await;

    // Policy and rotation. AWS answers GetKeyPolicy with PolicyName, and GetKeyRotationStatus
    // with KeyId, RotationPeriodInDays and NextRotationDate (2024); moto 5.2 has neither.
    compare!(
        report,
        sides,
        Check::new("kms:GetKeyPolicy").ignore(&["PolicyName"]),
        |side| side
            .kms
            .get_key_policy()
            .key_id(side.id("main"))
            .policy_name("default")
            .send()
            .await
    );
    let rotation = |op| {
        Check::new(op)
            .ignore(&["KeyId", "RotationPeriodInDays", "NextRotationDate"])
            .values(&["KeyRotationEnabled"])
    };
    let steps = [
        (
            ByKey::GetKeyRotationStatus,
            main,
            rotation("kms:GetKeyRotationStatus"),
        ),
        (
            ByKey::EnableKeyRotation,
            main,
            Check::new("kms:EnableKeyRotation"),
        ),
        (
            ByKey::GetKeyRotationStatus,
            main,
            rotation("kms:GetKeyRotationStatus (enabled)"),
        ),
        (
            ByKey::EnableKeyRotation,
            Key::Role("external"),
            Check::new("kms:EnableKeyRotation (EXTERNAL)").moto_differs(
                "moto enables rotation of keys with imported material; AWS refuses",
                "UnsupportedOperationException",
            ),
        ),
    ];
    for (call, key, check) in steps {
        by_key(sides, report, call, key, check).await;
    }

    // Import parameters for the EXTERNAL key: moto 5.2 does not implement the operation (it
    // answers 500), so only the sandbox's answer is checked (against the botocore model).
    compare!(
        report,
        sides,
        Check::new("kms:GetParametersForImport").moto_differs("not implemented by moto 5.2", "ok"),
        |side| {
            side.kms
                .get_parameters_for_import()
                .key_id(side.id("external"))
                .wrapping_key_spec(WrappingKeySpec::Rsa2048)
                .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
                .send()
                .await
        }
    );
}

/// ScheduleKeyDeletion of the main key with `days`, compared under `check`.
async fn schedule_deletion(
    sides: &mut [Side; 2],
    report: &mut Report,
    days: i32,
    check: Check<'_>,
) {
    compare!(report, sides, check, |side| {
        side.kms
            .schedule_key_deletion()
            .key_id(side.id("main"))
            .pending_window_in_days(days)
            .send()
            .await
    });
}

/// The deletion window. AWS answers ScheduleKeyDeletion with KeyState and PendingWindowInDays
/// too; moto 5.2 with KeyId and DeletionDate only, and it accepts any window (AWS: 7–30).
async fn deletion_operations(sides: &mut [Side; 2], report: &mut Report) {
    let main = Key::Role("main");
    schedule_deletion(
        sides,
        report,
        7,
        Check::new("kms:ScheduleKeyDeletion").ignore(&["KeyState", "PendingWindowInDays"]),
    )
    .await;
    by_key(
        sides,
        report,
        ByKey::DescribeKey,
        main,
        main_key_check("kms:DescribeKey (pending deletion)"),
    )
    .await;
    schedule_deletion(
        sides,
        report,
        7,
        Check::new("kms:ScheduleKeyDeletion (again)").moto_differs(
            "moto reschedules a key already pending deletion; AWS refuses",
            "KMSInvalidStateException",
        ),
    )
    .await;
    by_key(
        sides,
        report,
        ByKey::CancelKeyDeletion,
        main,
        Check::new("kms:CancelKeyDeletion"),
    )
    .await;
    by_key(
        sides,
        report,
        ByKey::DescribeKey,
        main,
        main_key_check("kms:DescribeKey (deletion cancelled)"),
    )
    .await;
    schedule_deletion(
        sides,
        report,
        3,
        Check::new("kms:ScheduleKeyDeletion (window 3)").moto_differs(
            "moto accepts any window; AWS requires 7-30 days",
            "ValidationException",
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_and_sts_answers_match_moto() {
    let moto_proc = common::MotoProc::start();
    let sandbox_proc = common::SandboxProc::start(&["--seed", "empty"]);
    let sides = &mut Side::pair(&moto_proc.endpoint, &sandbox_proc.endpoint, Dialect::Query).await;
    let report = &mut Report::new(botocore_outputs(&["kms", "sts"]));

    // STS: who am I (the identity differs, the shape must not).
    compare!(report, sides, Check::new("sts:GetCallerIdentity"), |side| {
        side.sts.get_caller_identity().send().await
    });
    key_operations(sides, report).await;
    crypto_operations(sides, report).await;
    key_state_operations(sides, report).await;
    deletion_operations(sides, report).await;

    report.finish(
        "differential: moto_server vs the sandbox (Rust SDK, same requests)",
        (36, 48),
    );
}
