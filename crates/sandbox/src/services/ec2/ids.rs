//! How EC2 names things: resource ids (`i-…`, `vol-…`), the ids derived from an account (default
//! VPC, subnet, security group, instance profile ids) and the addresses instances get.

use rand::Rng;
use sha2::{Digest, Sha256};

/// A fresh id: `prefix-` and 17 random hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        crate::util::random_id(b"0123456789abcdef", 17)
    )
}

/// A stable id derived from `seed` (default VPC, subnet, security group, profile ids).
pub(crate) fn derived_hex(seed: &str, n: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    hex::encode(digest).chars().take(n).collect()
}

/// `prefix-` followed by 8 or 17 lower-case hex digits.
pub(crate) fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| {
            (h.len() == 8 || h.len() == 17)
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The id EC2 shows for the instance profile `arn` (`AIPA…`).
pub(crate) fn profile_id(arn: &str) -> String {
    format!("AIPA{}", derived_hex(arn, 17).to_ascii_uppercase())
}

/// Network placement derived from the account and region: the default VPC, one default subnet
/// per availability zone, the default security group.
pub(crate) fn default_network(account: &str, region: &str, az: &str) -> (String, String, String) {
    let vpc = format!(
        "vpc-{}",
        derived_hex(&format!("vpc/{account}/{region}"), 17)
    );
    let subnet = format!(
        "subnet-{}",
        derived_hex(&format!("subnet/{account}/{az}"), 17)
    );
    let sg = format!("sg-{}", derived_hex(&format!("sg/{account}/{region}"), 17));
    (vpc, subnet, sg)
}

pub(crate) fn random_private_ip() -> String {
    let mut r = rand::thread_rng();
    format!("172.31.{}.{}", r.gen_range(16..96), r.gen_range(4..255))
}

pub(crate) fn random_public_ip() -> String {
    let mut r = rand::thread_rng();
    format!(
        "{}.{}.{}.{}",
        [3, 18, 34, 44, 52, 54][r.gen_range(0..6)],
        r.gen_range(0..256),
        r.gen_range(0..256),
        r.gen_range(1..255)
    )
}
