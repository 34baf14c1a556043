//! Health, readiness, metrics and administration.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::{AppState, blocking};

/// Index lag (in store versions) past which the service reports not ready.
const READY_MAX_LAG: u64 = 10_000;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers and the index is not far behind it.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let s = state.clone();
    let check = blocking(move || {
        let lag = s.service.index_lag()?;
        let cases = s.service.store().count()?;
        Ok((lag, cases))
    })
    .await;
    match check {
        Ok((lag, cases)) if lag <= READY_MAX_LAG => {
            Json(json!({ "status": "ready", "cases": cases, "index_lag": lag })).into_response()
        }
        Ok((lag, _)) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("the index is {lag} versions behind the store; it is catching up"),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let s = state.clone();
    let gauges = blocking(move || {
        let lag = s.service.index_lag()?;
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
    let n = blocking(move || Ok(s.service.reindex(|_| {})?)).await?;
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
        .map(|(name, role)| json!({ "name": name, "role": role }))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}
