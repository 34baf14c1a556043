//! `/v1/trends…`, `/v1/topics` and `/v1/alerts…`: counts, rising values, hot topics, alert
//! history and the live alert stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::json::{Above, Params, int_param};
use crate::alerts::AlertRecord;
use crate::domain::api_time;
use crate::error::cut;
use crate::trends::{Bucket, Dimension, HotTopic, Rising, TrendTable};

/// Most series, rising values or topics in one answer.
const MAX_TOP: i64 = 200;
/// Most buckets in one table (a year and a bit of hours; decades of days).
const MAX_BUCKETS: i64 = 10_000;

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

fn dimension(s: Option<&str>) -> Result<Dimension, ApiError> {
    s.map_or(Ok(Dimension::Category), |s| {
        Dimension::parse(s).ok_or_else(|| {
            invalid(format!(
                "dimension must be category, grade, channel, department or phrase, not {:?}",
                cut(s)
            ))
        })
    })
}

/// `GET /v1/trends` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// category (default), grade, channel, department or phrase.
    dimension: Option<String>,
    /// hour, day (default) or week.
    bucket: Option<String>,
    /// Start (RFC 3339); default 30 days before `to`.
    #[serde(default, deserialize_with = "api_time::deserialize")]
    from: Option<Timestamp>,
    /// End, exclusive (RFC 3339); default the latest case.
    #[serde(default, deserialize_with = "api_time::deserialize")]
    to: Option<Timestamp>,
    /// Series (largest first), at least 1, at most 200 given, default 10.
    top: Option<i64>,
}

/// `GET /v1/trends`: counts per bucket for the largest values of a dimension.
pub async fn table(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<TrendParams>,
) -> Result<Json<TrendTable>, ApiError> {
    caller.require(Permission::Analyse)?;
    caller.require_every_department()?;
    let dimension = dimension(p.dimension.as_deref())?;
    let bucket = match p.bucket.as_deref() {
        None => Bucket::Day,
        Some(b) => Bucket::parse(b).ok_or_else(|| {
            invalid(format!(
                "bucket must be hour, day or week, not {:?}",
                cut(b)
            ))
        })?,
    };
    let to =
        p.to.unwrap_or_else(|| state.service.views().watch().default_end());
    let from = p.from.unwrap_or(to - SignedDuration::from_hours(24 * 30));
    if from >= to {
        return Err(invalid("from must be before to".into()));
    }
    let buckets = to.duration_since(from).as_hours() / bucket.hours();
    if buckets > MAX_BUCKETS {
        return Err(invalid(format!(
            "{buckets} buckets is too many (at most {MAX_BUCKETS}); use a wider bucket or a shorter range"
        )));
    }
    let top = int_param("top", p.top, 10, (1, MAX_TOP), Above::Clamp)? as usize;
    Ok(Json(
        state
            .service
            .views()
            .watch()
            .table(dimension, bucket, from, to, top),
    ))
}

/// `GET /v1/trends/rising` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RisingParams {
    /// phrase (default), category, grade, channel or department.
    dimension: Option<String>,
    /// End of the window (RFC 3339); default the latest case.
    #[serde(default, deserialize_with = "api_time::deserialize")]
    end: Option<Timestamp>,
    /// The window, in hours (default 168: a week).
    window_hours: Option<i64>,
    /// The baseline before it, in hours (default 672: four weeks).
    baseline_hours: Option<i64>,
    /// Least cases in the window (default 3).
    min_count: Option<i64>,
    /// Values (most surprising first), at least 1, at most 200 given, default 20.
    top: Option<i64>,
}

/// The answer of `/v1/trends/rising`.
#[derive(Debug, Serialize)]
pub struct RisingAnswer {
    /// End of the window.
    pub end: Timestamp,
    /// Window hours.
    pub window_hours: i64,
    /// Baseline hours.
    pub baseline_hours: i64,
    /// The rising values.
    pub rising: Vec<Rising>,
}

/// `GET /v1/trends/rising`: the values whose count in a window is most surprising against
/// their own baseline (Poisson test).
pub async fn rising(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<RisingParams>,
) -> Result<Json<RisingAnswer>, ApiError> {
    caller.require(Permission::Analyse)?;
    caller.require_every_department()?;
    let dimension = dimension(p.dimension.as_deref().or(Some("phrase")))?;
    let window_hours = int_param(
        "window_hours",
        p.window_hours,
        24 * 7,
        (1, 24 * 366),
        Above::Refuse,
    )?;
    let baseline_hours = int_param(
        "baseline_hours",
        p.baseline_hours,
        24 * 28,
        (1, 24 * 3 * 366),
        Above::Refuse,
    )?;
    let min_count = int_param(
        "min_count",
        p.min_count,
        3,
        (0, i64::from(u32::MAX)),
        Above::Refuse,
    )? as u32;
    let top = int_param("top", p.top, 20, (1, MAX_TOP), Above::Clamp)? as usize;
    let end = p
        .end
        .unwrap_or_else(|| state.service.views().watch().default_end());
    let rising = state.service.views().watch().rising(
        dimension,
        end,
        window_hours,
        baseline_hours,
        min_count,
        top,
    );
    Ok(Json(RisingAnswer {
        end,
        window_hours,
        baseline_hours,
        rising,
    }))
}

/// `GET /v1/topics` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicParams {
    /// End of the window (RFC 3339); default the latest case.
    #[serde(default, deserialize_with = "api_time::deserialize")]
    end: Option<Timestamp>,
    /// Topics (hottest first), at least 1, at most 200 given, default 10.
    top: Option<i64>,
}

/// The answer of `/v1/topics`.
#[derive(Debug, Serialize)]
pub struct TopicsAnswer {
    /// End of the window.
    pub end: Timestamp,
    /// The hot topics.
    pub topics: Vec<HotTopic>,
}

/// `GET /v1/topics`: hot topics in the window ending at `end`.
pub async fn topics(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<TopicParams>,
) -> Result<Json<TopicsAnswer>, ApiError> {
    caller.require(Permission::Analyse)?;
    caller.require_every_department()?;
    let top = int_param("top", p.top, 10, (1, MAX_TOP), Above::Clamp)? as usize;
    let end = p
        .end
        .unwrap_or_else(|| state.service.views().watch().default_end());
    let topics = state.service.views().watch().hot_topics(end, top);
    Ok(Json(TopicsAnswer { end, topics }))
}

/// `GET /v1/alerts` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Only alerts raised at or after this (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    since: Option<Timestamp>,
    /// Most alerts (newest first), at least 1, at most 1000 given, default 100.
    limit: Option<i64>,
}

/// The answer of `/v1/alerts`.
#[derive(Debug, Serialize)]
pub struct AlertsAnswer {
    /// Alerts with their deliveries, newest first.
    pub alerts: Vec<AlertRecord>,
}

fn alerts_off() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "alerting is off in this process (tousu serve runs it)",
    )
}

/// `GET /v1/alerts`: alert history with delivery status.
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<AlertParams>,
) -> Result<Json<AlertsAnswer>, ApiError> {
    caller.require(Permission::Analyse)?;
    let limit = int_param("limit", p.limit, 100, (1, 1000), Above::Clamp)? as usize;
    let center = state
        .service
        .views()
        .watch()
        .alerts()
        .cloned()
        .ok_or_else(alerts_off)?;
    let actor = caller.actor();
    let alerts = super::blocking(move || {
        let Some(scope) = actor.scope() else {
            return Ok(center.history(p.since, limit)?);
        };
        // A supervisor of some departments sees their alerts only (about one case of theirs);
        // read further back to fill the page.
        let mut alerts = center.history(p.since, 1000)?;
        alerts.retain(|r| in_scope(scope, r.alert.department.as_deref()));
        alerts.truncate(limit);
        Ok(alerts)
    })
    .await?;
    Ok(Json(AlertsAnswer { alerts }))
}

/// `GET /v1/alerts/stream`: Server-Sent Events, one `alert` event per alert raised from now
/// on (a client that falls behind gets a `lagged` event and should re-read `/v1/alerts`).
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Permission::Analyse)?;
    let center = state
        .service
        .views()
        .watch()
        .alerts()
        .cloned()
        .ok_or_else(alerts_off)?;
    let rx = center.subscribe();
    let scope = caller.actor().scope().map(<[String]>::to_vec);
    // The stream ends when the server shuts down: an open stream would otherwise hold the
    // graceful shutdown until the client leaves.
    let stop = state.stopping();
    let events = futures_util::stream::unfold((rx, stop), move |(mut rx, mut stop)| {
        let scope = scope.clone();
        async move {
            use tokio::sync::broadcast::error::RecvError;
            let received = loop {
                let r = tokio::select! {
                    r = rx.recv() => r,
                    _ = stop.wait_for(|stopping| *stopping) => return None,
                };
                // A supervisor of some departments gets the alerts of their cases only.
                match (&r, &scope) {
                    (Ok(alert), Some(scope)) if !in_scope(scope, alert.department.as_deref()) => {}
                    _ => break r,
                }
            };
            let event = match received {
                Ok(alert) => Event::default()
                    .event("alert")
                    .id(alert.id.clone())
                    .json_data(&alert)
                    .unwrap_or_else(|_| Event::default().event("error")),
                Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(event), (rx, stop)))
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Whether an alert of `department` (none: about no one case) is for a caller held to `scope`.
fn in_scope(scope: &[String], department: Option<&str>) -> bool {
    department.is_some_and(|d| scope.iter().any(|s| s == d))
}
