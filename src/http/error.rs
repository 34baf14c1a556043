//! Every error the API answers with, mapped in one place: JSON `{code, message}` with a
//! stable snake_case code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

/// Longest message sent, in characters.
const MAX_MESSAGE_CHARS: usize = 1000;

/// `message` with every `…`-quoted piece (where serde and this crate quote a caller's input)
/// cut to a readable length, and the whole bounded: an error never echoes unbounded input.
fn bounded(message: String) -> String {
    let mut out = String::with_capacity(message.len().min(4 * MAX_MESSAGE_CHARS));
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('`');
        // Odd pieces (counting from 0 after the first) are inside quotes.
        if i % 2 == 0 {
            out.push_str(&crate::error::cut(part));
        } else {
            out.push_str(part);
        }
    }
    match out.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &out[..at]),
        None => out,
    }
}

impl ApiError {
    /// An error with this status, code and message (quoted input in it is cut short).
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: bounded(message.into()),
            retry_after: None,
        }
    }

    /// 500: something failed inside; the details are in the operator's log.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the operator's log has the details",
        )
    }

    /// 401: no key, or an unknown one.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        )
    }

    /// 401 at sign-in: the same answer for an unknown name, a wrong password and an unknown
    /// key (which of them was wrong is not told).
    pub fn sign_in_failed() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the name and password, or the API key, are not right",
        )
    }

    /// 429 at sign-in: too many failed attempts for this name (or with keys) lately.
    pub fn too_many_sign_ins(retry_after: u32) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed sign-ins: wait and try again",
            )
        }
    }

    /// 403: a write made with a browser session without its CSRF token, or from another site.
    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "a write with a session needs the session's `X-CSRF-Token` and must come from this              server's pages: reload the page (or sign in again)",
        )
    }

    /// 403: the key's role may not do this.
    pub fn forbidden(role: &str, needs: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this key's role `{role}` may not do this; it needs the `{needs}` role"),
        )
    }

    /// 503 with `Retry-After`: saturated.
    pub fn overloaded(message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
        }
    }

    /// 503: the request took longer than the configured timeout. A create that timed out
    /// may still commit (its work is not abandoned half-way), so `creates` says how to retry
    /// without making a second case.
    pub fn timeout(secs: u64, creates: bool) -> Self {
        let mut message = format!("the request took longer than {secs} s");
        if creates {
            message.push_str(
                "; the case may still be stored: retry with the same Idempotency-Key to get it \
                 instead of a second case",
            );
        }
        ApiError {
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", message)
        }
    }

    /// 404 for a route that does not exist.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "no such endpoint; see /v1/openapi.json",
        )
    }

    /// 405 for a route that exists but does not take the request's method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take this method; see /v1/openapi.json",
        )
    }

    /// The same error about one part of the request, named first (`cases[3]: …`).
    pub fn at(self, part: &str) -> Self {
        ApiError {
            message: bounded(format!("{part}: {}", self.message)),
            ..self
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `{code, message}` body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code, "message": self.message })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            Error::Busy(_) => {
                return ApiError {
                    retry_after: Some(1),
                    ..Self::new(S::CONFLICT, "conflict", e.to_string())
                };
            }
            Error::StorageFull(detail) => {
                tracing::error!(error = %detail, "storage full: a write was refused");
                return ApiError {
                    retry_after: Some(30),
                    ..Self::new(
                        S::INSUFFICIENT_STORAGE,
                        "insufficient_storage",
                        "the server's disk is full: nothing was stored; retry later (the operator must free space)",
                    )
                };
            }
            Error::StorageUnavailable(detail) => {
                tracing::error!(error = %detail, "storage unavailable: a request was refused");
                return ApiError {
                    retry_after: Some(5),
                    ..Self::new(
                        S::SERVICE_UNAVAILABLE,
                        "storage_unavailable",
                        "the server cannot write to its storage now: nothing was stored; retry later",
                    )
                };
            }
            Error::EmptyText => (S::UNPROCESSABLE_ENTITY, "empty_text"),
            Error::UnknownLabel { .. } => (S::UNPROCESSABLE_ENTITY, "unknown_label"),
            Error::Invalid(_) | Error::BadLine { .. } => {
                (S::UNPROCESSABLE_ENTITY, "invalid_request")
            }
            Error::NotFound(_) => (S::NOT_FOUND, "not_found"),
            Error::Forbidden(_) => (S::FORBIDDEN, "forbidden"),
            Error::InvalidTransition { .. } => (S::CONFLICT, "invalid_transition"),
            Error::Conflict(_) => (S::CONFLICT, "conflict"),
            Error::IdempotencyMismatch(_) => (S::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            Error::BadFile { .. }
            | Error::Io { .. }
            | Error::Model(_)
            | Error::Store(_)
            | Error::Index(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status == S::INTERNAL_SERVER_ERROR {
            // The details are for the operator's log, not for the caller.
            tracing::error!(error = %e, "internal error");
            return Self::internal();
        }
        Self::new(status, code, e.to_string())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            r.body_text(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(Body {
                code: self.code,
                message: &self.message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_input_is_cut() {
        let long = "x".repeat(5000);
        let e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
            format!("unknown field `{long}`, expected one of `text`, `title`"),
        );
        assert!(e.message.chars().count() < 200, "{}", e.message);
        assert!(
            e.message.ends_with("expected one of `text`, `title`"),
            "{}",
            e.message
        );
        let e = ApiError::new(StatusCode::NOT_FOUND, "not_found", "y".repeat(5000));
        assert!(e.message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
