//! `/v1/triage` and `/v1/cases…`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::json::{Above, Body, CaseNumber, Object, Params, int_param};
use super::{AppState, blocking};
use crate::domain::{AuditEvent, CaseId, CasePatch, Intake};
use crate::service::{
    Assessment, CaseAnswer, CaseInHand, CreateOutcome, IntakeLimits, SimilarCase,
};

/// `POST /v1/triage`: everything about a complaint, nothing stored.
pub async fn triage(
    State(state): State<AppState>,
    caller: Caller,
    Body(intake): Body<Intake>,
) -> Result<Json<Assessment>, ApiError> {
    caller.require(Permission::Intake)?;
    let _slot = state.gate.enter().await?;
    let s = state.clone();
    let a = blocking(move || Ok(s.service.intake().assess(&intake)?)).await?;
    Ok(Json(a))
}

/// `POST /v1/cases`: triage and store; 201 with the case once it is durable.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(intake): Body<Intake>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Intake)?;
    let key = idempotency_key(&headers)?;
    let slot = state.gate.enter().await?;
    let s = state.clone();
    let outcome = blocking(move || {
        // The model slot is given back before the wait for the commit: holding it through
        // the fsync group would cap creates at slots ÷ commit time.
        Ok(s.service
            .intake()
            .create_then(&intake, &caller.name, key.as_deref(), || drop(slot))?)
    })
    .await?;
    let (body, replayed) = match outcome {
        CreateOutcome::Created(c) => (
            serde_json::to_vec(&*c).expect("an answer always serialises"),
            false,
        ),
        CreateOutcome::Replayed(body) => (body, true),
    };
    let mut response = (
        StatusCode::CREATED,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// One item's result in a batch.
#[derive(Serialize)]
pub struct BatchItem {
    /// Position in the request.
    index: usize,
    /// HTTP status this item would have had alone.
    status: u16,
    /// The stored case, on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    case: Option<ItemAnswer>,
    /// The error, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    /// The item's first answer again: the batch's `Idempotency-Key` had already stored it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    replayed: bool,
}

/// The answer of a batch.
#[derive(Serialize)]
pub struct BatchAnswer {
    /// A result per item, in request order.
    results: Vec<BatchItem>,
}

/// The `Idempotency-Key` header, if any: visible ASCII and spaces (no tab or other control
/// character; its length is checked with the key).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .ok()
                .filter(|k| k.bytes().all(|b| (b' '..=b'~').contains(&b)))
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_request",
                        "Idempotency-Key must be visible ASCII characters and spaces",
                    )
                })
        })
        .transpose()
}

/// An item's answer: made now, or the first answer again.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ItemAnswer {
    /// Stored now.
    Created(Box<CaseAnswer>),
    /// Replayed as first given.
    Replayed(Box<RawValue>),
}

/// A batch of intakes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    cases: Vec<Object<Intake>>,
}

/// `POST /v1/cases/batch`: up to `max_batch` cases, committed together, a result per item.
pub async fn create_batch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(batch): Body<Batch>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Intake)?;
    let key = idempotency_key(&headers)?;
    let max = state.limits.max_batch;
    if batch.cases.is_empty() || batch.cases.len() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            format!(
                "a batch holds 1 to {max} cases in `cases`; this one has {}",
                batch.cases.len()
            ),
        ));
    }
    let intakes: Vec<Intake> = batch.cases.into_iter().map(|o| o.0).collect();
    check_items(&intakes, &state.limits.intake())?;
    let _slot = state.gate.enter().await?;
    let s = state.clone();
    let results = blocking(move || {
        Ok(s.service
            .intake()
            .create_batch(&intakes, &caller.name, key.as_deref())?)
    })
    .await?;
    let items: Vec<BatchItem> = results
        .into_iter()
        .enumerate()
        .map(|(index, r)| match r {
            Ok(outcome) => {
                let (case, replayed) = match outcome {
                    CreateOutcome::Created(c) => (ItemAnswer::Created(c), false),
                    CreateOutcome::Replayed(body) => {
                        let raw = String::from_utf8(body)
                            .ok()
                            .and_then(|b| RawValue::from_string(b).ok());
                        match raw {
                            Some(raw) => (ItemAnswer::Replayed(raw), true),
                            None => {
                                tracing::error!(index, "a stored batch answer is not JSON");
                                return BatchItem::failed(index, ApiError::internal());
                            }
                        }
                    }
                };
                BatchItem {
                    index,
                    status: 201,
                    case: Some(case),
                    error: None,
                    replayed,
                }
            }
            Err(e) => BatchItem::failed(index, ApiError::from(e)),
        })
        .collect();
    // Serialised as is (not through `serde_json::Value`, which would widen every f32 and
    // reorder the fields): an item reads as `POST /v1/cases` and a replay answer it.
    Ok(Json(BatchAnswer { results: items }).into_response())
}

/// Refuses a batch whole when an item breaks what the `Intake` schema of the OpenAPI document
/// states (an empty `text`, a field over its length), naming the item: such a body is not the
/// one documented. What the schema cannot state (a text blank once normalised, a time out of
/// range, metadata too large) fails that item alone.
fn check_items(intakes: &[Intake], limits: &IntakeLimits) -> Result<(), ApiError> {
    for (i, intake) in intakes.iter().enumerate() {
        let checked = if intake.text.is_empty() {
            Err(crate::Error::EmptyText)
        } else {
            limits.check_lengths(intake)
        };
        checked.map_err(|e| ApiError::from(e).at(&format!("cases[{i}]")))?;
    }
    Ok(())
}

/// `GET /v1/cases/{id}`: the case, where its deadlines stand and the steps the caller may
/// take; a case outside a handler's or supervisor's departments is 404, as if absent.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
) -> Result<Json<CaseInHand>, ApiError> {
    caller.require(Permission::Read)?;
    let s = state.clone();
    let case = blocking(move || {
        let actor = caller.actor();
        let handling = s.service.handling();
        Ok(handling.in_hand(handling.get(&CaseId(id), &actor)?, &actor))
    })
    .await?;
    Ok(Json(case))
}

/// `PATCH /v1/cases/{id}`: corrections of category and grade (and an administrator's edits).
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Body(patch): Body<CasePatch>,
) -> Result<Json<CaseInHand>, ApiError> {
    caller.require(Permission::Read)?;
    let s = state.clone();
    let case = blocking(move || {
        let actor = caller.actor();
        let handling = s.service.handling();
        Ok(handling.in_hand(handling.patch(&CaseId(id), patch, &actor)?, &actor))
    })
    .await?;
    Ok(Json(case))
}

/// `?limit=` of similar cases.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/cases/{id}/similar` (within a handler's or supervisor's departments).
pub async fn similar(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
    Params(p): Params<SimilarParams>,
) -> Result<Json<Vec<SimilarCase>>, ApiError> {
    caller.require(Permission::Read)?;
    let limit = int_param("limit", p.limit, 10, (1, 50), Above::Clamp)? as usize;
    let s = state.clone();
    let hits = blocking(move || {
        let actor = caller.actor();
        let case = s.service.handling().get(&CaseId(id), &actor)?;
        let mut similar = s.service.advisor().similar_to(&case, limit)?;
        similar.retain(|c| actor.works_on(c.department.as_deref()));
        Ok(similar)
    })
    .await?;
    Ok(Json(hits))
}

/// `GET /v1/cases/{id}/audit`: who changed what, when.
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    CaseNumber(id): CaseNumber,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    caller.require(Permission::Read)?;
    let s = state.clone();
    let events =
        blocking(move || Ok(s.service.handling().audit(&CaseId(id), &caller.actor())?)).await?;
    Ok(Json(events))
}

impl BatchItem {
    /// The item failed with `e`.
    fn failed(index: usize, e: ApiError) -> Self {
        BatchItem {
            index,
            status: e.status().as_u16(),
            case: None,
            error: Some(e.to_json()),
            replayed: false,
        }
    }
}
