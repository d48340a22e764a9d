//! CloudWatch **Metrics**: the `AWS/KMS` namespace's metrics per KeyId, and
//! `SecondsUntilKeyMaterialExpiration` of one key drawn as a chart over a chosen range. The
//! chart is SVG drawn here, on the server (no script, no CDN): a polyline of the per-period
//! Minimum, with the days left on the vertical axis, as the console's graph shows the metric.

use askama::Template;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use kms_workshop_alarms::metrics::{kms_metrics, EXPIRATION_METRIC, KMS_NAMESPACE};
use kms_workshop_sandbox::Sandbox;
use std::sync::Arc;
use time::Duration;

use super::Chrome;
use crate::aws::Failure;
use crate::session::SignedIn;
use crate::web::{page, query_fields, status_for};

/// The ranges the graph offers: (form value, label, length).
pub const RANGES: [(&str, &str, i64); 6] = [
    ("1h", "1 hour", 3_600),
    ("3h", "3 hours", 10_800),
    ("12h", "12 hours", 43_200),
    ("1d", "1 day", 86_400),
    ("3d", "3 days", 259_200),
    ("1w", "1 week", 604_800),
];

/// The chart's drawing area, in SVG units.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
/// At most this many periods in a range (GetMetricStatistics answers 1,440 datapoints at most).
const MAX_POINTS: i64 = 360;

/// One metric row: its name and KeyId.
pub struct MetricRow {
    pub name: String,
    pub key_id: String,
}

/// The chart, ready to draw.
pub struct Chart {
    /// SVG polyline points, `x,y x,y …`.
    pub points: String,
    /// The vertical axis's top and bottom, in days left.
    pub top_days: String,
    pub bottom_days: String,
    /// The range's first and last time.
    pub from: String,
    pub to: String,
    /// The newest reading, in days left.
    pub latest_days: String,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct Metrics {
    chrome: Chrome,
    metrics: Vec<MetricRow>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "metric_graph.html")]
struct Graph {
    chrome: Chrome,
    key_id: String,
    range: String,
    ranges: &'static [(&'static str, &'static str, i64)],
    chart: Option<Chart>,
    problem: Option<String>,
    width: f64,
    height: f64,
}

fn cloudwatch(s: &SignedIn) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&s.session.sdk)
}

/// `GET /console/cloudwatch/metrics`: AWS/KMS's metrics, per KeyId.
pub async fn list(s: SignedIn) -> Response {
    let (metrics, problem) = match kms_metrics(&cloudwatch(&s)).await {
        Ok(m) => (
            m.into_iter()
                .map(|m| MetricRow {
                    key_id: m.dimension("KeyId").unwrap_or_default().to_string(),
                    name: m.name,
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    page(
        status_for(&problem),
        &Metrics {
            chrome: Chrome::of(&s, "metrics"),
            metrics,
            problem,
        },
    )
}

/// `GET /console/cloudwatch/metrics/graph?key=ID&range=1d`.
pub async fn graph(s: SignedIn, State(sb): State<Arc<Sandbox>>, RawQuery(q): RawQuery) -> Response {
    let f = query_fields(q.as_deref());
    let key_id = f.get("key").cloned().unwrap_or_default();
    let range = f.get("range").cloned().unwrap_or_else(|| "1d".into());
    let (chart, problem) = match RANGES.iter().find(|r| r.0 == range) {
        None => {
            let allowed: Vec<&str> = RANGES.iter().map(|r| r.0).collect();
            (
                None,
                Some(format!("Range must be one of {}.", allowed.join(", "))),
            )
        }
        // The sandbox's clock is the service's: the graph ends at its now.
        Some(r) => match readings(&s, &key_id, sb.clock.now(), r.2).await {
            Ok(chart) => (chart, None),
            Err(why) => (None, Some(why)),
        },
    };
    page(
        status_for(&problem),
        &Graph {
            chrome: Chrome::of(&s, "metrics"),
            key_id,
            range,
            ranges: &RANGES,
            chart,
            problem,
            width: WIDTH,
            height: HEIGHT,
        },
    )
}

/// The key's per-period Minimum over `seconds` before `now`, as a chart (`None`: no data).
async fn readings(
    s: &SignedIn,
    key_id: &str,
    now: time::OffsetDateTime,
    seconds: i64,
) -> Result<Option<Chart>, String> {
    // A period of whole minutes that keeps the range within MAX_POINTS.
    let period = ((seconds / MAX_POINTS).max(60) + 59) / 60 * 60;
    let start = now - Duration::seconds(seconds);
    let at = |t: time::OffsetDateTime| {
        aws_sdk_cloudwatch::primitives::DateTime::from_secs(t.unix_timestamp())
    };
    let out = cloudwatch(s)
        .get_metric_statistics()
        .namespace(KMS_NAMESPACE)
        .metric_name(EXPIRATION_METRIC)
        .dimensions(Dimension::builder().name("KeyId").value(key_id).build())
        .start_time(at(start))
        .end_time(at(now))
        .period(period as i32)
        .statistics(Statistic::Minimum)
        .send()
        .await
        .map_err(|e| {
            let f = Failure::from_sdk("GetMetricStatistics", e);
            format!("{}: {}", f.code, f.message)
        })?;
    let mut points: Vec<(i64, f64)> = out
        .datapoints()
        .iter()
        .filter_map(|d| Some((d.timestamp()?.secs(), d.minimum()?)))
        .collect();
    points.sort_by_key(|p| p.0);
    Ok(draw(&points, start.unix_timestamp(), now.unix_timestamp()))
}

/// Days, as the axis labels show them.
fn days(seconds: f64) -> String {
    format!("{:.1} days", seconds / 86_400.0)
}

/// The chart of `(time, seconds left)` between `from` and `to` (`None` without points).
pub fn draw(points: &[(i64, f64)], from: i64, to: i64) -> Option<Chart> {
    let last = points.last()?;
    let max = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let min = points.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    // Headroom above and below, and a span that is never zero.
    let (top, bottom) = (
        max + (max - min).max(3_600.0) * 0.1,
        (min - (max - min) * 0.1).max(0.0),
    );
    let span_t = (to - from).max(1) as f64;
    let span_v = (top - bottom).max(1.0);
    let xy = |(t, v): &(i64, f64)| {
        let x = (*t - from) as f64 / span_t * WIDTH;
        let y = HEIGHT - (v - bottom) / span_v * HEIGHT;
        format!("{:.1},{:.1}", x.clamp(0.0, WIDTH), y.clamp(0.0, HEIGHT))
    };
    let stamp = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map(kms_workshop_sandbox::util::iso8601_secs)
            .unwrap_or_default()
    };
    Some(Chart {
        points: points.iter().map(xy).collect::<Vec<_>>().join(" "),
        top_days: days(top),
        bottom_days: days(bottom),
        from: stamp(from),
        to: stamp(to),
        latest_days: days(last.1),
        count: points.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_falls_as_the_material_nears_expiry_and_stays_in_its_box() {
        let pts = [
            (0, 20.0 * 86_400.0),
            (3_600, 19.9 * 86_400.0),
            (7_200, 19.8 * 86_400.0),
        ];
        let c = draw(&pts, 0, 7_200).expect("a chart");
        let ys: Vec<f64> = c
            .points
            .split(' ')
            .map(|p| p.split(',').nth(1).and_then(|y| y.parse().ok()).expect("y"))
            .collect();
        assert!(
            ys[0] < ys[1] && ys[1] < ys[2],
            "SVG y grows downwards: {ys:?}"
        );
        assert!(ys.iter().all(|y| (0.0..=HEIGHT).contains(y)));
        assert_eq!(c.latest_days, "19.8 days");
        assert!(draw(&[], 0, 1).is_none());
    }
}
