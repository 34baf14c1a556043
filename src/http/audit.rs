//! `GET /v1/audit`: the audit trail searched across cases, for administrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Deserialize;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::json::{Above, Params, int_param};
use super::{AppState, blocking};
use crate::domain::api_time;
use crate::service::{AuditFilter, AuditPage, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};

/// The query string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    case_id: Option<String>,
    /// At or after (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    from: Option<Timestamp>,
    /// Before (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    to: Option<Timestamp>,
    #[serde(default)]
    limit: Option<i64>,
    /// The previous page's `next_before`.
    #[serde(default)]
    before: Option<i64>,
    /// `true` for each event's `before` and `after`.
    #[serde(default)]
    full: Option<bool>,
}

impl AuditParams {
    fn filter(self) -> Result<AuditFilter, ApiError> {
        let limit = int_param(
            "limit",
            self.limit,
            DEFAULT_AUDIT_PAGE as i64,
            (1, MAX_AUDIT_PAGE as i64),
            Above::Clamp,
        )?;
        let before = self
            .before
            .map(|b| int_param("before", Some(b), 1, (1, i64::MAX), Above::Refuse))
            .transpose()?;
        let filter = AuditFilter {
            actor: self.actor,
            action: self.action,
            case_id: self.case_id,
            from: self.from,
            to: self.to,
            before: before.map(|b| b as u64),
            limit: limit as usize,
            full: self.full.unwrap_or(false),
        };
        // Every filter is checked here, so that a bad one is `invalid_query` like the rest.
        filter.check().map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                e.to_string(),
            )
        })?;
        Ok(filter)
    }
}

/// `GET /v1/audit`: audit events of every case by actor, action, case and time, newest first.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require(Permission::Administer)?;
    let filter = params.filter()?;
    let s = state.clone();
    let page = blocking(move || {
        Ok(s.service
            .handling()
            .audit_search(&filter, &caller.actor())?)
    })
    .await?;
    Ok(Json(page))
}
