//! The starting state of the monitoring chapter, as data: what a learner's account holds when
//! the chapter begins (docs/ARCHITECTURE.md, "The starting state"; shared/DESIGN.md section 2).
//!
//! `kms-workshop prepare` makes this state in an account (AWS or a sandbox) and the sandbox's
//! `--seed workshop` is checked against it; both read it from here, so they cannot drift apart.
//! Only the parts a person would otherwise type are defined: the template, the policies'
//! actions and documents, the keys, the volume, the sample files, the AMI parameter.

/// The workshop's CloudFormation template (the bucket, the role and its instance profile).
pub const TEMPLATE: &str = include_str!("workshop-template.yaml");

/// The public SSM parameter that names the current Amazon Linux AMI (AWS's recommended way to
/// resolve it rather than a hard-coded id).
pub const AMI_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// Days the imported key material stays valid unless told otherwise: the chapter's alarm on
/// `SecondsUntilKeyMaterialExpiration` then has something to say.
pub const MATERIAL_DAYS: u32 = 20;

/// The waiting period of the key section I leaves pending deletion.
pub const PENDING_WINDOW_DAYS: i32 = 7;

/// One of the customer-managed policies the learner creates and attaches to the role by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerPolicy {
    pub name: &'static str,
    pub actions: &'static [&'static str],
}

/// The learner's policies (import, rotation and deletion, encryption), in the order the
/// workshop creates them; their names are [`crate::CUSTOMER_POLICIES`].
pub const POLICIES: [CustomerPolicy; 3] = [
    CustomerPolicy {
        name: crate::CUSTOMER_POLICIES[0],
        actions: &["kms:ImportKeyMaterial"],
    },
    CustomerPolicy {
        name: crate::CUSTOMER_POLICIES[1],
        actions: &[
            "kms:DisableKey",
            "kms:EnableKey",
            "kms:ScheduleKeyDeletion",
            "kms:UpdateAlias",
            "kms:DeleteImportedKeyMaterial",
        ],
    },
    CustomerPolicy {
        name: crate::CUSTOMER_POLICIES[2],
        actions: &[
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:TagResource",
            "kms:UntagResource",
        ],
    },
];

impl CustomerPolicy {
    /// The document as the console's visual editor writes it (pretty JSON, two-space indent).
    pub fn document(&self) -> String {
        policy_document(self.actions)
    }
}

/// An `Allow` of `actions` on every resource, as the console's visual editor writes it.
/// Written out by hand because this crate has no dependencies; the actions are plain
/// `service:Operation` names, which need no escaping.
pub fn policy_document(actions: &[&str]) -> String {
    let action = match actions {
        [one] => format!("\"{one}\""),
        many => {
            let items: Vec<String> = many.iter().map(|a| format!("        \"{a}\"")).collect();
            format!("[\n{}\n      ]", items.join(",\n"))
        }
    };
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Sid\": \"VisualEditor0\",\n      \"Effect\": \"Allow\",\n      \"Action\": {action},\n      \"Resource\": \"*\"\n    }}\n  ]\n}}"
    )
}

/// What the learner attaches to [`crate::ROLE`] by hand: the AWS-managed power-user policy
/// and the three customer policies (their ARNs in `account`).
pub fn attached_by_hand(account: &str) -> Vec<String> {
    let mut arns = vec![crate::KMS_POWER_USER_POLICY.to_string()];
    arns.extend(
        POLICIES
            .iter()
            .map(|p| format!("arn:aws:iam::{account}:policy/{}", p.name)),
    );
    arns
}

/// The workshop's keys, by the part each plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyRole {
    /// Section I's first key, scheduled for deletion when section I ends (optional).
    Pending,
    /// `alias/FirstCMK`.
    First,
    /// `alias/ImportedCMK`: origin EXTERNAL, with imported material that expires.
    Imported,
}

/// One key of the starting state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub role: KeyRole,
    pub description: &'static str,
    /// Origin EXTERNAL (material imported), else AWS_KMS.
    pub external: bool,
    pub alias: Option<&'static str>,
}

/// The keys, in the order the workshop creates them.
pub const KEYS: [KeySpec; 3] = [
    KeySpec {
        role: KeyRole::Pending,
        description: "KMS Workshop first CMK",
        external: false,
        alias: None,
    },
    KeySpec {
        role: KeyRole::First,
        description: "KMS Workshop CMK",
        external: false,
        alias: Some(crate::FIRST_ALIAS),
    },
    KeySpec {
        role: KeyRole::Imported,
        description: "KMS Workshop CMK with imported key material",
        external: true,
        alias: Some(crate::IMPORTED_ALIAS),
    },
];

impl KeyRole {
    /// The tag value that marks a key made for this role (under [`KEY_ROLE_TAG`]), so that a
    /// set-up interrupted between creating a key and naming it finds the key again.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Pending => "pending",
            KeyRole::First => "first",
            KeyRole::Imported => "imported",
        }
    }

    /// The role whose [`KeyRole::as_str`] is `s`.
    pub fn parse(s: &str) -> Option<KeyRole> {
        KEYS.iter().map(|k| k.role).find(|r| r.as_str() == s)
    }

    pub fn spec(self) -> &'static KeySpec {
        match self {
            KeyRole::Pending => &KEYS[0],
            KeyRole::First => &KEYS[1],
            KeyRole::Imported => &KEYS[2],
        }
    }
}

/// The tag key naming a workshop key's [`KeyRole`]; every workshop key also carries
/// [`crate::TAG_KEY`]=[`crate::TAG_VALUE`].
pub const KEY_ROLE_TAG: &str = "kmsworkshop-key";

/// The `WorkshopEBS` volume: encrypted with `alias/ImportedCMK`, attached to the instance.
pub const VOLUME_SIZE_GIB: i32 = 100;
pub const VOLUME_TYPE: &str = "gp2";
pub const VOLUME_DEVICE: &str = "/dev/sdf";

/// How a sample file is encrypted at rest in the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEncryption {
    /// SSE-S3 (`AES256`).
    S3,
    /// SSE-KMS under this alias.
    Kms(&'static str),
}

/// A file the learner uploaded to the stack's bucket in sections I and II.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleFile {
    pub key: &'static str,
    pub text: &'static str,
    pub encryption: SampleEncryption,
}

/// The text of the workshop's sample file.
pub const SAMPLE_TEXT: &str = "This is a sample file for the AWS KMS workshop.\nIt will be encrypted and decrypted with AWS KMS.\n";

pub const SAMPLE_FILES: [SampleFile; 2] = [
    SampleFile {
        key: "SampleFile-KMS.txt",
        text: SAMPLE_TEXT,
        encryption: SampleEncryption::S3,
    },
    SampleFile {
        key: "SampleFile-KMS-encrypted.txt",
        text: SAMPLE_TEXT,
        encryption: SampleEncryption::Kms(crate::FIRST_ALIAS),
    },
];

/// What a day of the starting state costs on AWS, in US dollars, for the typed confirmation:
/// the instance (on-demand, Linux, us-east-1 list price of the smallest free-tier type; free
/// within the free tier), the volume (gp2 per GB-month) and the two keys that are not pending
/// deletion (per key-month; a key pending deletion is not charged).
pub fn daily_cost_usd(instance_hourly_usd: f64) -> f64 {
    let keys = 2.0 * 1.0 / 30.0;
    let volume = f64::from(VOLUME_SIZE_GIB) * 0.10 / 30.0;
    instance_hourly_usd * 24.0 + keys + volume
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_json_with_the_actions() {
        assert_eq!(
            policy_document(&["kms:ImportKeyMaterial"]),
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"VisualEditor0\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"kms:ImportKeyMaterial\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
        );
        let two = policy_document(&["kms:A", "kms:B"]);
        assert!(two.contains("\"Action\": [\n        \"kms:A\",\n        \"kms:B\"\n      ]"));
    }

    #[test]
    fn every_key_role_has_its_spec() {
        for k in KEYS {
            assert_eq!(k.role.spec(), &k);
        }
        assert_eq!(attached_by_hand("111122223333").len(), 4);
    }
}
