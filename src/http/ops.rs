//! Health, readiness, metrics and administration.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::{AppState, blocking};

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers, and the search index is whole, can take new cases and
/// is not far behind the store; otherwise 503 with the reason.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let s = state.clone();
    let check = blocking(move || Ok(s.service.views().readiness()?)).await;
    match check {
        Ok(r) if r.ready => {
            Json(json!({ "status": "ready", "cases": r.cases, "index_lag": r.index_lag }))
                .into_response()
        }
        Ok(r) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "code": "not_ready",
                    "message": r.reason.unwrap_or_default(),
                    "cases": r.cases,
                    "index_lag": r.index_lag,
                })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(5));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let s = state.clone();
    let gauges = blocking(move || {
        let lag = s.service.views().lag()?;
        let cases = s.service.store().count()?;
        Ok((lag, cases))
    })
    .await;
    let m = &state.metrics;
    if let Ok((lag, cases)) = gauges {
        m.index_lag.set(lag as i64);
        m.cases.set(cases as i64);
    }
    m.store_queue
        .set(state.service.store().write_queue_depth() as i64);
    let views = state.service.views();
    m.open_cases.set(views.work().read().open_len() as i64);
    if let Some(memory) = crate::service::ProcessMemory::now() {
        m.memory_anonymous.set(memory.anonymous as i64);
        m.memory_file.set(memory.file as i64);
    }
    if let Some(sweep) = views.last_sweep() {
        m.deadline_sweep.set(sweep.took.as_micros() as i64);
        m.deadline_sweep_crossed.set(sweep.crossed as i64);
        m.deadline_sweeps.set(sweep.sweeps as i64);
    }
    m.inference_waiting.set(state.gate.waiting() as i64);
    m.inference_running.set(state.gate.running() as i64);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        m.render(),
    )
        .into_response()
}

/// `POST /v1/admin/reindex`: rebuilds the index from the store.
pub async fn reindex(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let s = state.clone();
    let n = blocking(move || Ok(s.service.views().reindex(|_| {})?)).await?;
    tracing::info!(by = %caller.name, cases = n, "re-indexed");
    Ok(Json(json!({ "reindexed": n })))
}

/// `GET /v1/admin/keys`: names and roles of the configured keys (never the keys).
pub async fn keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let keys: Vec<Value> = state
        .keys
        .list()
        .into_iter()
        .map(|(name, role, departments)| {
            let mut key = json!({ "name": name, "role": role });
            if !departments.is_empty() {
                key["departments"] = json!(departments);
            }
            key
        })
        .collect();
    Ok(Json(json!({ "keys": keys })))
}
