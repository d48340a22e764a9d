//! Tags as most services take and answer them: a `Tags` list of `Key`/`Value` members in, a
//! list of two-member objects out. Each service keeps its own limits and error codes (they
//! differ: IAM's 50 and case-insensitive keys, EC2's `InvalidParameterValue`, CloudWatch's
//! required value); what they share is reading and writing the pairs.

use crate::protocol::{AwsError, Input, Value};

/// The `Tags` list as (key, value) pairs: `Key` required (the protocol's missing-parameter
/// error), a missing `Value` empty.
pub fn read(input: &Input) -> Result<Vec<(String, String)>, AwsError> {
    input
        .list("Tags")?
        .iter()
        .map(|t| Ok((t.req_str("Key")?, t.str("Value")?.unwrap_or_default())))
        .collect()
}

/// Tags as a list of `{key_name: …, value_name: …}` objects (`Key`/`Value` for most services,
/// `TagKey`/`TagValue` for KMS).
pub fn list<'a>(
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
    key_name: &str,
    value_name: &str,
) -> Value {
    Value::List(
        tags.into_iter()
            .map(|(k, v)| {
                Value::obj()
                    .with(key_name, k.clone())
                    .with(value_name, v.clone())
            })
            .collect(),
    )
}

/// `{"Tags": [{"Key", "Value"}, …]}`: a ListTagsForResource answer.
pub fn answer<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::obj().with("Tags", list(tags, "Key", "Value"))
}
