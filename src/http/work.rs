//! `GET /v1/queues/{queue}` and `GET /v1/kpis`: the work waiting for a caller, and how the
//! handling went over a period.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::export::{XLSX, download};
use super::json::{Above, Params, int_param};
use super::{AppState, blocking};
use crate::domain::{full_date, period_bound};
use crate::error::cut;
use crate::handling::{GroupBy, KpiReport, Queue, QueuePage};
use crate::service::QueueRequest;

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

/// A queue page's query string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

/// `GET /v1/queues/{queue}`: a page of the queue (the deadline due first first), with every
/// queue's count.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<QueueParams>,
) -> Result<Json<QueuePage>, ApiError> {
    caller.require(Permission::Read)?;
    // A segment that is not UTF-8 names no queue: the JSON 404 below, not axum's plain 400.
    let name = path.map(|Path(n)| n).unwrap_or_default();
    let queue = Queue::from_code(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "no queue {:?}: the queues are {}",
                cut(&name),
                Queue::ALL.map(Queue::code).join(", ")
            ),
        )
    })?;
    let req = QueueRequest {
        queue,
        department: p.department.filter(|d| !d.trim().is_empty()),
        offset: int_param("offset", p.offset, 0, (0, 10_000), Above::Refuse)? as usize,
        limit: int_param("limit", p.limit, 50, (1, 200), Above::Clamp)? as usize,
    };
    let s = state.clone();
    let page = blocking(move || Ok(s.service.handling().queue(&caller.actor(), &req)?)).await?;
    Ok(Json(page))
}

/// The KPI query string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiParams {
    /// A Beijing date (`2026-01-01`, from its start) or an RFC 3339 time.
    #[serde(default)]
    from: Option<String>,
    /// A Beijing date (`2026-12-31`, to its end) or an RFC 3339 time (exclusive).
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    group_by: Option<String>,
}

/// The period asked for: `to` defaults to now, `from` to 30 days before `to`.
fn period(from: Option<&str>, to: Option<&str>) -> Result<(Timestamp, Timestamp), ApiError> {
    let to = match to {
        Some(t) => period_bound("to", t, true).map_err(invalid)?,
        None => Timestamp::now(),
    };
    let from = match from {
        Some(f) => period_bound("from", f, false).map_err(invalid)?,
        None => to - SignedDuration::from_hours(30 * 24),
    };
    Ok((from, to))
}

/// `GET /v1/kpis`: the KPIs of the cases received in the period, by `group_by`.
pub async fn kpis(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<KpiParams>,
) -> Result<Json<KpiReport>, ApiError> {
    caller.require(Permission::Analyse)?;
    let (from, to) = period(p.from.as_deref(), p.to.as_deref())?;
    let group_by = match p.group_by.as_deref() {
        None => None,
        Some(g) => Some(GroupBy::from_code(g).ok_or_else(|| {
            invalid(format!(
                "group_by={:?}: use {}",
                cut(g),
                GroupBy::ALL.map(GroupBy::code).join(", ")
            ))
        })?),
    };
    let s = state.clone();
    let report = blocking(move || {
        Ok(s.service
            .handling()
            .kpis(&caller.actor(), from, to, group_by)?)
    })
    .await?;
    Ok(Json(report))
}

/// The daily report's query string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyParams {
    /// The Beijing date; default today.
    #[serde(default)]
    day: Option<String>,
    /// `json` (default) or `xlsx`.
    #[serde(default)]
    format: Option<String>,
}

/// `GET /v1/reports/daily`: the day's arrivals, each department's day, what was open and
/// overdue at its end, the day's cases; as JSON or an .xlsx workbook.
pub async fn daily(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<DailyParams>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Analyse)?;
    let day = match p.day.as_deref() {
        None => Timestamp::now().to_zoned(crate::domain::beijing()).date(),
        Some(d) => full_date(d).ok_or_else(|| {
            invalid(format!(
                "day={:?} is not a date: write it as 2026-03-04",
                cut(d)
            ))
        })?,
    };
    let xlsx = match p.format.as_deref() {
        None | Some("json") => false,
        Some("xlsx") => true,
        Some(other) => {
            return Err(invalid(format!(
                "format={:?}: use json or xlsx",
                cut(other)
            )));
        }
    };
    let s = state.clone();
    let report =
        blocking(move || Ok(s.service.handling().daily_report(&caller.actor(), day)?)).await?;
    if !xlsx {
        return Ok(Json(report).into_response());
    }
    let bytes = blocking(move || Ok(crate::service::tools::daily_workbook(&report)?)).await?;
    Ok(download(
        XLSX,
        &format!("tousu-daily-{day}.xlsx"),
        Body::from(bytes),
    ))
}
