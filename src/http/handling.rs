//! `/v1/cases/{id}/actions`, `…/notes`, `…/contacts`, `…/contact` and `/v1/directory`: the
//! steps of the handling process, the record kept between them, the audited reveal of the
//! complainant's contact, and where cases may be sent.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::json::{Body, CaseNumber};
use super::{AppState, blocking};
use crate::domain::{ActionRequest, CaseId};
use crate::service::CaseInHand;

/// `POST /v1/cases/{id}/actions`: take a step of the process. A step the case's status or the
/// caller's role does not allow is 409 `invalid_transition`, naming the steps allowed.
pub async fn act(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Body(req): Body<ActionRequest>,
) -> Result<Json<CaseInHand>, ApiError> {
    caller.require(Permission::Handle)?;
    let s = state.clone();
    let case = blocking(move || {
        let actor = caller.actor();
        let handling = s.service.handling();
        Ok(handling.in_hand(handling.act(&CaseId(id), req, &actor)?, &actor))
    })
    .await?;
    Ok(Json(case))
}

/// A note.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    text: String,
}

/// `POST /v1/cases/{id}/notes`.
pub async fn note(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Body(body): Body<NoteBody>,
) -> Result<Json<CaseInHand>, ApiError> {
    caller.require(Permission::Handle)?;
    let s = state.clone();
    let case = blocking(move || {
        let actor = caller.actor();
        let handling = s.service.handling();
        Ok(handling.in_hand(handling.note(&CaseId(id), body.text, &actor)?, &actor))
    })
    .await?;
    Ok(Json(case))
}

/// A call-back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    reached: bool,
    #[serde(default)]
    outcome: Option<String>,
}

/// `POST /v1/cases/{id}/contacts`: a call-back, reached or not (failed ones count towards an
/// abnormal close).
pub async fn contact(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Body(body): Body<ContactBody>,
) -> Result<Json<CaseInHand>, ApiError> {
    caller.require(Permission::Handle)?;
    let s = state.clone();
    let case = blocking(move || {
        let actor = caller.actor();
        let handling = s.service.handling();
        let case = handling.contact(&CaseId(id), body.reached, body.outcome, &actor)?;
        Ok(handling.in_hand(case, &actor))
    })
    .await?;
    Ok(Json(case))
}

/// Why a contact is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    // Optional here so that a missing reason is refused as a blank one is, naming the field.
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /v1/cases/{id}/contact`: the complainant's contact, to call back. Handlers and
/// supervisors of the case's department only; recorded in the case's audit trail (who, when,
/// why) before anything is shown, and never cached on the way.
pub async fn reveal(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Body(body): Body<RevealBody>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Reveal)?;
    let s = state.clone();
    let reason = body.reason.unwrap_or_default();
    let revealed = blocking(move || {
        Ok(s.service
            .handling()
            .reveal_contact(&CaseId(id), &reason, &caller.actor())?)
    })
    .await?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(revealed),
    )
        .into_response())
}

/// Where cases may be sent.
#[derive(Serialize)]
pub struct DirectoryAnswer {
    /// Every known department.
    departments: Vec<String>,
    /// Handlers and supervisors with their departments.
    handlers: Vec<HandlerEntry>,
    /// The categories a correction may name.
    categories: Vec<String>,
    /// The root causes a `close` step may name.
    root_causes: Vec<String>,
}

/// One handler or supervisor.
#[derive(Serialize)]
pub struct HandlerEntry {
    name: String,
    departments: Vec<String>,
}

/// `GET /v1/directory`: the departments and handlers an `assign` step may name, the
/// categories a correction may name and the root causes a `close` may name.
pub async fn directory(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DirectoryAnswer>, ApiError> {
    caller.require(Permission::Read)?;
    let handling = state.service.handling();
    let d = handling.directory();
    Ok(Json(DirectoryAnswer {
        categories: handling.categories(),
        root_causes: handling.root_causes(),
        departments: d.departments().map(str::to_string).collect(),
        handlers: d
            .handlers()
            .map(|(name, departments)| HandlerEntry {
                name: name.to_string(),
                departments: departments.to_vec(),
            })
            .collect(),
    }))
}
