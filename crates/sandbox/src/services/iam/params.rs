//! Input members checked as IAM checks them (botocore's constraints: lengths, name, path, ARN
//! and version patterns, enums, tags), each failing with IAM's `ValidationError` message.

use super::errors::{constraint, invalid_input, missing, over_fifty};
use crate::protocol::{AwsError, Input};

/// A required string member.
pub(super) fn req(input: &Input, name: &str) -> Result<String, AwsError> {
    input
        .req_str(name)
        .map_err(|e| e.with_code("ValidationError"))
}

pub(super) fn check_len(member: &str, value: &str, min: usize, max: usize) -> Result<(), AwsError> {
    let n = value.chars().count();
    if n < min {
        return Err(constraint(
            member,
            value,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(constraint(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Names of roles, users, policies and instance profiles: `[\w+=,.@-]+`.
pub(super) fn check_name(member: &str, value: &str, max: usize) -> Result<(), AwsError> {
    check_len(member, value, 1, max)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(constraint(
            member,
            value,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

pub(super) fn name_param(input: &Input, member: &str, max: usize) -> Result<String, AwsError> {
    let v = req(input, member)?;
    check_name(member, &v, max)?;
    Ok(v)
}

/// The optional `UserName` of the user and access key operations (absent: the caller).
pub(super) fn user_name_param(input: &Input) -> Result<Option<String>, AwsError> {
    let name = input.str("UserName")?;
    if let Some(n) = &name {
        check_name("UserName", n, 128)?;
    }
    Ok(name)
}

/// Paths of roles, users and instance profiles: `/` or `/…/` over printable ASCII.
pub(super) fn path_param(input: &Input) -> Result<String, AwsError> {
    let Some(p) = input.str("Path")? else {
        return Ok("/".into());
    };
    check_len("Path", &p, 1, 512)?;
    let ok = p == "/"
        || (p.len() >= 3
            && p.starts_with('/')
            && p.ends_with('/')
            && p.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if !ok {
        return Err(constraint("Path", &p, "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"));
    }
    Ok(p)
}

/// Paths of managed policies: `((/[A-Za-z0-9\.,\+@=_-]+)*)/`.
pub(super) fn policy_path_param(input: &Input, member: &str) -> Result<Option<String>, AwsError> {
    let Some(p) = input.str(member)? else {
        return Ok(None);
    };
    check_len(member, &p, 1, 512)?;
    let ok = p.starts_with('/')
        && p.ends_with('/')
        && !p.contains("//")
        && p.chars()
            .all(|c| c == '/' || c.is_ascii_alphanumeric() || ".,+@=_-".contains(c));
    if !ok {
        return Err(constraint(
            member,
            &p,
            "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/",
        ));
    }
    Ok(Some(p))
}

/// `PathPrefix` of the list operations over roles, users and instance profiles.
pub(super) fn path_prefix(input: &Input) -> Result<String, AwsError> {
    let Some(p) = input.str("PathPrefix")? else {
        return Ok("/".into());
    };
    check_len("PathPrefix", &p, 1, 512)?;
    if !p.starts_with('/') || !p.bytes().skip(1).all(|b| (0x21..=0x7f).contains(&b)) {
        return Err(constraint(
            "PathPrefix",
            &p,
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ));
    }
    Ok(p)
}

pub(super) fn description_param(input: &Input) -> Result<Option<String>, AwsError> {
    let d = input.str("Description")?;
    if let Some(d) = &d {
        check_len("Description", d, 0, 1000)?;
    }
    Ok(d)
}

pub(super) fn policy_arn_param(input: &Input, member: &str) -> Result<String, AwsError> {
    let arn = req(input, member)?;
    check_len(member, &arn, 20, 2048)?;
    check_arn(&arn)?;
    Ok(arn)
}

pub(super) fn check_arn(arn: &str) -> Result<(), AwsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
        return Err(invalid_input(format!("ARN {arn} is not valid.")));
    }
    Ok(())
}

pub(super) fn version_param(input: &Input) -> Result<String, AwsError> {
    let v = req(input, "VersionId")?;
    let ok = v.strip_prefix('v').is_some_and(|rest| {
        let (num, suffix) = rest
            .split_once('.')
            .map_or((rest, None), |(n, s)| (n, Some(s)));
        !num.is_empty()
            && !num.starts_with('0')
            && num.bytes().all(|b| b.is_ascii_digit())
            && suffix.is_none_or(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    if !ok {
        return Err(constraint(
            "VersionId",
            &v,
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ));
    }
    Ok(v)
}

/// An integer member within `min..=max`.
pub(super) fn int_in(
    input: &Input,
    member: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, AwsError> {
    match input.int(member)? {
        Some(n) if n < min => Err(constraint(
            member,
            &n.to_string(),
            &format!("Member must have value greater than or equal to {min}"),
        )),
        Some(n) if n > max => Err(constraint(
            member,
            &n.to_string(),
            &format!("Member must have value less than or equal to {max}"),
        )),
        n => Ok(n),
    }
}

/// An optional member that must be one of `values`.
pub(super) fn enum_param(
    input: &Input,
    member: &str,
    values: &[&str],
) -> Result<Option<String>, AwsError> {
    let v = input.str(member)?;
    if let Some(v) = &v {
        if !values.contains(&v.as_str()) {
            return Err(constraint(
                member,
                v,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ),
            ));
        }
    }
    Ok(v)
}

/// `PolicyUsageFilter` of ListPolicies and ListEntitiesForPolicy.
pub(super) fn usage_filter(input: &Input) -> Result<Option<String>, AwsError> {
    enum_param(
        input,
        "PolicyUsageFilter",
        &["PermissionsPolicy", "PermissionsBoundary"],
    )
}

fn tag_text_ok(k: &str) -> bool {
    k.chars().all(|c| {
        c.is_alphanumeric()
            || c == ' '
            || (c.is_whitespace() && !c.is_control())
            || "_.:/=+-@".contains(c)
    })
}

fn check_tag(key: &str, value: &str) -> Result<(), AwsError> {
    check_len("tags.member.key", key, 1, 128)?;
    if !tag_text_ok(key) {
        return Err(constraint(
            "tags.member.key",
            key,
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
        ));
    }
    check_len("tags.member.value", value, 0, 256)?;
    if !tag_text_ok(value) {
        return Err(constraint(
            "tags.member.value",
            value,
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
        ));
    }
    Ok(())
}

/// `Tags`: at most 50, each checked, keys unique regardless of case.
pub(super) fn parse_tags(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    let items = input.list("Tags")?;
    if items.len() > 50 {
        return Err(over_fifty("tags"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for t in items {
        let key = t.str("Key")?.ok_or_else(|| missing("tags.member.key"))?;
        let value = t.str("Value")?.unwrap_or_default();
        check_tag(&key, &value)?;
        if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            return Err(invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// `TagKeys` of the untag operations: present, at most 50.
pub(super) fn tag_keys_param(input: &Input) -> Result<Vec<String>, AwsError> {
    if !input.has("TagKeys") {
        return Err(missing("TagKeys"));
    }
    let keys = input.str_list("TagKeys")?;
    if keys.len() > 50 {
        return Err(over_fifty("tagKeys"));
    }
    Ok(keys)
}
