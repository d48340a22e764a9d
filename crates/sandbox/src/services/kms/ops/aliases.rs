//! Aliases: friendly names (`alias/…`) for keys.

use super::{read, resolve, touch, write};
use crate::protocol::{AwsError, Input, Value};
use crate::services::kms::errors::{alias_not_found, pending_deletion};
use crate::services::kms::state::{alias_arn, Alias};
use crate::services::kms::views;
use crate::services::Call;

/// What the model cannot say about an alias name (its length and characters are checked
/// from the model before this): the prefix, with KMS's own message, and the prefix reserved
/// for AWS managed keys.
fn check_alias_name(name: &str) -> Result<(), AwsError> {
    if !name.starts_with("alias/") || name.len() <= 6 {
        return Err(AwsError::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(AwsError::new(
            400,
            "InvalidAliasNameException",
            "Alias names beginning with 'alias/aws/' are reserved for AWS managed keys.",
        ));
    }
    Ok(())
}

pub fn create_alias(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    point_alias(cx, input, true)
}

pub fn update_alias(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    point_alias(cx, input, false)
}

/// CreateAlias (`create`) or UpdateAlias: the alias names the target key from now on.
fn point_alias(cx: &mut Call<'_>, input: &Input, create: bool) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let name = input.req_str("AliasName")?;
        check_alias_name(&name)?;
        let target_raw = input.req_str("TargetKeyId")?;
        let target = resolve(cx, st, &target_raw, false)?;
        let k = &st.keys[&target];
        touch(cx, k);
        if k.deletion_date.is_some() {
            return Err(pending_deletion(&k.arn));
        }
        let arn = alias_arn(&cx.region, cx.account(), &name);
        let now = cx.now;
        match (create, st.aliases.get_mut(&name)) {
            (true, Some(_)) => Err(AwsError::new(
                400,
                "AlreadyExistsException",
                format!("An alias with the name {arn} already exists"),
            )),
            (true, None) => {
                let alias = Alias {
                    name: name.clone(),
                    arn,
                    target,
                    created: now,
                    updated: now,
                };
                st.aliases.insert(name, alias);
                Ok(Value::Null)
            }
            (false, Some(a)) => {
                a.target = target;
                a.updated = now;
                Ok(Value::Null)
            }
            (false, None) => Err(alias_not_found(&arn)),
        }
    })
}

pub fn delete_alias(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    write(cx, |cx, st| {
        let name = input.req_str("AliasName")?;
        let a = st
            .aliases
            .remove(&name)
            .ok_or_else(|| alias_not_found(&alias_arn(&cx.region, cx.account(), &name)))?;
        if let Some(k) = st.keys.get(&a.target) {
            touch(cx, k);
        }
        Ok(Value::Null)
    })
}

/// The aliases AWS reserves for its services' managed keys: ListAliases shows each in every
/// account and region, without a target until the service first uses its key.
const PREDEFINED: [&str; 14] = [
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/sns",
    "alias/aws/ssm",
];

pub fn list_aliases(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    read(cx, |cx, st| {
        let filter = match input.str("KeyId")? {
            Some(raw) => Some(resolve(cx, st, &raw, false)?),
            None => None,
        };
        let mut entries: Vec<(String, Value)> = st
            .aliases
            .values()
            .filter(|a| filter.as_ref().is_none_or(|f| &a.target == f))
            .map(|a| (a.name.clone(), views::alias_entry(a)))
            .collect();
        if filter.is_none() {
            let (region, account) = (cx.region.clone(), cx.account().to_string());
            entries.extend(
                PREDEFINED
                    .iter()
                    .filter(|p| !st.aliases.contains_key(**p))
                    .map(|p| {
                        (
                            p.to_string(),
                            views::predefined_alias(p, &alias_arn(&region, &account, p)),
                        )
                    }),
            );
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let values: Vec<Value> = entries.into_iter().map(|(_, v)| v).collect();
        let (list, next) = super::page(input, &values)?;
        Ok(views::with_page(
            Value::obj().with("Aliases", Value::List(list)),
            next,
        ))
    })
}
