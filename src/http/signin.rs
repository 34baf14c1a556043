//! `/v1/session`: signing in to the workbench (a user's name and password, or an API key)
//! into a session cookie, reading the session, signing out.

use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::json::Body;
use super::session::same_origin;
use super::{AppState, blocking};
use crate::config::Role;

/// Longest name and secret taken at sign-in.
const MAX_NAME_CHARS: usize = 64;
const MAX_SECRET_CHARS: usize = 256;

/// A sign-in: `name` and `password`, or `key`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    name: Option<String>,
    password: Option<String>,
    key: Option<String>,
}

/// Who is signed in, and what the page needs to act for them.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    signed_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    departments: Vec<String>,
    /// The token every write made with the session carries in `X-CSRF-Token` (none when the
    /// caller used a key, or nobody needs to sign in).
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf: Option<String>,
}

impl SessionInfo {
    fn of(caller: &Caller, csrf: Option<String>) -> Self {
        SessionInfo {
            signed_in: true,
            name: Some(caller.name.clone()),
            role: Some(caller.role),
            departments: caller.departments.clone(),
            csrf,
        }
    }

    fn nobody() -> Self {
        SessionInfo {
            signed_in: false,
            name: None,
            role: None,
            departments: Vec::new(),
            csrf: None,
        }
    }
}

/// `POST /v1/session`: signs in; the answer sets the session cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(req): Body<SignIn>,
) -> Result<Response, ApiError> {
    // A page of another site must not sign a browser in as someone else.
    if !same_origin(&headers) {
        return Err(ApiError::csrf());
    }
    let too_long = |s: &Option<String>, max| s.as_deref().is_some_and(|v| v.chars().count() > max);
    if too_long(&req.name, MAX_NAME_CHARS)
        || too_long(&req.password, MAX_SECRET_CHARS)
        || too_long(&req.key, MAX_SECRET_CHARS)
    {
        return Err(invalid(format!(
            "a name is at most {MAX_NAME_CHARS} characters, a password or key at most {MAX_SECRET_CHARS}"
        )));
    }
    let caller = match (req.name, req.password, req.key) {
        (Some(name), Some(password), None) => {
            let name = name.trim().to_string();
            state.sessions.check_throttle(&name)?;
            let s = state.clone();
            let who = name.clone();
            let found = blocking(move || Ok(s.keys.check_password(&who, &password))).await?;
            match found {
                Some(c) => {
                    state.sessions.succeeded(&name);
                    c
                }
                None => {
                    state.sessions.failed(&name);
                    return Err(ApiError::sign_in_failed());
                }
            }
        }
        (None, None, Some(key)) => {
            // Keys are long and random: one count for all, against guessing at scale.
            state.sessions.check_throttle("\u{0}key")?;
            match state.keys.caller_of_key(&key) {
                Some(c) => c,
                None => {
                    state.sessions.failed("\u{0}key");
                    return Err(ApiError::sign_in_failed());
                }
            }
        }
        _ => {
            return Err(invalid(
                "send {\"name\": …, \"password\": …} or {\"key\": …}".into(),
            ));
        }
    };
    let (id, csrf) = state.sessions.open(caller.clone());
    tracing::info!(name = %caller.name, role = %caller.role, "signed in");
    Ok((
        [(header::SET_COOKIE, state.sessions.cookie(&id))],
        axum::Json(SessionInfo::of(&caller, Some(csrf))),
    )
        .into_response())
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
}

/// `GET /v1/session`: who the caller is (by session or key) and, for a session, its CSRF
/// token; `signed_in: false` for nobody (a page then offers the sign-in, without a failed
/// request in the browser's console).
pub async fn current(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> axum::Json<SessionInfo> {
    let (mut parts, _) = request.into_parts();
    let Ok(caller) = Caller::from_request_parts(&mut parts, &state).await else {
        return axum::Json(SessionInfo::nobody());
    };
    let csrf = state
        .sessions
        .find(&parts.headers)
        .filter(|f| f.caller.name == caller.name)
        .map(|f| f.csrf);
    axum::Json(SessionInfo::of(&caller, csrf))
}

/// `DELETE /v1/session`: signs out (the session ends and its cookie is removed); answers the
/// same with no session.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(found) = state.sessions.find(&headers) {
        // Signing out is a write: another site must not sign a user out either.
        if let Err(e) = super::session::check_write(&axum::http::Method::DELETE, &headers, &found) {
            return e.into_response();
        }
        tracing::info!(name = %found.caller.name, "signed out");
    }
    state.sessions.close(&headers);
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, state.sessions.removal())],
    )
        .into_response()
}
