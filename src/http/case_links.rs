//! `GET /v1/cases/{id}/links`, `…/suggestions` and `…/explanation`: what the case page shows
//! beside the case. Both hold to the caller's departments, as reading the case does.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::json::{Above, CaseNumber, Params, int_param};
use super::{AppState, blocking};
use crate::domain::CaseId;
use crate::service::{Advice, CaseLinks};
use crate::triage::Triage;

/// `GET /v1/cases/{id}/links`: the cases it repeats or duplicates and those that repeat or
/// duplicate it, its group's members, the same complainant's other cases.
pub async fn links(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
) -> Result<Json<CaseLinks>, ApiError> {
    caller.require(Permission::Read)?;
    let s = state.clone();
    let links = blocking(move || {
        let actor = caller.actor();
        let case = s.service.handling().get(&CaseId(id), &actor)?;
        Ok(s.service.views().links(&case, &actor)?)
    })
    .await?;
    Ok(Json(links))
}

/// Suggestions asked of the advisor for a caller held to departments, before other
/// departments' are left out.
const SCOPED_CANDIDATES: usize = 20;

/// `?limit=` of suggestions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestionParams {
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/cases/{id}/suggestions`: resolutions of similar resolved cases (other than this
/// one) and the department most of them were handled by, as at intake but over today's cases.
pub async fn suggestions(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Params(p): Params<SuggestionParams>,
) -> Result<Json<Advice>, ApiError> {
    caller.require(Permission::Read)?;
    let limit = int_param("limit", p.limit, 3, (1, 10), Above::Clamp)? as usize;
    let s = state.clone();
    let advice = blocking(move || {
        let actor = caller.actor();
        let case = s.service.handling().get(&CaseId(id), &actor)?;
        let text = match &case.title {
            Some(t) => format!("{t}。{}", case.text),
            None => case.text.clone(),
        };
        // Scoped callers lose other departments' suggestions below, so ask for all the
        // candidates; otherwise one more than asked for (the case itself may be among them).
        let k = if actor.scope().is_some() {
            SCOPED_CANDIDATES
        } else {
            limit + 1
        };
        let mut advice = s.service.advisor().advice(&text, None, k)?;
        advice.suggestions.retain(|x| x.case_id != case.id);
        if actor.scope().is_some() {
            // The vote counts every department's cases: not the caller's to read.
            advice.department = None;
            // Another department's replies are not the caller's to read.
            let ids: Vec<CaseId> = advice
                .suggestions
                .iter()
                .map(|x| x.case_id.clone())
                .collect();
            let theirs = s.service.store().get_many(&ids)?;
            advice.suggestions.retain(|x| {
                theirs
                    .iter()
                    .any(|c| c.id == x.case_id && actor.works_on(c.department.as_deref()))
            });
        }
        advice.suggestions.truncate(limit);
        Ok(advice)
    })
    .await?;
    Ok(Json(advice))
}

/// `GET /v1/cases/{id}/explanation`: the phrases that drive the model's category and grade for
/// the case's text, and the rules that fire on it, computed now (one model call, through the
/// same gate as triage).
pub async fn explanation(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
) -> Result<Json<Triage>, ApiError> {
    caller.require(Permission::Read)?;
    let s = state.clone();
    let case =
        blocking(move || Ok(s.service.handling().get(&CaseId(id), &caller.actor())?)).await?;
    let _slot = state.gate.enter().await?;
    let s = state.clone();
    let triage = blocking(move || Ok(s.service.intake().explain(&case)?)).await?;
    Ok(Json(triage))
}
