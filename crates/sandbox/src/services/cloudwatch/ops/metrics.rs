//! Metrics: PutMetricData, ListMetrics, GetMetricStatistics, GetMetricData.

use time::{Duration, OffsetDateTime};

use super::{ascending, check_period, check_unit, dims_of, metric_of, page, window};
use crate::protocol::{AwsError, Input, Value};
use crate::services::cloudwatch::errors::{
    combination, enum_error, invalid_value, missing_param, q, validation,
};
use crate::services::cloudwatch::kms_metric::{seg_end, KMS_METRIC, KMS_NAMESPACE};
use crate::services::cloudwatch::state::{CloudWatchState, Dims, Sample};
use crate::services::cloudwatch::stats::{
    buckets, floor_to, metric_view, norm_dims, percentile_of, samples, statistic, STATISTICS,
};
use crate::services::cloudwatch::views::dims_value;
use crate::services::Call;

/// `count` datapoints of value `v` at `t`.
fn repeated(t: OffsetDateTime, v: f64, count: f64, unit: &Option<String>) -> Sample {
    Sample {
        t,
        count,
        sum: v * count,
        min: v,
        max: v,
        unit: unit.clone(),
    }
}

/// `v`, if CloudWatch accepts it as the `what` of datum `idx`.
fn finite(v: f64, idx: usize, what: &str) -> Result<f64, AwsError> {
    if v.is_finite() && v.abs() <= 2f64.powi(360) {
        Ok(v)
    } else {
        Err(invalid_value(format!(
            "The value {v} for parameter MetricData.member.{idx}.{what} is invalid."
        )))
    }
}

/// The datapoints of datum `idx`: its `Value`, its `StatisticValues`, its `Values` (with
/// `Counts`).
fn datum_samples(
    d: &Input,
    idx: usize,
    t: OffsetDateTime,
    unit: &Option<String>,
) -> Result<Vec<Sample>, AwsError> {
    // One datum carries its datapoints one way only.
    for (a, b) in [
        ("Value", "StatisticValues"),
        ("Value", "Values"),
        ("Values", "StatisticValues"),
    ] {
        if d.has(a) && d.has(b) {
            return Err(combination(format!("The parameters MetricData.member.{idx}.{a} and MetricData.member.{idx}.{b} are mutually exclusive and you have specified both.")));
        }
    }
    let mut samples = Vec::new();
    if let Some(v) = q(d.float("Value"))? {
        samples.push(repeated(t, finite(v, idx, "Value")?, 1.0, unit));
    }
    if let Some(sv) = d.child("StatisticValues") {
        let get = |n: &str| -> Result<f64, AwsError> {
            let v = q(sv.float(n))?.ok_or_else(|| {
                missing_param(&format!("MetricData.member.{idx}.StatisticValues.{n}"))
            })?;
            finite(v, idx, &format!("StatisticValues.{n}"))
        };
        let (count, sum, min, max) = (
            get("SampleCount")?,
            get("Sum")?,
            get("Minimum")?,
            get("Maximum")?,
        );
        if count <= 0.0 || min > max {
            return Err(invalid_value(format!(
                "The parameter MetricData.member.{idx}.StatisticValues is not valid."
            )));
        }
        samples.push(Sample {
            t,
            count,
            sum,
            min,
            max,
            unit: unit.clone(),
        });
    }
    let values = q(d.list("Values"))?;
    let counts = q(d.list("Counts"))?;
    if !counts.is_empty() && counts.len() != values.len() {
        return Err(invalid_value(format!("The parameters MetricData.member.{idx}.Values and MetricData.member.{idx}.Counts must be of the same size.")));
    }
    for (j, v) in values.iter().enumerate() {
        let v = v
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| {
                invalid_value(format!(
                    "The values in MetricData.member.{idx}.Values must be numbers."
                ))
            })?;
        let v = finite(v, idx, "Values")?;
        let c = counts
            .get(j)
            .and_then(|c| c.as_str())
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|c| c.is_finite() && *c > 0.0)
            .unwrap_or(1.0);
        samples.push(repeated(t, v, c, unit));
    }
    Ok(samples)
}

/// Member `idx` (from 1) of `MetricData`: its metric name, dimensions and datapoints.
fn datum(
    d: &Input,
    idx: usize,
    now: OffsetDateTime,
) -> Result<(String, Dims, Vec<Sample>), AwsError> {
    let name = q(d.str("MetricName"))?
        .ok_or_else(|| missing_param(&format!("MetricData.member.{idx}.MetricName")))?;
    if name.is_empty() || name.len() > 255 {
        return Err(invalid_value(format!(
            "The value {name} for parameter MetricData.member.{idx}.MetricName is invalid."
        )));
    }
    let dims = norm_dims(dims_of(d, "Dimensions")?);
    let t = q(d.time("Timestamp"))?.unwrap_or(now);
    if t < now - Duration::days(14) || t > now + Duration::hours(2) {
        return Err(invalid_value(format!(
            "The parameter MetricData.member.{idx}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future."
        )));
    }
    let unit = q(d.str("Unit"))?;
    check_unit(&format!("metricData.{idx}.member.unit"), &unit)?;
    let samples = datum_samples(d, idx, t, &unit)?;
    if samples.is_empty() {
        return Err(combination(format!("The parameters MetricData.member.{idx}.Value and MetricData.member.{idx}.StatisticValues are mutually exclusive and you must specify one of them.")));
    }
    Ok((name, dims, samples))
}

pub(crate) fn put_metric_data(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let namespace = q(input.str("Namespace"))?.ok_or_else(|| missing_param("Namespace"))?;
    if namespace.is_empty()
        || namespace.len() > 255
        || namespace.starts_with(':')
        || namespace.starts_with("AWS/")
    {
        return Err(invalid_value(format!(
            "The value {namespace} for parameter Namespace is invalid."
        )));
    }
    let data = q(input.list("MetricData"))?;
    if data.is_empty() {
        return Err(missing_param("MetricData"));
    }
    if data.len() > 1000 {
        return Err(validation("1 validation error detected: Value at 'metricData' failed to satisfy constraint: Member must have length less than or equal to 1000"));
    }
    let now = cx.now;
    let parsed = data
        .iter()
        .enumerate()
        .map(|(i, d)| datum(d, i + 1, now))
        .collect::<Result<Vec<_>, _>>()?;
    cx.sandbox
        .write::<CloudWatchState, _>(cx.account(), &cx.region, |st| {
            for (name, dims, samples) in parsed {
                st.add_points(&namespace, name, dims, samples, now);
            }
            Ok(Value::Null)
        })
}

pub(crate) fn list_metrics(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let namespace = q(input.str("Namespace"))?;
    let name = q(input.str("MetricName"))?;
    let mut filters = Vec::new();
    for f in q(input.list("Dimensions"))? {
        let n = q(f.str("Name"))?.ok_or_else(|| missing_param("Dimensions.member.Name"))?;
        filters.push((n, q(f.str("Value"))?));
    }
    let recently = match q(input.str("RecentlyActive"))?.as_deref() {
        None => false,
        Some("PT3H") => true,
        Some(other) => return Err(enum_error("recentlyActive", other, &["PT3H"])),
    };
    let now = cx.now;
    let since = if recently {
        now - Duration::hours(3)
    } else {
        now - Duration::days(14)
    };
    let (segs, series) = metric_view(cx.sandbox, cx.account(), &cx.region, now);
    let mut metrics: Vec<(String, String, Dims)> = Vec::new();
    let mut kms_keys: Vec<String> = segs
        .iter()
        .filter(|s| seg_end(s, now) >= since)
        .map(|s| s.key_id.clone())
        .collect();
    kms_keys.sort();
    kms_keys.dedup();
    for k in kms_keys {
        metrics.push((
            KMS_NAMESPACE.into(),
            KMS_METRIC.into(),
            vec![("KeyId".into(), k)],
        ));
    }
    for s in &series {
        if s.points.iter().any(|p| p.t >= since) {
            metrics.push((
                s.namespace.clone(),
                s.metric_name.clone(),
                s.dimensions.clone(),
            ));
        }
    }
    let metrics: Vec<Value> = metrics
        .into_iter()
        .filter(|(ns, n, d)| {
            namespace.as_ref().is_none_or(|x| x == ns)
                && name.as_ref().is_none_or(|x| x == n)
                && filters.iter().all(|(fname, fval)| {
                    d.iter()
                        .any(|(dn, dv)| dn == fname && fval.as_ref().is_none_or(|fv| fv == dv))
                })
        })
        .map(|(ns, n, d)| {
            Value::obj()
                .with("Namespace", ns)
                .with("MetricName", n)
                .with("Dimensions", dims_value(&d))
        })
        .collect();
    let (items, next) = page(input, &metrics, 500)?;
    Ok(Value::obj()
        .with("Metrics", Value::List(items))
        .with("NextToken", next))
}

/// `Statistics` and `ExtendedStatistics` of GetMetricStatistics: one of them at least.
fn statistics_of(input: &Input) -> Result<(Vec<String>, Vec<String>), AwsError> {
    let stats = q(input.str_list("Statistics"))?;
    let ext = q(input.str_list("ExtendedStatistics"))?;
    if stats.is_empty() && ext.is_empty() {
        return Err(combination(
            "Must specify either Statistics or ExtendedStatistics",
        ));
    }
    for s in &stats {
        if !STATISTICS.contains(&s.as_str()) {
            return Err(enum_error("statistics.member", s, &STATISTICS));
        }
    }
    for e in &ext {
        if percentile_of(e).is_none() {
            return Err(invalid_value(format!(
                "The value {e} for parameter ExtendedStatistics is not supported."
            )));
        }
    }
    Ok((stats, ext))
}

pub(crate) fn get_metric_statistics(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let m = metric_of(input)?;
    let (start, end) = window(input)?;
    let period = q(input.int("Period"))?.ok_or_else(|| missing_param("Period"))?;
    check_period(period)?;
    let (stats, ext) = statistics_of(input)?;
    let unit = q(input.str("Unit"))?;
    check_unit("unit", &unit)?;
    let buckets_n = (end - start).whole_seconds() / period.max(1);
    if buckets_n > 1440 {
        return Err(combination(format!(
            "You have requested up to {buckets_n} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let (segs, series) = metric_view(cx.sandbox, cx.account(), &cx.region, cx.now);
    // AWS rounds the start down (to the minute for periods of a minute or more): a service
    // metric's point of 12:32:00 counts in a query from 12:32:34.
    let origin = floor_to(start, period);
    let all: Vec<Sample> = samples(&series, &segs, &m, origin, end, cx.now)
        .into_iter()
        .filter(|s| unit.is_none() || s.unit == unit)
        .collect();
    let mut points = Vec::new();
    for (t, group) in buckets(&all, origin, period) {
        let mut v = Value::obj().with("Timestamp", t);
        for s in &stats {
            v = v.with(s, statistic(&group, s));
        }
        if !ext.is_empty() {
            let map: Vec<(String, Value)> = ext
                .iter()
                .filter_map(|e| statistic(&group, e).map(|x| (e.clone(), Value::Float(x))))
                .collect();
            v = v.with("ExtendedStatistics", Value::Map(map));
        }
        let u = group
            .first()
            .and_then(|s| s.unit.clone())
            .unwrap_or_else(|| "None".into());
        points.push(v.with("Unit", u));
    }
    Ok(Value::obj()
        .with("Label", m.name)
        .with("Datapoints", Value::List(points)))
}

/// The `Id` of a query: unique, a lowercase letter first, then letters, digits and `_`.
fn query_id(qi: &Input, ids: &mut Vec<String>) -> Result<String, AwsError> {
    let id = q(qi.str("Id"))?.ok_or_else(|| missing_param("MetricDataQueries.member.Id"))?;
    let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255;
    if !id_ok {
        return Err(validation(format!("The value {id} for parameter MetricDataQueries.member.Id is not valid: it must start with a lowercase letter and contain only letters, numbers and underscores.")));
    }
    if ids.contains(&id) {
        return Err(validation(format!(
            "The values for parameter id in MetricDataQueries are not unique: {id}"
        )));
    }
    ids.push(id.clone());
    Ok(id)
}

pub(crate) fn get_metric_data(cx: &Call<'_>, input: &Input) -> Result<Value, AwsError> {
    let (start, end) = window(input)?;
    let queries = q(input.list("MetricDataQueries"))?;
    if queries.is_empty() {
        return Err(missing_param("MetricDataQueries"));
    }
    if queries.len() > 500 {
        return Err(validation("1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to 500"));
    }
    let ascending = ascending(input)?;
    // AWS's default label is "<metric> <stat>", with the period when the queries' differ.
    let periods: Vec<Option<i64>> = queries
        .iter()
        .map(|qi| {
            qi.child("MetricStat")
                .and_then(|ms| ms.int("Period").ok().flatten())
        })
        .collect();
    let periods_differ = periods.windows(2).any(|w| w[0] != w[1]);
    let (segs, series) = metric_view(cx.sandbox, cx.account(), &cx.region, cx.now);
    let mut results: Vec<Series> = Vec::new();
    let mut ids = Vec::new();
    for qi in &queries {
        let id = query_id(qi, &mut ids)?;
        if qi.has("Expression") {
            return Err(invalid_value(
                "Metric math expressions are not supported by the sandbox; use MetricStat.",
            ));
        }
        let ms = qi.child("MetricStat").ok_or_else(|| {
            combination(format!(
                "The query {id} must have exactly one of MetricStat and Expression."
            ))
        })?;
        let metric = ms
            .child("Metric")
            .ok_or_else(|| missing_param("MetricStat.Metric"))?;
        let m = metric_of(&metric)?;
        let period = q(ms.int("Period"))?.ok_or_else(|| missing_param("MetricStat.Period"))?;
        check_period(period)?;
        let stat = q(ms.str("Stat"))?.ok_or_else(|| missing_param("MetricStat.Stat"))?;
        if !STATISTICS.contains(&stat.as_str()) && percentile_of(&stat).is_none() {
            return Err(invalid_value(format!(
                "The value {stat} for parameter MetricStat.Stat is not supported."
            )));
        }
        let unit = q(ms.str("Unit"))?;
        check_unit("unit", &unit)?;
        let return_data = q(qi.bool("ReturnData"))?.unwrap_or(true);
        let label = match q(qi.str("Label"))? {
            Some(l) => l,
            None if periods_differ => format!("{} {stat} {period}", m.name),
            None => format!("{} {stat}", m.name),
        };
        if !return_data {
            continue;
        }
        let origin = floor_to(start, period);
        let all: Vec<Sample> = samples(&series, &segs, &m, origin, end, cx.now)
            .into_iter()
            .filter(|s| unit.is_none() || s.unit == unit)
            .collect();
        let mut pts: Vec<(OffsetDateTime, f64)> = buckets(&all, origin, period)
            .into_iter()
            .filter_map(|(t, g)| statistic(&g, &stat).map(|v| (t, v)))
            .collect();
        if !ascending {
            pts.reverse();
        }
        results.push((id, label, pts));
    }
    let (page, next) = data_page(input, results)?;
    Ok(Value::obj()
        .with("MetricDataResults", Value::List(page))
        .with("NextToken", next)
        .with("Messages", Value::List(Vec::new())))
}

/// One query's result: its id, label and datapoints.
type Series = (String, String, Vec<(OffsetDateTime, f64)>);

/// The page of `results` a request asks for: at most `MaxDatapoints` datapoints (default
/// 100,800) from the `NextToken` on, counted across the queries in order; a query cut short
/// is `PartialData`, and the token says where the next page starts.
fn data_page(
    input: &Input,
    results: Vec<Series>,
) -> Result<(Vec<Value>, Option<String>), AwsError> {
    let max = q(input.int("MaxDatapoints"))?.unwrap_or(100_800).max(1) as usize;
    let skip = match q(input.str("NextToken"))? {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| invalid_value("The specified NextToken is not valid."))?,
    };
    let total: usize = results.iter().map(|r| r.2.len()).sum();
    let (mut seen, mut page) = (0usize, Vec::new());
    for (id, label, pts) in results {
        let from = skip.saturating_sub(seen).min(pts.len());
        let room = (skip + max).saturating_sub(seen.max(skip));
        let taken: Vec<_> = pts[from..].iter().take(room).collect();
        let whole = from + taken.len() == pts.len();
        seen += pts.len();
        if taken.is_empty() && !(pts.is_empty() && skip == 0) {
            continue;
        }
        page.push(
            Value::obj()
                .with("Id", id)
                .with("Label", label)
                .with(
                    "Timestamps",
                    Value::List(taken.iter().map(|(t, _)| Value::Time(*t)).collect()),
                )
                .with(
                    "Values",
                    Value::List(taken.iter().map(|(_, v)| Value::Float(*v)).collect()),
                )
                .with("StatusCode", if whole { "Complete" } else { "PartialData" }),
        );
    }
    let next = (skip + max < total).then(|| (skip + max).to_string());
    Ok((page, next))
}
