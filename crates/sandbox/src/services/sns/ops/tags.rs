//! Topic tags.

use crate::common::tags;
use crate::protocol::{AwsError, Input, Value};
use crate::services::sns::errors::resource_not_found;
use crate::services::sns::state::SnsState;
use crate::services::Call;

pub(crate) fn tag_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = input.req_str("ResourceArn")?;
    let tags = tags::read(input)?;
    cx.sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| {
            let t = st.topics.get_mut(&arn).ok_or_else(resource_not_found)?;
            t.tags.extend(tags);
            if t.tags.len() > 50 {
                return Err(AwsError::new(
                    400,
                    "TagLimitExceeded",
                    "Could not complete request: tag quota of per resource exceeded",
                ));
            }
            // An empty output shape: `<TagResourceResult/>`, as AWS answers.
            Ok(Value::obj())
        })
}

pub(crate) fn untag_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = input.req_str("ResourceArn")?;
    let keys = input.str_list("TagKeys")?;
    cx.sandbox
        .write::<SnsState, _>(cx.account(), &cx.region, |st| {
            let t = st.topics.get_mut(&arn).ok_or_else(resource_not_found)?;
            for k in &keys {
                t.tags.remove(k);
            }
            Ok(Value::obj())
        })
}

pub(crate) fn list_tags_for_resource(cx: &mut Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let arn = input.req_str("ResourceArn")?;
    cx.sandbox
        .read::<SnsState, _>(cx.account(), &cx.region, |st| {
            let t = st.topics.get(&arn).ok_or_else(resource_not_found)?;
            Ok(Value::obj().with("Tags", tags::list(&t.tags, "Key", "Value")))
        })
}
