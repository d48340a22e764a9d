//! The email CloudWatch sends an `email` subscriber when an alarm changes state: AWS
//! publishes alarm notifications with one message per protocol, so a person reads this text
//! while `email-json`, HTTP and other subscribers get the JSON notification.

use time::OffsetDateTime;

use super::state::{Alarm, AlarmState};
use super::views::region_name;

/// `Wednesday 02 December, 2026 10:01:00 UTC`, as the email writes times.
fn email_time(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[weekday] [day] [month repr:long], [year] [hour]:[minute]:[second] UTC"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// A number as the email prints it (Java's double: `864000.0`).
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        x.to_string()
    }
}

/// The email's text for `alarm`, which just went from `old` to its state.
pub(super) fn text(alarm: &Alarm, old: AlarmState, account: &str, region: &str) -> String {
    let state = alarm.state_value.as_str();
    let when = email_time(alarm.state_updated);
    let place = region_name(region);
    let m = alarm
        .datapoints_to_alarm
        .unwrap_or(alarm.evaluation_periods);
    let duration = if alarm.evaluation_periods == 1 && m == 1 {
        format!("for {} seconds", alarm.period)
    } else {
        format!(
            "for at least {m} of the last {} period(s) of {} seconds",
            alarm.evaluation_periods, alarm.period
        )
    };
    let dimensions: Vec<String> = alarm
        .dimensions
        .iter()
        .map(|(n, v)| format!("{n} = {v}"))
        .collect();
    let statistic = alarm
        .statistic
        .clone()
        .or_else(|| alarm.extended_statistic.clone())
        .unwrap_or_default();
    let actions = |list: &[String]| match list {
        [] => String::new(),
        l => format!(" [{}]", l.join(", ")),
    };
    let console = format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/deeplink.js?region={region}#alarmsV2:alarm/{}",
        alarm.name
    );
    format!(
        "You are receiving this email because your Amazon CloudWatch Alarm \"{name}\" in the {place} region has entered the {state} state, because \"{reason}\" at \"{when}\".\n\n\
View this alarm in the AWS Management Console:\n{console}\n\n\
Alarm Details:\n\
- Name:                       {name}\n\
- Description:                {description}\n\
- State Change:               {old} -> {state}\n\
- Reason for State Change:    {reason}\n\
- Timestamp:                  {when}\n\
- AWS Account:                {account}\n\
- Alarm Arn:                  {arn}\n\n\
Threshold:\n\
- The alarm is in the ALARM state when the metric is {op} {threshold} {duration}.\n\n\
Monitored Metric:\n\
- MetricNamespace:                     {namespace}\n\
- MetricName:                          {metric}\n\
- Dimensions:                          [{dimensions}]\n\
- Period:                              {period} seconds\n\
- Statistic:                           {statistic}\n\
- Unit:                                {unit}\n\
- TreatMissingData:                    {treat}\n\n\n\
State Change Actions:\n\
- OK:{ok}\n\
- ALARM:{alarm_actions}\n\
- INSUFFICIENT_DATA:{insufficient}\n",
        name = alarm.name,
        reason = alarm.state_reason,
        description = alarm.description.as_deref().unwrap_or_default(),
        old = old.as_str(),
        arn = alarm.arn,
        op = alarm.comparison_operator,
        threshold = number(alarm.threshold),
        namespace = alarm.namespace,
        metric = alarm.metric_name,
        dimensions = dimensions.join(", "),
        period = alarm.period,
        unit = alarm.unit.as_deref().unwrap_or("not specified"),
        treat = alarm.treat_missing_data.as_deref().unwrap_or("missing"),
        ok = actions(&alarm.ok_actions),
        alarm_actions = actions(&alarm.alarm_actions),
        insufficient = actions(&alarm.insufficient_data_actions),
    )
}
