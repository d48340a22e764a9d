//! Alarm history: DescribeAlarmHistory.

use super::{ascending, max_records, page};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudwatch::errors::{enum_error, q};
use crate::services::cloudwatch::state::{CloudWatchState, HistoryItem};
use crate::services::cloudwatch::views;
use crate::services::Call;

const TYPES: [&str; 5] = [
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
];

pub(crate) fn describe_alarm_history(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let name = q(input.str("AlarmName"))?;
    let item_type = q(input.str("HistoryItemType"))?;
    if let Some(t) = &item_type {
        if !TYPES.contains(&t.as_str()) {
            return Err(enum_error("historyItemType", t, &TYPES));
        }
    }
    let start = q(input.time("StartDate"))?;
    let end = q(input.time("EndDate"))?;
    let ascending = ascending(input)?;
    let types = q(input.str_list("AlarmTypes"))?;
    let metric_wanted = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let max = max_records(input, 100, 100)?;
    let mut items: Vec<HistoryItem> =
        cx.sandbox
            .read::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
                st.history
                    .iter()
                    .filter(|_| metric_wanted)
                    .filter(|h| name.as_ref().is_none_or(|n| &h.alarm_name == n))
                    .filter(|h| item_type.as_ref().is_none_or(|t| &h.item_type == t))
                    .filter(|h| start.is_none_or(|s| h.timestamp >= s))
                    .filter(|h| end.is_none_or(|e| h.timestamp <= e))
                    .cloned()
                    .collect()
            });
    if !ascending {
        items.reverse();
    }
    let (items, next) = page(input, &items, max)?;
    Ok(Value::obj()
        .with(
            "AlarmHistoryItems",
            Value::List(items.iter().map(views::history_item).collect()),
        )
        .with("NextToken", next))
}
