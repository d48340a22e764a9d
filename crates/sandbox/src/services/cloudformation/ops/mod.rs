//! CloudFormation's operations, one function each: stacks ([`stacks`]), their resources and
//! events ([`resources`]), templates ([`templates`]); and what they share.

pub mod resources;
pub mod stacks;
pub mod templates;

use super::errors::{missing, no_stack, validation};
use super::state::{CfnState, Stack};
use crate::protocol::{AwsError, Input};
use crate::services::Call;

/// The stack a name (live stacks only) or stack id (deleted ones too) names.
pub(super) fn stack_index(st: &CfnState, name: &str) -> Option<usize> {
    if name.starts_with("arn:") {
        st.stacks.iter().position(|s| s.id == name)
    } else {
        st.stacks.iter().position(|s| s.name == name && s.live())
    }
}

/// A copy of the stack named by `StackName`, or (`allow_physical`) the stack that has the
/// resource `PhysicalResourceId`.
fn find_stack(cx: &Call<'_>, input: &Input, allow_physical: bool) -> Result<Stack, AwsError> {
    let name = input.str("StackName")?;
    let physical = if allow_physical {
        input.str("PhysicalResourceId")?
    } else {
        None
    };
    cx.sandbox
        .read::<CfnState, _>(cx.account(), &cx.region, |st| match (&name, &physical) {
            (Some(n), _) => stack_index(st, n)
                .map(|i| st.stacks[i].clone())
                .ok_or_else(|| no_stack(n)),
            (None, Some(p)) => st
                .stacks
                .iter()
                .rev()
                .find(|s| {
                    s.resources
                        .iter()
                        .any(|r| r.physical_id.as_deref() == Some(p.as_str()))
                })
                .cloned()
                .ok_or_else(|| validation(format!("Stack for {p} does not exist"))),
            (None, None) => Err(missing("StackName")),
        })
}

/// The template a request carries (`TemplateBody` only: the sandbox fetches no URLs).
fn template_body(input: &Input) -> Result<String, AwsError> {
    match (input.str("TemplateBody")?, input.str("TemplateURL")?) {
        (Some(b), None) if b.len() > 51_200 => Err(validation(
            "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200",
        )),
        (Some(b), None) => Ok(b),
        (Some(_), Some(_)) => Err(validation(
            "Specify exactly one of TemplateBody or TemplateUrl.",
        )),
        (None, Some(_)) => Err(validation(
            "TemplateURL must be a supported URL. (The sandbox takes templates as TemplateBody only.)",
        )),
        (None, None) => Err(validation(
            "Either Template URL or Template Body must be specified.",
        )),
    }
}

/// A required string member.
fn required(input: &Input, name: &str) -> Result<String, AwsError> {
    input.str(name)?.ok_or_else(|| missing(name))
}
